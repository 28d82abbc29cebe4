"""The digest chart: a real PNG for small and large teams, and labels the fonts can draw."""

from __future__ import annotations

from decimal import Decimal

from bot.charts import CHART_REPS_MAX, ChartTexts, _label, can_draw, render_digest_chart

TEXTS = ChartTexts("Attainment by rep, 2027-02", "Open deals by stage", "target", "(+%(n)s more)", "No rep targets")
PNG = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_small_team_chart_is_a_png():
    reps = [("Ray", "UREP1", Decimal("1.2")), ("Rita", "UREP2", Decimal("0.4")), ("Nobody", "UX", None)]
    funnel = [("lead", 5), ("proposal", 2), ("negotiation", 0)]
    png = render_digest_chart(reps, funnel, TEXTS)
    assert png.startswith(PNG)
    width, height = _size(png)
    assert width == 990 and 200 <= height <= 1000


def test_three_hundred_reps_are_cut_to_a_legible_chart():
    reps = [(f"Rep {i}", f"U{i}", Decimal(i) / 100) for i in range(300)]
    png = render_digest_chart(reps, [("lead", 1)], TEXTS)
    width, height = _size(png)
    assert png.startswith(PNG) and height <= (0.28 * CHART_REPS_MAX + 1.5) * 90 + 1
    assert len(png) < 500_000


def test_no_targets_still_draws_the_funnel():
    assert render_digest_chart([("Ray", "U1", None)], [("lead", 3)], TEXTS).startswith(PNG)


def test_labels_fall_back_to_user_ids_without_a_cjk_font():
    assert _label("Ray", "U1") == "Ray"
    if not can_draw("zh_Hans"):
        assert _label("王小明", "UZH") == "UZH"
    else:
        assert _label("王小明", "UZH") == "王小明"
    assert can_draw("en")
