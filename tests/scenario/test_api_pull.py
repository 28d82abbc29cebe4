"""Incremental pulls through the real server: every change once, none missed, while other clients write."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from sqlalchemy import select

from bot.csvio.cells import format_money
from bot.models import Deal
from tests.scenario.api_helpers import ApiClient, make_token
from tests.scenario.conftest import REP1, REP2
from tests.scenario.helpers import east_team

ROWS = 60  # deals the writers keep changing
ROUNDS = 8  # batches each writer sends


@pytest.fixture
async def clients(driver, bot):
    await east_team(driver)
    write_token, read_token = await make_token(driver, "crm", "write"), await make_token(driver, "bi", "read")
    async with aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{bot.port}"
        writer = ApiClient(http, base, write_token)
        status, body, _ = await writer.batch("customers", [{"external_id": f"C-{i}", "name": f"Customer {i}"} for i in range(5)])
        assert status == 200, body
        yield writer, ApiClient(http, base, read_token)


def deal(i: int, amount_minor: int) -> dict:
    return {"external_id": f"D-{i}", "customer": f"C-{i % 5}", "owner": REP1 if i % 2 else REP2, "amount": format_money(amount_minor)}


async def test_pull_while_two_clients_write_ends_with_exactly_the_database(clients, db):
    writer, reader = clients

    async def write(who: int) -> None:
        # Each batch gives its rows amounts no other batch uses, so every version of a row is recognisable.
        for r in range(ROUNDS):
            rows = [deal(i, (who * 1000 + r) * 100 + i) for i in range(who, ROWS, 2 if r % 2 else 1)]
            status, body, _ = await writer.batch("deals", rows)
            assert status == 200, body
            await asyncio.sleep(0)

    seen: list[tuple[str, str]] = []
    latest: dict[str, dict] = {}
    cursor = None
    writers = asyncio.gather(write(0), write(1))
    while True:
        rows, cursor = await reader.pull("deals", cursor, limit=7)
        for row in rows:
            seen.append((row["external_id"], row["amount"]))
            latest[row["external_id"]] = row
        if writers.done():
            break
        await asyncio.sleep(0)
    await writers
    async with db.sessionmaker() as s:
        stored = {d.external_id: format_money(d.amount) for d in (await s.execute(select(Deal))).scalars()}

    def caught_up(rows: list[dict]) -> bool:
        last = dict(latest) | {r["external_id"]: r for r in rows}
        return {k: r["amount"] for k, r in last.items()} == stored

    rows, cursor = await reader.pull_until("deals", caught_up, cursor, limit=7)  # what committed after the last look
    for row in rows:
        seen.append((row["external_id"], row["amount"]))
        latest[row["external_id"]] = row
    assert len(stored) == ROWS
    assert {k: r["amount"] for k, r in latest.items()} == stored  # none missed: the pull ends where the database is
    assert len(seen) == len(set(seen))  # none twice: each version of a row came once
    assert len(seen) > ROWS  # the pull really saw rows change under it
    assert (await reader.pull("deals", cursor))[0] == []  # and nothing is left behind the cursor


async def test_rows_sharing_a_timestamp_are_all_served_across_pages(clients):
    writer, reader = clients
    status, _, _ = await writer.batch("deals", [deal(i, 100) for i in range(5)])  # one batch: one updated_at for all
    assert status == 200
    await reader.pull_until("deals", lambda rows: len(rows) == 5)  # on PostgreSQL, past any transaction running meanwhile
    got, cursor = [], None
    for _ in range(10):
        status, page, _ = await reader.get("/api/v1/deals", params={"limit": 1} | ({"cursor": cursor} if cursor else {}))
        got += [r["external_id"] for r in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert sorted(got) == [f"D-{i}" for i in range(5)] and len({r for r in got}) == 5
    stamps = {r["updated_at"] for r in (await reader.pull("deals"))[0]}
    assert len(stamps) == 1

    # updated_since starts a pull at a time; a later change is served after it, an older one not.
    [since] = stamps
    status, page, _ = await reader.get("/api/v1/deals", params={"updated_since": since})
    assert status == 200 and len(page["data"]) == 5
    status, page, _ = await reader.get("/api/v1/deals", params={"updated_since": "2999-01-01T00:00:00+00:00"})
    assert page["data"] == []
    status, problem, _ = await reader.get("/api/v1/deals", params={"updated_since": "yesterday"})
    assert status == 400 and problem["errors"][0]["field"] == "updated_since"
    status, problem, _ = await reader.get("/api/v1/deals", params={"cursor": "garbage"})
    assert status == 400
