"""The one amount parser (targets, deals, expenses), its formatter, the cap, and the one `team:` option parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.csvio.cells import CellError, parse_money
from bot.parsing import AMOUNT_MAX, AmountError, ParseError, format_amount, parse_amount, take_team

# Everything either of the two former parsers accepted, in both languages' habits.
READ = [
    ("50000000", 5_000_000_000), ("50,000,000", 5_000_000_000), ("50，000，000", 5_000_000_000),
    ("5000万", 5_000_000_000), ("¥5000万", 5_000_000_000), ("5000w", 5_000_000_000), ("0.5亿", 5_000_000_000),
    ("1亿", 10_000_000_000), ("1.2亿", 12_000_000_000), ("1.5m", 150_000_000), ("1.5M", 150_000_000),
    ("2k", 200_000), ("15k", 1_500_000), ("¥1.5k", 150_000), ("99.95", 9_995), ("99.5", 9_950), ("1.23456万", 1_234_560),
    ("0", 0), ("120000", 12_000_000), ("120,000", 12_000_000), ("12万", 12_000_000), ("1.5万", 1_500_000),
    ("12w", 12_000_000), ("1,234,567.89", 123_456_789), ("¥120,000", 12_000_000), ("￥12万", 12_000_000),
    ("１２万", 12_000_000), (" 350 ", 35_000), ("350元", 35_000), ("$5", 500), ("5 000 000", 500_000_000),
    ("1,000,000,000,000", AMOUNT_MAX),
]
REFUSED = [
    "", "abc", "12,34", "5,00", "12,3456", "1,2345", "1.234", "12.345", "1.2345678k", "5e6", "1e5", "1.5x",
    "12万万", "12 000x", "-5", "¥-5", "--5", "1-5", "5%",
]
TOO_LARGE = ["1000000000000.01", "1,000,000,000,001", "10001亿", "1000001m", "9" * 20, "9,999,999,999,999,999.99"]


@pytest.mark.parametrize("text, minor", READ)
def test_reads_what_people_type(text, minor):
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text", REFUSED)
def test_refuses_the_rest(text):
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert not caught.value.too_large


@pytest.mark.parametrize("text", TOO_LARGE)
def test_refuses_amounts_above_the_cap_saying_so(text):
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.too_large


@pytest.mark.parametrize("text, minor", [("-80.50", -8_050), ("-¥80.50", -8_050), ("¥-80.5", -8_050), ("-1.5万", -1_500_000), ("-0", 0)])
def test_credits_only_where_asked_for(text, minor):
    assert parse_amount(text, negative=True) == minor
    with pytest.raises(AmountError):
        parse_amount(text.replace("-", "", 1) + "x")  # still read as a whole word, sign or not
    if minor:
        with pytest.raises(AmountError):
            parse_amount(text)


def test_negative_cap_is_the_same():
    assert parse_amount("-1,000,000,000,000", negative=True) == -AMOUNT_MAX
    with pytest.raises(AmountError) as caught:
        parse_amount("-1,000,000,000,000.01", negative=True)
    assert caught.value.too_large


@pytest.mark.parametrize("minor, text", [(-8_050, "-80.50"), (-8_000, "-80"), (12_000_000, "120000"), (9_995, "99.95"), (5, "0.05"), (-5, "-0.05"), (0, "0")])
def test_format_amount_is_exact_for_credits_too(minor, text):
    assert format_amount(minor) == text
    assert parse_amount(text, negative=True) == minor


@given(st.integers(min_value=-AMOUNT_MAX, max_value=AMOUNT_MAX))
def test_format_then_parse_round_trips(minor):
    assert parse_amount(format_amount(minor), negative=True) == minor


def test_the_csv_importer_applies_the_same_cap():
    assert parse_money("1000000000000.00") == AMOUNT_MAX
    assert parse_money("-1000000000000") == -AMOUNT_MAX
    for cell in ("1000000000000.01", "9999999999999999.99", "-1000000000001"):
        with pytest.raises(CellError) as caught:
            parse_money(cell)
        assert caught.value.key == "csv.error.amount_too_large"


# -- team: ---------------------------------------------------------------------------------

def test_take_team_pulls_the_option_out_anywhere():
    assert take_team(["2027-Q1", "team:East", "by", "product"], usage="u") == (["2027-Q1", "by", "product"], "East")
    assert take_team(["TEAM:East&amp;West"], usage="u") == ([], "East&West")
    assert take_team(["2027"], usage="u") == (["2027"], None)
    assert take_team(['team:"East China"'.replace('"', "")], usage="u") == ([], "East China")


@pytest.mark.parametrize("words", [["team:"], ["team:  "], ["team:East", "team:West"]])
def test_take_team_refuses_an_empty_or_second_team(words):
    with pytest.raises(ParseError) as caught:
        take_team(words, usage="kpi.error.kpi_usage")
    assert caught.value.key == "kpi.error.kpi_usage"
