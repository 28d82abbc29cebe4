"""The per-listener unit of work: one session, the acting member and their language."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import AsyncIterator

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.i18n import Localizer
from bot.services.actors import Actor, refresh_profile, resolve_actor
from bot.services.errors import ServiceError
from bot.slackapi import posting_workspace, profile_fetcher

Reply = Callable[[str], Awaitable[object]]

# Work started after an answer was already given (an apology, a refusal sent by response_url).
# Named so that shutdown and tests wait for it like Bolt's own listener tasks; the set holds
# the only strong references asyncio would otherwise lack.
AFTER_ACK = "salesbot:after-ack"
_after_ack: set[asyncio.Task] = set()


def after_ack(work: Coroutine) -> asyncio.Task:
    """Run `work` in the background once the HTTP answer has gone."""
    task = asyncio.get_running_loop().create_task(work, name=AFTER_ACK)
    _after_ack.add(task)
    task.add_done_callback(_after_ack.discard)
    return task


@dataclass
class Turn:
    """One listener's unit of work: a session, the acting member and their language."""

    session: AsyncSession
    actor: Actor
    loc: Localizer
    now: datetime

    @property
    def today(self):
        """The actor's local date."""
        return self.actor.today(self.now)


@asynccontextmanager
async def turn(deps: Deps, client: AsyncWebClient, *, team_id: str, user_id: str, reply: Reply | None = None) -> AsyncIterator[Turn]:
    """Open a session for the acting user; a ServiceError becomes a localized reply and a rollback."""
    fetch = profile_fetcher(client)
    async with deps.db.sessionmaker() as session:
        actor = await resolve_actor(session, slack_team_id=team_id, slack_user_id=user_id, fetch_profile=None, admins=deps.settings.admins)
        await session.commit()  # a member met for the first time is kept even if the work below is refused
        # Slack is asked for the profile with no write open: on SQLite an open write would hold
        # the file's lock for the length of the call, and a burst of first requests would queue on it.
        if await refresh_profile(session, member=actor.member, fetch_profile=fetch):
            await session.commit()
            actor = replace(actor, is_admin=actor.member.is_slack_admin or user_id in deps.settings.admins)
        loc = deps.i18n.get(actor.member.locale)
        posting_workspace.set(actor.workspace.id)  # the listener's posts take this workspace's send budget
        try:
            yield Turn(session=session, actor=actor, loc=loc, now=deps.clock())
            await session.commit()
        except ServiceError as exc:
            await session.rollback()
            if reply is None:
                raise
            await reply(loc.md(exc.key, **exc.params))
