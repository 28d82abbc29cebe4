"""A small progress bar on stderr for long imports and exports, shown only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """`label [#####.....]  45%  450/1000`, redrawn in place at most ten times a second.

    Disabled (drawing nothing) unless stdout is a terminal, so piped and redirected runs stay clean.
    """

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, n: int = 1) -> None:
        """Count `n` more rows."""
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= 0.1 or self.done >= self.total:
            self._last_draw = now
            self.draw()

    def render(self) -> str:
        """The bar as text."""
        total = max(self.total, self.done, 1)
        filled = WIDTH * self.done // total
        return f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {100 * self.done // total:3d}%  {self.done}/{total}"

    def draw(self) -> None:
        """Redraw the bar over the previous one."""
        self.stream.write("\r" + self.render())
        self.stream.flush()
        self._drawn = True

    def restart(self, label: str, total: int) -> None:
        """Start a second phase (validating, then writing) on the same line."""
        self.label, self.total, self.done = label, max(total, 0), 0

    def close(self) -> None:
        """End the line the bar was drawn on."""
        if self.enabled and self._drawn:
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
