"""The "housekeeping" job: once a day, prune what only grows (old events, signatures, settled posts, unused chart files)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxMessage, Workspace
from bot.services.housekeeping import housekeep
from jobs.base import Post

log = logging.getLogger(__name__)

JOB = "housekeeping"


def marker_key(day) -> str:
    """The outbox key that records a day's run, so the minute ticks after it do nothing."""
    return f"{JOB}:{day.isoformat()}"


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Run the day's retention pass in bounded batches (first tick of each UTC day); returns its marker, stored as skipped."""
    day = now.astimezone(timezone.utc).date()
    key = marker_key(day)
    if (await session.execute(select(OutboxMessage.id).where(OutboxMessage.key == key))).first() is not None:
        return []
    # The deletes commit batch by batch on their own connections: none waits for this tick's transaction.
    pruned = await housekeep(deps.db, now=now)
    log.info(
        "housekeeping: %d rows deleted (events %d, signatures %d, submissions %d, outbox %d, chart files %d, budget rows %d)",
        pruned.total(), pruned.events, pruned.signatures, pruned.submissions, pruned.outbox, pruned.blobs, pruned.budgets,
    )
    first = (await session.execute(select(Workspace.id).order_by(Workspace.id).limit(1))).scalar()
    if first is None:
        return []  # no workspace yet: nothing was kept, and the next tick's pass is as cheap
    return [Post(workspace_id=first, key=key, job=JOB, channel="-", text="", blocks=[], not_before=now, skip=True)]


# Its deletes commit as they go: a dry run (which only rolls back the composer's session) could not undo them.
compose.acts_when_composed = True  # type: ignore[attr-defined]
