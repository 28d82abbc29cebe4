"""Periods in words, the one money format per language, and monospaced tables that align in Chinese."""

from __future__ import annotations

from datetime import date

import pytest

from bot.blocks.digest import rep_table_lines
from bot.models import SalesTeam
from bot.periods import parse_period
from bot.services.digest import WEEKLY, Digest, RepRow, reported_period
from bot.services.team_settings import TeamSchedule
from bot.text import display_width, fit
from tests.unit.factories import fake_member, loc


@pytest.mark.parametrize("code, en, zh", [
    ("2026-W49", "Week 49 (Nov 30 – Dec 6)", "2026年第49周（11月30日–12月6日）"),
    ("2027-W09", "Week 9 (Mar 1 – 7)", "2027年第9周（3月1日–7日）"),
    ("2027-Q1", "Q1 2027", "2027年第一季度"),
    ("2027-Q4", "Q4 2027", "2027年第四季度"),
    ("2027-03", "March 2027", "2027年3月"),
    ("2027", "2027", "2027年"),
])
def test_a_period_in_a_sentence(code, en, zh):
    assert loc("en").period(parse_period(code)) == en == loc("en").period(code)
    assert loc("zh_Hans").period(parse_period(code)) == zh


@pytest.mark.parametrize("minor, en, zh", [
    (2_307_000_000, "¥23,070,000", "¥2,307万"),
    (12_000_000_000, "¥120,000,000", "¥1.2亿"),
    (5_000_000_000, "¥50,000,000", "¥5,000万"),
    (123_450, "¥1,234.50", "¥1,234.50"),
    (35_000, "¥350", "¥350"),
    (1_000_001_00, "¥1,000,001", "¥1,000,001"),  # not round: exact
    (-8_000, "-¥80", "-¥80"),
    (0, "¥0", "¥0"),
])
def test_one_money_rule_per_language(minor, en, zh):
    assert loc("en").money(minor, "CNY") == en
    assert loc("zh_Hans").money(minor, "CNY") == zh


def test_fit_pads_and_cuts_by_display_width():
    assert display_width("李娜") == 4 and display_width("Leo") == 3
    assert fit("李娜", 6) == "李娜  " and fit("李娜", 6, right=True) == "  李娜"
    cut = fit("欧阳娜娜的超长名字在这里", 9)
    assert display_width(cut) == 9 and cut.rstrip().endswith("…")


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_the_digest_table_aligns_with_chinese_names(language):
    team = SalesTeam(id=1, workspace_id=1, name="华东")
    d = Digest(team=team, schedule=TeamSchedule.from_team(team), currency="CNY", kind=WEEKLY, day=date(2027, 3, 1),
               period=reported_period(WEEKLY, date(2027, 3, 1)), month_label="2027-02")
    names = ["李娜", "Leo Wang", "欧阳娜娜的一个很长的名字", "周杰", "Sam"]
    d.reps = [RepRow(member=fake_member(f"U{i}", name=n), sales=i * 1_000_000_00 + 50, tasks_done=i, tasks_overdue=1, tasks_due=3, tasks_on_time=2)
              for i, n in enumerate(names)]
    lines = rep_table_lines(d, loc(language))
    assert len(lines) == len(names) + 1
    # Every line takes the same columns, and each column ends at the same place on every line.
    assert len({display_width(line) for line in lines}) == 1, lines
    for column in ("tasks", "money"):
        ends = set()
        for line, rep in zip(lines[1:], d.reps):
            cell = f"{rep.tasks_done}/{rep.tasks_overdue}" if column == "tasks" else loc(language).money(rep.sales, "CNY")
            ends.add(display_width(line[: line.index(cell) + len(cell)]))
        assert len(ends) == 1, (column, lines)
    assert any("李娜" in line for line in lines) and any("…" in line for line in lines)
