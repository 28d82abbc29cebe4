"""What a button carries: which task, and which surface to redraw after the click."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.services.board import BoardQuery
from bot.services.tasks import TaskFilter

# The largest id an integer column holds (PostgreSQL's int4); a bigger one was not ours to send.
MAX_ID = 2**31 - 1


def decode_id(text: str) -> int:
    """A row id from a button value or typed text: ASCII digits, 1 to MAX_ID; ValueError otherwise."""
    if not (isinstance(text, str) and text.isascii() and text.isdigit()) or len(text) > 10 or not 0 < int(text) <= MAX_ID:
        raise ValueError(f"not an id: {text!r:.40}")
    return int(text)


def decode_count(text: str) -> int:
    """A list offset or count from a button value: ASCII digits, 0 to MAX_ID; ValueError otherwise."""
    return 0 if text == "0" else decode_id(text)


class Surface(str, Enum):
    """Where a task button was shown."""

    LIST = "l"  # the /mytasks ephemeral list
    CARD = "c"  # a task card message (the DM sent on assignment)
    HOME = "h"  # the App Home tab
    BOARD = "b"  # the /tasks team board (the ref carries the board's filter)


@dataclass(frozen=True)
class TaskRef:
    """A button's value: task id, surface, and the list's filter and offset to redraw (on the board, its encoded query)."""

    task_id: int
    surface: Surface
    which: TaskFilter = TaskFilter.OPEN
    offset: int = 0
    board: str = ""

    def encode(self) -> str:
        """A short string well under Slack's 2000-character button value."""
        base = f"{self.task_id}|{self.surface.value}|{self.which.value}|{self.offset}"
        return f"{base}|{self.board}" if self.board else base

    @classmethod
    def decode(cls, value: str) -> "TaskRef":
        """Parse a value this module encoded; ValueError on anything else."""
        task_id, surface, which, offset, *board = value.split("|", 4)  # the board's query may hold "|"
        # Previous/Next carry task id 0: they name a page, not a task.
        # A negative offset (Previous from a short first page) means the start, as it always has.
        start = 0 if offset.startswith("-") and decode_count(offset[1:]) >= 0 else decode_count(offset)
        ref = cls(decode_count(task_id), Surface(surface), TaskFilter(which), start, board[0] if board else "")
        if (ref.surface == Surface.BOARD) != bool(board):
            raise ValueError("only the board's buttons carry a query")
        if board:
            BoardQuery.decode(ref.board)  # a query this module can read
        return ref
