"""services/deals and services/activities: amounts, permissions, stage history, won/lost, activities, expenses."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.i18n import I18n
from bot.models import (
    LostReason,
    Activity, ActivityKind, Customer, Deal, DealStageChange, DealStatus, Expense, Segment, Stage, Survey, SurveyStatus,
)
from bot.services import activities, deals
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ServiceError, ValidationFailed
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)
I18N = I18n()


@pytest.fixture
async def w(session):
    return await f.World.build(session)


def draft(owner: str = "UREP1", **kw) -> deals.DealDraft:
    values = dict(owner_user_id=owner, amount_text="12万", product_line="A", title="Rollout", new_customer_name="Globex")
    values.update(kw)
    return deals.DealDraft(**values)


async def create(session, actor, **kw) -> deals.DealOutcome:
    return await deals.save_deal(session, actor=actor, draft=draft(actor.member.slack_user_id, **kw), now=NOW, i18n=I18N)


async def changes(session, deal_id: int) -> list[tuple]:
    q = select(DealStageChange).where(DealStageChange.deal_id == deal_id).order_by(DealStageChange.id)
    return [(c.from_stage, c.to_stage, c.status) for c in (await session.execute(q)).scalars()]


# -- create and edit: permissions ------------------------------------------------------

async def test_rep_creates_own_deal_with_a_new_customer(session, w):
    out = await create(session, w.rep1, new_customer_segment=Segment.KEY, new_customer_region="East", contact="C0CONNECT1", expected_close=date(2031, 6, 30))
    deal = out.view.deal
    assert (deal.owner_id, deal.team_id, deal.amount, deal.stage, deal.status) == (w.rep1_m.id, w.east.id, 12_000_000, Stage.LEAD, DealStatus.OPEN)
    assert deal.stage_entered_at == NOW and deal.workspace_id == w.ws.id
    customer = await session.get(Customer, deal.customer_id)
    assert (customer.name, customer.segment, customer.region, customer.contact_channel_id) == ("Globex", Segment.KEY, "East", "C0CONNECT1")
    assert await changes(session, deal.id) == [(None, Stage.LEAD, DealStatus.OPEN)]
    assert out.view.owner_user_id == "UREP1" and out.view.customer_name == "Globex"


async def test_rep_cannot_give_a_deal_to_someone_else(session, w):
    with pytest.raises(ValidationFailed) as exc:
        await deals.save_deal(session, actor=w.rep1, draft=draft("UREP2"), now=NOW, i18n=I18N)
    assert exc.value.errors["owner"][0] == "deal.error.owner_self"
    assert await f.count_rows(session, Deal) == 0 and await f.count_rows(session, Customer) == 0


async def test_manager_gives_deals_to_own_team_only(session, w):
    out = await deals.save_deal(session, actor=w.mgr, draft=draft("UREP2"), now=NOW, i18n=I18N)
    assert out.view.deal.owner_id == w.rep2_m.id and out.view.deal.team_id == w.east.id
    with pytest.raises(ValidationFailed) as exc:
        await deals.save_deal(session, actor=w.mgr, draft=draft("UREPW"), now=NOW, i18n=I18N)
    assert exc.value.errors["owner"][0] == "deal.error.owner_other_team"


async def test_admin_gives_a_deal_to_anyone_on_a_team(session, w):
    out = await deals.save_deal(session, actor=w.admin, draft=draft("UREPW"), now=NOW, i18n=I18N)
    assert out.view.deal.team_id == w.west.id
    with pytest.raises(ValidationFailed) as exc:
        await deals.save_deal(session, actor=w.admin, draft=draft("UOUT"), now=NOW, i18n=I18N)
    assert exc.value.errors["owner"][0] == "deal.error.owner_not_on_roster"


async def test_outsider_is_told_to_join_a_team(session, w):
    with pytest.raises(NotOnRoster):
        await deals.save_deal(session, actor=w.outsider, draft=draft("UOUT"), now=NOW, i18n=I18N)


async def test_every_wrong_field_is_reported_and_nothing_saved(session, w):
    bad = draft("UREP1", amount_text="lots", product_line=" ", title="x" * 201, new_customer_name=None, contact="#general")
    with pytest.raises(ValidationFailed) as exc:
        await deals.save_deal(session, actor=w.rep1, draft=bad, now=NOW, i18n=I18N)
    assert set(exc.value.errors) == {"amount", "product_line", "title", "customer", "contact"}
    assert await f.count_rows(session, Deal) == 0 and await f.count_rows(session, DealStageChange) == 0


async def test_unknown_or_foreign_customer_is_refused(session, w):
    other = await f.workspace(session, "T2")
    foreign = Customer(workspace_id=other.id, name="Elsewhere")
    session.add(foreign)
    await session.flush()
    with pytest.raises(ValidationFailed) as exc:
        await create(session, w.rep1, customer_id=foreign.id, new_customer_name=None)
    assert exc.value.errors["customer"][0] == "deal.error.customer_unknown"


async def test_who_may_edit_a_deal(session, w):
    deal = (await create(session, w.rep1)).view.deal
    for actor in (w.rep2, w.mgr_w, w.rep_w):
        with pytest.raises(PermissionDenied):
            await deals.save_deal(session, actor=actor, draft=draft("UREP1", amount_text="1"), now=NOW, i18n=I18N, deal_id=deal.id)
        with pytest.raises(PermissionDenied):
            await deals.advance_stage(session, actor=actor, deal_id=deal.id, expected=Stage.LEAD, now=NOW, i18n=I18N)
        with pytest.raises(PermissionDenied):
            await deals.close_deal(session, actor=actor, deal_id=deal.id, status=DealStatus.WON, now=NOW)
    assert (await session.get(Deal, deal.id, populate_existing=True)).amount == 12_000_000
    for actor in (w.rep1, w.mgr, w.admin):
        out = await deals.save_deal(session, actor=actor, draft=draft("UREP1", amount_text="130,000", customer_id=deal.customer_id, new_customer_name=None), now=NOW, i18n=I18N, deal_id=deal.id)
        assert out.view.deal.amount == 13_000_000


async def test_a_deal_of_another_workspace_is_not_found(session, w):
    deal = (await create(session, w.rep1)).view.deal
    other_ws = await f.workspace(session, "T2")
    team = await f.team(session, other_ws, "East")
    m = await f.member(session, other_ws, "UREP1", role=f.Role.REP, team=team)
    with pytest.raises(NotFound):
        await deals.get_deal_view(session, actor=f.actor(other_ws, m), deal_id=deal.id)


# -- stages ----------------------------------------------------------------------------

async def test_stage_moves_are_recorded_with_time_and_actor(session, w):
    deal = (await create(session, w.rep1)).view.deal
    later = NOW + timedelta(days=2)
    out = await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.LEAD, now=later, i18n=I18N)
    assert out.changed and out.view.deal.stage == Stage.FIRST_CONTACT and out.view.deal.stage_entered_at == later
    # The edit modal may jump stages: one change from where it was to where it goes.
    edit = draft("UREP1", customer_id=deal.customer_id, new_customer_name=None, stage=Stage.PROPOSAL)
    out = await deals.save_deal(session, actor=w.mgr, draft=edit, now=later + timedelta(days=1), i18n=I18N, deal_id=deal.id)
    assert out.stage_changed and out.view.deal.stage == Stage.PROPOSAL
    assert await changes(session, deal.id) == [
        (None, Stage.LEAD, DealStatus.OPEN), (Stage.LEAD, Stage.FIRST_CONTACT, DealStatus.OPEN), (Stage.FIRST_CONTACT, Stage.PROPOSAL, DealStatus.OPEN),
    ]
    history = await deals.stage_history(session, actor=w.rep1, deal_id=deal.id)
    assert [c.actor_id for c in history] == [w.rep1_m.id, w.rep1_m.id, w.mgr_m.id]
    assert [c.changed_at for c in history] == [NOW, later, later + timedelta(days=1)]


async def test_a_stale_next_click_moves_nothing(session, w):
    deal = (await create(session, w.rep1)).view.deal
    first = await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.LEAD, now=NOW, i18n=I18N)
    second = await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.LEAD, now=NOW, i18n=I18N)
    assert first.changed and not second.changed
    assert second.view.deal.stage == Stage.FIRST_CONTACT
    assert len(await changes(session, deal.id)) == 2


async def test_after_sales_is_the_last_stage(session, w):
    deal = (await create(session, w.rep1, stage=Stage.AFTER_SALES)).view.deal
    out = await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.AFTER_SALES, now=NOW, i18n=I18N)
    assert not out.changed and out.view.deal.stage == Stage.AFTER_SALES


# -- won / lost --------------------------------------------------------------------------

async def test_won_once_schedules_one_survey(session, w):
    deal = (await create(session, w.rep1, stage=Stage.NEGOTIATION)).view.deal
    first = await deals.close_deal(session, actor=w.rep1, deal_id=deal.id, status=DealStatus.WON, now=NOW)
    second = await deals.close_deal(session, actor=w.rep1, deal_id=deal.id, status=DealStatus.WON, now=NOW + timedelta(minutes=1))
    assert first.changed and first.won and not second.changed and not second.won
    d = await session.get(Deal, deal.id, populate_existing=True)
    assert d.status == DealStatus.WON and d.won_at == NOW and d.lost_at is None
    assert (await changes(session, deal.id))[-1] == (Stage.NEGOTIATION, Stage.NEGOTIATION, DealStatus.WON)
    surveys = list((await session.execute(select(Survey))).scalars())
    assert [(s.source, s.source_id, s.rep_id, s.customer_id, s.status) for s in surveys] == [("deal", deal.id, w.rep1_m.id, deal.customer_id, SurveyStatus.MANUAL)]
    # A lost click after the win changes nothing either.
    lost = await deals.close_deal(session, actor=w.rep1, deal_id=deal.id, status=DealStatus.LOST, now=NOW, reason=LostReason.PRICE)
    assert not lost.changed and lost.view.deal.status == DealStatus.WON


async def test_won_in_the_modal_schedules_the_survey_to_the_contact(session, w):
    out = await create(session, w.rep1, contact="UCUSTOMER1", status=DealStatus.WON)
    assert out.won and out.view.deal.status == DealStatus.WON
    [survey] = list((await session.execute(select(Survey))).scalars())
    assert survey.status == SurveyStatus.SCHEDULED and survey.source_id == out.view.deal.id
    assert await changes(session, out.view.deal.id) == [(None, Stage.LEAD, DealStatus.OPEN), (Stage.LEAD, Stage.LEAD, DealStatus.WON)]


async def test_lost_deal_stays_put(session, w):
    deal = (await create(session, w.rep1)).view.deal
    out = await deals.close_deal(session, actor=w.rep1, deal_id=deal.id, status=DealStatus.LOST, now=NOW, reason=LostReason.TIMING)
    assert out.changed and out.view.deal.lost_at == NOW and await f.count_rows(session, Survey) == 0
    moved = await deals.advance_stage(session, actor=w.rep1, deal_id=deal.id, expected=Stage.LEAD, now=NOW, i18n=I18N)
    assert not moved.changed
    reopen = draft("UREP1", customer_id=deal.customer_id, new_customer_name=None, status=DealStatus.OPEN, stage=Stage.PROPOSAL)
    with pytest.raises(ValidationFailed) as exc:
        await deals.save_deal(session, actor=w.rep1, draft=reopen, now=NOW, i18n=I18N, deal_id=deal.id)
    assert set(exc.value.errors) == {"status", "stage"}


# -- activities and expenses ----------------------------------------------------------------

async def test_log_activity_on_a_deal_counts_for_its_customer(session, w):
    deal = (await create(session, w.rep1)).view.deal
    act, customer, on = await activities.log_activity(session, actor=w.rep1, draft=activities.ActivityDraft(kind=ActivityKind.VISIT, effective=False, note=" met ", deal_id=deal.id), now=NOW)
    assert (act.customer_id, act.deal_id, act.member_id, act.kind, act.effective, act.note, act.occurred_at) == (deal.customer_id, deal.id, w.rep1_m.id, ActivityKind.VISIT, False, "met", NOW)
    assert customer.name == "Globex" and on.id == deal.id


async def test_log_activity_needs_a_customer_or_an_own_deal(session, w):
    deal = (await create(session, w.rep1)).view.deal
    with pytest.raises(ValidationFailed) as exc:
        await activities.log_activity(session, actor=w.rep1, draft=activities.ActivityDraft(kind=ActivityKind.CALL), now=NOW)
    assert exc.value.errors == {"customer": ("deal.log.error.target_required", {})}
    with pytest.raises(ValidationFailed) as exc:
        await activities.log_activity(session, actor=w.rep2, draft=activities.ActivityDraft(kind=ActivityKind.CALL, deal_id=deal.id), now=NOW)
    assert exc.value.errors["deal"][0] == "deal.error.not_yours"
    act, _, _ = await activities.log_activity(session, actor=w.rep2, draft=activities.ActivityDraft(kind=ActivityKind.CALL, customer_id=deal.customer_id), now=NOW)
    assert act.deal_id is None and await f.count_rows(session, Activity) == 1


@pytest.mark.parametrize(
    "text, amount, category, deal_id",
    [("350 taxi", 35_000, "taxi", None), ("1,200 client dinner", 120_000, "client dinner", None), ("1.2万 招待 #7", 1_200_000, "招待", 7), ("80 parking 12", 8_000, "parking", 12)],
)
def test_parse_expense(text, amount, category, deal_id):
    assert activities.parse_expense(text) == activities.ExpenseInput(amount, category, deal_id)


@pytest.mark.parametrize("text, key", [("", "deal.expense.error.usage"), ("350", "deal.expense.error.usage"), ("taxi 350", "deal.expense.error.amount"), ("0 taxi", "deal.expense.error.amount"), ("5 " + "x" * 81, "deal.expense.error.category_too_long")])
def test_parse_expense_refuses_bad_input(text, key):
    with pytest.raises(ServiceError) as exc:
        activities.parse_expense(text)
    assert exc.value.key == key


async def test_expense_is_spent_on_the_members_today(session, w):
    deal = (await create(session, w.rep1)).view.deal
    w.rep1_m.tz = "Asia/Shanghai"
    late = datetime(2031, 3, 10, 17, 30, tzinfo=timezone.utc)  # already 11 March in Shanghai
    exp, on = await activities.record_expense(session, actor=w.rep1, data=activities.ExpenseInput(35_000, "taxi", deal.id), today=w.rep1.today(late))
    assert (exp.spent_on, exp.amount, exp.deal_id, exp.member_id) == (date(2031, 3, 11), 35_000, deal.id, w.rep1_m.id)
    with pytest.raises(PermissionDenied):
        await activities.record_expense(session, actor=w.rep2, data=activities.ExpenseInput(100, "taxi", deal.id), today=date(2031, 3, 10))
    with pytest.raises(NotFound):
        await activities.record_expense(session, actor=w.rep2, data=activities.ExpenseInput(100, "taxi", 999), today=date(2031, 3, 10))
    assert await f.count_rows(session, Expense) == 1
