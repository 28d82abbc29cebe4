"""One clock ticks: a PostgreSQL session-level advisory lock held on a connection kept open.

Several `salesbot clock` processes may run for failover. The one holding the lock runs the
scheduler's ticks; the others try again every few seconds. The lock belongs to the database
session, so when its holder dies the connection closes, PostgreSQL releases the lock and the
next try of another clock takes it. Senders are not gated: every clock drains the outbox
(SKIP LOCKED shares the rows). On SQLite (one machine) there is no lock and every process ticks.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database

log = logging.getLogger(__name__)

# Any constant below 2**31 (then pg_locks shows it in objid, classid 0); "salesbot ticks".
LOCK_KEY = 0x5B_71C4
RETRY_ENV = "SALESBOT_LOCK_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 5.0

_HOLDER = text(
    "SELECT l.pid, a.application_name, a.client_addr FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def retry_seconds_from_env() -> float:
    """SALESBOT_LOCK_RETRY_SECONDS, or five seconds."""
    raw = os.environ.get(RETRY_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_RETRY_SECONDS
    except ValueError:
        raise ValueError(f"{RETRY_ENV} must be a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{RETRY_ENV} must be positive")
    return value


class TickLock:
    """Tries for the tick lock until it holds it, checks it stays held, and says when that changes."""

    def __init__(self, db: Database, *, name: str, on_change: Callable[[bool], None], retry_seconds: float = DEFAULT_RETRY_SECONDS) -> None:
        self.db = db
        self.name = name
        self.on_change = on_change
        self.retry_seconds = retry_seconds
        self.held = False
        self._conn: AsyncConnection | None = None
        self._last_holder: object = None

    async def run(self) -> None:
        """Until cancelled: take the lock when free, and notice when its connection is lost."""
        try:
            while True:
                try:
                    await self._step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database went away: whatever we held is gone with it
                    log.warning("tick lock: database connection lost (%s: %s); trying again in %gs", type(exc).__name__, exc, self.retry_seconds)
                    await self._drop()
                await asyncio.sleep(self.retry_seconds)
        finally:
            await asyncio.shield(self.release())

    async def _step(self) -> None:
        if self._conn is None:
            conn = await self.db.engine.connect()
            # Autocommit: the session lock outlives transactions, and waiting must not sit idle in one.
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            # Named after this process, so the clocks that wait can say who holds the lock.
            await self._conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": f"salesbot {self.name}"[:63]})
        if self.held:
            await self._conn.execute(text("SELECT 1"))  # the lock lives as long as this connection
            return
        got = (await self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})).scalar()
        if got:
            pid = (await self._conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            self.held = True
            log.info("tick lock: %s holds it (backend pid %s); this process ticks", self.name, pid)
            self.on_change(True)
            return
        holder = (await self._conn.execute(_HOLDER, {"key": LOCK_KEY})).first()
        described = tuple(holder) if holder else None
        if described != self._last_holder:
            self._last_holder = described
            if holder:
                log.info("tick lock: held by %s (backend pid %s, from %s); %s waits and retries every %gs", holder[1] or "another clock", holder[0], holder[2] or "local socket", self.name, self.retry_seconds)
            else:
                log.info("tick lock: taken by another clock; %s waits and retries every %gs", self.name, self.retry_seconds)

    async def _drop(self) -> None:
        if self.held:
            self.held = False
            self.on_change(False)
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                # Invalidate rather than return it to the pool: a pooled connection would keep the lock.
                await conn.invalidate()
                await conn.close()
            except Exception:  # already broken: nothing left to release
                pass

    async def release(self) -> None:
        """Give the lock up by closing its connection (the other clocks take it at their next try)."""
        was_held = self.held
        await self._drop()
        if was_held:
            log.info("tick lock: released by %s", self.name)
