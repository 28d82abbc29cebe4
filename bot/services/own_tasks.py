"""A member's own tasks: written down by themselves (`/mytasks add`, the Home's New task), assigned to themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Customer, Priority, Task, TaskRule, TaskStatus, utcnow
from bot.services.actors import Actor
from bot.services.errors import ValidationFailed
from bot.services.repeats import RepeatSpec, RuleDraft, create_rule, team_working_days
from bot.services.tasks import TITLE_MAX, TaskRow, find_or_create_customer, insert_tasks, require_roster

CUSTOMER_NAME_MAX = 200


@dataclass
class OwnTaskDraft:
    """A task a member writes for themselves; with `repeat` it becomes a rule whose first date is `due` (or today)."""

    title: str
    due_date: date | None = None
    priority: Priority = Priority.MEDIUM
    customer_name: str | None = None
    repeat: RepeatSpec | None = None


@dataclass
class OwnTaskResult:
    """The task made now, or the rule that will make them."""

    row: TaskRow | None = None
    rule: TaskRule | None = None


def validate_own(draft: OwnTaskDraft, *, today: date) -> dict[str, tuple[str, dict]]:
    """Field errors of a draft (pure): title, due date, customer name."""
    errors: dict[str, tuple[str, dict]] = {}
    title = draft.title.strip()
    if not title:
        errors["title"] = ("own.error.title_required", {})
    elif len(title) > TITLE_MAX:
        errors["title"] = ("assign.error.title_too_long", {"max": TITLE_MAX})
    if draft.due_date is not None and draft.due_date < today:
        errors["due_date"] = ("own.error.due_past", {"date": draft.due_date.isoformat()})
    if len((draft.customer_name or "").strip()) > CUSTOMER_NAME_MAX:
        errors["customer"] = ("assign.error.customer_name_too_long", {"max": CUSTOMER_NAME_MAX})
    return errors


async def _customer(session: AsyncSession, *, workspace_id: int, name: str) -> Customer:
    """The customer of that name (any case), created when there is none."""
    q = select(Customer).where(Customer.workspace_id == workspace_id, func.lower(Customer.name) == name.lower()).order_by(Customer.id).limit(1)
    found = (await session.execute(q)).scalar_one_or_none()
    return found or await find_or_create_customer(session, workspace_id=workspace_id, name=name)


async def create_own_task(session: AsyncSession, *, actor: Actor, draft: OwnTaskDraft, today: date) -> OwnTaskResult:
    """Create a self-created task (or repeat rule) assigned to the actor; any member on a team may."""
    require_roster(actor)
    errors = validate_own(draft, today=today)
    if errors:
        raise ValidationFailed(errors)
    name = (draft.customer_name or "").strip()
    customer = await _customer(session, workspace_id=actor.workspace.id, name=name) if name else None
    if draft.repeat is not None:
        rule = await create_rule(session, actor=actor, draft=RuleDraft(
            spec=draft.repeat, start_on=draft.due_date or today, title=draft.title.strip(), assignee_ids=[actor.member.id],
            team_id=actor.member.team_id, customer_id=customer.id if customer else None, priority=draft.priority, self_created=True,
        ), working_days=await team_working_days(session, actor.member.team_id))
        return OwnTaskResult(rule=rule)
    now = utcnow()
    task = Task(
        workspace_id=actor.workspace.id, team_id=actor.member.team_id, title=draft.title.strip(),
        customer_id=customer.id if customer else None, priority=draft.priority, due_date=draft.due_date,
        status=TaskStatus.OPEN, created_by_id=actor.member.id, self_created=True, created_at=now, updated_at=now,
    )
    await insert_tasks(session, tasks=[task], assignee_ids=[actor.member.id], actor_id=actor.member.id, now=now)
    return OwnTaskResult(row=TaskRow(task=task, customer_name=customer.name if customer else None, assignees=[actor.member.slack_user_id]))
