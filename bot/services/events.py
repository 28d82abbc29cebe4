"""Events API bookkeeping."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import ProcessedEvent, utcnow


async def first_delivery(session: AsyncSession, *, event_id: str) -> bool:
    """Record an event id; True only the first time it is seen."""
    result = await upsert(session, ProcessedEvent, {"event_id": event_id[:64], "received_at": utcnow()}, keys=["event_id"])
    return result.rowcount == 1
