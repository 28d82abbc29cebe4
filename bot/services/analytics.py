"""`/kpi` and `/pipeline`: who may see which figures of which team and period; the figures come from bot.services.figures.

The figure engine decides the scope (a rep's figures are their share of their team's) and
computes everything in a fixed number of statements; this module resolves the team, the rep and
the period and checks permissions before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import LostReason, Member, Role, SalesTeam, Stage
from bot.periods import MONTH, QUARTER, Period, parse_period, period_containing
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ServiceError
from bot.services.figures import (
    REP, STAGE_RANK, TOTAL, Figures, QuarterWeeks, RepKey, RepMonthFigures, StageLine, StaleDeal, effective_communications, lost_reasons,
    open_funnel, period_figures, quarter_by_week, rep_months, stage_flow, stage_lines, stale_deals, target_amounts,
)
from bot.services.team_settings import TeamSchedule

STALE_LIST_MAX = 10
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


# --------------------------------------------------------------------------- who sees what

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
class PipelineReport:
    """What `/pipeline` shows."""

    team: SalesTeam
    period: Period
    currency: str
    stale_days: int
    stages: list[StageLine]
    stale: list[StaleDeal] = field(default_factory=list)
    effective_communications: int = 0
    lost_reasons: dict[LostReason | None, int] = field(default_factory=dict)  # deals lost in the period, per reason

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

    Conversion and days in stage as bot.services.figures.stage_flow defines them; a deal is
    stale when it is open and entered its current stage more than the team's `stale_days` ago.
    Members see their own team; admins any team.
    """
    team = await resolve_team(session, actor=actor, team_name=team_name)
    period = resolve_period(period_text, now.astimezone(safe_zone(team.timezone)).date(), QUARTER)
    stale_days = TeamSchedule.from_team(team).stale_days
    lines = stage_lines()
    await open_funnel(session, team=team, now=now, stale_days=stale_days, lines=lines)
    stale = await stale_deals(session, team=team, now=now, stale_days=stale_days, limit=STALE_LIST_MAX)
    await stage_flow(session, team=team, period=period, lines=lines)
    effective = await effective_communications(session, team=team, period=period)
    lost = await lost_reasons(session, team=team, period=period)
    return PipelineReport(team=team, period=period, currency=actor.workspace.currency, stale_days=stale_days, stages=lines,
                          stale=stale, effective_communications=effective, lost_reasons=lost)


# --------------------------------------------------------------------------- KPIs

@dataclass(kw_only=True)
class KpiReport(Figures):
    """What `/kpi` shows for a rep (member set) or a whole team (member None): the engine's figures and the targets."""

    team: SalesTeam
    member: Member | None
    period: Period
    currency: str
    sales_target: int | None = None

    @property
    def growth_target(self) -> Decimal:
        """The team's growth target as a ratio (1000 bp = 10%)."""
        return Decimal(self.team.growth_target_bp) / BASIS_POINTS

    @property
    def satisfaction_target(self) -> Decimal:
        """The team's satisfaction target as a ratio (9000 bp = 90%)."""
        return Decimal(self.team.satisfaction_target_bp) / BASIS_POINTS

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
    period = resolve_period(period_text, now.astimezone(safe_zone(team.timezone)).date(), MONTH)
    figures = await period_figures(session, team=team, period=period, rep_ids=None if member is None else [member.id])
    targets = await target_amounts(session, team_ids=[team.id], labels=[period.label])
    if member is None:
        values, target = figures.total, targets.get((team.id, period.label, TOTAL, ""))
    else:
        values, target = figures.rep(member.id), targets.get((team.id, period.label, REP, member.slack_user_id))
    return KpiReport(team=team, member=member, period=period, currency=actor.workspace.currency, sales_target=target, **values.values())


@dataclass
class KpiPictures:
    """What `/kpi`'s Chart draws: won per week of the quarter, and for a team each rep's month so far."""

    as_of: date  # the report period's last day, or today while the period runs
    quarter: QuarterWeeks
    reps: list[RepMonthFigures] = field(default_factory=list)


async def kpi_pictures(session: AsyncSession, *, report: KpiReport, now: datetime) -> KpiPictures:
    """The figures of `/kpi`'s pictures for the report's team or rep (the report was permission-checked): four statements."""
    today = now.astimezone(safe_zone(report.team.timezone)).date()
    as_of = min(today, report.period.end - timedelta(days=1))
    rep = RepKey(report.member.id, report.member.slack_user_id, report.team) if report.member is not None else None
    quarter = await quarter_by_week(session, team=report.team, as_of=as_of, rep=rep)
    reps: list[RepMonthFigures] = []
    if report.member is None:
        q = select(Member).where(Member.workspace_id == report.team.workspace_id, Member.team_id == report.team.id, Member.role == Role.REP)
        members = list((await session.execute(q.order_by(Member.name, Member.slack_user_id))).scalars())
        reps = await rep_months(session, team=report.team, members=members, as_of=as_of)
    return KpiPictures(as_of=as_of, quarter=quarter, reps=reps)


__all__ = ["KpiPictures", "kpi_pictures", "KpiReport", "PeriodError", "PipelineReport", "kpi_report", "pipeline_report", "resolve_period", "resolve_team"]
