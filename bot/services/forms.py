"""Modal submissions saved once: the (view id, view hash) of each saved submission, kept for a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import SavedSubmission

# Slack resends a view with the same id and hash when the member submits it again after an
# error; a day covers any retry, and the prune keeps the table small.
SUBMISSION_KEEP = timedelta(days=1)


async def claim_submission(session: AsyncSession, *, view_id: str, view_hash: str, now: datetime) -> bool:
    """Record a submission in the saving transaction; False when that view was saved already.

    The row commits or rolls back with the save itself, so a refused or abandoned save leaves
    no mark and the member's next try is saved.
    """
    result = await upsert(session, SavedSubmission, {"view_id": view_id[:32], "view_hash": view_hash[:64], "saved_at": now}, keys=["view_id", "view_hash"])
    return result.rowcount == 1


async def prune_submissions(session: AsyncSession, *, now: datetime) -> int:
    """Forget saved submissions older than SUBMISSION_KEEP; returns how many."""
    result = await session.execute(delete(SavedSubmission).where(SavedSubmission.saved_at < now - SUBMISSION_KEEP))
    return result.rowcount or 0
