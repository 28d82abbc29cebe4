"""Target builders: money in both languages, lines with bar and pace, Slack limits, escaping, the split modal."""

from __future__ import annotations

import json
import re
from datetime import date
from fractions import Fraction

import pytest

from bot.blocks.targets import bar, build_split_confirmation, build_split_modal, build_target_view
from bot.models import SalesTeam, Target
from bot.periods import parse_period
from bot.services.targets import SplitPart, SplitResult, TargetLine, TargetView
from bot.render import blocks_to_text
from bot.blocks import ids
from tests.scenario.helpers import shown_text
from tests.unit import factories as f

TEAM = SalesTeam(id=1, workspace_id=1, name="East <&>", timezone="Asia/Shanghai")


def test_money_formats():
    """Target views use the one money format of each language (Localizer.money)."""
    assert f.loc("en").money(5_000_000_000, "CNY") == "¥50,000,000"
    assert f.loc("zh_Hans").money(5_000_000_000, "CNY") == "¥5,000万"
    assert f.loc("zh_Hans").money(1_234_567_890, "CNY") == "¥12,345,678.90"
    assert f.loc("zh_Hans").money(3_00, "CNY") == "¥3"
    assert f.loc("zh_Hans").money(2_000_000_000_000, "CNY") == "¥200亿"


def test_bar():
    assert bar(Fraction(0)) == "░" * 10
    assert bar(Fraction(34, 100)) == "███" + "░" * 7
    assert bar(Fraction(3)) == "█" * 10
    assert bar(None) == "░" * 10


def _view(by=None, lines=(), total_target=1_000_000_000, other_won=0, splits=()):
    p = parse_period("2027")
    total = TargetLine("2027", total_target, 170_000_000, Fraction(45, 365), p.start, p.end)
    return TargetView(team=TEAM, period=p, by=by, currency="CNY", today=date(2027, 2, 14), total=total, lines=list(lines), other_won=other_won, splits=list(splits))


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_view_lines(lang):
    q1 = parse_period("2027-Q1")
    w = parse_period("2027-W05")
    lines = [
        TargetLine("2027-Q1", 250_000_000, 170_000_000, Fraction(1, 2), q1.start, q1.end),
        TargetLine("2027-W05", 100, 0, Fraction(1), w.start, w.end),
    ]
    text, blocks = build_target_view(_view(lines=lines, splits=["product"]), f.loc(lang))
    shown = shown_text(blocks)
    if lang == "en":
        assert text == "Targets · East &lt;&amp;&gt; · 2027"  # the top-level text is mrkdwn: escaped
        assert "*Q1 2027* · target ¥2,500,000 · won ¥1,700,000 · *68.0%*" in shown
        assert "`███████░░░` ahead of pace (time elapsed: 50%)" in shown
        assert "*Week 5 (Feb 1 – 7)* · target ¥1 · won ¥0 · *0.0%*" in shown
        assert "behind pace" in shown
        assert "on track (time elapsed: 12%)" in shown
        assert "Also split by product line: try `/target 2027 by product`." in shown
    else:
        assert "*2027年第一季度* · 目标 ¥250万 · 已成交 ¥170万 · *68.0%*" in shown
        assert "进度领先（时间进度 50%）" in shown
        assert "*2027年第5周（2月1日–7日）* · 目标 ¥1 · 已成交 ¥0 · *0.0%*" in shown
        assert "*2027年* · 目标 ¥1,000万 · 已成交 ¥170万 · *17.0%*" in shown
        assert "还按产品线拆分：试试 `/target 2027 by product`。" in shown
    assert blocks[0]["type"] == "header"


