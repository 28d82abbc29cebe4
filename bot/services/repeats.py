"""Repeating tasks: the rules, the dates they name, and the one task per rule and date the clock makes.

A rule names dates in its team's zone (every working day, given weekdays, a day of the month,
every three months). `next_on` is the next date still to make; the clock makes every date up
to the team's local today, each as a task due that day. The database holds one task per rule
and date (a unique constraint), so two clocks, a restart or a retried tick make it once.
Stopping a rule clears `next_on`: tasks already made stay, no later one is made.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import (
    Customer, Member, Priority, RepeatKind, SalesTeam, Stage, Task, TaskAssignee, TaskEvent, TaskEventKind, TaskRule,
    TaskStatus, Workspace, utcnow,
)
from bot.services.actors import Actor
from bot.services.errors import NotFound, PermissionDenied, ValidationFailed
from bot.services.tasks import DETAILS_MAX, TITLE_MAX, accepted_draft, assignable_members
from bot.services.team_settings import DEFAULT_WORKING_DAYS, TeamSchedule

# Dates further back than this are not made after a long outage: a flood of stale tasks helps nobody.
CATCH_UP_DAYS = 7
_SEARCH_DAYS = 800  # the longest gap between two dates of any rule (a 31st, every three months) is far shorter


@dataclass(frozen=True)
class RepeatSpec:
    """A repeat rule as typed or picked: kind, weekdays (Monday = 0) for weekly, day of month for monthly and quarterly."""

    kind: RepeatKind
    weekdays: frozenset[int] = frozenset()
    month_day: int | None = None

    def anchored(self, start: date) -> "RepeatSpec":
        """Fill what the user left out from the first date: its weekday, or its day of the month."""
        if self.kind == RepeatKind.WEEKLY and not self.weekdays:
            return RepeatSpec(self.kind, frozenset({start.weekday()}))
        if self.kind in (RepeatKind.MONTHLY, RepeatKind.QUARTERLY) and self.month_day is None:
            return RepeatSpec(self.kind, month_day=start.day)
        return self


def occurs(spec: RepeatSpec, day: date, *, start: date, working_days: frozenset[int]) -> bool:
    """True when the rule names `day` (pure; dates before `start` never)."""
    if day < start:
        return False
    if spec.kind == RepeatKind.WORKDAYS:
        return day.weekday() in working_days
    if spec.kind == RepeatKind.WEEKLY:
        return day.weekday() in spec.weekdays
    if spec.kind == RepeatKind.QUARTERLY and (day.month - start.month) % 3:
        return False
    # The 31st of a 30-day month is its last day, so "every month on the 31st" misses no month.
    wanted = min(spec.month_day or start.day, calendar.monthrange(day.year, day.month)[1])
    return day.day == wanted


def next_date(spec: RepeatSpec, on_or_after: date, *, start: date, working_days: frozenset[int]) -> date | None:
    """The first date the rule names on or after `on_or_after` (None for a rule that names none, e.g. no weekday)."""
    day = max(on_or_after, start)
    for _ in range(_SEARCH_DAYS):
        if occurs(spec, day, start=start, working_days=working_days):
            return day
        day += timedelta(days=1)
    return None


def spec_of(rule: TaskRule) -> RepeatSpec:
    """The spec a stored rule holds."""
    days = frozenset(int(x) for x in rule.weekdays.split(",") if x.strip().isdigit() and int(x) in range(7))
    return RepeatSpec(RepeatKind(rule.kind), days, rule.month_day)


@dataclass
class RuleDraft:
    """What a new rule makes each time: the task's fields, its assignees and the first date."""

    spec: RepeatSpec
    start_on: date
    title: str
    assignee_ids: list[int]
    team_id: int | None
    details: str = ""
    customer_id: int | None = None
    stage: Stage | None = None
    priority: Priority = Priority.MEDIUM
    difficulty: int = 1
    self_created: bool = False


async def create_rule(session: AsyncSession, *, actor: Actor, draft: RuleDraft, working_days: frozenset[int] = DEFAULT_WORKING_DAYS) -> TaskRule:
    """Store a rule (the caller checked who may create it); its first date is the first one on or after `start_on`."""
    spec = draft.spec.anchored(draft.start_on)
    rule = TaskRule(
        workspace_id=actor.workspace.id, team_id=draft.team_id, kind=spec.kind,
        weekdays=",".join(str(d) for d in sorted(spec.weekdays)), month_day=spec.month_day,
        start_on=draft.start_on, next_on=next_date(spec, draft.start_on, start=draft.start_on, working_days=working_days),
        title=draft.title, details=draft.details, customer_id=draft.customer_id, stage=draft.stage, priority=draft.priority,
        difficulty=draft.difficulty, assignee_ids=",".join(str(i) for i in draft.assignee_ids), self_created=draft.self_created,
        created_by_id=actor.member.id, created_at=utcnow(),
    )
    session.add(rule)
    await session.flush()
    return rule


