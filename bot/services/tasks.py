"""Tasks: assign, list, start, complete and annotate, with the permission rules on every path."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import get_or_create
from bot.models import (
    OPEN_TASK_STATUSES, Customer, Member, Priority, Role, Segment, Stage, Task, TaskAssignee, TaskEvent, TaskEventKind,
    TaskStatus, utcnow,
)
from bot.services.actors import Actor
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ValidationFailed
from bot.services import webhooks
from bot.services.surveys import survey_after_task
from bot.services.paging import Paged

TITLE_MAX = 200
DETAILS_MAX = 3000
NOTE_MAX = 3000
ASSIGNABLE_ROLES = (Role.REP, Role.SERVICE)


class TaskFilter(str, Enum):
    """Which of a rep's tasks to list."""

    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    ALL = "all"


@dataclass
class TaskDraft:
    """What the assign modal submits, already parsed from Slack's shapes."""

    title: str
    assignee_user_ids: list[str]
    details: str = ""
    customer_id: int | None = None
    new_customer_name: str | None = None
    new_customer_segment: Segment = Segment.SMB
    stage: Stage | None = None
    priority: Priority = Priority.MEDIUM
    difficulty: int = 1
    due_date: date | None = None


@dataclass
class TaskRow:
    """A task with what its views show: customer and assignees (Slack user ids)."""

    task: Task
    customer_name: str | None = None
    assignees: list[str] = field(default_factory=list)

    def is_overdue(self, today: date) -> bool:
        """Past its due date and still to do."""
        return self.task.status in OPEN_TASK_STATUSES and self.task.due_date is not None and self.task.due_date < today


@dataclass
class TaskPage(Paged):
    """One page of a task list."""

    rows: list[TaskRow]
    total: int
    offset: int
    limit: int


def require_roster(actor: Actor) -> None:
    """Stop members who are on no team (admins may act without one)."""
    if not actor.on_roster and not actor.is_admin:
        raise NotOnRoster()


def require_assigner(actor: Actor) -> None:
    """Only managers and admins assign work."""
    if not actor.can_assign:
        if not actor.on_roster:
            raise NotOnRoster()
        raise PermissionDenied("error.managers_only")


async def assignable_members(session: AsyncSession, *, actor: Actor) -> list[Member]:
    """Reps (and customer service) the actor may assign to: a manager's team, or all for an admin."""
    q = select(Member).where(Member.workspace_id == actor.workspace.id, Member.role.in_(ASSIGNABLE_ROLES))
    if not actor.is_admin:
        q = q.where(Member.team_id == actor.member.team_id)
    return list((await session.execute(q.order_by(Member.name))).scalars())


async def validate_draft(session: AsyncSession, *, actor: Actor, draft: TaskDraft, today: date) -> tuple[dict[str, tuple[str, dict]], list[Member], Customer | None]:
    """Check a draft field by field; returns (errors, assignee members, existing customer)."""
    errors: dict[str, tuple[str, dict]] = {}
    title = draft.title.strip()
    if not title:
        errors["title"] = ("assign.error.title_required", {})
    elif len(title) > TITLE_MAX:
        errors["title"] = ("assign.error.title_too_long", {"max": TITLE_MAX})
    if len(draft.details) > DETAILS_MAX:
        errors["details"] = ("assign.error.details_too_long", {"max": DETAILS_MAX})
    if draft.difficulty not in (1, 2, 3):
        errors["difficulty"] = ("assign.error.difficulty", {})
    if draft.due_date is not None and draft.due_date < today:
        errors["due_date"] = ("assign.error.due_past", {})

    members: list[Member] = []
    if not draft.assignee_user_ids:
        errors["assignees"] = ("assign.error.assignee_required", {})
    else:
        allowed = {m.slack_user_id: m for m in await assignable_members(session, actor=actor)}
        wrong = [u for u in draft.assignee_user_ids if u not in allowed]
        if wrong:
            errors["assignees"] = ("assign.error.assignee_not_rep", {"user": wrong[0]})
        members = [allowed[u] for u in dict.fromkeys(draft.assignee_user_ids) if u in allowed]

    customer = None
    new_name = (draft.new_customer_name or "").strip()
    if draft.customer_id is not None:
        customer = await session.get(Customer, draft.customer_id)
        if customer is None or customer.workspace_id != actor.workspace.id:
            errors["customer"] = ("assign.error.customer_unknown", {})
            customer = None
    if new_name and len(new_name) > 200:
        errors["new_customer"] = ("assign.error.customer_name_too_long", {"max": 200})
    return errors, members, customer


