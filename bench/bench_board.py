"""Benchmark: one page of the `/tasks` team board at 3,000 and 30,000 open tasks (300 reps).

Builds a database (a SQLite file by default, or PostgreSQL with --database-url; that
database's public schema is dropped and recreated) with one team of 300 reps and their open
tasks (long titles, a customer each, a few shared by two reps), using bulk inserts. It then
times one board page (the service's queries and the Block Kit builder) at the first, the
middle and the last page, and the manager's App Home team section, printing the median of
several runs and the number of SQL statements each sends, for both sizes.

    python bench/bench_board.py
    python bench/bench_board.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/salesbot_bench

This prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402

from bot.blocks.board import build_board, team_section  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.models import Customer, Member, SalesTeam, Task, TaskAssignee, Workspace  # noqa: E402
from bot.services.actors import Actor  # noqa: E402
from bot.services.board import PAGE_SIZE, BoardQuery, team_board, team_summary  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402

UTC = timezone.utc
NOW = datetime(2027, 4, 10, 2, 0, tzinfo=UTC)
TODAY = date(2027, 4, 10)
CHUNK = 5000
TITLE = "续签年度服务合同并报价升级方案 & <follow-up> " * 8


def generate(n_tasks: int, n_reps: int) -> dict:
    """Rows for every table, as lists of dicts ready for executemany (ids assigned here)."""
    ws, team = 1, 1
    rows: dict = {
        Workspace: [dict(id=ws, slack_team_id="TBENCH", name="bench", currency="CNY", created_at=NOW)],
        SalesTeam: [dict(id=team, workspace_id=ws, name="East", timezone="Asia/Shanghai", created_at=NOW)],
        Customer: [dict(id=i + 1, workspace_id=ws, name=f"客户 {i} " + "有限公司" * 40, segment="smb", created_at=NOW) for i in range(500)],
    }
    rows[Member] = [dict(id=1, workspace_id=ws, slack_user_id="UMGR", name="Manager", role="manager", team_id=team, level="senior",
                         tz="Asia/Shanghai", locale="en-US", is_slack_admin=False, created_at=NOW)]
    rows[Member] += [dict(id=i + 2, workspace_id=ws, slack_user_id=f"UREP{i:04d}", name=f"Rep {i:04d}", role="rep", team_id=team,
                          level="junior", tz="Asia/Shanghai", locale="en-US", is_slack_admin=False, created_at=NOW) for i in range(n_reps)]
    tasks, links = [], []
    for i in range(n_tasks):
        rep = 2 + i % n_reps
        tasks.append(dict(id=i + 1, workspace_id=ws, team_id=team, title=f"{i} {TITLE}"[:200], details="", customer_id=1 + i % 500,
                          priority=1 + i % 3, difficulty=1, due_date=TODAY + timedelta(days=i % 29 - 14),
                          status="open" if i % 4 else "in_progress", created_by_id=1, created_at=NOW, updated_at=NOW))
        links.append(dict(task_id=i + 1, member_id=rep))
        if i % 20 == 0:  # a shared task shows under both reps
            links.append(dict(task_id=i + 1, member_id=2 + (i + 1) % n_reps))
    rows[Task] = tasks
    rows[TaskAssignee] = links
    return rows


async def build(url: str, n_tasks: int, n_reps: int) -> tuple[Database, dict[str, int]]:
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
    rows = generate(n_tasks, n_reps)
    async with db.engine.begin() as conn:
        for model, items in rows.items():
            for i in range(0, len(items), CHUNK):
                await conn.execute(insert(model), items[i:i + CHUNK])
        await conn.execute(text("ANALYZE"))
    return db, {model.__tablename__: len(items) for model, items in rows.items()}


async def measure(db: Database, runs: int) -> dict[str, tuple[float, int, int]]:
    """Median milliseconds, statement count and blocks of each surface."""
    statements = 0

    def count(*_a, **_k):
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    async with db.sessionmaker() as s:
        ws = await s.get(Workspace, 1)
        manager = await s.get(Member, 1)
    actor = Actor(workspace=ws, member=manager, is_admin=False)
    loc = I18n().get("en-US")
    async with db.sessionmaker() as s:
        total = (await team_board(s, actor=actor, query=BoardQuery(), today=TODAY)).total
    last = (total - 1) // PAGE_SIZE * PAGE_SIZE

    def page_at(offset):
        async def run(s):
            page = await team_board(s, actor=actor, query=BoardQuery(), today=TODAY, offset=offset)
            return build_board(page, loc, TODAY)[1]
        return run

    async def home(s):
        top, groups, _ = team_section(await team_summary(s, actor=actor, today=TODAY), loc)
        return top + [b for g in groups for b in g]

    out = {}
    surfaces = (("first page", page_at(0)), ("middle page", page_at(last // 2 // PAGE_SIZE * PAGE_SIZE)), ("last page", page_at(last)), ("home team", home))
    for name, fn in surfaces:
        times, counts = [], []
        for i in range(runs + 1):
            async with db.sessionmaker() as s:
                statements = 0
                t0 = time.perf_counter()
                blocks = await fn(s)
                elapsed = (time.perf_counter() - t0) * 1000
            if i:  # the first run warms caches and compiles statements
                times.append(elapsed)
                counts.append(statements)
        out[name] = (statistics.median(times), max(counts), len(blocks))
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:///bench_board.db", help="SQLite file (default) or PostgreSQL URL; it is wiped")
    parser.add_argument("--tasks", type=int, default=30_000)
    parser.add_argument("--small", type=int, default=3_000, help="the smaller size, for the growth ratio")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = normalize_database_url(args.database_url)
    results = {}
    for n in (args.small, args.tasks):
        t0 = time.perf_counter()
        db, counts = await build(url, n, args.reps)
        print(f"built {n:,} open tasks in {time.perf_counter() - t0:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
        results[n] = await measure(db, args.runs)
        await db.dispose()
        for name, (ms, q, blocks) in results[n].items():
            print(f"  {name:<12} {ms:8.1f} ms (median of {args.runs})  {q} SQL statements  {blocks} blocks", flush=True)
    small, big = results[args.small], results[args.tasks]
    print(f"\n{db.engine.dialect.name}, {args.reps} reps, {PAGE_SIZE} tasks a page")
    print(f"{'surface':<13}{args.small:>9,} tasks{args.tasks:>12,} tasks{'ratio':>8}{'statements':>12}")
    for name in small:
        print(f"{name:<13}{small[name][0]:>12.1f} ms{big[name][0]:>12.1f} ms{big[name][0] / small[name][0]:>8.1f}"
              f"{small[name][1]:>6} → {big[name][1]}")


if __name__ == "__main__":
    asyncio.run(main())
