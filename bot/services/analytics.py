"""Pipeline and KPI figures for a team or a rep, computed in a fixed number of SQL statements.

Every query is scoped by workspace and aggregated in the database (GROUP BY, conditional
sums, EXISTS), so the number of statements does not grow with reps, deals or rows. Money
stays in integer minor units; ratios are Decimal; periods are dates in the team's time zone
turned into UTC bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import (
    Activity, Customer, Deal, DealStageChange, DealStatus, Expense, Member, SalesTeam, Stage, Survey, Target,
    Task, TaskAssignee, TaskStatus,
)
from bot.periods import MONTH, QUARTER, Period, parse_period, period_containing
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ServiceError

STAGES = list(Stage)
STAGE_RANK = {s.value: i for i, s in enumerate(STAGES)}
STALE_LIST_MAX = 10
SATISFIED_MIN_SCORE = 4
BASIS_POINTS = Decimal(10000)


# --------------------------------------------------------------------------- periods

class PeriodError(ServiceError):
    """The text is not a period we understand."""

    key = "kpi.error.period"


def resolve_period(text: str | None, today: date, default_kind: str) -> Period:
    """The period typed (`2027`, `2027-Q1`, `2027-03`, `2027-W05`), or the one of `default_kind` holding `today`."""
    if not text:
        return period_containing(default_kind, today)
    try:
        return parse_period(text)
    except ValueError:
        raise PeriodError(value=text.strip()) from None


# --------------------------------------------------------------------------- small helpers

def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator as a Decimal, or None (shown as n/a) when the denominator is 0."""
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def growth_rate(current: int, previous: int) -> Decimal | None:
    """(current − previous) / previous; None when the previous period sold nothing."""
    return ratio(current - previous, previous)


def _seconds_between(later, earlier, dialect: str):
    """Seconds from `earlier` to `later`, in SQL for either database."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400


def _to_decimal(value) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        # julianday arithmetic on SQLite yields a float of seconds; milliseconds are plenty.
        return Decimal(repr(round(value, 3)))
    return Decimal(value)


def require_roster(actor: Actor) -> None:
    """Members on no team see no figures (admins may, for any team)."""
    if not actor.on_roster and not actor.is_admin:
        raise NotOnRoster()


async def resolve_team(session: AsyncSession, *, actor: Actor, team_name: str | None = None) -> SalesTeam:
    """The team a report is about: the actor's own, or a named one (admins: any; others: only their own)."""
    require_roster(actor)
    ws = actor.workspace.id
    if team_name:
        team = (await session.execute(select(SalesTeam).where(SalesTeam.workspace_id == ws, SalesTeam.name == team_name))).scalar_one_or_none()
        if team is None or (not actor.is_admin and team.id != actor.member.team_id):
            # The same answer whether the team exists or not: nobody learns another team's name.
            raise PermissionDenied("kpi.error.other_team")
        return team
    if actor.member.team_id is not None:
        team = await session.get(SalesTeam, actor.member.team_id)
        if team is not None and team.workspace_id == ws:
            return team
    teams = list((await session.execute(select(SalesTeam).where(SalesTeam.workspace_id == ws).order_by(SalesTeam.id).limit(2))).scalars())
    if len(teams) == 1 and actor.is_admin:
        return teams[0]
    raise ServiceError("kpi.error.pick_team")


# --------------------------------------------------------------------------- pipeline

@dataclass
class StageLine:
    """One pipeline stage: open deals now, and the flow through the stage in the period."""

    stage: Stage
    open_count: int = 0
    open_value: int = 0  # minor units
    stale_count: int = 0
    entered: int = 0  # deals that entered the stage in the period
    advanced: int = 0  # of those, deals that later reached a later stage or were won
    stays: int = 0  # stays in the stage that ended in the period
    stay_seconds: Decimal = Decimal(0)

    @property
    def conversion(self) -> Decimal | None:
        """advanced / entered (None when no deal entered)."""
        return ratio(self.advanced, self.entered)

    @property
    def avg_days(self) -> Decimal | None:
        """Average length in days of the stays that ended in the period (None when none did)."""
        if not self.stays:
            return None
        return self.stay_seconds / self.stays / Decimal(86400)


@dataclass
class StaleDeal:
    """An open deal that has sat in its stage longer than the team allows."""

    deal_id: int
    title: str
    customer: str
    owner_user_id: str
    stage: Stage
    amount: int
    days: int


