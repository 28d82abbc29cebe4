"""Morning priorities end to end: composed, delivered through the outbox, and worked with its buttons; leave."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from bot.models import Leave, Task, TaskEvent, TaskEventKind, TaskStatus
from bot.blocks import ids
from jobs.outbox import SenderConfig
from jobs.registry import load_jobs
from jobs.runner import run_job
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import all_tasks, assign, dm_cards, east_team, forged_click, salesbot, shown_text

FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)


def priorities_dm(slack, user):
    """The latest morning DM a member received."""
    dms = [m for m in dm_cards(slack, user) if any(b.get("block_id") == "daily-more" for b in m["blocks"] or [])]
    return dms[-1] if dms else None


async def run_daily(deps, clock) -> str:
    out = io.StringIO()
    assert await run_job(deps, "daily", at=clock.now, jobs=load_jobs(extra=""), config=FAST, out=out) == 0, out.getvalue()
    return out.getvalue()


async def test_morning_dm_done_snooze_see_all(driver, slack, db, deps, clock):
    await east_team(driver)
    today = clock.today(REP1)
    await assign(driver, slack, title="Call <!channel> Huaxin", assignees=[REP1], due=today, priority="1")
    await assign(driver, slack, title="Send the quote", assignees=[REP1], due=today + timedelta(days=3), priority="2")
    await assign(driver, slack, title="Plan the visit", assignees=[REP_ZH], due=today + timedelta(days=1))

    out = await run_daily(deps, clock)
    # REP1 and REP_ZH have tasks; REP2 (New York, 22:00 on the 9th) has nothing: no DM.
    assert "2 posts (2 new): 2 sent" in out
    dm = priorities_dm(slack, REP1)
    text = shown_text(dm["blocks"])
    assert "Call &lt;!channel&gt; Huaxin" in text and "<!channel>" not in text
    assert "1 due today" in text
    assert "推迟到明天" in shown_text(priorities_dm(slack, REP_ZH)["blocks"])
    assert priorities_dm(slack, REP2) is None

    # Running the job again at the same moment composes nothing new: the outbox holds the keys.
    assert "nothing to send" in await run_daily(deps, clock) or "0 new" in await run_daily(deps, clock)
    assert len([m for m in dm_cards(slack, REP1) if m["blocks"] and m["blocks"][0]["type"] == "header"]) == 1

    tasks = {t.title: t for t in await all_tasks(db)}
    call, quote = tasks["Call <!channel> Huaxin"], tasks["Send the quote"]

    # Another rep's forged click (on REP_ZH's one-task DM) changes nothing.
    visit = tasks["Plan the visit"]
    await forged_click(driver, priorities_dm(slack, REP_ZH), ids.DAILY_SNOOZE, user=REP2)
    async with db.sessionmaker() as s:
        assert (await s.get(Task, visit.id)).due_date == visit.due_date

    # Snooze moves the task to tomorrow in REP1's zone (twice: once), and the DM is redrawn.
    await driver.click(dm, ids.DAILY_SNOOZE, user=REP1, value=str(call.id))
    await settle()
    await driver.click(dm, ids.DAILY_SNOOZE, user=REP1, value=str(call.id))
    await settle()
    async with db.sessionmaker() as s:
        assert (await s.get(Task, call.id)).due_date == today + timedelta(days=1)
    redrawn = slack.find_message(dm["id"])
    assert "0 due today" in shown_text(redrawn["blocks"])

    # Done completes the task once and takes it off the redrawn DM.
    await driver.click(redrawn, ids.DAILY_DONE, user=REP1, value=str(quote.id))
    await settle()
    async with db.sessionmaker() as s:
        assert (await s.get(Task, quote.id)).status == TaskStatus.DONE
        done = (await s.execute(select(TaskEvent).where(TaskEvent.task_id == quote.id, TaskEvent.kind == TaskEventKind.DONE))).scalars().all()
        assert len(done) == 1
    redrawn = slack.find_message(dm["id"])
    assert "Send the quote" not in shown_text(redrawn["blocks"])

    # See all shows the /mytasks list, only to the rep.
    await driver.click(redrawn, ids.DAILY_SEE_ALL, user=REP1)
    await settle()
    listing = slack.ephemerals_for(REP1)[-1]
    assert "Call &lt;!channel&gt; Huaxin" in shown_text(listing["blocks"])
    assert slack.rejected_calls() == []


async def test_leave_commands_and_skipped_mornings(driver, slack, db, deps, clock):
    await east_team(driver)
    today = clock.today(REP1)
    await assign(driver, slack, title="Call", assignees=[REP1, REP_ZH], due=today)

    # A rep records their own leave; a manager records a rep's; a rep may not record someone else's.
    reply = await salesbot(driver, f"leave {today.isoformat()} {(today + timedelta(days=1)).isoformat()}", user=REP1)
    assert "Leave recorded" in shown_text(reply["blocks"])
    reply = await salesbot(driver, f"leave <@{REP_ZH}|wang> {today.isoformat()} {today.isoformat()}", user=MANAGER)
    assert f"<@{REP_ZH}>" in shown_text(reply["blocks"])
    reply = await salesbot(driver, f"leave <@{REP1}> {today.isoformat()} {today.isoformat()}", user=REP2)
    assert "Only managers" in shown_text(reply["blocks"])
    reply = await salesbot(driver, "leave 2027-13-01 2027-03-02", user=REP1)
    assert "is not a date" in shown_text(reply["blocks"])
    reply = await salesbot(driver, "leave 2027-03-05 2027-03-01", user=REP1)
    assert "must not be after" in shown_text(reply["blocks"])
    async with db.sessionmaker() as s:
        assert len((await s.execute(select(Leave))).scalars().all()) == 2

    out = await run_daily(deps, clock)
    assert "nothing to send" in out
    assert priorities_dm(slack, REP1) is None and priorities_dm(slack, REP_ZH) is None

    # The next working morning REP_ZH is back; REP1 is still away.
    clock.advance(days=1)
    await run_daily(deps, clock)
    assert priorities_dm(slack, REP_ZH) is not None and priorities_dm(slack, REP1) is None
    assert slack.rejected_calls() == []
