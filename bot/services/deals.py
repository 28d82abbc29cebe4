"""Deals: create and edit them, move them through the stages, win or lose them.

Every stage change writes a DealStageChange (the pipeline reports read them), and a deal
entering a stage gets that stage's checklist tasks once (bot.services.playbooks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import I18n
from bot.parsing import AMOUNT_MAX_TEXT, AmountError, parse_amount
from bot.models import Customer, Deal, DealStageChange, DealStatus, LostReason, Member, Segment, Stage, Task
from bot.services import playbooks, webhooks
from bot.services.actors import Actor
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ValidationFailed
from bot.services.roster import team_of
from bot.services.surveys import schedule_survey
from bot.services.tasks import find_or_create_customer

TITLE_MAX = 200
PRODUCT_MAX = 80
REGION_MAX = 80
CUSTOMER_NAME_MAX = 200
REASON_NOTE_MAX = 500
STAGES = list(Stage)

# A Slack Connect channel (C…, G…) or a user id (U…, W…) for the survey.
_CHANNEL_RE = re.compile(r"[CG][A-Z0-9]{6,20}")
_USER_RE = re.compile(r"[UW][A-Z0-9]{6,20}")


def next_stage(stage: Stage) -> Stage | None:
    """The stage after this one, or None at the last."""
    i = STAGES.index(stage)
    return STAGES[i + 1] if i + 1 < len(STAGES) else None


@dataclass
class DealDraft:
    """What the deal modal submits, already parsed from Slack's shapes."""

    owner_user_id: str | None
    amount_text: str
    product_line: str = ""
    title: str = ""
    customer_id: int | None = None
    new_customer_name: str | None = None
    new_customer_segment: Segment = Segment.SMB
    new_customer_region: str | None = None
    contact: str | None = None
    stage: Stage = Stage.LEAD
    status: DealStatus = DealStatus.OPEN
    expected_close: date | None = None


@dataclass
class DealView:
    """A deal with what its card shows."""

    deal: Deal
    customer_name: str
    owner_user_id: str
    currency: str
    checklist: list[Task] = field(default_factory=list)  # tasks this change created


@dataclass
class DealOutcome:
    """What a change did: the deal as it now stands and whether anything changed."""

    view: DealView
    changed: bool
    stage_changed: bool = False
    won: bool = False


def require_roster(actor: Actor) -> None:
    """Deals belong to people on a team (admins may act without one)."""
    if not actor.on_roster and not actor.is_admin:
        raise NotOnRoster()


def may_edit(actor: Actor, deal: Deal) -> bool:
    """The owner, a manager of the deal's team, or an admin."""
    if actor.is_admin or deal.owner_id == actor.member.id:
        return True
    return actor.is_manager and actor.member.team_id is not None and actor.member.team_id == deal.team_id


async def load_deal(session: AsyncSession, *, actor: Actor, deal_id: int) -> Deal:
    """A deal of the actor's workspace that the actor may change."""
    require_roster(actor)
    deal = await session.get(Deal, deal_id, populate_existing=True)
    if deal is None or deal.workspace_id != actor.workspace.id:
        raise NotFound("deal.error.not_found", id=deal_id)
    if not may_edit(actor, deal):
        raise PermissionDenied("deal.error.not_yours")
    return deal


async def deal_view(session: AsyncSession, *, actor: Actor, deal: Deal, checklist: list[Task] | None = None) -> DealView:
    """Attach the customer's name and the owner's Slack id (one query)."""
    q = (
        select(Customer.name, Member.slack_user_id)
        .select_from(Deal)
        .join(Customer, Customer.id == Deal.customer_id)
        .join(Member, Member.id == Deal.owner_id)
        .where(Deal.id == deal.id)
    )
    name, user_id = (await session.execute(q)).one()
    return DealView(deal=deal, customer_name=name, owner_user_id=user_id, currency=actor.workspace.currency, checklist=checklist or [])


async def get_deal_view(session: AsyncSession, *, actor: Actor, deal_id: int) -> DealView:
    """One deal the actor may change, ready for its card or modal."""
    deal = await load_deal(session, actor=actor, deal_id=deal_id)
    return await deal_view(session, actor=actor, deal=deal)


async def get_customer(session: AsyncSession, *, actor: Actor, customer_id: int) -> Customer | None:
    """A customer of the actor's workspace, or None."""
    customer = await session.get(Customer, customer_id)
    return customer if customer is not None and customer.workspace_id == actor.workspace.id else None


