"""The weekly and monthly meeting digest of a team: the figures, the per-rep table and the agenda.

A weekly digest reports the last full ISO week before the digest day; a monthly digest the
last full month. Everything is computed for one team in a fixed number of statements (about a
dozen, GROUP BY and conditional sums), whatever the number of reps, deals or tasks. Money
stays in integer minor units; ratios are Decimal or Fraction; dates are the team's local ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import String, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Customer, Deal, DealStageChange, DealStatus, Member, Role, SalesTeam, Stage, Suggestion, Survey, Target, Task, TaskAssignee,
    TaskStatus, UTCDateTime, Workspace,
)
from bot.periods import MONTH, WEEK, Period, period_containing
from bot.services.actors import safe_zone
from bot.services.analytics import STAGE_RANK, growth_rate, ratio
from bot.services.suggestions import new_suggestions
from bot.services.surveys import satisfaction
from bot.services.targets import TargetLine
from bot.services.team_settings import TeamSchedule

WEEKLY, MONTHLY = "weekly", "monthly"
LOW_SCORE_MAX = 2  # scores of 1 and 2 are low: the meeting looks at them
LIST_MAX = 10  # low scores, comments, suggestions and stale deals listed in the digest
STAGES = list(Stage)
AGENDA_KPI_KEYS = {"growth": "digest.agenda.kpi.growth", "satisfaction": "digest.agenda.kpi.satisfaction"}


def _ts(value: datetime):
    # A bound instant typed like the columns it meets, so both databases compare it as UTC.
    return literal(value, UTCDateTime())


def _rank(col):
    # The stage order lives in Python; the database sees it as a CASE over the stored values.
    return case(dict(STAGE_RANK), value=type_coerce(col, String))


def _utc(d: date, zone) -> datetime:
    return datetime.combine(d, time(0), zone).astimezone(timezone.utc)


@dataclass
class RepRow:
    """One rep's line in the digest's table."""

    member: Member
    sales: int = 0  # won in the reported period
    month_won: int = 0  # won in the month up to the end of the reported period
    month: TargetLine | None = None  # against the rep's own month target, when one exists
    done: int = 0  # tasks completed in the period
    overdue: int = 0  # open tasks past due on the digest day
    due: int = 0  # tasks due in the period
    on_time: int = 0  # of those, done by their due date (the rep's zone)

    @property
    def completion(self) -> Decimal | None:
        """Tasks done on time / tasks due in the period (None when none were due)."""
        return ratio(self.on_time, self.due)

    @property
    def behind(self) -> bool:
        """Behind pace on the month's own target."""
        return self.month is not None and self.month.pace == "behind"


@dataclass
class Movement:
    """The pipeline's movement in the period."""

    new_deals: int = 0  # deals created (their first stage change)
    advances: int = 0  # moves to a later stage
    won: int = 0
    won_amount: int = 0
    lost: int = 0
    lost_amount: int = 0


@dataclass
class Answer:
    """A satisfaction answer the meeting should see: a low score or a comment."""

    customer: str
    rep_user_id: str | None
    score: int
    comment: str


@dataclass
class StaleLine:
    """A stale deal named in the agenda."""

    title: str
    customer: str
    owner_user_id: str
    stage: Stage
    days: int


