"""bot/periods: parsing, ranges, sub-periods, elapsed share and the previous period."""

from __future__ import annotations

from datetime import date, datetime, timezone
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.periods import MONTH, QUARTER, WEEK, YEAR, Period, PeriodError, parse_period, period_containing, time_split_weights


@pytest.mark.parametrize(
    "text, label, start, end",
    [
        ("2027", "2027", date(2027, 1, 1), date(2028, 1, 1)),
        ("2027-Q1", "2027-Q1", date(2027, 1, 1), date(2027, 4, 1)),
        ("2027q4", "2027-Q4", date(2027, 10, 1), date(2028, 1, 1)),
        ("2027-03", "2027-03", date(2027, 3, 1), date(2027, 4, 1)),
        ("2027-3", "2027-03", date(2027, 3, 1), date(2027, 4, 1)),
        ("2027-12", "2027-12", date(2027, 12, 1), date(2028, 1, 1)),
        ("2027-W05", "2027-W05", date(2027, 2, 1), date(2027, 2, 8)),
        ("2027w1", "2027-W01", date(2027, 1, 4), date(2027, 1, 11)),
        ("2026-W53", "2026-W53", date(2026, 12, 28), date(2027, 1, 4)),
        ("2028-02", "2028-02", date(2028, 2, 1), date(2028, 3, 1)),
    ],
)
def test_parse_and_range(text, label, start, end):
    p = parse_period(text)
    assert (p.label, p.start, p.end) == (label, start, end)
    assert parse_period(p.label) == p


@pytest.mark.parametrize("text", ["", "27", "2027-13", "2027-00", "2027-Q5", "2027-Q0", "2027-W54", "2027-W53", "2027-W00", "Q1", "2027-03-01", "next year", "1969"])
def test_bad_periods(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_days_and_leap_years():
    assert parse_period("2027").days == 365
    assert parse_period("2028").days == 366
    assert parse_period("2028-02").days == 29
    assert parse_period("2027-Q1").days == 90


@pytest.mark.parametrize(
    "label, previous",
    [("2027", "2026"), ("2027-Q1", "2026-Q4"), ("2027-Q3", "2027-Q2"), ("2027-01", "2026-12"), ("2027-W01", "2026-W53"), ("2027-W05", "2027-W04"), ("2026-W01", "2025-W52")],
)
def test_previous_equal_period(label, previous):
    assert parse_period(label).previous().label == previous
    assert parse_period(previous).next().label == label


def test_sub_periods():
    year = parse_period("2027")
    assert [p.label for p in year.sub_periods(QUARTER)] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert len(year.sub_periods(MONTH)) == 12
    weeks = year.sub_periods(WEEK)
    # 2027 starts on a Friday: its first days belong to 2026-W53; 2027 has 52 ISO weeks.
    assert weeks[0].label == "2026-W53" and weeks[-1].label == "2027-W52"
    assert [p.label for p in parse_period("2027-Q1").sub_periods(MONTH)] == ["2027-01", "2027-02", "2027-03"]
    with pytest.raises(PeriodError):
        parse_period("2027-03").sub_periods(QUARTER)
    with pytest.raises(PeriodError):
        parse_period("2027-W05").sub_periods(WEEK)


def test_week_split_of_a_month_counts_days_inside_the_month():
    weights = time_split_weights(parse_period("2027-01"), WEEK)
    assert [(p.label, d) for p, d in weights] == [
        ("2026-W53", 3), ("2027-W01", 7), ("2027-W02", 7), ("2027-W03", 7), ("2027-W04", 7),
    ]
    feb = time_split_weights(parse_period("2027-03"), WEEK)
    assert feb[0] == (parse_period("2027-W09"), 7) and feb[-1] == (parse_period("2027-W13"), 3)
    assert sum(d for _, d in feb) == 31
    year = time_split_weights(parse_period("2027"), WEEK)
    assert year[0][1] == 3 and year[-1][1] == 5 and sum(d for _, d in year) == 365
    # Quarters and months split evenly, whatever their length.
    assert {w for _, w in time_split_weights(parse_period("2027"), QUARTER)} == {1}


def test_elapsed_share():
    q1 = parse_period("2027-Q1")
    assert q1.elapsed_share(date(2026, 12, 31)) == 0
    assert q1.elapsed_share(date(2027, 1, 1)) == Fraction(1, 90)
    assert q1.elapsed_share(date(2027, 2, 14)) == Fraction(45, 90)
    assert q1.elapsed_share(date(2027, 3, 31)) == 1
    assert q1.elapsed_share(date(2027, 4, 1)) == 1


def test_period_containing_and_utc_range():
    d = date(2027, 1, 2)
    assert [period_containing(k, d).label for k in (YEAR, QUARTER, MONTH, WEEK)] == ["2027", "2027-Q1", "2027-01", "2026-W53"]
    start, end = parse_period("2027-01").utc_range("Asia/Shanghai")
    assert start == datetime(2026, 12, 31, 16, tzinfo=timezone.utc)
    assert end == datetime(2027, 1, 31, 16, tzinfo=timezone.utc)
    # Across a DST change the local midnights keep their own offsets.
    s, e = parse_period("2027-03").utc_range("America/New_York")
    assert s == datetime(2027, 3, 1, 5, tzinfo=timezone.utc) and e == datetime(2027, 4, 1, 4, tzinfo=timezone.utc)


periods = st.builds(
    lambda y, kind, i: Period(y, kind, min(i, {YEAR: 1, QUARTER: 4, MONTH: 12}.get(kind, date(y, 12, 28).isocalendar()[1]))),
    st.integers(2000, 2100), st.sampled_from([YEAR, QUARTER, MONTH, WEEK]), st.integers(1, 53),
)


@settings(max_examples=300, deadline=None)
@given(periods, st.sampled_from([QUARTER, MONTH, WEEK]))
def test_time_splits_cover_the_period_without_gap_or_overlap(parent, kind):
    from bot.periods import FINER

    if kind not in FINER[parent.kind]:
        return
    weights = time_split_weights(parent, kind)
    subs = [p for p, _ in weights]
    # Consecutive, no gap, no overlap; the first starts on or before the parent, the last ends on or after it.
    for a, b in zip(subs, subs[1:]):
        assert a.end == b.start
    assert subs[0].start <= parent.start < subs[0].end
    assert subs[-1].start < parent.end <= subs[-1].end
    if kind == WEEK:
        assert sum(w for _, w in weights) == parent.days
        assert all(w > 0 for _, w in weights)


@settings(max_examples=300, deadline=None)
@given(periods)
def test_previous_is_adjacent(p):
    assert p.previous().end == p.start
    assert p.previous().kind == p.kind
