"""Stage history written for many deals at once keeps record_stage_change's rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.models import Customer, Deal, DealStageChange, DealStatus, Stage
from bot.services.deals import StageMove, record_stage_change, record_stage_changes
from tests.unit import factories as f

T0 = datetime(2027, 3, 1, 9, tzinfo=timezone.utc)


async def test_many_moves_close_the_open_change_and_each_other(session):
    ws = await f.workspace(session)
    team = await f.team(session, ws)
    rep = await f.member(session, ws, "UREP", team=team)
    customer = Customer(workspace_id=ws.id, name="Acme")
    session.add(customer)
    await session.flush()
    deals = [Deal(workspace_id=ws.id, team_id=team.id, customer_id=customer.id, owner_id=rep.id, amount=100) for _ in range(2)]
    session.add_all(deals)
    await session.flush()
    a, b = deals
    await record_stage_change(session, workspace_id=ws.id, deal_id=a.id, team_id=team.id, from_stage=None, to_stage=Stage.LEAD, status=DealStatus.OPEN, actor_id=None, at=T0)
    await record_stage_changes(session, workspace_id=ws.id, actor_id=None, moves=[
        StageMove(a.id, team.id, Stage.LEAD, Stage.PROPOSAL, DealStatus.OPEN, T0 + timedelta(days=1)),
        StageMove(b.id, team.id, None, Stage.LEAD, DealStatus.OPEN, T0 + timedelta(days=1)),
        StageMove(b.id, team.id, Stage.LEAD, Stage.LEAD, DealStatus.WON, T0 + timedelta(days=2)),
    ])
    rows = (await session.execute(select(DealStageChange).order_by(DealStageChange.deal_id, DealStageChange.changed_at))).scalars().all()
    got = [(c.deal_id, c.to_stage, c.status, c.left_at, c.advanced) for c in rows]
    assert got == [
        (a.id, Stage.LEAD, DealStatus.OPEN, T0 + timedelta(days=1), True),
        (a.id, Stage.PROPOSAL, DealStatus.OPEN, None, None),
        (b.id, Stage.LEAD, DealStatus.OPEN, T0 + timedelta(days=2), True),  # won counts as forward
        (b.id, Stage.LEAD, DealStatus.WON, None, None),
    ]
