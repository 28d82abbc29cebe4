"""Events API bookkeeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import ProcessedEvent, utcnow

# Slack retries an event three times within about five minutes; a day is ample to catch them all.
EVENT_MEMORY = timedelta(days=1)


async def first_delivery(session: AsyncSession, *, event_id: str) -> bool:
    """Record an event id; True only the first time it is seen."""
    result = await upsert(session, ProcessedEvent, {"event_id": event_id[:64], "received_at": utcnow()}, keys=["event_id"])
    return result.rowcount == 1


async def prune_events(session: AsyncSession, *, now: datetime) -> int:
    """Forget event ids older than Slack's retries can be; returns how many were deleted."""
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - EVENT_MEMORY))
    return result.rowcount or 0
