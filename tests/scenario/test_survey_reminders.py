"""Survey reminders: a customer who has not answered gets one reminder after the team's days, before the survey closes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.blocks import ids
from bot.models import OutboxMessage, SalesTeam
from tests.scenario.conftest import REP1
from tests.scenario.helpers import click, dm_cards, east_team, shown_text
from tests.scenario.test_digest_post import run
from tests.scenario.test_surveys import schedule, survey_row

QUIET, ANSWERS = "UCUSTQ", "UCUSTA"


async def reminder_keys(deps) -> list[str]:
    async with deps.db.session() as s:
        return list((await s.execute(select(OutboxMessage.key).where(OutboxMessage.job == "survey_reminders"))).scalars())


async def test_one_reminder_to_the_customer_who_did_not_answer(driver, slack, deps, clock):
    slack.add_user(QUIET, name="Quiet Customer", tz="Asia/Shanghai", locale="zh-CN")
    slack.add_user(ANSWERS, name="Prompt Customer", tz="America/New_York", locale="en-US")
    await east_team(driver)
    quiet = await schedule(deps, contact=QUIET, name="Quiet Co")
    answers = await schedule(deps, contact=ANSWERS, name="Prompt Co")
    clock.advance(days=3, hours=1)
    await run(deps, "surveys", clock.now)
    [prompt] = dm_cards(slack, ANSWERS)
    await click(driver, prompt, ids.SURVEY_SCORES[3], user=ANSWERS)
    assert (await survey_row(deps, answers)).score == 4

    # Two days after the survey: too early (the team's default is three).
    await run(deps, "survey_reminders", clock.now + timedelta(days=2))
    assert await reminder_keys(deps) == []
    # Three days after, two clocks and a later tick: one reminder, to the one who did not answer, in their language.
    for hours in (1, 1, 30):
        await run(deps, "survey_reminders", clock.now + timedelta(days=3, hours=hours))
    assert await reminder_keys(deps) == [f"survey-reminder:{quiet}"]
    first, reminder = dm_cards(slack, QUIET)
    assert "温馨提醒" in shown_text(reminder["blocks"]) and len(dm_cards(slack, ANSWERS)) == 1
    await click(driver, reminder, ids.SURVEY_SCORES[4], user=QUIET)
    assert (await survey_row(deps, quiet)).score == 5, "the reminder's buttons answer the same survey"


async def test_no_reminder_when_the_team_turns_them_off_or_the_survey_has_closed(driver, slack, deps, clock):
    slack.add_user(QUIET, name="Quiet Customer", tz="Asia/Shanghai", locale="zh-CN")
    await east_team(driver)
    await schedule(deps, contact=QUIET, name="Quiet Co")
    clock.advance(days=3, hours=1)
    await run(deps, "surveys", clock.now)
    async with deps.db.session() as s:
        await s.execute(update(SalesTeam).where(SalesTeam.name == "East").values(survey_reminder_days=0))
    await run(deps, "survey_reminders", clock.now + timedelta(days=5))
    async with deps.db.session() as s:
        await s.execute(update(SalesTeam).where(SalesTeam.name == "East").values(survey_reminder_days=3))
    await run(deps, "survey_reminders", clock.now + timedelta(days=15))  # the survey closed after 14 days
    assert await reminder_keys(deps) == [] and len(dm_cards(slack, QUIET)) == 1
    assert REP1
