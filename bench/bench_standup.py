"""Benchmark (not a test): composing a 300-rep team's check-ins and its weekly digest with 3,000-character answers.

    python bench/bench_standup.py                      # 300 reps on a SQLite file
    python bench/bench_standup.py --reps 1000
    python bench/bench_standup.py --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/sb_bench

One team in Shanghai with N reps (and N deals won last week, a month target each), check-ins on,
every rep answered all four questions at full length and half of them named a blocker. Times the
check-in DMs (Friday 16:00) and the digest with one thread reply per rep (Monday 09:00), and
prints wall time, SQL statements (SQLAlchemy before_cursor_execute), posts and the largest
payload. Asserts nothing. On PostgreSQL the public schema is dropped and recreated: use a throwaway database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.models import CheckIn, Customer, Deal, Member, SalesTeam, Target, Workspace  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402

FRIDAY = datetime(2026, 3, 13, 8, 1, tzinfo=timezone.utc)  # 16:01 in Shanghai, the working day before Monday's digest
MONDAY = datetime(2026, 3, 16, 1, 5, tzinfo=timezone.utc)  # 09:05 in Shanghai: the weekly digest of 2026-W11
ANSWER = ("客户跟进顺利 <!here> & *progress* " * 200)[:3000]


class Deps:
    """What the composers read: the catalogs."""

    i18n = I18n()


async def fresh_db(url: str | None, workdir: Path) -> Database:
    if url:
        db = Database(normalize_database_url(url))
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    else:
        db = Database(f"sqlite+aiosqlite:///{workdir / 'standup.db'}")
    await db.upgrade()
    return db


async def seed(db: Database, reps: int) -> None:
    """One team of `reps` reps, each with a win last week, a month target and a full-length check-in."""
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id="TBENCH", name="Bench", currency="CNY", created_at=FRIDAY).returning(Workspace.id))).scalar_one()
        team = (await conn.execute(insert(SalesTeam).values(
            workspace_id=ws, name="Big", timezone="Asia/Shanghai", digest_channel_id="C0BIG", standup_enabled=True, created_at=FRIDAY,
        ).returning(SalesTeam.id))).scalar_one()
        await conn.execute(insert(Member), [
            {"workspace_id": ws, "slack_user_id": f"U{i:07d}", "name": f"Rep {i}", "role": "rep", "team_id": team, "level": "junior",
             "tz": "Asia/Shanghai", "locale": "zh-CN" if i % 2 else "en-US", "is_slack_admin": False, "created_at": FRIDAY}
            for i in range(reps)
        ])
        members = (await conn.execute(text("SELECT id, slack_user_id FROM member ORDER BY id"))).all()
        cust = (await conn.execute(insert(Customer).values(workspace_id=ws, name="Huaxin", segment="key", created_at=FRIDAY).returning(Customer.id))).scalar_one()
        await conn.execute(insert(Deal), [
            {"workspace_id": ws, "team_id": team, "customer_id": cust, "owner_id": m, "title": "Won", "product_line": "A", "amount": 100_000,
             "stage": "negotiation", "status": "won", "won_at": datetime(2026, 3, 11, 3, tzinfo=timezone.utc), "stage_entered_at": FRIDAY,
             "created_at": FRIDAY, "updated_at": FRIDAY}
            for m, _ in members
        ])
        await conn.execute(insert(Target), [
            {"workspace_id": ws, "team_id": team, "period": "2026-03", "period_start": date(2026, 3, 1), "period_end": date(2026, 4, 1),
             "dimension": "rep", "key": uid, "amount": 1_000_000, "created_at": FRIDAY, "updated_at": FRIDAY}
            for _, uid in members
        ])
        await conn.execute(insert(CheckIn), [
            {"workspace_id": ws, "team_id": team, "member_id": m, "kind": "weekly", "period": "2026-W12",
             "answers": json.dumps([ANSWER, ANSWER, ANSWER if i % 2 else "", "4"], ensure_ascii=False), "blocker": ANSWER if i % 2 else "",
             "confidence": 4, "answered_at": FRIDAY, "updated_at": FRIDAY}
            for i, (m, _) in enumerate(members)
        ])


async def bench(reps: int, url: str | None, workdir: Path) -> None:
    from jobs.digest import compose_weekly
    from jobs.standup import compose as compose_standup

    db = await fresh_db(url, workdir)
    try:
        await seed(db, reps)
        statements = [0]
        event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        for label, composer, at in (("check-in DMs", compose_standup, FRIDAY), ("weekly digest + replies", compose_weekly, MONDAY)):
            statements[0] = 0
            started = time.perf_counter()
            async with db.sessionmaker() as session:
                posts = await composer(Deps(), session, now=at)
            elapsed = time.perf_counter() - started
            largest = max((len(json.dumps(p.blocks, ensure_ascii=False).encode()) for p in posts), default=0)
            most_blocks = max((len(p.blocks) for p in posts), default=0)
            print(f"{db.engine.dialect.name:10s} {reps:5d} reps  {label:24s} {elapsed * 1000:8.0f} ms  {statements[0]:3d} statements  "
                  f"{len(posts):4d} posts  largest {largest / 1000:.1f} kB, {most_blocks} blocks")
        # The same digest without its chart (matplotlib's import and drawing dominate the line above).
        from bot.blocks.digest import build_digest_message, standup_replies
        from bot.services.digest import WEEKLY, build_digest, digest_teams

        statements[0] = 0
        started = time.perf_counter()
        async with db.sessionmaker() as session:
            [team] = await digest_teams(session)
            digest = await build_digest(session, team=team, kind=WEEKLY, day=MONDAY.date(), now=MONDAY)
        loc = Deps.i18n.get("en-US")
        build_digest_message(digest, loc)
        replies = standup_replies(digest, loc)
        elapsed = time.perf_counter() - started
        print(f"{db.engine.dialect.name:10s} {reps:5d} reps  {'digest + replies, no chart':24s} {elapsed * 1000:8.0f} ms  {statements[0]:3d} statements  "
              f"{len(replies) + 1:4d} posts")
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="a throwaway PostgreSQL database (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(args.reps, args.database_url, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