@dataclass
class PipelineReport:
    """What `/pipeline` shows."""

    team: SalesTeam
    period: Period
    currency: str
    stale_days: int
    stages: list[StageLine]
    stale: list[StaleDeal] = field(default_factory=list)
    effective_communications: int = 0

    def line(self, stage: Stage) -> StageLine:
        """The line of one stage."""
        return self.stages[STAGE_RANK[stage.value]]

    @property
    def leads_found(self) -> int:
        """Deals that entered the lead stage in the period."""
        return self.line(Stage.LEAD).entered

    @property
    def needs_analysed(self) -> int:
        """Deals that entered needs analysis in the period."""
        return self.line(Stage.NEEDS_ANALYSIS).entered

    @property
    def stale_total(self) -> int:
        """Open deals stale in their stage, all stages."""
        return sum(s.stale_count for s in self.stages)

    @property
    def open_count(self) -> int:
        """Open deals, all stages."""
        return sum(s.open_count for s in self.stages)

    @property
    def open_value(self) -> int:
        """Value of the open deals, all stages."""
        return sum(s.open_value for s in self.stages)


async def pipeline_report(
    session: AsyncSession, *, actor: Actor, now: datetime, period_text: str | None = None, team_name: str | None = None,
) -> PipelineReport:
    """The team's pipeline: open deals per stage, conversion, days in stage, stale deals and stage metrics.

    Conversion of stage S over the period: of the team's deals that entered S in the period
    (a stage change with to_stage = S and status open, changed_at in the period; a deal that
    entered S twice counts once), the share whose next move out of S went forward: to a later
    stage, or won. Deals still in S have not converted (yet).
    Average days in S: over the stays in S that ended in the period (the deal's next change
    was recorded then), the time from entering S to leaving it.
    A deal is stale when it is open and entered its current stage more than `stale_days` ago.
    Members see their own team; admins any team.
    """
    team = await resolve_team(session, actor=actor, team_name=team_name)
    tz = safe_zone(team.timezone)
    period = resolve_period(period_text, now.astimezone(tz).date(), QUARTER)
    start, end = period.utc_range(tz)
    ws = actor.workspace.id
    dialect = session.bind.dialect.name
    stale_days = team.stale_days or 14
    cutoff = now - timedelta(days=stale_days)
    lines = [StageLine(stage=s) for s in STAGES]
    by_value = {s.value: line for s, line in zip(STAGES, lines)}

    def line_for(stage) -> StageLine:
        return by_value[stage.value if isinstance(stage, Stage) else stage]

    # 1. Open deals per stage, with how many of them are stale.
    q = (
        select(Deal.stage, func.count(), func.coalesce(func.sum(Deal.amount), 0), func.sum(case((Deal.stage_entered_at < cutoff, 1), else_=0)))
        .where(Deal.workspace_id == ws, Deal.team_id == team.id, Deal.status == DealStatus.OPEN)
        .group_by(Deal.stage)
    )
    for stage, n, value, stale in (await session.execute(q)).all():
        line = line_for(stage)
        line.open_count, line.open_value, line.stale_count = int(n), int(value), int(stale or 0)

    # 2. The oldest stale deals, with names for the list.
    q = (
        select(Deal.id, Deal.title, Customer.name, Member.slack_user_id, Deal.stage, Deal.amount, Deal.stage_entered_at)
        .join(Customer, Customer.id == Deal.customer_id)
        .join(Member, Member.id == Deal.owner_id)
        .where(Deal.workspace_id == ws, Deal.team_id == team.id, Deal.status == DealStatus.OPEN, Deal.stage_entered_at < cutoff)
        .order_by(Deal.stage_entered_at, Deal.id)
        .limit(STALE_LIST_MAX)
    )
    stale = [
        StaleDeal(deal_id=i, title=title, customer=cust, owner_user_id=owner, stage=Stage(stage), amount=int(amount), days=(now - entered).days)
        for i, title, cust, owner, stage, amount, entered in (await session.execute(q)).all()
    ]

    # 3. Conversion: the deals that entered each stage in the period, and those whose next move
    # out of it went forward (DealStageChange.advanced is set when that next move is recorded).
    c = DealStageChange
    of_team = (c.workspace_id == ws, c.team_id == team.id, c.status == DealStatus.OPEN)
    # Only indexed columns are read, so each scan stays inside its covering index.
    entered = select(c.deal_id, c.to_stage, c.advanced).where(*of_team, c.changed_at >= start, c.changed_at < end).subquery()
    q = (
        select(entered.c.to_stage, func.count(distinct(entered.c.deal_id)),
               func.count(distinct(case((entered.c.advanced.is_(True), entered.c.deal_id)))))
        .group_by(entered.c.to_stage)
    )
    for stage, n, advanced in (await session.execute(q)).all():
        line = line_for(stage)
        line.entered, line.advanced = int(n), int(advanced or 0)

    # 4. Days in stage: the stays that ended in the period, from entering the stage to leaving it.
    left = select(c.to_stage, c.left_at, c.changed_at).where(*of_team, c.left_at >= start, c.left_at < end).subquery()
    q = (
        select(left.c.to_stage, func.count(), func.sum(_seconds_between(left.c.left_at, left.c.changed_at, dialect)))
        .group_by(left.c.to_stage)
    )
    for stage, n, seconds in (await session.execute(q)).all():
        line = line_for(stage)
        line.stays, line.stay_seconds = int(n), _to_decimal(seconds)

    # 5. Effective communications: effective activities of the team's members in the period.
    q = (
        select(func.count())
        .select_from(Activity)
        .join(Member, Member.id == Activity.member_id)
        .where(Activity.workspace_id == ws, Member.team_id == team.id, Activity.effective.is_(True),
               Activity.occurred_at >= start, Activity.occurred_at < end)
    )
    effective = int((await session.execute(q)).scalar_one())

    return PipelineReport(team=team, period=period, currency=actor.workspace.currency, stale_days=stale_days, stages=lines,
                          stale=stale, effective_communications=effective)


