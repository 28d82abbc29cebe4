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
            found["remind"] = len(await due_reminders(s, now=NOW))
            found["escalate"] = len(await due_escalations(s, now=NOW))

    async def add(n: int) -> None:
        for i in range(n):
            rep = (w.rep1_m, w.rep2_m, w.rep_w_m)[i % 3]
            await f.insert_task(session, w.ws, rep, due=MON + timedelta(days=1))  # reminded today (Monday)
            await f.insert_task(session, w.ws, rep, due=date(2031, 3, 5))  # Wednesday: two working days overdue on Friday
        await session.commit()

    await add(3)
    small = await count_statements(db, run)
    assert found == {"remind": 3, "escalate": 3}  # one manager per team: East's Mia, West's Will
    await add(60)
    assert await count_statements(db, run) == small <= 16  # about 7 statements a job
    assert found == {"remind": 63, "escalate": 63}


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
    assert [n.row.task.id for n in await due_reminders(session, now=NOW)] == [kept.id]
    assert {done.id, cancelled.id, away.id, later.id}.isdisjoint({n.row.task.id for n in await due_reminders(session, now=NOW)})
    # Two working days ahead for East: Thursday's task is reminded on Tuesday.
    await session.execute(update(SalesTeam).where(SalesTeam.id == w.east.id).values(reminder_days=2))
    await session.commit()
    tuesday = NOW + timedelta(days=1)
    assert later.id in {n.row.task.id for n in await due_reminders(session, now=tuesday)}
    # Before the reminder time nothing is due at all.
    assert await due_reminders(session, now=NOW.replace(hour=8)) == []
    # The rep back from leave on Tuesday is reminded then (the due date has not passed).
    assert away.id in {n.row.task.id for n in await due_reminders(session, now=tuesday)}
