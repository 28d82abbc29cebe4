"""The figure engine: every per-rep and per-team figure, for `/kpi`, `/pipeline`, the digest and the morning DM.

Scope, one rule everywhere: a figure belongs to a team, and a rep's figure is the rep's share
of their team's. Rows that carry a team count under the team they were booked under: deals
(`Deal.team_id`), their stage changes (`DealStageChange.team_id`) and tasks (`Task.team_id`);
a rep's are the ones among them the rep owns (deals) or is assigned to (tasks). Rows that carry
no team count for the team the member is on now: survey answers about the rep, the member's
expenses and activities. So a deal a rep closed while on another team stays that team's:
`/kpi @rep`, the rep's row in the digest, the morning DM's attainment and `/target … by rep`
agree, the team's figure also holds what its managers and former members booked, and a manager
never sees another team's deals through a rep who moved.

"Satisfied" is a score of SATISFIED_MIN_SCORE or more out of 5, here and nowhere else.

Batching: each statement computes a figure for a whole team and every rep at once (GROUP BY
owner or member), or for the reps asked, and the morning DM's attainment for many teams at once,
so the number of statements never grows with reps, teams or rows. Money stays in integer minor
units; ratios are Decimal; a period's bounds are local midnights in the team's zone turned into
UTC; a task is on time when completed by its due date in the assignee's zone (the team's zone
for the team's figure, where a task shared by several reps counts once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import String, and_, case, distinct, exists, func, literal, literal_column, or_, select, true, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import (
    OPEN_TASK_STATUSES, Activity, Customer, Deal, DealStageChange, DealStatus, Expense, LostReason, Member, SalesTeam, Stage, Survey, Target, Task,
    TaskAssignee,
    TaskStatus, UTCDateTime,
)
from bot.periods import MONTH, QUARTER, WEEK, Period, period_containing
from bot.services.actors import safe_zone
from bot.services.targets import TargetLine

SATISFIED_MIN_SCORE = 4  # of 5: answers scoring 4 or 5 are satisfied
STAGES = list(Stage)
STAGE_RANK = {s.value: i for i, s in enumerate(STAGES)}
TOTAL, REP = "total", "rep"  # the target dimensions read here: a team's total, a rep's own line
# Above this many teams or owners a statement scans them all and drops the others in Python,
# cheaper than a huge IN list and safe from bind-parameter limits.
ID_FILTER_MAX = 500


# --------------------------------------------------------------------------- small helpers

def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator as a Decimal, or None (shown as n/a) when the denominator is 0."""
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def growth_rate(current: int, previous: int) -> Decimal | None:
    """(current − previous) / previous; None when the previous period sold nothing."""
    return ratio(current - previous, previous)


def _ts(value: datetime):
    # A bound instant typed like the columns it meets, so both databases compare it as UTC.
    return literal(value, UTCDateTime())


def _rank(col):
    # The stage order lives in Python; the database sees it as a CASE over the stored values.
    return case(dict(STAGE_RANK), value=type_coerce(col, String))


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


def _local_midnight(d: date, zone) -> datetime:
    return datetime.combine(d, time(0), zone).astimezone(timezone.utc)


def _in(col, ids: Collection[int] | None):
    """`col IN ids`, or no condition at all when ids is None or too long to list."""
    if ids is None or len(ids) > ID_FILTER_MAX:
        return true()
    return col.in_(sorted(ids))


# --------------------------------------------------------------------------- figures of a period

