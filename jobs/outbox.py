"""The outbox: scheduled posts stored once under a unique key, claimed and sent exactly once.

A composer's posts are inserted with conflict-do-nothing on `key`, so two ticks or two clock
processes enqueue a post once. The sender claims due rows atomically (PostgreSQL: `FOR
UPDATE SKIP LOCKED`; SQLite: one conditional UPDATE, the database's single writer does the
rest), keeps its own budget per workspace and per channel, and records every outcome:

    pending ──claim──▶ sending ──ok──▶ sent
       ▲                  │ 429: wait Retry-After, not a failure
       └──────────────────┤ 5xx, no connection: back off, attempts + 1 ──(max)──▶ dead (+ admins told once)
                          │ timeout or lost connection after the request left ──▶ unknown (held for review)
                          └ past expires_at ──▶ skipped

A row stuck in `sending` past its lease belongs to a process that died: if the request had
not left yet (`sending_started_at` is empty) it goes back to `pending`, otherwise its
outcome is unknown and it is held, never resent blindly (chat.postMessage has no
idempotency key: a second request could post twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.i18n import I18n
from bot.installations import BotTokens
from bot.metrics import DEPTH_STATUSES, Metrics
from bot.models import Member, OutboxMessage, OutboxStatus, SalesTeam, utcnow
from bot.settings import Settings
from bot.text import SlackSafe, mention, truncate
from bot.services.outbox import decode_payload, encode_payload, enqueue, resolve_files  # noqa: F401 - kept importable from here
from bot.services.sendbudget import SharedBudget
from bot.services.roster import managers_of
from jobs import webhooks
from jobs.base import Post

log = logging.getLogger(__name__)

TERMINAL = frozenset({OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.SKIPPED, OutboxStatus.UNKNOWN, OutboxStatus.CANCELLED})
NOTICE_JOB = "outbox.dead"  # the admins' notice about a dead post (never itself reported)
# Slack's answers when the app is no longer installed in the workspace (OAuth mode: the post is cancelled).
NOT_INSTALLED = frozenset({"token_revoked", "invalid_auth", "account_inactive", "not_authed"})
_CHUNK = 500  # rows or keys per statement: well under SQLite's and asyncpg's parameter limits


# ---------------------------------------------------------------------------- enqueue
# Storing posts is a service (listeners queue what they could not deliver at once); re-exported here.


REVIEWABLE = (OutboxStatus.UNKNOWN, OutboxStatus.DEAD)


async def rows_for_review(session: AsyncSession, *, statuses: Sequence[OutboxStatus] = REVIEWABLE, limit: int = 200) -> list[OutboxMessage]:
    """Posts an operator should look at (by default: outcome unknown, or dead), oldest first."""
    q = select(OutboxMessage).where(OutboxMessage.status.in_(list(statuses))).order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit)
    return list((await session.execute(q)).scalars())


async def resolve_for_review(session: AsyncSession, *, key: str, to: OutboxStatus) -> bool:
    """Settle an unknown or dead post: `sent` (it did arrive) or `pending` (send it again, attempts reset)."""
    if to not in (OutboxStatus.SENT, OutboxStatus.PENDING):
        raise ValueError("a reviewed post becomes sent or pending")
    values: dict = {"status": to, "claimed_by": None, "claimed_at": None, "sending_started_at": None}
    if to == OutboxStatus.PENDING:
        values.update(attempts=0, not_before=utcnow(), expires_at=None)
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status.in_(list(REVIEWABLE))).values(**values)
    )
    return result.rowcount == 1


async def status_counts(session: AsyncSession, keys: Sequence[str]) -> dict[OutboxStatus, int]:
    """How many of the given keys' rows are in each status (keys not in the outbox are not counted)."""
    counts: dict[OutboxStatus, int] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        rows = await session.execute(
            select(OutboxMessage.status, func.count()).where(OutboxMessage.key.in_(chunk)).group_by(OutboxMessage.status)
        )
        for status, n in rows.all():
            counts[OutboxStatus(status)] = counts.get(OutboxStatus(status), 0) + n
    return counts


