"""Housekeeping: retention per workspace, in batches; chart files kept exactly while a post names them; the daily job."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from bot.models import (
    OutboxBlob, OutboxMessage, OutboxStatus, ProcessedEvent, RequestSignature, SalesTeam, SavedSubmission, SendBudget, Workspace,
)
from bot.services.errors import PermissionDenied, ValidationFailed
from bot.services.housekeeping import housekeep
from bot.services.outbox import Post, decode_payload, enqueue, file_digest, resolve_files
from bot.services.team_settings import set_retention_days
from jobs.housekeeping import compose, marker_key
from tests.unit import factories as f

NOW = datetime(2027, 3, 1, 3, 0, tzinfo=timezone.utc)
CHART_OLD, CHART_LIVE, CHART_NEW = b"\x89PNG old", b"\x89PNG live", b"\x89PNG new"


def post(ws: int, key: str, *, files: list[bytes] = ()) -> Post:
    return Post(workspace_id=ws, key=key, job="weekly", channel="C0SALES", text=key, blocks=[], not_before=NOW,
                files=[{"filename": "chart.png", "title": "Chart", "content": c} for c in files])


async def enqueue_at(db, when: datetime, posts: list[Post], status: OutboxStatus | None = None) -> None:
    """Posts enqueued at `when` (created_at and the files' last use), then settled as `status`."""
    import bot.services.outbox as outbox_service

    real = outbox_service.utcnow
    outbox_service.utcnow = lambda: when
    try:
        async with db.sessionmaker() as s:
            await enqueue(s, posts)
            await s.commit()
    finally:
        outbox_service.utcnow = real
    if status is not None:
        async with db.sessionmaker() as s:
            for p in posts:
                row = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == p.key))).scalar_one()
                row.status = status
            await s.commit()


async def keys(db) -> set[str]:
    async with db.sessionmaker() as s:
        return set((await s.execute(select(OutboxMessage.key))).scalars())


async def test_retention_per_workspace_and_files_kept_while_named(db):
    async with db.sessionmaker() as s:
        a = await f.workspace(s, "TA")
        b = await f.workspace(s, "TB")
        east, west = await f.team(s, a, "East"), await f.team(s, a, "West")
        east.retention_days, west.retention_days = 10, 45  # the longest a team of the workspace asks for wins
        s.add_all([east, west])
        await s.commit()
        a_id, b_id = a.id, b.id
    days = lambda n: NOW - timedelta(days=n)  # noqa: E731
    await enqueue_at(db, days(60), [post(a_id, "a-sent-60", files=[CHART_OLD]), post(a_id, "a-skipped-60")], OutboxStatus.SENT)
    await enqueue_at(db, days(60), [post(a_id, "a-cancelled-60")], OutboxStatus.CANCELLED)
    await enqueue_at(db, days(50), [post(a_id, "a-pending-50", files=[CHART_LIVE])])  # still to send: kept, with its chart
    await enqueue_at(db, days(50), [post(a_id, "a-dead-50")], OutboxStatus.DEAD)  # for review: kept
    await enqueue_at(db, days(40), [post(a_id, "a-sent-40", files=[CHART_NEW])], OutboxStatus.SENT)  # within 45 days
    await enqueue_at(db, days(31), [post(b_id, "b-sent-31", files=[CHART_OLD])], OutboxStatus.SENT)  # b: 30 days by default
    await enqueue_at(db, days(29), [post(b_id, "b-sent-29")], OutboxStatus.SENT)
    async with db.sessionmaker() as s:
        s.add_all([
            ProcessedEvent(event_id="Ev-old", received_at=NOW - timedelta(hours=25)), ProcessedEvent(event_id="Ev-new", received_at=NOW - timedelta(hours=1)),
            RequestSignature(signature="v0=old", expires_at=NOW - timedelta(seconds=1)), RequestSignature(signature="v0=new", expires_at=NOW + timedelta(minutes=4)),
            SavedSubmission(view_id="V1", view_hash="h-old", saved_at=NOW - timedelta(days=2)), SavedSubmission(view_id="V1", view_hash="h-new", saved_at=NOW),
            SendBudget(scope="c:1:D-old", window_no=1, used=1, updated_at=NOW - timedelta(days=2)), SendBudget(scope="w:1", window_no=2, used=3, updated_at=NOW),
        ])
        await s.commit()

    pruned = await housekeep(db, now=NOW, batch=1)  # one row per transaction: the batching itself is exercised
    assert await keys(db) == {"a-pending-50", "a-dead-50", "a-sent-40", "b-sent-29"}
    assert (pruned.outbox, pruned.events, pruned.signatures, pruned.submissions, pruned.budgets) == (4, 1, 1, 1, 1)
    async with db.sessionmaker() as s:
        blobs = set((await s.execute(select(OutboxBlob.workspace_id, OutboxBlob.digest))).all())
        assert set((await s.execute(select(ProcessedEvent.event_id))).scalars()) == {"Ev-new"}
        assert set((await s.execute(select(SavedSubmission.view_hash))).scalars()) == {"h-new"}  # the same view's newer submission stays
        assert set((await s.execute(select(SendBudget.scope))).scalars()) == {"w:1"}
        # Files of remaining posts stay and still resolve; b's copy of the old chart went with b's post, a's with a's.
        assert blobs == {(a_id, file_digest(CHART_LIVE)), (a_id, file_digest(CHART_NEW))}
        live = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == "a-pending-50"))).scalar_one()
        files = await resolve_files(s, workspace_id=a_id, files=decode_payload(live.payload)["files"])
        assert files[0]["content"] == CHART_LIVE
    assert (await housekeep(db, now=NOW)).total() == 0  # a second pass finds nothing


