"""Targets service on a real database: set, split, permissions, attainment and bounded queries."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from bot.models import Customer, Deal, DealStatus, Segment, Target
from bot.periods import parse_period
from bot.services import targets
from bot.services.errors import NotOnRoster, PermissionDenied, ServiceError
from tests.unit import factories as f

P2027 = parse_period("2027")
NOW = datetime(2027, 2, 14, 4, 0, tzinfo=timezone.utc)  # 45th day of 2027-Q1


@pytest.fixture
async def world(session):
    w = await f.World.build(session)
    await session.commit()
    return w


async def rows(session, **where) -> list[Target]:
    q = select(Target).order_by(Target.period, Target.dimension, Target.key)
    for k, v in where.items():
        q = q.where(getattr(Target, k) == v)
    return list((await session.execute(q)).scalars())


def pct(*pairs):
    return [(k, Decimal(v)) for k, v in pairs]


async def test_manager_sets_and_rep_is_refused(session, world):
    result = await targets.set_target(session, actor=world.mgr, period=P2027, amount=5_000_000_000)
    assert result.previous is None and result.team.id == world.east.id
    with pytest.raises(PermissionDenied) as exc:
        await targets.set_target(session, actor=world.rep1, period=P2027, amount=1)
    assert exc.value.key == "target.error.managers_only"
    with pytest.raises(NotOnRoster):
        await targets.set_target(session, actor=world.outsider, period=P2027, amount=1)
    with pytest.raises(PermissionDenied):
        await targets.set_target(session, actor=world.mgr, period=P2027, amount=1, team_name="West")
    with pytest.raises(ServiceError) as exc:
        await targets.set_target(session, actor=world.admin, period=P2027, amount=1)  # an admin on no team
    assert exc.value.key == "target.error.team_needed"
    west = await targets.set_target(session, actor=world.admin, period=P2027, amount=700, team_name="West")
    assert west.team.id == world.west.id
    [east, w] = sorted(await rows(session), key=lambda t: t.team_id)
    assert (east.amount, east.period_start.isoformat(), east.period_end.isoformat()) == (5_000_000_000, "2027-01-01", "2028-01-01")
    assert w.amount == 700


async def test_even_time_splits_sum_exactly(session, world):
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=5_000_000_001)
    result = await targets.split_target(session, actor=world.mgr, period=P2027, by="quarter", shares=None)
    assert [(p.key, p.amount) for p in result.parts] == [
        ("2027-Q1", 1_250_000_001), ("2027-Q2", 1_250_000_000), ("2027-Q3", 1_250_000_000), ("2027-Q4", 1_250_000_000),
    ]
    q1 = parse_period("2027-Q1")
    await targets.split_target(session, actor=world.mgr, period=q1, by="month", shares=None)
    months = await rows(session, split="month")
    assert [t.period for t in months] == ["2027-01", "2027-02", "2027-03"] and sum(t.amount for t in months) == 1_250_000_001
    # A month by week: weeks weigh their days inside the month; the straddling one is clipped and keyed by the month.
    jan = parse_period("2027-01")
    weeks = await targets.split_target(session, actor=world.mgr, period=jan, by="week", shares=None)
    jan_amount = next(t.amount for t in months if t.period == "2027-01")
    assert sum(p.amount for p in weeks.parts) == jan_amount
    w53 = (await rows(session, period="2026-W53"))[0]
    assert (w53.key, w53.period_start.isoformat(), w53.period_end.isoformat()) == ("2027-01", "2027-01-01", "2027-01-04")
    assert abs(w53.amount * 31 - jan_amount * 3) <= 31
    # Time shares can be given too, by short or full label.
    result = await targets.split_target(session, actor=world.mgr, period=P2027, by="quarter", shares=pct(("Q1", 40), ("2027-Q2", 60)), share_kind="percent")
    assert [(p.key, p.amount) for p in result.parts] == [("2027-Q1", 2_000_000_000), ("2027-Q2", 3_000_000_001)]
    assert [t.period for t in await rows(session, split="quarter")] == ["2027-Q1", "2027-Q2"]
    # Re-splitting the year by quarter replaced Q1, and the database dropped Q1's own splits with it.
    assert await rows(session, split="month") == [] and await rows(session, split="week") == []


async def test_dimension_split_replaces_the_earlier_one_and_bad_shares_change_nothing(session, world):
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=5_000_000_000)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=pct(("A", 60), ("B", 30), ("C", 10)), share_kind="percent")
    assert [(t.key, t.amount) for t in await rows(session, dimension="product")] == [("A", 3_000_000_000), ("B", 1_500_000_000), ("C", 500_000_000)]
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=pct(("A", 60), ("B", 30)), share_kind="percent")
    assert exc.value.key == "target.error.percent_sum"
    # Validation comes before any write (and the command's session is rolled back besides).
    assert len(await rows(session, dimension="product")) == 3
    await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=[("A", Decimal(2_500_000_000)), ("D", Decimal(2_500_000_000))], share_kind="amount")
    assert [(t.key, t.amount) for t in await rows(session, dimension="product")] == [("A", 2_500_000_000), ("D", 2_500_000_000)]
    for bad, key in [
        (pct(("A", 50), ("A", 50)), "target.error.duplicate_key"),
    ]:
        with pytest.raises(ServiceError) as exc:
            await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=bad, share_kind="percent")
        assert exc.value.key == key
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=parse_period("2028"), by="product", shares=pct(("A", 100)), share_kind="percent")
    assert exc.value.key == "target.error.no_target"
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=P2027, by="segment", shares=pct(("big", 100)), share_kind="percent")
    assert exc.value.key == "target.error.bad_segment"
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=parse_period("2027-Q1"), by="quarter", shares=None)
    assert exc.value.key in ("target.error.no_target", "target.error.time_split_kind")


async def test_rep_and_segment_splits(session, world):
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=1000)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="rep", shares=pct(("<@UREP1|ray>", 70), ("<@UREP2>", 30)), share_kind="percent")
    assert [(t.key, t.amount) for t in await rows(session, dimension="rep")] == [("UREP1", 700), ("UREP2", 300)]
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=P2027, by="rep", shares=pct(("<@UREPW>", 100)), share_kind="percent")
    assert exc.value.key == "target.error.rep_not_on_team"
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=P2027, by="rep", shares=pct(("Ray", 100)), share_kind="percent")
    assert exc.value.key == "target.error.rep_mention"
    await targets.split_target(session, actor=world.mgr, period=P2027, by="segment", shares=pct(("KEY", 70), ("smb", 30)), share_kind="percent")
    assert [(t.key, t.amount) for t in await rows(session, dimension="segment")] == [("key", 700), ("smb", 300)]


async def test_dimension_split_without_shares_lists_the_keys(session, world):
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=1000)
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=None)
    assert exc.value.key == "target.error.need_shares_example"
    c = Customer(workspace_id=world.ws.id, name="Acme", region="North")
    session.add(c)
    await session.flush()
    for product in ("Beta", "Alpha", "Beta", ""):
        session.add(Deal(workspace_id=world.ws.id, team_id=world.east.id, customer_id=c.id, owner_id=world.rep1_m.id, product_line=product, amount=1))
    await session.flush()
    with pytest.raises(ServiceError) as exc:
        await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=None)
    assert exc.value.key == "target.error.need_shares" and exc.value.params["keys"] == "Alpha=… Beta=…"
    assert await targets.known_keys(session, team=world.east, by="region") == [("North", "North")]
    assert [k for k, _ in await targets.known_keys(session, team=world.east, by="rep")] == ["UMGR", "UREP1", "UREP2"]
    form = await targets.split_form(session, actor=world.mgr, period=P2027, by="product")
    assert form.keys == [("Alpha", "Alpha"), ("Beta", "Beta")]


async def test_set_again_rescales_the_splits_below(session, world):
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=5_000_000_000)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="quarter", shares=None)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=pct(("A", 60), ("B", 30), ("C", 10)), share_kind="percent")
    await targets.split_target(session, actor=world.mgr, period=parse_period("2027-Q1"), by="month", shares=None)
    result = await targets.set_target(session, actor=world.mgr, period=P2027, amount=6_000_000_001)
    assert result.previous == 5_000_000_000 and result.rescaled == 10
    quarters = await rows(session, split="quarter")
    products = await rows(session, dimension="product")
    months = await rows(session, split="month")
    assert sum(t.amount for t in quarters) == 6_000_000_001 == sum(t.amount for t in products)
    assert [t.amount for t in products] == [3_600_000_001, 1_800_000_000, 600_000_000]
    q1 = next(t for t in quarters if t.period == "2027-Q1")
    assert sum(t.amount for t in months) == q1.amount


async def _deal(session, world, *, amount, won_at, product="A", owner=None, customer=None, status=DealStatus.WON, team=None):
    d = Deal(
        workspace_id=world.ws.id, team_id=(team or world.east).id, customer_id=customer.id, owner_id=(owner or world.rep1_m).id,
        product_line=product, amount=amount, status=status, won_at=won_at if status == DealStatus.WON else None,
    )
    session.add(d)
    await session.flush()
    return d


async def test_attainment_by_time_and_by_dimension(session, world):
    world.east.timezone = "Asia/Shanghai"
    session.add(world.east)
    key = Customer(workspace_id=world.ws.id, name="Big", segment=Segment.KEY, region="North")
    smb = Customer(workspace_id=world.ws.id, name="Small", segment=Segment.SMB, region="South")
    session.add_all([key, smb])
    await session.flush()
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=10_000_000)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="quarter", shares=None)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=pct(("A", 60), ("B", 40)), share_kind="percent")
    utc = timezone.utc
    await _deal(session, world, amount=1_000_000, won_at=datetime(2027, 1, 10, tzinfo=utc), product="A", customer=key)
    await _deal(session, world, amount=500_000, won_at=datetime(2027, 2, 1, tzinfo=utc), product="B", customer=smb, owner=world.rep2_m)
    # 2026-12-31 17:00 UTC is already 1 January 2027 in Shanghai: it counts for 2027-Q1.
    await _deal(session, world, amount=200_000, won_at=datetime(2026, 12, 31, 17, tzinfo=utc), product="C", customer=key)
    # Not counted: before the year (Shanghai time), open deals, another team's deal.
    await _deal(session, world, amount=9_999, won_at=datetime(2026, 12, 31, 15, tzinfo=utc), customer=key)
    await _deal(session, world, amount=8_888, won_at=None, status=DealStatus.OPEN, customer=key)
    await _deal(session, world, amount=7_777, won_at=datetime(2027, 3, 1, tzinfo=utc), customer=key, team=world.west, owner=world.rep_w_m)

    view = await targets.attainment(session, actor=world.rep1, period=P2027, by=None, now=NOW)
    assert view.total.target == 10_000_000 and view.total.won == 1_700_000
    assert [(l.key, l.target, l.won) for l in view.lines] == [
        ("2027-Q1", 2_500_000, 1_700_000), ("2027-Q2", 2_500_000, 0), ("2027-Q3", 2_500_000, 0), ("2027-Q4", 2_500_000, 0),
    ]
    q1 = view.lines[0]
    assert q1.attainment == pytest.approx(0.68) and q1.elapsed == 45 / 90 and q1.pace == "ahead"
    assert view.lines[1].pace == "on_track" and view.lines[1].elapsed == 0
    assert view.total.elapsed == pytest.approx(45 / 365) and view.total.pace == "on_track"  # 17% won, 12.3% gone
    assert view.splits == ["product"]

    by_product = await targets.attainment(session, actor=world.mgr, period=P2027, by="product", now=NOW)
    assert [(l.key, l.target, l.won) for l in by_product.lines] == [("A", 6_000_000, 1_000_000), ("B", 4_000_000, 500_000)]
    assert by_product.other_won == 200_000
    by_segment = await targets.attainment(session, actor=world.mgr, period=parse_period("2027-Q1"), by="segment", now=NOW)
    assert by_segment.lines == [] and by_segment.other_won == 1_700_000
    by_rep = await targets.attainment(session, actor=world.mgr, period=P2027, by="rep", now=NOW)
    assert by_rep.total.won == 1_700_000 and by_rep.other_won == 1_700_000


async def test_default_period(session, world):
    today = NOW.date()
    assert (await targets.default_period(session, team=world.east, today=today)).label == "2027"
    await targets.set_target(session, actor=world.mgr, period=parse_period("2027-02"), amount=10)
    await targets.set_target(session, actor=world.mgr, period=parse_period("2027-Q1"), amount=10)
    assert (await targets.default_period(session, team=world.east, today=today)).label == "2027-02"
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=10)
    assert (await targets.default_period(session, team=world.east, today=today)).label == "2027"


async def test_views_use_a_bounded_number_of_queries(session, db, world):
    c = Customer(workspace_id=world.ws.id, name="Big", region="North")
    session.add(c)
    await session.flush()
    await targets.set_target(session, actor=world.mgr, period=P2027, amount=10_000_000)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="week", shares=None)
    await targets.split_target(session, actor=world.mgr, period=P2027, by="month", shares=None)
    keys = [(f"P{i}", Decimal(1)) for i in range(50)]
    await targets.split_target(session, actor=world.mgr, period=P2027, by="product", shares=[(k, Decimal(200_000)) for k, _ in keys], share_kind="amount")
    for i in range(30):
        await _deal(session, world, amount=1000 + i, won_at=datetime(2027, 1, 1 + i, 12, tzinfo=timezone.utc), product=f"P{i}", customer=c)
    await session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        for by in (None, "product", "region", "segment", "rep"):
            statements.clear()
            view = await targets.attainment(session, actor=world.mgr, period=P2027, by=by, now=NOW)
            assert len(statements) <= 3, (by, statements)
        assert len(view.lines) == 0
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    view = await targets.attainment(session, actor=world.mgr, period=P2027, by=None, now=NOW)
    assert len(view.lines) == 12 + 53 and sum(l.won for l in view.lines[:12]) == view.total.won
