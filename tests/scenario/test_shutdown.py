"""Clean shutdown: SIGTERM stops `salesbot clock` mid-send and `salesbot run` with exit status 0.

The subprocesses are the real `salesbot` command against the stand-in, as in test_delivery.py.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time

import aiohttp

from bot.models import OutboxStatus
from tests.scenario.conftest import SIGNING_SECRET
from tests.scenario.test_delivery import dm_counts, outbox, output, posts_ok, salesbot, seed_fanout
from tests.scenario.delivery_jobs import JOB

SLOW_SENDS = {
    "SALESBOT_JOBS": JOB,
    "SALESBOT_TICK_SECONDS": "0.5",
    "SALESBOT_SEND_CONCURRENCY": "2",
    "SALESBOT_SEND_BATCH": "10",
    "SALESBOT_SEND_PER_MIN": "60000",
    "SALESBOT_SEND_BURST": "100",
    "SALESBOT_SEND_PER_CHANNEL_PER_SEC": "100",
    "SALESBOT_SEND_POLL": "0.1",
}


async def wait_until(condition, proc, tmp_path, label: str, timeout: float = 60) -> None:
    """Poll `condition` while the process runs; fail with its output on exit or timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.returncode is None, output(tmp_path, label)
        assert time.monotonic() < deadline, output(tmp_path, label)
        await asyncio.sleep(0.02)


async def test_sigterm_mid_send_exits_0_hands_back_claimed_rows_and_a_restart_sends_the_rest_once(db, slack, tmp_path):
    """SIGTERM while posts are in flight: exit 0 within 10 s, nothing left `sending`, the rest sent once after a restart."""
    reps = await seed_fanout(db, slack, 40)
    slack.delay("chat.postMessage", 0.3)  # slow sends: the signal lands with posts in flight and a batch claimed
    first = await salesbot(tmp_path, db, slack, "clock", label="first", **SLOW_SENDS)
    await wait_until(lambda: posts_ok(slack) >= 4, first, tmp_path, "first")
    first.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = await asyncio.wait_for(first.wait(), 10)
    assert code == 0, output(tmp_path, "first")
    assert time.monotonic() - started < 10

    rows = await outbox(db)
    statuses = [r.status for r in rows]
    assert len(rows) == 40 and OutboxStatus.SENDING not in statuses
    assert OutboxStatus.UNKNOWN not in statuses  # posts in flight were answered and recorded, not cut off
    sent_before = statuses.count(OutboxStatus.SENT)
    assert sent_before == posts_ok(slack) and 4 <= sent_before < 40
    handed_back = [r for r in rows if r.status == OutboxStatus.PENDING]
    assert handed_back and all(r.claimed_by is None and r.attempts == 0 and r.last_error is None for r in handed_back)
    assert "handed back" in output(tmp_path, "first")

    slack.delay("chat.postMessage", 0)
    second = await salesbot(tmp_path, db, slack, "clock", label="second", **SLOW_SENDS)
    await wait_until(lambda: posts_ok(slack) >= 40, second, tmp_path, "second")
    second.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(second.wait(), 10) == 0, output(tmp_path, "second")

    assert dm_counts(slack, reps) == {uid: 1 for uid in reps}
    assert {r.status for r in await outbox(db)} == {OutboxStatus.SENT}
    assert slack.rejected_calls() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_run_stops_on_sigterm_with_exit_0_and_closes_its_port(db, slack, tmp_path):
    """`salesbot run` (HTTP and its scheduler) answers, then SIGTERM: exit 0, the port no longer accepts."""
    port = free_port()
    proc = await salesbot(tmp_path, db, slack, "run", label="run", PORT=str(port), SLACK_SIGNING_SECRET=SIGNING_SECRET, SALESBOT_JOBS=JOB)
    await wait_until(lambda: "listening on" in output(tmp_path, "run"), proc, tmp_path, "run")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 10) == 0, output(tmp_path, "run")
    assert "stopped" in output(tmp_path, "run")
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                raise AssertionError(f"the port still answers: {resp.status}")
        except aiohttp.ClientConnectorError:
            pass
