"""Targets: amounts, shares and `/target` command text, and the split arithmetic (with hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import ParseError
from bot.periods import parse_period
from bot.services.errors import ServiceError
from bot.services.targets import allocate, check_shares_total, parse_share, parse_target
from tests.unit import factories as f


def test_shares():
    assert parse_share("60%") == ("percent", Decimal("60"))
    assert parse_share("33.5％") == ("percent", Decimal("33.5"))
    assert parse_share("3000万") == ("amount", Decimal(3_000_000_000))
    for bad in ("101%", "x%", "60%%", ""):
        with pytest.raises(ValueError):
            parse_share(bad)


def test_parse_commands():
    cmd = parse_target("set 2027 50,000,000")
    assert (cmd.action, cmd.period.label, cmd.amount) == ("set", "2027", 5_000_000_000)
    cmd = parse_target("set 2027-Q1 1.5m team:East")
    assert (cmd.amount, cmd.team) == (150_000_000, "East")
    cmd = parse_target("split 2027 by quarter")
    assert (cmd.action, cmd.by, cmd.shares) == ("split", "quarter", None)
    cmd = parse_target('split 2027 by region "East China"=60% West=40%')
    assert cmd.by == "region" and cmd.shares == [("East China", Decimal(60)), ("West", Decimal(40))] and cmd.share_kind == "percent"
    cmd = parse_target("split 2027 by rep <@U1|ray>=3000万 <@U2>=2000万")
    assert cmd.shares == [("<@U1|ray>", Decimal(3_000_000_000)), ("<@U2>", Decimal(2_000_000_000))] and cmd.share_kind == "amount"
    cmd = parse_target("split 2027 按 产品 A=100%")
    assert cmd.by == "product"
    assert parse_target("").action == "show" and parse_target("").period is None
    cmd = parse_target("2027-Q1 by product")
    assert (cmd.period.label, cmd.by) == ("2027-Q1", "product")
    cmd = parse_target("by rep")
    assert (cmd.period, cmd.by) == (None, "rep")


@pytest.mark.parametrize(
    "text, key",
    [
        ("set 2027-13 5", "target.error.bad_period"),
        ("set 2027", "target.error.set_usage"),
        ("set 2027 lots", "target.error.bad_amount"),
        ("set 2027 0", "target.error.bad_amount"),
        ("split 2027", "target.error.split_usage"),
        ("split 2027 product A=1%", "target.error.split_usage"),
        ("split 2027 by colour", "target.error.bad_split_kind"),
        ("split 2027 by product A=60% B", "target.error.bad_share"),
        ("split 2027 by product A=60% B=3000", "target.error.mixed_shares"),
        ("2027 by quarter", "target.error.bad_view_kind"),
        ("2027 product", "target.error.view_usage"),
        ("tomorrow", "target.error.bad_period"),
    ],
)
def test_bad_commands(text, key):
    with pytest.raises(ParseError) as exc:
        parse_target(text)
    assert exc.value.key == key
    for lang in ("en", "zh_Hans"):
        out = f.loc(lang).md(exc.value.key, **exc.value.params)
        assert out and out != key and "%(" not in out


def test_allocate_examples():
    assert allocate(5_000_000_000, [60, 30, 10]) == [3_000_000_000, 1_500_000_000, 500_000_000]
    # 100 / 3: one unit left over goes to the largest share (the first of equals).
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(100, [30, 40, 30]) == [30, 40, 30]
    assert allocate(10, [1, 2]) == [3, 7]
    assert allocate(7, [0, 1]) == [0, 7]
    assert allocate(5, [0, 0]) == [3, 2]


def test_shares_must_add_up_within_one_minor_unit():
    check_shares_total(5_000_000_000, [Decimal(60), Decimal(30), Decimal(10)], "percent")
    check_shares_total(300, [Decimal("33.33"), Decimal("33.33"), Decimal("33.33")], "percent")  # 0.03 units short
    with pytest.raises(ServiceError) as exc:
        check_shares_total(5_000_000_000, [Decimal(60), Decimal(30)], "percent")
    assert exc.value.key == "target.error.percent_sum" and exc.value.params["total"] == "90"
    check_shares_total(1000, [Decimal(600), Decimal(399)], "amount")
    with pytest.raises(ServiceError):
        check_shares_total(1000, [Decimal(600), Decimal(398)], "amount")


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**15),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60).filter(lambda ws: sum(ws) > 0),
)
def test_parts_sum_exactly_and_stay_within_one_unit(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    s = sum(weights)
    for part, w in zip(parts, weights):
        exact = Fraction(total * w, s)
        assert abs(part - exact) <= 1
        assert part >= 0
    # A remainder is handed out from the largest share down: no smaller share gets a unit a larger one lacks.
    largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
    assert parts[largest] >= Fraction(total * weights[largest], s) - 1


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**15),
    st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=1, max_size=20),
)
def test_percentage_shares_that_pass_the_check_sum_exactly(total, pcts):
    try:
        check_shares_total(total, pcts, "percent")
    except ServiceError:
        assert abs(Decimal(total) * sum(pcts) / 100 - total) > 1 or sum(pcts) == 0
        return
    parts = allocate(total, pcts)
    assert sum(parts) == total
    for part, p in zip(parts, pcts):
        assert abs(part - Fraction(total) * Fraction(p) / Fraction(sum(pcts))) <= 1


def test_period_labels_round_trip_in_the_command():
    assert parse_target("set 2027W5 2k").period == parse_period("2027-W05")
