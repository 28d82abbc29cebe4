"""The composition root: build the Bolt app and register every listener; nothing imports it but entry points."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.slackapi import budget_middleware, make_client
from handlers import register_all
from handlers.failures import handle_error

__all__ = ["Deps", "build_app"]


def build_app(deps: Deps, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app with every listener registered."""

    settings = deps.settings
    oauth: dict = {}
    if settings.oauth_enabled:
        # Many workspaces: each request is served with its workspace's own token, or refused.
        from bot.oauth import InstallationAuthorize, install_flow

        # Who meets a workspace that uninstalled the app has no known language yet: both are shown.
        apology = "\n".join(deps.i18n.get(lang).t("error.not_installed") for lang in ("en-US", "zh-CN"))
        oauth = {"oauth_flow": install_flow(deps), "authorize": InstallationAuthorize(deps.tokens), "user_facing_authorize_error_message": apology}
    app = AsyncApp(
        name="salesbot",  # named here: unnamed, Bolt inspects the call stack for a name on every build
        client=client or make_client(settings, send_budget=deps.send_budget),
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode has no signatures to check; HTTP mode always verifies.
        request_verification_enabled=settings.slack_app_token is None,
        raise_error_for_unhandled_request=False,
        **oauth,
    )

    # One place for every failure: logged with its traceback, answered in the member's language.
    app.error(handle_error)
    if deps.send_budget is not None:
        app.use(budget_middleware(deps.send_budget))  # listeners' posts share the clocks' send budget
    register_all(app, deps)
    return app
