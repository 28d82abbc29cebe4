"""Only a survey's recipient answers it, and only once it was sent and until it expires: a signed
click forged by anyone else (a value for a survey never sent, a click from another channel) is
refused and recorded nowhere."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from bot.blocks import ids
from bot.blocks.surveys import SurveyRef
from bot.models import Customer, Member, SalesTeam, Survey, Workspace
from bot.services import surveys as svc
from bot.slackapi import make_client
from bot.standin import SlackDriver
from jobs import surveys as job
from tests.scenario.conftest import OUTSIDER, REP1, REP2, TEAM, settle
from tests.scenario.helpers import click, dm_cards, east_team, shown_text

CUSTOMER, GUEST, SHARED = "UCUST", "UGUEST", "CSHARED"


async def schedule(deps, *, name: str, user: str | None = None, channel: str | None = None) -> int:
    """A won deal's survey for a customer of REP1, reached by DM (`user`) or in a shared channel."""
    async with deps.db.session() as s:
        ws = (await s.execute(select(Workspace))).scalar_one()
        rep = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        c = Customer(workspace_id=ws.id, name=name, contact_user_id=user, contact_channel_id=channel)
        s.add(c)
        await s.flush()
        survey = await svc.schedule_survey(s, workspace_id=ws.id, customer=c, rep_id=rep.id, team=await s.get(SalesTeam, rep.team_id), source="deal", source_id=c.id, now=deps.clock())
        return survey.id


async def deliver(deps, clock) -> None:
    """Post the due surveys through the bot's client, as the outbox sender would."""
    async with deps.db.session() as s:
        posts = await job.compose(deps, s, now=clock.now)
    client = make_client(deps.settings)
    for post in posts:
        await client.chat_postMessage(channel=post.channel, text=post.text, blocks=post.blocks)


async def score_of(deps, survey_id: int) -> int | None:
    async with deps.db.session() as s:
        return (await s.get(Survey, survey_id)).score


async def forged_score(driver: SlackDriver, survey_id: int, *, user: str, channel: str, score: int = 5) -> dict[str, Any]:
    """A correctly signed score click that no survey message carried, as if sent from `channel`; returns the bot's reply to it."""
    slack = driver.slack
    member = slack.ensure_user(user)
    slack.ensure_channel(channel)
    response_url = slack.new_response_url(channel=channel, user=user, ephemeral_id=None)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": member["name"], "name": member["name"], "team_id": slack.team_id},
        "api_app_id": slack.api_app_id,
        "team": {"id": slack.team_id, "domain": slack.team_domain},
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "forged"},
        "actions": [{
            "type": "button", "action_id": ids.SURVEY_SCORES[score - 1], "block_id": "survey",
            "text": {"type": "plain_text", "text": str(score)}, "value": SurveyRef(TEAM, survey_id, score).encode(), "action_ts": "1.0",
        }],
        "response_url": response_url,
        "trigger_id": slack.new_trigger_id(user=user),
        "state": {"values": {}},
    }
    body = urlencode({"payload": json.dumps(payload)})
    reply = await driver.send_raw(body, driver.signed_headers(body))
    assert reply.status == 200, reply
    [response] = await slack.wait_for_responses(response_url, count=1)
    await settle()
    return response


async def test_nobody_answers_a_survey_that_was_never_sent(driver, slack, deps, clock):
    slack.add_user(CUSTOMER, name="Cara Customer", tz="Asia/Shanghai", locale="en-US")
    await east_team(driver)
    survey_id = await schedule(deps, name="Acme", user=CUSTOMER)
    for user in (OUTSIDER, CUSTOMER):  # a member off the roster, and even the customer, before it is sent
        refused = await forged_score(driver, survey_id, user=user, channel=slack.dm_channel(user))
        assert "This survey no longer exists." in shown_text(refused["blocks"])
    assert await score_of(deps, survey_id) is None
    assert dm_cards(slack, REP1) == [], "the rep was told nothing"
    assert await forged_score(driver, 10**30, user=OUTSIDER, channel=slack.dm_channel(OUTSIDER)), "a 30-digit id is refused too"


async def test_only_the_contact_answers_a_survey_sent_by_dm(driver, slack, deps, clock):
    slack.add_user(CUSTOMER, name="Cara Customer", tz="Asia/Shanghai", locale="en-US")
    await east_team(driver)
    survey_id = await schedule(deps, name="Acme", user=CUSTOMER)
    clock.advance(days=3, hours=1)
    await deliver(deps, clock)
    [message] = dm_cards(slack, CUSTOMER)

    refused = await forged_score(driver, survey_id, user=OUTSIDER, channel=message["channel"], score=1)
    assert "only they (or the rep recording their answer) can answer it" in shown_text(refused["blocks"])
    refused = await forged_score(driver, survey_id, user=REP1, channel=message["channel"], score=5)
    assert "only they" in shown_text(refused["blocks"]), "the rep cannot answer for a customer who can answer"
    assert await score_of(deps, survey_id) is None
    assert dm_cards(slack, REP1) == []

    await click(driver, message, ids.SURVEY_SCORES[3], user=CUSTOMER)
    assert await score_of(deps, survey_id) == 4
    assert len(dm_cards(slack, REP1)) == 1, "the rep hears of the real answer"


async def test_in_a_shared_channel_only_its_members_answer_from_it(driver, slack, deps, clock):
    slack.add_channel(SHARED, name="acme-shared", members=[GUEST, REP2])
    slack.add_user(GUEST, name="Gus Guest", tz="UTC", locale="en-US")
    await east_team(driver)
    survey_id = await schedule(deps, name="Acme", channel=SHARED)
    clock.advance(days=3, hours=1)
    await deliver(deps, clock)
    [message] = [m for m in slack.messages_in(SHARED) if not m["ephemeral"]]

    refused = await forged_score(driver, survey_id, user=OUTSIDER, channel="C0GENERAL", score=1)
    assert "only they" in shown_text(refused["blocks"])
    refused = await forged_score(driver, survey_id, user=OUTSIDER, channel=SHARED, score=1)
    assert "only they" in shown_text(refused["blocks"]), "a click claiming the channel, from someone not in it"
    refused = await forged_score(driver, survey_id, user=REP2, channel=SHARED, score=5)
    assert "only they" in shown_text(refused["blocks"]), "the team's own people are not the customer"
    assert await score_of(deps, survey_id) is None

    await click(driver, message, ids.SURVEY_SCORES[4], user=GUEST)
    assert await score_of(deps, survey_id) == 5

    # The comment modal opened from the channel saves the guest's comment.
    await click(driver, slack.find_message(message["id"]), ids.SURVEY_COMMENT, user=GUEST)
    [opened] = slack.calls_to("views.open")
    saved = await driver.submit_view(opened.response["view"]["id"], user=GUEST, values={ids.SURVEY_COMMENT_TEXT: "Quick and kind"})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    async with deps.db.session() as s:
        assert (await s.get(Survey, survey_id)).comment == "Quick and kind"