async def accepted_draft(session: AsyncSession, *, actor: Actor, draft: TaskDraft, today: date) -> tuple[list[Member], Customer | None]:
    """An assigner's draft checked field by field (ValidationFailed otherwise): its assignees, and its customer, made when new."""
    require_assigner(actor)
    errors, members, customer = await validate_draft(session, actor=actor, draft=draft, today=today)
    if errors:
        raise ValidationFailed(errors)
    new_name = (draft.new_customer_name or "").strip()
    if customer is None and new_name:
        customer = await find_or_create_customer(session, workspace_id=actor.workspace.id, name=new_name, segment=draft.new_customer_segment)
    return members, customer


async def create_task(session: AsyncSession, *, actor: Actor, draft: TaskDraft, today: date) -> TaskRow:
    """Create a task for one or more assignees (managers and admins only)."""
    members, customer = await accepted_draft(session, actor=actor, draft=draft, today=today)
    now = utcnow()
    task = Task(
        workspace_id=actor.workspace.id,
        team_id=members[0].team_id,  # the assignees' team: its manager may then act on the task
        title=draft.title.strip(),
        details=draft.details.strip(),
        customer_id=customer.id if customer else None,
        stage=draft.stage,
        priority=draft.priority,
        difficulty=draft.difficulty,
        due_date=draft.due_date,
        status=TaskStatus.OPEN,
        created_by_id=actor.member.id,
        created_at=now,
        updated_at=now,
    )
    await insert_tasks(session, tasks=[task], assignee_ids=[m.id for m in members], actor_id=actor.member.id, now=now)
    return TaskRow(task=task, customer_name=customer.name if customer else None, assignees=[m.slack_user_id for m in members])


async def insert_tasks(session: AsyncSession, *, tasks: list[Task], assignee_ids: list[int], actor_id: int | None, now) -> list[Task]:
    """Write new tasks with their assignees and a "created" history entry (rules are the caller's)."""
    session.add_all(tasks)
    await session.flush()
    session.add_all([TaskAssignee(task_id=t.id, member_id=m) for t in tasks for m in assignee_ids])
    session.add_all([TaskEvent(workspace_id=t.workspace_id, task_id=t.id, actor_id=actor_id, kind=TaskEventKind.CREATED, created_at=now) for t in tasks])
    await session.flush()
    for t in tasks:
        await webhooks.emit_task(session, task=t, event="task.created", at=now)
    return tasks


async def find_or_create_customer(session: AsyncSession, *, workspace_id: int, name: str, segment: Segment = Segment.SMB, region: str | None = None) -> Customer:
    """A customer by exact name, created when new (two submissions naming the same new customer at once get the same row)."""
    return await get_or_create(session, Customer, keys={"workspace_id": workspace_id, "name": name}, values={"segment": segment, "region": region})


async def search_customers(session: AsyncSession, *, workspace_id: int, query: str, limit: int = 100) -> list[Customer]:
    """Customers whose name contains the query, shortest match first."""
    q = select(Customer).where(Customer.workspace_id == workspace_id)
    if query.strip():
        q = q.where(func.lower(Customer.name).contains(query.strip().lower(), autoescape=True))
    q = q.order_by(func.length(Customer.name), Customer.name).limit(limit)
    return list((await session.execute(q)).scalars())


def _overdue_first(today: date):
    return case((and_(Task.status.in_(OPEN_TASK_STATUSES), Task.due_date < today), 0), else_=1)


