"""One send budget for every process on PostgreSQL: slots handed out by an atomic upsert on a row per scope.

Slack limits chat.postMessage per workspace and per channel, whichever process sends. Each
scope (a workspace, or one channel in it) has a row holding its current window and how many
requests that window has handed out. A window is `length` seconds with room for `per_window`
requests (`per_window / length` is the configured rate); taking a slot is one
INSERT … ON CONFLICT … DO UPDATE … RETURNING, which PostgreSQL runs under the row's lock,
so two processes never get the same slot and no window hands out more than its room.

The slots of a window are spread evenly over its first half (`spread`), and the taker waits
for its own slot (times come from the database's clock, so the machines' clocks need not
agree). A request then lands inside its window even if it leaves late by a quarter of a
second (a loaded machine), and any one-second window sees at most the budget; a taker later
than that takes a new slot. Slots past the current window wait their turn:
the budget is a ceiling, never exceeded to catch up.

SQLite (one machine) keeps the sender's in-process budget (jobs.outbox.Budget).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text

from bot.db import Database

Sleep = Callable[[float], Awaitable[object]]


def _take_slot(p: str) -> str:
    """The upsert taking one slot of a scope; its parameters are named with the prefix `p`.

    The old row's values are what every CASE reads (PostgreSQL evaluates SET against the row as
    it was): a window in the past restarts at the current one; a full one moves on by one. The
    current window is the one a request sent now lands in, `guard` seconds ahead: a taker in a
    window's last quarter gets a slot of the next one, not a slot whose time has passed.
    """
    return f"""
    INSERT INTO send_budget AS b (scope, window_no, used, updated_at)
    VALUES (:{p}scope, floor((extract(epoch FROM clock_timestamp()) + :{p}guard) / :{p}length)::bigint, 1, now())
    ON CONFLICT (scope) DO UPDATE SET
        window_no = CASE WHEN b.window_no < EXCLUDED.window_no THEN EXCLUDED.window_no
                         WHEN b.used >= :{p}per_window THEN b.window_no + 1
                         ELSE b.window_no END,
        used = CASE WHEN b.window_no < EXCLUDED.window_no OR b.used >= :{p}per_window THEN 1
                    ELSE b.used + 1 END,
        updated_at = EXCLUDED.updated_at
    RETURNING window_no, used"""


_TAKE = text(_take_slot("") + ", extract(epoch FROM clock_timestamp())::float8 AS now")

# Both slots of one request in one round trip (channel row first, then the workspace's: every
# taker locks them in that order, so two takers never wait for each other in a cycle).
_TAKE_BOTH = text(
    f"WITH c AS ({_take_slot('c_')}), w AS ({_take_slot('w_')})\n"
    "    SELECT c.window_no, c.used, w.window_no, w.used, extract(epoch FROM clock_timestamp())::float8 FROM c, w"
)

# Slack said Retry-After: every window until then is marked full, for every process.
_PAUSE = text(
    """
    INSERT INTO send_budget AS b (scope, window_no, used, updated_at)
    VALUES (:scope, floor((extract(epoch FROM clock_timestamp()) + :seconds) / :length)::bigint - 1, :per_window, now())
    ON CONFLICT (scope) DO UPDATE SET
        window_no = GREATEST(b.window_no, EXCLUDED.window_no),
        used = CASE WHEN EXCLUDED.window_no >= b.window_no THEN :per_window ELSE b.used END,
        updated_at = EXCLUDED.updated_at
    """
)


@dataclass(frozen=True)
class Window:
    """A rate as fixed windows: `per_window` requests every `length` seconds."""

    per_window: int
    length: float

    @classmethod
    def for_rate(cls, per_second: float) -> Window:
        """The windows for a rate: one second each when the rate is at least 1/s, longer for one request otherwise."""
        if per_second <= 0:
            raise ValueError("a send rate must be positive")
        n = max(1, math.floor(per_second))
        return cls(per_window=n, length=n / per_second)


def workspace_scope(workspace_id: int) -> str:
    """The budget row of a whole workspace."""
    return f"w:{workspace_id}"


def channel_scope(workspace_id: int, channel: str) -> str:
    """The budget row of one channel (or DM) of a workspace."""
    return f"c:{workspace_id}:{channel}"[:160]


class SharedBudget:
    """Per-workspace and per-channel slots shared by every process through the `send_budget` table."""

    def __init__(
        self,
        db: Database,
        *,
        workspace_per_sec: float,
        channel_per_sec: float,
        spread: float = 0.5,
        sleep: Sleep = asyncio.sleep,
        on_wait: Callable[[float], object] | None = None,
    ) -> None:
        if not 0 < spread <= 1:
            raise ValueError("spread must be in (0, 1]")
        self.db = db
        self.workspace_window = Window.for_rate(workspace_per_sec)
        self.channel_window = Window.for_rate(channel_per_sec)
        self.spread = spread
        self.sleep = sleep
        self.on_wait = on_wait  # told how long each wait for a slot will be (the metrics count them)
        self.retaken = 0  # slots given up because the taker reached them too late (a stalled process)
        self._offset = 0.0  # this machine's clock less the database's, as last seen by a take
        # One statement is its own transaction: no BEGIN and COMMIT round trips around each slot.
        self.engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _guard(self, window: Window) -> float:
        """From this far before a window's end, takers get slots of the next one (see too_late)."""
        return window.length * (1 - self.spread) / 2

    def _slot_time(self, window: Window, window_no: int, used: int) -> tuple[float, float]:
        """When a slot is, and from when it is too late for it (the request could land in the next window)."""
        start = window_no * window.length
        return start + (used - 1) * window.length * self.spread / window.per_window, start + window.length * (1 + self.spread) / 2

    async def _slot(self, scope: str, window: Window, *, strict: bool) -> tuple[float, float]:
        """Take the next free slot of a scope; returns (seconds to wait for it, 0 when it is now; its time)."""
        while True:
            async with self.engine.connect() as conn:
                params = {"scope": scope, "length": window.length, "per_window": window.per_window, "guard": self._guard(window)}
                row = (await conn.execute(_TAKE, params)).one()
            now = self._seen(float(row[2]))
            slot, too_late = self._slot_time(window, int(row[0]), int(row[1]))
            # Reached so late that the request could land in the next window (a stalled process,
            # a long lock wait): that window's room is promised to others, so take a new slot.
            if strict and now >= too_late:
                self.retaken += 1
                continue
            return max(0.0, slot - now), slot

    def _seen(self, database_now: float) -> float:
        """Note the database's clock against this machine's (slot times are the database's); returns it."""
        self._offset = time.time() - database_now
        return database_now

    def too_late(self, slot: float) -> bool:
        """Whether a request leaving now could be counted in a later window than its workspace slot's.

        A slow step between take() and the request (a database write on a loaded machine) can
        make it so; the caller then takes another slot rather than crowd the next window.
        """
        w = self.workspace_window
        start = math.floor(slot / w.length) * w.length
        return time.time() - self._offset >= start + w.length * (1 + self.spread) / 2

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            if self.on_wait is not None:
                self.on_wait(seconds)
            await self.sleep(seconds)

    async def take(self, workspace_id: int, channel: str) -> float:
        """Wait for a slot of the channel, then for one of the workspace; the request may go right after.

        Returns the workspace slot's time (epoch seconds, the database's clock): its window is the
        second the request is counted in, whatever delays the caller meets on its way back. A
        taker woken too late for its slot (a busy process) takes another.
        """
        while True:
            slot = await self._take_once(workspace_id, channel)
            if not self.too_late(slot):
                return slot
            self.retaken += 1

    async def _take_once(self, workspace_id: int, channel: str) -> float:
        """One try at take(): the slot may be too late by the time the wait for it ends.

        The channel's slot comes first: a workspace slot held while waiting for a busy channel
        would be wasted, and the workspace's room is the scarce one. A channel's slot reached
        late is kept (Slack tolerates a short burst in one channel); a workspace's is not.
        """
        c, w = self.channel_window, self.workspace_window
        params = {
            # A channel's slot reached late is kept (below), so its window is the current one.
            "c_scope": channel_scope(workspace_id, channel), "c_length": c.length, "c_per_window": c.per_window, "c_guard": 0.0,
            "w_scope": workspace_scope(workspace_id), "w_length": w.length, "w_per_window": w.per_window, "w_guard": self._guard(w),
        }
        async with self.engine.connect() as conn:
            row = (await conn.execute(_TAKE_BOTH, params)).one()
        now = self._seen(float(row[4]))
        c_slot, _ = self._slot_time(c, int(row[0]), int(row[1]))
        w_slot, w_late = self._slot_time(w, int(row[2]), int(row[3]))
        if c_slot <= w_slot and now < w_late:
            await self._wait(w_slot - now)  # the usual case: a quiet channel, one round trip
            return w_slot
        # A busy channel (or a stalled taker): wait for the channel, then take a workspace slot afresh.
        self.retaken += 1
        await self._wait(c_slot - now)
        wait, slot = await self._slot(workspace_scope(workspace_id), w, strict=True)
        await self._wait(wait)
        return slot

    async def pause(self, workspace_id: int, seconds: float) -> None:
        """Slack answered 429 with Retry-After: no process sends to this workspace for `seconds`."""
        w = self.workspace_window
        async with self.engine.connect() as conn:
            await conn.execute(_PAUSE, {"scope": workspace_scope(workspace_id), "seconds": float(seconds), "length": w.length, "per_window": w.per_window})
