"""OAuth install for many workspaces: Bolt's async OAuth flow on the bot's own stores, and authorize by installation.

Used by the composition root when SLACK_CLIENT_ID is set; token mode (SLACK_BOT_TOKEN) never loads it.
"""

from __future__ import annotations

import html
import logging
from typing import Any
from urllib.parse import urlencode

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from bot.i18n import I18n, Localizer
from bot.installations import BotTokens, DatabaseInstallationStore, DatabaseStateStore

log = logging.getLogger(__name__)

# The bot scopes the app asks for when installed: the same list as manifest.yml's oauth_config.
BOT_SCOPES = ("commands", "chat:write", "im:write", "users:read", "files:write", "channels:read", "groups:read")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class InstallationAuthorize(AsyncAuthorize):
    """Authorize a request by its workspace's installation: that workspace's own bot token, or refused.

    Built from the stored installation (bot id and user id were learnt by auth.test at install
    time), so a request costs no auth.test call, only a cached lookup.
    """

    def __init__(self, tokens: BotTokens) -> None:
        self.tokens = tokens

    async def __call__(self, *, context: Any, enterprise_id: str | None, team_id: str | None, user_id: str | None, **_: Any) -> AuthorizeResult | None:
        """The workspace's bot, or None when the app is not installed there."""
        if not team_id:
            return None
        bot = await self.tokens.by_team(team_id)
        if bot is None:
            log.warning("request from workspace %s, where the app is not installed: refused", team_id)
            context["outcome"] = "not_installed"  # counted under this outcome at the HTTP edge
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id, team_id=bot.team_id, bot_token=bot.bot_token,
            bot_id=bot.bot_id, bot_user_id=bot.bot_user_id, user_id=user_id,
        )


def _localizer(i18n: I18n, request: AsyncBoltRequest) -> Localizer:
    """The installer's language, from the browser's first Accept-Language tag."""
    header = (request.headers.get("accept-language") or [""])[0]
    return i18n.get(header.split(",")[0].split(";")[0].strip() or None)


def _page(loc: Localizer, *, title_id: str, body: str, link: str, link_id: str, button: bool = False) -> str:
    """A small HTML page of the install flow: a title, a sentence and one link, all escaped."""
    label = html.escape(loc.t(link_id))
    if button:  # Slack's own Add to Slack button, its text as the image's alternative
        label = f'<img alt="{label}" height="40" width="139" src="https://platform.slack-edge.com/img/add_to_slack.png">'
    return (
        f'<!DOCTYPE html><html lang="{html.escape(loc.language.replace("_", "-"))}"><head><meta charset="utf-8"><title>{html.escape(loc.t(title_id))}</title></head>'
        f'<body style="font-family: sans-serif; text-align: center; padding: 2em"><h2>{html.escape(loc.t(title_id))}</h2>'
        f'<p>{html.escape(body)}</p><p><a href="{html.escape(link)}">{label}</a></p></body></html>'
    )


def _html(status: int, page: str) -> BoltResponse:
    return BoltResponse(status=status, body=page, headers={"Content-Type": "text/html; charset=utf-8"})


class InstallFlow(AsyncOAuthFlow):
    """Bolt's OAuth flow with the install, success and failure pages in the installer's language."""

    def __init__(self, *, settings: AsyncOAuthSettings, i18n: I18n) -> None:
        self.i18n = i18n
        settings.callback_options = AsyncCallbackOptions(success=self._installed, failure=self._failed)
        super().__init__(settings=settings)

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        """The Add to Slack page."""
        loc = _localizer(self.i18n, request)
        return _page(loc, title_id="install.page.title", body=loc.t("install.page.body"), link=url, link_id="install.page.button", button=True)

    async def _installed(self, args: AsyncSuccessArgs) -> BoltResponse:
        loc = _localizer(self.i18n, args.request)
        done = args.installation
        link = "https://slack.com/app_redirect?" + urlencode({"app": done.app_id or "", "team": done.team_id or ""})
        body = loc.t("install.done.body", team=done.team_name or done.team_id or "")
        return _html(200, _page(loc, title_id="install.done.title", body=body, link=link, link_id="install.done.open"))

    async def _failed(self, args: AsyncFailureArgs) -> BoltResponse:
        loc = _localizer(self.i18n, args.request)
        log.warning("OAuth install not finished: %s", args.reason)
        body = loc.t("install.failed.body", reason=args.reason)
        return _html(args.suggested_status_code, _page(loc, title_id="install.failed.title", body=body, link=INSTALL_PATH, link_id="install.failed.again"))


def install_flow(deps: Deps) -> InstallFlow:
    """The OAuth flow the app serves on /slack/install and /slack/oauth_redirect."""
    return InstallFlow(settings=oauth_settings(deps), i18n=deps.i18n)


def oauth_settings(deps: Deps) -> AsyncOAuthSettings:
    """Bolt's OAuth settings: our scopes, the database's installation and state stores, Slack's (or the stand-in's) authorize page."""
    settings = deps.settings
    settings.require_oauth()
    assert deps.tokens is not None
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=settings.authorize_url,
        installation_store=DatabaseInstallationStore(deps.db, tokens=deps.tokens),
        installation_store_bot_only=True,
        state_store=DatabaseStateStore(deps.db, secret=settings.slack_state_secret or ""),
    )
