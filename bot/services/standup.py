"""The standup: reps' check-ins before the weekly meeting (and daily ones), their answers, and the meeting's actions.

A weekly check-in belongs to the meeting it prepares: its period is the ISO week of the weekly
digest's day (`2026-W12`), the same label the digest's outbox key and the meeting's actions use.
Each rep is asked on the team's last working day before the digest, at the standup time in the
rep's own zone; answers stay editable until the digest's time, when the digest is composed from
them. A daily check-in's period is the team's local date; the team's channel gets the report at
the daily standup time (team zone), and answers close then.

Everything here is plain async functions over a session; the composers and listeners call them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import CheckIn, Customer, Deal, DealStatus, Leave, MeetingAction, Member, Role, SalesTeam, Task, TaskStatus, utcnow
from bot.periods import MONTH, WEEK, PeriodError, parse_period, period_containing
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ServiceError, ValidationFailed
from bot.services.team_settings import TeamSchedule, parse_time, team_for_config

WEEKLY, DAILY = "weekly", "daily"
QUESTIONS = ("progress", "next", "blockers", "confidence")  # what each position asks; texts may be replaced
BLOCKER_Q = 2  # the position whose answer is the rep's blocker
CONFIDENCE_Q = 3  # the 1–5 answer
ANSWER_MAX = 3000
QUESTION_MAX = 150
REMIND_BEFORE = timedelta(hours=2)
DEFAULT_TIME = time(16, 0)
DEFAULT_DAILY_TIME = time(10, 0)
ACTION_KINDS = ("task", "target", "discussed")
NONE_WORDS = {"", "-", "—", "none", "no", "nothing", "n/a", "na", "无", "没有", "暂无", "无。"}


@dataclass(frozen=True)
class StandupSettings:
    """A team's check-in settings in the shapes the composers use (pure)."""

    enabled: bool
    time: time
    daily: bool
    daily_time: time
    questions: tuple[str, ...] | None  # the manager's texts, None for the catalog's defaults

    @classmethod
    def from_team(cls, team: SalesTeam) -> "StandupSettings":
        """Read a team row; a damaged value falls back to the default."""
        return cls(
            enabled=bool(team.standup_enabled),
            time=parse_time(team.standup_time) or DEFAULT_TIME,
            daily=bool(team.standup_daily),
            daily_time=parse_time(team.standup_daily_time) or DEFAULT_DAILY_TIME,
            questions=parse_questions(team.standup_questions),
        )


def parse_questions(raw: str | None) -> tuple[str, ...] | None:
    """The stored JSON list of four texts (an empty text keeps that question's default); None when none is custom."""
    try:
        items = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(items, list) or len(items) != len(QUESTIONS):
        return None
    texts = tuple(str(x or "").strip()[:QUESTION_MAX] for x in items)
    return texts if any(texts) else None


# --------------------------------------------------------------------------- schedule (pure)


def next_digest_day(schedule: TeamSchedule, after: date) -> date:
    """The first weekly digest day strictly after `after`."""
    d = after + timedelta(days=1)
    while d.weekday() != schedule.digest_weekday:
        d += timedelta(days=1)
    return d


def checkin_day(schedule: TeamSchedule, digest_day: date) -> date:
    """The team's last working day before the digest day (the day before when the week has none)."""
    for back in range(1, 8):
        d = digest_day - timedelta(days=back)
        if schedule.is_working_day(d):
            return d
    return digest_day - timedelta(days=1)


def week_label(day: date) -> str:
    """The ISO week label of a date: a weekly check-in's and a meeting's period."""
    return period_containing(WEEK, day).label


def digest_day_of(schedule: TeamSchedule, period: str) -> date:
    """The digest day of a weekly period label (its week's digest weekday)."""
    try:
        p = parse_period(period)
    except PeriodError:
        raise NotFound("standup.error.closed") from None
    if p.kind != WEEK:
        raise NotFound("standup.error.closed")
    return p.start + timedelta(days=schedule.digest_weekday)


def meeting_start(schedule: TeamSchedule, digest_day: date) -> datetime:
    """When the weekly digest of `digest_day` is composed (its time in the team's zone), in UTC."""
    return datetime.combine(digest_day, schedule.digest_time, schedule.zone).astimezone(timezone.utc)