# --------------------------------------------------------------------------- KPIs

@dataclass
class KpiReport:
    """What `/kpi` shows for a rep (member set) or a whole team (member None)."""

    team: SalesTeam
    member: Member | None
    period: Period
    currency: str
    sales: int = 0
    previous_sales: int = 0
    sales_target: int | None = None
    satisfied: int = 0
    answered: int = 0
    new_customers: int = 0
    cost: int = 0
    tasks_due: int = 0
    tasks_on_time: int = 0

    @property
    def growth(self) -> Decimal | None:
        """(sales − previous sales) / previous sales; None when the previous period sold nothing."""
        return growth_rate(self.sales, self.previous_sales)

    @property
    def growth_target(self) -> Decimal:
        """The team's growth target as a ratio (1000 bp = 10%)."""
        return Decimal(self.team.growth_target_bp) / BASIS_POINTS

    @property
    def satisfaction(self) -> Decimal | None:
        """Answers scoring 4–5 / all answers in the period; None without answers."""
        return ratio(self.satisfied, self.answered)

    @property
    def satisfaction_target(self) -> Decimal:
        """The team's satisfaction target as a ratio (9000 bp = 90%)."""
        return Decimal(self.team.satisfaction_target_bp) / BASIS_POINTS

    @property
    def cost_ratio(self) -> Decimal | None:
        """Expenses / sales; None when nothing was sold."""
        return ratio(self.cost, self.sales)

    @property
    def completion(self) -> Decimal | None:
        """Tasks done by their due date / tasks due in the period; None when none were due."""
        return ratio(self.tasks_on_time, self.tasks_due)

    def verdict(self, kpi: str) -> bool | None:
        """True (met) / False (missed) for a KPI with a target; None without a target or a value."""
        value, target = {
            "sales": (self.sales, self.sales_target),
            "growth": (self.growth, self.growth_target),
            "satisfaction": (self.satisfaction, self.satisfaction_target),
        }.get(kpi, (None, None))
        if value is None or target is None:
            return None
        return value >= target


def _can_see_member(actor: Actor, member: Member) -> bool:
    if actor.is_admin or member.id == actor.member.id:
        return True
    return actor.is_manager and actor.member.team_id is not None and member.team_id == actor.member.team_id


async def kpi_report(
    session: AsyncSession, *, actor: Actor, now: datetime, rep_user_id: str | None = None, period_text: str | None = None,
    team_name: str | None = None,
) -> KpiReport:
    """KPIs of a rep or a team for a period (default: the current month in the team's zone).

    Reps see their own figures only; managers any member of their team and the team total;
    admins anyone. A refused request raises before anything is read.
    """
    require_roster(actor)
    ws = actor.workspace.id
    member: Member | None = None
    if rep_user_id is None and not (actor.is_admin or actor.is_manager):
        member = actor.member  # a rep's /kpi is their own
        if team_name:
            await resolve_team(session, actor=actor, team_name=team_name)  # refuses another team's name
    elif rep_user_id is not None:
        if not (actor.is_admin or actor.is_manager) and rep_user_id != actor.member.slack_user_id:
            raise PermissionDenied("kpi.error.own_only")
        q = select(Member).where(Member.workspace_id == ws, Member.slack_user_id == rep_user_id)
        member = (await session.execute(q)).scalar_one_or_none()
        if member is None or not _can_see_member(actor, member):
            raise PermissionDenied("kpi.error.other_team")
        if member.role is None or member.team_id is None:
            raise NotFound("kpi.error.not_on_team", user=rep_user_id)
    if member is not None:
        team = await session.get(SalesTeam, member.team_id)
    else:
        team = await resolve_team(session, actor=actor, team_name=team_name)
    team_tz = safe_zone(team.timezone)
    period = resolve_period(period_text, now.astimezone(team_tz).date(), MONTH)
    report = KpiReport(team=team, member=member, period=period, currency=actor.workspace.currency)
    await _fill_kpis(session, report, ws=ws, tz=team_tz, task_tz=safe_zone(member.tz) if member else team_tz)
    return report


