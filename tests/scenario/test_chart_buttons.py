"""The Chart buttons of `/kpi` and `/pipeline`: the report's pictures reach the asker's DM, with the asker's rights."""

from __future__ import annotations

from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2, settle
from tests.scenario.helpers import both_teams, forged_click, shown_text
from tests.scenario.test_export import uploaded
from tests.scenario.test_kpi import NOW, command, seed

PNG = b"\x89PNG\r\n\x1a\n"
DRAWING = 120.0  # seconds: drawing takes a moment, and far longer on a machine busy with other work


async def click(driver, source, action_id: str, *, user: str) -> None:
    """Click a Chart button and wait until the bot has drawn and sent the pictures (or refused)."""
    reply = await driver.click(source, action_id, user=user)
    assert reply.status == 200, reply
    await settle(DRAWING)


def _names(files: list[dict]) -> list[str]:
    return [f["filename"].rsplit("-", 1)[1] for f in files]


async def test_team_kpi_chart_sends_the_weekly_and_the_reps_pictures(driver, slack, db, clock):
    await both_teams(driver)
    await seed(db)
    clock.now = NOW
    await command(driver, slack, "/kpi", "", user=MANAGER)
    report = slack.ephemerals_for(MANAGER)[-1]
    await click(driver, report, ids.CHART_KPI, user=MANAGER)
    files = await slack.wait_until(lambda: uploaded(slack, MANAGER) or None, what="the KPI pictures in the manager's DM")
    assert _names(files) == ["weekly.png", "reps.png"]
    assert all(f["data"].startswith(PNG) and len(f["data"]) > 5_000 for f in files)
    assert files[0]["title"] == "Won per week, Q1 2027" and files[1]["title"] == "Attainment by rep, March 2027"
    assert "The chart is on its way to your direct messages." in shown_text(slack.ephemerals_for(MANAGER)[-1]["blocks"])
    assert slack.rejected_calls() == []


async def test_a_reps_kpi_chart_is_their_own_and_a_forged_click_on_anothers_draws_nothing(driver, slack, db, clock):
    await both_teams(driver)
    await seed(db)
    clock.now = NOW
    await command(driver, slack, "/kpi", "", user=REP1)
    await click(driver, slack.ephemerals_for(REP1)[-1], ids.CHART_KPI, user=REP1)
    [mine] = await slack.wait_until(lambda: uploaded(slack, REP1) or None, what="the rep's own picture")
    assert _names([mine]) == ["weekly.png"] and mine["filename"].startswith(f"kpi-") and REP1 in mine["filename"]

    await command(driver, slack, "/kpi", f"<@{REP2}>", user=MANAGER)
    await forged_click(driver, slack.ephemerals_for(MANAGER)[-1], ids.CHART_KPI, user=REP1)
    await settle(DRAWING)
    refusal = await slack.wait_until(
        lambda: next((m for m in slack.ephemerals_for(REP1) if "their own KPIs only" in shown_text(m["blocks"])), None),
        what="the refusal",
    )
    assert refusal and len(uploaded(slack, REP1)) == 1 and uploaded(slack, REP2) == []


async def test_pipeline_chart_sends_the_funnel_of_the_reports_period(driver, slack, db, clock):
    await both_teams(driver)
    await seed(db)
    clock.now = NOW
    await command(driver, slack, "/pipeline", "2027-Q1", user=MANAGER)
    await click(driver, slack.ephemerals_for(MANAGER)[-1], ids.CHART_PIPELINE, user=MANAGER)
    [funnel] = await slack.wait_until(lambda: uploaded(slack, MANAGER) or None, what="the funnel in the manager's DM")
    assert _names([funnel]) == ["funnel.png"] and "2027-Q1" in funnel["filename"] and funnel["data"].startswith(PNG)
    assert funnel["title"] == "Pipeline funnel, Q1 2027"
