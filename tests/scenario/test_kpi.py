"""/pipeline and /kpi through signed slash commands: figures against a hand computation, and who sees what."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from bot.models import Member, SalesTeam, Workspace
from tests.scenario.conftest import MANAGER, MANAGER_W, REP1, REP2, REP_W, settle
from tests.scenario.helpers import both_teams, shown_text
from tests.unit.test_analytics import NOW, Rows, kpi_data, pipeline_data


async def seed(db):
    """The rows of the unit tests' hand computation, for the East team the admin built (Shanghai time)."""
    async with db.session() as s:
        ws = (await s.execute(select(Workspace))).scalar_one()
        members = {m.slack_user_id: m for m in (await s.execute(select(Member))).scalars()}
        east = (await s.execute(select(SalesTeam).where(SalesTeam.name == "East"))).scalar_one()
        east.timezone = "Asia/Shanghai"
        members[REP1].tz = "Asia/Shanghai"
        s.add_all([east, members[REP1]])
        w = SimpleNamespace(ws=ws, east=east, rep1_m=members[REP1], rep2_m=members[REP2], rep_w_m=members[REP_W], rows=Rows(s, ws))
        await kpi_data(w)
        await pipeline_data(w)


async def command(driver, slack, name: str, text: str, *, user: str) -> str:
    """Run a slash command and return the text of the ephemeral reply it left."""
    before = len(slack.ephemerals_for(user))
    reply = await driver.slash(name, text, user=user)
    assert reply.status == 200, reply
    await reply.responses()
    await settle()
    shown = slack.ephemerals_for(user)
    assert len(shown) == before + 1
    return shown_text(shown[-1]["blocks"])


async def test_pipeline_and_kpis_match_the_hand_computation(driver, slack, db, clock):
    await both_teams(driver)
    await seed(db)
    clock.now = NOW  # 20 March 2027, noon in Shanghai

    pipeline = await command(driver, slack, "/pipeline", "2027-Q1", user=MANAGER)
    assert "Pipeline · East · Q1 2027" in pipeline
    assert "Open: 1 deal · ¥1,000" in pipeline  # proposal: deal A
    assert "Entered in period: 4 · converted: 2 (50.0%)" in pipeline  # lead: A, B moved on; D, E did not
    assert "Entered in period: 3 · converted: 2 (66.7%)" in pipeline  # first contact: A, C (won) of A, B, C
    assert "Average days in stage: 5.3" in pipeline  # lead stays 5 + 2 + 13 + 1 days / 4
    assert "New leads: 4" in pipeline and "Effective activities: 3" in pipeline and "Needs analysed: 1" in pipeline
    assert "Stale deals (no stage change for over 14 days): 3" in pipeline  # A, B and the open deal of kpi_data
    assert "*Big &lt;deal&gt;* · &lt;!channel&gt; &amp; Acme · <@UREP1>" in pipeline and "47 days in Proposal" in pipeline

    team = await command(driver, slack, "/kpi", "", user=MANAGER)
    assert "KPIs · team East · March 2027" in team
    assert "*Sales*: ¥1,900" in team  # 1,000 + 500 + 400 won in March, Shanghai time
    assert "*Growth rate*: 216.7% (previous period ¥600)" in team  # (1,900 − 600) / 600
    assert "*Customer satisfaction*: 66.7% (2 of 3 answers scored 4–5)" in team
    assert "*New customers*: 1" in team
    assert "*Sales cost*: ¥75 · cost / sales 3.9%" in team  # 75 / 1,900
    assert "*Task completion*: 50.0% (2 of 4 tasks due were done on time)" in team
    assert "target ¥1,500 · :white_check_mark: met" in team and ":x: missed" in team

    rep = await command(driver, slack, "/kpi", f"<@{REP1}|ray> 2027-03", user=MANAGER)
    assert "KPIs · Ray Rep · March 2027" in rep
    assert "*Sales*: ¥1,000" in rep and "*Growth rate*: 66.7%" in rep
    assert "*Customer satisfaction*: 100.0% (2 of 2" in rep and "*New customers*: 0" in rep
    assert "*Sales cost*: ¥50" in rep and "*Task completion*: 66.7% (2 of 3" in rep

    own = await command(driver, slack, "/kpi", "2027-03", user=REP2)
    assert "KPIs · Rita Rep · March 2027" in own and "*Sales*: ¥900" in own and "*New customers*: 1" in own
    assert slack.rejected_calls() == []


async def test_reps_and_other_teams_see_nothing_of_this_team(driver, slack, db, clock):
    await both_teams(driver)
    await seed(db)
    clock.now = NOW

    refused = await command(driver, slack, "/kpi", f"<@{REP1}>", user=REP2)
    assert "Reps see their own KPIs only" in refused and "Sales" not in refused

    for name, text in (("/kpi", f"<@{REP1}> 2027-03"), ("/kpi", "team:East"), ("/pipeline", "2027-Q1 team:East")):
        out = await command(driver, slack, name, text, user=MANAGER_W)
        assert out == "You can only see the figures of your own team.", out
    west = await command(driver, slack, "/pipeline", "2027-Q1", user=MANAGER_W)
    assert "Pipeline · West" in west and "Acme" not in west and "¥1,000" not in west

    bad = await command(driver, slack, "/kpi", "2027-13", user=MANAGER)
    assert "`2027-13` is not a period" in bad
    assert slack.rejected_calls() == []