async def create_assigned_rule(session: AsyncSession, *, actor: Actor, draft, spec: RepeatSpec, today: date) -> TaskRule:
    """A manager's repeating task from the assign modal: checked like a task, its first date the due date (or today)."""
    members, customer = await accepted_draft(session, actor=actor, draft=draft, today=today)
    team_id = members[0].team_id
    return await create_rule(session, actor=actor, draft=RuleDraft(
        spec=spec, start_on=draft.due_date or today, title=draft.title.strip(), assignee_ids=[m.id for m in members], team_id=team_id,
        details=draft.details.strip(), customer_id=customer.id if customer else None, stage=draft.stage, priority=draft.priority,
        difficulty=draft.difficulty,
    ), working_days=await team_working_days(session, team_id))


async def team_working_days(session: AsyncSession, team_id: int | None) -> frozenset[int]:
    """A team's working days (the default week without a team)."""
    team = await session.get(SalesTeam, team_id) if team_id is not None else None
    return TeamSchedule.from_team(team).working_days if team is not None else DEFAULT_WORKING_DAYS


async def stop_rule(session: AsyncSession, *, actor: Actor, rule_id: int) -> tuple[TaskRule, bool]:
    """Stop a rule: its creator, a manager of its team, or an admin; returns the rule and whether it was running."""
    rule = await session.get(TaskRule, rule_id)
    if rule is None or rule.workspace_id != actor.workspace.id:
        raise NotFound("repeat.error.not_found")
    allowed = actor.is_admin or rule.created_by_id == actor.member.id or (
        actor.is_manager and actor.member.team_id is not None and actor.member.team_id == rule.team_id
    )
    if not allowed:
        raise PermissionDenied("repeat.error.permission")
    # Conditional: two clicks stop it once, and a clock making today's task meanwhile keeps it.
    result = await session.execute(
        update(TaskRule).where(TaskRule.id == rule_id, TaskRule.next_on.is_not(None))
        .values(next_on=None, stopped_at=utcnow()).execution_options(synchronize_session=False)
    )
    rule = await session.get(TaskRule, rule_id, populate_existing=True)
    return rule, result.rowcount == 1


@dataclass
class RuleEdit:
    """A rule's fields as the edit modal sent them; `assignee_user_ids` None when the modal did not offer assignees."""

    title: str
    spec: RepeatSpec
    priority: Priority = Priority.MEDIUM
    details: str | None = None
    assignee_user_ids: list[str] | None = None


def _may_edit(actor: Actor, rule: TaskRule) -> bool:
    """Admins any rule; a manager their team's; anyone else only a rule of the tasks they give themselves."""
    if actor.is_admin:
        return True
    if actor.is_manager and actor.member.team_id is not None and actor.member.team_id == rule.team_id:
        return True
    return rule.self_created and rule.created_by_id == actor.member.id