# ---------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SenderConfig:
    """The sender's budget and patience; every value can be set from the environment.

    Rates are Slack's published ones for chat.postMessage: about one post per second per
    channel, and a few hundred a minute per workspace (`workspace_burst` posts may go at once).
    """

    per_channel_per_sec: float = 1.0
    workspace_per_min: float = 300.0
    workspace_burst: int = 10
    max_attempts: int = 5
    backoff_base: float = 2.0  # seconds before the first retry; doubled on each further failure
    backoff_max: float = 300.0
    lease_seconds: float = 120.0  # a row in `sending` longer than this belongs to a dead process
    request_timeout: float = 30.0
    batch_size: int = 10
    concurrency: int = 4
    poll_seconds: float = 1.0

    ENV = {
        "per_channel_per_sec": "SALESBOT_SEND_PER_CHANNEL_PER_SEC",
        "workspace_per_min": "SALESBOT_SEND_PER_MIN",
        "workspace_burst": "SALESBOT_SEND_BURST",
        "max_attempts": "SALESBOT_SEND_MAX_ATTEMPTS",
        "backoff_base": "SALESBOT_SEND_BACKOFF",
        "backoff_max": "SALESBOT_SEND_BACKOFF_MAX",
        "lease_seconds": "SALESBOT_SEND_LEASE",
        "request_timeout": "SALESBOT_SEND_TIMEOUT",
        "batch_size": "SALESBOT_SEND_BATCH",
        "concurrency": "SALESBOT_SEND_CONCURRENCY",
        "poll_seconds": "SALESBOT_SEND_POLL",
    }

    def __post_init__(self) -> None:
        if self.per_channel_per_sec <= 0 or self.workspace_per_min <= 0 or self.workspace_burst < 1:
            raise ValueError("sender rates must be positive")
        if self.max_attempts < 1 or self.concurrency < 1 or self.batch_size < 1:
            raise ValueError("max attempts, concurrency and batch size must be at least 1")
        # A live request must never look abandoned, or a second process would judge it.
        if self.lease_seconds <= self.request_timeout:
            raise ValueError("the lease must be longer than the request timeout")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> SenderConfig:
        """Defaults, then SALESBOT_SEND_* variables, then keyword overrides."""
        env = os.environ if env is None else env
        kw: dict[str, Any] = {}
        for f in fields(cls):
            var = cls.ENV.get(f.name)
            if var and env.get(var, "").strip():
                cast = int if f.type in ("int", int) else float
                try:
                    kw[f.name] = cast(env[var])
                except ValueError:
                    raise ValueError(f"{var} must be a number") from None
        kw.update(overrides)
        return cls(**kw)


def make_sender_client(settings: Settings, config: SenderConfig) -> AsyncWebClient:
    """A Web API client for the sender, with no automatic retries at all.

    The bot's own client (bot.slackapi.make_client) retries 429s and dropped connections by itself.
    The sender must not: a hidden 429 retry would spend budget the sender does not see, and
    slack_sdk's default connection-error retry would resend a chat.postMessage that may
    already have been posted. The sender decides every retry itself.
    """
    kwargs: dict[str, Any] = {"token": settings.slack_bot_token, "timeout": int(max(1, config.request_timeout)), "retry_handlers": []}
    if settings.api_url:
        kwargs["base_url"] = settings.api_url
    return AsyncWebClient(**kwargs)


# ---------------------------------------------------------------------------- budget