async def _fill_kpis(session: AsyncSession, r: KpiReport, *, ws: int, tz: ZoneInfo, task_tz: ZoneInfo) -> None:
    """Run the KPI queries (a fixed number, whatever the size of the team) into the report."""
    p = r.period
    start, end = p.utc_range(tz)
    prev_start, prev_end = p.previous().utc_range(tz)
    rep = r.member
    team_members = select(Member.id).where(Member.workspace_id == ws, Member.team_id == r.team.id)
    deal_scope = Deal.owner_id == rep.id if rep else Deal.team_id == r.team.id

    # Sales now and in the previous equal period, in one pass over the won deals.
    def won_between(a, b):
        return func.coalesce(func.sum(case((and_(Deal.won_at >= a, Deal.won_at < b), Deal.amount), else_=0)), 0)

    q = select(won_between(start, end), won_between(prev_start, prev_end)).where(
        Deal.workspace_id == ws, Deal.status == DealStatus.WON, deal_scope,
        Deal.won_at >= min(start, prev_start), Deal.won_at < max(end, prev_end),
    )
    sales, previous = (await session.execute(q)).one()
    r.sales, r.previous_sales = int(sales), int(previous)

    # Customer satisfaction: surveys answered in the period by the rep's (or team's) customers.
    q = select(func.count(), func.coalesce(func.sum(case((Survey.score >= SATISFIED_MIN_SCORE, 1), else_=0)), 0)).where(
        Survey.workspace_id == ws, Survey.score.is_not(None), Survey.answered_at >= start, Survey.answered_at < end,
        Survey.rep_id == rep.id if rep else Survey.rep_id.in_(team_members),
    )
    answered, satisfied = (await session.execute(q)).one()
    r.answered, r.satisfied = int(answered), int(satisfied)

    # New customers: the won deal that is the customer's first win ever (earliest won_at, then
    # lowest id) falls in the period and belongs to the scope.
    earlier = aliased(Deal)
    first_win = ~exists().where(
        earlier.workspace_id == ws, earlier.customer_id == Deal.customer_id, earlier.status == DealStatus.WON,
        or_(earlier.won_at < Deal.won_at, and_(earlier.won_at == Deal.won_at, earlier.id < Deal.id)),
    )
    q = select(func.count(distinct(Deal.customer_id))).where(
        Deal.workspace_id == ws, Deal.status == DealStatus.WON, deal_scope, Deal.won_at >= start, Deal.won_at < end, first_win,
    )
    r.new_customers = int((await session.execute(q)).scalar_one())

    # Sales cost: expenses spent in the period (spent_on is already a local date).
    q = select(func.coalesce(func.sum(Expense.amount), 0)).where(
        Expense.workspace_id == ws, Expense.spent_on >= p.start, Expense.spent_on < p.end,
        Expense.member_id == rep.id if rep else Expense.member_id.in_(team_members),
    )
    r.cost = int((await session.execute(q)).scalar_one())

    # Task completion: tasks due in the period; on time when completed on or before the due
    # date in the member's (team's) zone. The zone conversion is done here, per row fetched
    # in one statement, because the UTC offset of a local day changes with DST.
    q = select(Task.due_date, Task.status, Task.completed_at).where(
        Task.workspace_id == ws, Task.due_date >= p.start, Task.due_date < p.end,
    )
    if rep:
        q = q.join(TaskAssignee, TaskAssignee.task_id == Task.id).where(TaskAssignee.member_id == rep.id)
    else:
        q = q.where(Task.team_id == r.team.id)
    due = on_time = 0
    for due_date, status, completed_at in (await session.execute(q)).all():
        due += 1
        if status == TaskStatus.DONE and completed_at is not None and completed_at.astimezone(task_tz).date() <= due_date:
            on_time += 1
    r.tasks_due, r.tasks_on_time = due, on_time

    # The sales target of the period, when one was set: the team total, or the rep's line.
    q = select(Target.amount).where(Target.workspace_id == ws, Target.team_id == r.team.id, Target.period == p.label)
    if rep:
        q = q.where(Target.dimension == "rep", Target.key.in_([rep.slack_user_id, str(rep.id)]))
    else:
        q = q.where(Target.dimension == "total", Target.key == "")
    r.sales_target = (await session.execute(q.limit(1))).scalar_one_or_none()


__all__ = [
    "KpiReport", "PeriodError", "PipelineReport", "StageLine", "StaleDeal", "growth_rate", "kpi_report", "pipeline_report",
    "ratio", "resolve_period", "resolve_team",
]
