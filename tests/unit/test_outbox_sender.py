"""The sender against the Slack stand-in: DMs opened once, files in the thread, retries, unknown outcomes, dead posts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from sqlalchemy import select

from bot.models import Member, OutboxMessage, OutboxStatus, Role
from bot.settings import load_settings
from bot.standin import SlackStandIn
from jobs.base import Post
from jobs.outbox import NOTICE_JOB, Sender, SenderConfig, enqueue, make_sender_client
from tests.unit.factories import member, team, workspace
from tests.virtual_time import VirtualTime

TOKEN = "xoxb-sender-test"
NOW = datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)
FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, lease_seconds=5, request_timeout=1, backoff_base=0.01, batch_size=10, concurrency=4, poll_seconds=0.05)


@pytest.fixture
async def slack():
    stand_in = SlackStandIn(bot_token=TOKEN, team_id="T1")
    for uid in ("UREP", "UREP2", "UADM", "UMGR"):
        stand_in.add_user(uid, name=uid.lower())
    stand_in.add_channel("CSALES", name="sales")
    await stand_in.start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


@pytest.fixture
async def world(session):
    ws = await workspace(session, "T1")
    east = await team(session, ws, "East")
    rep = await member(session, ws, "UREP", role=Role.REP, team=east)
    await member(session, ws, "UREP2", role=Role.REP, team=east)
    await member(session, ws, "UADM", is_slack_admin=True)
    await session.commit()
    return ws, rep


def running_clock():
    """The job clock: NOW when the test starts, then at the wall clock's pace (backoffs come due)."""
    import time

    started = time.monotonic()
    return lambda: NOW + timedelta(seconds=time.monotonic() - started)


@pytest.fixture
async def make_sender(db, slack):
    """Senders on the stand-in; in virtual time (budget, Retry-After and backoff waits take none) unless real_time."""
    sessions = []

    def make(config: SenderConfig = FAST, *, real_time: bool = False) -> Sender:
        settings = load_settings(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
        client = make_sender_client(settings, config)
        if real_time:
            return Sender(db, client, config=config, clock=running_clock(), name="unit")
        vt = VirtualTime(NOW, engines=(db.engine,))
        client.session = vt.session(timeout=aiohttp.ClientTimeout(total=client.timeout))
        sessions.append(client.session)
        sender = Sender(db, client, config=config, clock=vt.utc, timer=vt.monotonic, sleep=vt.sleep, name="unit")
        sender.vt = vt  # type: ignore[attr-defined]
        return sender

    yield make
    for session in sessions:
        await session.close()


def post(ws_id: int, key: str, channel: str, **kw) -> Post:
    return Post(workspace_id=ws_id, key=key, job="test", channel=channel, text=f"text {key}", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"*{key}*"}}], not_before=NOW, **kw)


async def stored(db) -> dict[str, OutboxMessage]:
    async with db.sessionmaker() as s:
        return {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars()}


async def test_sends_dms_and_channel_posts_with_files_in_the_thread(db, session, slack, world, make_sender):
    ws, rep = world
    chart = {"filename": "chart.png", "title": "Attainment", "content": b"\x89PNG fake"}
    await enqueue(session, [post(ws.id, "dm1", "UREP"), post(ws.id, "dm2", "UREP", expires_at=NOW + timedelta(hours=1)), post(ws.id, "digest", "CSALES", files=[chart])])
    await session.commit()
    counts = await make_sender().deliver(["dm1", "dm2", "digest"])
    assert counts == {OutboxStatus.SENT: 3}
    dm = slack.dm_channel("UREP")
    assert sorted(m["text"] for m in slack.messages_in(dm)) == ["text dm1", "text dm2"]
    assert len(slack.calls_to("conversations.open")) == 1  # the DM channel is cached on the member
    async with db.sessionmaker() as s:
        assert (await s.get(Member, rep.id)).dm_channel_id == dm
    rows = await stored(db)
    assert all(r.message_ts and r.sent_at and r.attempts == 0 for r in rows.values())
    digest = next(m for m in slack.messages_in("CSALES") if m["text"] == "text digest")
    assert digest["ts"] == rows["digest"].message_ts
    (file,) = slack.files.values()
    assert file["data"] == b"\x89PNG fake" and file["title"] == "Attainment"
    assert file["shares"] == [{"channel": "CSALES", "ts": file["shares"][0]["ts"], "thread_ts": digest["ts"], "initial_comment": None}]
    assert slack.rejected_calls() == []


async def test_a_morning_reuses_a_few_kept_alive_connections(db, session, slack, world, make_sender):
    """Not a connection (a TLS handshake, to Slack) per request: at most one per request in flight."""
    ws, _ = world
    users = ("UREP", "UREP2", "UADM", "UMGR")
    await enqueue(session, [post(ws.id, f"k{i}", users[i % 4]) for i in range(16)])
    await session.commit()
    counts = await make_sender(real_time=True).deliver([f"k{i}" for i in range(16)])
    assert counts == {OutboxStatus.SENT: 16}
    calls = [c for c in slack.calls if c.method in ("chat.postMessage", "conversations.open")]
    assert len(calls) == 20 and all(c.peer is not None for c in calls)
    assert len({c.peer for c in calls}) <= FAST.concurrency


