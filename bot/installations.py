"""Installations by OAuth on the bot's own database: slack_sdk's store contracts, and each workspace's bot token.

`DatabaseInstallationStore` and `DatabaseStateStore` keep the contracts Bolt's OAuth flow
expects (AsyncInstallationStore, AsyncOAuthStateStore) on the SQLModel tables that the
migrations create. `BotTokens` answers "which token speaks for this workspace": the one
configured in token mode, or the workspace's installation, cached briefly so that listeners,
jobs and the sender do not read the database for every call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select, update

from bot.db import Database, upsert
from bot.models import OAuthState, SlackInstallation, Workspace, utcnow
from bot.services.actors import get_workspace

log = logging.getLogger(__name__)

# How long a looked-up token is trusted: another process's uninstall is seen within this.
TOKEN_TTL = 30.0
# A workspace with no installation is looked up again this soon (it may be installing now).
MISSING_TTL = 5.0
# Slack's own default for how long an install link stays usable.
STATE_SECONDS = 600


@dataclass(frozen=True)
class InstalledBot:
    """What a workspace's installation says about the bot there."""

    workspace_id: int
    team_id: str
    enterprise_id: str | None
    bot_token: str
    bot_id: str | None
    bot_user_id: str | None


def _installed(row: SlackInstallation) -> InstalledBot:
    return InstalledBot(
        workspace_id=row.workspace_id, team_id=row.team_id, enterprise_id=row.enterprise_id,
        bot_token=row.bot_token, bot_id=row.bot_id, bot_user_id=row.bot_user_id,
    )


