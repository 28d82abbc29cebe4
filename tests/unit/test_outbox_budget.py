"""The sender's budget on its own, in virtual time: exact spacing, bursts and Retry-After pauses, at no cost in real time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from jobs.outbox import Budget, SenderConfig
from tests.virtual_time import VirtualTime

START = datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)


def budget(vt: VirtualTime, **config) -> Budget:
    return Budget(SenderConfig(**config), timer=vt.monotonic, sleep=vt.sleep)


async def take_all(b: Budget, vt: VirtualTime, channels: list[str]) -> list[tuple[str, float]]:
    """Every channel's request taken at once, as concurrent senders would; returns (channel, when) in order."""
    spent: list[tuple[str, float]] = []

    async def one(channel: str) -> None:
        await b.take(1, channel)
        spent.append((channel, vt.monotonic()))

    await asyncio.gather(*(one(c) for c in channels))
    return spent


async def test_a_workspace_gets_its_burst_then_its_rate_and_not_a_moment_later():
    vt = VirtualTime(START)
    b = budget(vt, workspace_per_min=1200, workspace_burst=5, per_channel_per_sec=100)
    spent = await take_all(b, vt, [f"C{i}" for i in range(25)])
    times = [t for _, t in spent]
    assert times[:5] == [0.0] * 5  # the burst goes at once
    # then one every 1/20 s: 20 more in exactly one second
    assert [round(t, 9) for t in times[5:]] == [round(0.05 * i, 9) for i in range(1, 21)]


async def test_one_channel_gets_one_post_per_interval_whoever_asks():
    vt = VirtualTime(START)
    b = budget(vt, workspace_per_min=60000, workspace_burst=50, per_channel_per_sec=1)
    spent = await take_all(b, vt, ["CSALES"] * 4 + ["COTHER"])
    sales = [t for c, t in spent if c == "CSALES"]
    assert [round(t, 9) for t in sales] == [0.0, 1.0, 2.0, 3.0]
    assert [t for c, t in spent if c == "COTHER"] == [0.0]  # another channel does not queue behind it


async def test_retry_after_holds_every_channel_and_allows_no_burst_after_it():
    vt = VirtualTime(START)
    b = budget(vt, workspace_per_min=1200, workspace_burst=5, per_channel_per_sec=100)
    await b.take(1, "C0")
    b.workspace(1).pause(30)  # Slack said: Retry-After 30
    spent = await take_all(b, vt, ["C1", "C2", "C3"])
    times = [round(t, 9) for _, t in spent]
    # Nobody goes before the 30 s are up; then one, and the rest at the workspace rate.
    assert times == [30.0, 30.05, 30.1]


async def test_pace_keeps_the_channel_gap_when_the_steps_after_take_were_slow():
    vt = VirtualTime(START)
    b = budget(vt, workspace_per_min=60000, workspace_burst=50, per_channel_per_sec=2)
    await b.pace(1, "C1")
    first = vt.monotonic()
    await b.pace(1, "C1")  # right away: waits out the half second
    assert vt.monotonic() - first >= 0.5
    await vt.sleep(3)
    before = vt.monotonic()
    await b.pace(1, "C1")  # long after: no wait
    assert vt.monotonic() == before
