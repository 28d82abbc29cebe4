"""The outbox on a real database: enqueue once per key, atomic claims, expiry, crash recovery, dead-post notices."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.deps import Deps
from bot.i18n import I18n
from bot.models import OutboxMessage, OutboxStatus, Role
from bot.settings import load_settings
from jobs.base import Post
from bot.services.outbox import file_digest, resolve_files
from jobs.outbox import NOTICE_JOB, Sender, SenderConfig, decode_payload, dead_notices, enqueue, notice_recipients, status_counts
from jobs.registry import UnknownJob, get_job, job_names, load_jobs
from jobs.runner import parse_at, render_post, run_job
from tests.unit.factories import member, team, workspace

NOW = datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)
FAST = SenderConfig(lease_seconds=5, request_timeout=2, backoff_base=0.01)


def post(ws_id: int, key: str, *, channel: str = "C1", not_before: datetime = NOW, expires_at: datetime | None = None, files=()) -> Post:
    return Post(
        workspace_id=ws_id, key=key, job="test", channel=channel, text=f"text {key}",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"*{key}*"}}],
        not_before=not_before, expires_at=expires_at, files=list(files),
    )


def sender(db, *, clock=lambda: NOW, name: str = "test", config: SenderConfig = FAST) -> Sender:
    # No request is made in these tests: the client is never used.
    return Sender(db, client=None, config=config, clock=clock, name=name)  # type: ignore[arg-type]


async def rows(db) -> dict[str, OutboxMessage]:
    async with db.sessionmaker() as s:
        return {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars()}


async def test_enqueue_inserts_each_key_once(db, session):
    ws = await workspace(session)
    files = [{"filename": "chart.png", "title": "Chart", "content": b"\x89PNG\x00\xff"}]
    first = [post(ws.id, "a", files=files), post(ws.id, "b"), post(ws.id, "a")]
    assert await enqueue(session, first) == 2
    await session.commit()
    # A second tick, or a second clock process, composes the same keys: nothing new.
    assert await enqueue(session, [post(ws.id, "b"), post(ws.id, "c")]) == 1
    await session.commit()
    stored = await rows(db)
    assert sorted(stored) == ["a", "b", "c"]
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 0 for r in stored.values())
    payload = decode_payload(stored["a"].payload)
    assert payload["text"] == "text a" and payload["blocks"][0]["text"]["text"] == "*a*"
    # The chart is stored once, outside the row; the payload names it by digest and the sender resolves it.
    assert payload["files"] == [{"filename": "chart.png", "title": "Chart", "blob": file_digest(b"\x89PNG\x00\xff")}]
    assert "content" not in stored["a"].payload
    resolved = await resolve_files(session, workspace_id=ws.id, files=payload["files"])
    assert resolved == [{"filename": "chart.png", "title": "Chart", "blob": file_digest(b"\x89PNG\x00\xff"), "content": b"\x89PNG\x00\xff"}]
    assert await status_counts(session, ["a", "b", "c", "zzz"]) == {OutboxStatus.PENDING: 3}


async def test_enqueue_nothing(session):
    assert await enqueue(session, []) == 0


async def test_claims_are_atomic_and_disjoint(db, session):
    ws = await workspace(session)
    await enqueue(session, [post(ws.id, f"k{i:02d}") for i in range(30)] + [post(ws.id, "later", not_before=NOW + timedelta(hours=1))])
    await session.commit()
    one, two, three = sender(db, name="one"), sender(db, name="two"), sender(db, name="three")
    claimed = await asyncio.gather(one.claim(limit=12), two.claim(limit=12), three.claim(limit=12))
    keys = [r.key for batch in claimed for r in batch]
    assert len(keys) == len(set(keys)) == 30  # every due row once, the future one not at all
    assert "later" not in keys
    stored = await rows(db)
    for batch, s in zip(claimed, (one, two, three)):
        for r in batch:
            assert stored[r.key].status == OutboxStatus.SENDING
            assert stored[r.key].claimed_by.startswith(s.name) and stored[r.key].claimed_at is not None
            assert stored[r.key].sending_started_at is None
    assert await one.claim(limit=12) == []


async def test_claim_can_be_limited_to_keys(db, session):
    ws = await workspace(session)
    await enqueue(session, [post(ws.id, "mine"), post(ws.id, "other")])
    await session.commit()
    assert [r.key for r in await sender(db).claim(limit=10, keys=["mine"])] == ["mine"]


async def test_rows_past_their_window_are_skipped(db, session, caplog):
    ws = await workspace(session)
    await enqueue(session, [post(ws.id, "stale", not_before=NOW - timedelta(hours=3), expires_at=NOW - timedelta(minutes=1)), post(ws.id, "fresh", expires_at=NOW + timedelta(hours=1))])
    await session.commit()
    s = sender(db)
    assert await s.skip_expired() == 1
    assert "stale" in caplog.text and "past their window" in caplog.text
    stored = await rows(db)
    assert stored["stale"].status == OutboxStatus.SKIPPED and stored["fresh"].status == OutboxStatus.PENDING
    assert [r.key for r in await s.claim(limit=10)] == ["fresh"]


async def test_a_dead_process_rows_are_recovered_by_what_is_known(db, session):
    """Claimed but never sent → pending again; request started → unknown, never resent blindly."""
    ws = await workspace(session)
    await enqueue(session, [post(ws.id, "claimed"), post(ws.id, "in-flight"), post(ws.id, "fresh-claim")])
    await session.commit()
    dead = sender(db, name="dead")
    await dead.claim(limit=3)
    long_ago = datetime.now(timezone.utc) - timedelta(seconds=60)
    async with db.sessionmaker() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.key.in_(["claimed", "in-flight"])).values(claimed_at=long_ago))
        await s.execute(update(OutboxMessage).where(OutboxMessage.key == "in-flight").values(sending_started_at=long_ago))
        await s.commit()
    assert await sender(db, name="new").recover_stale() == 2
    stored = await rows(db)
    assert stored["claimed"].status == OutboxStatus.PENDING and stored["claimed"].claimed_by is None
    assert stored["in-flight"].status == OutboxStatus.UNKNOWN
    assert "may exist" in stored["in-flight"].last_error
    assert stored["fresh-claim"].status == OutboxStatus.SENDING  # its lease still runs: not judged


async def test_dead_notice_goes_to_admins_in_their_language(db, session):
    ws = await workspace(session)
    east = await team(session, ws, "East")
    await member(session, ws, "UADM", is_slack_admin=True)
    zh = await member(session, ws, "UADMZH", is_slack_admin=True)
    zh.locale = "zh-CN"
    await member(session, ws, "UMGR", role=Role.MANAGER, team=east)
    await member(session, ws, "UREP", role=Role.REP, team=east)
    await session.flush()
    who = await notice_recipients(session, workspace_id=ws.id, channel="UREP", admins=frozenset({"UENV"}))
    assert who == [("UADM", "en-US"), ("UADMZH", "zh-CN"), ("UENV", "en-US")]
    row = OutboxMessage(id=7, workspace_id=ws.id, key="daily:1:UREP:2027-03-01", job="daily", channel="UREP", payload="{}")
    posts = await dead_notices(session, row=row, attempts=5, error="internal_error <x>", i18n=I18n(), admins=frozenset(), now=NOW)
    assert [(p.channel, p.key, p.job) for p in posts] == [("UADM", f"{NOTICE_JOB}:7:UADM", NOTICE_JOB), ("UADMZH", f"{NOTICE_JOB}:7:UADMZH", NOTICE_JOB)]
    en, zh_post = (p.blocks[0]["text"]["text"] for p in posts)
    assert "could not be delivered" in en and "<@UREP>" in en and "internal_error &lt;x&gt;" in en
    assert "未能发送" in zh_post and "5" in zh_post


async def test_without_admins_the_team_managers_are_told(db, session):
    ws = await workspace(session)
    east, west = await team(session, ws, "East"), await team(session, ws, "West")
    await member(session, ws, "UMGRE", role=Role.MANAGER, team=east)
    await member(session, ws, "UMGRW", role=Role.MANAGER, team=west)
    await member(session, ws, "UREP", role=Role.REP, team=east)
    west.digest_channel_id = "CWEST"
    session.add(west)
    await session.flush()
    assert await notice_recipients(session, workspace_id=ws.id, channel="UREP", admins=frozenset()) == [("UMGRE", "en-US")]
    assert await notice_recipients(session, workspace_id=ws.id, channel="CWEST", admins=frozenset()) == [("UMGRW", "en-US")]
    # A post for no known team: every manager hears of it.
    assert [u for u, _ in await notice_recipients(session, workspace_id=ws.id, channel="CNONE", admins=frozenset())] == ["UMGRE", "UMGRW"]


def test_sender_config_from_env():
    cfg = SenderConfig.from_env({"SALESBOT_SEND_PER_MIN": "120", "SALESBOT_SEND_MAX_ATTEMPTS": "3", "SALESBOT_SEND_BACKOFF": "0.5"})
    assert (cfg.workspace_per_min, cfg.max_attempts, cfg.backoff_base, cfg.per_channel_per_sec) == (120.0, 3, 0.5, 1.0)
    with pytest.raises(ValueError):
        SenderConfig.from_env({"SALESBOT_SEND_PER_MIN": "lots"})
    with pytest.raises(ValueError):
        SenderConfig(lease_seconds=10, request_timeout=30)


def test_registry_lists_names_of_unknown_jobs():
    extra = "tests.scenario.delivery_jobs"
    assert list(load_jobs(["test.fanout"], extra)) == ["test.fanout"]  # only the named job is imported
    assert "test.fanout" in job_names(extra)
    with pytest.raises(UnknownJob, match="unknown job 'nope'; jobs: .*test.fanout"):
        get_job("nope", extra)


def test_parse_at_needs_an_offset():
    assert parse_at("2027-03-01T08:30+08:00") == datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)
    assert parse_at("2027-03-01T00:30Z") == datetime(2027, 3, 1, 0, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="offset"):
        parse_at("2027-03-01T08:30")
    with pytest.raises(ValueError, match="ISO"):
        parse_at("tomorrow")


def test_render_post_is_readable():
    text = render_post(post(1, "daily:1:U1:2027-03-01", channel="U1", expires_at=NOW + timedelta(hours=1), files=[{"filename": "a.png", "title": "A", "content": b"12"}]))
    assert text.splitlines()[0].startswith("── daily:1:U1:2027-03-01 → U1 (not before 2027-03-01T00:30:00+00:00, expires")
    assert "daily:1:U1:2027-03-01" in text and "[file in thread: a.png “A”, 2 bytes]" in text


async def test_jobs_run_dry_run_prints_and_sends_nothing(db, session):
    ws = await workspace(session)
    crew = await team(session, ws, "Fanout")
    for uid in ("UF1", "UF2"):
        await member(session, ws, uid, role=Role.REP, team=crew)
    await session.commit()
    deps = Deps(settings=load_settings(SLACK_BOT_TOKEN="xoxb-x", DATABASE_URL=db.url), db=db)
    out = io.StringIO()
    code = await run_job(deps, "test.fanout", at=parse_at("2027-03-01T08:30+08:00"), dry_run=True, jobs=load_jobs(["test.fanout"], "tests.scenario.delivery_jobs"), out=out)
    assert code == 0
    printed = out.getvalue()
    assert "test.fanout:1:UF1:2027-03-01 → UF1" in printed and "Good morning, UF2" in printed
    assert "2 posts (dry run, nothing sent)" in printed
    assert await rows(db) == {}


async def test_an_operator_settles_unknown_and_dead_posts(db, tmp_path, salesbot_cli):
    """`salesbot outbox list` shows what needs review; `mark` settles it as sent or sends it again."""
    from sqlalchemy import select

    from bot.models import OutboxMessage, OutboxStatus, Workspace, utcnow

    async with db.session() as s:
        ws = Workspace(slack_team_id="TOPS", name="Ops")
        s.add(ws)
        await s.flush()
        for key, status in (("daily:a", OutboxStatus.UNKNOWN), ("daily:b", OutboxStatus.DEAD), ("daily:c", OutboxStatus.SENT)):
            s.add(OutboxMessage(workspace_id=ws.id, key=key, job="daily", channel="U1", payload="{}", status=status,
                                attempts=3, not_before=utcnow(), last_error="boom" if status == OutboxStatus.DEAD else None))

    def salesbot(*args):
        """`salesbot outbox ARGS`, run in this process (in a thread: the command runs its own event loop)."""
        return asyncio.to_thread(salesbot_cli, "outbox", *args, env={"DATABASE_URL": db.url}, cwd=tmp_path)

    listed = await salesbot("list")
    assert listed.returncode == 0 and "unknown  daily:a" in listed.stdout and "dead     daily:b" in listed.stdout
    assert "daily:c" not in listed.stdout and "2 post(s) to review" in listed.stdout
    assert (await salesbot("mark", "daily:a", "sent")).returncode == 0
    assert (await salesbot("mark", "daily:b", "pending")).returncode == 0
    refused = await salesbot("mark", "daily:c", "pending")  # a sent post is never resent by hand
    assert refused.returncode == 2 and "no unknown or dead post" in refused.stderr
    async with db.session() as s:
        rows = {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars()}
    assert rows["daily:a"].status == OutboxStatus.SENT
    assert rows["daily:b"].status == OutboxStatus.PENDING and rows["daily:b"].attempts == 0
    assert rows["daily:c"].status == OutboxStatus.SENT