@dataclass(kw_only=True)
class Figures:
    """One rep's or one team's figures for a period (money in minor units)."""

    sales: int = 0  # won amount in the period
    previous_sales: int = 0  # won amount in the previous equal period
    deals_won: int = 0
    new_customers: int = 0  # customers whose first win ever falls in the period
    answered: int = 0  # satisfaction answers in the period
    satisfied: int = 0  # of those, scores of SATISFIED_MIN_SCORE or more
    cost: int = 0  # expenses spent in the period
    tasks_due: int = 0  # tasks due in the period
    tasks_on_time: int = 0  # of those, completed by their due date

    @property
    def growth(self) -> Decimal | None:
        """(sales − previous sales) / previous sales; None when the previous period sold nothing."""
        return growth_rate(self.sales, self.previous_sales)

    @property
    def satisfaction(self) -> Decimal | None:
        """Satisfied answers / all answers in the period; None without answers."""
        return ratio(self.satisfied, self.answered)

    @property
    def cost_ratio(self) -> Decimal | None:
        """Expenses / sales; None when nothing was sold."""
        return ratio(self.cost, self.sales)

    @property
    def completion(self) -> Decimal | None:
        """Tasks done by their due date / tasks due in the period; None when none were due."""
        return ratio(self.tasks_on_time, self.tasks_due)

    def values(self) -> dict[str, int]:
        """The figures alone, without what a report or a table row adds around them."""
        return {f.name: getattr(self, f.name) for f in fields(Figures)}


@dataclass
class TeamFigures:
    """A team's figures for a period and each rep's, from the same statements."""

    team: SalesTeam
    period: Period
    total: Figures | None  # None when only some reps were asked
    reps: dict[int, Figures] = field(default_factory=dict)  # by member id: owners, assignees, members answered about
    month_won: dict[int, int] = field(default_factory=dict)  # by owner, when a month so far was asked
    month_won_total: int = 0
    deals_lost: int = 0  # the team's deals lost in the period, when asked
    lost_amount: int = 0

    def rep(self, member_id: int) -> Figures:
        """A rep's figures (all zero when nothing of theirs fell in the period)."""
        return self.reps.get(member_id) or Figures()


def month_so_far(as_of: date, zone) -> tuple[Period, datetime, datetime]:
    """The month holding the local date `as_of`, and the UTC window from its first day through `as_of`."""
    month = period_containing(MONTH, as_of)
    return month, _local_midnight(month.start, zone), _local_midnight(as_of + timedelta(days=1), zone)


def month_line(target: int, won: int, as_of: date) -> TargetLine:
    """A month target against what was won from the month's first day through `as_of`, with the share of the month gone."""
    month = period_containing(MONTH, as_of)
    return TargetLine(month.label, target, won, month.elapsed_share(as_of), month.start, month.end)