def daily_report_at(schedule: TeamSchedule, settings: StandupSettings, day: date) -> datetime:
    """When the daily standup report of a team date is posted (team zone), in UTC."""
    return datetime.combine(day, settings.daily_time, schedule.zone).astimezone(timezone.utc)


def closes_at(schedule: TeamSchedule, settings: StandupSettings, kind: str, period: str) -> datetime:
    """Until when answers for a period may be given or edited: the digest's (or the daily report's) time."""
    if kind == WEEKLY:
        return meeting_start(schedule, digest_day_of(schedule, period))
    try:
        day = date.fromisoformat(period)
    except ValueError:
        raise NotFound("standup.error.closed") from None
    return daily_report_at(schedule, settings, day)


@dataclass(frozen=True)
class Window:
    """A due post: its period, the local date it belongs to, and when it may be sent."""

    period: str
    day: date
    not_before: datetime
    expires_at: datetime


def weekly_checkin_window(schedule: TeamSchedule, settings: StandupSettings, zone_name: str, now: datetime) -> Window | None:
    """A rep's weekly check-in DM when due at `now`: on the check-in day at the standup time in the rep's zone."""
    zone = safe_zone(zone_name)
    local = now.astimezone(zone).date()
    digest_day = next_digest_day(schedule, local)
    if checkin_day(schedule, digest_day) != local:
        return None
    start = datetime.combine(local, settings.time, zone).astimezone(timezone.utc)
    end = min(datetime.combine(local + timedelta(days=1), time(0), zone).astimezone(timezone.utc), meeting_start(schedule, digest_day))
    return Window(week_label(digest_day), local, start, end) if start <= now < end else None


def reminder_window(schedule: TeamSchedule, now: datetime) -> Window | None:
    """The team's check-in reminder when due at `now`: in the two hours before the weekly digest."""
    today = now.astimezone(schedule.zone).date()
    for day in (today, today + timedelta(days=1)):
        if day.weekday() != schedule.digest_weekday:
            continue
        start = meeting_start(schedule, day)
        if start - REMIND_BEFORE <= now < start:
            return Window(week_label(day), day, start - REMIND_BEFORE, start)
    return None


def daily_checkin_window(schedule: TeamSchedule, settings: StandupSettings, now: datetime) -> Window | None:
    """The team's daily check-in DMs when due: on working days from the team's daily time until the report."""
    today = now.astimezone(schedule.zone).date()
    if not schedule.is_working_day(today):
        return None
    start = datetime.combine(today, schedule.daily_time, schedule.zone).astimezone(timezone.utc)
    end = daily_report_at(schedule, settings, today)
    return Window(today.isoformat(), today, start, end) if start <= now < end else None


def daily_report_window(schedule: TeamSchedule, settings: StandupSettings, now: datetime) -> Window | None:
    """The team's daily report when due: from the daily standup time to the team's local midnight."""
    today = now.astimezone(schedule.zone).date()
    if not schedule.is_working_day(today):
        return None
    start = daily_report_at(schedule, settings, today)
    end = datetime.combine(today + timedelta(days=1), time(0), schedule.zone).astimezone(timezone.utc)
    return Window(today.isoformat(), today, start, end) if start <= now < end else None


def checkin_key(kind: str, team_id: int, user_id: str, period: str) -> str:
    """The outbox key of a rep's check-in DM: one per team, rep and period."""
    return f"checkin:{team_id}:{user_id}:{period}"


def reminder_key(team_id: int, user_id: str, period: str) -> str:
    """The outbox key of a rep's one reminder for a period."""
    return f"checkin-remind:{team_id}:{user_id}:{period}"


def daily_report_key(team_id: int, period: str) -> str:
    """The outbox key of a team's daily standup report."""
    return f"standup-daily:{team_id}:{period}"


def is_blocker(text: str) -> bool:
    """An answer to the blockers question that names something (not empty, not `none`)."""
    return text.strip().strip(".。!！").lower() not in NONE_WORDS


# --------------------------------------------------------------------------- who is asked


