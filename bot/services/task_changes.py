"""Changing a task after it is assigned: edit and reassign, cancel and reopen, its history, and who hears about it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import (
    OPEN_TASK_STATUSES, Customer, Deal, Leave, Member, OutboxMessage, Priority, Role, Segment, Stage, Task, TaskAssignee,
    TaskCard, TaskEvent, TaskEventKind, TaskStatus, utcnow,
)
from bot.services import webhooks
from bot.services.actors import Actor
from bot.services.errors import PermissionDenied, ServiceError, ValidationFailed
from bot.services.tasks import (
    DETAILS_MAX, TITLE_MAX, TaskRow, _load_visible, _rows, assignable_members, find_or_create_customer,
)

REASON_MAX = 500
HANDOVER_MAX = 40  # tasks listed in one hand-over DM: one block each keeps it under Slack's 50 blocks
# The fields an edit may change, in the order the history and notices name them.
FIELDS = ("title", "details", "assignees", "customer", "deal", "stage", "priority", "difficulty", "due_date")
OWN_FIELDS = frozenset({"priority", "due_date"})  # what a rep may change on a task they gave themselves


class TaskChanged(ServiceError):
    """Someone else changed the task between reading and saving: the edit is not applied over theirs."""

    key = "task.error.changed_meanwhile"


class TaskClosed(ServiceError):
    """A done or cancelled task is reopened before it is edited."""

    key = "task.error.closed"


@dataclass
class TaskEdit:
    """What the edit modal submits; None leaves a field as it is."""

    title: str | None = None
    details: str | None = None
    assignee_user_ids: list[str] | None = None
    customer_id: int | None = None
    new_customer_name: str | None = None
    new_customer_segment: Segment = Segment.SMB
    clear_customer: bool = False  # the customer picker was emptied
    deal_id: int | None = None
    clear_deal: bool = False
    stage: Stage | None = None
    clear_stage: bool = False
    priority: Priority | None = None
    difficulty: int | None = None
    due_date: date | None = None
    clear_due: bool = False


@dataclass(frozen=True)
class Change:
    """One changed field with its values as stored (ids, ISO dates, enum values, names)."""

    field: str
    old: str | None
    new: str | None

    def note(self) -> str:
        """The event's note: a small JSON object, so any title survives the round trip."""
        return json.dumps({"field": self.field, "old": self.old, "new": self.new}, ensure_ascii=False, separators=(",", ":"))[:3000]

    @classmethod
    def parse(cls, note: str) -> "Change | None":
        """The change an EDITED event recorded (None for a note this module did not write)."""
        try:
            data = json.loads(note)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("field") not in FIELDS:
            return None
        return cls(str(data["field"]), data.get("old"), data.get("new"))


@dataclass
class EditResult:
    """An edit's outcome: the task after it, what changed, and who was added, removed or kept."""

    row: TaskRow
    changes: list[Change] = field(default_factory=list)
    added: list[Member] = field(default_factory=list)
    removed: list[Member] = field(default_factory=list)
    kept: list[Member] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Anything was saved."""
        return bool(self.changes)


# --------------------------------------------------------------------------- who may

async def _assignee_members(session: AsyncSession, task_id: int) -> list[Member]:
    q = select(Member).join(TaskAssignee, TaskAssignee.member_id == Member.id).where(TaskAssignee.task_id == task_id).order_by(Member.slack_user_id)
    return list((await session.execute(q)).scalars())


def _manages(actor: Actor, task: Task, assignees: list[Member]) -> bool:
    """An admin, or a manager of the task's team or of any assignee's team."""
    if actor.is_admin:
        return True
    if not actor.is_manager or actor.member.team_id is None:
        return False
    return task.team_id == actor.member.team_id or any(m.team_id == actor.member.team_id for m in assignees)


def _self_created(task: Task, assignees: list[Member], actor: Actor) -> bool:
    """A task the actor gave themselves (`/mytasks add`, New task): self-created by them, and still theirs alone."""
    return task.self_created and task.created_by_id == actor.member.id and [m.id for m in assignees] == [actor.member.id]


def shows_edit(row: TaskRow, actor: Actor | None) -> bool:
    """Whether a surface offers Edit to this viewer (the service checks again on save)."""
    if actor is None or row.task.status not in OPEN_TASK_STATUSES:
        return False
    return shows_manage(row, actor) or (
        row.task.self_created and row.task.created_by_id == actor.member.id and row.assignees == [actor.member.slack_user_id])


def shows_manage(row: TaskRow, actor: Actor | None) -> bool:
    """Whether a surface offers Cancel / Reopen: admins, and managers of the task's team."""
    if actor is None:
        return False
    return actor.is_admin or (actor.is_manager and actor.member.team_id is not None and row.task.team_id == actor.member.team_id)


