"""The shared send budget on PostgreSQL: slots from one row per scope, never more than the budget in any second."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy import select

from bot.db import Database
from bot.models import SendBudget
from bot.services.sendbudget import SharedBudget, Window, channel_scope, workspace_scope
from tests.conftest import PG_URL

pg_only = pytest.mark.skipif(not PG_URL, reason="the shared budget lives in PostgreSQL; SQLite keeps the in-process budget")


def test_windows_for_a_rate():
    assert Window.for_rate(50) == Window(per_window=50, length=1.0)
    assert Window.for_rate(5) == Window(per_window=5, length=1.0)
    assert Window.for_rate(0.5) == Window(per_window=1, length=2.0)  # one post every two seconds
    assert Window.for_rate(2.5) == Window(per_window=2, length=0.8)
    with pytest.raises(ValueError):
        Window.for_rate(0)


@pg_only
async def test_two_processes_share_one_budget_and_no_second_holds_more(db):
    """Two budgets on two engines (as two processes), 8 takers each: at most 20 per wall-clock second, at full rate."""
    other = Database(db.url)
    waits: list[float] = []
    a = SharedBudget(db, workspace_per_sec=20, channel_per_sec=100, on_wait=waits.append)
    b = SharedBudget(other, workspace_per_sec=20, channel_per_sec=100)
    stamps: list[float] = []

    async def taker(budget: SharedBudget, n: int, channel: str) -> None:
        for _ in range(n):
            stamps.append(await budget.take(7, channel))  # the slot's own time: the second it counts in

    try:
        started = time.time()
        await asyncio.gather(*(taker(a if i % 2 else b, 8, f"D{i}") for i in range(16)))
    finally:
        await other.dispose()
    per_second = Counter(int(t) for t in stamps)
    assert len(stamps) == 128
    assert max(per_second.values()) <= 20, per_second
    # Full seconds in the middle run at the budget: no slot is lost between the two processes.
    full = sorted(per_second)[1:-1]
    assert full and all(per_second[s] >= 18 for s in full), per_second
    assert time.time() - started >= 128 / 20 - 1.5
    assert waits  # the metrics hear about the waits
    async with db.sessionmaker() as s:
        row = await s.get(SendBudget, workspace_scope(7))
        assert row is not None and row.used <= 20
        assert (await s.execute(select(SendBudget).where(SendBudget.scope == channel_scope(7, "D0")))).scalar_one().used >= 1


@pg_only
async def test_one_channel_gets_one_slot_a_second(db):
    budget = SharedBudget(db, workspace_per_sec=100, channel_per_sec=1)
    stamps, windows = [], []
    for _ in range(3):
        await budget.take(1, "C1")
        stamps.append(time.time())
        async with db.engine.connect() as conn:
            windows.append(tuple((await conn.execute(text("SELECT window_no, used FROM send_budget WHERE scope = 'c:1:C1'"))).one()))
    # Three different one-second windows, one request each (read from the rows: a stamp taken after the
    # call returns can fall into the next second when the round trip crosses a boundary).
    assert [used for _, used in windows] == [1, 1, 1] and windows[0][0] < windows[1][0] < windows[2][0], windows
    assert stamps[2] - stamps[0] > 1.0


@pg_only
async def test_a_pause_holds_every_process(db):
    """Slack's Retry-After, seen by one process, makes the other wait too."""
    other = Database(db.url)
    try:
        a = SharedBudget(db, workspace_per_sec=50, channel_per_sec=50)
        b = SharedBudget(other, workspace_per_sec=50, channel_per_sec=50)
        await a.take(3, "C1")
        await a.pause(3, 2.0)
        started = time.time()
        await b.take(3, "C2")
        assert time.time() - started >= 1.0  # the next window after the pause, at least a second away
    finally:
        await other.dispose()


@pg_only
async def test_a_slot_is_too_late_once_a_request_could_land_in_a_later_window(db):
    budget = SharedBudget(db, workspace_per_sec=10, channel_per_sec=100)
    slot = await budget.take(5, "C1")
    assert budget.too_late(slot - 1.0)  # a slot of the window before this one: its room is spent
    assert not budget.too_late(slot + 1.0)  # the next window's slot: not reached yet


@pg_only
async def test_a_sender_slowed_between_its_slot_and_the_request_takes_a_new_slot(db, session):
    """The write marking a post as leaving stalled past its slot's window: the request waits for a new slot, and is sent once."""
    from bot.models import OutboxStatus, Role
    from bot.standin import SlackStandIn
    from jobs.base import Post
    from jobs.outbox import Sender, SenderConfig, enqueue, make_sender_client
    from bot.settings import load_settings
    from tests.unit.factories import member, workspace

    slack = SlackStandIn(bot_token="xoxb-late", team_id="T1")
    slack.add_user("UREP", name="rep")
    await slack.start()
    try:
        ws = await workspace(session, "T1")
        await member(session, ws, "UREP", role=Role.REP)
        await enqueue(session, [Post(workspace_id=ws.id, key="late:1", job="daily", channel="UREP", text="Morning", blocks=[], not_before=datetime.now(timezone.utc))])
        await session.commit()
        config = SenderConfig(workspace_per_min=600, workspace_burst=1, lease_seconds=30, request_timeout=5)
        shared = SharedBudget(db, workspace_per_sec=10, channel_per_sec=1)
        stalled: list[str] = []

        class StalledMark(Sender):
            async def _update_claimed(self, row, **values):
                if "sending_started_at" in values and not stalled:
                    stalled.append(row.key)
                    await asyncio.sleep(1.0)  # the write is slow: past the slot's window, whatever its place in it
                return await super()._update_claimed(row, **values)

        settings = load_settings(SLACK_BOT_TOKEN="xoxb-late", SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
        sender = StalledMark(db, make_sender_client(settings, config), config=config, shared=shared)
        counts = await sender.deliver(["late:1"])
        assert counts == {OutboxStatus.SENT: 1} and stalled == ["late:1"]
        assert shared.retaken >= 1
        assert len([c for c in slack.calls if c.method == "chat.postMessage" and c.ok]) == 1
    finally:
        await slack.stop()