async def _owner(session: AsyncSession, *, actor: Actor, user_id: str | None) -> tuple[Member | None, tuple[str, dict] | None]:
    """The deal's owner and an error when the actor may not give the deal to them."""
    if not user_id:
        return None, ("deal.error.owner_required", {})
    q = select(Member).where(Member.workspace_id == actor.workspace.id, Member.slack_user_id == user_id)
    owner = (await session.execute(q)).scalar_one_or_none()
    if owner is None or owner.role is None or owner.team_id is None:
        return None, ("deal.error.owner_not_on_roster", {"user": user_id})
    if actor.is_admin or owner.id == actor.member.id:
        return owner, None
    if actor.is_manager and owner.team_id == actor.member.team_id:
        return owner, None
    return None, ("deal.error.owner_self" if not actor.is_manager else "deal.error.owner_other_team", {})


async def validate_draft(session: AsyncSession, *, actor: Actor, draft: DealDraft, deal: Deal | None) -> tuple[dict[str, tuple[str, dict]], Member | None, Customer | None, int | None]:
    """Check a draft field by field; returns (errors, owner, existing customer, amount in minor units)."""
    errors: dict[str, tuple[str, dict]] = {}
    title = draft.title.strip()
    if len(title) > TITLE_MAX:
        errors["title"] = ("deal.error.title_too_long", {"max": TITLE_MAX})
    product = draft.product_line.strip()
    if not product:
        errors["product_line"] = ("deal.error.product_required", {})
    elif len(product) > PRODUCT_MAX:
        errors["product_line"] = ("deal.error.product_too_long", {"max": PRODUCT_MAX})
    try:
        amount = parse_amount(draft.amount_text, negative=True)  # a negative amount is a credit
    except AmountError as exc:
        amount = None
        errors["amount"] = ("amount.error.too_large", {"value": draft.amount_text.strip(), "max": AMOUNT_MAX_TEXT}) if exc.too_large else ("deal.error.amount", {})
    customer = None
    new_name = (draft.new_customer_name or "").strip()
    if draft.customer_id is not None:
        customer = await get_customer(session, actor=actor, customer_id=draft.customer_id)
        if customer is None:
            errors["customer"] = ("deal.error.customer_unknown", {})
    elif not new_name:
        errors["customer"] = ("deal.error.customer_required", {})
    if new_name and len(new_name) > CUSTOMER_NAME_MAX:
        errors["new_customer"] = ("deal.error.customer_name_too_long", {"max": CUSTOMER_NAME_MAX})
    if draft.new_customer_region and len(draft.new_customer_region.strip()) > REGION_MAX:
        errors["region"] = ("deal.error.region_too_long", {"max": REGION_MAX})
    contact = (draft.contact or "").strip()
    if contact and not (_CHANNEL_RE.fullmatch(contact) or _USER_RE.fullmatch(contact)):
        errors["contact"] = ("deal.error.contact", {})
    if deal is not None and deal.status != DealStatus.OPEN and draft.status != deal.status:
        errors["status"] = ("deal.error.closed", {})
    elif draft.status == DealStatus.LOST and (deal is None or deal.status != DealStatus.LOST):
        errors["status"] = ("deal.error.lost_needs_reason", {})  # a loss is recorded with its reason, by the Lost button
    if deal is not None and deal.status == DealStatus.LOST and draft.stage != deal.stage:
        errors["stage"] = ("deal.error.lost_stage", {})
    owner, owner_error = await _owner(session, actor=actor, user_id=draft.owner_user_id)
    if owner_error:
        errors["owner"] = owner_error
    return errors, owner, customer, amount


