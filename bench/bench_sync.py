"""Benchmark (not a test): a scheduled pull of a large file, its unchanged re-pull, and webhook deliveries.

    python bench/bench_sync.py                       # 10,000 customers, 500 events, on a SQLite file
    python bench/bench_sync.py --rows 50000 --events 2000
    python bench/bench_sync.py --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/sb_bench

A loopback aiohttp server serves a customers CSV; the sync job's pull imports it (all rows
created), pulls it again (unchanged: skipped by ETag), then a changed copy (every row updated).
Then `--events` task.created events for one endpoint are queued and the outbox sender delivers
them to a loopback receiver. Prints wall times and rows or events per second; asserts nothing.
On PostgreSQL the database's public schema is dropped and recreated: use a throwaway one.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.models import OutboxMessage, SyncSource, WebhookEndpoint, Workspace  # noqa: E402
from bot.services.webhooks import emit  # noqa: E402
from bot.settings import load_settings, normalize_database_url  # noqa: E402
from jobs.outbox import Sender, SenderConfig  # noqa: E402
from jobs.sync_pull import pull_source  # noqa: E402

NOW = datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc)


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


def customers_csv(n: int, tag: str) -> bytes:
    lines = ["external_id,name,segment,region"] + [f"C-{i},Customer {i} {tag},{'key' if i % 5 == 0 else 'smb'},Region {i % 7}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


async def main(url: str, rows: int, events: int) -> None:
    db = Database(url)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    deps = Deps(settings=load_settings(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-bench"), db=db, clock=lambda: NOW)

    content = {"body": customers_csv(rows, "a")}

    async def file(request: web.Request) -> web.Response:
        etag = '"' + hashlib.sha256(content["body"]).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        return web.Response(body=content["body"], headers={"ETag": etag, "Content-Type": "text/csv"})

    received = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal received
        await request.read()
        received += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/customers.csv", file)
    app.router.add_post("/hook", hook)
    runner, port = await serve(app)
    try:
        async with db.sessionmaker() as session:
            ws = Workspace(slack_team_id="TBENCH", name="Bench")
            session.add(ws)
            await session.flush()
            source = SyncSource(workspace_id=ws.id, kind="customers", url=f"http://127.0.0.1:{port}/customers.csv")
            session.add(source)
            await session.commit()
            ws_id = ws.id
            for label, change in (("first pull (all created)", None), ("same file again (304)", None), ("changed file (all updated)", "b")):
                if change:
                    content["body"] = customers_csv(rows, change)
                started = time.perf_counter()
                outcome = await pull_source(deps, session, source, now=NOW)
                took = time.perf_counter() - started
                r = outcome.run
                rate = "skipped" if r.status.value == "unchanged" else f"{rows / took:,.0f} rows/s"
                print(f"pull {label}: {rows:,} rows, {took:.2f}s ({rate}); run {r.status.value}: "
                      f"{r.created} created, {r.updated} updated, {r.unchanged} unchanged")

            session.add(WebhookEndpoint(workspace_id=ws_id, url=f"http://127.0.0.1:{port}/hook", events="*", secret="whsec_bench"))
            await session.commit()
            started = time.perf_counter()
            for i in range(events):
                await emit(session, workspace_id=ws_id, event="task.created", data={"id": i, "title": f"Task {i}"}, now=NOW)
            await session.commit()
            queued = time.perf_counter() - started
            keys = list((await session.execute(select(OutboxMessage.key).where(OutboxMessage.job == "webhook"))).scalars())
        config = SenderConfig(batch_size=50, concurrency=8, poll_seconds=0.05)
        sender = Sender(db, None, config=config, clock=lambda: NOW)  # webhooks need no Slack client
        started = time.perf_counter()
        counts = await sender.deliver(keys)
        took = time.perf_counter() - started
        print(f"webhooks: {events:,} events queued in {queued:.2f}s ({events / queued:,.0f}/s), delivered in {took:.2f}s "
              f"({events / took:,.0f}/s); {received} received; outbox {', '.join(f'{n} {s.value}' for s, n in counts.items())}")
    finally:
        await runner.cleanup()
        await db.dispose()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--events", type=int, default=500)
    p.add_argument("--database-url", default=None)
    a = p.parse_args()
    target = normalize_database_url(a.database_url) if a.database_url else f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='salesbot-bench-')}/bench.db"
    asyncio.run(main(target, a.rows, a.events))
