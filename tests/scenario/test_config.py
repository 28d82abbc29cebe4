"""`/salesbot config`: the modal marks a bad field and saves nothing; good values are saved and shown."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import SalesTeam
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1
from tests.scenario.helpers import east_team, salesbot, shown_text


async def east(db) -> SalesTeam:
    async with db.session() as s:
        return (await s.execute(select(SalesTeam).where(SalesTeam.name == "East"))).scalar_one()


async def open_config(driver, slack, user=MANAGER, text="config"):
    reply = await driver.slash("/salesbot", text, user=user)
    assert reply.status == 200
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    return call.response["view"]


async def test_config_modal_bad_time_then_good_values_then_show(driver, slack, db):
    await east_team(driver)
    view = await open_config(driver, slack)
    assert view["callback_id"] == ids.CONFIG_VIEW
    # The time-zone picker searches Slack-sized lists of IANA zones.
    suggested = await driver.suggest(view["id"], ids.CONFIG_TZ_SEARCH, "shang", user=MANAGER)
    assert "Asia/Shanghai" in [o["value"] for o in suggested.body["options"]]

    bad = await driver.submit_view(view["id"], user=MANAGER, values={ids.CONFIG_DAILY_TIME: "25:00", ids.CONFIG_GROWTH: "150"})
    assert bad.status == 200 and bad.body["response_action"] == "errors"
    assert set(bad.body["errors"]) == {ids.CONFIG_DAILY_TIME, ids.CONFIG_GROWTH}
    team = await east(db)
    assert (team.daily_time, team.growth_target_bp, team.timezone) == ("08:30", 1000, "Asia/Shanghai"), "nothing saved (the team took its first manager's zone)"

    good = await driver.submit_view(view["id"], user=MANAGER, values={
        ids.CONFIG_CHANNEL: "C0SALES", ids.CONFIG_DIGEST_DAY: "4", ids.CONFIG_DIGEST_TIME: "16:00", ids.CONFIG_DAILY_TIME: "07:45",
        ids.CONFIG_WORKING_DAYS: ["0", "1", "2", "3", "4", "5"], ids.CONFIG_TIMEZONE: "Asia/Shanghai",
        ids.CONFIG_SURVEY_DELAY: "5", ids.CONFIG_GROWTH: "12.5", ids.CONFIG_SATISFACTION: "92", ids.CONFIG_STALE_DAYS: "10",
    })
    assert good.status == 200 and not good.body, good.body
    team = await east(db)
    assert (team.digest_channel_id, team.digest_weekday, team.digest_time, team.daily_time, team.working_days, team.timezone,
            team.survey_delay_days, team.growth_target_bp, team.satisfaction_target_bp, team.stale_days) == (
        "C0SALES", 4, "16:00", "07:45", "0,1,2,3,4,5", "Asia/Shanghai", 5, 1250, 9200, 10)

    shown = shown_text((await salesbot(driver, "config show", user=MANAGER))["blocks"])
    for part in ("<#C0SALES>", "Friday at 16:00", "07:45", "Saturday", "Asia/Shanghai", "5 days", "12.5%", "92%", "10 days"):
        assert part in shown, part
    # Reopening shows what was saved.
    again = await open_config(driver, slack)
    tz_block = next(b for b in again["blocks"] if b.get("block_id") == ids.CONFIG_TIMEZONE)
    assert tz_block["element"]["initial_option"]["value"] == "Asia/Shanghai"
    assert slack.rejected_calls() == []


async def test_reps_cannot_configure_and_managers_only_their_team(driver, slack, db):
    await east_team(driver)
    refused = await salesbot(driver, "config", user=REP1)
    assert "Only admins" in refused["text"] or "Only admins" in shown_text(refused["blocks"])
    other = await salesbot(driver, "config show team:West", user=MANAGER)
    assert "no team named" in shown_text(other["blocks"])
    assert slack.calls_to("views.open") == []
    assert slack.rejected_calls() == []