async def period_figures(
    session: AsyncSession, *, team: SalesTeam, period: Period, rep_ids: Collection[int] | None = None, month_as_of: date | None = None,
    lost: bool = False,
) -> TeamFigures:
    """A team's figures for a period and every rep's (or only the reps asked, then without the team's): three statements.

    In the same statements, when asked: `month_as_of` (a local date) sums each owner's won amount
    in its month so far (the weekly digest's attainment); `lost` counts the team's deals lost in
    the period (the digest's pipeline movement).
    """
    zone = safe_zone(team.timezone)
    start, end = period.utc_range(zone)
    windows = {"period": (start, end), "previous": period.previous().utc_range(zone)}
    if month_as_of is not None:
        windows["month"] = month_so_far(month_as_of, zone)[1:]
    out = TeamFigures(team=team, period=period, total=Figures() if rep_ids is None else None)

    def rep(member_id: int) -> Figures:
        return out.reps.get(member_id) or out.reps.setdefault(member_id, Figures())

    # 1. Deals: won now and before, lost, new customers, and the month so far, per owner.
    sums = await _deal_sums(session, windows={team.id: windows}, zones={team.id: team.timezone}, workspace_ids={team.workspace_id},
                            owner_ids=rep_ids, detail=True, lost=lost)
    for (_team_id, owner), v in sums.items():
        values = {"sales": v["period"], "previous_sales": v["previous"], "deals_won": v["won_n"], "new_customers": v["new"]}
        for target in (rep(owner), out.total):
            if target is not None:
                for name, value in values.items():
                    setattr(target, name, getattr(target, name) + value)
        if month_as_of is not None:
            out.month_won[owner] = v["month"]
            out.month_won_total += v["month"]
        if lost:
            out.deals_lost += v["lost_n"]
            out.lost_amount += v["lost"]

    # 2. Answers about the team's members and their expenses, per member (one statement for both).
    for kind, member_id, a, b in (await session.execute(_answers_and_costs(team, period, start, end, rep_ids))).all():
        for target in (rep(member_id), out.total):
            if target is None:
                continue
            if kind == "answers":
                target.answered += int(a or 0)
                target.satisfied += int(b or 0)
            else:
                target.cost += int(a or 0)

    # 3. Tasks due in the period, one row per assignee; on time is judged per row in Python
    # because the UTC offset of a local day moves with DST.
    q = (
        select(Task.id, Task.due_date, Task.status, Task.completed_at, TaskAssignee.member_id, Member.tz)
        .select_from(Task)
        .outerjoin(TaskAssignee, TaskAssignee.task_id == Task.id)
        .outerjoin(Member, Member.id == TaskAssignee.member_id)
        .where(
            Task.workspace_id == team.workspace_id, Task.team_id == team.id, Task.due_date >= period.start, Task.due_date < period.end,
            Task.status != TaskStatus.CANCELLED,  # dropped work counts on neither side of the completion rate
        )
    )
    if rep_ids is not None:
        q = q.where(TaskAssignee.member_id.in_(sorted(rep_ids)))
    seen: set[int] = set()
    for task_id, due_date, status, completed_at, member_id, tz in (await session.execute(q)).all():
        done = status == TaskStatus.DONE and completed_at is not None
        targets = []
        if member_id is not None:
            targets.append((rep(member_id), safe_zone(tz)))
        if out.total is not None and task_id not in seen:
            seen.add(task_id)
            targets.append((out.total, zone))
        for target, task_zone in targets:
            target.tasks_due += 1
            if done and completed_at.astimezone(task_zone).date() <= due_date:
                target.tasks_on_time += 1
    return out


def _answers_and_costs(team: SalesTeam, period: Period, start: datetime, end: datetime, rep_ids: Collection[int] | None):
    """Answers (count, satisfied) about each member of the team and each member's expenses, as one UNION ALL."""
    members = select(Member.id).where(Member.workspace_id == team.workspace_id, Member.team_id == team.id)
    answers = (
        select(literal_column("'answers'").label("kind"), Survey.rep_id.label("member_id"), func.count().label("a"),
               func.sum(case((Survey.score >= SATISFIED_MIN_SCORE, 1), else_=0)).label("b"))
        .where(Survey.workspace_id == team.workspace_id, Survey.score.is_not(None), Survey.answered_at >= _ts(start),
               Survey.answered_at < _ts(end), Survey.rep_id.in_(members))
        .group_by(Survey.rep_id)
    )
    costs = (
        select(literal_column("'cost'").label("kind"), Expense.member_id.label("member_id"), func.sum(Expense.amount).label("a"),
               literal_column("0").label("b"))
        # spent_on is already a local date
        .where(Expense.workspace_id == team.workspace_id, Expense.spent_on >= period.start, Expense.spent_on < period.end,
               Expense.member_id.in_(members))
        .group_by(Expense.member_id)
    )
    if rep_ids is not None:
        answers = answers.where(Survey.rep_id.in_(sorted(rep_ids)))
        costs = costs.where(Expense.member_id.in_(sorted(rep_ids)))
    return union_all(answers, costs)


