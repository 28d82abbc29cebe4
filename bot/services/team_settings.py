"""Team settings: schedules, time zone, survey delay and KPI targets, and who may change them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import SalesTeam
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ValidationFailed

# The column defaults of SalesTeam, repeated here so a damaged stored value falls back to them.
DEFAULT_DAILY_TIME = time(8, 30)
DEFAULT_DIGEST_TIME = time(9, 0)
DEFAULT_WORKING_DAYS = frozenset(range(5))  # Monday..Friday
SURVEY_DELAY_MAX = 60
SURVEY_REMINDER_MAX = 13  # a survey expires after 14 days: a reminder must come before
DEFAULT_REMINDER_TIME = time(9, 0)
REMINDER_DAYS_MAX = 10  # working days before the due date
ESCALATE_DAYS_MAX = 30  # working days overdue
STALE_DAYS_MAX = 365
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class TeamSchedule:
    """A team's settings in the shapes the composers use (pure: no database, no Slack)."""

    team_id: int | None
    zone: ZoneInfo
    working_days: frozenset[int]  # weekday numbers, Monday = 0
    daily_time: time
    digest_weekday: int
    digest_time: time
    digest_channel_id: str | None
    survey_delay_days: int
    survey_reminder_days: int  # 0: no reminder
    deal_alert_channel_id: str | None  # None: the managers' DMs
    deal_alert_min_amount: int | None  # minor units; None: no deal alerts
    growth_target: Decimal  # a ratio: 0.10 is 10%
    satisfaction_target: Decimal
    stale_days: int
    daily_skip_empty: bool
    reminder_days: int = 1  # working days before the due date (0: on the day)
    reminder_time: time = DEFAULT_REMINDER_TIME
    escalate_days: int = 2  # working days overdue before the managers hear

    @classmethod
    def from_team(cls, team: SalesTeam) -> "TeamSchedule":
        """Read a team row; a value that does not parse falls back to the default."""
        return cls(
            team_id=team.id,
            zone=safe_zone(team.timezone),
            working_days=parse_working_days(team.working_days) or DEFAULT_WORKING_DAYS,
            daily_time=parse_time(team.daily_time) or DEFAULT_DAILY_TIME,
            digest_weekday=team.digest_weekday if team.digest_weekday in range(7) else 0,
            digest_time=parse_time(team.digest_time) or DEFAULT_DIGEST_TIME,
            digest_channel_id=team.digest_channel_id or None,
            survey_delay_days=max(0, team.survey_delay_days),
            survey_reminder_days=max(0, team.survey_reminder_days or 0),
            deal_alert_channel_id=team.deal_alert_channel_id or None,
            deal_alert_min_amount=None if team.deal_alert_min_amount is None else max(0, team.deal_alert_min_amount),
            growth_target=Decimal(team.growth_target_bp) / 10000,
            satisfaction_target=Decimal(team.satisfaction_target_bp) / 10000,
            stale_days=max(1, team.stale_days),
            daily_skip_empty=bool(team.daily_skip_empty),
            reminder_days=min(max(0, team.reminder_days if team.reminder_days is not None else 1), REMINDER_DAYS_MAX),
            reminder_time=parse_time(team.reminder_time) or DEFAULT_REMINDER_TIME,
            escalate_days=min(max(1, team.escalate_days or 2), ESCALATE_DAYS_MAX),
        )

    def is_working_day(self, d) -> bool:
        """True when the date is one of the team's working days."""
        return d.weekday() in self.working_days


def parse_time(text: str | None) -> time | None:
    """`HH:MM` (24-hour, `8:30` too) as a time, or None."""
    m = _TIME.match((text or "").strip())
    return time(int(m.group(1)), int(m.group(2))) if m else None


def parse_working_days(text: str | None) -> frozenset[int]:
    """The stored `0,1,2,3,4` form as a set of weekdays (unknown parts ignored)."""
    days = set()
    for part in (text or "").split(","):
        part = part.strip()
        if part.isdigit() and int(part) in range(7):
            days.add(int(part))
    return frozenset(days)


@lru_cache(maxsize=1)
def known_zones() -> tuple[str, ...]:
    """Every IANA zone name zoneinfo knows, sorted (the legacy aliases without a slash last)."""
    zones = available_timezones() - {"localtime", "Factory"}
    return tuple(sorted(zones, key=lambda z: ("/" not in z and z != "UTC", z)))


def is_known_zone(name: str) -> bool:
    """True when zoneinfo can load the zone."""
    if not name or name not in set(known_zones()):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def search_zones(query: str, limit: int = 100) -> list[str]:
    """Zones whose name contains every typed word (`new york`, `shanghai`), at most `limit` (Slack's 100)."""
    words = [w for w in re.split(r"[\s/_]+", query.strip().lower()) if w]
    out = []
    for zone in known_zones():
        name = zone.lower().replace("_", " ")
        if all(w in name for w in words):
            out.append(zone)
            if len(out) >= limit:
                break
    return out


