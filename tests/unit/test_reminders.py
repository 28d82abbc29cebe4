"""bot/services/reminders: which reminders and escalations are due, in a fixed number of statements."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import event, update

from bot.models import Leave, SalesTeam, TaskStatus
from bot.services.reminders import due_escalations, due_reminders, reminder_day, shift_working_days
from bot.services.team_settings import TeamSchedule
from tests.unit import factories as f

MON = f.TODAY  # Monday 10 March 2031
NOW = datetime(2031, 3, 10, 10, tzinfo=timezone.utc)  # 10:00 UTC: past the 09:00 reminder time of UTC members
WEEK = frozenset(range(5))


def test_working_day_arithmetic():
    assert shift_working_days(MON, -1, WEEK) == date(2031, 3, 7)  # Monday's day before is Friday
    assert shift_working_days(date(2031, 3, 7), 2, WEEK) == date(2031, 3, 11)  # two working days after Friday: Tuesday
    schedule = TeamSchedule.from_team(SalesTeam(workspace_id=1, name="x", reminder_days=0))
    assert reminder_day(date(2031, 3, 15), schedule, 0) == date(2031, 3, 14)  # due on Saturday: Friday's morning
    assert reminder_day(MON, schedule, 2) == date(2031, 3, 6)


async def count_statements(db, fn):
    n = 0

    def listener(*_args, **_kw):
        nonlocal n
        n += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        await fn()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    return n


async def test_due_reminders_and_escalations_in_a_fixed_number_of_statements(db, session):
    w = await f.World.build(session)
    found: dict[str, int] = {}

    async def run():
        async with db.sessionmaker() as s:
            reminders, escalations = await due_reminders(s, now=NOW), await due_escalations(s, now=NOW)
            found.update(remind=sum(n.total for n in reminders), remind_dms=len(reminders),
                         escalate=sum(n.total for n in escalations), escalate_dms=len(escalations))
            assert all(len(n.rows) == min(n.total, 20) for n in reminders)
            await s.commit()

    async def add(n: int) -> None:
        for i in range(n):
            rep = (w.rep1_m, w.rep2_m, w.rep_w_m)[i % 3]
            await f.insert_task(session, w.ws, rep, due=MON + timedelta(days=1))  # reminded today (Monday)
            await f.insert_task(session, w.ws, rep, due=date(2031, 3, 5))  # Wednesday: two working days overdue on Friday
        await session.commit()

    await add(3)
    small = await count_statements(db, run)
    # One DM per rep and one per manager (East's Mia, West's Will), whatever the number of tasks.
    assert found == {"remind": 3, "remind_dms": 3, "escalate": 3, "escalate_dms": 2}
    await add(60)
    assert await count_statements(db, run) == small <= 20  # about 8 statements a job
    assert found == {"remind": 60, "remind_dms": 3, "escalate": 60, "escalate_dms": 2}
    # Claimed once: the next tick finds nothing, in fewer statements still.
    assert await count_statements(db, run) < small and found == {"remind": 0, "remind_dms": 0, "escalate": 0, "escalate_dms": 0}


async def reminded(session, now) -> set[int]:
    """Task ids reminded at `now`, without keeping the claims."""
    ids = {task_id for n in await due_reminders(session, now=now) for _, task_id in n.order}
    await session.rollback()
    return ids


async def test_what_is_not_reminded(db, session):
    w = await f.World.build(session)
    done = await f.insert_task(session, w.ws, w.rep1_m, due=MON + timedelta(days=1), status=TaskStatus.DONE)
    cancelled = await f.insert_task(session, w.ws, w.rep1_m, due=MON + timedelta(days=1), status=TaskStatus.CANCELLED)
    fresh = await f.insert_task(session, w.ws, w.rep1_m, due=MON + timedelta(days=1))
    away = await f.insert_task(session, w.ws, w.rep2_m, due=MON + timedelta(days=1))
    later = await f.insert_task(session, w.ws, w.rep1_m, due=MON + timedelta(days=3))  # Thursday: reminded Wednesday
    kept = await f.insert_task(session, w.ws, w.rep1_m, due=MON + timedelta(days=1), status=TaskStatus.IN_PROGRESS)
    fresh.created_at = NOW - timedelta(minutes=30)  # made after its 09:00 reminder moment
    session.add(fresh)
    session.add(Leave(workspace_id=w.ws.id, member_id=w.rep2_m.id, start=MON, end=MON))
    await session.commit()
    done, cancelled, away, later, kept, east = done.id, cancelled.id, away.id, later.id, kept.id, w.east.id  # plain ids: rollbacks expire rows
    assert await reminded(session, NOW) == {kept}
    assert {done, cancelled, away, later}.isdisjoint(await reminded(session, NOW))
    # Before the reminder time nothing is due at all.
    assert await reminded(session, NOW.replace(hour=8)) == set()
    # Two working days ahead for East: Thursday's task is reminded on Tuesday, as is the rep back from leave.
    await session.execute(update(SalesTeam).where(SalesTeam.id == east).values(reminder_days=2))
    await session.commit()
    tuesday = NOW + timedelta(days=1)
    assert {later, away} <= await reminded(session, tuesday)


def test_a_reminder_of_several_tasks_is_one_message_within_limits():
    from bot.blocks.own_tasks import build_escalation, build_reminder
    from bot.standin.limits import validate_blocks

    loc = f.loc("zh_Hans")
    rows = [f.fake_row(title=f"<!channel> task {i}", due=MON + timedelta(days=1)) for i in range(30)]
    text, blocks = build_reminder(rows, loc, MON)
    assert validate_blocks(blocks, surface="message") == [] and len(blocks) <= 50 and "30 项任务即将到期" in text
    assert "<!channel>" not in str(blocks)
    text, blocks = build_escalation(rows + [f.fake_row(title=f"t{i}") for i in range(30)], loc, MON, reps={r.task.id: ["UREP1"] for r in rows}, days={r.task.id: 2 for r in rows})
    assert validate_blocks(blocks, surface="message") == [] and len(blocks) <= 50 and "60 项任务逾期" in text
