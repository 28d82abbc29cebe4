"""Task reminders before the due date and escalations to the managers after it, each once per task and due date.

A reminder goes to each assignee `reminder_days` working days before the due date (0: on the
day), at the team's reminder time in the assignee's own zone. An escalation goes to the
managers of an assignee's team once the task is `escalate_days` working days overdue, at the
same local time. Both wait while the assignee is on leave (and go on the first working day
back), never go for a task that is done or cancelled, and are keyed with the due date: moving
the due date arms them again. A reminder still held on the due date's end is dropped: by then
it would be an escalation's business. A task made after its reminder moment gets none (its
card just arrived).

Each (task, due date, assignee) reminder and each (task, due date, team) escalation is claimed
by a marker row in the outbox (stored as skipped) whose unique key holds the due date; the
candidate query leaves out what a marker already covers, so a steady tick reads only what is
new, and the claim makes two ticks at once remind once. What one tick claims for one person
goes out as one DM (a rep with three tasks due tomorrow gets one reminder listing them).
Every query is batched over all candidates; the number of statements does not grow with them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import String, and_, cast, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import Leave, Member, OutboxMessage, OutboxStatus, Role, SalesTeam, Task, TaskAssignee, TaskStatus, Workspace
from bot.services.actors import safe_zone
from bot.services.tasks import TaskRow, _rows
from bot.services.team_settings import REMINDER_DAYS_MAX, TeamSchedule

# Overdue tasks older than this are not escalated any more: they were, long ago, or predate the setting.
ESCALATE_LOOKBACK_DAYS = 60
# A marker must outlive the look-back, or a task still open would be reminded or escalated again:
# housekeeping keeps marker rows this long whatever the workspace's retention.
MARKER_KEEP_DAYS = ESCALATE_LOOKBACK_DAYS + 30
OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
# What one DM lists (the rest is counted): two blocks a reminded task, one an escalated one, in 50 blocks.
REMINDER_ROWS_MAX = 20
ESCALATION_ROWS_MAX = 40
_CHUNK = 500


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


REMIND = "reminded"  # marker keys: reminded:<workspace>:<task>:<due>:<member>
ESCALATE = "escalated"  # escalated:<workspace>:<task>:<due>:<team>


def marker_key(kind: str, workspace_id: int, task_id: int, due: date, who: int) -> str:
    """The outbox key that says a task was reminded (`who`: the assignee's member id) or escalated (`who`: the team id) for a due date."""
    return f"{kind}:{workspace_id}:{task_id}:{due.isoformat()}:{who}"


def _marker_sql(kind: str, who):
    """marker_key, built by the database for the candidate query (`||` on both SQLite and PostgreSQL)."""
    sep = literal(":", String)
    return (literal(kind, String) + sep + cast(Task.workspace_id, String) + sep + cast(Task.id, String) + sep
            + cast(Task.due_date, String) + sep + cast(who, String))


@dataclass
class Nudge:
    """One DM due now to one person: the tasks it names (reminders: theirs; escalations: their reps')."""

    workspace_id: int
    slack_team_id: str
    user_id: str  # the recipient
    locale: str
    today: date  # the recipient's local date
    rows: list[TaskRow] = field(default_factory=list)  # the first ones, by due date, that the DM lists
    total: int = 0  # how many tasks it is about
    order: list[tuple[date, int]] = field(default_factory=list)  # (due date, task id) of all of them
    reps: dict[int, list[str]] = field(default_factory=dict)  # escalations: task id -> the assignees it is about
    days_overdue: dict[int, int] = field(default_factory=dict)  # escalations: task id -> working days overdue
    markers: list[str] = field(default_factory=list)

    def key(self, kind: str) -> str:
        """The DM's own outbox key: recipient, local date and the markers it carries (so a later batch is another key)."""
        digest = hashlib.sha1("|".join(sorted(self.markers)).encode()).hexdigest()[:12]
        return f"{kind}:{self.slack_team_id}:{self.user_id}:{self.today.isoformat()}:{digest}"


@dataclass
class _Candidate:
    task_id: int
    workspace_id: int
    due: date
    created_at: datetime
    member: Member
    team: SalesTeam
    schedule: TeamSchedule
    slack_team_id: str
    today: date  # the assignee's local date


@dataclass
class _Person:
    member: Member
    team: SalesTeam
    schedule: TeamSchedule
    today: date


async def _candidates(session: AsyncSession, *, now: datetime, kind: str, lo_days: int, hi_days: int) -> list[_Candidate]:
    """(task, assignee) pairs of open tasks due between `lo_days` and `hi_days` around today, with no marker of `kind` yet,
    the assignee on a team, not on leave, on a working day and past the team's reminder time."""
    utc_today = now.astimezone(timezone.utc).date()
    who = TaskAssignee.member_id if kind == REMIND else Member.team_id
    marked = exists().where(OutboxMessage.key == _marker_sql(kind, who))
    q = (
        select(Task.id, Task.workspace_id, Task.due_date, Task.created_at, TaskAssignee.member_id)
        .join(TaskAssignee, TaskAssignee.task_id == Task.id)
        .join(Member, Member.id == TaskAssignee.member_id)
        .where(Task.status.in_(OPEN_STATUSES), Task.due_date.is_not(None), Member.team_id.is_not(None), Member.role.is_not(None),
               Task.due_date >= utc_today + timedelta(days=lo_days - 1), Task.due_date <= utc_today + timedelta(days=hi_days + 1), ~marked)
        .order_by(Task.id, TaskAssignee.member_id)
    )
    pairs = (await session.execute(q)).all()
    if not pairs:
        return []
    member_ids = {p[4] for p in pairs}
    members = {m.id: m for m in (await session.execute(select(Member).where(Member.id.in_(member_ids)))).scalars()}
    teams = {t.id: t for t in (await session.execute(select(SalesTeam).where(SalesTeam.id.in_({m.team_id for m in members.values()})))).scalars()}
    wq = select(Workspace.id, Workspace.slack_team_id).where(Workspace.id.in_({m.workspace_id for m in members.values()}))
    spaces = dict((await session.execute(wq)).all())
    away: dict[int, list[tuple[date, date]]] = defaultdict(list)
    lq = select(Leave.member_id, Leave.start, Leave.end).where(and_(Leave.member_id.in_(member_ids), Leave.start <= utc_today + timedelta(days=1), Leave.end >= utc_today - timedelta(days=1)))
    for member_id, start, end in (await session.execute(lq)).all():
        away[member_id].append((start, end))
    schedules: dict[int, TeamSchedule] = {}
    people: dict[int, _Person | None] = {}
    for member in members.values():  # once per person, not per task
        team = teams.get(member.team_id)
        if team is None or team.workspace_id != member.workspace_id:
            people[member.id] = None
            continue
        schedule = schedules.get(team.id) or schedules.setdefault(team.id, TeamSchedule.from_team(team))
        zone = safe_zone(member.tz)
        today = now.astimezone(zone).date()
        ready = (schedule.is_working_day(today) and not any(s <= today <= e for s, e in away.get(member.id, ()))
                 and datetime.combine(today, schedule.reminder_time, zone) <= now)
        # Not ready: they wait for a working day, the end of the leave, or the reminder time.
        people[member.id] = _Person(member, team, schedule, today) if ready else None
    out = []
    for task_id, ws_id, due, created_at, member_id in pairs:
        p = people.get(member_id)
        if p is not None:
            out.append(_Candidate(task_id, ws_id, due, created_at, p.member, p.team, p.schedule, spaces.get(ws_id, ""), p.today))
    return out


async def claim_markers(session: AsyncSession, markers: list[tuple[int, str, str, str]], *, now: datetime) -> set[str]:
    """Insert (workspace id, key, job, channel) markers as skipped outbox rows; returns the keys this call inserted.

    A key another tick inserted first is not returned, so what it covers is not sent twice.
    """
    table = OutboxMessage.__table__
    won: set[str] = set()
    for start in range(0, len(markers), _CHUNK):
        rows = [
            {"workspace_id": ws, "key": key, "job": job, "channel": channel, "payload": '{"text": "", "blocks": [], "files": []}',
             "status": OutboxStatus.SKIPPED, "attempts": 0, "not_before": now, "expires_at": None, "created_at": now}
            for ws, key, job, channel in markers[start : start + _CHUNK]
        ]
        won.update((await upsert(session, table, rows, keys=["key"], returning=[table.c.key])).scalars())
    return won


async def _task_rows(session: AsyncSession, task_ids: set[int]) -> dict[int, TaskRow]:
    """The tasks with their customers and assignees, in a few statements whatever their number."""
    tasks: list[Task] = []
    ids = sorted(task_ids)
    for start in range(0, len(ids), _CHUNK):
        tasks += (await session.execute(select(Task).where(Task.id.in_(ids[start : start + _CHUNK])))).scalars()
    return {r.task.id: r for r in await _rows(session, tasks)}


async def due_reminders(session: AsyncSession, *, now: datetime, job: str = "reminders") -> list[Nudge]:
    """Claim the reminders due at `now` and group them into one DM per assignee."""
    # A reminder is at most REMINDER_DAYS_MAX working days (two weeks and a bit of calendar) ahead.
    picked: list[_Candidate] = []
    for c in await _candidates(session, now=now, kind=REMIND, lo_days=-1, hi_days=REMINDER_DAYS_MAX * 7 // 5 + 7):
        remind_on = reminder_day(c.due, c.schedule, c.schedule.reminder_days)
        if not remind_on <= c.today <= c.due:
            continue
        remind_at = datetime.combine(remind_on, c.schedule.reminder_time, safe_zone(c.member.tz)).astimezone(timezone.utc)
        if remind_at <= c.created_at <= now:
            continue  # made after its reminder moment: its card is reminder enough
        picked.append(c)
    keys = {id(c): marker_key(REMIND, c.workspace_id, c.task_id, c.due, c.member.id) for c in picked}
    won = await claim_markers(session, [(c.workspace_id, keys[id(c)], job, c.member.slack_user_id) for c in picked], now=now)
    picked = [c for c in picked if keys[id(c)] in won]
    nudges: dict[int, Nudge] = {}
    for c in picked:
        n = nudges.get(c.member.id) or nudges.setdefault(c.member.id, Nudge(c.workspace_id, c.slack_team_id, c.member.slack_user_id, c.member.locale, c.today))
        n.order.append((c.due, c.task_id))
        n.markers.append(keys[id(c)])
    return await _fill(session, list(nudges.values()), REMINDER_ROWS_MAX)


async def _fill(session: AsyncSession, nudges: list[Nudge], limit: int) -> list[Nudge]:
    """Load the tasks each DM lists (its first `limit` by due date), in a few statements for all of them."""
    for n in nudges:
        n.order.sort()
        n.total = len(n.order)
    rows = await _task_rows(session, {task_id for n in nudges for _, task_id in n.order[:limit]})
    for n in nudges:
        n.rows = [rows[task_id] for _, task_id in n.order[:limit]]
    return nudges


async def due_escalations(session: AsyncSession, *, now: datetime, job: str = "escalations") -> list[Nudge]:
    """Claim the escalations due at `now` (per task, due date and team) and group them into one DM per manager."""
    overdue: dict[tuple[int, int], list[_Candidate]] = defaultdict(list)  # (task, team) -> its assignees ready now
    late: dict[tuple[int, int], int] = {}
    for c in await _candidates(session, now=now, kind=ESCALATE, lo_days=-ESCALATE_LOOKBACK_DAYS, hi_days=-1):
        n = c.schedule.escalate_days
        if c.due < c.today and c.today >= shift_working_days(c.due, n, c.schedule.working_days):
            overdue[(c.task_id, c.team.id)].append(c)
            # Working days overdue today: N, or more when leave held the escalation back.
            late[(c.task_id, c.team.id)] = sum(1 for i in range(1, (c.today - c.due).days + 1) if c.schedule.is_working_day(c.due + timedelta(days=i)))
    if not overdue:
        return []
    mq = select(Member).where(Member.team_id.in_({team for _, team in overdue}), Member.role == Role.MANAGER).order_by(Member.slack_user_id)
    managers: dict[int, list[Member]] = defaultdict(list)
    for m in (await session.execute(mq)).scalars():
        managers[m.team_id].append(m)
    overdue = {k: v for k, v in overdue.items() if managers.get(k[1])}  # a team without a manager: nobody to tell yet
    keys = {k: marker_key(ESCALATE, v[0].workspace_id, k[0], v[0].due, k[1]) for k, v in overdue.items()}
    won = await claim_markers(session, [(v[0].workspace_id, keys[k], job, managers[k[1]][0].slack_user_id) for k, v in overdue.items()], now=now)
    overdue = {k: v for k, v in overdue.items() if keys[k] in won}
    nudges: dict[int, Nudge] = {}
    for (task_id, team_id), cands in overdue.items():
        for manager in managers[team_id]:
            n = nudges.get(manager.id)
            if n is None:
                today = now.astimezone(safe_zone(manager.tz)).date()
                n = nudges[manager.id] = Nudge(cands[0].workspace_id, cands[0].slack_team_id, manager.slack_user_id, manager.locale, today)
            if task_id not in n.reps:
                n.order.append((cands[0].due, task_id))
            n.reps.setdefault(task_id, []).extend(c.member.slack_user_id for c in cands)
            n.days_overdue[task_id] = max(n.days_overdue.get(task_id, 0), late[(task_id, team_id)])
            n.markers.append(keys[(task_id, team_id)])
    for n in nudges.values():
        n.reps = {t: sorted(set(u)) for t, u in n.reps.items()}
    return await _fill(session, list(nudges.values()), ESCALATION_ROWS_MAX)