@dataclass
class TeamSettingsDraft:
    """What the config modal submits, as the strings Slack sends (None = left empty)."""

    digest_channel_id: str | None = None
    digest_weekday: str | None = "0"
    digest_time: str | None = "09:00"
    daily_time: str | None = "08:30"
    working_days: list[str] | None = None
    timezone: str | None = "UTC"
    survey_delay_days: str | None = "3"
    survey_reminder_days: str | None = "3"
    deal_alert_channel_id: str | None = None
    deal_alert_min_amount: str | None = "100000"  # as typed, in the workspace's currency; empty: no deal alerts
    growth_target_pct: str | None = "10"
    satisfaction_target_pct: str | None = "90"
    stale_days: str | None = "14"
    reminder_days: str | None = "1"
    reminder_time: str | None = "09:00"
    escalate_days: str | None = "2"


def _int_in(text: str | None, lo: int, hi: int) -> int | None:
    t = (text or "").strip()
    if not re.fullmatch(r"\d{1,4}", t):
        return None
    n = int(t)
    return n if lo <= n <= hi else None


def _percent_bp(text: str | None) -> int | None:
    """`12.5` or `12.5%` (0–100, two decimals at most) in basis points."""
    t = (text or "").strip().rstrip("%").strip()
    if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", t):
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        return None
    return int(value * 100) if 0 <= value <= 100 else None


def validate_settings(draft: TeamSettingsDraft) -> tuple[dict[str, tuple[str, dict]], dict[str, object]]:
    """Check every field; returns (errors by field, column values). Pure."""
    errors: dict[str, tuple[str, dict]] = {}
    values: dict[str, object] = {"digest_channel_id": (draft.digest_channel_id or "").strip() or None}
    day = _int_in(draft.digest_weekday, 0, 6)
    if day is None:
        errors["digest_weekday"] = ("config.error.weekday", {})
    values["digest_weekday"] = day
    for field in ("digest_time", "daily_time", "reminder_time"):
        parsed = parse_time(getattr(draft, field))
        if parsed is None:
            errors[field] = ("config.error.time", {})
        else:
            values[field] = parsed.strftime("%H:%M")
    days = sorted({int(d) for d in draft.working_days or [] if str(d).isdigit() and int(d) in range(7)})
    if not days:
        errors["working_days"] = ("config.error.working_days", {})
    values["working_days"] = ",".join(str(d) for d in days)
    zone = (draft.timezone or "").strip()
    if not is_known_zone(zone):
        errors["timezone"] = ("config.error.timezone", {})
    values["timezone"] = zone
    delay = _int_in(draft.survey_delay_days, 0, SURVEY_DELAY_MAX)
    if delay is None:
        errors["survey_delay_days"] = ("config.error.days", {"min": 0, "max": SURVEY_DELAY_MAX})
    values["survey_delay_days"] = delay
    reminder = _int_in(draft.survey_reminder_days, 0, SURVEY_REMINDER_MAX)
    if reminder is None:
        errors["survey_reminder_days"] = ("config.error.days", {"min": 0, "max": SURVEY_REMINDER_MAX})
    values["survey_reminder_days"] = reminder
    values["deal_alert_channel_id"] = (draft.deal_alert_channel_id or "").strip() or None
    amount_text = (draft.deal_alert_min_amount or "").strip()
    values["deal_alert_min_amount"] = None
    if amount_text:
        # The one amount parser; imported here because bot.parsing itself reads services (roster, task filters).
        from bot.parsing import AMOUNT_MAX_TEXT, AmountError, parse_amount

        try:
            values["deal_alert_min_amount"] = parse_amount(amount_text)
        except AmountError as exc:
            errors["deal_alert_min_amount"] = ("amount.error.too_large", {"value": amount_text, "max": AMOUNT_MAX_TEXT}) if exc.too_large \
                else ("config.error.amount", {"value": amount_text})
    stale = _int_in(draft.stale_days, 1, STALE_DAYS_MAX)
    if stale is None:
        errors["stale_days"] = ("config.error.days", {"min": 1, "max": STALE_DAYS_MAX})
    values["stale_days"] = stale
    for field, lo, hi in (("reminder_days", 0, REMINDER_DAYS_MAX), ("escalate_days", 1, ESCALATE_DAYS_MAX)):
        n = _int_in(getattr(draft, field), lo, hi)
        if n is None:
            errors[field] = ("config.error.days", {"min": lo, "max": hi})
        values[field] = n
    for field, column in (("growth_target_pct", "growth_target_bp"), ("satisfaction_target_pct", "satisfaction_target_bp")):
        bp = _percent_bp(getattr(draft, field))
        if bp is None:
            errors[field] = ("config.error.percent", {})
        values[column] = bp
    return errors, values