async def list_my_tasks(session: AsyncSession, *, actor: Actor, which: TaskFilter, today: date, offset: int = 0, limit: int = 10) -> TaskPage:
    """The actor's own tasks: overdue first, then by priority and due date."""
    require_roster(actor)
    base = (
        select(Task)
        .join(TaskAssignee, TaskAssignee.task_id == Task.id)
        .where(Task.workspace_id == actor.workspace.id, TaskAssignee.member_id == actor.member.id)
    )
    if which == TaskFilter.OPEN:
        base = base.where(Task.status.in_(OPEN_TASK_STATUSES))
    elif which == TaskFilter.OVERDUE:
        base = base.where(Task.status.in_(OPEN_TASK_STATUSES), Task.due_date < today)
    elif which == TaskFilter.DONE:
        base = base.where(Task.status == TaskStatus.DONE)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    offset = max(0, min(offset, max(0, total - 1) // limit * limit))
    if which == TaskFilter.DONE:
        order = (Task.completed_at.desc(), Task.id.desc())
    else:
        order = (_overdue_first(today), Task.status.not_in(OPEN_TASK_STATUSES), Task.priority, Task.due_date.is_(None), Task.due_date, Task.id)
    tasks = list((await session.execute(base.order_by(*order).offset(offset).limit(limit))).scalars())
    return TaskPage(rows=await _rows(session, tasks), total=total, offset=offset, limit=limit)


async def _rows(session: AsyncSession, tasks: list[Task]) -> list[TaskRow]:
    """Attach customers and assignees to tasks in two queries, whatever their number."""
    if not tasks:
        return []
    ids = [t.id for t in tasks]
    customer_ids = {t.customer_id for t in tasks if t.customer_id}
    names: dict[int, str] = {}
    if customer_ids:
        names = dict((await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids)))).all())
    assignees: dict[int, list[str]] = defaultdict(list)
    q = select(TaskAssignee.task_id, Member.slack_user_id).join(Member, Member.id == TaskAssignee.member_id).where(TaskAssignee.task_id.in_(ids)).order_by(Member.slack_user_id)
    for task_id, user_id in (await session.execute(q)).all():
        assignees[task_id].append(user_id)
    return [TaskRow(task=t, customer_name=names.get(t.customer_id), assignees=assignees[t.id]) for t in tasks]


async def get_task_row(session: AsyncSession, *, actor: Actor, task_id: int) -> TaskRow:
    """One task the actor may see, with customer and assignees."""
    task = await _load_visible(session, actor=actor, task_id=task_id)
    return (await _rows(session, [task]))[0]


async def _load_visible(session: AsyncSession, *, actor: Actor, task_id: int) -> Task:
    """Load a task and check the actor may act on it: an assignee, a manager of its team, or an admin."""
    task = await session.get(Task, task_id)
    if task is None or task.workspace_id != actor.workspace.id:
        raise NotFound("error.task_not_found")
    if actor.is_admin:
        return task
    if actor.is_manager and actor.member.team_id is not None and actor.member.team_id == task.team_id:
        return task
    # An assignee may act; so may the manager of any assignee (a shared task can span teams).
    mine = TaskAssignee.member_id == actor.member.id
    if actor.is_manager and actor.member.team_id is not None:
        mine = mine | (Member.team_id == actor.member.team_id)
    q = select(TaskAssignee.task_id).join(Member, Member.id == TaskAssignee.member_id).where(TaskAssignee.task_id == task_id, mine).limit(1)
    if (await session.execute(q)).first() is None:
        raise PermissionDenied("error.not_your_task")
    return task


async def _transition(session: AsyncSession, *, actor: Actor, task_id: int, to: TaskStatus, from_: tuple[TaskStatus, ...], kind: TaskEventKind) -> tuple[TaskRow, bool]:
    await _load_visible(session, actor=actor, task_id=task_id)
    now = utcnow()
    values = {"status": to, "updated_at": now}
    if to == TaskStatus.DONE:
        values["completed_at"] = now
    # A conditional UPDATE makes a double click (or two racing clicks) change the task once.
    result = await session.execute(
        update(Task).where(Task.id == task_id, Task.workspace_id == actor.workspace.id, Task.status.in_(from_)).values(**values)
        .execution_options(synchronize_session=False)
    )
    changed = result.rowcount == 1
    if changed:
        session.add(TaskEvent(workspace_id=actor.workspace.id, task_id=task_id, actor_id=actor.member.id, kind=kind, created_at=now))
        await session.flush()
    task = await session.get(Task, task_id, populate_existing=True)
    if changed and to in (TaskStatus.DONE, TaskStatus.CANCELLED):
        await webhooks.emit_task(session, task=task, event=f"task.{to.value}", at=now)
    return (await _rows(session, [task]))[0], changed


async def start_task(session: AsyncSession, *, actor: Actor, task_id: int) -> tuple[TaskRow, bool]:
    """Mark an open task in progress; returns the task and whether anything changed."""
    return await _transition(session, actor=actor, task_id=task_id, to=TaskStatus.IN_PROGRESS, from_=(TaskStatus.OPEN,), kind=TaskEventKind.STARTED)


async def complete_task(session: AsyncSession, *, actor: Actor, task_id: int) -> tuple[TaskRow, bool]:
    """Mark a task done once, however often it is clicked; a finished after-sales task schedules a survey."""
    row, changed = await _transition(session, actor=actor, task_id=task_id, to=TaskStatus.DONE, from_=(TaskStatus.OPEN, TaskStatus.IN_PROGRESS), kind=TaskEventKind.DONE)
    if changed and row.task.stage == Stage.AFTER_SALES and row.task.customer_id is not None:
        await survey_after_task(session, task=row.task, actor_member_id=actor.member.id)
    return row, changed


