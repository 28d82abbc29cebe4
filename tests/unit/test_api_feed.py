"""The change feed behind the API's pulls: the database numbers every write, readers never skip a late commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from bot.models import Customer
from bot.services import api_feed
from tests.conftest import PG_URL
from tests.unit import factories as f


async def _pull_until(db, workspace_id: int, cursor: str | None, want: int, limit: int = 100) -> tuple[list[str], str]:
    """Pull until `want` rows came: on PostgreSQL a transaction running in the same database holds the feed back meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    names: list[str] = []
    while True:
        more, cursor = await _pull(db, workspace_id, cursor, limit)
        names += more
        if len(names) >= want or loop.time() > deadline:
            return names, cursor
        await asyncio.sleep(0.05)


async def _pull(db, workspace_id: int, cursor: str | None, limit: int = 100) -> tuple[list[str], str]:
    names: list[str] = []
    async with db.sessionmaker() as s:
        while True:
            page = await api_feed.list_page(s, workspace_id=workspace_id, kind="customers", cursor=cursor, limit=limit)
            names += [r["name"] for r in page.rows]
            cursor = page.next_cursor
            if not page.has_more:
                return names, cursor


async def test_every_insert_and_update_gets_a_later_number_and_comes_back(db, session):
    ws, other = await f.workspace(session, "T1"), await f.workspace(session, "T2")
    session.add_all([Customer(workspace_id=ws.id, name=n) for n in ("a", "b", "c")] + [Customer(workspace_id=other.id, name="theirs")])
    await session.commit()
    names, cursor = await _pull_until(db, ws.id, None, 3, limit=2)
    assert names == ["a", "b", "c"]  # the other workspace's row never shows
    assert (await _pull(db, ws.id, cursor))[0] == []
    # A Core UPDATE (no ORM, no updated_at of ours) still moves the row to the end of the feed.
    await session.execute(update(Customer).where(Customer.name == "a").values(region="East"))
    await session.commit()
    names, cursor = await _pull_until(db, ws.id, cursor, 1)
    assert names == ["a"]
    assert (await _pull(db, ws.id, cursor))[0] == []


def test_cursors_are_opaque_and_checked():
    assert api_feed.decode_cursor(api_feed.encode_cursor(12, 34)) == (12, 34)
    for bad in ("", "x", api_feed.encode_cursor(1, 2)[:-2] + "!!", "WyJhIiwxXQ"):
        with pytest.raises(api_feed.BadCursor):
            api_feed.decode_cursor(bad)


@pytest.mark.skipif(not PG_URL, reason="SQLite has one writer at a time: a late commit cannot happen there")
async def test_a_transaction_committing_late_is_not_skipped(db, session):
    ws = await f.workspace(session)
    await session.commit()
    async with db.sessionmaker() as early, db.sessionmaker() as late:
        early.add(Customer(workspace_id=ws.id, name="early"))  # numbered first, committed last
        await early.flush()
        late.add(Customer(workspace_id=ws.id, name="late"))
        await late.flush()
        await late.commit()
        names, cursor = await _pull(db, ws.id, None)
        assert names == []  # "late" waits behind the transaction still running, instead of moving the cursor past it
        await early.commit()
    names, cursor = await _pull_until(db, ws.id, cursor, 2)
    assert names == ["early", "late"]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has no other databases on a server")
async def test_a_transaction_in_another_database_does_not_hold_the_feed_back(db, session):
    import asyncpg
    from sqlalchemy.engine import make_url

    ws = await f.workspace(session)
    await session.commit()
    other = make_url(PG_URL).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    elsewhere = await asyncpg.connect(other)
    try:
        tx = elsewhere.transaction()
        await tx.start()
        await elsewhere.fetchval("SELECT pg_current_xact_id()")  # a transaction id, held open in another database
        session.add(Customer(workspace_id=ws.id, name="now"))
        await session.commit()
        names, _ = await _pull(db, ws.id, None)
        assert names == ["now"]
        await tx.rollback()
    finally:
        await elsewhere.close()
