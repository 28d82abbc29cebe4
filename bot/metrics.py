"""What an operator watches: the process's counters in Prometheus text format.

Each process (and each app a test builds) owns its own registry, passed down in Deps, so two
apps in one process never count into each other. Counters move where things happen (the
HTTP edge, the sender, the scheduler); the outbox's depth is read from the database at
scrape time, in one GROUP BY over the rows still in play, a range of the (status, not_before) index.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from bot.db import Database
from bot.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# The outbox's depth: rows waiting, in flight or held for review. Settled rows (sent, skipped)
# are left out: they only grow until pruned, and counting them would scan the whole table.
DEPTH_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNKNOWN, OutboxStatus.DEAD)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Slack gives up on an ack after 3 s: the buckets are finest below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
KINDS = ("command", "action", "view", "event", "options", "shortcut", "other", "unknown")
# Interactive payload types by the kind they are counted as.
_KIND_OF_TYPE = {
    "block_actions": "action",
    "interactive_message": "action",
    "view_submission": "view",
    "view_closed": "view",
    "block_suggestion": "options",
    "dialog_suggestion": "options",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "event_callback": "event",
    "url_verification": "event",
    "app_rate_limited": "event",
}


def request_kind(body: dict) -> str:
    """The kind of a Slack request, from its parsed body: command, action, view, event, options, shortcut or other."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return _KIND_OF_TYPE.get(kind, "other") if isinstance(kind, str) else "other"


class Metrics:
    """One process's counters, histogram and gauges, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter("salesbot_requests", "Slack requests by kind and outcome.", ["kind", "outcome"], registry=r)
        self.ack_seconds = Histogram("salesbot_ack_seconds", "Seconds from a Slack request's arrival to its answer.", ["kind"], buckets=ACK_BUCKETS, registry=r)
        self.outbox_rows = Gauge("salesbot_outbox_rows", "Outbox rows pending, sending, unknown or dead, read at scrape time.", ["status"], registry=r)
        self.database_up = Gauge("salesbot_database_up", "1 when the database answered the last scrape's query.", registry=r)
        self.sends = Counter("salesbot_sends", "Outbox send attempts by outcome (sent, 429, 5xx, no_connection, unknown, dead, cancelled).", ["outcome"], registry=r)
        self.budget_waits = Counter("salesbot_budget_waits", "Times the sender waited for send budget.", registry=r)
        self.budget_wait_seconds = Counter("salesbot_budget_wait_seconds", "Seconds the sender waited for send budget.", registry=r)
        self.ticks = Counter("salesbot_scheduler_ticks", "Scheduler ticks by job and outcome (ok, error).", ["job", "outcome"], registry=r)
        self.ticking = Gauge("salesbot_scheduler_ticking", "1 while this process's scheduler ticks (with several clocks: the one holding the lock).", registry=r)
        self.enqueued = Counter("salesbot_scheduler_posts_enqueued", "New outbox rows the scheduler's ticks enqueued, by job.", ["job"], registry=r)

    def request(self, kind: str, outcome: str, seconds: float) -> None:
        """Count one answered Slack request and how long its answer took."""
        self.requests.labels(kind, outcome).inc()
        self.ack_seconds.labels(kind).observe(seconds)

    def send(self, outcome: str) -> None:
        """Count one send attempt's outcome."""
        self.sends.labels(outcome).inc()

    def budget_wait(self, seconds: float) -> None:
        """Count one wait for budget (called before the sender sleeps)."""
        self.budget_waits.inc()
        self.budget_wait_seconds.inc(max(0.0, seconds))

    def tick(self, job: str, *, ok: bool, new: int = 0) -> None:
        """Count one scheduler tick and the posts it enqueued."""
        self.ticks.labels(job, "ok" if ok else "error").inc()
        if new:
            self.enqueued.labels(job).inc(new)

    async def refresh(self, db: Database) -> bool:
        """Read the outbox's depth by status; False (and no stale figures) when the database does not answer."""
        try:
            async with db.sessionmaker() as session:
                q = select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_(DEPTH_STATUSES)).group_by(OutboxMessage.status)
                rows = (await session.execute(q)).all()
        except Exception as exc:  # any driver error: the scrape still answers, with the database marked down
            log.warning("metrics: the outbox depth could not be read: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            self.outbox_rows.clear()
            self.database_up.set(0)
            return False
        counts = {OutboxStatus(status): n for status, n in rows}
        for status in DEPTH_STATUSES:
            self.outbox_rows.labels(status.value).set(counts.get(status, 0))
        self.database_up.set(1)
        return True

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)

    async def scrape(self, db: Database) -> bytes:
        """Fresh database figures, then the whole registry as text."""
        await self.refresh(db)
        return self.render()
