"""Lost reasons and reopening: the rules, and the figures that follow from the one engine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.i18n import I18n
from bot.models import Deal, DealStageChange, DealStatus, LostReason
from bot.services import deals
from bot.services.analytics import kpi_report, pipeline_report
from bot.services.errors import PermissionDenied, ValidationFailed
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)
I18N = I18n()


@pytest.fixture
async def w(session):
    return await f.World.build(session)


async def new_deal(session, actor, title="Rollout") -> Deal:
    draft = deals.DealDraft(owner_user_id=actor.member.slack_user_id, amount_text="12万", product_line="A", title=title, new_customer_name=f"{title} Co")
    return (await deals.save_deal(session, actor=actor, draft=draft, now=NOW, i18n=I18N)).view.deal


async def test_a_reopened_win_leaves_the_kpis_and_a_second_reopen_changes_nothing(session, w):
    deal = await new_deal(session, w.rep1)
    await deals.close_deal(session, actor=w.rep1, deal_id=deal.id, status=DealStatus.WON, now=NOW)
    before = await kpi_report(session, actor=w.mgr, now=NOW + timedelta(hours=1))
    assert (before.sales, before.deals_won) == (12_000_000, 1)

    with pytest.raises(PermissionDenied):
        await deals.reopen_deal(session, actor=w.rep1, deal_id=deal.id, note="my mistake", now=NOW)
    with pytest.raises(PermissionDenied):
        await deals.reopen_deal(session, actor=w.mgr_w, deal_id=deal.id, note="not my team", now=NOW)
    with pytest.raises(ValidationFailed):
        await deals.reopen_deal(session, actor=w.mgr, deal_id=deal.id, note="  ", now=NOW)
    first = await deals.reopen_deal(session, actor=w.mgr, deal_id=deal.id, note="PO withdrawn", now=NOW + timedelta(minutes=5))
    second = await deals.reopen_deal(session, actor=w.admin, deal_id=deal.id, note="again", now=NOW + timedelta(minutes=6))
    assert first.changed and not second.changed
    assert (first.view.deal.status, first.view.deal.won_at) == (DealStatus.OPEN, None)
    after = await kpi_report(session, actor=w.mgr, now=NOW + timedelta(hours=1))
    assert (after.sales, after.deals_won) == (0, 0)
    changes = list((await session.execute(select(DealStageChange).where(DealStageChange.deal_id == deal.id).order_by(DealStageChange.id))).scalars())
    assert [(c.status, c.note) for c in changes] == [(DealStatus.OPEN, ""), (DealStatus.WON, ""), (DealStatus.OPEN, "PO withdrawn")]
    assert changes[1].left_at == NOW + timedelta(minutes=5)  # the one writer of stage history closed the win's stay


async def test_lost_needs_a_reason_and_words_for_other_and_pipeline_counts_them(session, w):
    a = await new_deal(session, w.rep1, "A")
    b = await new_deal(session, w.rep2, "B")
    c = await new_deal(session, w.rep2, "C")
    with pytest.raises(ValidationFailed) as err:
        await deals.close_deal(session, actor=w.rep1, deal_id=a.id, status=DealStatus.LOST, now=NOW)
    assert set(err.value.errors) == {"reason"}
    with pytest.raises(ValidationFailed) as err:
        await deals.close_deal(session, actor=w.rep1, deal_id=a.id, status=DealStatus.LOST, now=NOW, reason=LostReason.OTHER, note=" ")
    assert set(err.value.errors) == {"note"}
    with pytest.raises(ValidationFailed) as err:
        await deals.save_deal(session, actor=w.rep1, draft=deals.DealDraft(owner_user_id="UREP1", amount_text="1", product_line="A", customer_id=a.customer_id, status=DealStatus.LOST), now=NOW, i18n=I18N, deal_id=a.id)
    assert set(err.value.errors) == {"status"}  # the form does not close a deal as lost: the Lost button asks why
    assert (await session.get(Deal, a.id, populate_existing=True)).status == DealStatus.OPEN

    await deals.close_deal(session, actor=w.rep1, deal_id=a.id, status=DealStatus.LOST, now=NOW, reason=LostReason.PRICE, note="too dear")
    await deals.close_deal(session, actor=w.rep2, deal_id=b.id, status=DealStatus.LOST, now=NOW, reason=LostReason.PRICE)
    await deals.close_deal(session, actor=w.mgr, deal_id=c.id, status=DealStatus.LOST, now=NOW, reason=LostReason.OTHER, note="merged")
    report = await pipeline_report(session, actor=w.mgr, now=NOW + timedelta(hours=1))
    assert report.lost_reasons == {LostReason.PRICE: 2, LostReason.OTHER: 1}
    await deals.reopen_deal(session, actor=w.mgr, deal_id=c.id, note="they came back", now=NOW + timedelta(minutes=1))
    report = await pipeline_report(session, actor=w.mgr, now=NOW + timedelta(hours=1))
    assert report.lost_reasons == {LostReason.PRICE: 2}
    west = await pipeline_report(session, actor=w.mgr_w, now=NOW + timedelta(hours=1))
    assert west.lost_reasons == {}