# The budget's notion of time: seconds from a monotonic clock, and a way to wait for them to pass.
# Production uses the real ones; tests pass a virtual clock, so hours of rate limits take no time.
Timer = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class TokenBucket:
    """A rate (tokens per second) with a burst, and a pause Slack can impose (Retry-After)."""

    def __init__(self, rate: float, burst: float = 1.0, *, timer: Timer = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst)
        self.tokens = self.capacity
        self.timer = timer
        self.updated = timer()
        self.paused_until = 0.0
        self.lock = asyncio.Lock()  # takers of one bucket are served in arrival order
        self.last_request = float("-inf")

    def pause(self, seconds: float) -> None:
        """Hold every taker for `seconds` (Slack said Retry-After)."""
        self.paused_until = max(self.paused_until, self.timer() + seconds)
        self.tokens = min(self.tokens, 1.0)  # no burst right after a rate limit

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0 when one is)."""
        # Nothing accrues during a pause, or a long Retry-After would end in a full burst.
        accrue_from = max(self.updated, min(now, self.paused_until))
        self.tokens = min(self.capacity, self.tokens + (now - accrue_from) * self.rate)
        self.updated = now
        if now < self.paused_until:
            return self.paused_until - now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def spend(self) -> None:
        """Use one token (after wait_time said one is there)."""
        self.tokens -= 1.0

    async def wait_paused(self, sleep: Sleep) -> None:
        """Wait out a pause Slack imposed on this process (the rate itself is kept elsewhere)."""
        wait = self.paused_until - self.timer()
        if wait > 0:
            await sleep(wait)


class Budget:
    """Per-workspace and per-channel buckets of one sender process."""

    def __init__(self, config: SenderConfig, *, timer: Timer = time.monotonic, sleep: Sleep = asyncio.sleep, on_wait: Callable[[float], object] | None = None) -> None:
        self.config = config
        self.timer = timer
        self.sleep = sleep
        self.on_wait = on_wait  # told how long each wait for budget will be (the metrics count them)
        self._workspaces: dict[int, TokenBucket] = {}
        self._channels: dict[tuple[int, str], TokenBucket] = {}

    def workspace(self, workspace_id: int) -> TokenBucket:
        """The workspace-wide bucket."""
        if workspace_id not in self._workspaces:
            self._workspaces[workspace_id] = TokenBucket(self.config.workspace_per_min / 60.0, self.config.workspace_burst, timer=self.timer)
        return self._workspaces[workspace_id]

    def channel(self, workspace_id: int, channel: str) -> TokenBucket:
        """One channel's bucket (no burst: Slack allows about one post a second per channel)."""
        key = (workspace_id, channel)
        if key not in self._channels:
            self._channels[key] = TokenBucket(self.config.per_channel_per_sec, 1.0, timer=self.timer)
        return self._channels[key]

    async def take(self, workspace_id: int, channel: str) -> None:
        """Wait until one more request to `channel` fits both budgets, then spend both at once.

        Both tokens are spent in the same instant, right before the request: a token taken
        early and then held while waiting for the other would let requests bunch up later.
        """
        ws, ch = self.workspace(workspace_id), self.channel(workspace_id, channel)
        async with ch.lock:
            while True:
                now = self.timer()
                wait = max(ch.wait_time(now), ws.wait_time(now))
                if wait <= 0:
                    ch.spend()
                    ws.spend()
                    return
                if self.on_wait is not None:
                    self.on_wait(wait)
                await self.sleep(wait)

    async def pace(self, workspace_id: int, channel: str) -> None:
        """Right before a request: keep the channel's spacing even if the steps since take() were slow.

        A database commit between take() and the request can delay one request and not the
        next; Slack counts requests as they arrive, so the last gap is checked again here.
        """
        ch = self.channel(workspace_id, channel)
        wait = ch.last_request + 1.0 / ch.rate - self.timer()
        if wait > 0:
            await self.sleep(wait)
        ch.last_request = self.timer()


def shared_budget_for(db: Database, config: SenderConfig, *, metrics: Metrics | None = None, sleep: Sleep = asyncio.sleep) -> SharedBudget | None:
    """On PostgreSQL, the budget every process shares (clocks, `jobs run`, web processes); None on SQLite (one process, in-process budget)."""
    if db.engine.dialect.name != "postgresql":
        return None
    return SharedBudget(
        db,
        workspace_per_sec=config.workspace_per_min / 60.0,
        channel_per_sec=config.per_channel_per_sec,
        sleep=sleep,
        on_wait=metrics.budget_wait if metrics is not None else None,
    )


# ---------------------------------------------------------------------------- the per-tick queries


def due_query(now: datetime, *, limit: int, keys: Sequence[str] | None = None):
    """The ids a claim takes: pending and due, oldest first (a range of the partial index ix_outbox_pending_due)."""
    t = OutboxMessage
    due = select(t.id).where(t.status == OutboxStatus.PENDING, t.not_before <= now)
    if keys is not None:
        due = due.where(t.key.in_(list(keys)))
    return due.order_by(t.not_before, t.id).limit(limit)


def tick_queries(now: datetime, *, lease_seconds: float = SenderConfig.lease_seconds) -> dict[str, Any]:
    """The reads every sender pass and every scrape makes, as statements whose plans an operator can check."""
    t = OutboxMessage
    stale_cutoff = now - timedelta(seconds=lease_seconds)
    return {
        "claim": due_query(now, limit=SenderConfig.batch_size),
        "expired": select(t.id).where(t.status == OutboxStatus.PENDING, t.expires_at.is_not(None), t.expires_at <= now),
        "stale": select(t.id).where(t.status == OutboxStatus.SENDING, func.coalesce(t.sending_started_at, t.claimed_at) < stale_cutoff),
        "depth": select(t.status, func.count()).where(t.status.in_(DEPTH_STATUSES)).group_by(t.status),
    }


async def explain(db: Database, stmt) -> str:
    """The database's plan for a statement: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite, as text lines."""
    async with db.engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        rows = (await conn.exec_driver_sql(prefix + str(compiled))).all()
    return "\n".join(str(r[-1]) for r in rows)


# ---------------------------------------------------------------------------- the sender


def _process_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(value, list):
        value = value[0] if value else "1"
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0


def _is_user_id(channel: str) -> bool:
    return channel[:1] in ("U", "W")


class _Stop(Exception):
    """The sender is stopping: the row goes back to pending untouched."""


