"""The scheduler: ticks that decide what is due and enqueue it, and the sender that drains the outbox.

APScheduler 3's AsyncIOScheduler runs one interval tick per registered job, with an
in-memory job store that is never shared between processes: a tick only asks the job's
composer what is due at `deps.clock()` and inserts it into the outbox, whose unique keys
make a second tick (or a second clock process) harmless. The first ticks run at start, so
whatever is still due inside its window after downtime is sent at once; what has passed its
window is skipped and logged by the sender.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timezone

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deps import Deps
from jobs.base import Composer
from jobs.outbox import Sender, SenderConfig, enqueue, make_sender_client, shared_budget_for
from jobs.registry import load_jobs
from jobs.ticklock import TickLock, retry_seconds_from_env

log = logging.getLogger(__name__)

TICK_ENV = "SALESBOT_TICK_SECONDS"
ONLY_ENV = "SALESBOT_JOBS"  # comma-separated job names this process ticks (default: every registered job)
DEFAULT_TICK_SECONDS = 60.0


class Clockwork:
    """The scheduler's ticks and the outbox sender of one process."""

    def __init__(
        self, deps: Deps, sender: Sender, *, jobs: dict[str, Composer], tick_seconds: float = DEFAULT_TICK_SECONDS, lock_retry_seconds: float | None = None
    ) -> None:
        self.deps = deps
        self.sender = sender
        self.jobs = jobs
        self.tick_seconds = tick_seconds
        self.scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=timezone.utc)
        self._sender_task: asyncio.Task | None = None
        self._ticks = 0  # ticks running now; stop() lets them finish rather than cancel them
        self._idle = asyncio.Event()
        self._idle.set()
        # On PostgreSQL only the holder of the tick lock ticks (clocks may run for failover).
        self.lock: TickLock | None = None
        if deps.db.engine.dialect.name == "postgresql":
            self.lock = TickLock(deps.db, name=sender.name, on_change=self._lock_changed, retry_seconds=lock_retry_seconds or retry_seconds_from_env())
        self._lock_task: asyncio.Task | None = None

    async def _scheduled_tick(self, name: str) -> int:
        """The scheduler's tick: only while this process holds the tick lock (where there is one)."""
        if self.lock is not None and not self.lock.held:
            return 0  # the lock was lost since this run was scheduled
        return await self.tick(name)

    async def tick(self, name: str) -> int:
        """Compose one job at the clock's now and enqueue its posts; returns how many were new."""
        composer = self.jobs[name]
        now = self.deps.clock()
        self._ticks += 1
        self._idle.clear()
        try:
            async with self.deps.db.sessionmaker() as session:
                posts = await composer(self.deps, session, now=now)
                new = await enqueue(session, posts)
                await session.commit()
        except Exception:
            self.deps.metrics.tick(name, ok=False)
            raise
        finally:
            self._ticks -= 1
            if self._ticks == 0:
                self._idle.set()
        self.deps.metrics.tick(name, ok=True, new=new)
        if new:
            log.info("tick %s at %s: %d new posts (%d composed)", name, now.isoformat(), new, len(posts))
            self.sender.wake()
        return new

    def start(self) -> None:
        """Start the ticks (the first at once) and the sender loop on the running event loop."""
        first = datetime.now(timezone.utc)
        if not log.isEnabledFor(logging.DEBUG):
            # APScheduler logs every run of every tick at INFO: noise in a clock's log.
            logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        for name in sorted(self.jobs):
            self.scheduler.add_job(
                self._scheduled_tick,
                "interval",
                seconds=self.tick_seconds,
                args=[name],
                id=f"tick:{name}",
                next_run_time=first,
                max_instances=1,  # a slow tick is not started twice; the next one catches up
                coalesce=True,
                misfire_grace_time=None,
            )
        # With a lock the ticks wait, paused, until this process holds it.
        self.scheduler.start(paused=self.lock is not None)
        if self.lock is not None:
            self._lock_task = asyncio.create_task(self.lock.run(), name="tick-lock")
        self.deps.metrics.ticking.set(1 if self.lock is None else 0)
        self._sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        if self.jobs:
            log.info("scheduler started: %s every %gs; outbox sender running", ", ".join(sorted(self.jobs)), self.tick_seconds)
        else:
            log.info("scheduler started with no jobs registered; outbox sender running")

    def _lock_changed(self, held: bool) -> None:
        """Tick from now on when the lock was taken; pause when it was lost."""
        if not self.scheduler.running:
            return
        self.deps.metrics.ticking.set(1 if held else 0)
        if held:
            now = datetime.now(timezone.utc)
            for job in self.scheduler.get_jobs():
                job.modify(next_run_time=now)  # the first tick at once, as at start
            self.scheduler.resume()
        else:
            self.scheduler.pause()

    async def stop(self, *, timeout: float | None = None) -> None:
        """Stop ticking; let requests in flight finish (up to `timeout`) and hand back rows not yet sent."""
        if self.scheduler.running:
            self.scheduler.pause()
            # A tick cut off mid-commit would only roll back, but cancelling database I/O
            # leaves connections half-closed; ticks are short, so let them end.
            await self._idle.wait()
            self.scheduler.shutdown(wait=False)
            self.deps.metrics.ticking.set(0)
        if self._lock_task is not None:
            self._lock_task.cancel()
            await asyncio.gather(self._lock_task, return_exceptions=True)
            self._lock_task = None
        self.sender.stop()
        if self._sender_task is not None:
            # A request in flight ends by its own timeout at the latest; the bound only guards
            # against a hang elsewhere (its rows are then recovered after their lease).
            bound = timeout if timeout is not None else self.sender.config.request_timeout + 5
            try:
                await asyncio.wait_for(asyncio.shield(self._sender_task), bound)
            except asyncio.TimeoutError:
                log.warning("outbox sender did not stop within %gs; leaving its rows to the lease", bound)
                self._sender_task.cancel()
                await asyncio.gather(self._sender_task, return_exceptions=True)
            self._sender_task = None


def tick_seconds_from_env() -> float:
    """SALESBOT_TICK_SECONDS, or one minute."""
    raw = os.environ.get(TICK_ENV, "").strip()
    try:
        return float(raw) if raw else DEFAULT_TICK_SECONDS
    except ValueError:
        raise ValueError(f"{TICK_ENV} must be a number of seconds") from None


def build_clockwork(deps: Deps, *, config: SenderConfig | None = None, jobs: dict[str, Composer] | None = None, tick_seconds: float | None = None) -> Clockwork:
    """The scheduler and sender for `salesbot run` and `salesbot clock`, configured from the environment."""
    config = config or SenderConfig.from_env()
    shared = shared_budget_for(deps.db, config, metrics=deps.metrics)
    sender = Sender(
        deps.db, make_sender_client(deps.settings, config), config=config, clock=deps.clock, i18n=deps.i18n, admins=deps.settings.admins,
        metrics=deps.metrics, shared=shared, tokens=deps.tokens,
    )
    if jobs is None:
        only = [n.strip() for n in os.environ.get(ONLY_ENV, "").split(",") if n.strip()]
        jobs = load_jobs(only or None)
    return Clockwork(deps, sender, jobs=jobs, tick_seconds=tick_seconds or tick_seconds_from_env())
