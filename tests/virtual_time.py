"""Virtual time for code that takes its clock and its sleep as dependencies (the outbox's budget).

A wait of a second, or of an hour, ends as soon as the rest of the program has nothing left to
do first; the budget's arithmetic sees exactly the seconds it asked for. So rate-limit tests
assert the same budgets as in real time, without spending that time and without depending on
how fast the machine happens to be.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import math
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp


class VirtualTime:
    """A monotonic clock (`monotonic`), a job clock (`utc`) and `sleep`, all on one virtual timeline.

    Time moves only when everything else is waiting, and then jumps to the earliest wake-up.
    Waiting means: no callback is ready to run, no request of a session made by `session()` is
    on the wire, and no connection of a watched engine is checked out. A request or a query so
    takes no virtual time at all, as in an ideal world, and a moment measured anywhere (by the
    sleeper, or by a server recording when a request arrived) lands on the same timeline.
    A test must not keep a watched connection checked out while it waits (commit first): the
    sleepers would wait for it, and after STALLED real seconds they fail saying so.
    """

    STALLED = 30.0

    def __init__(self, start: datetime, *, engines: tuple[Any, ...] = ()) -> None:
        self.start = start
        self.now = 0.0
        self._pools = [engine.sync_engine.pool for engine in engines]
        self._in_flight = 0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()
        self._advancer: asyncio.Task | None = None
        # (real time.monotonic() of a jump, virtual seconds from then on), to read real timestamps
        self._jumps: list[tuple[float, float]] = [(float("-inf"), 0.0)]

    def monotonic(self) -> float:
        """Virtual seconds since the start."""
        return self.now

    def utc(self) -> datetime:
        """The same moment as an aware datetime (a job clock)."""
        return self.start + timedelta(seconds=self.now)

    def at(self, real_monotonic: float) -> float:
        """The virtual time in force at a real `time.monotonic()` reading taken in this process."""
        i = bisect.bisect_right(self._jumps, (real_monotonic, float("inf"))) - 1
        return self._jumps[i][1]

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` of virtual time have passed."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        wake = loop.create_future()
        # At least one step of the float timeline: a wait too small to move `now` would never end.
        deadline = max(self.now + seconds, math.nextafter(self.now, math.inf))
        heapq.heappush(self._sleepers, (deadline, next(self._order), wake))
        if self._advancer is None or self._advancer.done():
            self._advancer = loop.create_task(self._advance())
        await wake  # a cancelled sleep leaves a cancelled future behind, dropped by _advance

    def session(self, **kw: Any) -> aiohttp.ClientSession:
        """A client session whose requests hold the time still while they are on the wire."""
        trace = aiohttp.TraceConfig()

        async def started(*_args: Any) -> None:
            self._in_flight += 1

        async def ended(*_args: Any) -> None:
            self._in_flight -= 1

        trace.on_request_start.append(started)
        trace.on_request_end.append(ended)
        trace.on_request_exception.append(ended)
        return aiohttp.ClientSession(trace_configs=[trace], **kw)

    def _fail_sleepers(self, message: str) -> None:
        while self._sleepers:
            _, _, wake = heapq.heappop(self._sleepers)
            if not wake.done():
                wake.set_exception(RuntimeError(message))

    def _busy(self) -> bool:
        return self._in_flight > 0 or any(pool.checkedout() for pool in self._pools)

    async def _advance(self) -> None:
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)  # the loop's runnable callbacks (CPython's event loops)
        quiet = 0
        busy_since: float | None = None
        while True:
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                return
            await asyncio.sleep(0)
            if ready is None:
                quiet += 1  # an event loop that does not show its queue: let it run a few rounds
                if quiet < 20:
                    continue
            elif ready:
                continue  # something else can run first; it may start work or sleep less
            if self._busy():
                quiet = 0
                busy_since = busy_since or time.monotonic()
                if time.monotonic() - busy_since > self.STALLED:
                    self._fail_sleepers(f"virtual time stalled: a request or a database connection stayed busy for {self.STALLED:g}s")
                    return
                await asyncio.sleep(0.001)  # a query or request is under way: look again shortly
                continue
            quiet = 0
            busy_since = None
            deadline = self._sleepers[0][0]
            if deadline > self.now:
                self.now = deadline
                self._jumps.append((time.monotonic(), deadline))
            while self._sleepers and self._sleepers[0][0] <= self.now:
                _, _, wake = heapq.heappop(self._sleepers)
                if not wake.done():
                    wake.set_result(None)