def test_dimension_view_escapes_keys_and_mentions_reps():
    p = parse_period("2027")
    lines = [TargetLine("<!channel> & co", 100, 50, Fraction(1, 2), p.start, p.end)]
    _, blocks = build_target_view(_view(by="product", lines=lines, other_won=7), f.loc("en"))
    shown = shown_text(blocks)
    assert "*&lt;!channel&gt; &amp; co*" in shown and "<!channel>" not in shown
    assert "Won outside these lines: ¥0.07" in shown
    _, blocks = build_target_view(_view(by="rep", lines=[TargetLine("UREP1", 100, 50, Fraction(1, 2), p.start, p.end)]), f.loc("en"))
    assert "*<@UREP1>*" in shown_text(blocks)
    _, blocks = build_target_view(_view(by="segment", lines=[TargetLine("key", 100, 50, Fraction(1, 2), p.start, p.end)]), f.loc("zh_Hans"))
    assert "*大客户*" in shown_text(blocks) or "*重点客户*" in shown_text(blocks)


def test_no_target_and_no_split_hints():
    _, blocks = build_target_view(_view(total_target=0), f.loc("en"))
    assert "No target for 2027 yet (won so far: ¥1,700,000). A manager sets one with `/target set 2027 <amount>`." in shown_text(blocks)
    _, blocks = build_target_view(_view(by="region"), f.loc("zh_Hans"))
    assert "2027年还没有按区域拆分。经理可用 `/target split 2027 by …` 拆分。" in shown_text(blocks)


def test_a_year_split_by_week_and_month_stays_within_slack_limits():
    p = parse_period("2027")
    lines = [TargetLine(s.label, 1000, 10, Fraction(0), s.start, s.end) for s in p.sub_periods("week")]
    lines += [TargetLine(s.label, 1000, 10, Fraction(0), s.start, s.end) for s in p.sub_periods("month")]
    for lang in ("en", "zh_Hans"):
        text, blocks = build_target_view(_view(lines=lines), f.loc(lang))
        assert len(blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        # 52 weeks of 2027 and the week of 1 January (2026's week 53), each named in words with its dates
        weeks = re.findall(r"\*Week \d+ \([^)]+\)\*" if lang == "en" else r"\*\d{4}年第\d+周（[^）]+）\*", shown_text(blocks))
        assert len(weeks) == 53 and "2027-W" not in shown_text(blocks)
        assert blocks_to_text(blocks)


def test_split_confirmation():
    parent = Target(id=1, workspace_id=1, team_id=1, period="2027", period_start=date(2027, 1, 1), period_end=date(2028, 1, 1), amount=5_000_000_000)
    result = SplitResult(TEAM, parent, "rep", [SplitPart("UREP1", 3_000_000_000, "2027"), SplitPart("UREP2", 2_000_000_000, "2027")])
    text, blocks = build_split_confirmation(result, f.loc("en"), "CNY")
    shown = shown_text(blocks)
    assert "the parts add up to exactly ¥50,000,000" in shown
    assert "• <@UREP1>: ¥30,000,000" in shown
    text, blocks = build_split_confirmation(result, f.loc("zh_Hans"), "CNY")
    assert "• <@UREP2>: ¥2,000万" in shown_text(blocks)


def test_split_modal():
    keys = [(f"Product {i}", f"Product {i}") for i in range(60)]
    view = build_split_modal(f.loc("en"), period=parse_period("2027"), by="product", keys=keys, parent_amount=100, currency="CNY", metadata={"ru": "https://x/" + "r" * 100})
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    meta = json.loads(view["private_metadata"])
    assert len(inputs) == len(meta["keys"]) == 40
    assert inputs[0]["block_id"] == f"{ids.TARGET_SHARE_PREFIX}0" and inputs[0]["label"]["text"] == "Product 0"
    assert view["callback_id"] == ids.TARGET_SPLIT_VIEW and view["submit"] and len(view["title"]["text"]) <= 24
    assert len(view["private_metadata"]) <= 3000
    seg = build_split_modal(f.loc("zh_Hans"), period=parse_period("2027"), by="segment", keys=[("key", "key"), ("smb", "smb")], parent_amount=100, currency="CNY", metadata={})
    assert [b["label"]["text"] for b in seg["blocks"] if b["type"] == "input"] == [f.loc("zh_Hans").t("segment.key"), f.loc("zh_Hans").t("segment.smb")]