async def check_editable(session: AsyncSession, *, actor: Actor, task_id: int) -> tuple[TaskRow, bool]:
    """The task to prefill the edit modal with, and whether the actor may change every field (else due date and priority only)."""
    task = await _load_visible(session, actor=actor, task_id=task_id)
    assignees = await _assignee_members(session, task_id)
    full = _manages(actor, task, assignees)
    if not full and not _self_created(task, assignees, actor):
        raise PermissionDenied("task.error.edit_managers_only")
    if task.status not in OPEN_TASK_STATUSES:
        raise TaskClosed()
    return (await _rows(session, [task]))[0], full


# --------------------------------------------------------------------------- edit

def _value(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, Priority):
        return str(v.value)
    if hasattr(v, "value"):
        return str(v.value)
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


async def edit_task(session: AsyncSession, *, actor: Actor, task_id: int, edit: TaskEdit, today: date) -> EditResult:
    """Apply an edit: one EDITED event per changed field; a concurrent change of the same task wins and this one is refused."""
    row, full = await check_editable(session, actor=actor, task_id=task_id)
    task = row.task
    current = await _assignee_members(session, task_id)
    errors: dict[str, tuple[str, dict]] = {}
    values: dict[str, object] = {}
    changes: list[Change] = []

    def want(name: str) -> None:
        if name not in OWN_FIELDS and not full:
            raise PermissionDenied("task.error.edit_own_only")

    if edit.title is not None and edit.title.strip() != task.title:
        want("title")
        title = edit.title.strip()
        if not title:
            errors["title"] = ("assign.error.title_required", {})
        elif len(title) > TITLE_MAX:
            errors["title"] = ("assign.error.title_too_long", {"max": TITLE_MAX})
        values["title"] = title
        changes.append(Change("title", task.title, title))
    if edit.details is not None and edit.details.strip() != task.details:
        want("details")
        if len(edit.details) > DETAILS_MAX:
            errors["details"] = ("assign.error.details_too_long", {"max": DETAILS_MAX})
        values["details"] = edit.details.strip()
        changes.append(Change("details", None, None))  # long text: the history says it changed, not how
    if edit.priority is not None and edit.priority != Priority(task.priority):
        want("priority")
        values["priority"] = edit.priority
        changes.append(Change("priority", _value(Priority(task.priority)), _value(edit.priority)))
    if edit.difficulty is not None and edit.difficulty != task.difficulty:
        want("difficulty")
        if edit.difficulty not in (1, 2, 3):
            errors["difficulty"] = ("assign.error.difficulty", {})
        values["difficulty"] = edit.difficulty
        changes.append(Change("difficulty", str(task.difficulty), str(edit.difficulty)))
    new_stage = None if edit.clear_stage else (edit.stage if edit.stage is not None else task.stage)
    if new_stage != task.stage:
        want("stage")
        values["stage"] = new_stage
        changes.append(Change("stage", _value(task.stage), _value(new_stage)))
    new_due = None if edit.clear_due else (edit.due_date if edit.due_date is not None else task.due_date)
    if new_due != task.due_date:
        want("due_date")
        if new_due is not None and new_due < today:
            errors["due_date"] = ("assign.error.due_past", {})
        values["due_date"] = new_due
        changes.append(Change("due_date", _value(task.due_date), _value(new_due)))

    # Customer: an existing one picked, a new name typed, or the picker emptied.
    new_name = (edit.new_customer_name or "").strip()
    customer: Customer | None = None
    customer_changed = False
    if edit.customer_id is not None and edit.customer_id != task.customer_id:
        customer = await session.get(Customer, edit.customer_id)
        if customer is None or customer.workspace_id != actor.workspace.id:
            errors["customer"] = ("assign.error.customer_unknown", {})
        customer_changed = True
    elif edit.customer_id is None and new_name:
        if len(new_name) > 200:
            errors["new_customer"] = ("assign.error.customer_name_too_long", {"max": 200})
        customer_changed = True
    elif edit.clear_customer and task.customer_id is not None:
        customer_changed = True
    if customer_changed:
        want("customer")

    # Deal: one of the workspace's deals, of the task's (new) customer when it has one.
    new_deal = None if edit.clear_deal else (edit.deal_id if edit.deal_id is not None else task.deal_id)
    deal: Deal | None = None
    if new_deal != task.deal_id:
        want("deal")
        if new_deal is not None:
            deal = await session.get(Deal, new_deal)
            if deal is None or deal.workspace_id != actor.workspace.id:
                errors["deal"] = ("task.error.deal_unknown", {})
        values["deal_id"] = new_deal

    # Assignees: the actor's assignable members, plus whoever is on the task already (a shared task may span teams).
    added: list[Member] = []
    removed: list[Member] = []
    kept = list(current)
    if edit.assignee_user_ids is not None:
        wanted = list(dict.fromkeys(edit.assignee_user_ids))
        if sorted(wanted) != [m.slack_user_id for m in current]:
            want("assignees")
            allowed = {m.slack_user_id: m for m in await assignable_members(session, actor=actor)}
            allowed.update({m.slack_user_id: m for m in current})
            if not wanted:
                errors["assignees"] = ("assign.error.assignee_required", {})
            wrong = [u for u in wanted if u not in allowed]
            if wrong:
                errors["assignees"] = ("assign.error.assignee_not_rep", {"user": wrong[0]})
            chosen = [allowed[u] for u in wanted if u in allowed]
            chosen_ids = {m.id for m in chosen}
            current_ids = {m.id for m in current}
            added = [m for m in chosen if m.id not in current_ids]
            removed = [m for m in current if m.id not in chosen_ids]
            kept = [m for m in current if m.id in chosen_ids]
            changes.append(Change("assignees", ",".join(m.slack_user_id for m in current), ",".join(sorted(m.slack_user_id for m in chosen))))
            if chosen and not any(m.team_id == task.team_id for m in chosen):
                values["team_id"] = chosen[0].team_id  # the new assignees' team: its manager may then act on the task
    if errors:
        raise ValidationFailed(errors)
    if customer_changed:
        if customer is None and new_name:
            customer = await find_or_create_customer(session, workspace_id=actor.workspace.id, name=new_name, segment=edit.new_customer_segment)
        old_name = (await session.get(Customer, task.customer_id)).name if task.customer_id else None
        if (customer.id if customer else None) != task.customer_id:
            values["customer_id"] = customer.id if customer else None
            changes.append(Change("customer", old_name, customer.name if customer else None))
    if "deal_id" in values:
        changes.append(Change("deal", _value(task.deal_id), _value(values["deal_id"])))
    changes.sort(key=lambda c: FIELDS.index(c.field))
    if not changes:
        return EditResult(row=row, kept=current)

    now = utcnow()
    # Compare-and-set on the version read above: of two racing saves, the second finds the row moved on.
    result = await session.execute(
        update(Task).where(Task.id == task_id, Task.workspace_id == actor.workspace.id, Task.updated_at == task.updated_at,
                           Task.status.in_(OPEN_TASK_STATUSES))
        .values(**values, updated_at=now).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TaskChanged()
    if removed:
        await session.execute(delete(TaskAssignee).where(TaskAssignee.task_id == task_id, TaskAssignee.member_id.in_([m.id for m in removed])))
    if added:
        session.add_all([TaskAssignee(task_id=task_id, member_id=m.id) for m in added])
    session.add_all([
        TaskEvent(workspace_id=actor.workspace.id, task_id=task_id, actor_id=actor.member.id, kind=TaskEventKind.EDITED, note=c.note(), created_at=now)
        for c in changes
    ])
    await session.flush()
    task = await session.get(Task, task_id, populate_existing=True)
    return EditResult(row=(await _rows(session, [task]))[0], changes=changes, added=added, removed=removed, kept=kept)


async def reassign_task(session: AsyncSession, *, actor: Actor, task_id: int, from_member_id: int, to_user_id: str, today: date) -> EditResult:
    """Move a task from one assignee to another (the hand-over picker): an edit of its assignees only; a second pick changes nothing."""
    current = await _assignee_members(session, task_id)
    wanted = [to_user_id if m.id == from_member_id else m.slack_user_id for m in current]
    return await edit_task(session, actor=actor, task_id=task_id, edit=TaskEdit(assignee_user_ids=wanted), today=today)


async def edit_choices(session: AsyncSession, *, actor: Actor, task: Task) -> tuple[Customer | None, list[Deal]]:
    """What the edit modal offers besides the task itself: its customer, and that customer's open deals (and the task's own)."""
    if task.customer_id is None:
        return None, []
    customer = await session.get(Customer, task.customer_id)
    q = select(Deal).where(Deal.workspace_id == actor.workspace.id, Deal.customer_id == task.customer_id)
    deals = [d for d in (await session.execute(q.order_by(Deal.id.desc()).limit(200))).scalars() if d.status.value == "open" or d.id == task.deal_id]
    return customer, deals[:100]


# --------------------------------------------------------------------------- cancel and reopen

async def _status_change(session: AsyncSession, *, actor: Actor, task_id: int, to: TaskStatus, from_: tuple[TaskStatus, ...], kind: TaskEventKind, note: str = "") -> tuple[TaskRow, bool]:
    task = await _load_visible(session, actor=actor, task_id=task_id)
    if not _manages(actor, task, await _assignee_members(session, task_id)):
        raise PermissionDenied("error.managers_only")
    now = utcnow()
    values: dict[str, object] = {"status": to, "updated_at": now}
    if to == TaskStatus.OPEN:
        values["completed_at"] = None
    # A conditional UPDATE: of many racing clicks, exactly one finds the task in a state it may leave.
    result = await session.execute(
        update(Task).where(Task.id == task_id, Task.workspace_id == actor.workspace.id, Task.status.in_(from_))
        .values(**values).execution_options(synchronize_session=False)
    )
    changed = result.rowcount == 1
    if changed:
        session.add(TaskEvent(workspace_id=actor.workspace.id, task_id=task_id, actor_id=actor.member.id, kind=kind, note=note, created_at=now))
        await session.flush()
    task = await session.get(Task, task_id, populate_existing=True)
    if changed and to == TaskStatus.CANCELLED:
        await webhooks.emit_task(session, task=task, event="task.cancelled", at=now)
    return (await _rows(session, [task]))[0], changed


async def check_cancellable(session: AsyncSession, *, actor: Actor, task_id: int) -> TaskRow:
    """The task a manager is about to cancel (the reason modal opens only for those who may)."""
    task = await _load_visible(session, actor=actor, task_id=task_id)
    if not _manages(actor, task, await _assignee_members(session, task_id)):
        raise PermissionDenied("error.managers_only")
    return (await _rows(session, [task]))[0]


async def cancel_task(session: AsyncSession, *, actor: Actor, task_id: int, reason: str) -> tuple[TaskRow, bool]:
    """Cancel an open task with a reason (managers and admins); it leaves every open list and the completion rate."""
    text = reason.strip()
    if not text:
        raise ValidationFailed({"reason": ("task.cancel.error.reason_required", {})})
    if len(text) > REASON_MAX:
        raise ValidationFailed({"reason": ("task.cancel.error.reason_too_long", {"max": REASON_MAX})})
    return await _status_change(session, actor=actor, task_id=task_id, to=TaskStatus.CANCELLED, from_=OPEN_TASK_STATUSES, kind=TaskEventKind.CANCELLED, note=text)


async def reopen_task(session: AsyncSession, *, actor: Actor, task_id: int) -> tuple[TaskRow, bool]:
    """Reopen a done or cancelled task (managers and admins)."""
    return await _status_change(session, actor=actor, task_id=task_id, to=TaskStatus.OPEN, from_=(TaskStatus.DONE, TaskStatus.CANCELLED), kind=TaskEventKind.REOPENED)


# --------------------------------------------------------------------------- history

@dataclass(frozen=True)
class HistoryEntry:
    """One line of a task's history: who (Slack user id), what, when."""

    kind: TaskEventKind
    actor_user_id: str | None
    at: datetime
    note: str
    change: Change | None


async def task_history(session: AsyncSession, *, actor: Actor, task_id: int, limit: int = 60) -> tuple[TaskRow, list[HistoryEntry], int]:
    """A task's latest history entries, oldest first, and how many older ones are left out."""
    task = await _load_visible(session, actor=actor, task_id=task_id)
    q = (
        select(TaskEvent, Member.slack_user_id).outerjoin(Member, Member.id == TaskEvent.actor_id)
        .where(TaskEvent.task_id == task_id, TaskEvent.workspace_id == actor.workspace.id)
        .order_by(TaskEvent.created_at.desc(), TaskEvent.id.desc())
    )
    rows = (await session.execute(q)).all()
    entries = [
        HistoryEntry(e.kind, user_id, e.created_at, e.note, Change.parse(e.note) if e.kind == TaskEventKind.EDITED else None)
        for e, user_id in rows[:limit]
    ]
    entries.reverse()
    return (await _rows(session, [task]))[0], entries, max(0, len(rows) - limit)


# --------------------------------------------------------------------------- who hears about it

async def people_on_task(session: AsyncSession, *, task_id: int) -> list[Member]:
    """Assignees and the creator of a task, each once."""
    task = await session.get(Task, task_id)
    people = {m.id: m for m in await _assignee_members(session, task_id)}
    if task is not None and task.created_by_id and task.created_by_id not in people:
        creator = await session.get(Member, task.created_by_id)
        if creator is not None:
            people[creator.id] = creator
    return list(people.values())


async def note_recipients(session: AsyncSession, *, task_id: int, author_id: int) -> list[Member]:
    """Who gets a note in their card's thread: the other people on the task who did not turn notices off."""
    return [m for m in await people_on_task(session, task_id=task_id) if m.id != author_id and m.task_notices]


async def done_recipient(session: AsyncSession, *, task: Task, clicker_id: int) -> Member | None:
    """The creator of a finished task, told when someone else finished it (unless they turned notices off)."""
    if not task.created_by_id or task.created_by_id == clicker_id:
        return None
    creator = await session.get(Member, task.created_by_id)
    return creator if creator is not None and creator.task_notices and creator.role is not None else None


async def remember_card(session: AsyncSession, *, task_id: int, member_id: int, channel: str, ts: str, replace: bool = False) -> None:
    """Keep where a member's card (or first notice) about a task is: a new card replaces it, a notice only starts the thread."""
    row = {"task_id": task_id, "member_id": member_id, "channel": channel, "ts": ts, "created_at": utcnow()}
    await upsert(session, TaskCard, row, keys=["task_id", "member_id"], update=("channel", "ts", "created_at") if replace else ())


async def cards_for(session: AsyncSession, *, task_id: int, member_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each member's card about a task as (channel, ts): sent at once, or later by the outbox's sender."""
    if not member_ids:
        return {}
    q = select(TaskCard.member_id, TaskCard.channel, TaskCard.ts).where(TaskCard.task_id == task_id, TaskCard.member_id.in_(member_ids))
    out = {m: (c, ts) for m, c, ts in (await session.execute(q)).all()}
    missing = [m for m in member_ids if m not in out]
    if missing:
        keys = {f"task-card:{task_id}:{m}": m for m in missing}
        q = select(OutboxMessage.key, OutboxMessage.channel, OutboxMessage.message_ts).where(OutboxMessage.key.in_(list(keys)), OutboxMessage.message_ts.is_not(None))
        for key, channel, ts in (await session.execute(q)).all():
            out[keys[key]] = (channel, ts)
    return out


async def set_task_notices(session: AsyncSession, *, actor: Actor, on: bool) -> bool:
    """Turn the actor's task notices on or off; returns the new setting."""
    actor.member.task_notices = on
    session.add(actor.member)
    await session.flush()
    return on


# --------------------------------------------------------------------------- hand-over on leave

@dataclass
class Handover:
    """A rep's open tasks due during a leave, for their team's managers to reassign."""

    member: Member
    start: date
    end: date
    rows: list[TaskRow]
    total: int
    managers: list[Member]
    leave_id: int


async def handover(session: AsyncSession, *, workspace_id: int, member: Member, start: date, end: date) -> Handover | None:
    """The hand-over for a recorded leave: None when the rep has no open task due in it or no manager to tell."""
    leave = (await session.execute(select(Leave).where(Leave.workspace_id == workspace_id, Leave.member_id == member.id, Leave.start == start, Leave.end == end))).scalars().first()
    if leave is None or member.team_id is None:
        return None
    q = (
        select(Task).join(TaskAssignee, TaskAssignee.task_id == Task.id)
        .where(Task.workspace_id == workspace_id, TaskAssignee.member_id == member.id, Task.status.in_(OPEN_TASK_STATUSES),
               Task.due_date >= start, Task.due_date <= end)
        .order_by(Task.due_date, Task.priority, Task.id)
    )
    tasks = list((await session.execute(q)).scalars())
    if not tasks:
        return None
    managers = list((await session.execute(
        select(Member).where(Member.workspace_id == workspace_id, Member.team_id == member.team_id, Member.role == Role.MANAGER).order_by(Member.id)
    )).scalars())
    if not managers:
        return None
    return Handover(member, start, end, await _rows(session, tasks[:HANDOVER_MAX]), len(tasks), managers, leave.id)
