"""A task card Slack refuses at first is queued in the outbox and delivered once by the sender; the manager is told."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.models import Member, OutboxMessage, OutboxStatus
from bot.blocks.kit import section
from bot.settings import load_settings
from bot.surfaces import TASK_CARD_JOB, Delivery, send_dm
from jobs.outbox import Sender, SenderConfig, make_sender_client
from tests.scenario.conftest import BOT_TOKEN, MANAGER, REP1, REP2, settle
from tests.scenario.helpers import assign, dm_cards, east_team, shown_text, task_by_title

FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, backoff_base=0.05, poll_seconds=0.05)


async def members(db) -> list[Member]:
    async with db.sessionmaker() as s:
        return list((await s.execute(select(Member))).scalars())


def cards_for(slack, user: str, title: str) -> list[dict]:
    return [m for m in dm_cards(slack, user) if title in shown_text(m["blocks"])]


async def test_a_card_refused_with_500_is_retried_by_the_outbox_and_arrives_once(driver, slack, db):
    await east_team(driver)
    # The first chat.postMessage after the submission is REP1's card (the manager's confirmation goes
    # through the response_url); the client does not retry a 500, so the card fails once.
    slack.fail("chat.postMessage", status=500, times=1)
    reply = await assign(driver, slack, title="Call Acme back", assignees=[REP1, REP2])
    task = await task_by_title(db, "Call Acme back")

    assert [c.injected for c in slack.calls_to("chat.postMessage") if c.status == 500] == [True]
    assert cards_for(slack, REP1, "Call Acme back") == []
    assert len(cards_for(slack, REP2, "Call Acme back")) == 1  # the other assignee's card went at once
    [confirmation] = await reply.responses()
    text = shown_text(confirmation["blocks"])
    assert "Assigned" in text
    assert "Ray Rep's card could not be delivered yet; it will be retried." in text
    assert "Rita Rep" not in text

    async with db.sessionmaker() as s:
        [row] = (await s.execute(select(OutboxMessage))).scalars().all()
    rep1 = next(m for m in await members(db) if m.slack_user_id == REP1)
    assert row.key == f"task-card:{task.id}:{rep1.id}" and row.status == OutboxStatus.PENDING

    # The clock's sender delivers it; running it again (or queueing the same key again) sends nothing more.
    settings = load_settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
    sender = Sender(db, make_sender_client(settings, FAST), config=FAST, name="cards")
    assert await asyncio.wait_for(sender.deliver([row.key]), 30) == {OutboxStatus.SENT: 1}
    assert await asyncio.wait_for(sender.deliver([row.key]), 30) == {OutboxStatus.SENT: 1}
    [card] = cards_for(slack, REP1, "Call Acme back")
    assert len(cards_for(slack, REP2, "Call Acme back")) == 1
    assert any(b["type"] == "actions" for b in card["blocks"])  # the real card, buttons and all
    await settle()


async def test_cards_that_go_through_queue_nothing(driver, slack, db):
    await east_team(driver)
    reply = await assign(driver, slack, title="Visit Beta", assignees=[REP1])
    [confirmation] = await reply.responses()
    assert "could not be delivered" not in shown_text(confirmation["blocks"])
    assert len(cards_for(slack, REP1, "Visit Beta")) == 1
    async with db.sessionmaker() as s:
        assert (await s.execute(select(OutboxMessage))).scalars().all() == []


async def test_a_dm_whose_answer_never_came_is_held_for_review_not_sent_twice(driver, slack, db):
    """A timeout after the request left: the post may exist, so the outbox holds it as unknown and the sender leaves it."""
    await east_team(driver)
    slack.delay("chat.postMessage", 1.5)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=0.5)
    async with db.sessionmaker() as s:
        rep1 = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        outcome = await send_dm(client, s, member=rep1, key="task-card:999:1", job=TASK_CARD_JOB, text="A card", blocks=[section("A card")])
    assert outcome == Delivery.UNSURE
    slack.delay("chat.postMessage", 0)
    assert len(dm_cards(slack, REP1)) == 1  # Slack did post it; only the answer was lost
    settings = load_settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
    sender = Sender(db, make_sender_client(settings, FAST), config=FAST, name="cards")
    assert await asyncio.wait_for(sender.deliver(["task-card:999:1"]), 30) == {OutboxStatus.UNKNOWN: 1}
    assert len(dm_cards(slack, REP1)) == 1


async def test_a_dm_that_could_not_be_opened_is_queued_for_the_user_and_delivered_once(driver, slack, db):
    await east_team(driver)
    slack.fail("conversations.open", status=500, times=1)
    reply = await assign(driver, slack, title="Send samples", assignees=[REP1])
    [confirmation] = await reply.responses()
    assert "Ray Rep's card could not be delivered yet; it will be retried." in shown_text(confirmation["blocks"])
    async with db.sessionmaker() as s:
        [row] = (await s.execute(select(OutboxMessage))).scalars().all()
    assert row.channel == REP1 and row.status == OutboxStatus.PENDING  # the sender opens the DM itself
    settings = load_settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
    sender = Sender(db, make_sender_client(settings, FAST), config=FAST, name="cards")
    assert await asyncio.wait_for(sender.deliver([row.key]), 30) == {OutboxStatus.SENT: 1}
    assert len(cards_for(slack, REP1, "Send samples")) == 1
