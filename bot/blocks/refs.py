"""What a button carries: which task, and which surface to redraw after the click."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.services.tasks import TaskFilter


class Surface(str, Enum):
    """Where a task button was shown."""

    LIST = "l"  # the /mytasks ephemeral list
    CARD = "c"  # a task card message (the DM sent on assignment)
    HOME = "h"  # the App Home tab


@dataclass(frozen=True)
class TaskRef:
    """A button's value: task id, surface, and the list's filter and offset to redraw."""

    task_id: int
    surface: Surface
    which: TaskFilter = TaskFilter.OPEN
    offset: int = 0

    def encode(self) -> str:
        """A short string well under Slack's 2000-character button value."""
        return f"{self.task_id}|{self.surface.value}|{self.which.value}|{self.offset}"

    @classmethod
    def decode(cls, value: str) -> "TaskRef":
        """Parse a value this module encoded; ValueError on anything else."""
        task_id, surface, which, offset = value.split("|")
        return cls(int(task_id), Surface(surface), TaskFilter(which), max(0, int(offset)))