async def editable_rule(session: AsyncSession, *, actor: Actor, rule_id: int, lock: bool = False) -> tuple[TaskRule, bool, list[str]]:
    """A running rule the actor may edit, whether they may change its assignees, and its assignees' Slack ids.

    `lock` holds the rule's row until the transaction ends, so two saves at once compare with what the other wrote.
    """
    q = select(TaskRule).where(TaskRule.id == rule_id).execution_options(populate_existing=True)
    rule = (await session.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
    if rule is None or rule.workspace_id != actor.workspace.id or rule.next_on is None:
        raise NotFound("repeat.error.not_found")
    if not _may_edit(actor, rule):
        raise PermissionDenied("repeat.error.edit_permission")
    ids_ = [int(x) for x in rule.assignee_ids.split(",") if x.strip().isdigit()]
    users = dict((await session.execute(select(Member.id, Member.slack_user_id).where(Member.id.in_(ids_)))).all()) if ids_ else {}
    return rule, actor.can_assign, [users[i] for i in ids_ if i in users]


async def edit_rule(session: AsyncSession, *, actor: Actor, rule_id: int, edit: RuleEdit, now: datetime) -> tuple[TaskRule, bool]:
    """Change a running rule for its future dates only; returns the rule and whether anything changed.

    Tasks already made keep what they were made with. The next date is the new spec's first on
    or after today in the team's zone, and after the last date already made: a date that has a
    task gets no second one (the unique rule and date key guarantees it besides).
    """
    rule, full, _ = await editable_rule(session, actor=actor, rule_id=rule_id, lock=True)
    errors: dict[str, tuple[str, dict]] = {}
    title = edit.title.strip()
    if not title:
        errors["title"] = ("assign.error.title_required", {})
    elif len(title) > TITLE_MAX:
        errors["title"] = ("assign.error.title_too_long", {"max": TITLE_MAX})
    details = rule.details if edit.details is None else edit.details.strip()
    if len(details) > DETAILS_MAX:
        errors["details"] = ("assign.error.details_too_long", {"max": DETAILS_MAX})
    spec = edit.spec
    if spec.kind == RepeatKind.WEEKLY and not spec.weekdays:
        errors["repeat_days"] = ("repeat.error.no_days", {})
    if spec.kind in (RepeatKind.MONTHLY, RepeatKind.QUARTERLY):
        if spec.month_day is None:
            spec = RepeatSpec(spec.kind, month_day=rule.month_day or rule.start_on.day)
        elif not 1 <= spec.month_day <= 31:
            errors["month_day"] = ("repeat.error.month_day", {})
    if spec.kind not in (RepeatKind.MONTHLY, RepeatKind.QUARTERLY):
        spec = RepeatSpec(spec.kind, spec.weekdays if spec.kind == RepeatKind.WEEKLY else frozenset())
    assignee_ids, team_id = rule.assignee_ids, rule.team_id
    if full and edit.assignee_user_ids is not None:
        if not edit.assignee_user_ids:
            errors["assignees"] = ("assign.error.assignee_required", {})
        else:
            allowed = {m.slack_user_id: m for m in await assignable_members(session, actor=actor)}
            wrong = [u for u in edit.assignee_user_ids if u not in allowed]
            if wrong:
                errors["assignees"] = ("assign.error.assignee_not_rep", {"user": wrong[0]})
            else:
                members = [allowed[u] for u in dict.fromkeys(edit.assignee_user_ids)]
                assignee_ids, team_id = ",".join(str(m.id) for m in members), members[0].team_id
    if errors:
        raise ValidationFailed(errors)

    team = await session.get(SalesTeam, team_id) if team_id is not None else None
    schedule = TeamSchedule.from_team(team) if team is not None else None
    today = now.astimezone(schedule.zone if schedule else timezone.utc).date()
    working = schedule.working_days if schedule else DEFAULT_WORKING_DAYS
    last_made = (await session.execute(select(func.max(Task.occurs_on)).where(Task.rule_id == rule.id))).scalar_one()
    # A new kind starts counting (its quarters) from today; the same kind keeps its first date.
    start_on = rule.start_on if spec.kind == RepeatKind(rule.kind) else max(today, rule.start_on)
    after = max(today, last_made + timedelta(days=1)) if last_made else today
    next_on = next_date(spec, after, start=start_on, working_days=working)
    values = {
        "title": title, "details": details, "priority": edit.priority, "kind": spec.kind,
        "weekdays": ",".join(str(d) for d in sorted(spec.weekdays)), "month_day": spec.month_day,
        "assignee_ids": assignee_ids, "team_id": team_id, "start_on": start_on, "next_on": next_on,
    }
    # The next date alone is no change: the same rule saved again keeps the date it had.
    if all(getattr(rule, k) == v for k, v in values.items() if k != "next_on"):
        return rule, False
    # Only a running rule: a Stop that won the race stays stopped.
    result = await session.execute(
        update(TaskRule).where(TaskRule.id == rule.id, TaskRule.next_on.is_not(None)).values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotFound("repeat.error.not_found")
    rule = await session.get(TaskRule, rule.id, populate_existing=True)
    return rule, True


RULES_SHOWN = 24  # a section and a row of buttons a rule: inside a message's 50 blocks


async def list_rules(session: AsyncSession, *, actor: Actor) -> tuple[list[TaskRule], int]:
    """Running rules the actor may stop (theirs; their team's for a manager; all for an admin), newest first, and how many in all."""
    q = select(TaskRule).where(TaskRule.workspace_id == actor.workspace.id, TaskRule.next_on.is_not(None))
    if not actor.is_admin:
        mine = TaskRule.created_by_id == actor.member.id
        if actor.is_manager and actor.member.team_id is not None:
            mine = or_(mine, TaskRule.team_id == actor.member.team_id)
        q = q.where(mine)
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    rules = list((await session.execute(q.order_by(TaskRule.id.desc()).limit(RULES_SHOWN))).scalars())
    return rules, total


@dataclass
class Occurrence:
    """A task the clock just made from a rule, with what its cards need."""

    task: Task
    rule: TaskRule
    slack_team_id: str
    assignees: list[Member] = field(default_factory=list)
    customer_name: str | None = None


async def make_due_occurrences(session: AsyncSession, *, now: datetime) -> list[Occurrence]:
    """Make every task whose rule date has begun in its team's zone and is not made yet; advance the rules.

    A constant number of queries for the rules, teams, workspaces, members and customers, plus
    the inserts of the tasks made. Safe to run from two clocks at once.
    """
    # No zone is more than 14 hours ahead of UTC: rules due later than that date are not due anywhere.
    horizon = (now.astimezone(timezone.utc) + timedelta(hours=14)).date()
    rules = list((await session.execute(
        select(TaskRule).where(TaskRule.next_on.is_not(None), TaskRule.next_on <= horizon).order_by(TaskRule.id)
    )).scalars())
    if not rules:
        return []
    teams = {t.id: t for t in (await session.execute(select(SalesTeam).where(SalesTeam.id.in_({r.team_id for r in rules if r.team_id})))).scalars()}
    spaces = dict((await session.execute(select(Workspace.id, Workspace.slack_team_id).where(Workspace.id.in_({r.workspace_id for r in rules})))).all())
    member_ids = {int(x) for r in rules for x in r.assignee_ids.split(",") if x.strip().isdigit()}
    members = {m.id: m for m in (await session.execute(select(Member).where(Member.id.in_(member_ids)))).scalars()} if member_ids else {}
    customer_ids = {r.customer_id for r in rules if r.customer_id}
    customers = dict((await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))))) if customer_ids else {}
    made: list[Occurrence] = []
    stamp = now  # the clock's time: a task made for a date is stamped on that date
    for rule in rules:
        team = teams.get(rule.team_id)
        schedule = TeamSchedule.from_team(team) if team is not None else None
        today = now.astimezone(schedule.zone if schedule else timezone.utc).date()
        working = schedule.working_days if schedule else DEFAULT_WORKING_DAYS
        spec = spec_of(rule)
        day, dates = rule.next_on, []
        while day is not None and day <= today:
            if day >= today - timedelta(days=CATCH_UP_DAYS):
                dates.append(day)
            day = next_date(spec, day + timedelta(days=1), start=rule.start_on, working_days=working)
        if not dates and day == rule.next_on:
            continue
        assignees = [members[int(x)] for x in rule.assignee_ids.split(",") if x.strip().isdigit() and int(x) in members]
        for occurs_on in dates:
            task = await _insert_occurrence(session, rule=rule, occurs_on=occurs_on, assignees=assignees, stamp=stamp)
            if task is not None:
                made.append(Occurrence(task, rule, spaces.get(rule.workspace_id, ""), assignees, customers.get(rule.customer_id)))
        # Only from the value read: a rule stopped (or advanced by another clock) meanwhile is left as it is.
        await session.execute(
            update(TaskRule).where(TaskRule.id == rule.id, TaskRule.next_on == rule.next_on).values(next_on=day)
            .execution_options(synchronize_session=False)
        )
    await session.flush()
    return made