async def standup_teams(session: AsyncSession) -> list[SalesTeam]:
    """Teams with weekly or daily check-ins on (one query)."""
    q = select(SalesTeam).where(or_(SalesTeam.standup_enabled.is_(True), SalesTeam.standup_daily.is_(True))).order_by(SalesTeam.id)
    return list((await session.execute(q)).scalars())


async def team_reps(session: AsyncSession, team_ids: list[int]) -> dict[int, list[Member]]:
    """The reps of each team (one query)."""
    out: dict[int, list[Member]] = {}
    if not team_ids:
        return out
    q = select(Member).where(Member.team_id.in_(team_ids), Member.role == Role.REP).order_by(Member.name, Member.slack_user_id)
    for m in (await session.execute(q)).scalars():
        out.setdefault(m.team_id, []).append(m)
    return out


async def on_leave_ids(session: AsyncSession, member_ids: list[int], days: list[date]) -> set[tuple[int, date]]:
    """(member, day) pairs covered by leave, for the given members and days (one query)."""
    if not member_ids or not days:
        return set()
    lo, hi = min(days), max(days)
    q = select(Leave.member_id, Leave.start, Leave.end).where(Leave.member_id.in_(member_ids), Leave.start <= hi, Leave.end >= lo)
    out = set()
    for member_id, start, end in (await session.execute(q)).all():
        for d in days:
            if start <= d <= end:
                out.add((member_id, d))
    return out


async def answered_ids(session: AsyncSession, team_ids: list[int], periods: list[str]) -> set[tuple[int, int, str]]:
    """(team, member, period) of every answer for these teams and periods (one query)."""
    if not team_ids or not periods:
        return set()
    q = select(CheckIn.team_id, CheckIn.member_id, CheckIn.period).where(CheckIn.team_id.in_(team_ids), CheckIn.period.in_(set(periods)))
    return {(t, m, p) for t, m, p in (await session.execute(q)).all()}


# --------------------------------------------------------------------------- answering


@dataclass(frozen=True)
class CheckInRef:
    """Which check-in a button or modal is about: kind, team and period."""

    kind: str
    team_id: int
    period: str

    def encode(self) -> str:
        """The short form a button value and a modal's metadata carry."""
        return f"{self.kind}|{self.team_id}|{self.period}"

    @classmethod
    def decode(cls, value: str) -> "CheckInRef":
        """The inverse of encode; anything else is a check-in that does not exist."""
        parts = (value or "").split("|")
        if len(parts) != 3 or parts[0] not in (WEEKLY, DAILY) or not parts[1].isdigit() or not parts[2]:
            raise NotFound("standup.error.closed")
        return cls(parts[0], int(parts[1]), parts[2][:16])


@dataclass
class CheckInForm:
    """What the answer modal needs: the team's settings, the rep's saved answers, and the deadline."""

    team: SalesTeam
    settings: StandupSettings
    ref: CheckInRef
    answers: list[str]
    confidence: int | None
    closes_at: datetime


def _decoded(raw: str) -> list[str]:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        items = []
    items = [str(x) for x in items] if isinstance(items, list) else []
    return (items + [""] * len(QUESTIONS))[: len(QUESTIONS)]


async def _team_of_rep(session: AsyncSession, actor: Actor, ref: CheckInRef) -> SalesTeam:
    if not actor.on_roster:
        raise NotOnRoster()
    team = await session.get(SalesTeam, ref.team_id)
    if team is None or team.workspace_id != actor.workspace.id:
        raise NotFound("standup.error.closed")
    if actor.member.team_id != team.id:
        raise PermissionDenied("standup.error.not_yours")
    return team


async def checkin_form(session: AsyncSession, *, actor: Actor, ref: CheckInRef, now: datetime) -> CheckInForm:
    """The rep's own check-in for the modal, prefilled with what they saved; refused once it has closed."""
    team = await _team_of_rep(session, actor, ref)
    settings = StandupSettings.from_team(team)
    deadline = closes_at(TeamSchedule.from_team(team), settings, ref.kind, ref.period)
    if now >= deadline:
        raise ServiceError("standup.error.closed")
    row = (await session.execute(select(CheckIn).where(CheckIn.team_id == team.id, CheckIn.member_id == actor.member.id, CheckIn.period == ref.period))).scalar_one_or_none()
    answers = _decoded(row.answers) if row else [""] * len(QUESTIONS)
    return CheckInForm(team, settings, ref, answers, row.confidence if row else None, deadline)


