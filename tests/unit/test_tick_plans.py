"""The per-tick queries (claim, expired, stale, depth) read an index, not the whole outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from bot.models import OutboxMessage, Workspace
from jobs.outbox import explain, tick_queries

NOW = datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)


async def seed_settled_outbox(db, *, settled: int, pending: int, analyze: bool = True) -> None:
    """Many sent rows of past mornings and a few pending ones: the shape of a live outbox between prunes."""
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id="TPLAN", name="Plan", currency="CNY", created_at=NOW).returning(Workspace.id))).scalar_one()
        rows = [
            {"workspace_id": ws, "key": f"k{i}", "job": "daily", "channel": f"U{i:07d}", "payload": "{}", "attempts": 0,
             "status": "sent" if i >= pending else "pending", "not_before": NOW - timedelta(minutes=i), "created_at": NOW - timedelta(minutes=i)}
            for i in range(settled + pending)
        ]
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(OutboxMessage.__table__), rows[start:start + 5000])
        if conn.dialect.name == "postgresql" and analyze:
            await conn.execute(text("ANALYZE outbox"))  # the statistics autovacuum keeps on a live database


async def test_every_tick_query_uses_an_index(db):
    await seed_settled_outbox(db, settled=20_000, pending=20)
    plans = {name: await explain(db, stmt) for name, stmt in tick_queries(NOW).items()}
    print("\n".join(f"{name}: {plan}" for name, plan in plans.items()))  # shown with -s: the plans themselves
    for name, plan in plans.items():
        if db.engine.dialect.name == "postgresql":
            assert "Seq Scan on outbox" not in plan and "Index" in plan, f"{name}: {plan}"
        else:
            assert "USING" in plan and "INDEX" in plan and "SCAN outbox" not in plan, f"{name}: {plan}"
    if db.engine.dialect.name == "postgresql":
        # The claim reads only pending rows: one of the indexes that lead with them.
        assert "ix_outbox_pending_due" in plans["claim"] or "ix_outbox_status_due" in plans["claim"], plans["claim"]


async def test_a_claim_takes_at_most_its_limit_on_a_large_outbox(db):
    """5,000 due rows: one claim takes `limit` of them, never more (a re-run SKIP LOCKED subquery once took thousands)."""
    from sqlalchemy import func, select

    from bot.models import OutboxStatus
    from jobs.outbox import Sender

    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE outbox"))  # statistics of an empty outbox, as before a first morning
    await seed_settled_outbox(db, settled=0, pending=5000, analyze=False)
    sender = Sender(db, client=None, clock=lambda: NOW + timedelta(minutes=1), name="claimer")
    rows = await sender.claim(limit=10)
    assert len(rows) == 10
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENDING))).scalar_one() == 10
