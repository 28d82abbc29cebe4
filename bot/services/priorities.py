"""A rep's morning priorities: who is due a DM now, and what goes in it, in a fixed number of queries.

The morning DM window of a member for a local date D is [D at the team's daily time in the
member's own zone, the member's local midnight ending D). At any instant a member has at
most one open window (their current local date), so composing at every tick yields one key
per member and working morning, whatever the DST changes: a daily time that falls into a
spring-forward gap resolves to the instant after the gap, an ambiguous one to its first
occurrence.

Every query is batched over all recipients (window functions for the top items per rep,
GROUP BY for the sums); the number of statements never grows with the number of reps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    OPEN_TASK_STATUSES, Customer, Deal, DealStatus, Leave, Member, Priority, Role, SalesTeam, Stage, Task, TaskAssignee, TaskStatus,
    UTCDateTime, Workspace, utcnow,
)
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotFound, ServiceError
from bot.services.figures import RepKey, rep_month_lines
from bot.services.targets import TargetLine
from bot.services.tasks import _load_visible
from bot.services.team_settings import TeamSchedule

ITEMS_MAX = 10  # what one morning DM lists; the rest is one click away ("See all")
DAILY_ROLES = (Role.REP,)
# Below this many recipients the queries name them (IN); above it they scan every rep and
# drop the others in Python, which is cheaper than a huge IN list and keeps bind limits safe.
ID_FILTER_MAX = 500


@dataclass(frozen=True)
class Recipient:
    """A member due a morning DM: their team, schedule, local date and the DM's window."""

    workspace_id: int
    slack_team_id: str
    currency: str
    member: RepInfo
    team: SalesTeam
    schedule: TeamSchedule
    today: date  # the member's local date
    not_before: datetime  # UTC
    expires_at: datetime  # UTC


@dataclass(slots=True)
class PriorityTask:
    """An open task as the morning DM lists it."""

    task_id: int
    title: str
    priority: Priority
    due_date: date | None
    status: TaskStatus
    customer: str | None

    def bucket(self, today: date) -> int:
        """0 overdue, 1 due today, 2 anything else."""
        if self.due_date is None or self.due_date > today:
            return 2
        return 0 if self.due_date < today else 1


@dataclass(slots=True)
class StaleItem:
    """An open deal of the rep that has sat in its stage longer than the team allows."""

    deal_id: int
    title: str
    customer: str
    stage: Stage
    amount: int
    days: int


@dataclass
class Priorities:
    """One rep's morning: top tasks, stale deals and the month's attainment."""

    recipient: Recipient
    tasks: list[PriorityTask] = field(default_factory=list)
    overdue: int = 0
    due_today: int = 0
    open_total: int = 0
    stale: list[StaleItem] = field(default_factory=list)
    stale_total: int = 0
    month: TargetLine | None = None

    @property
    def actionable(self) -> bool:
        """Something to do: an open task or a stale deal."""
        return bool(self.open_total or self.stale_total)

    def items(self, limit: int = ITEMS_MAX) -> list[PriorityTask | StaleItem]:
        """Overdue tasks, tasks due today, stale deals, then the highest-priority open tasks; at most `limit`."""
        today = self.recipient.today
        urgent = [t for t in self.tasks if t.bucket(today) < 2]
        rest = [t for t in self.tasks if t.bucket(today) == 2]
        return (urgent + list(self.stale) + rest)[:limit]


# --------------------------------------------------------------------------- schedule

def daily_window(schedule: TeamSchedule, zone_name: str, day: date) -> tuple[datetime, datetime]:
    """The UTC window of a member's morning DM for local date `day`: from the daily time to local midnight."""
    zone = safe_zone(zone_name)
    start = datetime.combine(day, schedule.daily_time, zone)
    # Round-trip through UTC so a wall time inside a DST gap becomes a real instant.
    start_utc = start.astimezone(timezone.utc)
    end_utc = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return start_utc, end_utc


def morning_due(schedule: TeamSchedule, zone_name: str, now: datetime) -> tuple[date, datetime, datetime] | None:
    """(local date, window start, window end) when a member's morning DM is due at `now`, else None. Pure."""
    today = now.astimezone(safe_zone(zone_name)).date()
    if not schedule.is_working_day(today):
        return None
    start, end = daily_window(schedule, zone_name, today)
    return (today, start, end) if start <= now < end else None


def daily_key(slack_team_id: str, user_id: str, day: date) -> str:
    """The outbox key of a member's morning DM for a local date."""
    return f"daily:{slack_team_id}:{user_id}:{day.isoformat()}"


@dataclass(frozen=True)
class RepInfo:
    """The member columns a morning DM needs (read as plain columns: ten thousand ORM objects are slow)."""

    id: int
    workspace_id: int
    slack_user_id: str
    name: str
    tz: str
    locale: str
    team_id: int