async def save_checkin(session: AsyncSession, *, actor: Actor, ref: CheckInRef, answers: list[str], confidence: str | None, now: datetime) -> tuple[bool, datetime]:
    """Store the rep's answers for the period (one row per rep and period; a later save replaces them): (edited, open until)."""
    team = await _team_of_rep(session, actor, ref)
    settings = StandupSettings.from_team(team)
    deadline = closes_at(TeamSchedule.from_team(team), settings, ref.kind, ref.period)
    if now >= deadline:
        raise ServiceError("standup.error.closed")
    texts = [(a or "").strip() for a in (list(answers) + [""] * len(QUESTIONS))[: len(QUESTIONS)]]
    errors = {}
    for i, text in enumerate(texts):
        if len(text) > ANSWER_MAX:
            errors[QUESTIONS[i]] = ("standup.error.too_long", {"max": ANSWER_MAX})
    score = None
    if confidence not in (None, ""):
        if not str(confidence).isdigit() or not 1 <= int(confidence) <= 5:
            errors[QUESTIONS[CONFIDENCE_Q]] = ("form.error.bad_choice", {})
        else:
            score = int(confidence)
    if not any(texts[:CONFIDENCE_Q]):
        errors[QUESTIONS[0]] = ("standup.error.empty", {})
    if errors:
        raise ValidationFailed(errors)
    texts[CONFIDENCE_Q] = str(score) if score else ""
    blocker = texts[BLOCKER_Q] if is_blocker(texts[BLOCKER_Q]) else ""
    existed = (await session.execute(select(CheckIn.id).where(CheckIn.team_id == team.id, CheckIn.member_id == actor.member.id, CheckIn.period == ref.period))).first()
    # Concurrent submissions of the same check-in meet in the unique key: one row, the last answers.
    await upsert(session, CheckIn.__table__, {
        "workspace_id": team.workspace_id, "team_id": team.id, "member_id": actor.member.id, "kind": ref.kind, "period": ref.period,
        "answers": json.dumps(texts, ensure_ascii=False), "blocker": blocker, "confidence": score, "answered_at": now, "updated_at": now,
    }, keys=["team_id", "member_id", "period"], update=["answers", "blocker", "confidence", "updated_at"])
    return existed is not None, deadline


# --------------------------------------------------------------------------- what the meeting sees


@dataclass
class RepCheckIn:
    """One rep's answers for a period."""

    checkin_id: int
    member: Member
    answers: list[str]
    blocker: str
    confidence: int | None
    updated_at: datetime
    edited: bool


@dataclass
class ActionState:
    """A meeting action and where it stands now: done, open, overdue or cancelled."""

    action: MeetingAction
    who: str | None  # Slack user id
    state: str
    task_title: str | None = None


@dataclass
class Standup:
    """What a digest or a daily report carries from the check-ins."""

    kind: str
    period: str
    checkins: list[RepCheckIn] = field(default_factory=list)
    not_answered: list[Member] = field(default_factory=list)
    repeated: set[int] = field(default_factory=set)  # member ids whose blocker was raised the period before too
    last_actions: list[ActionState] = field(default_factory=list)
    previous_period: str | None = None

    @property
    def blockers(self) -> list[RepCheckIn]:
        """Check-ins that name a blocker, in the digest's order."""
        return [c for c in self.checkins if c.blocker]

    def by_member(self) -> dict[int, RepCheckIn]:
        """Answers by member id."""
        return {c.member.id: c for c in self.checkins}


def action_state(kind: str, task_status: str | None, due: date | None, today: date) -> str:
    """An action's state: a task's own (done, cancelled, overdue, open); a decision taken is done."""
    if kind != "task":
        return "done"
    if task_status == TaskStatus.DONE.value:
        return "done"
    if task_status == TaskStatus.CANCELLED.value:
        return "cancelled"
    if due is not None and due < today:
        return "overdue"
    return "open"


