"""Outgoing webhooks end to end: a deal won in Slack reaches a loopback receiver, signed, at least once."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from sqlalchemy import select

from bot.models import Deal, OutboxStatus, SyncError, SyncRun, SyncRunKind, SyncRunStatus, WebhookEndpoint
from jobs.webhooks import NOTICE_JOB
from tests.scenario.conftest import ADMIN, REP1, TEAM
from tests.scenario.helpers import both_teams, dm_cards, salesbot, shown_text
from tests.scenario.sync_helpers import Receiver, documented_verify, outbox_rows, sender_for, win_a_deal


@pytest.fixture
async def receiver():
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
def fast_retries(monkeypatch):
    """Retries due at once (the backoff's arithmetic is the same, only shorter)."""
    monkeypatch.setenv("SALESBOT_WEBHOOK_BACKOFF", "0.001")
    monkeypatch.setenv("SALESBOT_WEBHOOK_MAX_ATTEMPTS", "5")


async def register(driver, url: str, *events: str) -> str:
    """The admin registers a URL; returns the secret the reply showed."""
    response = await salesbot(driver, " ".join(["api webhook add", url, *events]), user=ADMIN)
    text = shown_text(response["blocks"])
    [secret] = re.findall(r"whsec_[A-Za-z0-9_-]+", text)
    return secret


async def runs(db) -> list[SyncRun]:
    async with db.session() as s:
        return list((await s.execute(select(SyncRun).order_by(SyncRun.id))).scalars())


async def test_a_deal_won_in_slack_reaches_the_receiver_once_with_a_signature_the_docs_verify(driver, slack, db, deps, receiver, fast_retries):
    await both_teams(driver)
    secret = await register(driver, receiver.url, "deal.won")
    async with db.session() as s:
        [endpoint] = (await s.execute(select(WebhookEndpoint))).scalars().all()
    assert endpoint.secret == secret and endpoint.events == "deal.won"

    await win_a_deal(driver, slack)
    [row] = await outbox_rows(db, "webhook")  # deal.created was not asked for: only the win is queued
    sender = sender_for(deps)
    counts = await sender.deliver([row.key])
    assert counts == {OutboxStatus.SENT: 1}

    [got] = receiver.got
    verify = documented_verify()
    assert verify(secret, got.headers, got.body)
    assert not verify("whsec_wrong", got.headers, got.body)
    assert not verify(secret, got.headers, got.body + b" ")
    event = json.loads(got.body)
    async with db.session() as s:
        deal = (await s.execute(select(Deal))).scalar_one()
    assert (event["type"], event["workspace"], event["data"]["id"], event["data"]["status"], event["data"]["amount"]) == ("deal.won", TEAM, deal.id, "won", 12_000_000)
    assert got.headers["X-Salesbot-Event-Id"] == event["id"] and got.headers["X-Salesbot-Event"] == "deal.won"

    # Nothing more arrives: the sender finds nothing left to send.
    assert await sender.drain_once() == 0
    assert len(receiver.got) == 1
    [run] = await runs(db)
    assert (run.kind, run.status, run.created, run.ref) == (SyncRunKind.WEBHOOK, SyncRunStatus.OK, 1, row.key)

    # The admin sees the run; a rep may not.
    shown = shown_text((await salesbot(driver, "sync", user=ADMIN))["blocks"])
    assert f"#{run.id}" in shown and "deal.won" in shown
    refused = await salesbot(driver, "sync", user=REP1)
    assert "Only workspace admins" in refused["text"]


async def test_a_receiver_that_fails_three_times_gets_the_event_exactly_once_more(driver, slack, db, deps, receiver, fast_retries):
    await both_teams(driver)
    await register(driver, receiver.url, "deal.*")
    receiver.statuses = [500, 503, 502]
    await win_a_deal(driver, slack)
    created, won = await outbox_rows(db, "webhook")
    # The receiver is down for the first event only: it fails three times, then arrives.
    assert await sender_for(deps).deliver([created.key]) == {OutboxStatus.SENT: 1}
    assert len(receiver.got) == 4
    bodies = [json.loads(d.body) for d in receiver.got]
    assert {b["type"] for b in bodies} == {"deal.created"} and len({d.body for d in receiver.got}) == 1
    assert {d.headers["X-Salesbot-Event-Id"] for d in receiver.got} == {bodies[0]["id"]}
    assert await sender_for(deps).deliver([won.key]) == {OutboxStatus.SENT: 1}
    assert len(receiver.got) == 5 and json.loads(receiver.got[-1].body)["type"] == "deal.won"
    created, won = await outbox_rows(db, "webhook")
    assert (created.status, created.attempts, won.status, won.attempts) == (OutboxStatus.SENT, 4, OutboxStatus.SENT, 1)
    # Nothing is left to send: the receiver got the first event exactly once more after its failures.
    assert await sender_for(deps).drain_once() == 0 and len(receiver.got) == 5


async def test_a_receiver_that_always_fails_makes_the_delivery_dead_and_the_admins_hear_once(driver, slack, db, deps, receiver, fast_retries, logged_errors, salesbot_cli, caplog):
    caplog.set_level(logging.INFO)  # the level production logs at
    logged_errors.allow("is dead after")
    await both_teams(driver)
    secret = await register(driver, receiver.url, "deal.won", "deal.lost")
    receiver.always = 500
    await win_a_deal(driver, slack, title="First")
    await win_a_deal(driver, slack, title="Second")
    rows = await outbox_rows(db, "webhook")
    assert len(rows) == 2
    sender = sender_for(deps)
    counts = await sender.deliver([r.key for r in rows])
    assert counts == {OutboxStatus.DEAD: 2}
    assert len(receiver.got) == 10  # five attempts each

    # One notice for the outage, not one per dead event; it reaches the admin's DM.
    notices = await outbox_rows(db, NOTICE_JOB)
    assert [n.channel for n in notices] == [ADMIN]
    await sender.deliver([n.key for n in notices])
    [dm] = dm_cards(slack, ADMIN)
    assert receiver.url in shown_text(dm["blocks"]) and "5 attempts" in shown_text(dm["blocks"])

    dead = [r for r in await runs(db) if r.status == SyncRunStatus.FAILED]
    assert len(dead) == 2
    async with db.session() as s:
        errors = (await s.execute(select(SyncError).where(SyncError.run_id == dead[0].id))).scalars().all()
    assert [e.message for e in errors] == ["HTTP 500"]
    shown = shown_text((await salesbot(driver, "sync", user=ADMIN))["blocks"])
    assert f"#{dead[0].id}" in shown and "HTTP 500" in shown

    # The operator sees it in the CLI and re-queues it: the same event goes out again once the receiver is back.
    listed = await asyncio.to_thread(salesbot_cli, "sync", "runs", "--workspace", TEAM, env={"DATABASE_URL": db.url})
    assert listed.returncode == 0 and f"#{dead[0].id}" in listed.stdout and "HTTP 500" in listed.stdout
    retried = await asyncio.to_thread(salesbot_cli, "sync", "retry", str(dead[0].id), env={"DATABASE_URL": db.url})
    assert retried.returncode == 0, retried.stderr
    receiver.always = None
    before = len(receiver.got)
    assert await sender.deliver([dead[0].ref]) == {OutboxStatus.SENT: 1}
    assert len(receiver.got) == before + 1 and json.loads(receiver.got[-1].body)["id"] == dead[0].ref.split(":")[1]
    assert secret not in caplog.text and "is dead after 5 attempts" in caplog.text


async def test_webhook_urls_must_be_https_except_on_loopback_and_secrets_are_not_listed(driver, slack, db):
    await both_teams(driver)
    refused = await salesbot(driver, "api webhook add http://crm.example.com/hook", user=ADMIN)
    assert "must use https" in refused["text"]
    wrong = await salesbot(driver, "api webhook add https://crm.example.com/hook deal.exploded", user=ADMIN)
    assert "no event `deal.exploded`" in wrong["text"]
    secret = await register(driver, "https://crm.example.com/hook")
    listing = await salesbot(driver, "api webhook list", user=ADMIN)
    assert "https://crm.example.com/hook" in shown_text(listing["blocks"]) and secret not in json.dumps(listing)
    rep = await salesbot(driver, "api webhook list", user=REP1)
    assert "Only workspace admins" in rep["text"]
    removed = await salesbot(driver, "api webhook remove https://crm.example.com/hook", user=ADMIN)
    assert "removed" in removed["text"]
    async with db.session() as s:
        assert (await s.execute(select(WebhookEndpoint))).first() is None


async def test_removing_a_url_drops_its_undelivered_events(driver, slack, db, deps, receiver):
    await both_teams(driver)
    await register(driver, receiver.url, "deal.won")
    await win_a_deal(driver, slack)
    await salesbot(driver, f"api webhook remove {receiver.url}", user=ADMIN)
    [row] = await outbox_rows(db, "webhook")
    assert await sender_for(deps).deliver([row.key]) == {OutboxStatus.SKIPPED: 1}
    assert receiver.got == []
