"""Reminders and escalations over a simulated fortnight: once per task and due date, none after Done or Cancel, held by leave."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

from sqlalchemy import func, select, update

from bot.blocks import ids
from bot.models import Member, OutboxMessage, OutboxStatus, SalesTeam, Task, TaskStatus
from jobs.escalations import JOB as ESCALATIONS, compose as compose_escalations
from jobs.outbox import SenderConfig
from jobs.reminders import JOB as REMINDERS, compose as compose_reminders
from jobs.scheduler import build_clockwork
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import assign, click, dm_cards, east_team, mytasks, salesbot, shown_text, task_by_title

FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.02)
JOBS = {REMINDERS: compose_reminders, ESCALATIONS: compose_escalations}


async def test_a_fortnight_of_reminders_and_escalations(driver, slack, db, deps, clock):
    await east_team(driver)
    # Tuesday 10 March, 10:00 in Shanghai (still Monday evening in New York).
    await assign(driver, slack, title="Quote Huaxin", assignees=[REP1], due=date(2026, 3, 13))
    await assign(driver, slack, title="Visit Acme", assignees=[REP2], due=date(2026, 3, 16))
    await assign(driver, slack, title="Dropped work", assignees=[REP_ZH], due=date(2026, 3, 12))
    await assign(driver, slack, title="Joint visit", assignees=[REP1, REP_ZH], due=date(2026, 3, 16))
    await assign(driver, slack, title="Moved call", assignees=[REP1], due=date(2026, 3, 12))
    await mytasks(driver, REP2, "add Own follow-up due:fri")  # Friday 13 March in New York
    await salesbot(driver, "leave 2026-03-13", user=REP_ZH)  # away on the day Joint visit is reminded
    t = {title: (await task_by_title(db, title)).id for title in
         ("Quote Huaxin", "Visit Acme", "Dropped work", "Joint visit", "Moved call", "Own follow-up")}
    async with db.sessionmaker() as s:  # cancelled (the Cancel button is built elsewhere): no DM at all
        await s.execute(update(Task).where(Task.id == t["Dropped work"]).values(status=TaskStatus.CANCELLED))
        await s.commit()

    await settle()
    mark = len(slack.calls)  # the assignment cards went before; from here on only the jobs post
    work = build_clockwork(deps, config=FAST, jobs=JOBS, tick_seconds=3600)
    work.start()
    sent = 0

    async def until_delivered() -> None:
        """Every post the jobs queued is sent (or settled) before the clock moves on, or it could pass their windows.

        Counted in the outbox, not in Slack's calls: a click's own notices are posts too.
        """
        live = select(func.count()).where(OutboxMessage.job.in_(list(JOBS)), OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            async with db.sessionmaker() as s:
                if (await s.execute(live)).scalar_one() == 0:
                    return
            assert asyncio.get_running_loop().time() < deadline, "the jobs' posts were not delivered"
            await asyncio.sleep(0.02)

    async def run_until(end: datetime) -> None:
        nonlocal sent
        while clock.now < end:
            clock.advance(hours=1)
            new = sum([await work.tick(name) for name in JOBS])
            if new:
                sent += new
                await until_delivered()

    def reminders(user: str, title: str) -> list[dict]:
        return [m for m in dm_cards(slack, user) if "Reminder" in shown_text(m["blocks"]) and title in shown_text(m["blocks"])]

    try:
        # Wednesday 11 March: Moved call's reminder; then its due date moves to Tuesday 17 (the key holds the due date).
        await run_until(datetime(2026, 3, 11, 6, tzinfo=timezone.utc))
        assert len(reminders(REP1, "Moved call")) == 1
        async with db.sessionmaker() as s:
            await s.execute(update(Task).where(Task.id == t["Moved call"]).values(due_date=date(2026, 3, 17)))
            await s.commit()
        # Friday 13 March, 09:00 in New York: Visit Acme's reminder; the rep clicks Done on it.
        await run_until(datetime(2026, 3, 13, 14, tzinfo=timezone.utc))
        [visit] = reminders(REP2, "Visit Acme")
        await click(driver, visit, ids.TASK_DONE, user=REP2)
        await run_until(datetime(2026, 3, 24, 2, tzinfo=timezone.utc))  # fourteen days after the start
        assert await work.tick(REMINDERS) == 0 and await work.tick(ESCALATIONS) == 0
    finally:
        await work.stop()

    async with db.sessionmaker() as s:
        rows = list((await s.execute(select(OutboxMessage).where(OutboxMessage.job.in_(list(JOBS))))).scalars())
        users = dict((await s.execute(select(Member.id, Member.slack_user_id))).all())
        east = (await s.execute(select(SalesTeam.id).where(SalesTeam.name == "East"))).scalar_one()

    def claimed(kind: str) -> dict[str, datetime]:
        """The markers of one kind as `task:due:user-or-team` -> when they were claimed (the bot's clock)."""
        out = {}
        for r in rows:
            if r.key.startswith(kind + ":"):
                _, _ws, task, due, who = r.key.split(":")
                out[f"{task}:{due}:{users[int(who)] if kind == 'reminded' else who}"] = r.not_before
        return out

    markers = [r for r in rows if r.key.startswith(("reminded:", "escalated:"))]
    dms = [r for r in rows if r not in markers]
    assert all(r.status == OutboxStatus.SKIPPED for r in markers) and all(r.status == OutboxStatus.SENT for r in dms)
    reminded = claimed("reminded")
    assert sorted(reminded) == sorted([
        f"{t['Quote Huaxin']}:2026-03-13:{REP1}",
        f"{t['Visit Acme']}:2026-03-16:{REP2}",
        f"{t['Joint visit']}:2026-03-16:{REP1}",
        f"{t['Joint visit']}:2026-03-16:{REP_ZH}",  # held by the leave, sent on Monday
        f"{t['Moved call']}:2026-03-12:{REP1}",
        f"{t['Moved call']}:2026-03-17:{REP1}",  # the new due date armed it again
        f"{t['Own follow-up']}:2026-03-13:{REP2}",
    ])
    escalated = claimed("escalated")
    assert sorted(escalated) == sorted([  # Visit Acme was done, Dropped work cancelled: neither escalated
        f"{t['Quote Huaxin']}:2026-03-13:{east}",
        f"{t['Joint visit']}:2026-03-16:{east}",
        f"{t['Moved call']}:2026-03-17:{east}",
        f"{t['Own follow-up']}:2026-03-13:{east}",
    ])
    # Each landed on its own morning here, so each went as a DM of its own, exactly once.
    assert len([d for d in dms if d.job == REMINDERS]) == 7 and len([d for d in dms if d.job == ESCALATIONS]) == 4
    assert len(dms) == sent
    sent_at = {**reminded, **{k.rsplit(":", 1)[0] + ":" + MANAGER: v for k, v in escalated.items()}}
    # Joint visit was reminded on Friday to REP1, on Monday (back from leave) to REP_ZH, both at 09:00 Shanghai.
    assert sent_at[f"{t['Joint visit']}:2026-03-16:{REP1}"].date() == date(2026, 3, 13)
    assert sent_at[f"{t['Joint visit']}:2026-03-16:{REP_ZH}"].date() == date(2026, 3, 16)
    # Quote Huaxin, due Friday: two working days overdue on Tuesday 17 March at 09:00 in Shanghai.
    assert sent_at[f"{t['Quote Huaxin']}:2026-03-13:{MANAGER}"] == datetime(2026, 3, 17, 1, tzinfo=timezone.utc)
    # What the manager read: both reps of the shared task, in one DM, the title escaped as typed.
    [joint] = [m for m in dm_cards(slack, MANAGER) if "Joint visit" in shown_text(m["blocks"]) and "overdue" in shown_text(m["blocks"])]
    assert f"<@{REP1}>" in shown_text(joint["blocks"]) and f"<@{REP_ZH}>" in shown_text(joint["blocks"])
    assert "2 working days overdue" in shown_text(joint["blocks"])
    [zh] = [m for m in dm_cards(slack, REP_ZH) if "提醒" in shown_text(m["blocks"])]  # in the rep's own language
    assert "提醒：*Joint visit*，今天到期。" in shown_text(zh["blocks"])
    [quote] = reminders(REP1, "Quote Huaxin")
    assert "Reminder: *Quote Huaxin* — due tomorrow." in shown_text(quote["blocks"])
