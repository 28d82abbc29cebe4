"""Events API listeners."""

from slack_bolt.async_app import AsyncApp

from handlers.events.app_home import handle_app_home_opened
from handlers.events.uninstall import handle_app_uninstalled, handle_tokens_revoked


def register(app: AsyncApp) -> None:
    """Attach the event listeners."""
    app.event("app_home_opened")(handle_app_home_opened)
    app.event("app_uninstalled")(handle_app_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