async def add_note(session: AsyncSession, *, actor: Actor, task_id: int, note: str) -> TaskRow:
    """Record a note in the task's history."""
    text = note.strip()
    if not text:
        raise ValidationFailed({"note": ("note.error.empty", {})})
    if len(text) > NOTE_MAX:
        raise ValidationFailed({"note": ("note.error.too_long", {"max": NOTE_MAX})})
    task = await _load_visible(session, actor=actor, task_id=task_id)
    now = utcnow()
    session.add(TaskEvent(workspace_id=actor.workspace.id, task_id=task_id, actor_id=actor.member.id, kind=TaskEventKind.NOTE, note=text, created_at=now))
    task.updated_at = now
    session.add(task)
    await session.flush()
    return (await _rows(session, [task]))[0]


async def task_events(session: AsyncSession, *, actor: Actor, task_id: int) -> list[TaskEvent]:
    """A task's history, oldest first."""
    await _load_visible(session, actor=actor, task_id=task_id)
    q = select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.workspace_id == actor.workspace.id).order_by(TaskEvent.created_at, TaskEvent.id)
    return list((await session.execute(q)).scalars())


@dataclass
class RepOverdue:
    """One rep's overdue tasks on a manager's Home: the first few and how many in all."""

    member: Member
    rows: list[TaskRow]
    total: int


@dataclass
class HomeOverview:
    """What the App Home shows: own open tasks, and a manager's team overdue per rep."""

    my_tasks: TaskPage
    team_overdue: list[RepOverdue]


async def home_overview(session: AsyncSession, *, actor: Actor, today: date, my_limit: int = 15, per_rep: int = 5) -> HomeOverview:
    """Gather the App Home's content in a fixed number of queries."""
    if actor.on_roster:
        my = await list_my_tasks(session, actor=actor, which=TaskFilter.OPEN, today=today, limit=my_limit)
    else:
        my = TaskPage([], 0, 0, my_limit)
    team: list[RepOverdue] = []
    if actor.is_manager and actor.member.team_id is not None:
        # Each rep's first few overdue tasks and their count, ranked in the database: a team of 300 reps
        # with thousands overdue loads 300 × per_rep rows, not all of them.
        order = (Task.due_date, Task.priority, Task.id)
        ranked = (
            select(
                TaskAssignee.member_id.label("member_id"), TaskAssignee.task_id.label("task_id"),
                func.row_number().over(partition_by=TaskAssignee.member_id, order_by=order).label("rank"),
                func.count().over(partition_by=TaskAssignee.member_id).label("total"),
            )
            .join(Task, Task.id == TaskAssignee.task_id)
            .join(Member, Member.id == TaskAssignee.member_id)
            .where(
                Task.workspace_id == actor.workspace.id, Member.team_id == actor.member.team_id,
                Task.status.in_(OPEN_TASK_STATUSES), Task.due_date < today,
            )
            .subquery()
        )
        q = (
            select(Member, Task, ranked.c.total)
            .join(ranked, ranked.c.member_id == Member.id)
            .join(Task, Task.id == ranked.c.task_id)
            .where(ranked.c.rank <= per_rep)
            .order_by(Member.name, Member.slack_user_id, *order)
        )
        grouped: dict[int, tuple[Member, list[Task], int]] = {}
        for member, task, total in (await session.execute(q)).all():
            grouped.setdefault(member.id, (member, [], int(total)))[1].append(task)
        shown = [t for _, ts, _ in grouped.values() for t in ts]
        rows = {r.task.id: r for r in await _rows(session, shown)}
        team = [RepOverdue(m, [rows[t.id] for t in ts], total) for m, ts, total in grouped.values()]
    return HomeOverview(my_tasks=my, team_overdue=team)


async def members_by_ids(session: AsyncSession, *, workspace_id: int, member_ids: list[int]) -> list[Member]:
    """Members by primary key within a workspace."""
    if not member_ids:
        return []
    q = select(Member).where(Member.workspace_id == workspace_id, Member.id.in_(member_ids))
    return list((await session.execute(q)).scalars())


async def members_by_slack_ids(session: AsyncSession, *, workspace_id: int, user_ids: list[str]) -> list[Member]:
    """Members by Slack user id within a workspace."""
    if not user_ids:
        return []
    q = select(Member).where(Member.workspace_id == workspace_id, Member.slack_user_id.in_(user_ids))
    return list((await session.execute(q)).scalars())