async def _members(session: AsyncSession, *, member_ids: list[int] | None = None):
    """(RepInfo, team, slack team id, currency) of reps on a team (or of the given members): two queries."""
    q = (
        select(Member.id, Member.workspace_id, Member.slack_user_id, Member.name, Member.tz, Member.locale, Member.team_id,
               Workspace.slack_team_id, Workspace.currency)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(Member.team_id.is_not(None))
    )
    if member_ids is not None:
        q = q.where(Member.id.in_(member_ids))
    else:
        q = q.where(Member.role.in_(DAILY_ROLES))
    rows = (await session.execute(q.order_by(Member.workspace_id, Member.slack_user_id))).all()
    if not rows:
        return []
    tq = select(SalesTeam)
    if member_ids is not None:
        tq = tq.where(SalesTeam.id.in_({r[6] for r in rows}))
    teams = {t.id: t for t in (await session.execute(tq)).scalars()}
    out = []
    for mid, ws_id, user_id, name, tz, locale, team_id, slack_team_id, currency in rows:
        team = teams.get(team_id)
        if team is not None and team.workspace_id == ws_id:
            out.append((RepInfo(mid, ws_id, user_id, name, tz, locale, team_id), team, slack_team_id, currency))
    return out


async def due_recipients(session: AsyncSession, *, now: datetime) -> list[Recipient]:
    """Reps whose morning DM window is open at `now` on one of their team's working days, leave excluded (two queries)."""
    schedules: dict[int, TeamSchedule] = {}
    out: list[Recipient] = []
    for member, team, slack_team_id, currency in await _members(session):
        schedule = schedules.get(team.id)
        if schedule is None:
            schedule = schedules[team.id] = TeamSchedule.from_team(team)
        due = morning_due(schedule, member.tz, now)
        if due is not None:
            out.append(Recipient(member.workspace_id, slack_team_id, currency or "CNY", member, team, schedule, *due))
    if not out:
        return out
    days = [r.today for r in out]
    q = select(Leave.member_id, Leave.start, Leave.end).where(Leave.start <= max(days), Leave.end >= min(days))
    away: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for member_id, start, end in (await session.execute(q)).all():
        away[member_id].append((start, end))
    return [r for r in out if not any(s <= r.today <= e for s, e in away.get(r.member.id, ()))]


async def recipient_for(session: AsyncSession, *, member: Member, now: datetime) -> Recipient:
    """The recipient record of one member regardless of schedule (to redraw their DM after a click)."""
    rows = await _members(session, member_ids=[member.id])
    if not rows:
        raise NotFound("daily.error.no_team")
    m, team, slack_team_id, currency = rows[0]
    schedule = TeamSchedule.from_team(team)
    today = now.astimezone(safe_zone(m.tz)).date()
    start, end = daily_window(schedule, m.tz, today)
    return Recipient(m.workspace_id, slack_team_id, currency or "CNY", m, team, schedule, today, start, end)


# --------------------------------------------------------------------------- contents

def _ts(value: datetime):
    # A bound instant typed like the columns it meets, so both databases compare it as UTC.
    return literal(value, UTCDateTime())


