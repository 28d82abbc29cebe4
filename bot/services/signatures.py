"""Request signatures already accepted, so a signed request replayed inside Slack's window changes nothing.

Slack's signature check only bounds a replay to five minutes; the database remembers each
accepted signature until then, so the refusal holds across every web process.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import RequestSignature

# Slack's replay window, plus a minute for clocks that disagree a little.
REPLAY_WINDOW = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=1)


def expiry_for(timestamp: int) -> datetime:
    """When a request signed at `timestamp` (Unix seconds) can no longer be replayed."""
    return datetime.fromtimestamp(timestamp, timezone.utc) + REPLAY_WINDOW + CLOCK_SKEW


async def first_use(session: AsyncSession, *, signature: str, timestamp: int) -> bool:
    """Remember a request's signature; True only the first time it is seen."""
    result = await upsert(session, RequestSignature, {"signature": signature[:80], "expires_at": expiry_for(timestamp)}, keys=["signature"])
    return result.rowcount == 1


async def prune_signatures(session: AsyncSession, *, now: datetime) -> int:
    """Forget signatures whose window has closed; returns how many were deleted."""
    result = await session.execute(delete(RequestSignature).where(RequestSignature.expires_at < now))
    return result.rowcount or 0