async def load_standup(session: AsyncSession, *, team: SalesTeam, kind: str, period: str, previous: str | None, reps: list[Member], asked_on: date | None, today: date) -> Standup:
    """The period's answers, who did not answer (leave excused), repeated blockers and last meeting's actions: four statements."""
    s = Standup(kind=kind, period=period, previous_period=previous)
    by_id = {m.id: m for m in reps}
    periods = [period] + ([previous] if previous else [])
    q = select(CheckIn).where(CheckIn.team_id == team.id, CheckIn.period.in_(periods)).order_by(CheckIn.id)
    last_blockers: set[int] = set()
    for c in (await session.execute(q)).scalars():
        if c.period != period:
            if c.blocker:
                last_blockers.add(c.member_id)
            continue
        member = by_id.get(c.member_id)
        if member is None:
            continue  # left the team since answering
        s.checkins.append(RepCheckIn(c.id, member, _decoded(c.answers), c.blocker, c.confidence, c.updated_at, c.updated_at > c.answered_at))
    order = {m.id: i for i, m in enumerate(reps)}
    s.checkins.sort(key=lambda c: order.get(c.member.id, 0))
    s.repeated = {c.member.id for c in s.checkins if c.blocker and c.member.id in last_blockers}
    answered = {c.member.id for c in s.checkins}
    away = await on_leave_ids(session, [m.id for m in reps if m.id not in answered], [asked_on] if asked_on else [])
    s.not_answered = [m for m in reps if m.id not in answered and (m.id, asked_on) not in away]
    if previous and kind == WEEKLY:
        s.last_actions = await meeting_actions(session, team_id=team.id, period=previous, today=today)
    return s


async def meeting_actions(session: AsyncSession, *, team_id: int, period: str, today: date) -> list[ActionState]:
    """A meeting's actions with their state now (one statement)."""
    q = (
        select(MeetingAction, Member.slack_user_id, Task.status, Task.due_date, Task.title)
        .outerjoin(Member, Member.id == MeetingAction.member_id)
        .outerjoin(Task, Task.id == MeetingAction.task_id)
        .where(MeetingAction.team_id == team_id, MeetingAction.period == period)
        .order_by(MeetingAction.id)
    )
    out = []
    for action, user_id, status, due, title in (await session.execute(q)).all():
        status_value = status.value if hasattr(status, "value") else status
        out.append(ActionState(action, user_id, action_state(action.kind, status_value, due or action.due_date, today), title))
    return out


# --------------------------------------------------------------------------- acting on the agenda


@dataclass(frozen=True)
class AgendaRef:
    """An agenda item or blocker a manager acts on: the team, the meeting's week and the item's source."""

    team_id: int
    period: str
    source: str  # blocker:<check-in id> or agenda:<item>

    def encode(self) -> str:
        """The short form a button value carries."""
        return f"{self.team_id}|{self.period}|{self.source}"

    @classmethod
    def decode(cls, value: str) -> "AgendaRef":
        """The inverse of encode; anything else is an item that does not exist."""
        parts = (value or "").split("|")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].startswith(("blocker:", "agenda:")):
            raise NotFound("standup.error.no_item")
        return cls(int(parts[0]), parts[1][:16], parts[2][:64])


async def require_team_manager(session: AsyncSession, *, actor: Actor, team_id: int) -> SalesTeam:
    """The team, when the actor manages it (or is an admin)."""
    team = await session.get(SalesTeam, team_id)
    if team is None or team.workspace_id != actor.workspace.id:
        raise NotFound("standup.error.no_item")
    if actor.is_admin or (actor.is_manager and actor.member.team_id == team.id):
        return team
    if not actor.on_roster:
        raise NotOnRoster()
    raise PermissionDenied("standup.error.managers_only")


@dataclass
class ItemContext:
    """What an agenda item or blocker is about: its text, the rep concerned and the customer, when known."""

    text: str
    member: Member | None = None
    customer_id: int | None = None
    customer_name: str | None = None


