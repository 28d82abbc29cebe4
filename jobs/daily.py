"""The "daily" job: each rep's morning priorities DM, on their team's working days at the daily time in their own zone."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.priorities import Formats, build_priorities
from bot.models import OutboxMessage
from bot.services.priorities import daily_key, due_recipients, load_priorities
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "daily"


async def _already_queued(session: AsyncSession, *, now: datetime) -> set[str]:
    """Daily keys already in the outbox for the windows open now (one query), so a tick does not compose them again."""
    q = select(OutboxMessage.key).where(OutboxMessage.job == JOB, OutboxMessage.not_before > now - timedelta(days=2))
    return set((await session.execute(q)).scalars())


@contextmanager
def _no_collector_pauses() -> Iterator[None]:
    """Pause the cyclic garbage collector while a morning's DMs are built.

    Thousands of DMs are millions of small dicts, none of them cyclic; the collector would
    rescan them over and over as they pile up (seconds at 10,000 reps). Reference counting
    still frees everything; the collector resumes right after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Morning DMs whose window is open at `now`, keyed `daily:<workspace>:<user>:<local date>`; none for a rep with nothing to do."""
    recipients = await due_recipients(session, now=now)
    if recipients:
        queued = await _already_queued(session, now=now)
        recipients = [r for r in recipients if daily_key(r.slack_team_id, r.member.slack_user_id, r.today) not in queued]
    posts: list[Post] = []
    formats: dict[str, Formats] = {}  # one memo per language for the whole run
    skipped = 0
    with _no_collector_pauses():
        for p in await load_priorities(session, recipients=recipients, now=now):
            r = p.recipient
            key = daily_key(r.slack_team_id, r.member.slack_user_id, r.today)
            if not p.actionable and r.schedule.daily_skip_empty:
                # A marker row: the next ticks of this morning need not look at this rep again.
                skipped += 1
                posts.append(Post(workspace_id=r.workspace_id, key=key, job=JOB, channel=r.member.slack_user_id, text="", blocks=[],
                                  not_before=r.not_before, expires_at=r.expires_at, skip=True))
                continue
            loc = deps.i18n.get(r.member.locale)
            f = formats.get(loc.language) or formats.setdefault(loc.language, Formats(loc))
            text, blocks = build_priorities(p, loc, f)
            posts.append(Post(
                workspace_id=r.workspace_id, key=key, job=JOB,
                channel=r.member.slack_user_id, text=text, blocks=blocks, not_before=r.not_before, expires_at=r.expires_at,
            ))
    if posts or skipped:
        log.info("daily at %s: %d morning DMs, %d reps with nothing to do", now.isoformat(), len(posts) - skipped, skipped)
    return posts