def _bounds(windows: Mapping[int, Mapping[str, tuple[datetime, datetime]]], zones: Mapping[int, str], name: str):
    """A named window's (start, end) in SQL, and whether it reads the team's zone: literals when every team shares
    the window, else a CASE over the few zones (or, when teams of one zone differ, over the teams)."""
    per_team = {team_id: w[name] for team_id, w in windows.items()}
    if len(set(per_team.values())) == 1:
        a, b = next(iter(per_team.values()))
        return _ts(a), _ts(b), False
    per_zone: dict[str, tuple[datetime, datetime]] = {}
    if all(per_zone.setdefault(zones[t], w) == w for t, w in per_team.items()):
        return (case({z: _ts(w[0]) for z, w in per_zone.items()}, value=SalesTeam.timezone),
                case({z: _ts(w[1]) for z, w in per_zone.items()}, value=SalesTeam.timezone), True)
    return (case({t: _ts(w[0]) for t, w in per_team.items()}, value=Deal.team_id),
            case({t: _ts(w[1]) for t, w in per_team.items()}, value=Deal.team_id), False)


async def _deal_sums(
    session: AsyncSession, *, windows: Mapping[int, Mapping[str, tuple[datetime, datetime]]], zones: Mapping[int, str],
    workspace_ids: Collection[int], owner_ids: Collection[int] | None, detail: bool, lost: bool = False,
) -> dict[tuple[int, int], dict[str, int]]:
    """Won amounts per (team, owner) in each named window of each team, in one statement.

    With `detail`, also (for the "period" window) the deals won and new customers: the won deal
    that is its customer's first win ever (earliest won_at, then lowest id, in any team) falls in
    the period. With `lost` too, the deals lost in the period and their amount, as a second
    branch of a UNION ALL, so the won scan stays a range over its index.
    """
    names = list(next(iter(windows.values())))
    bounds = {name: _bounds(windows, zones, name) for name in names}
    zero = literal_column("0")
    lo = min(w[0] for team_windows in windows.values() for w in team_windows.values())
    hi = max(w[1] for team_windows in windows.values() for w in team_windows.values())
    scope = (_in(Deal.workspace_id, workspace_ids), _in(Deal.team_id, windows), _in(Deal.owner_id, owner_ids))
    keys = list(names)
    won_cols = [func.sum(case((and_(Deal.won_at >= a, Deal.won_at < b), Deal.amount), else_=0)) for a, b, _ in bounds.values()]
    if detail:
        a, b, _ = bounds["period"]
        in_period = and_(Deal.won_at >= a, Deal.won_at < b)
        earlier = aliased(Deal)
        # A customer belongs to one workspace, so its id alone names its deals: the probe is a seek
        # on (customer, status, won_at), which a planner without statistics could otherwise miss.
        first_win = ~exists().where(
            earlier.customer_id == Deal.customer_id, earlier.status == DealStatus.WON,
            or_(earlier.won_at < Deal.won_at, and_(earlier.won_at == Deal.won_at, earlier.id < Deal.id)),
        )
        won_cols += [func.sum(case((in_period, 1), else_=0)), func.sum(case((and_(in_period, first_win), 1), else_=0))]
        keys += ["won_n", "new"]
    q = (
        select(Deal.team_id, Deal.owner_id, *won_cols)
        .where(*scope, Deal.status == DealStatus.WON, Deal.won_at >= _ts(lo), Deal.won_at < _ts(hi))
        .group_by(Deal.team_id, Deal.owner_id)
    )
    if any(by_zone for *_, by_zone in bounds.values()):
        q = q.join(SalesTeam, SalesTeam.id == Deal.team_id)
    if lost:
        # Only the single-team digest asks: the period's bounds are plain instants.
        start, end = windows[next(iter(windows))]["period"]
        won_zeros = [zero] * len(won_cols)
        q = union_all(
            q.add_columns(zero, zero),
            select(Deal.team_id, Deal.owner_id, *won_zeros, func.count(), func.sum(Deal.amount))
            .where(*scope, Deal.status == DealStatus.LOST, Deal.lost_at >= _ts(start), Deal.lost_at < _ts(end))
            .group_by(Deal.team_id, Deal.owner_id),
        )
        keys += ["lost_n", "lost"]
    out: dict[tuple[int, int], dict[str, int]] = {}
    for team_id, owner_id, *values in (await session.execute(q)).all():
        if team_id in windows and (owner_ids is None or owner_id in owner_ids):
            sums = out.setdefault((team_id, owner_id), dict.fromkeys(keys, 0))
            for k, v in zip(keys, values):
                sums[k] += int(v or 0)
    return out