async def item_context(session: AsyncSession, *, team: SalesTeam, ref: AgendaRef) -> ItemContext:
    """A blocker's text and rep (a deal's customer for a stale-deal item) for a prefilled form."""
    kind, _, rest = ref.source.partition(":")
    if kind == "blocker" and rest.isdigit():
        row = (await session.execute(
            select(CheckIn, Member).join(Member, Member.id == CheckIn.member_id).where(CheckIn.id == int(rest), CheckIn.team_id == team.id)
        )).first()
        if row is None:
            raise NotFound("standup.error.no_item")
        checkin, member = row
        # The customer: one of the rep's open deals whose customer the blocker names.
        q = (
            select(Customer.id, Customer.name).join(Deal, Deal.customer_id == Customer.id)
            .where(Deal.owner_id == member.id, Deal.status == DealStatus.OPEN).order_by(Deal.updated_at.desc()).limit(200)
        )
        text = checkin.blocker.casefold()
        named = next(((cid, name) for cid, name in (await session.execute(q)).all() if name and name.casefold() in text), None)
        return ItemContext(checkin.blocker, member, named[0] if named else None, named[1] if named else None)
    name, _, deal_id = rest.partition(":")
    if name == "stale" and deal_id.isdigit():
        row = (await session.execute(
            select(Deal, Member, Customer).join(Member, Member.id == Deal.owner_id).join(Customer, Customer.id == Deal.customer_id)
            .where(Deal.id == int(deal_id), Deal.team_id == team.id)
        )).first()
        if row is not None:
            deal, owner, customer = row
            return ItemContext(deal.title or customer.name, owner, customer.id, customer.name)
    return ItemContext("")


def action_key(kind: str, ref: AgendaRef, task_id: int | None = None) -> str:
    """An action's unique key: one decision per item and kind; each task created is its own action."""
    if kind == "task" and task_id is not None:
        return f"task:{task_id}"
    return f"{kind}:{ref.team_id}:{ref.period}:{ref.source}"[:255]


async def record_action(
    session: AsyncSession, *, actor: Actor, ref: AgendaRef, kind: str, what: str, member_id: int | None = None, task_id: int | None = None,
    due: date | None = None, now: datetime | None = None,
) -> bool:
    """Record a decision taken on an agenda item (managers of the team, admins); True when new, False when already recorded."""
    if kind not in ACTION_KINDS:
        raise NotFound("standup.error.no_item")
    team = await require_team_manager(session, actor=actor, team_id=ref.team_id)
    if member_id is None and ref.source.startswith("blocker:"):
        ctx = await item_context(session, team=team, ref=ref)
        member_id = ctx.member.id if ctx.member else None
    result = await upsert(session, MeetingAction.__table__, {
        "workspace_id": team.workspace_id, "team_id": team.id, "period": ref.period, "key": action_key(kind, ref, task_id), "kind": kind,
        "source": ref.source, "what": (what or "")[:300], "member_id": member_id, "actor_id": actor.member.id, "task_id": task_id,
        "due_date": due, "created_at": now or utcnow(),
    }, keys=["key"], returning=[MeetingAction.__table__.c.id])
    return bool(result.all())


async def record_task_action(session: AsyncSession, *, actor: Actor, ref_text: str, task: Task, assignees: list[str], now: datetime) -> None:
    """A task created from an agenda item or blocker becomes that meeting's action (who: its first assignee; due: its due date)."""
    ref = AgendaRef.decode(ref_text)
    member_id = None
    if assignees:
        member_id = (await session.execute(
            select(Member.id).where(Member.workspace_id == actor.workspace.id, Member.slack_user_id == assignees[0])
        )).scalar_one_or_none()
    await record_action(session, actor=actor, ref=ref, kind="task", what=task.title, member_id=member_id, task_id=task.id, due=task.due_date, now=now)


async def record_target_action(session: AsyncSession, *, actor: Actor, ref_text: str, what: str, now: datetime) -> None:
    """A target split saved from an agenda item becomes that meeting's action."""
    await record_action(session, actor=actor, ref=AgendaRef.decode(ref_text), kind="target", what=what, now=now)


def meeting_month(schedule: TeamSchedule, period: str):
    """The month whose targets a meeting looks at: the one holding the last day of the week it reports."""
    reported = period_containing(WEEK, digest_day_of(schedule, period) - timedelta(days=7))
    return period_containing(MONTH, reported.end - timedelta(days=1))


async def _team_member_or_manager(session: AsyncSession, actor: Actor, team_id: int) -> SalesTeam:
    team = await session.get(SalesTeam, team_id)
    if team is None or team.workspace_id != actor.workspace.id:
        raise NotFound("standup.error.no_item")
    if actor.is_admin or actor.member.team_id == team.id:
        return team
    if not actor.on_roster:
        raise NotOnRoster()
    raise PermissionDenied("standup.error.not_yours")


