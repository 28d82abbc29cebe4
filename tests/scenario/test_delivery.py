"""Scheduled delivery against the stand-in: exactly once across a SIGKILL, two clock processes, rate limits and 5xx.

The subprocess tests run the real `salesbot` command (`python -m bot`) with a test-only job
loaded through SALESBOT_EXTRA_JOBS (tests/scenario/delivery_jobs.py), against the stand-in
running in this test process.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.models import Member, OutboxMessage, OutboxStatus, Role, SalesTeam, Workspace
from jobs.base import Post
from jobs.outbox import Sender, SenderConfig, enqueue, make_sender_client
from jobs.runner import parse_at, run_job
from jobs.scheduler import build_clockwork
from tests.scenario.conftest import BOT_TOKEN, TEAM
from tests.scenario.delivery_jobs import JOB, compose_fanout
from tests.virtual_time import VirtualTime

ROOT = Path(__file__).resolve().parents[2]
AT = "2027-03-01T08:30+08:00"
EXTRA = "tests.scenario.delivery_jobs"


async def seed_fanout(db, slack, n: int, prefix: str = "UF") -> list[str]:
    """A workspace whose team "Fanout" has `n` reps, known to the stand-in too."""
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    async with db.sessionmaker() as s:
        ws = Workspace(slack_team_id=TEAM, name="Acme")
        s.add(ws)
        await s.flush()
        crew = SalesTeam(workspace_id=ws.id, name="Fanout")
        s.add(crew)
        await s.flush()
        s.add_all(Member(workspace_id=ws.id, slack_user_id=uid, name=f"Rep {uid}", role=Role.REP, team_id=crew.id) for uid in ids)
        await s.commit()
    for uid in ids:
        slack.add_user(uid, name=f"rep-{uid.lower()}")
    return ids


async def outbox(db) -> list[OutboxMessage]:
    async with db.sessionmaker() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def dm_counts(slack, ids: list[str]) -> dict[str, int]:
    """How many bot messages each member has in their DM."""
    return {uid: len(slack.messages_in(slack.dm_channel(uid))) for uid in ids}


async def salesbot(tmp_path: Path, db, slack, *args: str, label: str, **env: str) -> asyncio.subprocess.Process:
    """Start `python -m bot ARGS` against the stand-in and the test database."""
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "SALESBOT_EXTRA_JOBS": EXTRA,
        **env,
    }
    # Output goes to files: a full pipe nobody reads would stall the process.
    out = open(tmp_path / f"{label}.out", "wb")
    err = open(tmp_path / f"{label}.err", "wb")
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, cwd=ROOT, env=full_env, stdout=out, stderr=err)


def output(tmp_path: Path, label: str) -> str:
    return (tmp_path / f"{label}.out").read_text() + (tmp_path / f"{label}.err").read_text()


def ticks_done(tmp_path: Path, label: str) -> int:
    """How many ticks a verbose (`-v`) clock process has finished: its scheduler logs a line for each."""
    return output(tmp_path, label).count("executed successfully")


def posts_ok(slack) -> int:
    return sum(1 for c in slack.calls if c.method == "chat.postMessage" and c.ok)


async def test_sigkill_mid_fanout_then_restart_gives_each_rep_exactly_one_dm(db, slack, tmp_path):
    """Reliability (a): 200 reps, the sender killed after 40 posts, started again: none lost, none doubled."""
    reps = await seed_fanout(db, slack, 200)
    env = {
        "SALESBOT_SEND_CONCURRENCY": "1",
        "SALESBOT_SEND_BATCH": "10",
        "SALESBOT_SEND_PER_MIN": "60000",
        "SALESBOT_SEND_BURST": "100",
        "SALESBOT_SEND_PER_CHANNEL_PER_SEC": "100",
        "SALESBOT_SEND_LEASE": "3",
        "SALESBOT_SEND_TIMEOUT": "2",
        "SALESBOT_SEND_POLL": "0.1",
    }
    # Each answer is held 50 ms after the message is stored: the kill lands while a post is in flight.
    slack.delay("chat.postMessage", 0.05)
    first = await salesbot(tmp_path, db, slack, "jobs", "run", JOB, "--at", AT, label="first", **env)
    deadline = time.monotonic() + 60
    while posts_ok(slack) < 40:
        assert first.returncode is None, output(tmp_path, "first")
        assert time.monotonic() < deadline, output(tmp_path, "first")
        await asyncio.sleep(0.002)
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    at_kill = posts_ok(slack)
    assert 40 <= at_kill < 200
    claimed = [r for r in await outbox(db) if r.status == OutboxStatus.SENDING]
    assert claimed, "the kill should leave a claimed batch behind"

    slack.delay("chat.postMessage", 0)
    second = await salesbot(tmp_path, db, slack, "jobs", "run", JOB, "--at", AT, label="second", **env)
    code = await asyncio.wait_for(second.wait(), 60)

    assert dm_counts(slack, reps) == {uid: 1 for uid in reps}, output(tmp_path, "second")
    rows = await outbox(db)
    statuses = [r.status for r in rows]
    assert len(rows) == 200 and OutboxStatus.SENDING not in statuses and OutboxStatus.PENDING not in statuses
    unknown = [r for r in rows if r.status == OutboxStatus.UNKNOWN]
    # Only the post in flight at the kill can be unknown; its DM did arrive, and it was not resent.
    assert len(unknown) <= 1 and statuses.count(OutboxStatus.SENT) + len(unknown) == 200
    assert code == (0 if not unknown else 1), output(tmp_path, "second")
    assert slack.rejected_calls() == []


async def test_two_clock_processes_deliver_a_morning_once(db, slack, tmp_path):
    """Reliability (b): two `salesbot clock` processes tick and send the same morning: no duplicates."""
    reps = await seed_fanout(db, slack, 100)
    env = {
        "SALESBOT_JOBS": JOB,  # this process ticks the test job only
        "SALESBOT_TICK_SECONDS": "0.3",
        "SALESBOT_SEND_CONCURRENCY": "2",
        "SALESBOT_SEND_BATCH": "5",
        "SALESBOT_SEND_PER_MIN": "60000",
        "SALESBOT_SEND_BURST": "100",
        "SALESBOT_SEND_PER_CHANNEL_PER_SEC": "100",
        "SALESBOT_SEND_POLL": "0.1",
    }
    slack.delay("chat.postMessage", 0.01)  # a little latency, so both clocks are busy at once
    clocks = [await salesbot(tmp_path, db, slack, "-v", "clock", label=f"clock{i}", **env) for i in (1, 2)]
    deadline = time.monotonic() + 60
    while posts_ok(slack) < len(reps):
        for i, proc in enumerate(clocks, 1):
            assert proc.returncode is None, output(tmp_path, f"clock{i}")
        assert time.monotonic() < deadline, output(tmp_path, "clock1")
        await asyncio.sleep(0.05)
    # The clocks go on ticking and compose the same morning again: twice more each, at least
    # (on PostgreSQL only the holder of the tick lock ticks: twice more in all).
    labels = ["clock1", "clock2"]
    wanted = {label: ticks_done(tmp_path, label) + 2 for label in labels}
    gate = any if db.engine.dialect.name == "postgresql" else all
    while not gate(ticks_done(tmp_path, label) >= wanted[label] for label in labels):
        for label, proc in zip(labels, clocks):
            assert proc.returncode is None, output(tmp_path, label)
        assert time.monotonic() < deadline, output(tmp_path, "clock1")
        await asyncio.sleep(0.05)
    for proc in clocks:
        proc.send_signal(signal.SIGTERM)
    codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for p in clocks)), 30)
    assert codes == [0, 0], output(tmp_path, "clock1") + output(tmp_path, "clock2")

    assert dm_counts(slack, reps) == {uid: 1 for uid in reps}
    rows = await outbox(db)
    assert len(rows) == 100 and {r.status for r in rows} == {OutboxStatus.SENT}
    assert posts_ok(slack) == 100
    assert slack.rejected_calls() == []


def within_budget(times: list[float], rate: float, burst: float, slack_s: float = 0.05) -> bool:
    """No window of calls holds more than burst + rate × its length (with a little network jitter)."""
    times = sorted(times)
    return all(j - i + 1 <= burst + rate * (times[j] - times[i] + slack_s) for i in range(len(times)) for j in range(i + 1, len(times)))


async def test_rate_limits_and_server_errors_deliver_once_within_budget(db, slack):
    """Reliability (c): 20% of posts answered 429 (Retry-After 1), 5% 500: each arrives once, the budget holds.

    The sender's budget, Retry-After waits and backoff run in virtual time: every wait is as long
    as in real time on the sender's clock, and requests and queries take none of it.
    """
    start = datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)
    reps = await seed_fanout(db, slack, 30, prefix="UB")
    slack.add_channel("C0SALES", name="sales")
    async with db.sessionmaker() as s:
        ws_id = (await s.execute(select(Workspace.id))).scalar_one()
        posts = [
            Post(workspace_id=ws_id, key=f"c:{uid}", job="test", channel=uid, text=f"hello {uid}", blocks=[], not_before=start)
            for uid in reps
        ] + [
            Post(workspace_id=ws_id, key=f"c:sales:{i}", job="test", channel="C0SALES", text=f"sales {i}", blocks=[], not_before=start)
            for i in range(10)
        ]
        assert await enqueue(s, posts) == 40
        await s.commit()
    slack.fail("chat.postMessage", status=429, retry_after=1, rate=0.2, seed=4)
    slack.fail("chat.postMessage", status=500, rate=0.05, seed=5)
    config = SenderConfig(per_channel_per_sec=5, workspace_per_min=1200, workspace_burst=5, backoff_base=0.05, concurrency=4, batch_size=10, lease_seconds=10, request_timeout=5, poll_seconds=0.05)
    from bot.settings import load_settings

    settings = load_settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
    vt = VirtualTime(start, engines=(db.engine,))
    client = make_sender_client(settings, config)
    client.session = vt.session(timeout=aiohttp.ClientTimeout(total=client.timeout))
    sender = Sender(db, client, config=config, name="budget", clock=vt.utc, timer=vt.monotonic, sleep=vt.sleep)
    try:
        counts = await asyncio.wait_for(sender.deliver([p.key for p in posts]), 60)
    finally:
        await client.session.close()
    assert counts == {OutboxStatus.SENT: 40}

    assert dm_counts(slack, reps) == {uid: 1 for uid in reps}
    assert sorted(m["text"] for m in slack.messages_in("C0SALES")) == sorted(f"sales {i}" for i in range(10))
    calls = slack.calls_to("chat.postMessage")
    limited = [c for c in calls if c.status == 429]
    failed = [c for c in calls if c.status == 500]
    assert limited and failed  # both kinds of trouble really happened
    # 500s are counted as attempts, 429s are not.
    assert sum(r.attempts for r in await outbox(db)) == len(failed)
    # Every request counts against the budget, retries and refused ones included, at the moment
    # the stand-in handled it. Time stands still while anything else can run, so the budget must
    # hold exactly (a microsecond allowed for float rounding); a sender without a budget would
    # overrun it many times over (40 posts at the same instant), and one that ignored Retry-After
    # would pass 30 seconds of waits in a fraction of one.
    at = {id(c): vt.at(c.at) for c in calls}
    assert within_budget(list(at.values()), rate=1200 / 60, burst=5, slack_s=1e-6)
    by_channel: dict[str, list[float]] = {}
    for c in calls:
        by_channel.setdefault(c.args["channel"], []).append(at[id(c)])
    over = {ch: [round(t - ts[0], 3) for t in ts] for ch, ts in by_channel.items() if not within_budget(ts, rate=5, burst=1, slack_s=1e-6)}
    assert over == {}
    assert len(by_channel["C0SALES"]) >= 10
    # Each 429 held the whole workspace for its Retry-After second: the next request came no sooner.
    for c in limited:
        later = [t for t in at.values() if t > at[id(c)]]
        assert not later or min(later) >= at[id(c)] + 1 - 1e-6
    assert slack.rejected_calls() == []


async def test_jobs_run_twice_posts_once(db, slack, deps):
    """`salesbot jobs run` delivers through the outbox: the same keys, so a second run sends nothing."""
    reps = await seed_fanout(db, slack, 5)
    jobs = {JOB: compose_fanout}
    fast = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)
    out = io.StringIO()
    assert await run_job(deps, JOB, at=parse_at(AT), jobs=jobs, config=fast, out=out) == 0
    assert "5 posts (5 new): 5 sent" in out.getvalue()
    out = io.StringIO()
    assert await run_job(deps, JOB, at=parse_at(AT), jobs=jobs, config=fast, out=out) == 0
    assert "5 posts (0 new): 5 sent" in out.getvalue()
    assert dm_counts(slack, reps) == {uid: 1 for uid in reps}
    assert slack.rejected_calls() == []


async def test_scheduler_sends_what_is_due_and_skips_what_passed_its_window(db, slack, deps, clock, caplog):
    """On start the ticks enqueue today's posts and the sender sends them; yesterday's leftover is skipped and logged."""
    reps = await seed_fanout(db, slack, 3)
    async with db.sessionmaker() as s:
        ws_id = (await s.execute(select(Workspace.id))).scalar_one()
        yesterday = clock.now - timedelta(days=1)
        await enqueue(s, [Post(workspace_id=ws_id, key="old:1", job=JOB, channel=reps[0], text="yesterday", blocks=[], not_before=yesterday, expires_at=yesterday + timedelta(hours=2))])
        await s.commit()
    fast = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)
    work = build_clockwork(deps, config=fast, jobs={JOB: compose_fanout}, tick_seconds=3600)
    work.start()
    try:
        await slack.wait_for("chat.postMessage", count=3, timeout=10)
        assert await work.tick(JOB) == 0  # a second tick composes the same keys: nothing new
    finally:
        await work.stop()
    rows = {r.key: r.status for r in await outbox(db)}
    day = clock.now.date().isoformat()
    assert rows == {"old:1": OutboxStatus.SKIPPED, **{f"{JOB}:{ws_id}:{uid}:{day}": OutboxStatus.SENT for uid in reps}}
    assert "skipped 1 posts past their window: old:1" in caplog.text
    assert dm_counts(slack, reps) == {uid: 1 for uid in reps}
    assert slack.rejected_calls() == []
