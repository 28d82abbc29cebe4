"""Morning priorities: windows and keys across DST, the batched contents, leave, snooze and the DM builder."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from bot.blocks.kit import MESSAGE_MAX_BLOCKS
from bot.blocks.priorities import build_priorities
from bot.i18n import I18n
from bot.models import Customer, Deal, DealStatus, Leave, OutboxMessage, OutboxStatus, Priority, Role, Stage, Target, Task, TaskStatus
from bot.services.errors import PermissionDenied, ServiceError
from bot.services.leave import record_leave
from bot.services.priorities import (
    ITEMS_MAX, PriorityTask, StaleItem, daily_key, due_recipients, load_priorities, morning_due, snooze_task,
)
from bot.services.team_settings import TeamSchedule
from jobs.daily import compose
from jobs.outbox import enqueue
from tests.unit.factories import World, actor, insert_task, loc, member, team, workspace

SH, NY = "Asia/Shanghai", "America/New_York"


class FakeDeps:
    """What a composer reads from Deps: the catalogs."""

    i18n = I18n()


def schedule(**kw) -> TeamSchedule:
    from bot.models import SalesTeam

    return TeamSchedule.from_team(SalesTeam(id=1, workspace_id=1, name="T", **kw))


# ------------------------------------------------------------------ windows and keys (pure)

@pytest.mark.parametrize("daily_time", ["08:30", "02:30", "01:30", "00:00", "23:59"])
def test_every_minute_of_a_week_yields_one_window_per_local_working_morning(daily_time):
    """Every minute from 10 to 17 March 2027 (US DST starts on the 14th): one due date per local day, none lost or doubled."""
    s = schedule(daily_time=daily_time, working_days="0,1,2,3,4,5,6")
    start = datetime(2027, 3, 10, 0, 0, tzinfo=timezone.utc)
    for zone in (SH, NY):
        seen: dict[date, set[tuple[datetime, datetime]]] = {}
        first: dict[date, datetime] = {}
        t = start
        while t < start + timedelta(days=7):
            due = morning_due(s, zone, t)
            if due is not None:
                day, lo, hi = due
                seen.setdefault(day, set()).add((lo, hi))
                first.setdefault(day, t)
                assert lo <= t < hi
            t += timedelta(minutes=1)
        # each local date between the first and last full day is due exactly once, with one window
        days = sorted(seen)
        assert days == [days[0] + timedelta(days=i) for i in range(len(days))]
        assert len(days) >= 6
        assert all(len(w) == 1 for w in seen.values())
    # the DST day in New York: 08:30 EDT is 12:30 UTC (the day before it was 13:30 UTC)
    s = schedule(daily_time="08:30", working_days="0,1,2,3,4,5,6")
    assert morning_due(s, NY, datetime(2027, 3, 14, 12, 30, tzinfo=timezone.utc))[1] == datetime(2027, 3, 14, 12, 30, tzinfo=timezone.utc)
    assert morning_due(s, NY, datetime(2027, 3, 13, 13, 29, tzinfo=timezone.utc)) is None
    assert morning_due(s, NY, datetime(2027, 3, 13, 13, 30, tzinfo=timezone.utc))[0] == date(2027, 3, 13)


def test_a_daily_time_in_the_spring_gap_still_fires_once_that_day():
    """02:30 does not exist in New York on 14 March 2027: the DM is due at 03:30 EDT (07:30 UTC)."""
    s = schedule(daily_time="02:30", working_days="6")
    day, lo, hi = morning_due(s, NY, datetime(2027, 3, 14, 8, 0, tzinfo=timezone.utc))
    assert day == date(2027, 3, 14) and lo == datetime(2027, 3, 14, 7, 30, tzinfo=timezone.utc)
    assert hi == datetime(2027, 3, 15, 4, 0, tzinfo=timezone.utc)  # local midnight, EDT


def test_weekends_are_not_working_days_by_default():
    s = schedule()
    assert morning_due(s, SH, datetime(2027, 3, 13, 2, 0, tzinfo=timezone.utc)) is None  # Saturday 10:00 in Shanghai
    assert morning_due(s, SH, datetime(2027, 3, 15, 0, 29, tzinfo=timezone.utc)) is None  # Monday 08:29
    assert morning_due(s, SH, datetime(2027, 3, 15, 0, 30, tzinfo=timezone.utc))[0] == date(2027, 3, 15)


# ------------------------------------------------------------------ composing against the database

async def _dst_world(session):
    ws = await workspace(session)
    t = await team(session, ws, "Global")
    t.working_days = "0,1,2,3,4,5,6"
    session.add(t)
    sh = await member(session, ws, "USH", role=Role.REP, team=t, tz=SH)
    ny = await member(session, ws, "UNY", role=Role.REP, team=t, tz=NY)
    mgr = await member(session, ws, "UBOSS", role=Role.MANAGER, team=t, tz=SH)
    for m in (sh, ny):
        await insert_task(session, ws, m, title=f"call for {m.slack_user_id}", due=date(2027, 3, 20))
    await session.commit()
    return ws, t, sh, ny, mgr


async def test_composing_every_half_hour_across_the_dst_change_enqueues_one_dm_per_rep_per_morning(session):
    ws, t, sh, ny, mgr = await _dst_world(session)
    now = datetime(2027, 3, 12, 0, 0, tzinfo=timezone.utc)
    keys: list[str] = []
    while now < datetime(2027, 3, 17, 0, 0, tzinfo=timezone.utc):
        posts = await compose(FakeDeps(), session, now=now)
        for p in posts:
            assert p.not_before <= now < p.expires_at
        keys += [p.key for p in posts]
        await enqueue(session, posts)
        await session.commit()
        now += timedelta(minutes=30)
    # the outbox already holding a key means a later tick does not compose it again
    assert len(keys) == len(set(keys))
    # The loop starts at 19:00 on 11 March in New York (inside that evening's window) and at
    # 08:00 on 12 March in Shanghai; it ends before 08:30 on 17 March in Shanghai.
    expected = {daily_key("T1", "USH", date(2027, 3, d)) for d in range(12, 17)} | {daily_key("T1", "UNY", date(2027, 3, d)) for d in range(11, 17)}
    assert set(keys) == expected
    rows = (await session.execute(select(OutboxMessage.key, OutboxMessage.not_before))).all()
    by_key = dict(rows)
    # New York's morning moves an hour earlier in UTC on the change day; Shanghai's does not move.
    assert by_key[daily_key("T1", "UNY", date(2027, 3, 13))] == datetime(2027, 3, 13, 13, 30, tzinfo=timezone.utc)
    assert by_key[daily_key("T1", "UNY", date(2027, 3, 14))] == datetime(2027, 3, 14, 12, 30, tzinfo=timezone.utc)
    assert by_key[daily_key("T1", "USH", date(2027, 3, 14))] == datetime(2027, 3, 14, 0, 30, tzinfo=timezone.utc)


async def test_composer_keys_and_window_without_an_outbox(session):
    """Without enqueueing, every tick inside the window composes the same key (the outbox keeps one)."""
    await _dst_world(session)
    keys = set()
    for minute in range(0, 19 * 60, 30):  # 05:00 to 23:30 UTC: the 14th's windows in both zones only
        now = datetime(2027, 3, 14, 5, 0, tzinfo=timezone.utc) + timedelta(minutes=minute)
        keys |= {p.key for p in await compose(FakeDeps(), session, now=now)}
    assert keys == {daily_key("T1", "USH", date(2027, 3, 14)), daily_key("T1", "UNY", date(2027, 3, 14))}


async def test_leave_skips_the_member_on_those_days_only(session):
    ws, t, sh, ny, mgr = await _dst_world(session)
    await record_leave(session, actor=actor(ws, mgr), start=date(2027, 3, 14), end=date(2027, 3, 15), user_id="USH")
    await session.commit()
    on = lambda d: datetime(2027, 3, d, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai, the evening before in New York

    async def shanghai(d):
        return [(r.member.slack_user_id, r.today.day) for r in await due_recipients(session, now=on(d)) if r.member.slack_user_id == "USH"]

    assert await shanghai(13) == [("USH", 13)]
    assert await shanghai(14) == []
    assert await shanghai(15) == []
    assert await shanghai(16) == [("USH", 16)]
    # New York's 14th (the evening of 03:00 UTC on the 15th) is not affected by Shanghai's leave
    assert ("UNY", 14) in [(r.member.slack_user_id, r.today.day) for r in await due_recipients(session, now=on(15))]


async def test_nothing_actionable_means_no_dm_unless_the_team_wants_one(session):
    ws = await workspace(session)
    t = await team(session, ws, "Quiet")
    await member(session, ws, "UIDLE", role=Role.REP, team=t, tz=SH)
    await session.commit()
    now = datetime(2027, 3, 1, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
    [marker] = await compose(FakeDeps(), session, now=now)
    assert marker.skip and marker.channel == "UIDLE" and marker.blocks == []
    await enqueue(session, [marker])
    await session.commit()
    row = (await session.execute(select(OutboxMessage))).scalar_one()
    assert row.status == OutboxStatus.SKIPPED  # stored, never sent
    assert await compose(FakeDeps(), session, now=now + timedelta(minutes=5)) == []  # later ticks leave the settled rep alone
    t.daily_skip_empty = False
    session.add(t)
    await session.commit()
    [post] = await compose(FakeDeps(), session, now=now + timedelta(days=1))
    assert not post.skip and post.channel == "UIDLE" and "Nothing urgent today" in str(post.blocks)


async def test_contents_order_counts_attainment_and_stale_deals(session):
    w = await World.build(session)
    ws = w.ws
    for m in (w.rep1_m, w.rep2_m, w.mgr_m):
        m.tz = SH
        session.add(m)
    today = date(2027, 3, 3)  # Wednesday
    now = datetime(2027, 3, 3, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    low_later = await insert_task(session, ws, w.rep1_m, title="low later", due=today + timedelta(days=5), priority=Priority.LOW)
    high_later = await insert_task(session, ws, w.rep1_m, title="high later", due=today + timedelta(days=9), priority=Priority.HIGH)
    due_today = await insert_task(session, ws, w.rep1_m, title="due today", due=today, priority=Priority.LOW)
    old = await insert_task(session, ws, w.rep1_m, title="very late", due=today - timedelta(days=9))
    late = await insert_task(session, ws, w.rep1_m, title="late", due=today - timedelta(days=1))
    await insert_task(session, ws, w.rep1_m, title="finished", due=today - timedelta(days=3), status=TaskStatus.DONE)
    await insert_task(session, ws, w.rep2_m, title="someone else's", due=today - timedelta(days=3))
    for i in range(12):
        await insert_task(session, ws, w.rep1_m, title=f"filler {i}", due=today + timedelta(days=20))
    cust = Customer(workspace_id=ws.id, name="Huaxin <!channel>")
    session.add(cust)
    await session.flush()
    session.add(Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=cust.id, owner_id=w.rep1_m.id, title="Big one", amount=500000,
                     stage=Stage.PROPOSAL, stage_entered_at=now - timedelta(days=30)))
    session.add(Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=cust.id, owner_id=w.rep1_m.id, title="Fresh", amount=100,
                     stage=Stage.LEAD, stage_entered_at=now - timedelta(days=2)))
    session.add(Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=cust.id, owner_id=w.rep1_m.id, title="Won", amount=2_000_000,
                     stage=Stage.NEGOTIATION, status=DealStatus.WON, won_at=now - timedelta(days=1)))
    session.add(Target(workspace_id=ws.id, team_id=w.east.id, period="2027-03", period_start=date(2027, 3, 1), period_end=date(2027, 4, 1),
                       dimension="rep", key="UREP1", amount=10_000_000))
    await session.commit()

    recipients = await due_recipients(session, now=now)
    assert [r.member.slack_user_id for r in recipients] == ["UREP1", "UREP2"]  # reps only, never managers
    statements = []
    event.listen(session.bind.sync_engine if hasattr(session.bind, "sync_engine") else session.bind, "before_cursor_execute",
                 lambda *a, **k: statements.append(1))
    p, p2 = await load_priorities(session, recipients=recipients, now=now)
    assert len(statements) == 5  # one date (ranked tasks, counts), stale deals, targets, won: never per rep
    assert (p.overdue, p.due_today, p.open_total) == (2, 1, 17)
    assert (p2.overdue, p2.open_total) == (1, 1)
    items = p.items()
    assert len(items) == ITEMS_MAX
    titles = [i.title for i in items]
    assert titles[:4] == ["very late", "late", "due today", "Big one"]
    assert titles[4] == "high later"  # then by priority, not by due date
    assert "low later" not in titles and "finished" not in titles
    assert isinstance(items[3], StaleItem) and items[3].days == 30 and p.stale_total == 1
    assert p.month is not None and (p.month.won, p.month.target) == (2_000_000, 10_000_000)
    assert p.month.pace == "ahead"  # 20% won with 3/31 of March gone
    text, blocks = build_priorities(p, loc())
    assert len(blocks) <= MESSAGE_MAX_BLOCKS
    shown = str(blocks)
    assert "Huaxin &lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "2 overdue" in text


async def test_snooze_moves_the_due_date_to_tomorrow_in_the_reps_zone_once(session):
    w = await World.build(session)
    w.rep1_m.tz = NY
    session.add(w.rep1_m)
    task = await insert_task(session, w.ws, w.rep1_m, due=date(2027, 3, 1))
    await session.commit()
    now = datetime(2027, 3, 14, 3, 0, tzinfo=timezone.utc)  # still 13 March in New York
    assert await snooze_task(session, actor=w.rep1, task_id=task.id, now=now) == (date(2027, 3, 14), True)
    assert await snooze_task(session, actor=w.rep1, task_id=task.id, now=now) == (date(2027, 3, 14), False)
    await session.commit()
    assert (await session.get(Task, task.id, populate_existing=True)).due_date == date(2027, 3, 14)
    with pytest.raises(PermissionDenied):
        await snooze_task(session, actor=w.rep2, task_id=task.id, now=now)
    with pytest.raises(PermissionDenied):
        await snooze_task(session, actor=w.mgr_w, task_id=task.id, now=now)
    # the rep's manager may snooze it too; tomorrow is the 15th in the manager's zone (UTC)
    assert await snooze_task(session, actor=w.mgr, task_id=task.id, now=now) == (date(2027, 3, 15), True)
    task.status = TaskStatus.DONE
    session.add(task)
    await session.commit()
    with pytest.raises(ServiceError):
        await snooze_task(session, actor=w.rep1, task_id=task.id, now=now)


async def test_leave_rules(session):
    w = await World.build(session)
    r = await record_leave(session, actor=w.rep1, start=date(2027, 3, 1), end=date(2027, 3, 5))
    assert r.created and r.days == 5 and r.member.slack_user_id == "UREP1"
    assert not (await record_leave(session, actor=w.rep1, start=date(2027, 3, 1), end=date(2027, 3, 5))).created
    assert (await record_leave(session, actor=w.mgr, start=date(2027, 3, 1), end=date(2027, 3, 1), user_id="UREP2")).created
    assert (await record_leave(session, actor=w.admin, start=date(2027, 3, 1), end=date(2027, 3, 1), user_id="UREPW")).created
    with pytest.raises(PermissionDenied):
        await record_leave(session, actor=w.rep1, start=date(2027, 3, 1), end=date(2027, 3, 2), user_id="UREP2")
    with pytest.raises(PermissionDenied):
        await record_leave(session, actor=w.mgr, start=date(2027, 3, 1), end=date(2027, 3, 2), user_id="UREPW")
    with pytest.raises(ServiceError):
        await record_leave(session, actor=w.rep1, start=date(2027, 3, 5), end=date(2027, 3, 1))
    rows = (await session.execute(select(Leave))).scalars().all()
    assert len(rows) == 3


def test_builder_keeps_limits_and_escapes_titles():
    from bot.services.priorities import Priorities, Recipient
    from tests.unit.factories import fake_member

    m = fake_member("UREP1")
    r = Recipient(1, "T1", "CNY", m, None, schedule(), date(2027, 3, 1), datetime(2027, 3, 1, tzinfo=timezone.utc), datetime(2027, 3, 2, tzinfo=timezone.utc))  # type: ignore[arg-type]
    tasks = [PriorityTask(i, "<!here> " + "x" * 300, Priority.HIGH, date(2027, 2, 1), TaskStatus.OPEN, "A & B") for i in range(1, 30)]
    p = Priorities(recipient=r, tasks=tasks, overdue=29, open_total=29)
    for language in ("en", "zh_Hans"):
        text, blocks = build_priorities(p, loc(language))
        assert len(blocks) <= MESSAGE_MAX_BLOCKS
        assert "<!here>" not in str(blocks) and "&lt;!here&gt;" in str(blocks)
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert len([b for b in buttons if b["action_id"] == "daily_done"]) == ITEMS_MAX
        assert any(b["action_id"] == "daily_see_all" for b in buttons)


def test_parse_leave_commands():
    from bot.parsing import ParseError, parse_salesbot

    own = parse_salesbot("leave 2027-03-01 2027-03-05")
    assert (own.action, own.user_id, own.start, own.end) == ("leave", None, date(2027, 3, 1), date(2027, 3, 5))
    other = parse_salesbot("leave <@U123|ray> 2027-03-01")
    assert (other.user_id, other.start, other.end) == ("U123", date(2027, 3, 1), date(2027, 3, 1))
    for bad, key in (("leave", "leave.error.usage"), ("leave 2027-02-30", "leave.error.bad_date"), ("leave a b c", "leave.error.usage")):
        with pytest.raises(ParseError) as exc:
            parse_salesbot(bad)
        assert exc.value.key == key
        for language in ("en", "zh_Hans"):
            assert loc(language).md(exc.value.key, **exc.value.params) != exc.value.key