async def answers_for_view(session: AsyncSession, *, actor: Actor, checkin_id: int) -> tuple[Member, list[str], StandupSettings]:
    """One rep's whole answers (See all): for the team's members and admins."""
    row = (await session.execute(select(CheckIn, Member).join(Member, Member.id == CheckIn.member_id).where(CheckIn.id == checkin_id))).first()
    if row is None or row[0].workspace_id != actor.workspace.id:
        raise NotFound("standup.error.no_item")
    checkin, member = row
    team = await _team_member_or_manager(session, actor, checkin.team_id)
    return member, _decoded(checkin.answers), StandupSettings.from_team(team)


async def blockers_for_view(session: AsyncSession, *, actor: Actor, team_id: int, period: str, today: date) -> Standup:
    """Every blocker of a meeting (the digest's see all): for the team's members and admins."""
    team = await _team_member_or_manager(session, actor, team_id)
    reps = (await team_reps(session, [team.id])).get(team.id, [])
    return await load_standup(session, team=team, kind=WEEKLY, period=period, previous=previous_week(period), reps=reps, asked_on=None, today=today)


@dataclass
class StandupDraft:
    """The standup part of the settings modal, as Slack sends it."""

    on: list[str] = field(default_factory=list)  # "weekly", "daily"
    time: str | None = "16:00"
    daily_time: str | None = "10:00"
    questions: list[str] = field(default_factory=lambda: [""] * len(QUESTIONS))


async def update_standup_settings(session: AsyncSession, *, actor: Actor, team_id: int, draft: StandupDraft, fields: dict[str, str]) -> SalesTeam:
    """Save a team's check-in settings (admins; managers for their own team); `fields` names the form's blocks for errors."""
    team = await session.get(SalesTeam, team_id)
    if team is None or team.workspace_id != actor.workspace.id:
        raise NotFound("config.error.which_team")
    await team_for_config(session, actor=actor, team_name=team.name)
    errors: dict[str, tuple[str, dict]] = {}
    at, daily_at = parse_time(draft.time), parse_time(draft.daily_time)
    if at is None:
        errors[fields["time"]] = ("standup.error.time", {})
    if daily_at is None:
        errors[fields["daily_time"]] = ("standup.error.time", {})
    texts = [(q or "").strip() for q in (list(draft.questions) + [""] * len(QUESTIONS))[: len(QUESTIONS)]]
    for i, text in enumerate(texts):
        if len(text) > QUESTION_MAX:
            errors[f"{fields['question']}{i}"] = ("standup.error.too_long", {"max": QUESTION_MAX})
    if errors:
        raise ValidationFailed(errors)
    team.standup_enabled = WEEKLY in draft.on
    team.standup_daily = DAILY in draft.on
    team.standup_time = at.strftime("%H:%M")
    team.standup_daily_time = daily_at.strftime("%H:%M")
    team.standup_questions = json.dumps(texts, ensure_ascii=False) if any(texts) else None
    session.add(team)
    await session.flush()
    return team


def previous_week(period: str) -> str | None:
    """The ISO week label before a week's label."""
    try:
        p = parse_period(period)
    except PeriodError:
        return None
    return week_label(p.start - timedelta(days=7))


__all__ = [
    "ActionState", "AgendaRef", "StandupDraft", "answers_for_view", "blockers_for_view", "meeting_month", "record_target_action", "record_task_action", "update_standup_settings", "CheckInForm", "CheckInRef", "DAILY", "ItemContext", "QUESTIONS", "RepCheckIn", "Standup", "StandupSettings",
    "WEEKLY", "Window", "action_state", "answered_ids", "checkin_day", "checkin_form", "checkin_key", "closes_at", "daily_checkin_window",
    "daily_report_key", "daily_report_window", "digest_day_of", "is_blocker", "item_context", "load_standup", "meeting_actions",
    "meeting_start", "next_digest_day", "on_leave_ids", "previous_week", "record_action", "reminder_key", "reminder_window", "require_team_manager",
    "save_checkin", "standup_teams", "team_reps", "week_label", "weekly_checkin_window",
]
