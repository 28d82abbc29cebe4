"""bot/services/webhooks and sync_runs: URLs, signatures, events emitted with the change (and rolled back with it)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.models import OutboxMessage, SyncError, SyncRunKind, SyncRunStatus
from bot.periods import parse_period
from bot.services import targets, tasks, webhooks
from bot.services.errors import PermissionDenied, ServiceError
from bot.services.outbox import decode_payload
from bot.services.sync_runs import RunError, recent_runs, record_run
from tests.unit.factories import World

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("url", ["https://crm.example.com/hook", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/x", "<https://crm.example.com/h|crm>"])
def test_urls_the_bot_may_call(url):
    assert webhooks.check_url(url).startswith(("https://", "http://"))


@pytest.mark.parametrize("url, key", [
    ("http://crm.example.com/hook", "sync.error.https_only"),
    ("http://10.0.0.8/hook", "sync.error.https_only"),
    ("ftp://crm.example.com/x", "sync.error.url"),
    ("crm.example.com", "sync.error.url"),
    ("https://user:pw@crm.example.com/x", "sync.error.url_credentials"),
    ("https://crm.example.com/" + "a" * 2001, "sync.error.url_too_long"),
])
def test_urls_the_bot_refuses(url, key):
    with pytest.raises(ServiceError) as refused:
        webhooks.check_url(url)
    assert refused.value.key == key


def test_the_signature_is_hmac_sha256_over_version_timestamp_and_body():
    body = b'{"id":"evt_1"}'
    expected = hmac.new(b"whsec_x", b"v1:1700000000:" + body, hashlib.sha256).hexdigest()
    assert webhooks.sign("whsec_x", 1700000000, body) == "v1=" + expected
    assert webhooks.sign("whsec_x", 1700000001, body) != webhooks.sign("whsec_x", 1700000000, body)


def test_event_names_are_checked_and_wildcards_expand():
    assert webhooks.parse_events([]) == []
    assert webhooks.parse_events(["deal.*", "task.done"]) == ["deal.created", "deal.stage_changed", "deal.won", "deal.lost", "task.done"]
    assert webhooks.parse_events(["all"]) == []
    with pytest.raises(ServiceError) as refused:
        webhooks.parse_events(["deal.exploded"])
    assert refused.value.key == "sync.error.event"


def test_a_huge_event_is_cut_to_its_ids():
    body = webhooks.event_body(event_id="evt_1", event="task.created", team_id="T1", created_at=NOW, data={"id": 7, "title": "x" * 300_000})
    assert len(body.encode()) <= webhooks.MAX_BODY
    assert json.loads(body) == {"id": "evt_1", "type": "task.created", "created_at": NOW.isoformat(), "workspace": "T1", "data": {"id": 7}, "truncated": True}


async def test_only_admins_register_and_each_endpoint_gets_its_own_secret(session):
    w = await World.build(session)
    with pytest.raises(PermissionDenied):
        await webhooks.add_endpoint(session, actor=w.mgr, url="https://a.example.com/h", events=[])
    one, secret_one = await webhooks.add_endpoint(session, actor=w.admin, url="https://a.example.com/h", events=[])
    two, secret_two = await webhooks.add_endpoint(session, actor=w.admin, url="https://b.example.com/h", events=["task.done"])
    assert secret_one != secret_two and secret_one.startswith("whsec_") and len(secret_one) > 40
    assert (one.events, two.events) == ("*", "task.done")
    with pytest.raises(ServiceError) as twice:
        await webhooks.add_endpoint(session, actor=w.admin, url="https://a.example.com/h", events=[])
    assert twice.value.key == "sync.error.webhook_exists"


async def webhook_rows(session) -> list[OutboxMessage]:
    return list((await session.execute(select(OutboxMessage).where(OutboxMessage.job == webhooks.JOB).order_by(OutboxMessage.id))).scalars())


async def test_task_events_go_to_the_endpoints_that_take_them_in_the_same_transaction(session):
    w = await World.build(session)
    everything, _ = await webhooks.add_endpoint(session, actor=w.admin, url="https://all.example.com/h", events=[])
    done_only, _ = await webhooks.add_endpoint(session, actor=w.admin, url="https://done.example.com/h", events=["task.done"])
    await session.commit()

    row = await w.task("Send the quote")
    rows = await webhook_rows(session)
    assert [r.channel for r in rows] == [f"webhook:{everything.id}"]
    event = json.loads(decode_payload(rows[0].payload)["text"])
    assert (event["type"], event["data"]["id"], event["data"]["title"], event["workspace"]) == ("task.created", row.task.id, "Send the quote", "T1")
    await session.commit()

    await tasks.complete_task(session, actor=w.rep1, task_id=row.task.id)
    done = [json.loads(decode_payload(r.payload)["text"]) for r in (await webhook_rows(session))[1:]]
    assert [e["type"] for e in done] == ["task.done", "task.done"] and done[0]["id"] == done[1]["id"]  # one event id for both endpoints
    # A second click changes nothing and emits nothing.
    await tasks.complete_task(session, actor=w.rep1, task_id=row.task.id)
    assert len(await webhook_rows(session)) == 3

    # A change rolled back takes its event with it.
    await session.commit()
    await w.task("Never saved")
    assert len(await webhook_rows(session)) == 4
    await session.rollback()
    assert len(await webhook_rows(session)) == 3


async def test_a_target_set_is_an_event_with_the_previous_amount(session):
    w = await World.build(session)
    await webhooks.add_endpoint(session, actor=w.admin, url="https://t.example.com/h", events=["target.set"])
    period = parse_period("2031")
    await targets.set_target(session, actor=w.mgr, period=period, amount=5_000_000)
    await targets.set_target(session, actor=w.mgr, period=period, amount=6_000_000)
    await targets.set_target(session, actor=w.mgr, period=period, amount=6_000_000)  # unchanged: no event
    events = [json.loads(decode_payload(r.payload)["text"]) for r in await webhook_rows(session)]
    assert [(e["data"]["amount"], e["data"]["previous_amount"], e["data"]["team"]) for e in events] == [(5_000_000, None, "East"), (6_000_000, 5_000_000, "East")]


async def test_no_endpoint_means_no_event_rows(session):
    w = await World.build(session)
    await w.task("Quiet")
    assert await webhook_rows(session) == []


async def test_a_run_keeps_its_counts_and_errors(session):
    w = await World.build(session)
    run = await record_run(
        session, workspace_id=w.ws.id, kind=SyncRunKind.API_BATCH, status=SyncRunStatus.FAILED, source="token crm", failed=2,
        errors=[RunError(3, "amount", "not an amount"), RunError(7, None, "x" * 900)],
    )
    await session.commit()
    [view] = await recent_runs(session, workspace_id=w.ws.id)
    assert view.run.id == run.id and view.error_count == 2
    assert [(e.line, e.field) for e in view.errors] == [(3, "amount"), (7, None)]
    assert len((await session.execute(select(SyncError).where(SyncError.line == 7))).scalar_one().message) == 500
    assert await recent_runs(session, workspace_id=w.ws.id + 1) == []
