"""Benchmark: the HTTP API's batch upsert and incremental pull at 100,000 deals.

Starts the API on a loopback port over a database (a SQLite file by default, or PostgreSQL
with --database-url; that database's public schema is dropped and recreated), makes a write
token, loads 200 reps by bulk insert and 2,000 customers through the API, then times, over
real HTTP with one client:

- batch upsert: --deals new deals in batches of 1,000 (POST /api/v1/deals/batch), then the
  same deals again with every amount changed (updates), then once more unchanged;
- incremental pull: every deal from the start, 1,000 a page, following next_cursor.

It prints rows per second for each; it asserts nothing.

    python bench/bench_api.py
    python bench/bench_api.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/salesbot_bench
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bot.api.routes import ApiConfig, api_routes  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.models import ApiScope, Member, Role, Workspace, utcnow  # noqa: E402
from bot.server import BotServer  # noqa: E402
from bot.services.api_tokens import create_token  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402

BATCH = 1000
REPS = 200
CUSTOMERS = 2000


def deal_rows(start: int, count: int, *, bump: int) -> list[dict]:
    return [
        {"external_id": f"D-{i}", "title": f"Deal {i}", "customer": f"C-{i % CUSTOMERS}", "owner": f"UREP{i % REPS:04d}",
         "amount": f"{1000 + i + bump}.00", "stage": "lead"}
        for i in range(start, start + count)
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is wiped); default: SQLite file bench_api.db")
    parser.add_argument("--deals", type=int, default=100_000)
    args = parser.parse_args()
    if args.database_url:
        url = normalize_database_url(args.database_url)
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    else:
        path = Path("bench_api.db")
        for p in (path, Path("bench_api.db-wal"), Path("bench_api.db-shm")):
            p.unlink(missing_ok=True)
        db = Database(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    async with db.session() as s:
        ws = Workspace(slack_team_id="TBENCH", name="bench")
        s.add(ws)
        await s.flush()
        now = utcnow()
        await s.execute(insert(Member), [
            {"workspace_id": ws.id, "slack_user_id": f"UREP{i:04d}", "name": f"Rep {i}", "role": Role.REP.value, "level": "junior",
             "tz": "UTC", "locale": "en-US", "is_slack_admin": False, "created_at": now, "updated_at": now} for i in range(REPS)
        ])
        token = (await create_token(s, workspace=ws, name="bench", scope=ApiScope.WRITE)).secret
    app = web.Application()
    app.add_routes(api_routes(db, ApiConfig(rate_per_minute=10**9)))
    server = BotServer(app, host="127.0.0.1", port=0)
    await server.start()
    dialect = "PostgreSQL" if args.database_url else "SQLite"
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}", headers={"Authorization": f"Bearer {token}"}) as http:
            async def post(kind: str, rows: list[dict]) -> dict:
                async with http.post(f"/api/v1/{kind}/batch", json={"rows": rows}) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status != 200:
                        raise SystemExit(f"{kind} batch answered {resp.status}: {body}")
                    return body

            for start in range(0, CUSTOMERS, BATCH):
                await post("customers", [{"external_id": f"C-{i}", "name": f"Customer {i}"} for i in range(start, start + BATCH)])
            for label, bump, field in (("create", 0, "created"), ("update", 7, "updated"), ("unchanged", 7, "unchanged")):
                started, done = time.perf_counter(), 0
                for start in range(0, args.deals, BATCH):
                    done += (await post("deals", deal_rows(start, min(BATCH, args.deals - start), bump=bump)))[field]
                took = time.perf_counter() - started
                print(f"{dialect}: batch upsert, {label:<9} {done:>7} deals in {took:6.1f} s: {done / took:8.0f} rows/s")
            started, pulled, cursor = time.perf_counter(), 0, None
            while True:
                params = {"limit": "1000"} | ({"cursor": cursor} if cursor else {})
                async with http.get("/api/v1/deals", params=params) as resp:
                    page = await resp.json()
                pulled += len(page["data"])
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            took = time.perf_counter() - started
            print(f"{dialect}: incremental pull   {pulled:>7} deals in {took:6.1f} s: {pulled / took:8.0f} rows/s (1,000 a page)")
    finally:
        await server.stop()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
