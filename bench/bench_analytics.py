"""Benchmark: team /kpi and /pipeline for a quarter at 10,000 and 100,000 deals.

Builds a database (a SQLite file by default, or PostgreSQL with --database-url; that
database's public schema is dropped and recreated) with 300 reps, 5,000 customers and deals
spread over two years, plus their stage changes, activities, expenses, tasks and surveys,
using bulk inserts. It then times the services behind `/kpi` (the team total, and one rep:
the same statements, filtered) and `/pipeline` for the quarter 2027-Q1, printing the median of several runs and the number of
SQL statements each sends, for both sizes, and the ratio between them.

    python bench/bench_analytics.py
    python bench/bench_analytics.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/salesbot_bench

This prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.models import (  # noqa: E402
    Activity, Customer, Deal, DealStageChange, DealStatus, Expense, Member, SalesTeam, Stage, Survey, Task, TaskAssignee, Workspace,
)
from bot.services.actors import Actor  # noqa: E402
from bot.services.analytics import kpi_report, pipeline_report  # noqa: E402
from bot.services.deals import moved_forward  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402

UTC = timezone.utc
NOW = datetime(2027, 4, 10, 2, 0, tzinfo=UTC)
SPAN_START = NOW - timedelta(days=730)
PERIOD = "2027-Q1"
STAGES = list(Stage)
CHUNK = 5000


def rnd_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant between two instants, to the second."""
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def generate(n_deals: int, n_reps: int, n_customers: int, seed: int = 7):
    """Rows for every table, as lists of dicts ready for executemany (ids assigned here)."""
    rng = random.Random(seed)
    ws, team = 1, 1
    members = [dict(id=1, workspace_id=ws, slack_user_id="UMGR", name="Manager", role="manager", team_id=team, level="senior",
                    tz="Asia/Shanghai", locale="en-US", is_slack_admin=False, created_at=SPAN_START)]
    members += [dict(id=i + 2, workspace_id=ws, slack_user_id=f"UREP{i:04d}", name=f"Rep {i}", role="rep", team_id=team,
                     level="junior", tz="Asia/Shanghai", locale="en-US", is_slack_admin=False, created_at=SPAN_START)
                for i in range(n_reps)]
    rep_ids = [m["id"] for m in members[1:]]
    customers = [dict(id=i + 1, workspace_id=ws, name=f"Customer {i}", segment="key" if i % 5 == 0 else "smb", created_at=SPAN_START)
                 for i in range(n_customers)]
    deals, changes = [], []
    change_id = 0
    for d in range(1, n_deals + 1):
        created = rnd_time(rng, SPAN_START, NOW - timedelta(days=1))
        reached = rng.choices(range(1, 7), weights=[30, 25, 18, 12, 10, 5])[0]
        t = created
        path = [(None, STAGES[0], t)]
        for k in range(1, reached):
            t = t + timedelta(days=rng.randint(1, 20), seconds=rng.randrange(86400))
            if t >= NOW:
                break
            path.append((STAGES[k - 1], STAGES[k], t))
        stage, entered = path[-1][1], path[-1][2]
        status, won_at, lost_at = "open", None, None
        close = entered + timedelta(days=rng.randint(1, 30))
        roll = rng.random()
        # Most deals older than a quarter are closed; a tenth linger open (and stale).
        if close < NOW and (close < NOW - timedelta(days=90) and rng.random() < 0.9 or roll < 0.3):
            if STAGES.index(stage) >= 2 and rng.random() < 0.55:
                status, won_at = "won", close
            else:
                status, lost_at = "lost", close
        history = [dict(workspace_id=ws, deal_id=d, team_id=team, from_stage=frm.value if frm else None, to_stage=to.value, status="open", changed_at=at,
                        left_at=None, advanced=None) for frm, to, at in path]
        if status != "open":
            history.append(dict(workspace_id=ws, deal_id=d, team_id=team, from_stage=stage.value, to_stage=stage.value, status=status, changed_at=won_at or lost_at,
                                left_at=None, advanced=None))
        for prev, nxt in zip(history, history[1:]):  # what record_stage_change fills in as the deal moves
            prev["left_at"] = nxt["changed_at"]
            prev["advanced"] = moved_forward(Stage(prev["to_stage"]), Stage(nxt["to_stage"]), DealStatus(nxt["status"]))
        for change in history:
            change_id += 1
            changes.append(dict(id=change_id, **change))
        deals.append(dict(
            id=d, workspace_id=ws, team_id=team, customer_id=rng.randint(1, n_customers), owner_id=rng.choice(rep_ids),
            title=f"Deal {d}", product_line=rng.choice("ABC"), amount=rng.randint(1_000, 5_000_000) * 100, stage=stage.value,
            status=status, stage_entered_at=entered, won_at=won_at, lost_at=lost_at, created_at=created, updated_at=entered,
        ))
    scale = n_deals
    activities = [dict(id=i + 1, workspace_id=ws, member_id=rng.choice(rep_ids), deal_id=rng.randint(1, n_deals), kind=rng.choice(["call", "visit", "meeting", "message"]),
                       effective=rng.random() < 0.6, note="", occurred_at=rnd_time(rng, SPAN_START, NOW)) for i in range(scale)]
    expenses = [dict(id=i + 1, workspace_id=ws, member_id=rng.choice(rep_ids), amount=rng.randint(100, 500_000), category="travel",
                     spent_on=rnd_time(rng, SPAN_START, NOW).date(), created_at=SPAN_START) for i in range(scale // 5)]
    tasks, assignees = [], []
    for i in range(scale // 4):
        due = rnd_time(rng, SPAN_START, NOW + timedelta(days=30))
        done = rng.random() < 0.7 and due < NOW
        tasks.append(dict(id=i + 1, workspace_id=ws, team_id=team, title=f"Task {i}", details="", priority=2, difficulty=1, due_date=due.date(),
                          status="done" if done else "open", created_at=due - timedelta(days=7), updated_at=due,
                          completed_at=due + timedelta(hours=rng.randint(-72, 48)) if done else None))
        assignees.append(dict(task_id=i + 1, member_id=rng.choice(rep_ids)))
    surveys = [dict(id=i + 1, workspace_id=ws, customer_id=rng.randint(1, n_customers), rep_id=rng.choice(rep_ids), source="deal", source_id=i + 1,
                    status="answered", score=rng.choice([1, 2, 3, 4, 4, 5, 5, 5]), comment="", send_at=SPAN_START, expires_at=SPAN_START,
                    answered_at=rnd_time(rng, SPAN_START, NOW), created_at=SPAN_START) for i in range(scale // 5)]
    return {
        Workspace: [dict(id=ws, slack_team_id="TBENCH", name="Bench", currency="CNY", created_at=SPAN_START)],
        SalesTeam: [dict(id=team, workspace_id=ws, name="Sales", timezone="Asia/Shanghai", growth_target_bp=1000, satisfaction_target_bp=9000,
                         stale_days=14, digest_weekday=0, digest_time="09:00", daily_time="08:30", working_days="0,1,2,3,4",
                         survey_delay_days=3, daily_skip_empty=True, created_at=SPAN_START)],
        Member: members, Customer: customers, Deal: deals, DealStageChange: changes, Activity: activities, Expense: expenses,
        Task: tasks, TaskAssignee: assignees, Survey: surveys,
    }


async def build(url: str, n_deals: int, n_reps: int, n_customers: int) -> tuple[Database, dict[str, int]]:
    """A fresh, migrated database filled with generated rows."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    db = Database(url)
    if not url.startswith("sqlite"):
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    rows = generate(n_deals, n_reps, n_customers)
    async with db.engine.begin() as conn:
        for model, items in rows.items():
            for i in range(0, len(items), CHUNK):
                await conn.execute(insert(model), items[i:i + CHUNK])
        if db.engine.dialect.name == "postgresql":
            for model in rows:
                if model is not TaskAssignee:
                    table = model.__table__.name
                    await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"))
            await conn.execute(text("ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
    return db, {model.__tablename__: len(items) for model, items in rows.items()}


async def measure(db: Database, runs: int) -> dict[str, tuple[float, int]]:
    """Median milliseconds and statement count of each report."""
    statements = 0

    def count(*_a, **_k):
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    async with db.sessionmaker() as s:
        ws = await s.get(Workspace, 1)
        manager = await s.get(Member, 1)
    actor = Actor(workspace=ws, member=manager, is_admin=False)

    async def kpi(s):
        return await kpi_report(s, actor=actor, now=NOW, period_text=PERIOD)

    async def kpi_rep(s):
        return await kpi_report(s, actor=actor, now=NOW, period_text=PERIOD, rep_user_id="UREP0000")

    async def pipeline(s):
        return await pipeline_report(s, actor=actor, now=NOW, period_text=PERIOD)

    out = {}
    for name, fn in (("kpi", kpi), ("kpi rep", kpi_rep), ("pipeline", pipeline)):
        times, counts = [], []
        for i in range(runs + 1):
            async with db.sessionmaker() as s:
                statements = 0
                t0 = time.perf_counter()
                await fn(s)
                elapsed = (time.perf_counter() - t0) * 1000
            if i:  # the first run warms caches and compiles statements
                times.append(elapsed)
                counts.append(statements)
        out[name] = (statistics.median(times), max(counts))
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:///bench_analytics.db", help="SQLite file (default) or PostgreSQL URL; it is wiped")
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the smaller size, for the growth ratio")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = normalize_database_url(args.database_url)
    results = {}
    for n in (args.small, args.deals):
        t0 = time.perf_counter()
        db, counts = await build(url, n, args.reps, args.customers)
        built = time.perf_counter() - t0
        print(f"built {n:,} deals in {built:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
        results[n] = await measure(db, args.runs)
        await db.dispose()
        for name, (ms, q) in results[n].items():
            print(f"  {name:<9} {ms:8.1f} ms (median of {args.runs})  {q} SQL statements", flush=True)
    small, big = results[args.small], results[args.deals]
    print(f"\n{db.engine.dialect.name}, {args.reps} reps, {args.customers:,} customers, quarter {PERIOD}")
    print(f"{'report':<10}{args.small:>10,} deals{args.deals:>12,} deals{'ratio':>8}{'statements':>12}")
    for name in ("kpi", "kpi rep", "pipeline"):
        print(f"{name:<10}{small[name][0]:>13.1f} ms{big[name][0]:>12.1f} ms{big[name][0] / small[name][0]:>8.1f}"
              f"{small[name][1]:>6} → {big[name][1]}")


if __name__ == "__main__":
    asyncio.run(main())