def draft_from_team(team: SalesTeam) -> TeamSettingsDraft:
    """The draft that shows a team's current settings in the modal."""
    s = TeamSchedule.from_team(team)
    return TeamSettingsDraft(
        digest_channel_id=s.digest_channel_id,
        digest_weekday=str(s.digest_weekday),
        digest_time=s.digest_time.strftime("%H:%M"),
        daily_time=s.daily_time.strftime("%H:%M"),
        working_days=[str(d) for d in sorted(s.working_days)],
        timezone=s.zone.key,
        survey_delay_days=str(s.survey_delay_days),
        survey_reminder_days=str(s.survey_reminder_days),
        deal_alert_channel_id=s.deal_alert_channel_id,
        deal_alert_min_amount=amount_text(s.deal_alert_min_amount),
        growth_target_pct=pct_text(team.growth_target_bp),
        satisfaction_target_pct=pct_text(team.satisfaction_target_bp),
        stale_days=str(s.stale_days),
        reminder_days=str(s.reminder_days),
        reminder_time=s.reminder_time.strftime("%H:%M"),
        escalate_days=str(s.escalate_days),
    )


def amount_text(minor: int | None) -> str:
    """Minor units as the amount a person types back into the form: 10000000 → `100000`, 1050 → `10.5`; None → empty."""
    return "" if minor is None else format((Decimal(minor) / 100).normalize(), "f")


def pct_text(bp: int) -> str:
    """Basis points as the percentage a person types: 1000 → `10`, 1250 → `12.5`."""
    return format((Decimal(bp) / 100).normalize(), "f")


async def team_for_config(session: AsyncSession, *, actor: Actor, team_name: str | None = None) -> SalesTeam:
    """The team whose settings the actor may see and change: admins any team, managers their own."""
    if not actor.is_admin and not actor.is_manager:
        if not actor.on_roster:
            raise NotOnRoster()
        raise PermissionDenied("config.error.permission")
    ws_id = actor.workspace.id
    if team_name:
        q = select(SalesTeam).where(SalesTeam.workspace_id == ws_id, SalesTeam.name == team_name)
        team = (await session.execute(q)).scalar_one_or_none()
        if team is None:
            raise NotFound("config.error.no_team", team=team_name)
    elif actor.member.team_id is not None:
        team = await session.get(SalesTeam, actor.member.team_id)
    else:
        teams = list((await session.execute(select(SalesTeam).where(SalesTeam.workspace_id == ws_id).limit(2))).scalars())
        if len(teams) != 1:
            raise NotFound("config.error.which_team")
        team = teams[0]
    if team is None or team.workspace_id != ws_id:
        raise NotFound("config.error.which_team")
    if not actor.is_admin and team.id != actor.member.team_id:
        raise PermissionDenied("config.error.permission")
    return team


async def update_team_settings(session: AsyncSession, *, actor: Actor, team_id: int, draft: TeamSettingsDraft) -> SalesTeam:
    """Validate and save a team's settings (admins; managers for their own team); nothing changes on an error."""
    team = await session.get(SalesTeam, team_id)
    if team is None or team.workspace_id != actor.workspace.id:
        raise NotFound("config.error.which_team")
    await team_for_config(session, actor=actor, team_name=team.name)
    errors, values = validate_settings(draft)
    if errors:
        raise ValidationFailed(errors)
    team.timezone = values["timezone"]
    for column in ("digest_channel_id", "digest_weekday", "digest_time", "daily_time", "working_days",
                   "survey_delay_days", "survey_reminder_days", "deal_alert_channel_id", "deal_alert_min_amount", "stale_days", "growth_target_bp",
                   "satisfaction_target_bp", "reminder_days", "reminder_time", "escalate_days"):
        setattr(team, column, values[column])
    session.add(team)
    await session.flush()
    return team


RETENTION_DAYS_MAX = 3650


async def set_retention_days(session: AsyncSession, *, actor: Actor, team_id: int, days: int) -> SalesTeam:
    """How many days the team's sent, cancelled and skipped posts are kept (1–3650; admins, or the team's manager)."""
    team = await session.get(SalesTeam, team_id)
    if team is None or team.workspace_id != actor.workspace.id:
        raise NotFound("config.error.which_team")
    await team_for_config(session, actor=actor, team_name=team.name)
    if not 1 <= days <= RETENTION_DAYS_MAX:
        raise ValidationFailed({"retention_days": ("config.error.days", {"min": 1, "max": RETENTION_DAYS_MAX})})
    team.retention_days = days
    session.add(team)
    await session.flush()
    return team