async def load_priorities(session: AsyncSession, *, recipients: list[Recipient], now: datetime) -> list[Priorities]:
    """Each recipient's priorities, in the recipients' order: two task queries per local date (three dates at most), three more."""
    if not recipients:
        return []
    out = {r.member.id: Priorities(recipient=r) for r in recipients}
    ids = list(out) if len(out) <= ID_FILTER_MAX else None

    def scope(q):
        if ids is not None:
            return q.where(Member.id.in_(ids))
        return q.where(Member.role.in_(DAILY_ROLES))

    # 1. Open tasks: the top ITEMS_MAX per rep with their counts, one statement per local date
    # (all zones share at most three dates at once), so "overdue" is exact for every rep.
    by_day: dict[date, set[str]] = defaultdict(set)
    for r in recipients:
        by_day[r.today].add(r.member.tz)
    for day, zones in by_day.items():
        bucket = case((Task.due_date < day, 0), (Task.due_date == day, 1), else_=2)
        ranked = scope(
            select(
                TaskAssignee.member_id.label("member_id"), Task.id.label("task_id"),
                func.row_number().over(
                    partition_by=TaskAssignee.member_id,
                    order_by=(bucket, case((Task.due_date <= day, Task.due_date)), Task.priority, Task.due_date.is_(None), Task.due_date, Task.id),
                ).label("rn"),
            )
            .join(Task, Task.id == TaskAssignee.task_id)
            .join(Member, Member.id == TaskAssignee.member_id)
            .where(Task.workspace_id == Member.workspace_id, Task.status.in_(OPEN_TASK_STATUSES), Member.tz.in_(sorted(zones)))
        ).subquery()
        # The counts in a plain GROUP BY: one window per statement keeps the database to a single sort.
        counts = scope(
            select(TaskAssignee.member_id, func.sum(case((Task.due_date < day, 1), else_=0)), func.sum(case((Task.due_date == day, 1), else_=0)), func.count())
            .join(Task, Task.id == TaskAssignee.task_id)
            .join(Member, Member.id == TaskAssignee.member_id)
            .where(Task.workspace_id == Member.workspace_id, Task.status.in_(OPEN_TASK_STATUSES), Member.tz.in_(sorted(zones)))
            .group_by(TaskAssignee.member_id)
        )
        for member_id, overdue, due_today, total in (await session.execute(counts)).all():
            p = out.get(member_id)
            if p is not None and p.recipient.today == day:
                p.overdue, p.due_today, p.open_total = int(overdue or 0), int(due_today or 0), int(total or 0)
        # Titles and customers only for the rows kept: the window sorts narrow rows.
        q = (
            select(ranked.c.member_id, ranked.c.task_id, Task.title, Task.priority, Task.due_date, Task.status, Customer.name)
            .join(Task, Task.id == ranked.c.task_id)
            .outerjoin(Customer, Customer.id == Task.customer_id)
            .where(ranked.c.rn <= ITEMS_MAX)
            .order_by(ranked.c.member_id, ranked.c.rn)
        )
        priorities = {int(x): x for x in Priority}
        for member_id, task_id, title, priority, due_date, status, customer in (await session.execute(q)).all():
            p = out.get(member_id)
            if p is not None and p.recipient.today == day:
                p.tasks.append(PriorityTask(task_id, title, priorities.get(priority, Priority.MEDIUM), due_date, status, customer))

    # 2. Stale deals: each team's own age limit, as a CASE over the few distinct limits.
    limits = {r.schedule.stale_days for r in recipients}
    cutoff = case({d: _ts(now - timedelta(days=d)) for d in limits}, value=SalesTeam.stale_days, else_=_ts(now - timedelta(days=min(limits))))
    ranked = scope(
        select(
            Deal.owner_id.label("member_id"), Deal.id.label("deal_id"),
            func.row_number().over(partition_by=Deal.owner_id, order_by=(Deal.stage_entered_at, Deal.id)).label("rn"),
            func.count().over(partition_by=Deal.owner_id).label("n"),
        )
        .join(Member, Member.id == Deal.owner_id)
        .join(SalesTeam, SalesTeam.id == Member.team_id)
        .where(Deal.workspace_id == Member.workspace_id, Deal.status == DealStatus.OPEN, Deal.stage_entered_at < cutoff)
    ).subquery()
    q = (
        select(ranked.c.member_id, ranked.c.deal_id, Deal.title, Customer.name, Deal.stage, Deal.amount, Deal.stage_entered_at, ranked.c.n)
        .join(Deal, Deal.id == ranked.c.deal_id)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(ranked.c.rn <= ITEMS_MAX)
        .order_by(ranked.c.member_id, ranked.c.rn)
    )
    for member_id, deal_id, title, customer, stage, amount, entered, n in (await session.execute(q)).all():
        p = out.get(member_id)
        if p is None:
            continue
        p.stale.append(StaleItem(deal_id, title, customer, Stage(stage), int(amount), (now - entered).days))
        p.stale_total = int(n)

    # 3. The month so far against each rep's own month target (the team's month, in its zone), from the engine.
    as_of = {r.team.id: now.astimezone(r.schedule.zone).date() for r in recipients}
    lines = await rep_month_lines(session, reps=(RepKey(r.member.id, r.member.slack_user_id, r.team) for r in recipients), as_of=as_of)
    for member_id, line in lines.items():
        out[member_id].month = line
    return [out[r.member.id] for r in recipients]


# --------------------------------------------------------------------------- buttons

class TaskAlreadyDone(ServiceError):
    """A finished task cannot be snoozed."""

    key = "daily.error.done"


async def snooze_task(session: AsyncSession, *, actor: Actor, task_id: int, now: datetime | None = None) -> tuple[date, bool]:
    """Move an open task's due date to tomorrow in the actor's zone; returns (new due date, whether it changed).

    Who may: an assignee, a manager of the task's team (or of an assignee), an admin. Clicking
    twice on the same day changes the task once.
    """
    task = await _load_visible(session, actor=actor, task_id=task_id)
    if task.status not in OPEN_TASK_STATUSES:
        raise TaskAlreadyDone()
    now = now or utcnow()
    tomorrow = actor.today(now) + timedelta(days=1)
    result = await session.execute(
        update(Task)
        .where(Task.id == task_id, Task.workspace_id == actor.workspace.id, Task.status.in_(OPEN_TASK_STATUSES),
               or_(Task.due_date.is_(None), Task.due_date != tomorrow))
        .values(due_date=tomorrow, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return tomorrow, result.rowcount == 1


__all__ = [
    "ITEMS_MAX", "Priorities", "PriorityTask", "RepInfo", "Recipient", "StaleItem", "TaskAlreadyDone", "daily_key", "daily_window",
    "due_recipients", "load_priorities", "morning_due", "recipient_for", "snooze_task",
]
