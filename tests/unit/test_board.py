"""The team board's parser, its button values and its builder's limits."""

from __future__ import annotations

import pytest

from bot.blocks.refs import Surface, TaskRef
from bot.parsing import ParseError
from bot.services.board import BoardDue, BoardQuery, BoardStatus, parse_board


def test_parse_board_reads_every_filter_in_any_order():
    assert parse_board("") == BoardQuery()
    q = parse_board('due:next-week customer:"Acme &amp; Sons" <@U123|ray> overdue')
    assert q == BoardQuery(BoardStatus.OVERDUE, "U123", "Acme & Sons", BoardDue.NEXT_WEEK)
    assert parse_board("已取消 due:本周") == BoardQuery(BoardStatus.CANCELLED, None, None, BoardDue.THIS_WEEK)


@pytest.mark.parametrize("text", ["someday", "open done", "due:tomorrow", "customer:", "customer:" + "x" * 101, "<@U1> <@U2>"])
def test_parse_board_refuses_what_it_cannot_read(text):
    with pytest.raises(ParseError) as err:
        parse_board(text)
    assert err.value.key == "board.error.usage"


def test_board_refs_round_trip_with_any_customer_text():
    query = BoardQuery(BoardStatus.ALL, "U9", "a|b;c " + "客" * 90, BoardDue.THIS_WEEK)
    ref = TaskRef(7, Surface.BOARD, offset=30, board=query.encode())
    assert TaskRef.decode(ref.encode()) == ref
    assert BoardQuery.decode(TaskRef.decode(ref.encode()).board) == query
    assert len(ref.encode()) < 2000
    for junk in ("7|b|open|0", "7|b|open|0|late;;;", "7|b|open|0|open;;<@U1>;", "7|l|open|0|open;;;"):
        with pytest.raises(ValueError):
            TaskRef.decode(junk)


# -- builders at their worst -----------------------------------------------------------

from datetime import date, datetime, timezone  # noqa: E402

from bot.blocks import ids  # noqa: E402
from bot.blocks.board import build_board, team_section  # noqa: E402
from bot.blocks.deals import DealRef, build_deal_list, build_lost_modal, build_reopen_modal  # noqa: E402
from bot.blocks.kit import MESSAGE_BYTE_BUDGET, Budget, block_size  # noqa: E402
from bot.models import Deal, DealStatus, LostReason, Member, Role, Stage, Task, TaskStatus, Workspace  # noqa: E402
from bot.services.actors import Actor  # noqa: E402
from bot.services.board import BoardPage, RepCounts, RepGroup, TeamLine, TeamSummary  # noqa: E402
from bot.services.deal_list import DealFilter, DealListQuery, DealPage  # noqa: E402
from bot.services.deals import DealView  # noqa: E402
from bot.services.tasks import TaskRow  # noqa: E402
from bot.standin.limits import validate_message_args, validate_view  # noqa: E402
from tests.unit import factories as f  # noqa: E402

TODAY = date(2031, 3, 10)
NOW = datetime(2031, 3, 10, 2, tzinfo=timezone.utc)
LONG = ("& <b> " + "续签年度服务合同并报价升级方案" * 14)[:200]


def worst_page(lang: str) -> tuple[str, list[dict]]:
    """A page of ten tasks, each of another rep, with the longest titles, customers and filter."""
    groups = []
    for i in range(10):
        member = Member(id=i + 1, workspace_id=1, slack_user_id=f"U{i:08d}", name="x")
        task = Task(id=10**9 + i, workspace_id=1, team_id=5, title=LONG, customer_id=1, stage=Stage.NEGOTIATION, due_date=TODAY, status=TaskStatus.OPEN)
        row = TaskRow(task=task, customer_name="客户" * 100, assignees=[f"U{k:08d}" for k in range(10)])
        groups.append(RepGroup(member, RepCounts(10**5, 10**5, 10**5, 10**5), [row], continued=i == 0))
    query = BoardQuery(BoardStatus.OVERDUE, "U00000001", "客" * 100, BoardDue.NEXT_WEEK)
    # Seen by the team's manager: every task row carries Edit and Cancel as well, the largest a row gets.
    manager = Actor(workspace=Workspace(id=1, slack_team_id="T1"), member=Member(id=99, workspace_id=1, slack_user_id="UMGR", role=Role.MANAGER, team_id=5), is_admin=False)
    return build_board(BoardPage(query, groups, 10**6, 10**5, 10), f.loc(lang), TODAY, viewer=manager)


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_the_worst_board_page_fits_one_message_without_a_cut(lang):
    text, blocks = worst_page(lang)
    assert validate_message_args({"text": text, "blocks": blocks}) == []
    assert sum(block_size(b) for b in blocks) <= MESSAGE_BYTE_BUDGET
    task_blocks = [b for b in blocks if b["type"] == "actions" and b["block_id"].startswith("task-")]
    assert len(task_blocks) == 10  # nothing cut: a page always shows its ten tasks
    assert all(ids.TASK_EDIT in [e["action_id"] for e in b["elements"]] for b in task_blocks)  # the manager's Edit on the board
    nav = next(b for b in blocks if b.get("block_id") == "tasks-nav")
    assert [e["action_id"] for e in nav["elements"]] == [ids.TASKS_PREV, ids.TASKS_NEXT]


def test_three_hundred_reps_fit_the_home_section():
    lines = [TeamLine(Member(id=i, workspace_id=1, slack_user_id=f"U{i:08d}"), RepCounts(10**5, 10**5, 10**5, 10**5)) for i in range(300)]
    top, groups, counts = team_section(TeamSummary(lines, 300), f.loc("zh_Hans"))
    budget = Budget.view()
    budget.add(*top)
    left = budget.add_while_fits(groups, counts=counts, more=lambda n: {"type": "context", "elements": []})
    assert left == 0 and len(budget.blocks) == 2 + 30 and sum(counts) == 300


def deal_view(i: int, status: DealStatus = DealStatus.LOST) -> DealView:
    deal = Deal(id=10**9 + i, workspace_id=1, team_id=1, customer_id=3, owner_id=4, title=LONG, product_line="A" * 80, amount=10**14,
                stage=Stage.NEGOTIATION, status=status, expected_close=TODAY, stage_entered_at=NOW, lost_reason=LostReason.OTHER,
                lost_note="<!channel> " + "原因" * 245)
    return DealView(deal=deal, customer_name="客户" * 100, owner_user_id="UREP1", currency="CNY")


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_deal_list_pages_and_modals_are_valid(lang):
    loc = f.loc(lang)
    page = DealPage(DealListQuery(DealFilter.LOST, Stage.NEGOTIATION, "team"), [deal_view(i) for i in range(10)], 10**5, 20, 10)
    text, blocks = build_deal_list(page, loc, tz="Asia/Shanghai", now=NOW, can_reopen=True)
    assert validate_message_args({"text": text, "blocks": blocks}) == []
    cards = [b for b in blocks if b["type"] == "actions" and b["block_id"].startswith("deal-")]
    assert len(cards) == 10 and all(ids.DEAL_REOPEN in [e["action_id"] for e in b["elements"]] for b in cards)
    assert "&lt;!channel&gt;" in blocks[2]["text"]["text"]  # the rep's words are escaped on the card
    ref = DealRef.decode(cards[0]["elements"][0]["value"])
    assert ref.query == page.query and ref.offset == 20
    for view in (build_lost_modal(deal_view(0, DealStatus.OPEN), loc, metadata={"ref": ref.encode(), "ru": "https://x"}),
                 build_reopen_modal(deal_view(0), loc, metadata={"ref": ref.encode()})):
        assert validate_view(view) == []
