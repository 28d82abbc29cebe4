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
