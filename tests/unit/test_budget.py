"""The shared block and byte budget (blocks/kit.Budget) and the builders that use it, under long lists of long texts."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.home import build_home
from bot.blocks.kit import MESSAGE_BYTE_BUDGET, VIEW_BYTE_BUDGET, Budget, block_size, context, section
from bot.blocks.roster import build_roster
from bot.i18n import LANGUAGES
from bot.models import Role
from bot.services.roster import RosterEntry
from bot.services.tasks import HomeOverview, RepOverdue, TaskPage
from bot.standin.limits import MAX_VIEW_BYTES, validate_blocks, validate_view, view_size
from tests.unit import factories as f
from tests.unit.factories import TODAY

LONG_ZH = "续签年度服务合同并报价升级方案" * 14  # 200 characters, 600 bytes in UTF-8


def blocks_bytes(blocks: list[dict]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def more_line(n: int) -> dict:
    return context(f"…and {n} more")


def test_block_size_counts_utf8_bytes_and_the_separator():
    block = section("报")
    assert block_size(block) == len(json.dumps(block, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + 1
    assert block_size(section("报" * 100)) - block_size(section("x" * 100)) == 200


def test_add_while_fits_stops_at_the_byte_budget_and_counts_the_rest():
    budget = Budget(max_blocks=100, max_bytes=10_000)
    budget.add(section("title"))
    groups = [[section(f"{i} " + "x" * 900)] for i in range(30)]
    left = budget.add_while_fits(groups, more=more_line, reserve=[context("closing hint")])
    budget.add(context("closing hint"))
    assert 0 < left < 30
    assert budget.blocks[-2]["elements"][0]["text"] == f"…and {left} more"
    assert blocks_bytes(budget.blocks) <= 10_000
    assert budget.size == blocks_bytes(budget.blocks)
    shown = [b for b in budget.blocks if b["type"] == "section"][1:]
    assert [int(b["text"]["text"].split()[0]) for b in shown] == list(range(30 - left))  # in order, only the tail dropped


def test_add_while_fits_uses_counts_hidden_and_the_block_limit():
    budget = Budget(max_blocks=5, max_bytes=1_000_000)
    left = budget.add_while_fits([[section("a"), section("b")], [section("c")], [section("d")], [section("e")]], counts=[3, 1, 1, 1], more=more_line, hidden=4)
    # Two blocks, one, one, then the "more" line takes the last place: 3 + 1 + 1 shown, 1 + 4 left.
    assert left == 5 and len(budget.blocks) == 5
    assert budget.blocks[-1]["elements"][0]["text"] == "…and 5 more"
    everything = Budget(max_blocks=5, max_bytes=1_000_000)
    assert everything.add_while_fits([[section("a")], [section("b")]], more=more_line) == 0
    assert len(everything.blocks) == 2  # nothing left out: no closing line


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=2900), max_size=120),
    max_blocks=st.integers(min_value=3, max_value=100),
    max_bytes=st.integers(min_value=500, max_value=60_000),
    hidden=st.integers(min_value=0, max_value=50),
)
def test_add_while_fits_never_breaks_either_budget(sizes, max_blocks, max_bytes, hidden):
    budget = Budget(max_blocks=max_blocks, max_bytes=max_bytes)
    closing = context("closing")
    left = budget.add_while_fits([[section("报" * n)] for n in sizes], more=more_line, reserve=[closing], hidden=hidden)
    budget.add(closing)
    shown = len([b for b in budget.blocks if b["type"] == "section"])
    assert shown + left == len(sizes) + hidden
    assert len(budget.blocks) <= max_blocks
    assert blocks_bytes(budget.blocks) <= max_bytes


def manager_overview(reps: int, title: str) -> HomeOverview:
    team = []
    for r in range(reps):
        member = f.fake_member(f"UR{r:04}", pk=10_000 + r, name=f"Rep {r}")
        rows = [f.fake_row(50_000 + r * 10 + i, title=f"{r}-{i} {title}"[:200], due=TODAY - timedelta(days=i + 1), assignees=[member.slack_user_id], customer="客户" * 50) for i in range(5)]
        team.append(RepOverdue(member=member, rows=rows, total=9))
    mine = TaskPage([f.fake_row(i, title=f"{i} {title}"[:200], customer="客户" * 50) for i in range(15)], 40, 0, 15)
    return HomeOverview(my_tasks=mine, team_overdue=team)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_manager_home_with_110_reps_and_long_titles_keeps_the_byte_budget(lang):
    loc = f.loc(lang)
    view = build_home(manager_overview(110, LONG_ZH), f.fake_actor(Role.MANAGER), loc, TODAY)
    assert validate_view(view) == []
    assert blocks_bytes(view["blocks"]) <= VIEW_BYTE_BUDGET and view_size(view) <= VIEW_BYTE_BUDGET + 100 < MAX_VIEW_BYTES
    texts = json.dumps(view, ensure_ascii=False)
    shown = len(set(re.findall(r"<@(UR\d{4})>", texts)))
    assert 0 < shown < 110
    assert loc.mdn("home.more_reps", 110 - shown) in texts
    assert view["blocks"][-1]["elements"][0]["text"] == loc.md("home.updated_hint")


def test_a_roster_of_long_names_keeps_the_message_budget():
    loc = f.loc("zh_Hans")
    entries = [RosterEntry(member=f.fake_member(f"U{i:05}", name="王" * 80, pk=i + 1), team_name="华东" * 40) for i in range(3000)]
    for e in entries:
        e.member.region = "华东地区" * 20
    text, blocks = build_roster(entries, loc)
    assert validate_blocks(blocks, surface="message") == []
    assert blocks_bytes(blocks) <= MESSAGE_BYTE_BUDGET
    shown = len(set(re.findall(r"<@(U\d{5})>", json.dumps(blocks, ensure_ascii=False))))
    assert loc.mdn("roster.more", 3000 - shown) in json.dumps(blocks, ensure_ascii=False)
