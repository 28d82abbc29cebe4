"""OAuth install for many workspaces: Bolt's async OAuth flow on the bot's own stores, and authorize by installation.

Used by the composition root when SLACK_CLIENT_ID is set; token mode (SLACK_BOT_TOKEN) never loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from bot.deps import Deps
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
