"""Deal alerts: a deal of at least the team's alert amount that is won, lost or moved back a stage is told once.

The alerts are read from the stage history (the one writer is deals.record_stage_change), so a
change made by a button, a modal, an import or the API is announced the same way. Changes older
than ALERT_WINDOW are history, not news: an import of last year's wins stays quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import Customer, Deal, DealStageChange, DealStatus, LostReason, Member, OutboxMessage, SalesTeam, Stage
from bot.services.figures import STAGE_RANK

ALERT_WINDOW = timedelta(days=1)
JOB = "deal_alerts"
WON, LOST, BACK = "won", "lost", "back"


@dataclass(frozen=True)
class DealAlert:
    """One stage change worth telling the team about."""

    change_id: int
    kind: str  # WON, LOST or BACK
    team: SalesTeam
    deal: Deal
    customer: str
    owner_user_id: str
    actor_user_id: str | None
    from_stage: Stage | None
    to_stage: Stage
    changed_at: datetime
    reason: LostReason | None = None  # why it was lost: the category the Lost form asked for
    note: str = ""  # and the words


def alert_key(change_id: int, recipient: str | None = None) -> str:
    """`deal-alert:<change>` for the team's channel, `deal-alert:<change>:<user>` for a manager's DM."""
    return f"deal-alert:{change_id}" + (f":{recipient}" if recipient else "")


def _kind(status: DealStatus, from_stage: Stage | None, to_stage: Stage) -> str | None:
    if status == DealStatus.WON:
        return WON
    if status == DealStatus.LOST:
        return LOST
    if from_stage is not None and STAGE_RANK[Stage(to_stage).value] < STAGE_RANK[Stage(from_stage).value]:
        return BACK
    return None


async def due_deal_alerts(session: AsyncSession, *, now: datetime) -> list[DealAlert]:
    """The changes of the last day that their team's settings announce and that have no post yet: two statements."""
    owner, actor = aliased(Member), aliased(Member)
    c = DealStageChange
    q = (
        select(c.id, c.status, c.from_stage, c.to_stage, c.changed_at, c.reason, c.note, Deal, SalesTeam, Customer.name, owner.slack_user_id,
               actor.slack_user_id)
        .join(Deal, Deal.id == c.deal_id)
        .join(SalesTeam, SalesTeam.id == c.team_id)
        .join(Customer, Customer.id == Deal.customer_id)
        .join(owner, owner.id == Deal.owner_id)
        .outerjoin(actor, actor.id == c.actor_id)
        .where(
            c.changed_at >= now - ALERT_WINDOW, c.changed_at <= now, c.workspace_id == SalesTeam.workspace_id,
            SalesTeam.deal_alert_min_amount.is_not(None), Deal.amount >= SalesTeam.deal_alert_min_amount,
            or_(c.status != DealStatus.OPEN, c.from_stage.is_not(None)),
        )
        .order_by(c.changed_at, c.id)
    )
    alerts = []
    for change_id, status, from_stage, to_stage, at, reason, note, deal, team, customer, owner_id, actor_id in (await session.execute(q)).all():
        kind = _kind(DealStatus(status), from_stage, to_stage)
        if kind is not None:
            alerts.append(DealAlert(change_id, kind, team, deal, customer, owner_id, actor_id, from_stage, Stage(to_stage), at,
                                    reason=LostReason(reason) if reason and kind == LOST else None, note=(note or "") if kind == LOST else ""))
    if not alerts:
        return []
    # Keys already queued (for the channel, or for any manager): the outbox's unique key is the guarantee, this spares the work.
    q = select(OutboxMessage.key).where(OutboxMessage.job == JOB, OutboxMessage.not_before >= now - ALERT_WINDOW - timedelta(hours=1))
    queued = {key.split(":")[1] for key in (await session.execute(q)).scalars()}
    return [a for a in alerts if str(a.change_id) not in queued]


__all__ = ["ALERT_WINDOW", "BACK", "DealAlert", "JOB", "LOST", "WON", "alert_key", "due_deal_alerts"]