# --------------------------------------------------------------------------- targets and attainment

async def target_amounts(session: AsyncSession, *, team_ids: Collection[int] | None, labels: Iterable[str]) -> dict[tuple[int, str, str, str], int]:
    """Team totals and reps' own target lines by (team id, period label, dimension, key): one statement.

    A rep's line is keyed by their Slack user id; a period's total sums its parts (a week that
    straddles two months has a line under each month's split). `team_ids` None reads every team's.
    """
    q = select(Target.team_id, Target.period, Target.dimension, Target.key, Target.amount).where(
        Target.period.in_(sorted(set(labels))), Target.dimension.in_((TOTAL, REP)), _in(Target.team_id, team_ids),
    )
    out: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for team_id, label, dimension, key, amount in (await session.execute(q)).all():
        if team_ids is None or team_id in team_ids:
            out[(team_id, label, dimension, "" if dimension == TOTAL else key or "")] += int(amount)
    return dict(out)


@dataclass(frozen=True)
class RepKey:
    """Who a rep's own month line is about: the member, their Slack user id (the target's key) and their team."""

    member_id: int
    user_id: str
    team: SalesTeam


async def rep_month_lines(session: AsyncSession, *, reps: Iterable[RepKey], as_of: Mapping[int, date]) -> dict[int, TargetLine]:
    """Each rep's month so far against their own month target, for reps of many teams: two statements at most.

    `as_of` maps a team id to its local date; reps without a target of their own are left out.
    """
    reps = list(reps)
    teams = {r.team.id: r.team for r in reps}
    if not teams:
        return {}
    targets = await target_amounts(session, team_ids=set(teams), labels={period_containing(MONTH, as_of[t]).label for t in teams})
    with_target = {
        r.member_id: (r, amount) for r in reps
        if (amount := targets.get((r.team.id, period_containing(MONTH, as_of[r.team.id]).label, REP, r.user_id)))
    }
    if not with_target:
        return {}
    in_play = {r.team.id: r.team for r, _ in with_target.values()}
    windows = {t: {"month": month_so_far(as_of[t], safe_zone(team.timezone))[1:]} for t, team in in_play.items()}
    won = await _deal_sums(session, windows=windows, zones={t: team.timezone for t, team in in_play.items()},
                           workspace_ids={team.workspace_id for team in in_play.values()}, owner_ids=set(with_target), detail=False)
    return {
        member_id: month_line(amount, won.get((r.team.id, member_id), {}).get("month", 0), as_of[r.team.id])
        for member_id, (r, amount) in with_target.items()
    }


@dataclass(frozen=True)
class WeekWon:
    """One week of a quarter (clipped to the quarter) and what was won in it; `won` is None for weeks still ahead."""

    start: date
    end: date  # exclusive
    won: int | None


