"""Benchmark (not a test): how fast one outbox sender delivers, and what each post costs it.

    python bench/bench_sender.py                                   # 2,000 DMs on a SQLite file
    python bench/bench_sender.py --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/sb_bench
    python bench/bench_sender.py --posts 5000 --concurrency 16

The Slack stand-in runs in a child process (its CPU is not the sender's). A workspace of
`--posts` members gets two mornings of one DM each, sent by one Sender through its run loop
with a budget high enough not to be the limit: the first morning opens every DM channel
(conversations.open, then the channel id is kept on the member), the second reuses them.
On PostgreSQL the sender takes its slots from the shared budget, as clocks do. Prints per
morning: wall time, posts per second, SQL statements per post and the sender's CPU
milliseconds per post; asserts nothing. On PostgreSQL the database's public schema is
dropped and recreated: use a throwaway one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from sqlalchemy import event, func, insert, select, text  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.models import Member, OutboxMessage, OutboxStatus, Workspace  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402
from jobs.outbox import Sender, SenderConfig, shared_budget_for  # noqa: E402

TOKEN = "xoxb-bench-sender"


def serve_standin(pipe, users: int) -> None:
    """The child process: the stand-in with `users` members, its address sent back through `pipe`."""
    from bot.standin import SlackStandIn

    async def main() -> None:
        slack = SlackStandIn(bot_token=TOKEN)
        await slack.start()
        for i in range(users):
            slack.add_user(f"U{i:07d}", name=f"rep{i}")
        pipe.send((slack.api_url, slack.team_id))
        await asyncio.Event().wait()

    asyncio.run(main())


def morning_blocks(day: int) -> list[dict]:
    """About the size of a morning DM: a header and a few tasks."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": f"*Morning {day}* · task {i}: call the customer, priority high"}} for i in range(6)]


async def enqueue_morning(db: Database, workspace_id: int, *, posts: int, day: int) -> None:
    now = datetime.now(timezone.utc)
    payload = json.dumps({"text": f"Morning {day}", "blocks": morning_blocks(day), "files": []})
    rows = [{"workspace_id": workspace_id, "key": f"daily:{day}:{i}", "job": "daily", "channel": f"U{i:07d}", "payload": payload,
             "attempts": 0, "status": "pending", "not_before": now, "created_at": now} for i in range(posts)]
    async with db.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(OutboxMessage.__table__), rows[start:start + 5000])


async def live_rows(db: Database) -> int:
    async with db.sessionmaker() as s:
        q = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        return (await s.execute(q)).scalar_one()


async def one_morning(db: Database, sender: Sender, workspace_id: int, *, posts: int, day: int, statements: list[int]) -> dict:
    """Enqueue a morning, let the sender's run loop deliver it; the costs per post."""
    await enqueue_morning(db, workspace_id, posts=posts, day=day)
    statements[0] = 0
    cpu, wall = time.process_time(), time.perf_counter()
    runner = asyncio.create_task(sender.run())
    while await live_rows(db):
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - wall
    sender.stop()
    await runner
    cpu = time.process_time() - cpu
    async with db.sessionmaker() as s:
        sent = (await s.execute(select(func.count()).where(OutboxMessage.key.like(f"daily:{day}:%"), OutboxMessage.status == OutboxStatus.SENT))).scalar_one()
    # The loop's own progress checks are counted too; they are a few per second, not per post.
    return {"sent": sent, "wall": wall, "rate": sent / wall, "statements": statements[0] / max(sent, 1), "cpu_ms": 1000 * cpu / max(sent, 1)}


async def run(url: str, *, posts: int, concurrency: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=serve_standin, args=(there, posts), daemon=True)
    child.start()
    db = Database(normalize_database_url(url))
    try:
        api_url, team_id = here.recv()
        if db.engine.dialect.name == "postgresql":
            async with db.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await db.upgrade()
        now = datetime.now(timezone.utc)
        async with db.engine.begin() as conn:
            ws = (await conn.execute(insert(Workspace).values(slack_team_id=team_id, name="Bench", currency="CNY", created_at=now).returning(Workspace.id))).scalar_one()
            await conn.execute(insert(Member.__table__), [
                {"workspace_id": ws, "slack_user_id": f"U{i:07d}", "name": f"Rep {i}", "role": "rep", "level": "junior", "tz": "UTC",
                 "locale": "en-US", "is_slack_admin": False, "created_at": now} for i in range(posts)
            ])
        statements = [0]
        event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))
        # A budget far above what one process can send: the figures are the sender's own costs.
        config = SenderConfig(workspace_per_min=60_000, workspace_burst=1000, concurrency=concurrency, batch_size=2 * concurrency, poll_seconds=0.05)
        client = AsyncWebClient(token=TOKEN, base_url=api_url, retry_handlers=[])
        sender = Sender(db, client, config=config, shared=shared_budget_for(db, config))
        budget = "shared (PostgreSQL)" if sender.shared is not None else "in-process"
        print(f"== one sender, {posts:,} DMs a morning, concurrency {concurrency}, {db.engine.dialect.name}, {budget} budget")
        for day, label in ((1, "first morning (opens each DM)"), (2, "next morning (DM channels kept)")):
            sender = Sender(db, client, config=config, shared=shared_budget_for(db, config))
            f = await one_morning(db, sender, ws, posts=posts, day=day, statements=statements)
            print(f"   {label:32} {f['sent']:,} sent in {f['wall']:.1f} s = {f['rate']:.0f} posts/s; "
                  f"{f['statements']:.1f} SQL statements and {f['cpu_ms']:.1f} ms of the sender's CPU per post")
    finally:
        await db.dispose()
        child.terminate()
        child.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(run(url, posts=args.posts, concurrency=args.concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
