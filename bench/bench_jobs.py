"""Benchmark (not a test): composing the morning DMs and one weekly digest at scale.

    python bench/bench_jobs.py                 # a tenth of the size, then full size, on SQLite files
    python bench/bench_jobs.py --scale 1       # full size only
    python bench/bench_jobs.py --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/sb_bench

Full size: 10,000 reps (100 teams of 100, in Shanghai and Tokyo) with 200,000 open tasks,
20,000 deals (some stale) and a month target each, all due at the same morning; then one
weekly digest of a 300-rep team with 100,000 deals. Prints wall times, SQL statement counts
(SQLAlchemy before_cursor_execute) and peak RSS (resource.getrusage); asserts nothing.
On PostgreSQL the database's public schema is dropped and recreated: use a throwaway one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.models import (  # noqa: E402
    Customer, Deal, DealStageChange, Member, SalesTeam, Stage, Target, Task, TaskAssignee, Workspace,
)
from bot.settings import normalize_database_url  # noqa: E402

NOW = datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc)  # Monday: 10:00 in Shanghai, 11:00 in Tokyo
TODAY = date(2027, 3, 1)
ZONES = ("Asia/Shanghai", "Asia/Tokyo")
STAGES = list(Stage)


class Deps:
    """What the composers read: the catalogs."""

    i18n = I18n()


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Counter:
    """Counts SQL statements sent by an engine."""

    def __init__(self, engine) -> None:
        self.n = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kw) -> None:
        self.n += 1


async def _bulk(conn, table, rows: list[dict], chunk: int = 5000) -> None:
    for i in range(0, len(rows), chunk):
        await conn.execute(insert(table), rows[i:i + chunk])


async def fresh_db(url: str | None, workdir: Path, label: str) -> Database:
    if url:
        db = Database(normalize_database_url(url))
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    else:
        db = Database(f"sqlite+aiosqlite:///{workdir / f'{label}.db'}")
    await db.upgrade()
    return db


async def seed_morning(db: Database, reps: int, tasks_per_rep: int, rng: random.Random) -> None:
    """Teams of 100 reps, each rep with open tasks, two deals (one stale), a won deal and a month target."""
    async with db.engine.begin() as conn:
        ws_id = (await conn.execute(insert(Workspace).values(slack_team_id="TBENCH", name="Bench", currency="CNY").returning(Workspace.id))).scalar_one()
        teams = max(1, reps // 100)
        await _bulk(conn, SalesTeam.__table__, [
            {"workspace_id": ws_id, "name": f"Team {i}", "timezone": ZONES[i % 2], "growth_target_bp": 1000, "satisfaction_target_bp": 9000,
             "stale_days": 14, "digest_weekday": 0, "digest_time": "09:00", "daily_time": "08:30", "working_days": "0,1,2,3,4",
             "survey_delay_days": 3, "daily_skip_empty": True, "created_at": NOW}
            for i in range(teams)
        ])
        team_ids = [r[0] for r in (await conn.execute(text("SELECT id FROM sales_team ORDER BY id"))).all()]
        await _bulk(conn, Member.__table__, [
            {"workspace_id": ws_id, "slack_user_id": f"U{i:07d}", "name": f"Rep {i}", "role": "rep", "team_id": team_ids[i % teams],
             "level": "junior", "tz": ZONES[(i % teams) % 2], "locale": "zh-CN" if i % 3 == 0 else "en-US", "is_slack_admin": False, "created_at": NOW}
            for i in range(reps)
        ])
        members = (await conn.execute(text("SELECT id, team_id, slack_user_id FROM member ORDER BY id"))).all()
        await _bulk(conn, Customer.__table__, [{"workspace_id": ws_id, "name": f"Customer {i}", "segment": "smb", "created_at": NOW} for i in range(1000)])
        customers = [r[0] for r in (await conn.execute(text("SELECT id FROM customer"))).all()]
        first_task = (await conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM task"))).scalar_one() + 1
        task_rows, assignee_rows = [], []
        tid = first_task
        for m_id, team_id, _ in members:
            for _ in range(tasks_per_rep):
                task_rows.append({
                    "id": tid, "workspace_id": ws_id, "team_id": team_id, "title": f"Task {tid}", "details": "", "priority": rng.choice((1, 2, 3)),
                    "difficulty": 1, "due_date": TODAY + timedelta(days=rng.randint(-20, 40)), "status": rng.choice(("open", "open", "in_progress")),
                    "customer_id": rng.choice(customers) if rng.random() < 0.5 else None, "created_at": NOW, "updated_at": NOW,
                })
                assignee_rows.append({"task_id": tid, "member_id": m_id})
                tid += 1
        await _bulk(conn, Task.__table__, task_rows)
        await _bulk(conn, TaskAssignee.__table__, assignee_rows)
        deal_rows, target_rows = [], []
        for m_id, team_id, user_id in members:
            deal_rows.append({"workspace_id": ws_id, "team_id": team_id, "customer_id": rng.choice(customers), "owner_id": m_id, "title": "Stale",
                              "product_line": "A", "amount": 100_000, "stage": "proposal", "status": "open",
                              "stage_entered_at": NOW - timedelta(days=rng.randint(15, 60)), "created_at": NOW, "updated_at": NOW})
            deal_rows.append({"workspace_id": ws_id, "team_id": team_id, "customer_id": rng.choice(customers), "owner_id": m_id, "title": "Won",
                              "product_line": "A", "amount": rng.randint(1, 50) * 10_000, "stage": "negotiation", "status": "won",
                              "won_at": NOW - timedelta(hours=rng.randint(1, 30)), "stage_entered_at": NOW, "created_at": NOW, "updated_at": NOW})
            target_rows.append({"workspace_id": ws_id, "team_id": team_id, "period": "2027-03", "period_start": date(2027, 3, 1),
                                "period_end": date(2027, 4, 1), "dimension": "rep", "key": user_id, "amount": 1_000_000, "created_at": NOW, "updated_at": NOW})
        await _bulk(conn, Deal.__table__, deal_rows)
        await _bulk(conn, Target.__table__, target_rows)


async def seed_digest(db: Database, reps: int, deals: int, rng: random.Random) -> int:
    """One team with `reps` reps and `deals` deals over the past months, stage changes and tasks; returns its id."""
    async with db.engine.begin() as conn:
        ws_id = (await conn.execute(insert(Workspace).values(slack_team_id="TDIGEST", name="Digest", currency="CNY").returning(Workspace.id))).scalar_one()
        team_id = (await conn.execute(insert(SalesTeam).values(
            workspace_id=ws_id, name="Big team", timezone="Asia/Shanghai", growth_target_bp=1000, satisfaction_target_bp=9000, stale_days=14,
            digest_weekday=0, digest_time="09:00", daily_time="08:30", working_days="0,1,2,3,4", survey_delay_days=3, daily_skip_empty=True,
            digest_channel_id="C0SALES", created_at=NOW,
        ).returning(SalesTeam.id))).scalar_one()
        await _bulk(conn, Member.__table__, [
            {"workspace_id": ws_id, "slack_user_id": f"UD{i:06d}", "name": f"Digest rep {i}", "role": "rep" if i else "manager", "team_id": team_id,
             "level": "junior", "tz": "Asia/Shanghai", "locale": "en-US", "is_slack_admin": False, "created_at": NOW}
            for i in range(reps + 1)
        ])
        members = (await conn.execute(text(f"SELECT id, slack_user_id FROM member WHERE workspace_id = {ws_id} AND role = 'rep'"))).all()
        await _bulk(conn, Customer.__table__, [{"workspace_id": ws_id, "name": f"D customer {i}", "segment": "key", "created_at": NOW} for i in range(2000)])
        customers = [r[0] for r in (await conn.execute(text(f"SELECT id FROM customer WHERE workspace_id = {ws_id}"))).all()]
        first = (await conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM deal"))).scalar_one() + 1
        deal_rows, change_rows = [], []
        for i in range(deals):
            owner = rng.choice(members)[0]
            status = rng.choice(("open", "open", "won", "lost"))
            at = NOW - timedelta(hours=rng.randint(1, 24 * 120))
            deal_rows.append({"id": first + i, "workspace_id": ws_id, "team_id": team_id, "customer_id": rng.choice(customers), "owner_id": owner,
                              "title": f"Deal {i}", "product_line": "A", "amount": rng.randint(1, 100) * 10_000, "stage": rng.choice(STAGES).value,
                              "status": status, "won_at": at if status == "won" else None, "lost_at": at if status == "lost" else None,
                              "stage_entered_at": at, "created_at": at, "updated_at": at})
            change_rows.append({"workspace_id": ws_id, "deal_id": first + i, "from_stage": None, "to_stage": "lead", "status": "open", "changed_at": at})
        await _bulk(conn, Deal.__table__, deal_rows)
        await _bulk(conn, DealStageChange.__table__, change_rows)
        await _bulk(conn, Target.__table__, [
            {"workspace_id": ws_id, "team_id": team_id, "period": "2027-02", "period_start": date(2027, 2, 1), "period_end": date(2027, 3, 1),
             "dimension": "rep", "key": user_id, "amount": 5_000_000, "created_at": NOW, "updated_at": NOW}
            for _, user_id in members
        ] + [{"workspace_id": ws_id, "team_id": team_id, "period": "2027-02", "period_start": date(2027, 2, 1), "period_end": date(2027, 3, 1),
              "dimension": "total", "key": "", "amount": 5_000_000 * len(members), "created_at": NOW, "updated_at": NOW}])
        first_task = (await conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM task"))).scalar_one() + 1
        task_rows, assignee_rows = [], []
        for i in range(reps * 20):
            owner = members[i % len(members)][0]
            done = rng.random() < 0.5
            task_rows.append({"id": first_task + i, "workspace_id": ws_id, "team_id": team_id, "title": "t", "details": "", "priority": 2, "difficulty": 1,
                              "due_date": TODAY - timedelta(days=rng.randint(0, 14)), "status": "done" if done else "open",
                              "completed_at": NOW - timedelta(days=rng.randint(0, 10)) if done else None, "created_at": NOW, "updated_at": NOW})
            assignee_rows.append({"task_id": first_task + i, "member_id": owner})
        await _bulk(conn, Task.__table__, task_rows)
        await _bulk(conn, TaskAssignee.__table__, assignee_rows)
        return team_id


async def bench(scale: float, url: str | None, workdir: Path) -> None:
    from jobs.daily import compose
    from bot.blocks.digest import build_digest_message
    from bot.blocks.pictures import digest_pictures
    from bot.charts import FunnelChart, funnel
    from bot.services.digest import WEEKLY, build_digest, picture_figures

    rng = random.Random(7)
    reps, tasks_per_rep = int(10_000 * scale), 20
    print(f"== scale {scale:g}: {reps:,} reps, {reps * tasks_per_rep:,} open tasks; digest of a {int(300 * scale)}-rep team with {int(100_000 * scale):,} deals")
    db = await fresh_db(url, workdir, f"bench-{scale:g}")
    t0 = time.perf_counter()
    await seed_morning(db, reps, tasks_per_rep, rng)
    team_id = await seed_digest(db, int(300 * scale), int(100_000 * scale), rng)
    if db.engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum would have gathered them on a live database.
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    print(f"   seeded in {time.perf_counter() - t0:.1f} s ({db.engine.dialect.name})")
    counter = Counter(db.engine)

    async with db.sessionmaker() as session:
        counter.n = 0
        t0 = time.perf_counter()
        posts = await compose(Deps(), session, now=NOW)
        elapsed = time.perf_counter() - t0
    print(f"   daily:  {len(posts):,} DMs composed in {elapsed:.2f} s, {counter.n} SQL statements, peak RSS {peak_mb():.0f} MB")

    async with db.sessionmaker() as session:
        team = await session.get(SalesTeam, team_id)
        loc = Deps.i18n.get("en-US")
        funnel(FunnelChart("warm", [("lead", 1)]))  # import matplotlib and load its font once
        counter.n = 0
        t0 = time.perf_counter()
        digest = await build_digest(session, team=team, kind=WEEKLY, day=TODAY, now=NOW)
        pictures = await picture_figures(session, team=team, as_of=digest.period.end - timedelta(days=1))
        t_data = time.perf_counter() - t0
        queries = counter.n
        text_, blocks = build_digest_message(digest, loc)
        t_blocks = time.perf_counter() - t0
        files = digest_pictures(digest, pictures, loc)
        t_all = time.perf_counter() - t0
    print(f"   weekly: digest of {len(digest.reps)} reps: figures {t_data:.2f} s ({queries} SQL statements), message {t_blocks - t_data:.2f} s "
          f"({len(blocks)} blocks), 3 pictures {t_all - t_blocks:.2f} s ({sum(len(f['content']) for f in files) // 1024} kB PNG); total {t_all:.2f} s; peak RSS {peak_mb():.0f} MB")
    await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, action="append", help="size relative to the full benchmark (repeatable); default 0.1 then 1")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is dropped); default: SQLite files in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scale or [0.1, 1.0]:
            asyncio.run(bench(scale, args.database_url, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
