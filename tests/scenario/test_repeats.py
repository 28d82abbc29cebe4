"""Repeating tasks over ten weeks: two clocks and a restart, across the US DST change, one task per date."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.blocks import ids
from bot.models import Leave, Member, SalesTeam, Task, TaskRule, TaskStatus
from jobs.outbox import SenderConfig
from jobs.repeats import JOB, compose
from jobs.scheduler import build_clockwork
from tests.scenario.conftest import REP1, REP2, settle
from tests.scenario.helpers import assign, assignees_of, click, dm_cards, east_team, forged_click, mytasks, shown_text

FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.02)
NY = ZoneInfo("America/New_York")
MONDAYS = [date(2026, 2, 23) + timedelta(weeks=i) for i in range(10)]  # 8 March 2026: the US clocks go forward


async def test_weekly_rule_over_ten_weeks_two_clocks_a_restart_and_dst(driver, slack, db, deps, clock):
    await east_team(driver)
    async with db.sessionmaker() as s:
        await s.execute(update(SalesTeam).where(SalesTeam.name == "East").values(timezone="America/New_York"))
        rep = (await s.execute(select(Member).where(Member.slack_user_id == REP2))).scalar_one()
        # On leave over one Monday: the task is made all the same (it shows in the hand-over).
        s.add(Leave(workspace_id=rep.workspace_id, member_id=rep.id, start=date(2026, 3, 16), end=date(2026, 3, 20)))
        await s.commit()
    clock.now = datetime(2026, 2, 20, 15, 0, tzinfo=timezone.utc)  # Friday 20 February, 10:00 in New York
    reply = await mytasks(driver, REP2, "add Call the top 5 key accounts repeat:weekly:mon")
    assert "every Monday" in shown_text(reply["blocks"])

    await settle()
    mark = len(slack.calls)
    first, second = (build_clockwork(deps, config=FAST, jobs={JOB: compose}, tick_seconds=3600) for _ in range(2))
    first.start()
    second.start()
    sent = 0
    try:
        end = datetime(2026, 5, 3, 12, tzinfo=timezone.utc)  # Sunday after the tenth Monday
        restarted = False
        while clock.now < end:
            clock.advance(hours=2)  # a tick every two hours of the bot's clock
            new = await first.tick(JOB) + await second.tick(JOB)
            if new:
                sent += new
                await slack.wait_for("chat.postMessage", count=sent, since=mark, timeout=10)
            if not restarted and clock.now >= datetime(2026, 3, 25, tzinfo=timezone.utc):
                await first.stop()  # a restart halfway: the new process knows nothing the database does not
                first = build_clockwork(deps, config=FAST, jobs={JOB: compose}, tick_seconds=3600)
                first.start()
                restarted = True
    finally:
        await first.stop()
        await second.stop()

    async with db.sessionmaker() as s:
        tasks = list((await s.execute(select(Task).order_by(Task.due_date))).scalars())
    assert [t.due_date for t in tasks] == MONDAYS
    for task in tasks:
        made = task.created_at.astimezone(NY)
        # Made at the first tick of its own date in New York, before and after the DST change alike.
        assert made.date() == task.due_date and made.hour < 2, (task.due_date, made)
        assert task.self_created and task.status == TaskStatus.OPEN
        assert await assignees_of(db, task.id) == [REP2]
    cards = [m for m in dm_cards(slack, REP2) if "Call the top 5 key accounts" in shown_text(m["blocks"])]
    assert len(cards) == 10 == sent

    # Stop on the last card: the ten tasks stay, no eleventh is made; a second click says it was stopped.
    await click(driver, cards[-1], ids.REPEAT_STOP, user=REP2)
    assert "no longer repeats" in shown_text(slack.ephemerals_for(REP2)[-1]["blocks"])
    await click(driver, cards[-1], ids.REPEAT_STOP, user=REP2)
    assert "had already stopped" in shown_text(slack.ephemerals_for(REP2)[-1]["blocks"])
    clock.now = datetime(2026, 5, 12, 12, tzinfo=timezone.utc)
    work = build_clockwork(deps, config=FAST, jobs={JOB: compose}, tick_seconds=3600)
    assert await work.tick(JOB) == 0
    async with db.sessionmaker() as s:
        assert len((await s.execute(select(Task))).scalars().all()) == 10
        assert (await s.execute(select(TaskRule.next_on))).scalar_one() is None
    await settle()


async def test_assign_modal_repeat_weekly_on_two_days(driver, slack, db, deps, clock):
    await east_team(driver)
    # Tuesday 10 March in Shanghai (the team's zone here): every Monday and Thursday from the due date on.
    await assign(driver, slack, title="Call top accounts", assignees=[REP1], due=date(2026, 3, 12),
                 **{ids.ASSIGN_REPEAT: "weekly", ids.ASSIGN_REPEAT_DAYS: ["0", "3"]})
    async with db.sessionmaker() as s:
        await s.execute(update(SalesTeam).where(SalesTeam.name == "East").values(timezone="Asia/Shanghai"))
        await s.commit()
        [rule] = (await s.execute(select(TaskRule))).scalars().all()
        assert (rule.weekdays, rule.next_on, rule.self_created) == ("0,3", date(2026, 3, 12), False)
        assert (await s.execute(select(Task))).scalars().all() == []  # nothing until its date
    await settle()
    mark = len(slack.calls)
    work = build_clockwork(deps, config=FAST, jobs={JOB: compose}, tick_seconds=3600)
    work.start()
    try:
        sent = 0
        for _ in range(8):  # to Wednesday 18 March in Shanghai
            clock.advance(days=1)
            new = await work.tick(JOB)
            if new:
                sent += new
                await slack.wait_for("chat.postMessage", count=sent, since=mark, timeout=10)
        assert sent == 2
    finally:
        await work.stop()
    async with db.sessionmaker() as s:
        made = list((await s.execute(select(Task).order_by(Task.due_date))).scalars())
    assert [t.due_date for t in made] == [date(2026, 3, 12), date(2026, 3, 16)]
    for task in made:
        assert await assignees_of(db, task.id) == [REP1]
    # The card carries Stop repeating; a rep may not stop a manager's rule, even with a forged click.
    [card] = [m for m in dm_cards(slack, REP1) if "Call top accounts" in shown_text(m["blocks"]) and "Repeats" in shown_text(m["blocks"])][-1:]
    await forged_click(driver, card, ids.REPEAT_STOP, user=REP2)
    await click(driver, card, ids.REPEAT_STOP, user=REP1)
    async with db.sessionmaker() as s:
        assert (await s.execute(select(TaskRule.next_on))).scalar_one() is not None