async def save_deal(session: AsyncSession, *, actor: Actor, draft: DealDraft, now: datetime, i18n: I18n, deal_id: int | None = None) -> DealOutcome:
    """Create a deal, or update one the actor may change; nothing is saved when a field is wrong."""
    require_roster(actor)
    deal = await load_deal(session, actor=actor, deal_id=deal_id) if deal_id is not None else None
    errors, owner, customer, amount = await validate_draft(session, actor=actor, draft=draft, deal=deal)
    if errors:
        raise ValidationFailed(errors)
    assert owner is not None and amount is not None
    new_name = (draft.new_customer_name or "").strip()
    if customer is None:
        region = (draft.new_customer_region or "").strip() or None
        customer = await find_or_create_customer(session, workspace_id=actor.workspace.id, name=new_name, segment=draft.new_customer_segment, region=region)
    contact = (draft.contact or "").strip()
    if contact:
        # The survey after a won deal goes here; the latest one typed wins.
        customer.contact_channel_id = contact if _CHANNEL_RE.fullmatch(contact) else None
        customer.contact_user_id = contact if _USER_RE.fullmatch(contact) else None
        session.add(customer)
    created = deal is None
    if deal is None:
        deal = Deal(
            workspace_id=actor.workspace.id, team_id=owner.team_id, customer_id=customer.id, owner_id=owner.id,
            stage=draft.stage, status=DealStatus.OPEN, stage_entered_at=now, created_at=now, updated_at=now,
        )
    deal.customer_id = customer.id
    deal.owner_id = owner.id
    deal.team_id = owner.team_id
    deal.title = draft.title.strip()
    deal.product_line = draft.product_line.strip()
    deal.amount = amount
    deal.expected_close = draft.expected_close
    deal.updated_at = now
    session.add(deal)
    await session.flush()
    checklist: list[Task] = []
    stage_changed = False
    if created:
        await record_stage_change(session, workspace_id=actor.workspace.id, deal_id=deal.id, team_id=deal.team_id, from_stage=None, to_stage=deal.stage, status=DealStatus.OPEN, actor_id=actor.member.id, at=now)
        checklist = await playbooks.run_playbook(session, actor=actor, deal=deal, stage=deal.stage, owner=owner, now=now, i18n=i18n)
        stage_changed = True
    elif draft.stage != deal.stage:
        stage_changed, checklist = await _move(session, actor=actor, deal=deal, expected=deal.stage, to=draft.stage, now=now, i18n=i18n)
    won = False
    if draft.status != DealStatus.OPEN and deal.status == DealStatus.OPEN:
        won = await _close(session, actor=actor, deal=deal, status=draft.status, now=now) and draft.status == DealStatus.WON
    deal = await session.get(Deal, deal.id, populate_existing=True)
    return DealOutcome(view=await deal_view(session, actor=actor, deal=deal, checklist=checklist), changed=True, stage_changed=stage_changed, won=won)


STAGE_ORDER = {stage: i for i, stage in enumerate(Stage)}


def moved_forward(from_stage: Stage | None, to_stage: Stage, status: DealStatus) -> bool:
    """A move counts as forward when it reaches a later stage or wins the deal."""
    return status == DealStatus.WON or (from_stage is not None and STAGE_ORDER[to_stage] > STAGE_ORDER[from_stage])


async def record_stage_change(
    session: AsyncSession, *, workspace_id: int, deal_id: int, team_id: int | None, from_stage: Stage | None, to_stage: Stage,
    status: DealStatus, actor_id: int | None, at: datetime, reason: LostReason | None = None, note: str = "",
) -> DealStageChange:
    """Write a stage change and close the deal's previous one (when it left, and whether forward)."""
    previous = (await session.execute(
        select(DealStageChange)
        .where(DealStageChange.workspace_id == workspace_id, DealStageChange.deal_id == deal_id, DealStageChange.left_at.is_(None))
        .order_by(DealStageChange.changed_at.desc(), DealStageChange.id.desc()).limit(1)
    )).scalar_one_or_none()
    if previous is not None:
        previous.left_at = at
        previous.advanced = moved_forward(previous.to_stage, to_stage, status) if previous.status == DealStatus.OPEN else None
        session.add(previous)
    change = DealStageChange(
        workspace_id=workspace_id, deal_id=deal_id, team_id=team_id, from_stage=from_stage, to_stage=to_stage, status=status, actor_id=actor_id,
        changed_at=at, reason=reason, note=note,
    )
    session.add(change)
    await session.flush()
    # The one writer of stage history is also the one place deal events leave from.
    await webhooks.emit_deal_change(session, workspace_id=workspace_id, deal_id=deal_id, from_stage=from_stage, to_stage=to_stage, status=status, at=at)
    return change


@dataclass(frozen=True)
class StageMove:
    """One deal's change for record_stage_changes."""

    deal_id: int
    team_id: int | None
    from_stage: Stage | None
    to_stage: Stage
    status: DealStatus
    at: datetime