async def _insert_occurrence(session: AsyncSession, *, rule: TaskRule, occurs_on: date, assignees: list[Member], stamp: datetime) -> Task | None:
    """Insert the rule's task for one date unless it exists (whoever made it first); None when it did."""
    table = Task.__table__
    values = {
        "workspace_id": rule.workspace_id, "team_id": rule.team_id, "title": rule.title, "details": rule.details,
        "customer_id": rule.customer_id, "stage": rule.stage, "priority": rule.priority, "difficulty": rule.difficulty,
        "due_date": occurs_on, "status": TaskStatus.OPEN, "created_by_id": rule.created_by_id, "self_created": rule.self_created,
        "rule_id": rule.id, "occurs_on": occurs_on, "created_at": stamp, "updated_at": stamp,
    }
    row = (await upsert(session, table, values, keys=["rule_id", "occurs_on"], returning=[table.c.id])).first()
    if row is None:
        return None
    task = await session.get(Task, row[0])
    session.add_all([TaskAssignee(task_id=task.id, member_id=m.id) for m in assignees])
    session.add(TaskEvent(workspace_id=rule.workspace_id, task_id=task.id, actor_id=rule.created_by_id, kind=TaskEventKind.CREATED, created_at=stamp))
    return task


def repeat_key(slack_team_id: str, rule_id: int, day: date, user_id: str) -> str:
    """The outbox key of an occurrence's card to one assignee."""
    return f"repeat:{slack_team_id}:{rule_id}:{day.isoformat()}:{user_id}"