class BotTokens:
    """Each workspace's bot token: the configured one (token mode), else its installation's, cached for TOKEN_TTL."""

    def __init__(
        self, db: Database, *, per_workspace: bool, static_token: str | None = None, ttl: float = TOKEN_TTL, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.per_workspace = per_workspace
        self.static_token = static_token
        self.ttl = ttl
        self.timer = timer
        self._by_team: dict[str, tuple[float, InstalledBot | None]] = {}
        self._team_of: dict[int, str] = {}

    async def by_team(self, team_id: str) -> InstalledBot | None:
        """The installation of a Slack team, or None when the app is not installed there."""
        cached = self._by_team.get(team_id)
        now = self.timer()
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.db.sessionmaker() as session:
            row = (await session.execute(select(SlackInstallation).where(SlackInstallation.team_id == team_id))).scalar_one_or_none()
        found = _installed(row) if row is not None else None
        self._by_team[team_id] = (now + (self.ttl if found else MISSING_TTL), found)
        if found is not None:
            self._team_of[found.workspace_id] = team_id
        return found

    async def for_workspace(self, workspace_id: int) -> str | None:
        """The bot token for a workspace (our id), or None when it is not installed."""
        if not self.per_workspace:
            return self.static_token
        team_id = self._team_of.get(workspace_id)
        if team_id is None:
            async with self.db.sessionmaker() as session:
                team_id = (await session.execute(select(Workspace.slack_team_id).where(Workspace.id == workspace_id))).scalar_one_or_none()
            if team_id is None:
                return None
            self._team_of[workspace_id] = team_id
        bot = await self.by_team(team_id)
        return bot.bot_token if bot is not None else None

    def forget(self, team_id: str) -> None:
        """Drop what is cached for a team (installed again, or uninstalled, in this process)."""
        self._by_team.pop(team_id, None)

    def forget_workspace(self, workspace_id: int) -> None:
        """Drop what is cached for a workspace (Slack refused its token)."""
        team_id = self._team_of.get(workspace_id)
        if team_id is not None:
            self.forget(team_id)


class DatabaseInstallationStore(AsyncInstallationStore):
    """slack_sdk's installation store contract on the slack_installation table: one installation per workspace."""

    def __init__(self, db: Database, *, tokens: BotTokens | None = None) -> None:
        self.db = db
        self.tokens = tokens

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        """Store (or replace) a workspace's installation; an uninstalled workspace is installed again."""
        await self._save(installation.to_bot(), installer=installation.user_id)

    async def async_save_bot(self, bot: Bot) -> None:
        """Store the bot part of an installation, the only part the bot uses."""
        await self._save(bot, installer=None)

    async def _save(self, bot: Bot, *, installer: str | None) -> None:
        if not bot.team_id:
            # An org-wide Enterprise Grid install names no workspace; every row here belongs to one.
            raise ValueError("org-wide installs are not supported: install the app into each workspace")
        async with self.db.sessionmaker() as session:
            ws = await get_workspace(session, slack_team_id=bot.team_id, name=bot.team_name or "")
            values = {
                "workspace_id": ws.id, "team_id": bot.team_id, "enterprise_id": bot.enterprise_id, "app_id": bot.app_id,
                "bot_token": bot.bot_token, "bot_id": bot.bot_id, "bot_user_id": bot.bot_user_id,
                "bot_scopes": ",".join(bot.bot_scopes or []), "installer_user_id": installer, "installed_at": utcnow(),
            }
            await upsert(session, SlackInstallation.__table__, values, keys=["team_id"], update=[k for k in values if k != "team_id"])
            await session.execute(update(Workspace).where(Workspace.id == ws.id).values(uninstalled_at=None))
            await session.commit()
        if self.tokens is not None:
            self.tokens.forget(bot.team_id)
        log.info("installed into workspace %s (%s)", bot.team_id, bot.team_name or "")

    async def _row(self, team_id: str | None) -> SlackInstallation | None:
        if not team_id:
            return None
        async with self.db.sessionmaker() as session:
            return (await session.execute(select(SlackInstallation).where(SlackInstallation.team_id == team_id))).scalar_one_or_none()

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False) -> Bot | None:
        """The bot installed in a workspace, or None."""
        row = await self._row(team_id)
        if row is None:
            return None
        return Bot(
            app_id=row.app_id, enterprise_id=row.enterprise_id, team_id=row.team_id, bot_token=row.bot_token,
            bot_id=row.bot_id or "", bot_user_id=row.bot_user_id or "", bot_scopes=row.bot_scopes,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None, is_enterprise_install: bool | None = False
    ) -> Installation | None:
        """The installation of a workspace (bot token only: the app asks for no user scopes), or None."""
        row = await self._row(team_id)
        if row is None or (user_id is not None and user_id != row.installer_user_id):
            return None
        return Installation(
            app_id=row.app_id, enterprise_id=row.enterprise_id, team_id=row.team_id, bot_token=row.bot_token,
            bot_id=row.bot_id, bot_user_id=row.bot_user_id, bot_scopes=row.bot_scopes, user_id=row.installer_user_id or "",
            installed_at=row.installed_at.timestamp(),
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot token."""
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None) -> None:
        """Forget a workspace's installation (a user's own token: there is none to forget)."""
        if user_id is None:
            await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget everything installed in a workspace."""
        if not team_id:
            return
        async with self.db.sessionmaker() as session:
            await session.execute(delete(SlackInstallation).where(SlackInstallation.team_id == team_id))
            await session.commit()
        if self.tokens is not None:
            self.tokens.forget(team_id)


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth states signed with SLACK_STATE_SECRET and kept (as digests) until consumed once or expired.

    A forged state fails the signature without touching the database; a replayed or concurrent
    one loses the race for a single DELETE: only the request that deleted the row goes on.
    """

    def __init__(self, db: Database, *, secret: str, expiration_seconds: int = STATE_SECONDS, clock: Callable[[], datetime] = utcnow) -> None:
        if not secret:
            raise ValueError("the state store needs a secret")
        self.db = db
        self.secret = secret.encode()
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def signed(self, state: str) -> bool:
        """True when a state carries our signature (it may still be spent or expired)."""
        nonce, _, sig = (state or "").partition(".")
        return bool(nonce and sig) and hmac.compare_digest(self._sign(nonce), sig)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state for one install attempt; expired ones are pruned on the way."""
        nonce = secrets.token_urlsafe(24)
        state = f"{nonce}.{self._sign(nonce)}"
        now = self.clock()
        async with self.db.sessionmaker() as session:
            await session.execute(delete(OAuthState).where(OAuthState.expires_at <= now))
            session.add(OAuthState(digest=_digest(state), expires_at=now + timedelta(seconds=self.expiration_seconds)))
            await session.commit()
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state this app issued and that has not expired; False for any other."""
        if not self.signed(state):
            log.warning("OAuth redirect with a state this app did not sign: refused")
            return False
        async with self.db.sessionmaker() as session:
            res = await session.execute(delete(OAuthState).where(OAuthState.digest == _digest(state), OAuthState.expires_at > self.clock()))
            await session.commit()
        if res.rowcount != 1:
            log.warning("OAuth redirect with a state already used or expired: refused")
            return False
        return True


def _digest(state: str) -> str:
    # Only digests are stored: a copy of the table cannot be used to finish someone's install.
    return hashlib.sha256(state.encode()).hexdigest()