class Sender:
    """Drains the outbox: claims due rows, sends them within budget, records each outcome."""

    def __init__(
        self,
        db: Database,
        client: AsyncWebClient,
        *,
        config: SenderConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
        i18n: I18n | None = None,
        admins: Iterable[str] = (),
        name: str | None = None,
        timer: Timer = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        metrics: Metrics | None = None,
        tokens: BotTokens | None = None,
        shared: SharedBudget | None = None,
    ) -> None:
        self.db = db
        # OAuth mode: each row is sent with its workspace's own token (token mode: the client's).
        self.tokens = tokens if tokens is not None and tokens.per_workspace else None
        self._clients: dict[str, AsyncWebClient] = {}
        # A write of one statement commits by itself: no BEGIN and COMMIT round trips (three writes per post).
        self._single_statements = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._http: aiohttp.ClientSession | None = None  # kept-alive connections to Slack while run() or deliver() goes on
        self.metrics = metrics if metrics is not None else Metrics()
        self.client = client
        self.config = config or SenderConfig()
        self.clock = clock  # the job clock: decides what is due and what has expired
        self.sleep = sleep  # every wait for budget, backoff or a retry comes due through it
        self.i18n = i18n or I18n()
        self.admins = frozenset(admins)
        self.name = (name or _process_name())[:48]
        self.budget = Budget(self.config, timer=timer, sleep=sleep, on_wait=self.metrics.budget_wait)
        # With a shared budget (PostgreSQL) its slots decide; the in-process buckets only keep Retry-After pauses.
        self.shared = shared
        self._dm_channels: dict[tuple[int, str], str] = {}
        self._dm_locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    # -- public ------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were enqueued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the requests in flight, hand back rows not started, and return from run()."""
        self._stopping.set()
        self._wake.set()

    @contextlib.asynccontextmanager
    async def _connections(self):
        """One pool of kept-alive connections to Slack while the sender works.

        Without it slack_sdk opens a new connection (and, to Slack, a new TLS handshake) for
        every request: more time and CPU than the post itself costs.
        """
        if self._http is not None or not isinstance(self.client, AsyncWebClient) or self.client.session is not None:
            yield  # already kept alive (a client given its own session keeps it)
            return
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.request_timeout)) as http:
            self._http, self._clients = http, {}
            try:
                yield
            finally:
                self._http, self._clients = None, {}

    async def run(self) -> None:
        """Send due rows until stop() is called."""
        async with self._connections():
            await self._run()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                claimed = await self.drain_once()
            except Exception:  # a database hiccup must not end the clock process
                log.exception("outbox: drain failed; trying again shortly")
                claimed = 0
            if claimed == 0 and not self._stopping.is_set():
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)
                except asyncio.TimeoutError:
                    pass

    async def deliver(self, keys: Sequence[str]) -> dict[OutboxStatus, int]:
        """Send the rows with these keys until each is sent, dead, skipped or unknown."""
        async with self._connections():
            return await self._deliver(list(dict.fromkeys(keys)))

    async def _deliver(self, keys: list[str]) -> dict[OutboxStatus, int]:
        while True:
            claimed = 0
            for start in range(0, len(keys), _CHUNK):
                claimed += await self.drain_once(keys=keys[start : start + _CHUNK])
            async with self.db.sessionmaker() as session:
                counts = await status_counts(session, keys)
            if all(status in TERMINAL for status in counts):
                return counts
            if claimed == 0:
                # Another process holds some rows, or a retry is not due yet.
                await self.sleep(min(self.config.poll_seconds, 0.2))

    async def drain_once(self, *, keys: Sequence[str] | None = None) -> int:
        """One pass: recover abandoned rows, skip expired ones, claim a batch and send it."""
        await self.recover_stale(keys=keys)
        await self.skip_expired(keys=keys)
        rows = await self.claim(limit=self.config.batch_size, keys=keys)
        if not rows:
            return 0
        members = await self._members_for(rows)
        gate = asyncio.Semaphore(self.config.concurrency)
        handed_back: list[str] = []

        async def one(row: OutboxMessage) -> None:
            async with gate:
                try:
                    await self._send(row, members.get((row.workspace_id, row.channel)))
                except _Stop:
                    # Stopping: back to pending as if never claimed, for the next sender at once.
                    await self._release(row, not_before=row.not_before, error=None)
                    handed_back.append(row.key)
                except Exception as exc:  # a bug must not leave the row claimed forever
                    log.exception("outbox: sending %s failed unexpectedly", row.key)
                    await self._unknown(row, f"unexpected: {type(exc).__name__}: {exc}")

        await asyncio.gather(*(one(r) for r in rows))
        if handed_back:
            log.info("outbox: stopping; handed back %d claimed posts not sent: %s", len(handed_back), ", ".join(handed_back[:10]))
        return len(rows)

    # -- database steps ---------------------------------------------------------------

    async def recover_stale(self, *, keys: Sequence[str] | None = None) -> int:
        """Rows left in `sending` by a process that died: never sent → pending; maybe sent → unknown."""
        cutoff = utcnow() - timedelta(seconds=self.config.lease_seconds)
        t = OutboxMessage
        stale = [t.status == OutboxStatus.SENDING, func.coalesce(t.sending_started_at, t.claimed_at) < cutoff]
        if keys is not None:
            stale.append(t.key.in_(list(keys)))
        async with self.db.sessionmaker() as session:
            back = await session.execute(
                update(t)
                .where(*stale, t.sending_started_at.is_(None))
                .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
                .returning(t.key)
            )
            requeued = back.scalars().all()
            held = await session.execute(
                update(t)
                .where(*stale, t.sending_started_at.is_not(None))
                .values(status=OutboxStatus.UNKNOWN, last_error="the sending process stopped during the request; the post may exist")
                .returning(t.key)
            )
            unknown = held.scalars().all()
            await session.commit()
        if requeued:
            log.warning("outbox: %d claimed rows of a stopped process were never sent; sending them again: %s", len(requeued), ", ".join(requeued[:10]))
        if unknown:
            log.error("outbox: %d posts were in flight when their process stopped; held for review as unknown: %s", len(unknown), ", ".join(unknown[:10]))
        return len(requeued) + len(unknown)

    async def skip_expired(self, *, keys: Sequence[str] | None = None) -> int:
        """Pending rows past their window are skipped (and logged), never sent late."""
        t = OutboxMessage
        cond = [t.status == OutboxStatus.PENDING, t.expires_at.is_not(None), t.expires_at <= self.clock()]
        if keys is not None:
            cond.append(t.key.in_(list(keys)))
        async with self.db.sessionmaker() as session:
            res = await session.execute(update(t).where(*cond).values(status=OutboxStatus.SKIPPED, last_error="past its window").returning(t.key))
            skipped = res.scalars().all()
            await session.commit()
        if skipped:
            log.warning("outbox: skipped %d posts past their window: %s", len(skipped), ", ".join(skipped[:10]))
        return len(skipped)

    async def claim(self, *, limit: int, keys: Sequence[str] | None = None) -> list[OutboxMessage]:
        """Atomically take up to `limit` due rows for this process."""
        t = OutboxMessage
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        due = due_query(self.clock(), limit=limit, keys=keys)
        values = dict(status=OutboxStatus.SENDING, claimed_by=token, claimed_at=utcnow(), sending_started_at=None)
        async with self.db.sessionmaker() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Lock the chosen rows first (rows another sender is claiming are passed over, not
                # waited for), then update exactly those. A SKIP LOCKED subquery inside the UPDATE
                # may be run again for each row the planner joins, each time skipping the rows just
                # locked: on a large outbox one claim took thousands of rows instead of `limit`.
                ids = list((await session.execute(due.with_for_update(skip_locked=True))).scalars())
                if ids:
                    await session.execute(update(t).where(t.id.in_(ids)).values(**values).execution_options(synchronize_session=False))
            else:
                # One statement: on SQLite it takes the write lock at once (no read-then-write
                # upgrade that a second process could invalidate); the status test makes it
                # conditional, so a row is never claimed twice.
                await session.execute(
                    update(t)
                    .where(t.id.in_(due.scalar_subquery()), t.status == OutboxStatus.PENDING)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            rows = (await session.execute(select(t).where(t.claimed_by == token, t.status == OutboxStatus.SENDING).order_by(t.not_before, t.id))).scalars().all()
            await session.commit()
        return list(rows)

    async def _update_claimed(self, row: OutboxMessage, **values: Any) -> bool:
        """Change a row this process still holds; False when it was taken away (lease expired)."""
        t = OutboxMessage
        async with self._single_statements.connect() as conn:
            res = await conn.execute(update(t).where(t.id == row.id, t.status == OutboxStatus.SENDING, t.claimed_by == row.claimed_by).values(**values))
        if res.rowcount != 1:
            log.error("outbox: %s was taken from this process before it finished (lease too short?)", row.key)
            return False
        return True

    async def _release(self, row: OutboxMessage, *, not_before: datetime, error: str | None) -> None:
        await self._update_claimed(row, status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None, sending_started_at=None, not_before=not_before, last_error=error)

    async def _unknown(self, row: OutboxMessage, error: str) -> None:
        log.error("outbox: outcome of %s is unknown (%s); held for review, not resent", row.key, error)
        self.metrics.send("unknown")
        await self._update_claimed(row, status=OutboxStatus.UNKNOWN, last_error=truncate(error, 500))

    async def _failed(self, row: OutboxMessage, error: str, *, retryable: bool) -> None:
        """A failed attempt: back off and retry, or give up and tell the admins once."""
        attempts = row.attempts + 1
        error = truncate(error, 500)
        if retryable and attempts < self.config.max_attempts:
            delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempts - 1))
            log.warning("outbox: %s failed (%s), attempt %d; retrying in %.1fs", row.key, error, attempts, delay)
            await self._update_claimed(
                row,
                status=OutboxStatus.PENDING,
                attempts=attempts,
                claimed_by=None,
                claimed_at=None,
                sending_started_at=None,
                not_before=self.clock() + timedelta(seconds=delay),
                last_error=error,
            )
            return
        log.error("outbox: %s is dead after %d attempts: %s", row.key, attempts, error)
        self.metrics.send("dead")
        t = OutboxMessage
        async with self.db.sessionmaker() as session:
            res = await session.execute(
                update(t)
                .where(t.id == row.id, t.status == OutboxStatus.SENDING, t.claimed_by == row.claimed_by)
                .values(status=OutboxStatus.DEAD, attempts=attempts, last_error=error)
            )
            if res.rowcount == 1 and row.job != NOTICE_JOB:
                # Enqueued in the same transaction, under a key per dead row and admin: told once.
                notices = await dead_notices(session, row=row, attempts=attempts, error=error, i18n=self.i18n, admins=self.admins, now=self.clock())
                await enqueue(session, notices)
            await session.commit()
        self.wake()

    # -- one row ---------------------------------------------------------------------

    async def _members_for(self, rows: Sequence[OutboxMessage]) -> dict[tuple[int, str], Member]:
        """The members behind DM rows, in one query (for their cached DM channel ids)."""
        wanted = {(r.workspace_id, r.channel) for r in rows if _is_user_id(r.channel)}
        if not wanted:
            return {}
        async with self.db.sessionmaker() as session:
            found = await session.execute(
                select(Member).where(Member.workspace_id.in_({w for w, _ in wanted}), Member.slack_user_id.in_({u for _, u in wanted}))
            )
            return {(m.workspace_id, m.slack_user_id): m for m in found.scalars().all()}

    async def _client_for(self, workspace_id: int) -> AsyncWebClient | None:
        """The client speaking for a row's workspace; None when the app is no longer installed there."""
        if self.tokens is None:
            if self._http is None:
                return self.client
            token = self.client.token
        else:
            token = await self.tokens.for_workspace(workspace_id)
            if token is None:
                return None
        if token not in self._clients:
            base = self.client
            self._clients[token] = AsyncWebClient(token=token, base_url=base.base_url, timeout=base.timeout, retry_handlers=[], session=self._http or base.session)
        return self._clients[token]

    async def _open_dm(self, row: OutboxMessage, member: Member | None, client: AsyncWebClient) -> str:
        """The DM channel for a user id, cached on the member (conversations.open is tier 3)."""
        if member is not None and member.dm_channel_id:
            return member.dm_channel_id
        key = (row.workspace_id, row.channel)
        # Two posts to one member in a batch open the DM once.
        async with self._dm_locks.setdefault(key, asyncio.Lock()):
            if key in self._dm_channels:
                return self._dm_channels[key]
            resp = await client.conversations_open(users=row.channel)
            channel_id = resp["channel"]["id"]
            if member is not None:
                async with self._single_statements.connect() as conn:
                    await conn.execute(update(Member).where(Member.id == member.id).values(dm_channel_id=channel_id))
                member.dm_channel_id = channel_id
            self._dm_channels[key] = channel_id
        return channel_id

    async def _send(self, row: OutboxMessage, member: Member | None) -> None:
        """Send one claimed row and record what happened."""
        payload = decode_payload(row.payload)
        if payload["files"]:
            try:
                async with self.db.sessionmaker() as session:
                    payload["files"] = await resolve_files(session, workspace_id=row.workspace_id, files=payload["files"])
            except LookupError as exc:
                await self._failed(row, str(exc), retryable=False)
                return
        if self._stopping.is_set():
            raise _Stop
        if row.job == webhooks.JOB:  # not a Slack post: at least once, with its own retries
            await webhooks.deliver(self, row)
            return
        client = await self._client_for(row.workspace_id)
        if client is None:
            log.warning("outbox: %s cancelled: the app is not installed in its workspace", row.key)
            self.metrics.send("cancelled")
            await self._update_claimed(row, status=OutboxStatus.CANCELLED, last_error="the app is not installed in the workspace")
            return
        thread_ts = None
        if payload.get("thread_of"):
            thread_ts = await self._thread_ts(row, payload["thread_of"])
            if thread_ts is None:
                return
        try:
            channel = await self._open_dm(row, member, client) if _is_user_id(row.channel) else row.channel
        except SlackApiError as exc:
            await self._api_failure(row, exc)
            return
        except aiohttp.ClientConnectorError as exc:
            await self._failed(row, f"no connection: {exc}", retryable=True)
            return
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            # conversations.open is safe to repeat: opening a DM twice changes nothing.
            await self._failed(row, f"{type(exc).__name__}: {exc}", retryable=True)
            return

        while True:
            slot = await self._take_budget(row.workspace_id, channel)
            if row.expires_at is not None and row.expires_at <= self.clock():
                log.warning("outbox: skipped %s: its window passed while it waited", row.key)
                await self._update_claimed(row, status=OutboxStatus.SKIPPED, last_error="past its window")
                return
            # From here the request may reach Slack: mark it first, so a crash is judged correctly.
            if not await self._update_claimed(row, sending_started_at=utcnow()):
                return
            if slot is None or self.shared is None or not self.shared.too_late(slot):
                break
            # The mark was so slow (a loaded machine) that the request could land in the next
            # second, whose room is promised to others. Not started after all: a crash while it
            # waits for a new slot is judged "never sent", not "unknown".
            self.shared.retaken += 1
            if not await self._update_claimed(row, sending_started_at=None):
                return
        await self._pace(row.workspace_id, channel)
        try:
            resp = await client.chat_postMessage(channel=channel, text=payload["text"], blocks=payload.get("blocks") or None, thread_ts=thread_ts)
        except SlackApiError as exc:
            await self._api_failure(row, exc)
            return
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made, so nothing was posted: safe to retry.
            self.metrics.send("no_connection")
            await self._failed(row, f"no connection: {exc}", retryable=True)
            return
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            # The request left and no answer came: the post may exist. Never resend blindly.
            await self._unknown(row, f"{type(exc).__name__} after the request was sent: {exc}")
            return
        ts = resp.get("ts")
        if not await self._update_claimed(row, status=OutboxStatus.SENT, message_ts=ts, sent_at=utcnow(), last_error=None):
            return
        self.metrics.send("sent")
        if payload["files"]:
            await self._upload_files(row, channel, ts, payload["files"], client)

    async def _thread_ts(self, row: OutboxMessage, parent_key: str) -> str | None:
        """The ts of the post a reply belongs under; None after deferring the reply (parent not sent yet) or skipping it (never will be)."""
        async with self.db.sessionmaker() as session:
            parent = (await session.execute(select(OutboxMessage.status, OutboxMessage.message_ts).where(OutboxMessage.key == parent_key))).first()
        if parent is not None and parent.status == OutboxStatus.SENT and parent.message_ts:
            return parent.message_ts
        if parent is None or parent.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            # Its thread does not exist yet: hand the row back after a pause (so no sender spins on it), no attempt spent.
            await self.sleep(self.config.poll_seconds)
            await self._release(row, not_before=row.not_before, error=None)
            return None
        await self._update_claimed(row, status=OutboxStatus.SKIPPED, last_error=f"its thread's post is {parent.status.value}")
        return None

    async def _take(self, workspace_id: int, channel: str) -> float | None:
        """Wait for one request's budget: the shared slots (returns the slot's time), or this process's buckets."""
        if self.shared is not None:
            await self.budget.workspace(workspace_id).wait_paused(self.sleep)
            return await self.shared.take(workspace_id, channel)
        await self.budget.take(workspace_id, channel)
        return None

    async def _pace(self, workspace_id: int, channel: str) -> None:
        """Right before the request: the in-process channel spacing (a shared slot is checked by its taker)."""
        if self.shared is None:
            await self.budget.pace(workspace_id, channel)

    async def _rate_limited(self, workspace_id: int, seconds: float) -> None:
        """Slack said Retry-After: this process waits, and so does every other one sharing the budget."""
        self.budget.workspace(workspace_id).pause(seconds)
        if self.shared is not None:
            await self.shared.pause(workspace_id, seconds)

    async def _take_budget(self, workspace_id: int, channel: str) -> float | None:
        """Wait for budget, unless the sender is told to stop first (then the row goes back)."""
        take = asyncio.ensure_future(self._take(workspace_id, channel))
        stopping = asyncio.ensure_future(self._stopping.wait())
        done, _ = await asyncio.wait({take, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if take in done:
            stopping.cancel()
            return take.result()
        take.cancel()
        raise _Stop

    async def _api_failure(self, row: OutboxMessage, exc: SlackApiError) -> None:
        status = exc.response.status_code
        code = exc.response.get("error") if hasattr(exc.response, "get") else None
        if self.tokens is not None and code in NOT_INSTALLED:
            # Uninstalled while the token was cached here (another process took the event).
            self.tokens.forget_workspace(row.workspace_id)
            log.warning("outbox: %s cancelled: Slack says %s for its workspace", row.key, code)
            self.metrics.send("cancelled")
            await self._update_claimed(row, status=OutboxStatus.CANCELLED, last_error=f"the app is not installed in the workspace ({code})")
            return
        if status == 429:
            wait = _retry_after(exc)
            self.metrics.send("429")
            # Slack's answer is for the whole workspace: every post there waits, none is failed.
            await self._rate_limited(row.workspace_id, wait)
            log.info("outbox: rate limited on %s; waiting %.0fs", row.key, wait)
            await self._release(row, not_before=row.not_before, error="ratelimited")
            return
        if status >= 500:
            self.metrics.send("5xx")
            await self._failed(row, f"HTTP {status}: {code}", retryable=True)
            return
        # Slack refused the post itself (channel_not_found, not_in_channel, invalid_blocks…):
        # sending it again would be refused again.
        await self._failed(row, str(code or f"HTTP {status}"), retryable=False)

    async def _upload_files(self, row: OutboxMessage, channel: str, ts: str | None, files: list[dict[str, Any]], client: AsyncWebClient) -> None:
        """Upload a sent post's files into its thread; a failure is logged, the post stays sent."""
        uploads = [{"filename": f["filename"], "title": f["title"], "content": f["content"]} for f in files]
        last = ""
        for attempt in range(3):
            await self._take(row.workspace_id, channel)  # the file shows as a message in the thread
            await self._pace(row.workspace_id, channel)
            try:
                await client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=ts)
                return
            except SlackApiError as exc:
                last = str(exc.response.get("error"))
                if exc.response.status_code == 429:
                    await self._rate_limited(row.workspace_id, _retry_after(exc))
                elif exc.response.status_code < 500:
                    break
            except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            await self.sleep(min(self.config.backoff_max, self.config.backoff_base * 2**attempt))
        log.error("outbox: %s was sent but its files could not be uploaded: %s", row.key, last)
        async with self.db.sessionmaker() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(last_error=truncate(f"files: {last}", 500)))
            await session.commit()