@dataclass
class Digest:
    """What the digest shows for one team and period."""

    team: SalesTeam
    schedule: TeamSchedule
    currency: str
    kind: str
    day: date  # the digest's local date
    period: Period  # the reported week or month
    month_label: str = ""  # the month of the reps' own targets (the one holding the period's last day)
    won: int = 0
    previous_won: int = 0
    period_line: TargetLine | None = None  # the period's own total target (a week's, or the month's)
    month_line: TargetLine | None = None  # weekly only: the month so far against its target
    reps: list[RepRow] = field(default_factory=list)
    movement: Movement = field(default_factory=Movement)
    funnel: list[tuple[Stage, int, int]] = field(default_factory=list)  # open deals now: stage, count, value
    answers: int = 0
    satisfied: int = 0
    notable: list[Answer] = field(default_factory=list)
    notable_total: int = 0
    low_total: int = 0
    suggestions: list[tuple[Suggestion, str | None]] = field(default_factory=list)  # with the author's user id
    stale_total: int = 0
    stale: list[StaleLine] = field(default_factory=list)

    @property
    def growth(self) -> Decimal | None:
        """Sales against the previous equal period; None when that sold nothing."""
        return growth_rate(self.won, self.previous_won)

    @property
    def satisfaction(self) -> Decimal | None:
        """Satisfied answers / answers in the period."""
        return ratio(self.satisfied, self.answers)

    @property
    def overdue_total(self) -> int:
        """Open tasks past due, all reps."""
        return sum(r.overdue for r in self.reps)

    def kpis(self) -> list[tuple[str, Decimal | None, Decimal, bool | None]]:
        """(kpi, value, target, met) for growth and satisfaction; met is None without a value."""
        out = []
        for name, value, target in (("growth", self.growth, self.schedule.growth_target),
                                    ("satisfaction", self.satisfaction, self.schedule.satisfaction_target)):
            out.append((name, value, target, None if value is None else value >= target))
        return out

    def agenda(self) -> list[tuple[str, dict]]:
        """The meeting's agenda from what is behind, most pressing first: (message id, params)."""
        items: list[tuple[str, dict]] = []
        line = self.period_line
        if line is not None and line.target and line.won < line.target:
            items.append(("digest.agenda.target", {"short": self.target_gap(line)}))
        if self.month_line is not None and self.month_line.pace == "behind":
            items.append(("digest.agenda.month_behind", {}))
        for name, value, target, met in self.kpis():
            if met is False:
                items.append((AGENDA_KPI_KEYS[name], {"value": value, "target": target}))
        behind = [r for r in self.reps if r.behind]
        if behind:
            items.append(("digest.agenda.reps_behind", {"n": len(behind), "users": [r.member.slack_user_id for r in behind[:LIST_MAX]]}))
        if self.stale_total:
            items.append(("digest.agenda.stale", {"n": self.stale_total, "days": self.schedule.stale_days}))
        if self.overdue_total:
            items.append(("digest.agenda.overdue", {"n": self.overdue_total}))
        if self.low_total:
            items.append(("digest.agenda.low_scores", {"n": self.low_total}))
        if self.suggestions:
            items.append(("digest.agenda.suggestions", {"n": len(self.suggestions)}))
        return items

    def target_gap(self, line: TargetLine) -> int:
        """How much the period fell short of its target."""
        return max(0, line.target - line.won)


def reported_period(kind: str, day: date) -> Period:
    """The period a digest on local date `day` reports: the last full ISO week, or the last full month."""
    if kind == WEEKLY:
        return period_containing(WEEK, day - timedelta(days=7))
    return period_containing(MONTH, day.replace(day=1) - timedelta(days=1))


def first_working_day(schedule: TeamSchedule, month_start: date) -> date | None:
    """The team's first working day of a month (None when the team works no day at all)."""
    d = month_start
    while d.month == month_start.month:
        if schedule.is_working_day(d):
            return d
        d += timedelta(days=1)
    return None


def digest_window(schedule: TeamSchedule, day: date) -> tuple[datetime, datetime]:
    """The UTC window of a digest on local date `day`: from the digest time to the team's local midnight."""
    zone = schedule.zone
    start = datetime.combine(day, schedule.digest_time, zone).astimezone(timezone.utc)
    return start, _utc(day + timedelta(days=1), zone)


def digest_due(kind: str, schedule: TeamSchedule, now: datetime) -> date | None:
    """The team's local date when a digest of this kind is due at `now` (inside its window), else None."""
    day = now.astimezone(schedule.zone).date()
    if kind == WEEKLY:
        if day.weekday() != schedule.digest_weekday:
            return None
    elif first_working_day(schedule, day.replace(day=1)) != day:
        return None
    start, end = digest_window(schedule, day)
    return day if start <= now < end else None


def digest_key(kind: str, team_id: int, day: date) -> str:
    """`weekly:<team>:<ISO week of the digest day>` or `monthly:<team>:<YYYY-MM of the digest day>`."""
    kind_of = WEEK if kind == WEEKLY else MONTH
    return f"{kind}:{team_id}:{period_containing(kind_of, day).label}"


