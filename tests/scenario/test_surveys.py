"""Surveys end to end: the composed post reaches the customer, clicks are signed, a second click
changes the score (never counts twice), the rep and managers are told, expiry is polite."""

from __future__ import annotations

from sqlalchemy import select

from bot.slackapi import make_client
from bot.models import Customer, Member, SalesTeam, Survey, SurveyStatus, Workspace
from bot.services import surveys as svc
from bot.blocks import ids
from jobs import surveys as job
from tests.scenario.conftest import MANAGER, REP1, settle
from tests.scenario.helpers import click, dm_cards, east_team, shown_text

CUSTOMER = "UCUST"


async def schedule(deps, *, contact: str | None, name: str) -> int:
    """A won deal's survey for a customer of REP1 (deals belong to another part of the bot)."""
    async with deps.db.session() as s:
        ws = (await s.execute(select(Workspace))).scalar_one()
        rep = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        team = await s.get(SalesTeam, rep.team_id)
        c = Customer(workspace_id=ws.id, name=name, contact_user_id=contact)
        s.add(c)
        await s.flush()
        survey = await svc.schedule_survey(s, workspace_id=ws.id, customer=c, rep_id=rep.id, team=team, source="deal", source_id=c.id, now=deps.clock())
        return survey.id


async def deliver(deps, clock) -> list:
    """Compose the surveys job and post each post through the bot's client, as the outbox sender would."""
    async with deps.db.session() as s:
        posts = await job.compose(deps, s, now=clock.now)
    client = make_client(deps.settings)
    for post in posts:
        await client.chat_postMessage(channel=post.channel, text=post.text, blocks=post.blocks)
    return posts


async def kpi_satisfaction(deps) -> tuple[int, int]:
    """(answered, satisfied) as the team's /kpi report counts them for March 2026."""
    from bot.services.actors import Actor
    from bot.services.analytics import kpi_report

    async with deps.db.session() as s:
        ws = (await s.execute(select(Workspace))).scalar_one()
        manager = (await s.execute(select(Member).where(Member.slack_user_id == MANAGER))).scalar_one()
        report = await kpi_report(s, actor=Actor(workspace=ws, member=manager, is_admin=False), now=deps.clock(), period_text="2026-03")
        return report.answered, report.satisfied


async def survey_row(deps, survey_id) -> Survey:
    async with deps.db.session() as s:
        return await s.get(Survey, survey_id)


async def test_customer_answers_twice_counts_once_and_kpi_moves(driver, slack, deps, clock):
    slack.add_user(CUSTOMER, name="Cara Customer", tz="Asia/Shanghai", locale="zh-CN")
    await east_team(driver)
    survey_id = await schedule(deps, contact=CUSTOMER, name="Acme <Labs>")
    assert await deliver(deps, clock) == [], "not before the delay"
    clock.advance(days=3, hours=1)
    [post] = await deliver(deps, clock)
    assert post.key == f"survey:{survey_id}" and post.channel == CUSTOMER
    [message] = dm_cards(slack, CUSTOMER)
    assert "您对我们满意吗" in shown_text(message["blocks"]), "in the customer's Slack language"

    await click(driver, message, ids.SURVEY_SCORES[4], user=CUSTOMER)
    await click(driver, message, ids.SURVEY_SCORES[4], user=CUSTOMER)
    row = await survey_row(deps, survey_id)
    assert (row.score, row.status) == (5, SurveyStatus.ANSWERED)
    assert await kpi_satisfaction(deps) == (1, 1)
    assert len(dm_cards(slack, REP1)) == 1, "the repeated click told the rep nothing new"
    assert "*5*" in shown_text(dm_cards(slack, REP1)[0]["blocks"])

    await click(driver, message, ids.SURVEY_SCORES[1], user=CUSTOMER)
    assert await kpi_satisfaction(deps) == (1, 0), "changed, not added"
    assert (await survey_row(deps, survey_id)).score == 2
    [alert] = dm_cards(slack, MANAGER)
    assert "Acme &lt;Labs&gt;" in shown_text(alert["blocks"]) and "*2*" in shown_text(alert["blocks"])
    current = slack.find_message(message["id"])
    assert "谢谢" in shown_text(current["blocks"])

    # The comment modal, opened from the survey the customer sees.
    await click(driver, current, ids.SURVEY_COMMENT, user=CUSTOMER)
    [opened] = slack.calls_to("views.open")
    submitted = await driver.submit_view(opened.response["view"]["id"], user=CUSTOMER, values={ids.SURVEY_COMMENT_TEXT: "Slow delivery <!here>"})
    assert submitted.status == 200 and not submitted.body
    await settle()
    assert (await survey_row(deps, survey_id)).comment == "Slow delivery <!here>"
    assert any("Slow delivery &lt;!here&gt;" in shown_text(m["blocks"]) for m in dm_cards(slack, REP1))

    # After 14 days the survey closes politely and the answer stays as it was.
    clock.advance(days=15)
    await click(driver, slack.find_message(message["id"]), ids.SURVEY_SCORES[0], user=CUSTOMER)
    assert (await survey_row(deps, survey_id)).score == 2
    closed = slack.find_message(message["id"])
    assert "已于" in shown_text(closed["blocks"]) and not [b for b in closed["blocks"] if b["type"] == "actions"]
    assert slack.rejected_calls() == []


async def test_customer_without_contact_gets_a_manual_survey_for_the_rep(driver, slack, deps, clock):
    await east_team(driver)
    survey_id = await schedule(deps, contact=None, name="Paper Co")
    clock.advance(days=4)
    [post] = await deliver(deps, clock)
    assert post.channel == REP1
    [message] = dm_cards(slack, REP1)
    assert "Paper Co" in shown_text(message["blocks"])
    await click(driver, message, ids.SURVEY_SCORES[3], user=REP1)
    row = await survey_row(deps, survey_id)
    assert (row.score, row.status) == (4, SurveyStatus.ANSWERED)
    assert len(dm_cards(slack, REP1)) == 1, "the rep recorded it: no notice to themselves"
    assert "Recorded" in shown_text(slack.find_message(message["id"])["blocks"])
    assert slack.rejected_calls() == []