# ---------------------------------------------------------------------------- dead-post notices


async def notice_recipients(session: AsyncSession, *, workspace_id: int, channel: str, admins: frozenset[str]) -> list[tuple[str, str]]:
    """Who hears about a dead post: the workspace's admins, else the managers of the post's team.

    Returns (Slack user id, locale) pairs.
    """
    found = await session.execute(
        select(Member.slack_user_id, Member.locale).where(
            Member.workspace_id == workspace_id, or_(Member.is_slack_admin.is_(True), Member.slack_user_id.in_(admins or {""}))
        )
    )
    people = {uid: locale for uid, locale in found.all()}
    for uid in admins:
        people.setdefault(uid, "en-US")
    if people:
        return sorted(people.items())
    # No admin known: the managers of the team the post was for (by recipient or digest channel).
    team_ids = select(Member.team_id).where(Member.workspace_id == workspace_id, Member.slack_user_id == channel, Member.team_id.is_not(None)).union(
        select(SalesTeam.id).where(SalesTeam.workspace_id == workspace_id, SalesTeam.digest_channel_id == channel)
    )
    found_teams = list((await session.execute(team_ids)).scalars())
    managers = await managers_of(session, workspace_id=workspace_id, team_ids=found_teams) if found_teams else []
    if not managers:  # a post for no known team: every manager of the workspace
        managers = await managers_of(session, workspace_id=workspace_id)
    rows = [(m.slack_user_id, m.locale) for m in managers]
    return sorted({uid: locale for uid, locale in rows}.items())


async def dead_notices(session: AsyncSession, *, row: OutboxMessage, attempts: int, error: str, i18n: I18n, admins: frozenset[str], now: datetime) -> list[Post]:
    """One localized DM per admin about one dead post, keyed so each is sent once."""
    recipients = await notice_recipients(session, workspace_id=row.workspace_id, channel=row.channel, admins=admins)
    target = mention(row.channel) if _is_user_id(row.channel) else f"<#{row.channel}>"
    posts = []
    for uid, locale in recipients:
        loc = i18n.get(locale)
        body = loc.md("outbox.dead.body", attempts=attempts, job=row.job, target=SlackSafe(target), error=error, post_key=row.key)
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(body, 3000)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": loc.md("outbox.dead.hint")}]},
        ]
        posts.append(
            Post(
                workspace_id=row.workspace_id,
                key=truncate(f"{NOTICE_JOB}:{row.id}:{uid}", 255),
                job=NOTICE_JOB,
                channel=uid,
                text=loc.t("outbox.dead.text"),
                blocks=blocks,
                not_before=now,
            )
        )
    return posts
