"""Task reminders before the due date and escalations to the managers after it, each once per task and due date.

A reminder goes to each assignee `reminder_days` working days before the due date (0: on the
day), at the team's reminder time in the assignee's own zone. An escalation goes to the
managers of an assignee's team once the task is `escalate_days` working days overdue, at the
same local time. Both wait while the assignee is on leave (and go on the first working day
back), never go for a task that is done or cancelled, and are keyed with the due date: moving
the due date arms them again. A reminder still held on the due date's end is dropped: by then
it would be an escalation's business. A task made after its reminder moment gets none (its
card just arrived).

Every query is batched over all candidates; the number of statements does not grow with them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Leave, Member, OutboxMessage, Role, SalesTeam, Task, TaskAssignee, TaskStatus, Workspace
from bot.services.actors import safe_zone
from bot.services.tasks import TaskRow, _rows
from bot.services.team_settings import REMINDER_DAYS_MAX, TeamSchedule

# Overdue tasks older than this are not escalated any more: they were, long ago, or predate the setting.
ESCALATE_LOOKBACK_DAYS = 60
OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
_CHUNK = 500


@dataclass(frozen=True)
class Nudge:
    """One DM due now: a reminder to an assignee, or an escalation to a manager."""

    key: str
    workspace_id: int
    user_id: str  # the recipient
    locale: str
    today: date  # the recipient's local date
    row: TaskRow
    not_before: datetime
    expires_at: datetime
    days_overdue: int = 0  # escalations: working days past the due date
    reps: list[str] = field(default_factory=list)  # escalations: the assignees it is about


def shift_working_days(day: date, n: int, working_days: frozenset[int]) -> date:
    """`n` working days after `day` (before, for a negative n); 0 gives `day` itself (pure)."""
    step = 1 if n > 0 else -1
    for _ in range(abs(n)):
        day += timedelta(days=step)
        for _ in range(7):
            if day.weekday() in working_days:
                break
            day += timedelta(days=step)
    return day


def reminder_day(due: date, schedule: TeamSchedule, days: int) -> date:
    """The working day a task due on `due` is reminded on: `days` working days before, or the last working day up to it."""
    day = shift_working_days(due, -days, schedule.working_days) if days > 0 else due
    for _ in range(7):
        if schedule.is_working_day(day):
            break
        day -= timedelta(days=1)
    return day


def reminder_key(slack_team_id: str, task_id: int, due: date, user_id: str) -> str:
    """The outbox key of a reminder: task, due date and assignee."""
    return f"remind:{slack_team_id}:{task_id}:{due.isoformat()}:{user_id}"


def escalation_key(slack_team_id: str, task_id: int, due: date, user_id: str) -> str:
    """The outbox key of an escalation: task, due date and manager."""
    return f"escalate:{slack_team_id}:{task_id}:{due.isoformat()}:{user_id}"


@dataclass
class _Candidate:
    task: Task
    member: Member
    team: SalesTeam
    schedule: TeamSchedule
    slack_team_id: str
    today: date  # the assignee's local date
    moment: datetime  # today at the team's reminder time in the assignee's zone (UTC)


async def _candidates(session: AsyncSession, *, now: datetime, lo_days: int, hi_days: int) -> list[_Candidate]:
    """(task, assignee) pairs of open tasks due between `lo_days` and `hi_days` around today, the assignee not on leave today."""
    utc_today = now.astimezone(timezone.utc).date()
    q = (
        select(Task, TaskAssignee.member_id)
        .join(TaskAssignee, TaskAssignee.task_id == Task.id)
        .where(Task.status.in_(OPEN_STATUSES), Task.due_date.is_not(None),
               Task.due_date >= utc_today + timedelta(days=lo_days - 1), Task.due_date <= utc_today + timedelta(days=hi_days + 1))
        .order_by(Task.id, TaskAssignee.member_id)
    )
    pairs = (await session.execute(q)).all()
    if not pairs:
        return []
    member_ids = {m for _, m in pairs}
    members = {m.id: m for m in (await session.execute(select(Member).where(Member.id.in_(member_ids)))).scalars()}
    teams = {t.id: t for t in (await session.execute(select(SalesTeam).where(SalesTeam.id.in_({m.team_id for m in members.values() if m.team_id})))).scalars()}
    wq = select(Workspace.id, Workspace.slack_team_id).where(Workspace.id.in_({m.workspace_id for m in members.values()}))
    spaces = dict((await session.execute(wq)).all())
    away: dict[int, list[tuple[date, date]]] = defaultdict(list)
    lq = select(Leave.member_id, Leave.start, Leave.end).where(Leave.member_id.in_(member_ids), Leave.start <= utc_today + timedelta(days=1), Leave.end >= utc_today - timedelta(days=1))
    for member_id, start, end in (await session.execute(lq)).all():
        away[member_id].append((start, end))
    schedules: dict[int, TeamSchedule] = {}
    out = []
    for task, member_id in pairs:
        member = members.get(member_id)
        team = teams.get(member.team_id) if member is not None else None
        if team is None or member.role is None:
            continue  # off the roster: nobody to remind, no manager to tell
        schedule = schedules.get(team.id) or schedules.setdefault(team.id, TeamSchedule.from_team(team))
        zone = safe_zone(member.tz)
        today = now.astimezone(zone).date()
        if not schedule.is_working_day(today) or any(s <= today <= e for s, e in away.get(member.id, ())):
            continue  # they wait: for a working day, or for the end of the leave
        moment = datetime.combine(today, schedule.reminder_time, zone).astimezone(timezone.utc)
        if moment > now:
            continue
        out.append(_Candidate(task, member, team, schedule, spaces.get(member.workspace_id, ""), today, moment))
    return out


async def _queued(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these keys the outbox already holds (whatever became of them)."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        found.update((await session.execute(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk)))).scalars())
    return found


def _end_of(day: date, zone_name: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), safe_zone(zone_name)).astimezone(timezone.utc)


async def due_reminders(session: AsyncSession, *, now: datetime) -> list[Nudge]:
    """Reminders due at `now` and not yet in the outbox."""
    # A reminder is at most REMINDER_DAYS_MAX working days (two weeks and a bit of calendar) ahead.
    picked: list[tuple[_Candidate, str]] = []
    for c in await _candidates(session, now=now, lo_days=-1, hi_days=REMINDER_DAYS_MAX * 7 // 5 + 7):
        due = c.task.due_date
        remind_on = reminder_day(due, c.schedule, c.schedule.reminder_days)
        if not remind_on <= c.today <= due:
            continue
        remind_at = datetime.combine(remind_on, c.schedule.reminder_time, safe_zone(c.member.tz)).astimezone(timezone.utc)
        if remind_at <= c.task.created_at <= now:
            continue  # made after its reminder moment: its card is reminder enough
        picked.append((c, reminder_key(c.slack_team_id, c.task.id, due, c.member.slack_user_id)))
    queued = await _queued(session, [k for _, k in picked])
    picked = [(c, k) for c, k in picked if k not in queued]
    rows = {r.task.id: r for r in await _rows(session, list({c.task.id: c.task for c, _ in picked}.values()))}
    return [
        Nudge(key=k, workspace_id=c.task.workspace_id, user_id=c.member.slack_user_id, locale=c.member.locale, today=c.today,
              row=rows[c.task.id], not_before=now, expires_at=_end_of(c.task.due_date, c.member.tz))
        for c, k in picked
    ]


async def due_escalations(session: AsyncSession, *, now: datetime) -> list[Nudge]:
    """Escalations due at `now` (one per task, due date and manager) and not yet in the outbox."""
    overdue: list[tuple[_Candidate, int]] = []
    for c in await _candidates(session, now=now, lo_days=-ESCALATE_LOOKBACK_DAYS, hi_days=-1):
        due = c.task.due_date
        n = c.schedule.escalate_days
        if due < c.today and c.today >= shift_working_days(due, n, c.schedule.working_days):
            # Working days overdue today: N, or more when leave held the escalation back.
            late = sum(1 for i in range(1, (c.today - due).days + 1) if c.schedule.is_working_day(due + timedelta(days=i)))
            overdue.append((c, late))
    if not overdue:
        return []
    team_ids = {c.team.id for c, _ in overdue}
    mq = select(Member).where(Member.team_id.in_(team_ids), Member.role == Role.MANAGER).order_by(Member.slack_user_id)
    managers: dict[int, list[Member]] = defaultdict(list)
    for m in (await session.execute(mq)).scalars():
        managers[m.team_id].append(m)
    # One DM per task, due date and manager, naming every assignee of theirs it is about.
    by_key: dict[str, tuple[_Candidate, Member, int, list[str]]] = {}
    for c, n in overdue:
        for manager in managers.get(c.team.id, []):
            key = escalation_key(c.slack_team_id, c.task.id, c.task.due_date, manager.slack_user_id)
            entry = by_key.setdefault(key, (c, manager, n, []))
            entry[3].append(c.member.slack_user_id)
    queued = await _queued(session, list(by_key))
    todo = {k: v for k, v in by_key.items() if k not in queued}
    rows = {r.task.id: r for r in await _rows(session, list({c.task.id: c.task for c, *_ in todo.values()}.values()))}
    out = []
    for key, (c, manager, n, reps) in todo.items():
        today = now.astimezone(safe_zone(manager.tz)).date()
        out.append(Nudge(key=key, workspace_id=c.task.workspace_id, user_id=manager.slack_user_id, locale=manager.locale, today=today,
                         row=rows[c.task.id], not_before=now, expires_at=now + timedelta(days=1), days_overdue=n, reps=sorted(set(reps))))
    return out
