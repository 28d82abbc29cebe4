"""The meeting's pictures: real PNGs for small and large teams, drawn in a font that covers every character, in both languages."""

from __future__ import annotations

import warnings
from datetime import date
from fractions import Fraction

import pytest

from bot.blocks.pictures import RepMonth, attainment_chart, funnel_chart, weekly_chart
from bot.charts import CHART_REPS_MAX, attainment, covered_codepoints, funnel, missing_glyphs, weekly_won
from bot.models import Stage
from bot.periods import MONTH, QUARTER, period_containing
from bot.services.figures import QuarterWeeks, StageLine, WeekWon, quarter_weeks_of
from bot.services.targets import TargetLine
from tests.unit.factories import loc as localizer

PNG = b"\x89PNG\r\n\x1a\n"
CHINESE_NAMES = ["王伟", "李娜", "张敏静", "欧阳晓燕", "Ray Chen", "Ünal Öztürk"]


def _size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _quarter(as_of: date, target: int | None) -> QuarterWeeks:
    q = period_containing(QUARTER, as_of)
    weeks = [WeekWon(a, b, 120_000_00 * (i + 1) if a <= as_of else None) for i, (a, b) in enumerate(quarter_weeks_of(q))]
    return QuarterWeeks(quarter=q, as_of=as_of, weeks=weeks, target=target)


def _reps(names, with_targets=True) -> list[RepMonth]:
    month = period_containing(MONTH, date(2027, 2, 20))
    out = []
    for i, name in enumerate(names):
        line = TargetLine(month.label, 1_000_000_00, 250_000_00 * i, month.elapsed_share(date(2027, 2, 20)), month.start, month.end)
        out.append(RepMonth(name, line if with_targets else None, 250_000_00 * i))
    return out


def _flow() -> list[StageLine]:
    counts = [40, 30, 18, 11, 6, 4]
    return [StageLine(stage=s, entered=n, advanced=int(n * 0.7)) for s, n in zip(Stage, counts)]


def _drawn(language: str):
    loc = localizer(language)
    month = period_containing(MONTH, date(2027, 2, 20))
    return [
        weekly_won(weekly_chart(_quarter(date(2027, 2, 20), 9_000_000_00), loc, "CNY", "华东一组")),
        attainment(attainment_chart(_reps(CHINESE_NAMES), month, Fraction(20, 28), loc, "CNY")),
        funnel(funnel_chart(_flow(), month, loc)),
    ]


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_every_character_drawn_is_in_the_chart_font(language):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = _drawn(language)
    assert not [w for w in caught if "missing from" in str(w.message)], "a glyph fell back to boxes"
    for png, texts in drawn:
        assert png.startswith(PNG)
        assert texts, "the picture draws words"
        assert set().union(*(missing_glyphs(t) for t in texts)) == set()
    every = "".join(t for _, texts in drawn for t in texts)
    assert all(name in every for name in CHINESE_NAMES), "names are drawn, never replaced by user ids"
    if language == "zh_Hans":
        assert "每周成交额" in every and "销售漏斗" in every


def test_the_font_covers_chinese_and_latin():
    covered = covered_codepoints()
    assert all(ord(ch) in covered for ch in "王伟欧阳晓燕销售漏斗目标达成率¥%0123456789abcXYZ↓…")
    assert missing_glyphs("\U0001F600") == {"\U0001F600"}  # an emoji is not in it, and the check says so


def test_three_hundred_reps_are_cut_to_a_legible_picture():
    loc = localizer("en")
    month = period_containing(MONTH, date(2027, 2, 20))
    spec = attainment_chart(_reps([f"Rep {i}" for i in range(300)]), month, Fraction(1, 2), loc, "CNY")
    assert len(spec.reps) == 300 and spec.hidden == 300 - CHART_REPS_MAX and "260" in spec.more
    png, texts = attainment(spec)
    _, height = _size(png)
    assert height <= (0.3 * CHART_REPS_MAX + 1.5) * 90 + 1
    assert sum(1 for t in texts if t.startswith("Rep ")) == CHART_REPS_MAX


def test_without_rep_targets_the_bars_show_what_each_rep_won():
    loc = localizer("en")
    month = period_containing(MONTH, date(2027, 2, 20))
    spec = attainment_chart(_reps(["Ray", "Rita", "Nobody"], with_targets=False), month, Fraction(1, 2), loc, "CNY")
    assert spec.pace is None and [r.name for r in spec.reps] == ["Rita", "Nobody"]  # lowest first; nothing won: no bar
    assert spec.reps[0].value == 250_000_00 and "no rep targets" in spec.title
    png, texts = attainment(spec)
    assert png.startswith(PNG) and any("¥" in t for t in texts)


def test_attainment_is_drawn_lowest_first_against_the_months_pace():
    loc = localizer("en")
    month = period_containing(MONTH, date(2027, 2, 20))
    spec = attainment_chart(_reps(["A", "B", "C"]), month, Fraction(20, 28), loc, "CNY")
    assert [r.name for r in spec.reps] == ["A", "B", "C"] and [r.value for r in spec.reps] == [0.0, 25.0, 50.0]
    assert spec.pace == pytest.approx(100 * 20 / 28) and all(r.behind for r in spec.reps)


def test_weekly_pace_line_reaches_the_quarter_target_at_its_end():
    q = _quarter(date(2027, 2, 20), 9_000_000_00)
    pace = q.pace()
    assert len(pace) == len(q.weeks) == 14  # 2027-Q1 touches 14 ISO weeks; the first and last are clipped
    assert pace[-1] == 9_000_000_00 and pace == sorted(pace)
    assert q.weeks[0].start == date(2027, 1, 1) and q.weeks[-1].end == date(2027, 4, 1)
    assert [w.won is None for w in q.weeks].index(True) == 8  # weeks after Feb 20 have not begun
    assert _quarter(date(2027, 2, 20), None).pace() == []


def test_funnel_conversions_sit_between_stages():
    spec = funnel_chart(_flow(), period_containing(MONTH, date(2027, 2, 1)), localizer("en"))
    assert [n for _, n in spec.stages] == [40, 30, 18, 11, 6, 4]
    assert len(spec.conversions) == 5 and spec.conversions[0] == "70%"
    empty = funnel_chart([StageLine(stage=s) for s in Stage], "2027-02", localizer("en"))
    png, texts = funnel(empty)
    assert png.startswith(PNG) and empty.none in texts