async def build_digest(session: AsyncSession, *, team: SalesTeam, kind: str, day: date, now: datetime) -> Digest:
    """Every figure of a team's digest for the digest day `day` (local), in a fixed number of statements."""
    ws = team.workspace_id
    schedule = TeamSchedule.from_team(team)
    zone = schedule.zone
    currency = (await session.execute(select(Workspace.currency).where(Workspace.id == ws))).scalar_one() or "CNY"
    period = reported_period(kind, day)
    last_day = period.end - timedelta(days=1)
    month = period_containing(MONTH, last_day)
    d = Digest(team=team, schedule=schedule, currency=currency, kind=kind, day=day, period=period, month_label=month.label)
    start, end = period.utc_range(zone)
    prev_start, prev_end = period.previous().utc_range(zone)
    month_start = _utc(month.start, zone)

    # 1. The team's members (reps in the table; managers receive DMs when there is no channel).
    members = list((await session.execute(
        select(Member).where(Member.workspace_id == ws, Member.team_id == team.id, Member.role.is_not(None)).order_by(Member.name, Member.slack_user_id)
    )).scalars())
    reps = {m.id: RepRow(member=m) for m in members if m.role == Role.REP}

    # 2. Targets: the period's and the month's totals, and each rep's month line.
    q = select(Target.period, Target.dimension, Target.key, Target.amount).where(
        Target.workspace_id == ws, Target.team_id == team.id, Target.period.in_(sorted({period.label, month.label})),
        Target.dimension.in_(("total", "rep")),
    )
    totals: dict[str, int] = defaultdict(int)
    rep_targets: dict[str, int] = defaultdict(int)
    for label, dimension, key, amount in (await session.execute(q)).all():
        if dimension == "total":
            totals[label] += int(amount)
        elif label == month.label:
            rep_targets[key] += int(amount)

    # 3. Won amounts per owner: the period, the previous period and the month so far, in one pass.
    def won_between(a: datetime, b: datetime):
        return func.coalesce(func.sum(case((and_(Deal.won_at >= _ts(a), Deal.won_at < _ts(b)), Deal.amount), else_=0)), 0)

    lo = min(start, prev_start, month_start)
    q = (
        select(Deal.owner_id, won_between(start, end), won_between(prev_start, prev_end), won_between(month_start, end),
               func.sum(case((and_(Deal.won_at >= _ts(start), Deal.won_at < _ts(end)), 1), else_=0)))
        .where(Deal.workspace_id == ws, Deal.team_id == team.id, Deal.status == DealStatus.WON, Deal.won_at >= _ts(lo), Deal.won_at < _ts(end))
        .group_by(Deal.owner_id)
    )
    month_won = 0
    for owner, won, previous, mtd, n in (await session.execute(q)).all():
        d.won += int(won)
        d.previous_won += int(previous)
        month_won += int(mtd)
        d.movement.won += int(n or 0)
        d.movement.won_amount += int(won)
        if owner in reps:
            reps[owner].sales, reps[owner].month_won = int(won), int(mtd)
    month_elapsed = month.elapsed_share(last_day)
    if period.label in totals:
        d.period_line = TargetLine(period.label, totals[period.label], d.won, Fraction(1), period.start, period.end)
    if kind == WEEKLY and month.label in totals:
        d.month_line = TargetLine(month.label, totals[month.label], month_won, month_elapsed, month.start, month.end)
    for r in reps.values():
        target = rep_targets.get(r.member.slack_user_id)
        if target:
            r.month = TargetLine(month.label, target, r.month_won, month_elapsed, month.start, month.end)

    # 4. Tasks: done in the period and open past due on the digest day, per rep.
    in_team = Member.team_id == team.id
    q = (
        select(
            TaskAssignee.member_id,
            func.sum(case((and_(Task.status == TaskStatus.DONE, Task.completed_at >= _ts(start), Task.completed_at < _ts(end)), 1), else_=0)),
            func.sum(case((and_(Task.status != TaskStatus.DONE, Task.due_date < day), 1), else_=0)),
        )
        .join(Task, Task.id == TaskAssignee.task_id)
        .join(Member, Member.id == TaskAssignee.member_id)
        .where(Task.workspace_id == ws, in_team, or_(Task.status != TaskStatus.DONE, Task.completed_at >= _ts(start)))
        .group_by(TaskAssignee.member_id)
    )
    for member_id, done, overdue in (await session.execute(q)).all():
        if member_id in reps:
            reps[member_id].done, reps[member_id].overdue = int(done or 0), int(overdue or 0)

    # 5. Completion: tasks due in the period, on time when done by the due date in the rep's zone
    # (converted here, per row of one statement, because a local day's UTC offset moves with DST).
    q = (
        select(TaskAssignee.member_id, Task.due_date, Task.status, Task.completed_at)
        .join(Task, Task.id == TaskAssignee.task_id)
        .join(Member, Member.id == TaskAssignee.member_id)
        .where(Task.workspace_id == ws, in_team, Task.due_date >= period.start, Task.due_date < period.end)
    )
    for member_id, due_date, status, completed_at in (await session.execute(q)).all():
        r = reps.get(member_id)
        if r is None:
            continue
        r.due += 1
        if status == TaskStatus.DONE and completed_at is not None and completed_at.astimezone(safe_zone(r.member.tz)).date() <= due_date:
            r.on_time += 1

    # 6. Pipeline movement: deals created and moved forward in the period; lost deals.
    c = DealStageChange
    forward = _rank(c.to_stage) > _rank(c.from_stage)
    q = (
        select(
            func.sum(case((c.from_stage.is_(None), 1), else_=0)),
            func.sum(case((and_(c.from_stage.is_not(None), c.status == DealStatus.OPEN, forward), 1), else_=0)),
        )
        .join(Deal, Deal.id == c.deal_id)
        .where(c.workspace_id == ws, Deal.team_id == team.id, c.changed_at >= _ts(start), c.changed_at < _ts(end))
    )
    new_deals, advances = (await session.execute(q)).one()
    d.movement.new_deals, d.movement.advances = int(new_deals or 0), int(advances or 0)
    q = select(func.count(), func.coalesce(func.sum(Deal.amount), 0)).where(
        Deal.workspace_id == ws, Deal.team_id == team.id, Deal.status == DealStatus.LOST, Deal.lost_at >= _ts(start), Deal.lost_at < _ts(end),
    )
    lost, lost_amount = (await session.execute(q)).one()
    d.movement.lost, d.movement.lost_amount = int(lost), int(lost_amount)

    # 7. The funnel now: open deals per stage, with how many are stale.
    cutoff = now - timedelta(days=schedule.stale_days)
    q = (
        select(Deal.stage, func.count(), func.coalesce(func.sum(Deal.amount), 0), func.sum(case((Deal.stage_entered_at < _ts(cutoff), 1), else_=0)))
        .where(Deal.workspace_id == ws, Deal.team_id == team.id, Deal.status == DealStatus.OPEN)
        .group_by(Deal.stage)
    )
    by_stage = {}
    for stage, n, value, stale in (await session.execute(q)).all():
        by_stage[Stage(stage)] = (int(n), int(value))
        d.stale_total += int(stale or 0)
    d.funnel = [(s, *by_stage.get(s, (0, 0))) for s in STAGES]
    if d.stale_total:
        q = (
            select(Deal.title, Customer.name, Member.slack_user_id, Deal.stage, Deal.stage_entered_at)
            .join(Customer, Customer.id == Deal.customer_id)
            .join(Member, Member.id == Deal.owner_id)
            .where(Deal.workspace_id == ws, Deal.team_id == team.id, Deal.status == DealStatus.OPEN, Deal.stage_entered_at < _ts(cutoff))
            .order_by(Deal.stage_entered_at, Deal.id)
            .limit(5)
        )
        d.stale = [StaleLine(title or "", cust, owner, Stage(stage), (now - entered).days) for title, cust, owner, stage, entered in (await session.execute(q)).all()]

    # 8. Satisfaction: the KPI over the period, and the answers to look at (low scores, comments).
    stats = await satisfaction(session, workspace_id=ws, start=start, end=end, team_id=team.id)
    d.answers, d.satisfied = stats.answers, stats.satisfied
    notable = or_(Survey.score <= LOW_SCORE_MAX, Survey.comment != "")
    q = (
        select(Customer.name, Member.slack_user_id, Survey.score, Survey.comment,
               func.count().over().label("n"), func.sum(case((Survey.score <= LOW_SCORE_MAX, 1), else_=0)).over().label("low"))
        .join(Customer, Customer.id == Survey.customer_id)
        .join(Member, Member.id == Survey.rep_id)
        .where(Survey.workspace_id == ws, in_team, Survey.score.is_not(None), Survey.answered_at >= _ts(start), Survey.answered_at < _ts(end), notable)
        .order_by(Survey.score, Survey.answered_at, Survey.id)
        .limit(LIST_MAX)
    )
    for name, user_id, score, comment, n, low in (await session.execute(q)).all():
        d.notable.append(Answer(name, user_id, int(score), comment or ""))
        d.notable_total, d.low_total = int(n), int(low or 0)

    # 9. New employee suggestions since the period began.
    suggestions = await new_suggestions(session, team_id=team.id, since=start)
    authors = {s.author_id for s in suggestions if s.author_id}
    names = {}
    if authors:
        names = dict((await session.execute(select(Member.id, Member.slack_user_id).where(Member.id.in_(authors)))).all())
    d.suggestions = [(s, names.get(s.author_id)) for s in suggestions]

    d.reps = sorted(reps.values(), key=lambda r: (-r.sales, r.member.name or r.member.slack_user_id))
    return d


async def digest_teams(session: AsyncSession) -> list[SalesTeam]:
    """Every sales team of every workspace (one query), for the digest ticks."""
    return list((await session.execute(select(SalesTeam).order_by(SalesTeam.workspace_id, SalesTeam.id))).scalars())


async def managers_of(session: AsyncSession, *, team_ids: list[int]) -> dict[int, list[Member]]:
    """The managers of several teams in one query."""
    if not team_ids:
        return {}
    q = select(Member).where(Member.team_id.in_(team_ids), Member.role == Role.MANAGER).order_by(Member.slack_user_id)
    out: dict[int, list[Member]] = defaultdict(list)
    for m in (await session.execute(q)).scalars():
        out[m.team_id].append(m)
    return out
