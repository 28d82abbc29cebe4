"""Settings read once from the environment in the entry point and passed down."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///salesbot.db"

# Values copied from sample configs that must never be taken for real secrets.
_PLACEHOLDERS = {"", "changeme", "change-me", "xxx", "todo", "your-token", "secret", "..."}


class ConfigError(Exception):
    """A setting is missing or unusable; the message names the variable."""


def is_placeholder(value: str | None) -> bool:
    """True when a secret is unset or still the sample value."""
    if value is None:
        return True
    v = value.strip().lower()
    return v in _PLACEHOLDERS or "your" in v or v.endswith("-...") or v.startswith("<")


def normalize_database_url(url: str) -> str:
    """Map the common URL spellings onto the async drivers the bot uses."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://") or url.startswith("postgresql+psycopg2://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    return url


class Settings(BaseSettings):
    """The environment contract in DESIGN.md, one field per variable."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(default=None, alias="SLACK_API_URL")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_state_secret: str | None = Field(default=None, alias="SLACK_STATE_SECRET")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    port: int = Field(default=3000, alias="PORT")
    admins_raw: str = Field(default="", alias="SALESBOT_ADMINS")
    metrics_token: str | None = Field(default=None, alias="SALESBOT_METRICS_TOKEN")
    metrics_port: int | None = Field(default=None, alias="SALESBOT_METRICS_PORT")
    api_rate_per_minute: int = Field(default=600, ge=1, alias="SALESBOT_API_RATE_PER_MINUTE")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, v: str) -> str:
        return normalize_database_url(v.strip() or DEFAULT_DATABASE_URL)

    @field_validator("metrics_token", "metrics_port", "slack_client_id", "slack_client_secret", "slack_state_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    @property
    def admins(self) -> frozenset[str]:
        """Slack user ids that are admins whatever Slack says."""
        return frozenset(u.strip() for u in self.admins_raw.split(",") if u.strip())

    @property
    def api_url(self) -> str | None:
        """SLACK_API_URL with the trailing slash slack_sdk expects."""
        if not self.slack_api_url:
            return None
        return self.slack_api_url.rstrip("/") + "/"

    @property
    def oauth_enabled(self) -> bool:
        """True when SLACK_CLIENT_ID is set: workspaces install by OAuth and each has its own token."""
        return self.slack_client_id is not None

    @property
    def authorize_url(self) -> str:
        """Slack's OAuth authorize page, beside the Web API (SLACK_API_URL points both at a stand-in)."""
        base = self.api_url or "https://slack.com/api/"
        return base[: -len("api/")] + "oauth/v2/authorize" if base.endswith("/api/") else "https://slack.com/oauth/v2/authorize"

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default database."""
        return self.database_url.startswith("sqlite")

    def require_oauth(self) -> None:
        """Raise ConfigError naming the first OAuth setting missing when SLACK_CLIENT_ID is set."""
        if is_placeholder(self.slack_client_id):
            raise ConfigError("SLACK_CLIENT_ID is a placeholder: set the app's client id (Basic Information > App Credentials) or unset it for token mode.")
        if is_placeholder(self.slack_client_secret):
            raise ConfigError("SLACK_CLIENT_SECRET is not set (or is still a placeholder): OAuth install needs the app's client secret.")
        if is_placeholder(self.slack_state_secret) or len(self.slack_state_secret or "") < 16:
            raise ConfigError("SLACK_STATE_SECRET is not set (or is shorter than 16 characters): OAuth install signs its states with it.")

    def require_for_run(self) -> None:
        """Raise ConfigError naming the first secret `salesbot run` cannot start without."""
        if self.oauth_enabled:
            self.require_oauth()
            if self.slack_app_token is not None:
                raise ConfigError("SLACK_APP_TOKEN is set with SLACK_CLIENT_ID: OAuth install runs in HTTP mode; unset SLACK_APP_TOKEN.")
            if is_placeholder(self.slack_signing_secret):
                raise ConfigError("SLACK_SIGNING_SECRET is not set (or is still a placeholder): HTTP mode needs it to verify requests.")
            return
        if is_placeholder(self.slack_bot_token):
            raise ConfigError("SLACK_BOT_TOKEN is not set (or is still a placeholder): set it to the app's bot token (xoxb-...).")
        if self.slack_app_token is not None and not is_placeholder(self.slack_app_token):
            return  # Socket Mode: requests are not signed, they arrive on our own socket.
        if self.slack_app_token is not None:
            raise ConfigError("SLACK_APP_TOKEN is a placeholder: set the app-level token (xapp-...) or unset it for HTTP mode.")
        if is_placeholder(self.slack_signing_secret):
            raise ConfigError("SLACK_SIGNING_SECRET is not set (or is still a placeholder): HTTP mode needs it to verify requests.")


def load_settings(**overrides) -> Settings:
    """Read settings from the environment, with keyword overrides for tests and the demo."""
    try:
        return Settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError: turn it into one clear line
        raise ConfigError(f"invalid configuration: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}" if hasattr(exc, "errors") else str(exc)) from None
