"""One clock ticks: two `salesbot clock` processes on PostgreSQL, one holds the tick lock; kill it, the other takes over.

The subprocesses are the real `salesbot` command against the stand-in, as in test_delivery.py.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from sqlalchemy import select

from bot.models import Member, OutboxStatus, Role, SalesTeam
from tests.conftest import PG_URL
from tests.scenario.delivery_jobs import JOB
from tests.scenario.test_delivery import dm_counts, outbox, output, posts_ok, salesbot, seed_fanout, ticks_done

pytestmark = pytest.mark.skipif(not PG_URL, reason="the tick lock is a PostgreSQL advisory lock; on SQLite (one machine) every clock ticks")

ENV = {
    "SALESBOT_JOBS": JOB,
    "SALESBOT_TICK_SECONDS": "0.3",
    "SALESBOT_LOCK_RETRY_SECONDS": "0.5",
    "SALESBOT_SEND_CONCURRENCY": "1",
    "SALESBOT_SEND_BATCH": "5",
    "SALESBOT_SEND_PER_MIN": "60000",
    "SALESBOT_SEND_BURST": "100",
    "SALESBOT_SEND_PER_CHANNEL_PER_SEC": "100",
    "SALESBOT_SEND_LEASE": "3",
    "SALESBOT_SEND_TIMEOUT": "2",
    "SALESBOT_SEND_POLL": "0.1",
}
HOLDS = "holds it"


async def add_reps(db, slack, ids: list[str]) -> None:
    """More reps in the Fanout team: only a clock that ticks after this enqueues their DMs."""
    async with db.sessionmaker() as s:
        crew = (await s.execute(select(SalesTeam).where(SalesTeam.name == "Fanout"))).scalar_one()
        s.add_all(Member(workspace_id=crew.workspace_id, slack_user_id=uid, name=f"Rep {uid}", role=Role.REP, team_id=crew.id) for uid in ids)
        await s.commit()
    for uid in ids:
        slack.add_user(uid, name=f"rep-{uid.lower()}")


async def test_one_clock_ticks_and_the_other_takes_over_when_it_is_killed(db, slack, tmp_path):
    """Two clocks: only the lock holder ticks; SIGKILL it mid-morning, the other ticks within a minute; each rep one DM."""
    reps = await seed_fanout(db, slack, 100)
    slack.delay("chat.postMessage", 0.05)  # both senders are busy while the morning goes out
    labels = ["clock1", "clock2"]
    clocks = dict(zip(labels, [await salesbot(tmp_path, db, slack, "-v", "clock", label=label, **ENV) for label in labels]))

    def wait_for(condition, what: str, timeout: float = 60):
        async def poll() -> None:
            deadline = time.monotonic() + timeout
            while not condition():
                for label, proc in clocks.items():
                    assert proc.returncode is None, output(tmp_path, label)
                assert time.monotonic() < deadline, f"{what}\n" + "\n".join(output(tmp_path, label) for label in clocks)
                await asyncio.sleep(0.02)

        return poll()

    def holders() -> list[str]:
        return [label for label in labels if HOLDS in output(tmp_path, label)]

    def waiting(label: str) -> bool:
        return "waits and retries" in output(tmp_path, label)

    await wait_for(lambda: len(holders()) == 1 and any(waiting(label) for label in labels if label not in holders()), "one holds, one waits")
    holder = holders()[0]
    other = next(label for label in labels if label != holder)
    # The holder ticks again and again; the other never does, though its sender sends too.
    await wait_for(lambda: ticks_done(tmp_path, holder) >= 3 and posts_ok(slack) >= 10, "the holder ticks, the morning goes out")
    assert ticks_done(tmp_path, other) == 0
    assert holders() == [holder]

    clocks[holder].send_signal(signal.SIGKILL)
    assert await clocks.pop(holder).wait() == -signal.SIGKILL
    killed_at = time.monotonic()
    late = [f"UL{i:04d}" for i in range(10)]
    await add_reps(db, slack, late)
    await wait_for(lambda: HOLDS in output(tmp_path, other), "the other clock takes the lock")
    assert time.monotonic() - killed_at < 60
    await wait_for(lambda: ticks_done(tmp_path, other) >= 2, "the new holder ticks")

    everyone = reps + late

    async def settled() -> bool:
        rows = await outbox(db)
        return len(rows) == len(everyone) and not {r.status for r in rows} & {OutboxStatus.PENDING, OutboxStatus.SENDING}

    deadline = time.monotonic() + 60
    while not await settled():  # the killed clock's claimed rows come back after their lease
        assert clocks[other].returncode is None, output(tmp_path, other)
        assert time.monotonic() < deadline, output(tmp_path, other)
        await asyncio.sleep(0.05)
    clocks[other].send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(clocks[other].wait(), 10) == 0, output(tmp_path, other)

    # Nobody twice, and everybody once but for the post the kill caught between marking it as leaving
    # and its request reaching Slack: that one is held as unknown for review, never resent blindly
    # (whether it arrived depends on the instant of the kill, so both outcomes are allowed for it alone).
    rows = await outbox(db)
    unknown = [r for r in rows if r.status == OutboxStatus.UNKNOWN]
    assert len(unknown) <= 1 and [r.status for r in rows].count(OutboxStatus.SENT) + len(unknown) == len(everyone)
    held = {r.channel for r in unknown}
    counts = dm_counts(slack, everyone)
    assert {uid: n for uid, n in counts.items() if uid not in held} == {uid: 1 for uid in everyone if uid not in held}
    assert all(counts[uid] in (0, 1) for uid in held), counts
    assert slack.rejected_calls() == []


async def test_the_lock_passes_on_when_its_connection_is_cut_and_the_cut_holder_stops_ticking(db):
    """The holder's backend is terminated (as when its machine vanishes): it stops ticking, the waiting clock takes the lock."""
    from sqlalchemy import text

    from jobs.ticklock import TickLock

    changes: dict[str, list[bool]] = {"a": [], "b": []}
    a = TickLock(db, name="a", on_change=changes["a"].append, retry_seconds=0.05)
    b = TickLock(db, name="b", on_change=changes["b"].append, retry_seconds=0.05)

    async def until(condition) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, changes
            await asyncio.sleep(0.01)

    task_a = asyncio.create_task(a.run())
    await until(lambda: a.held)
    task_b = asyncio.create_task(b.run())
    try:
        await until(lambda: b._last_holder is not None)  # b has seen a hold it, and waits
        assert not b.held
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'salesbot a'"))
        await until(lambda: b.held and not a.held)
        assert changes["a"][:2] == [True, False] and changes["b"] == [True]
        await until(lambda: a._last_holder is not None and a._conn is not None)  # a reconnected and now waits
        assert not a.held
    finally:
        for task in (task_a, task_b):
            task.cancel()
        await asyncio.gather(task_a, task_b, return_exceptions=True)