async def test_many_old_rows_leave_only_the_retained_ones(db):
    """5,000 sent rows of 40 days ago and 300 of this week, pruned in batches of 1,000: the 300 stay."""
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id="TMANY", name="Many", currency="CNY", created_at=NOW).returning(Workspace.id))).scalar_one()
        rows = [
            {"workspace_id": ws, "key": f"k{i}", "job": "daily", "channel": "U1", "payload": "{}", "attempts": 0, "status": "sent",
             "not_before": NOW, "created_at": NOW - timedelta(days=40 if i < 5000 else 3)}
            for i in range(5300)
        ]
        await conn.execute(insert(OutboxMessage.__table__), rows)
    pruned = await housekeep(db, now=NOW, batch=1000)
    assert pruned.outbox == 5000
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 300


async def test_reminder_and_escalation_markers_outlive_the_retention(db):
    """A marker pruned while its task is still in the look-back would remind or escalate it again: they stay 90 days."""
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id="TMARK", name="Marks", currency="CNY", created_at=NOW).returning(Workspace.id))).scalar_one()
        rows = [
            {"workspace_id": ws, "key": key, "job": job, "channel": "U1", "payload": "{}", "attempts": 0, "status": status,
             "not_before": NOW, "created_at": NOW - timedelta(days=age)}
            for key, job, status, age in [
                ("escalated:1:7:2027-01-10:3", "escalations", "skipped", 45), ("reminded:1:8:2027-01-20:4", "reminders", "skipped", 40),
                ("escalated:1:9:2026-10-01:3", "escalations", "skipped", 100), ("daily:T:U1:2027-01-20", "daily", "sent", 40),
            ]
        ]
        await conn.execute(insert(OutboxMessage.__table__), rows)
    await housekeep(db, now=NOW, batch=100)
    assert await keys(db) == {"escalated:1:7:2027-01-10:3", "reminded:1:8:2027-01-20:4"}


async def test_the_daily_job_prunes_once_a_day(db):
    class Deps:
        pass

    deps = Deps()
    deps.db = db
    async with db.sessionmaker() as s:
        ws = await f.workspace(s, "TJOB")
        await s.commit()
    await enqueue_at(db, NOW - timedelta(days=90), [post(ws.id, "old")], OutboxStatus.SENT)
    async with db.sessionmaker() as s:
        posts = await compose(deps, s, now=NOW)
        assert [(p.key, p.skip) for p in posts] == [(marker_key(NOW.date()), True)]
        await enqueue(s, posts)
        await s.commit()
    assert await keys(db) == {marker_key(NOW.date())}
    await enqueue_at(db, NOW - timedelta(days=90), [post(ws.id, "old-again")], OutboxStatus.SENT)
    async with db.sessionmaker() as s:
        assert await compose(deps, s, now=NOW + timedelta(hours=1)) == []  # the same day: done already
    assert "old-again" in await keys(db)
    async with db.sessionmaker() as s:
        assert len(await compose(deps, s, now=NOW + timedelta(days=1))) == 1  # the next day: runs again
    assert "old-again" not in await keys(db)


async def test_retention_is_set_by_admins_and_the_team_manager_within_bounds(session):
    w = await f.World.build(session)
    with pytest.raises(PermissionDenied):
        await set_retention_days(session, actor=w.rep1, team_id=w.east.id, days=7)
    with pytest.raises(PermissionDenied):
        await set_retention_days(session, actor=w.mgr, team_id=w.west.id, days=7)
    with pytest.raises(ValidationFailed):
        await set_retention_days(session, actor=w.admin, team_id=w.east.id, days=0)
    assert (await set_retention_days(session, actor=w.mgr, team_id=w.east.id, days=7)).retention_days == 7
    assert (await session.get(SalesTeam, w.west.id)).retention_days == 30


def test_housekeeping_has_no_dry_run(salesbot_cli, tmp_path):
    """A dry run only rolls back the composer's session; housekeeping's batches are committed, so it refuses."""
    result = salesbot_cli("jobs", "run", "housekeeping", "--dry-run", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 2 and "no --dry-run" in result.stderr