@dataclass(frozen=True)
class QuarterWeeks:
    """Won per week of a quarter against the quarter's target, for the chart of the meeting and of `/kpi`."""

    quarter: Period
    as_of: date
    weeks: list[WeekWon]
    target: int | None  # the quarter's line (the team's total, or the rep's own); None when none was set

    @property
    def won(self) -> int:
        """Won in the quarter so far."""
        return sum(w.won or 0 for w in self.weeks)

    def pace(self) -> list[int]:
        """The target's straight pace line: how much should be won by the end of each week (empty without a target)."""
        if not self.target:
            return []
        days = self.quarter.days
        return [self.target * (w.end - self.quarter.start).days // days for w in self.weeks]


def quarter_weeks_of(quarter: Period) -> list[tuple[date, date]]:
    """The quarter's weeks as (first day, day after), clipped to the quarter at both ends."""
    return [(max(w.start, quarter.start), min(w.end, quarter.end)) for w in quarter.sub_periods(WEEK)]


async def quarter_by_week(session: AsyncSession, *, team: SalesTeam, as_of: date, rep: RepKey | None = None) -> QuarterWeeks:
    """The team's (or one rep's) won amount per week of the quarter holding the local date `as_of`, through that day,
    and the quarter's target: two statements.

    The target is the quarter's own line when the split made one, else the sum of its months' lines.
    """
    zone = safe_zone(team.timezone)
    quarter = period_containing(QUARTER, as_of)
    spans = quarter_weeks_of(quarter)
    windows = {
        f"w{i}": (_local_midnight(a, zone), _local_midnight(min(b, as_of + timedelta(days=1)), zone))
        for i, (a, b) in enumerate(spans) if a <= as_of
    }
    won: dict[str, int] = dict.fromkeys(windows, 0)
    if windows:
        owners = {rep.member_id} if rep is not None else None
        sums = await _deal_sums(session, windows={team.id: windows}, zones={team.id: team.timezone}, workspace_ids={team.workspace_id},
                                owner_ids=owners, detail=False)
        for v in sums.values():
            for name in windows:
                won[name] += v[name]
    months = quarter.sub_periods(MONTH)
    lines = await target_amounts(session, team_ids={team.id}, labels={quarter.label, *(m.label for m in months)})
    dimension, key = (REP, rep.user_id) if rep is not None else (TOTAL, "")
    target = lines.get((team.id, quarter.label, dimension, key))
    if not target:
        target = sum(lines.get((team.id, m.label, dimension, key), 0) for m in months) or None
    weeks = [WeekWon(a, b, won.get(f"w{i}")) for i, (a, b) in enumerate(spans)]
    return QuarterWeeks(quarter=quarter, as_of=as_of, weeks=weeks, target=target)


@dataclass(frozen=True)
class RepMonthFigures:
    """A rep's month so far: what they won, and their own month line when they have a target."""

    member: Member
    won: int
    line: TargetLine | None


async def rep_months(session: AsyncSession, *, team: SalesTeam, members: list[Member], as_of: date) -> list[RepMonthFigures]:
    """Each member's month so far (from the month's first day through the local date `as_of`): two statements."""
    month, *window = month_so_far(as_of, safe_zone(team.timezone))
    sums = await _deal_sums(session, windows={team.id: {"month": tuple(window)}}, zones={team.id: team.timezone},
                            workspace_ids={team.workspace_id}, owner_ids=None, detail=False)
    targets = await target_amounts(session, team_ids={team.id}, labels={month.label})
    out = []
    for m in members:
        won = sums.get((team.id, m.id), {}).get("month", 0)
        target = targets.get((team.id, month.label, REP, m.slack_user_id))
        out.append(RepMonthFigures(member=m, won=won, line=month_line(target, won, as_of) if target else None))
    return out


# --------------------------------------------------------------------------- workload

async def task_workload(
    session: AsyncSession, *, team: SalesTeam, period: Period, day: date, rep_ids: Collection[int] | None = None,
) -> dict[int, tuple[int, int]]:
    """Per assignee, (tasks of the team completed in the period, its open tasks past due on the local date `day`): one statement."""
    start, end = period.utc_range(safe_zone(team.timezone))
    done = and_(Task.status == TaskStatus.DONE, Task.completed_at >= _ts(start), Task.completed_at < _ts(end))
    overdue = and_(Task.status.in_(OPEN_TASK_STATUSES), Task.due_date < day)
    q = (
        select(TaskAssignee.member_id, func.sum(case((done, 1), else_=0)), func.sum(case((overdue, 1), else_=0)))
        .join(Task, Task.id == TaskAssignee.task_id)
        .where(Task.workspace_id == team.workspace_id, Task.team_id == team.id, _in(TaskAssignee.member_id, rep_ids),
               or_(Task.status.in_(OPEN_TASK_STATUSES), Task.completed_at >= _ts(start)))
        .group_by(TaskAssignee.member_id)
    )
    return {member_id: (int(d or 0), int(o or 0)) for member_id, d, o in (await session.execute(q)).all()}


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


def stage_lines() -> list[StageLine]:
    """An empty line per stage, in pipeline order."""
    return [StageLine(stage=s) for s in STAGES]


def _line(lines: list[StageLine], stage) -> StageLine:
    return lines[STAGE_RANK[stage.value if isinstance(stage, Stage) else stage]]


async def open_funnel(session: AsyncSession, *, team: SalesTeam, now: datetime, stale_days: int, lines: list[StageLine]) -> None:
    """Into `lines`: the team's open deals per stage now, their value, and how many are stale (one statement)."""
    cutoff = now - timedelta(days=stale_days)
    q = (
        select(Deal.stage, func.count(), func.coalesce(func.sum(Deal.amount), 0), func.sum(case((Deal.stage_entered_at < _ts(cutoff), 1), else_=0)))
        .where(Deal.workspace_id == team.workspace_id, Deal.team_id == team.id, Deal.status == DealStatus.OPEN)
        .group_by(Deal.stage)
    )
    for stage, n, value, stale in (await session.execute(q)).all():
        line = _line(lines, stage)
        line.open_count, line.open_value, line.stale_count = int(n), int(value), int(stale or 0)


async def stale_deals(session: AsyncSession, *, team: SalesTeam, now: datetime, stale_days: int, limit: int) -> list[StaleDeal]:
    """The team's oldest stale deals (open, in their stage longer than `stale_days`), with names: one statement."""
    q = (
        select(Deal.id, Deal.title, Customer.name, Member.slack_user_id, Deal.stage, Deal.amount, Deal.stage_entered_at)
        .join(Customer, Customer.id == Deal.customer_id)
        .join(Member, Member.id == Deal.owner_id)
        .where(Deal.workspace_id == team.workspace_id, Deal.team_id == team.id, Deal.status == DealStatus.OPEN,
               Deal.stage_entered_at < _ts(now - timedelta(days=stale_days)))
        .order_by(Deal.stage_entered_at, Deal.id)
        .limit(limit)
    )
    return [
        StaleDeal(deal_id=i, title=title or "", customer=cust, owner_user_id=owner, stage=Stage(stage), amount=int(amount), days=(now - entered).days)
        for i, title, cust, owner, stage, amount, entered in (await session.execute(q)).all()
    ]


async def stage_flow(session: AsyncSession, *, team: SalesTeam, period: Period, lines: list[StageLine]) -> None:
    """Into `lines`: conversion and days in stage over the period (two statements).

    Conversion of stage S: of the team's deals that entered S in the period (a stage change with
    to_stage = S and status open, changed_at in the period; a deal that entered S twice counts
    once), the share whose next move out of S went forward: to a later stage, or won. Deals
    still in S have not converted (yet). Days in S: over the stays in S that ended in the period
    (the deal's next change was recorded then), the time from entering S to leaving it.
    """
    start, end = period.utc_range(safe_zone(team.timezone))
    c = DealStageChange
    of_team = (c.workspace_id == team.workspace_id, c.team_id == team.id, c.status == DealStatus.OPEN)
    # Only indexed columns are read, so each scan stays inside its covering index.
    entered = select(c.deal_id, c.to_stage, c.advanced).where(*of_team, c.changed_at >= _ts(start), c.changed_at < _ts(end)).subquery()
    q = (
        select(entered.c.to_stage, func.count(distinct(entered.c.deal_id)),
               func.count(distinct(case((entered.c.advanced.is_(True), entered.c.deal_id)))))
        .group_by(entered.c.to_stage)
    )
    for stage, n, advanced in (await session.execute(q)).all():
        line = _line(lines, stage)
        line.entered, line.advanced = int(n), int(advanced or 0)

    left = select(c.to_stage, c.left_at, c.changed_at).where(*of_team, c.left_at >= _ts(start), c.left_at < _ts(end)).subquery()
    q = (
        select(left.c.to_stage, func.count(), func.sum(_seconds_between(left.c.left_at, left.c.changed_at, session.bind.dialect.name)))
        .group_by(left.c.to_stage)
    )
    for stage, n, seconds in (await session.execute(q)).all():
        line = _line(lines, stage)
        line.stays, line.stay_seconds = int(n), _to_decimal(seconds)


async def pipeline_movement(session: AsyncSession, *, team: SalesTeam, period: Period) -> tuple[int, int]:
    """(new deals, moves to a later stage) the team recorded in the period: one statement over its stage changes."""
    start, end = period.utc_range(safe_zone(team.timezone))
    c = DealStageChange
    forward = _rank(c.to_stage) > _rank(c.from_stage)
    q = select(
        func.sum(case((c.from_stage.is_(None), 1), else_=0)),
        func.sum(case((and_(c.from_stage.is_not(None), c.status == DealStatus.OPEN, forward), 1), else_=0)),
    ).where(c.workspace_id == team.workspace_id, c.team_id == team.id, c.changed_at >= _ts(start), c.changed_at < _ts(end))
    new_deals, advances = (await session.execute(q)).one()
    return int(new_deals or 0), int(advances or 0)


async def lost_reasons(session: AsyncSession, *, team: SalesTeam, period: Period) -> dict[LostReason | None, int]:
    """Deals of the team lost in the period (and still lost) per reason; None for losses recorded before reasons were asked."""
    start, end = period.utc_range(safe_zone(team.timezone))
    q = (
        select(Deal.lost_reason, func.count())
        .where(Deal.workspace_id == team.workspace_id, Deal.team_id == team.id, Deal.status == DealStatus.LOST,
               Deal.lost_at >= _ts(start), Deal.lost_at < _ts(end))
        .group_by(Deal.lost_reason)
    )
    return {reason: int(n) for reason, n in (await session.execute(q)).all()}


async def deals_moved(session: AsyncSession, *, team: SalesTeam, period: Period) -> dict[int, int]:
    """Deals each owner moved (any stage change, won or lost included) in the period: one statement."""
    start, end = period.utc_range(safe_zone(team.timezone))
    c = DealStageChange
    q = (
        select(Deal.owner_id, func.count(func.distinct(c.deal_id)))
        .join(Deal, Deal.id == c.deal_id)
        .where(c.workspace_id == team.workspace_id, c.team_id == team.id, c.from_stage.is_not(None), c.changed_at >= _ts(start), c.changed_at < _ts(end))
        .group_by(Deal.owner_id)
    )
    return {int(owner): int(n) for owner, n in (await session.execute(q)).all()}


async def effective_communications(session: AsyncSession, *, team: SalesTeam, period: Period) -> int:
    """Effective activities the team's members logged in the period: one statement."""
    start, end = period.utc_range(safe_zone(team.timezone))
    q = (
        select(func.count())
        .select_from(Activity)
        .join(Member, Member.id == Activity.member_id)
        .where(Activity.workspace_id == team.workspace_id, Member.team_id == team.id, Activity.effective.is_(True),
               Activity.occurred_at >= _ts(start), Activity.occurred_at < _ts(end))
    )
    return int((await session.execute(q)).scalar_one())


__all__ = [
    "Figures", "QuarterWeeks", "RepKey", "WeekWon", "SATISFIED_MIN_SCORE", "STAGE_RANK", "STAGES", "StageLine", "StaleDeal", "TeamFigures",
    "deals_moved", "effective_communications", "growth_rate", "month_line", "month_so_far", "open_funnel", "period_figures", "pipeline_movement",
    "quarter_by_week", "quarter_weeks_of", "ratio", "RepMonthFigures", "rep_months",
    "rep_month_lines", "stage_flow", "stage_lines", "stale_deals", "target_amounts", "task_workload",
]