async def test_server_errors_are_retried_with_backoff_and_counted(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, "p", "CSALES")])
    await session.commit()
    slack.fail("chat.postMessage", status=500, times=2)
    assert await make_sender().deliver(["p"]) == {OutboxStatus.SENT: 1}
    row = (await stored(db))["p"]
    assert row.attempts == 2 and row.not_before > NOW  # backed off twice, then sent
    assert len(slack.messages_in("CSALES")) == 1


async def test_rate_limits_wait_and_are_not_failures(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, "p", "CSALES")])
    await session.commit()
    slack.fail("chat.postMessage", status=429, retry_after=1, times=6)  # more 429s than max attempts
    sender = make_sender()
    assert await sender.deliver(["p"]) == {OutboxStatus.SENT: 1}
    assert (await stored(db))["p"].attempts == 0
    calls = slack.calls_to("chat.postMessage")
    assert len(calls) == 7
    # Each Retry-After second was waited out before the next request (in virtual time).
    times = [sender.vt.at(c.at) for c in calls]
    assert all(b - a >= 1 for a, b in zip(times, times[1:])), times


async def test_a_timeout_after_sending_is_held_as_unknown(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, "slow", "CSALES")])
    await session.commit()
    slack.delay("chat.postMessage", 1.2)  # longer than the 1 s request timeout
    sender = make_sender()
    assert await sender.deliver(["slow"]) == {OutboxStatus.UNKNOWN: 1}
    row = (await stored(db))["slow"]
    assert "after the request was sent" in row.last_error
    slack.delay("chat.postMessage", 0)
    assert await sender.deliver(["slow"]) == {OutboxStatus.UNKNOWN: 1}  # never resent blindly
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_after_max_attempts_a_post_is_dead_and_admins_are_told_once(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, "doomed", "UREP2")])
    await session.commit()
    slack.fail("chat.postMessage", status=500, times=3)
    sender = make_sender(SenderConfig(**{**FAST.__dict__, "max_attempts": 3}))
    assert await sender.deliver(["doomed"]) == {OutboxStatus.DEAD: 1}
    rows = await stored(db)
    assert rows["doomed"].attempts == 3 and "500" in rows["doomed"].last_error
    notice_key = f"{NOTICE_JOB}:{rows['doomed'].id}:UADM"
    assert set(rows) == {"doomed", notice_key}
    assert await sender.deliver([notice_key]) == {OutboxStatus.SENT: 1}
    (notice,) = slack.messages_in(slack.dm_channel("UADM"))
    assert "could not be delivered" in notice["blocks"][0]["text"]["text"] and "<@UREP2>" in notice["blocks"][0]["text"]["text"]
    # Draining again tells nobody twice.
    await sender.drain_once()
    assert len(slack.messages_in(slack.dm_channel("UADM"))) == 1
    assert slack.messages_in(slack.dm_channel("UREP2")) == []
    assert slack.rejected_calls() == []


async def test_a_refused_post_is_dead_at_once(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, "nowhere", "CGONE")])
    await session.commit()
    assert await make_sender().deliver(["nowhere"]) == {OutboxStatus.DEAD: 1}
    row = (await stored(db))["nowhere"]
    assert row.attempts == 1 and row.last_error == "channel_not_found"


async def test_a_post_whose_window_passed_is_skipped_not_sent(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, "late", "CSALES", expires_at=NOW - timedelta(seconds=1))])
    await session.commit()
    assert await make_sender().deliver(["late"]) == {OutboxStatus.SKIPPED: 1}
    assert slack.calls_to("chat.postMessage") == []


async def test_stopping_hands_back_rows_not_started(db, session, slack, world, make_sender):
    ws, _ = world
    await enqueue(session, [post(ws.id, f"s{i}", "CSALES") for i in range(3)])
    await session.commit()
    # One post per 10 s in that channel: the second and third wait for budget when stop comes.
    # Real time here: a virtual wait would be over before the test got to say stop.
    sender = make_sender(SenderConfig(**{**FAST.__dict__, "per_channel_per_sec": 0.1}), real_time=True)
    import asyncio

    task = asyncio.create_task(sender.run())
    await slack.wait_for("chat.postMessage")
    sender.stop()
    await asyncio.wait_for(task, 15)
    rows = await stored(db)
    assert sorted(r.status.value for r in rows.values()) == ["pending", "pending", "sent"]


async def test_jobs_run_exits_1_when_a_post_is_dead_and_tells_the_admins(db, session, slack, world):
    import io

    from bot.deps import Deps
    from jobs.runner import run_job

    ws, _ = world

    async def compose(deps, session, *, now):
        """Two posts: one to a rep, one to a channel that does not exist."""
        return [post(ws.id, "ok", "UREP"), post(ws.id, "gone", "CGONE")]

    settings = load_settings(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
    out = io.StringIO()
    code = await run_job(Deps(settings=settings, db=db), "pair", at=NOW, jobs={"pair": compose}, config=FAST, out=out)
    assert code == 1
    assert "2 posts (2 new): 1 sent, 1 dead" in out.getvalue()
    (notice,) = slack.messages_in(slack.dm_channel("UADM"))
    assert "<#CGONE>" in notice["blocks"][0]["text"]["text"]
    assert slack.rejected_calls() == [c for c in slack.calls if c.error == "channel_not_found"]
