"""Benchmark (not a test): the reminders and escalations jobs over a 300-rep team's open tasks.

    python bench/bench_reminders.py                      # 3,000 then 30,000 open tasks, on SQLite files
    python bench/bench_reminders.py --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/sb_bench

One team of 300 reps and 3 managers in Shanghai; open tasks due from 30 days ago to 20 days
ahead, so a morning tick finds the day's reminders and escalations among them. Each job is
composed twice at the reminder time: the first tick composes the posts, the second finds them
queued (the steady state of a clock ticking every minute). Prints wall times, SQL statement
counts and post counts; asserts nothing. On PostgreSQL the public schema is dropped and
recreated: use a throwaway database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.models import Member, SalesTeam, Task, TaskAssignee, Workspace  # noqa: E402
from bot.services.outbox import enqueue  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402
from jobs import escalations, reminders  # noqa: E402

NOW = datetime(2027, 3, 2, 1, 5, tzinfo=timezone.utc)  # Tuesday 09:05 in Shanghai
TODAY = date(2027, 3, 2)


class Deps:
    """What the composers read: the catalogs."""

    i18n = I18n()


async def seed(db: Database, tasks: int, rng: random.Random) -> None:
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id="TBENCH", name="Bench", currency="CNY").returning(Workspace.id))).scalar_one()
        team = (await conn.execute(insert(SalesTeam).values(workspace_id=ws, name="Big", timezone="Asia/Shanghai", created_at=NOW).returning(SalesTeam.id))).scalar_one()
        people = [{"workspace_id": ws, "slack_user_id": f"U{i:05d}", "name": f"Rep {i}", "role": "rep" if i >= 3 else "manager", "team_id": team,
                   "level": "junior", "tz": "Asia/Shanghai", "locale": "zh-CN" if i % 2 else "en-US", "is_slack_admin": False, "created_at": NOW}
                  for i in range(303)]
        await conn.execute(insert(Member), people)
        reps = [r[0] for r in (await conn.execute(text("SELECT id FROM member WHERE role = 'rep' ORDER BY id"))).all()]
        rows = [{"id": i + 1, "workspace_id": ws, "team_id": team, "title": f"Task {i}", "details": "", "priority": 2, "difficulty": 1,
                 "due_date": TODAY + timedelta(days=rng.randint(-30, 20)), "status": "open", "created_at": NOW - timedelta(days=40),
                 "updated_at": NOW, "self_created": False} for i in range(tasks)]
        for i in range(0, tasks, 5000):
            await conn.execute(insert(Task), rows[i:i + 5000])
            await conn.execute(insert(TaskAssignee), [{"task_id": r["id"], "member_id": reps[r["id"] % len(reps)]} for r in rows[i:i + 5000]])


async def run(url: str | None, tasks: int, workdir: Path) -> None:
    if url:
        db = Database(normalize_database_url(url))
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    else:
        db = Database(f"sqlite+aiosqlite:///{workdir / f'reminders-{tasks}.db'}")
    await db.upgrade()
    await seed(db, tasks, random.Random(7))
    n = 0

    def count(*_a, **_k):
        nonlocal n
        n += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    for job in (reminders, escalations):
        for tick in ("first", "second"):
            n = 0
            started = time.perf_counter()
            async with db.sessionmaker() as s:
                posts = await job.compose(Deps(), s, now=NOW)
                new = await enqueue(s, posts)
                await s.commit()
            print(f"{tasks:>6} open tasks  {job.JOB:<12} {tick} tick: {time.perf_counter() - started:6.2f} s, {n:3d} statements, {len(posts):5d} posts ({new} new)")
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for tasks in (3_000, 30_000):
            await run(args.database_url, tasks, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
