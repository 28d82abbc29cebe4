"""The weekly digest delivered through the outbox: to the channel with its chart in the thread, or to the managers."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.models import Customer, Deal, DealStatus, Member, SalesTeam, Stage
from jobs.outbox import SenderConfig
from jobs.registry import load_jobs
from jobs.runner import run_job
from tests.scenario.conftest import MANAGER, REP1, REP2
from tests.scenario.helpers import dm_cards, east_team, shown_text

FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)
# Monday 16 March 2026, 09:05 in Shanghai: the weekly digest of 2026-W11 is due.
MONDAY = datetime(2026, 3, 16, 1, 5, tzinfo=timezone.utc)


async def _team(db, channel: str | None) -> SalesTeam:
    async with db.sessionmaker() as s:
        team = (await s.execute(select(SalesTeam).where(SalesTeam.name == "East"))).scalar_one()
        await s.execute(update(SalesTeam).where(SalesTeam.id == team.id).values(timezone="Asia/Shanghai", digest_channel_id=channel))
        rep = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        cust = Customer(workspace_id=team.workspace_id, name="Huaxin <!here>")
        s.add(cust)
        await s.flush()
        s.add(Deal(workspace_id=team.workspace_id, team_id=team.id, customer_id=cust.id, owner_id=rep.id, title="Won <deal>", amount=1_234_500,
                   stage=Stage.NEGOTIATION, status=DealStatus.WON, won_at=datetime(2026, 3, 11, 6, 0, tzinfo=timezone.utc)))
        await s.commit()
        return team


async def run(deps, name: str, at: datetime, **kw) -> str:
    out = io.StringIO()
    code = await run_job(deps, name, at=at, jobs=load_jobs(extra=""), config=FAST, out=out, **kw)
    assert code == 0, out.getvalue()
    return out.getvalue()


async def test_weekly_digest_to_the_channel_with_the_chart_in_its_thread(driver, slack, db, deps):
    await east_team(driver)
    slack.add_channel("C0SALES", name="sales")
    team = await _team(db, "C0SALES")
    out = await run(deps, "weekly", MONDAY)
    assert "1 posts (1 new): 1 sent" in out
    [message] = [m for m in slack.messages_in("C0SALES") if not m.get("thread_ts")]
    text = shown_text(message["blocks"])
    assert "Week 11 (Mar 9 – 15)" in text and "2026-W11" not in text and "East" in text
    assert "<!here>" not in str(message["blocks"])
    assert "Agenda" in text
    [upload] = slack.calls_to("files.completeUploadExternal")
    assert upload.args.get("thread_ts") == message["ts"]
    names = [c.args["filename"] for c in slack.calls_to("files.getUploadURLExternal")]
    assert [n.rsplit("-", 1)[1] for n in names] == ["weekly.png", "reps.png", "funnel.png"]
    # Again, later the same morning: the key is taken, nothing is posted twice.
    out = await run(deps, "weekly", MONDAY + timedelta(hours=1))
    assert "nothing to send" in out
    assert len([m for m in slack.messages_in("C0SALES") if not m.get("thread_ts")]) == 1
    assert slack.rejected_calls() == []
    assert team.id


async def test_without_a_channel_each_manager_gets_it_by_dm_and_dry_run_writes_the_chart(driver, slack, db, deps, tmp_path, monkeypatch):
    await east_team(driver)
    await _team(db, None)
    monkeypatch.setenv("SALESBOT_DRY_RUN_DIR", str(tmp_path))
    out = await run(deps, "weekly", MONDAY, dry_run=True)
    assert "(dry run, nothing sent)" in out and "Weekly sales meeting" in out
    charts = sorted(tmp_path.glob("*.png"))
    assert [c.name.rsplit("-", 1)[1] for c in charts] == ["funnel.png", "reps.png", "weekly.png"]
    for chart in charts:
        assert f"file written to {chart}" in out and chart.read_bytes().startswith(b"\x89PNG")
    assert dm_cards(slack, MANAGER) == []

    await run(deps, "weekly", MONDAY)
    [dm] = [m for m in dm_cards(slack, MANAGER) if not m.get("thread_ts")]
    assert "Weekly sales meeting" in shown_text(dm["blocks"])
    assert dm_cards(slack, REP2) == []
    assert slack.rejected_calls() == []