async def record_stage_changes(session: AsyncSession, *, workspace_id: int, moves: list[StageMove], actor_id: int | None) -> None:
    """record_stage_change for many deals (an import, an API batch): one read of their open changes, one insert."""
    latest: dict[int, DealStageChange | dict] = {}
    ids = sorted({m.deal_id for m in moves})
    for i in range(0, len(ids), 500):
        q = (select(DealStageChange)
             .where(DealStageChange.workspace_id == workspace_id, DealStageChange.deal_id.in_(ids[i:i + 500]), DealStageChange.left_at.is_(None))
             .order_by(DealStageChange.changed_at, DealStageChange.id))
        latest.update({c.deal_id: c for c in (await session.execute(q)).scalars()})  # the last one per deal wins
    rows = []
    for m in moves:
        previous = latest.get(m.deal_id)
        if isinstance(previous, dict):  # the same deal twice in one batch: its first change of this batch
            previous["left_at"] = m.at
            previous["advanced"] = moved_forward(previous["to_stage"], m.to_stage, m.status) if previous["status"] == DealStatus.OPEN else None
        elif previous is not None:
            previous.left_at = m.at
            previous.advanced = moved_forward(previous.to_stage, m.to_stage, m.status) if previous.status == DealStatus.OPEN else None
            session.add(previous)
        # Plain rows, not model instances: building thousands of those costs more than the insert.
        row = {"workspace_id": workspace_id, "deal_id": m.deal_id, "team_id": m.team_id, "from_stage": m.from_stage, "to_stage": m.to_stage,
               "status": m.status, "actor_id": actor_id, "changed_at": m.at, "left_at": None, "advanced": None}
        latest[m.deal_id] = row
        rows.append(row)
    await session.flush()
    if rows:
        await session.execute(insert(DealStageChange), rows)


