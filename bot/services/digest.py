"""The weekly and monthly meeting digest of a team: the figures, the per-rep table and the agenda.

A weekly digest reports the last full ISO week before the digest day; a monthly digest the
last full month. Every figure comes from bot.services.figures, for the team and all its reps in
the same statements (the scope rule is written there), so a rep's row is exactly what `/kpi @rep`
shows for that period. About a dozen statements in all, whatever the number of reps, deals or
tasks. Money stays in integer minor units; ratios are Decimal or Fraction; dates are the team's
local ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Customer, Member, Role, SalesTeam, Stage, Suggestion, Survey, Workspace
from bot.periods import MONTH, WEEK, Period, period_containing
from bot.services.figures import (
    REP, TOTAL, Figures, QuarterWeeks, RepKey, StageLine, StaleDeal, deals_moved, month_line, open_funnel, period_figures, pipeline_movement,
    quarter_by_week, stage_flow, stage_lines, stale_deals, target_amounts, task_workload,
)
from bot.services.standup import Standup, StandupSettings, checkin_day, load_standup, meeting_actions, previous_week, week_label
from bot.services.suggestions import new_suggestions
from bot.services.targets import TargetLine
from bot.services.team_settings import TeamSchedule

WEEKLY, MONTHLY = "weekly", "monthly"
LOW_SCORE_MAX = 2  # scores of 1 and 2 are low: the meeting looks at them
LIST_MAX = 10  # low scores, comments, suggestions listed in the digest
STALE_MAX = 5  # stale deals named in the digest
AGENDA_KPI_KEYS = {"growth": "digest.agenda.kpi.growth", "satisfaction": "digest.agenda.kpi.satisfaction"}


def _utc(d: date, zone) -> datetime:
    return datetime.combine(d, time(0), zone).astimezone(timezone.utc)


@dataclass(kw_only=True)
class RepRow(Figures):
    """One rep's line in the digest's table: the engine's figures for the period, and three more for the meeting."""

    member: Member
    month: TargetLine | None = None  # the month so far against the rep's own month target, when one exists
    tasks_done: int = 0  # tasks completed in the period, whenever due
    tasks_overdue: int = 0  # open tasks past due on the digest day
    month_won: int = 0  # won in the month so far, target or not (the pictures show it when no rep has a target)
    deals_moved: int = 0  # the rep's deals that changed stage in the period

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
class Digest:
    """What the digest shows for one team and period."""

    team: SalesTeam
    schedule: TeamSchedule
    currency: str
    kind: str
    day: date  # the digest's local date
    period: Period  # the reported week or month
    month_label: str = ""  # the month of the reps' own targets (the one holding the period's last day)
    totals: Figures = field(default_factory=Figures)  # the team's figures for the period
    period_line: TargetLine | None = None  # the period's own total target (a week's, or the month's)
    month_line: TargetLine | None = None  # weekly only: the month so far against its target
    reps: list[RepRow] = field(default_factory=list)
    new_deals: int = 0
    advances: int = 0
    deals_lost: int = 0
    lost_amount: int = 0
    funnel: list[tuple[Stage, int, int]] = field(default_factory=list)  # open deals now: stage, count, value
    notable: list[Answer] = field(default_factory=list)
    notable_total: int = 0
    low_total: int = 0
    suggestions: list[tuple[Suggestion, str | None]] = field(default_factory=list)  # with the author's user id
    stale_total: int = 0
    stale: list[StaleDeal] = field(default_factory=list)
    standup: Standup | None = None  # weekly: the check-ins' answers and last meeting's actions
    standup_settings: StandupSettings | None = None

    @property
    def meeting(self) -> str:
        """The meeting's ISO week (the digest day's): the period of its check-ins and actions."""
        return week_label(self.day)

    @property
    def won(self) -> int:
        """The team's sales in the period."""
        return self.totals.sales

    @property
    def previous_won(self) -> int:
        """The team's sales in the previous equal period."""
        return self.totals.previous_sales

    @property
    def answers(self) -> int:
        """Satisfaction answers in the period."""
        return self.totals.answered

    @property
    def satisfied(self) -> int:
        """Of those, the satisfied ones."""
        return self.totals.satisfied

    @property
    def growth(self) -> Decimal | None:
        """Sales against the previous equal period; None when that sold nothing."""
        return self.totals.growth

    @property
    def satisfaction(self) -> Decimal | None:
        """Satisfied answers / answers in the period."""
        return self.totals.satisfaction

    @property
    def movement(self) -> Movement:
        """Deals created, moved forward, won and lost in the period."""
        t = self.totals
        return Movement(self.new_deals, self.advances, t.deals_won, t.sales, self.deals_lost, self.lost_amount)

    @property
    def overdue_total(self) -> int:
        """Open tasks past due, all reps."""
        return sum(r.tasks_overdue for r in self.reps)

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
    currency = (await session.execute(select(Workspace.currency).where(Workspace.id == ws))).scalar_one() or "CNY"
    period = reported_period(kind, day)
    last_day = period.end - timedelta(days=1)
    month = period_containing(MONTH, last_day)
    d = Digest(team=team, schedule=schedule, currency=currency, kind=kind, day=day, period=period, month_label=month.label)
    start, end = period.utc_range(schedule.zone)

    # 1. The team's reps, for the table.
    members = list((await session.execute(
        select(Member).where(Member.workspace_id == ws, Member.team_id == team.id, Member.role == Role.REP).order_by(Member.name, Member.slack_user_id)
    )).scalars())

    # 2. The period's figures of the team and of every rep, with the month so far, from the engine.
    figures = await period_figures(session, team=team, period=period, month_as_of=last_day, lost=True)
    d.totals = figures.total
    d.deals_lost, d.lost_amount = figures.deals_lost, figures.lost_amount
    workload = await task_workload(session, team=team, period=period, day=day)
    moved = await deals_moved(session, team=team, period=period)
    targets = await target_amounts(session, team_ids=[team.id], labels=[period.label, month.label])
    period_target = targets.get((team.id, period.label, TOTAL, ""))
    if period_target is not None:
        d.period_line = TargetLine(period.label, period_target, d.won, Fraction(1), period.start, period.end)
    month_target = targets.get((team.id, month.label, TOTAL, ""))
    if kind == WEEKLY and month_target is not None:
        d.month_line = month_line(month_target, figures.month_won_total, last_day)
    reps = []
    for m in members:
        rep_target = targets.get((team.id, month.label, REP, m.slack_user_id))
        reps.append(RepRow(
            member=m, **figures.rep(m.id).values(), tasks_done=workload.get(m.id, (0, 0))[0], tasks_overdue=workload.get(m.id, (0, 0))[1],
            deals_moved=moved.get(m.id, 0),
            month=month_line(rep_target, figures.month_won.get(m.id, 0), last_day) if rep_target else None,
            month_won=figures.month_won.get(m.id, 0),
        ))
    d.reps = sorted(reps, key=lambda r: (-r.sales, r.member.name or r.member.slack_user_id))

    # 3. Pipeline movement, the funnel now and the oldest stale deals.
    d.new_deals, d.advances = await pipeline_movement(session, team=team, period=period)
    lines = stage_lines()
    await open_funnel(session, team=team, now=now, stale_days=schedule.stale_days, lines=lines)
    d.funnel = [(line.stage, line.open_count, line.open_value) for line in lines]
    d.stale_total = sum(line.stale_count for line in lines)
    if d.stale_total:
        d.stale = await stale_deals(session, team=team, now=now, stale_days=schedule.stale_days, limit=STALE_MAX)

    # 4. The answers to look at (low scores, comments) about the team's members.
    notable = or_(Survey.score <= LOW_SCORE_MAX, Survey.comment != "")
    q = (
        select(Customer.name, Member.slack_user_id, Survey.score, Survey.comment,
               func.count().over().label("n"), func.sum(case((Survey.score <= LOW_SCORE_MAX, 1), else_=0)).over().label("low"))
        .join(Customer, Customer.id == Survey.customer_id)
        .join(Member, Member.id == Survey.rep_id)
        .where(Survey.workspace_id == ws, Member.team_id == team.id, Survey.score.is_not(None), Survey.answered_at >= start,
               Survey.answered_at < end, notable)
        .order_by(Survey.score, Survey.answered_at, Survey.id)
        .limit(LIST_MAX)
    )
    for name, user_id, score, comment, n, low in (await session.execute(q)).all():
        d.notable.append(Answer(name, user_id, int(score), comment or ""))
        d.notable_total, d.low_total = int(n), int(low or 0)

    # 5. New employee suggestions since the period began.
    suggestions = await new_suggestions(session, team_id=team.id, since=start)
    authors = {s.author_id for s in suggestions if s.author_id}
    names = {}
    if authors:
        names = dict((await session.execute(select(Member.id, Member.slack_user_id).where(Member.id.in_(authors)))).all())
    d.suggestions = [(s, names.get(s.author_id)) for s in suggestions]

    # 6. Weekly: the reps' check-ins for this meeting, and last meeting's actions with their state now.
    if kind == WEEKLY:
        d.standup_settings = StandupSettings.from_team(team)
        previous = previous_week(d.meeting)
        if d.standup_settings.enabled:
            d.standup = await load_standup(session, team=team, kind=WEEKLY, period=d.meeting, previous=previous, reps=members,
                                           asked_on=checkin_day(schedule, day), today=day)
        else:
            d.standup = Standup(kind=WEEKLY, period=d.meeting, previous_period=previous)
            d.standup.last_actions = await meeting_actions(session, team_id=team.id, period=previous, today=day) if previous else []
    return d


@dataclass
class PictureFigures:
    """What the digest's pictures draw beyond the digest's own figures: the quarter of its last reported day."""

    as_of: date  # the last day the digest reports
    quarter: QuarterWeeks  # won per week against the quarter's target
    flow: list[StageLine]  # deals that entered each stage in the quarter, and their conversion


async def picture_figures(session: AsyncSession, *, team: SalesTeam, as_of: date, rep: RepKey | None = None) -> PictureFigures:
    """The quarter holding the local date `as_of`: won per week with its target, and the stage flow (four statements)."""
    quarter = await quarter_by_week(session, team=team, as_of=as_of, rep=rep)
    lines = stage_lines()
    await stage_flow(session, team=team, period=quarter.quarter, lines=lines)
    return PictureFigures(as_of=as_of, quarter=quarter, flow=lines)


async def digest_teams(session: AsyncSession) -> list[SalesTeam]:
    """Every sales team of every workspace (one query), for the digest ticks."""
    return list((await session.execute(select(SalesTeam).order_by(SalesTeam.workspace_id, SalesTeam.id))).scalars())


