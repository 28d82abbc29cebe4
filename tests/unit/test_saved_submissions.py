"""A submitted view is claimed once per id and hash; claims roll back with their save and expire after a day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bot.models import SavedSubmission
from bot.services.forms import SUBMISSION_KEEP, claim_submission, prune_submissions

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)


async def test_a_view_is_claimed_once_per_hash(session):
    assert await claim_submission(session, view_id="V1", view_hash="h1", now=NOW)
    assert not await claim_submission(session, view_id="V1", view_hash="h1", now=NOW)
    assert await claim_submission(session, view_id="V1", view_hash="h2", now=NOW), "an updated view is a new submission"
    await session.commit()


async def test_a_rolled_back_claim_leaves_no_mark(session):
    assert await claim_submission(session, view_id="V1", view_hash="h1", now=NOW)
    await session.rollback()
    assert await claim_submission(session, view_id="V1", view_hash="h1", now=NOW)


async def test_old_claims_are_pruned(session):
    await claim_submission(session, view_id="Vold", view_hash="h", now=NOW - SUBMISSION_KEEP - timedelta(seconds=1))
    await claim_submission(session, view_id="Vnew", view_hash="h", now=NOW - timedelta(hours=1))
    assert await prune_submissions(session, now=NOW) == 1
    assert (await session.execute(select(func.count()).select_from(SavedSubmission))).scalar_one() == 1
    assert await claim_submission(session, view_id="Vold", view_hash="h", now=NOW)