async def _move(session: AsyncSession, *, actor: Actor, deal: Deal, expected: Stage, to: Stage, now: datetime, i18n: I18n) -> tuple[bool, list[Task]]:
    """Move a deal from `expected` to `to` once: a second click finds the stage already changed."""
    result = await session.execute(
        update(Deal)
        .where(Deal.id == deal.id, Deal.workspace_id == actor.workspace.id, Deal.stage == expected, Deal.status != DealStatus.LOST)
        .values(stage=to, stage_entered_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False, []
    deal = await session.get(Deal, deal.id, populate_existing=True)
    await record_stage_change(session, workspace_id=actor.workspace.id, deal_id=deal.id, team_id=deal.team_id, from_stage=expected, to_stage=to, status=deal.status, actor_id=actor.member.id, at=now)
    owner = await session.get(Member, deal.owner_id)
    return True, await playbooks.run_playbook(session, actor=actor, deal=deal, stage=to, owner=owner, now=now, i18n=i18n)


async def _close(session: AsyncSession, *, actor: Actor, deal: Deal, status: DealStatus, now: datetime, reason: LostReason | None = None, note: str = "") -> bool:
    """Win or lose an open deal once; a won deal schedules its satisfaction survey."""
    values = {"status": status, "updated_at": now, ("won_at" if status == DealStatus.WON else "lost_at"): now}
    if status == DealStatus.LOST:
        values.update(lost_reason=reason, lost_note=note)
    result = await session.execute(
        update(Deal)
        .where(Deal.id == deal.id, Deal.workspace_id == actor.workspace.id, Deal.status == DealStatus.OPEN)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    deal = await session.get(Deal, deal.id, populate_existing=True)
    # A move to won or lost keeps the last stage (see DealStageChange).
    await record_stage_change(
        session, workspace_id=actor.workspace.id, deal_id=deal.id, team_id=deal.team_id, from_stage=deal.stage, to_stage=deal.stage, status=status,
        actor_id=actor.member.id, at=now, reason=reason, note=note,
    )
    if status == DealStatus.WON:
        customer = await session.get(Customer, deal.customer_id)
        team = await team_of(session, workspace=actor.workspace, team_id=deal.team_id)
        await schedule_survey(session, workspace_id=actor.workspace.id, customer=customer, rep_id=deal.owner_id, team=team, source="deal", source_id=deal.id, now=now)
    return True


async def advance_stage(session: AsyncSession, *, actor: Actor, deal_id: int, expected: Stage, now: datetime, i18n: I18n) -> DealOutcome:
    """The card's Next stage: move from `expected` to the stage after it, once however often clicked."""
    deal = await load_deal(session, actor=actor, deal_id=deal_id)
    to = next_stage(expected)
    changed, checklist = (False, [])
    if to is not None:
        changed, checklist = await _move(session, actor=actor, deal=deal, expected=expected, to=to, now=now, i18n=i18n)
    deal = await session.get(Deal, deal_id, populate_existing=True)
    return DealOutcome(view=await deal_view(session, actor=actor, deal=deal, checklist=checklist), changed=changed, stage_changed=changed)


def lost_reason_errors(reason: LostReason | None, note: str) -> dict[str, tuple[str, dict]]:
    """What is wrong with a Lost reason: a category is needed, and words when it is "other"."""
    errors: dict[str, tuple[str, dict]] = {}
    if reason is None:
        errors["reason"] = ("deal.lost.error.reason_required", {})
    if len(note) > REASON_NOTE_MAX:
        errors["note"] = ("deal.lost.error.note_too_long", {"max": REASON_NOTE_MAX})
    elif reason == LostReason.OTHER and not note:
        errors["note"] = ("deal.lost.error.note_required", {})
    return errors


async def close_deal(
    session: AsyncSession, *, actor: Actor, deal_id: int, status: DealStatus, now: datetime, reason: LostReason | None = None, note: str = "",
) -> DealOutcome:
    """The card's Won, or the Lost modal (with its reason): close an open deal once."""
    if status == DealStatus.OPEN:
        raise ValueError("close_deal needs won or lost")
    note = note.strip()
    if status == DealStatus.LOST and (errors := lost_reason_errors(reason, note)):
        raise ValidationFailed(errors)
    deal = await load_deal(session, actor=actor, deal_id=deal_id)
    changed = await _close(session, actor=actor, deal=deal, status=status, now=now, reason=reason if status == DealStatus.LOST else None,
                           note=note if status == DealStatus.LOST else "")
    deal = await session.get(Deal, deal_id, populate_existing=True)
    return DealOutcome(view=await deal_view(session, actor=actor, deal=deal), changed=changed, won=changed and status == DealStatus.WON)


def may_reopen(actor: Actor, deal: Deal) -> bool:
    """A manager of the deal's team, or an admin (a rep cannot undo their own result)."""
    return actor.is_admin or (actor.is_manager and actor.member.team_id is not None and actor.member.team_id == deal.team_id)


async def reopen_deal(session: AsyncSession, *, actor: Actor, deal_id: int, note: str, now: datetime) -> DealOutcome:
    """Reopen a won or lost deal once, with the manager's reason; attainment and KPIs drop the win (they read status and won_at)."""
    note = note.strip()
    if not note:
        raise ValidationFailed({"note": ("deal.reopen.error.note_required", {})})
    if len(note) > REASON_NOTE_MAX:
        raise ValidationFailed({"note": ("deal.lost.error.note_too_long", {"max": REASON_NOTE_MAX})})
    deal = await load_deal(session, actor=actor, deal_id=deal_id)
    if not may_reopen(actor, deal):
        raise PermissionDenied("deal.reopen.error.managers_only")
    # A conditional UPDATE: of twenty racing reopen submissions, one finds the deal closed.
    result = await session.execute(
        update(Deal)
        .where(Deal.id == deal.id, Deal.workspace_id == actor.workspace.id, Deal.status.in_((DealStatus.WON, DealStatus.LOST)))
        .values(status=DealStatus.OPEN, won_at=None, lost_at=None, lost_reason=None, lost_note="", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = result.rowcount == 1
    deal = await session.get(Deal, deal_id, populate_existing=True)
    if changed:
        await record_stage_change(
            session, workspace_id=actor.workspace.id, deal_id=deal.id, team_id=deal.team_id, from_stage=deal.stage, to_stage=deal.stage,
            status=DealStatus.OPEN, actor_id=actor.member.id, at=now, note=note,
        )
    return DealOutcome(view=await deal_view(session, actor=actor, deal=deal), changed=changed)


async def stage_history(session: AsyncSession, *, actor: Actor, deal_id: int) -> list[DealStageChange]:
    """A deal's stage changes, oldest first."""
    await load_deal(session, actor=actor, deal_id=deal_id)
    q = select(DealStageChange).where(DealStageChange.workspace_id == actor.workspace.id, DealStageChange.deal_id == deal_id).order_by(DealStageChange.changed_at, DealStageChange.id)
    return list((await session.execute(q)).scalars())


async def open_deals_of(session: AsyncSession, *, actor: Actor, limit: int = 100) -> list[tuple[Deal, str]]:
    """The actor's own open deals with their customer's name, newest first (for pickers)."""
    q = (
        select(Deal, Customer.name)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Deal.workspace_id == actor.workspace.id, Deal.owner_id == actor.member.id, Deal.status == DealStatus.OPEN)
        .order_by(Deal.updated_at.desc(), Deal.id.desc())
        .limit(limit)
    )
    return [(d, name) for d, name in (await session.execute(q)).all()]
