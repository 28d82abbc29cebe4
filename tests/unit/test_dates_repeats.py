"""bot/parsing dates and repeat rules, and the dates a repeat rule names (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from bot.models import RepeatKind
from bot.parsing import DateError, ParseError, parse_date, parse_mytasks_add, parse_repeat
from bot.services.repeats import RepeatSpec, next_date, occurs

FRI = date(2026, 3, 13)  # a Friday
WEEK = frozenset(range(5))


@pytest.mark.parametrize("text, expected", [
    ("today", FRI), ("今天", FRI), ("tomorrow", date(2026, 3, 14)), ("明天", date(2026, 3, 14)), ("后天", date(2026, 3, 15)),
    ("fri", date(2026, 3, 20)), ("Friday", date(2026, 3, 20)), ("周五", date(2026, 3, 20)), ("星期五", date(2026, 3, 20)),
    ("mon", date(2026, 3, 16)), ("sat", date(2026, 3, 14)), ("下周一", date(2026, 3, 16)), ("下周五", date(2026, 3, 20)),
    ("本周五", FRI), ("这周三", date(2026, 3, 11)), ("2027-03-05", date(2027, 3, 5)), ("2027/3/5", date(2027, 3, 5)),
    ("3月5日", date(2027, 3, 5)), ("3月13日", FRI), ("12月1号", date(2026, 12, 1)), ("2027年3月5日", date(2027, 3, 5)),
    ("２０２７－０３－０５", date(2027, 3, 5)), ("2月29日", date(2028, 2, 29)),
])
def test_natural_dates(text, expected):
    assert parse_date(text, today=FRI) == expected


@pytest.mark.parametrize("text", ["someday", "2027-13-01", "2月30日", "周八", "next friday", ""])
def test_bad_dates(text):
    with pytest.raises(DateError):
        parse_date(text, today=FRI)


def test_without_today_only_full_dates():
    assert parse_date("2027-03-05") == date(2027, 3, 5)
    with pytest.raises(DateError):
        parse_date("tomorrow")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
def test_a_weekday_is_within_the_next_seven_days_never_today(today, word):
    d = parse_date(word, today=today)
    assert 1 <= (d - today).days <= 7 and d.strftime("%a").lower() == word


@pytest.mark.parametrize("text, spec", [
    ("daily", RepeatSpec(RepeatKind.WORKDAYS)), ("工作日", RepeatSpec(RepeatKind.WORKDAYS)),
    ("weekly", RepeatSpec(RepeatKind.WEEKLY)), ("weekly:mon,thu", RepeatSpec(RepeatKind.WEEKLY, frozenset({0, 3}))),
    ("每周一", RepeatSpec(RepeatKind.WEEKLY, frozenset({0}))), ("每周一、周四", RepeatSpec(RepeatKind.WEEKLY, frozenset({0, 3}))),
    ("monthly:15", RepeatSpec(RepeatKind.MONTHLY, month_day=15)), ("每月15日", RepeatSpec(RepeatKind.MONTHLY, month_day=15)),
    ("quarterly", RepeatSpec(RepeatKind.QUARTERLY)), ("每季度", RepeatSpec(RepeatKind.QUARTERLY)),
])
def test_repeat_rules(text, spec):
    assert parse_repeat(text) == spec


@pytest.mark.parametrize("text", ["hourly", "weekly:funday", "monthly:32", "每周八", "每年"])
def test_bad_repeat_rules_name_the_text(text):
    with pytest.raises(ParseError) as err:
        parse_repeat(text)
    assert err.value.params == {"value": text}


def test_add_keeps_the_title_as_typed_and_reads_full_width_colons():
    draft = parse_mytasks_add("add 给王总回电话，确认报价 截止：明天 优先级:高", today=FRI)
    assert draft.title == "给王总回电话，确认报价" and draft.due_date == date(2026, 3, 14) and draft.priority.value == 1


def test_rule_dates():
    start = date(2026, 1, 31)
    monthly = RepeatSpec(RepeatKind.MONTHLY, month_day=31)
    # the 31st falls back to a shorter month's last day
    assert next_date(monthly, date(2026, 2, 1), start=start, working_days=WEEK) == date(2026, 2, 28)
    quarterly = RepeatSpec(RepeatKind.QUARTERLY, month_day=31)
    assert next_date(quarterly, date(2026, 2, 1), start=start, working_days=WEEK) == date(2026, 4, 30)
    workdays = RepeatSpec(RepeatKind.WORKDAYS)
    assert next_date(workdays, FRI + timedelta(days=1), start=FRI, working_days=WEEK) == date(2026, 3, 16)
    assert not occurs(RepeatSpec(RepeatKind.WEEKLY, frozenset({4})), FRI - timedelta(days=7), start=FRI, working_days=WEEK)
    assert next_date(RepeatSpec(RepeatKind.WEEKLY), FRI, start=FRI, working_days=WEEK) is None  # no weekday at all


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_add_errors_render_in_both_languages_naming_the_part(lang):
    from tests.unit import factories as f

    loc = f.loc(lang)
    for text, part in [("add x due:someday", "someday"), ("add x priority:urgent", "urgent"), ("add x repeat:hourly", "hourly"),
                       ("add x due:", "due:"), ("add x due:today due:today", "due:today"), ("add", None)]:
        with pytest.raises(ParseError) as err:
            parse_mytasks_add(text, today=FRI)
        shown = loc.md(err.value.key, **err.value.params)
        assert "%(" not in shown and (part is None or part in shown), (text, shown)
