"""Events API bookkeeping."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ProcessedEvent, utcnow


async def first_delivery(session: AsyncSession, *, event_id: str) -> bool:
    """Record an event id; True only the first time it is seen."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ProcessedEvent).values(event_id=event_id[:64], received_at=utcnow()).on_conflict_do_nothing(index_elements=["event_id"])
    result = await session.execute(stmt)
    return result.rowcount == 1
