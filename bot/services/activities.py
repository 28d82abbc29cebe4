"""Customer touches (calls, visits, meetings, messages) and sales expenses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Activity, ActivityKind, Customer, Deal, Expense
from bot.services.actors import Actor
from bot.parsing import positive_amount
from bot.services.deals import get_customer, load_deal, require_roster
from bot.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed

NOTE_MAX = 3000
CATEGORY_MAX = 80
_DEAL_REF = re.compile(r"#?(\d{1,12})")


@dataclass
class ActivityDraft:
    """What the log modal submits."""

    kind: ActivityKind
    effective: bool = True
    note: str = ""
    customer_id: int | None = None
    deal_id: int | None = None


@dataclass
class ExpenseInput:
    """What `/expense <amount> <category> [deal]` asks for."""

    amount: int  # minor units
    category: str
    deal_id: int | None = None


async def log_activity(session: AsyncSession, *, actor: Actor, draft: ActivityDraft, now: datetime) -> tuple[Activity, Customer, Deal | None]:
    """Record a customer touch by the actor, on a deal they may change or on a customer."""
    require_roster(actor)
    errors: dict[str, tuple[str, dict]] = {}
    note = draft.note.strip()
    if len(note) > NOTE_MAX:
        errors["note"] = ("deal.log.error.note_too_long", {"max": NOTE_MAX})
    deal = customer = None
    if draft.deal_id is not None:
        try:
            deal = await load_deal(session, actor=actor, deal_id=draft.deal_id)
        except (NotFound, PermissionDenied) as exc:
            errors["deal"] = (exc.key, exc.params)
        else:
            customer = await session.get(Customer, deal.customer_id)  # a deal's touch is with its customer
    elif draft.customer_id is not None:
        customer = await get_customer(session, actor=actor, customer_id=draft.customer_id)
        if customer is None:
            errors["customer"] = ("deal.error.customer_unknown", {})
    else:
        errors["customer"] = ("deal.log.error.target_required", {})
    if errors:
        raise ValidationFailed(errors)
    activity = Activity(
        workspace_id=actor.workspace.id, member_id=actor.member.id, customer_id=customer.id, deal_id=deal.id if deal else None,
        kind=draft.kind, effective=draft.effective, note=note, occurred_at=now,
    )
    session.add(activity)
    await session.flush()
    return activity, customer, deal


def parse_expense(text: str) -> ExpenseInput:
    """Parse `<amount> <category> [deal-id]`; a ServiceError carries the usage hint."""
    words = (text or "").split()
    if len(words) < 2:
        raise ServiceError("deal.expense.error.usage")
    amount = positive_amount(words[0], bad="deal.expense.error.amount")
    deal_id = None
    if len(words) >= 3 and (m := _DEAL_REF.fullmatch(words[-1])):
        deal_id = int(m.group(1))
        words = words[:-1]
    category = " ".join(words[1:]).strip()
    if len(category) > CATEGORY_MAX:
        raise ServiceError("deal.expense.error.category_too_long", max=CATEGORY_MAX)
    return ExpenseInput(amount=amount, category=category, deal_id=deal_id)


async def record_expense(session: AsyncSession, *, actor: Actor, data: ExpenseInput, today: date) -> tuple[Expense, Deal | None]:
    """Record a sales expense spent today (the actor's local date), optionally on a deal they may change."""
    require_roster(actor)
    deal = await load_deal(session, actor=actor, deal_id=data.deal_id) if data.deal_id is not None else None
    expense = Expense(
        workspace_id=actor.workspace.id, member_id=actor.member.id, deal_id=deal.id if deal else None,
        amount=data.amount, category=data.category, spent_on=today,
    )
    session.add(expense)
    await session.flush()
    return expense, deal
