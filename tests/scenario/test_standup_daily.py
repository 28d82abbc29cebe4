"""The daily standup: check-ins each working morning (team time), the short report in the channel at the standup time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.blocks import ids
from bot.models import SalesTeam
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import east_team, shown_text
from tests.scenario.test_standup import answer, checkins, run_clocks

# Tuesday 17 March 2026 in Shanghai: 08:31 (the team's morning) and 10:01 (the report).
MORNING = datetime(2026, 3, 17, 0, 31, tzinfo=timezone.utc)
REPORT = datetime(2026, 3, 17, 2, 1, tzinfo=timezone.utc)


async def test_daily_checkins_and_report_thread(driver, slack, db, deps, clock):
    await east_team(driver)
    slack.add_channel("C0SALES", name="sales")
    reply = await driver.slash("/salesbot", "config", user=MANAGER)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    bad = await driver.submit_view(call.response["view"]["id"], user=MANAGER, values={ids.CONFIG_STANDUP: ["daily"], ids.CONFIG_STANDUP_DAILY_TIME: "25:00"})
    assert bad.body["response_action"] == "errors" and set(bad.body["errors"]) == {ids.CONFIG_STANDUP_DAILY_TIME}
    async with db.sessionmaker() as s:
        assert not (await s.execute(select(SalesTeam.standup_daily).where(SalesTeam.name == "East"))).scalar_one(), "nothing saved"
    saved = await driver.submit_view(call.response["view"]["id"], user=MANAGER, values={
        ids.CONFIG_CHANNEL: "C0SALES", ids.CONFIG_TIMEZONE: "Asia/Shanghai", ids.CONFIG_STANDUP: ["daily"],
        ids.CONFIG_STANDUP_DAILY_TIME: "10:00", f"{ids.CONFIG_STANDUP_Q_PREFIX}0": "What did you do yesterday?",
    })
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    async with db.sessionmaker() as s:
        team = (await s.execute(select(SalesTeam).where(SalesTeam.name == "East"))).scalar_one()
    assert (team.standup_enabled, team.standup_daily, team.standup_daily_time) == (False, True, "10:00")

    await run_clocks(deps, db, clock, MORNING)
    assert [len(checkins(slack, u)) for u in (REP1, REP2, REP_ZH)] == [1, 1, 1]
    view = await answer(driver, slack, checkins(slack, REP1)[0], REP1, {
        f"{ids.STANDUP_Q_PREFIX}0": "Visited Beida", f"{ids.STANDUP_Q_PREFIX}2": "Need a demo unit",
    })
    assert view["blocks"][1]["label"]["text"] == "What did you do yesterday?"  # the manager's own text

    await run_clocks(deps, db, clock, REPORT)
    await run_clocks(deps, db, clock, REPORT + timedelta(minutes=3))
    [top] = [m for m in slack.messages_in("C0SALES") if not m.get("thread_ts")]
    text = shown_text(top["blocks"])
    assert "Daily standup" in text and "1 of 3 reps answered" in text and "Need a demo unit" in text
    assert f"<@{REP2}>" in text and f"<@{REP_ZH}>" in text  # not answered
    [thread] = [m for m in slack.messages_in("C0SALES") if m.get("thread_ts") == top["ts"]]
    assert "Visited Beida" in shown_text(thread["blocks"])
    # Answers closed with the report.
    await driver.click(checkins(slack, REP1)[0], ids.STANDUP_ANSWER, user=REP1)
    await settle()
    assert "closed" in shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])
