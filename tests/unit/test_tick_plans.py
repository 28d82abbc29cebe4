"""The per-tick queries (claim, expired, stale, depth) read an index, not the whole outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from bot.models import OutboxMessage, Workspace
from jobs.outbox import explain, tick_queries

NOW = datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)


async def seed_settled_outbox(db, *, settled: int, pending: int) -> None:
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
        if conn.dialect.name == "postgresql":
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
