"""Webhook deliveries: outbox rows of job "webhook", POSTed to their endpoint, signed, at least once.

Unlike a Slack post, a webhook may be sent again when its outcome is unknown: the receiver
dedupes on the event id, which is the same on every retry, as is the body. So a timeout is a
failed attempt (retried with backoff), a row whose process died is simply sent again, and
after `max_attempts` failures the row is dead, the run is recorded as failed and the
workspace admins hear once per outage of that endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy import update

from bot.blocks.sync import build_webhook_dead_notice
from bot.models import OutboxMessage, OutboxStatus, SyncRunKind, SyncRunStatus, WebhookEndpoint, utcnow
from bot.services.outbox import Post, decode_payload, enqueue
from bot.services.sync_runs import RunError, admin_recipients, record_run
from bot.services.webhooks import EVENT_ID_HEADER, EVENT_TYPE_HEADER, JOB, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.text import truncate

if TYPE_CHECKING:
    from jobs.outbox import Sender

log = logging.getLogger(__name__)

NOTICE_JOB = "sync.notice"  # the admins' notices about dead webhooks and failed pulls
RESPONSE_READ_MAX = 4096  # of a receiver's answer: enough for an error message, never a flood


@dataclass(frozen=True)
class WebhookConfig:
    """Patience with receivers: SALESBOT_WEBHOOK_MAX_ATTEMPTS, _TIMEOUT, _BACKOFF and _BACKOFF_MAX."""

    max_attempts: int = 8
    timeout: float = 10.0
    backoff: float = 10.0  # seconds before the first retry; doubled on each further failure
    backoff_max: float = 3600.0

    @classmethod
    def from_env(cls) -> WebhookConfig:
        """Defaults, overridden by the environment."""
        env = os.environ
        try:
            return cls(
                max_attempts=int(env.get("SALESBOT_WEBHOOK_MAX_ATTEMPTS") or cls.max_attempts),
                timeout=float(env.get("SALESBOT_WEBHOOK_TIMEOUT") or cls.timeout),
                backoff=float(env.get("SALESBOT_WEBHOOK_BACKOFF") or cls.backoff),
                backoff_max=float(env.get("SALESBOT_WEBHOOK_BACKOFF_MAX") or cls.backoff_max),
            )
        except ValueError:
            raise ValueError("SALESBOT_WEBHOOK_* must be numbers") from None


def endpoint_id(row: OutboxMessage) -> int:
    """The endpoint a webhook row goes to (its channel is `webhook:<id>`)."""
    return int(row.channel.split(":", 1)[1])


async def post_event(url: str, *, secret: str, body: bytes, event_id: str, event: str, timeout: float) -> str | None:
    """POST one signed event; None when the receiver answered 2xx, else what went wrong."""
    timestamp = int(time.time())  # the receiver compares it with its own clock: wall time, not the job clock
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "salesbot-webhooks/1",
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                await resp.content.read(RESPONSE_READ_MAX)
                if 200 <= resp.status < 300:
                    return None
                return f"HTTP {resp.status}"
    except asyncio.TimeoutError:
        return f"no answer within {timeout:g}s"
    except aiohttp.ClientError as exc:
        # The exception names the host, never the headers: no secret reaches the log.
        return truncate(f"{type(exc).__name__}: {exc}", 300)


async def deliver(sender: Sender, row: OutboxMessage) -> None:
    """Send one claimed webhook row and record the outcome (sent, retry later, or dead)."""
    config = WebhookConfig.from_env()
    async with sender.db.sessionmaker() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id(row))
    if endpoint is None:
        await sender._update_claimed(row, status=OutboxStatus.SKIPPED, last_error="endpoint removed")
        return
    body = decode_payload(row.payload)["text"].encode("utf-8")
    event_id = row.key.split(":")[1]
    event = _event_type(body)
    error = await post_event(endpoint.url, secret=endpoint.secret, body=body, event_id=event_id, event=event, timeout=config.timeout)
    if error is None:
        await _sent(sender, row, endpoint, event)
    else:
        await _failed(sender, row, endpoint, event, error, config)


def _event_type(body: bytes) -> str:
    import json

    try:
        return str(json.loads(body).get("type", ""))
    except ValueError:
        return ""


def _claimed(row: OutboxMessage):
    t = OutboxMessage
    return update(t).where(t.id == row.id, t.status == OutboxStatus.SENDING, t.claimed_by == row.claimed_by)


async def _sent(sender: Sender, row: OutboxMessage, endpoint: WebhookEndpoint, event: str) -> None:
    now = utcnow()
    async with sender.db.sessionmaker() as session:
        res = await session.execute(_claimed(row).values(status=OutboxStatus.SENT, attempts=row.attempts + 1, sent_at=now, last_error=None))
        if res.rowcount == 1:
            await record_run(
                session, workspace_id=row.workspace_id, kind=SyncRunKind.WEBHOOK, status=SyncRunStatus.OK, source=f"{event} → {endpoint.url}",
                ref=row.key, created=1, started_at=row.claimed_at or now, finished_at=now,
            )
            if endpoint.failing_since is not None:
                await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).values(failing_since=None))
        await session.commit()


async def _failed(sender: Sender, row: OutboxMessage, endpoint: WebhookEndpoint, event: str, error: str, config: WebhookConfig) -> None:
    attempts = row.attempts + 1
    if attempts < config.max_attempts:
        delay = min(config.backoff_max, config.backoff * 2 ** (attempts - 1))
        log.warning("webhook: %s to endpoint %s failed (%s), attempt %d; retrying in %.1fs", row.key, endpoint.id, error, attempts, delay)
        async with sender.db.sessionmaker() as session:
            await session.execute(_claimed(row).values(
                status=OutboxStatus.PENDING, attempts=attempts, claimed_by=None, claimed_at=None, sending_started_at=None,
                not_before=sender.clock() + timedelta(seconds=delay), last_error=error,
            ))
            await session.commit()
        return
    log.error("webhook: %s to endpoint %s is dead after %d attempts: %s", row.key, endpoint.id, attempts, error)
    now = utcnow()
    async with sender.db.sessionmaker() as session:
        res = await session.execute(_claimed(row).values(status=OutboxStatus.DEAD, attempts=attempts, last_error=error))
        if res.rowcount == 1:
            await record_run(
                session, workspace_id=row.workspace_id, kind=SyncRunKind.WEBHOOK, status=SyncRunStatus.FAILED, source=f"{event} → {endpoint.url}",
                ref=row.key, failed=1, errors=[RunError(0, None, error)], message=f"dead after {attempts} attempts: {error}",
                started_at=row.claimed_at or now, finished_at=now,
            )
            # Only the first dead delivery of an outage tells the admins; a success ends the outage.
            outage = await session.execute(
                update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.failing_since.is_(None)).values(failing_since=now)
            )
            if outage.rowcount == 1:
                recipients = await admin_recipients(session, workspace_id=row.workspace_id, admins=sender.admins)
                posts = []
                for uid, locale in recipients:
                    text, blocks = build_webhook_dead_notice(sender.i18n.get(locale), url=endpoint.url, attempts=attempts, error=error, event=event)
                    posts.append(Post(
                        workspace_id=row.workspace_id, key=truncate(f"{NOTICE_JOB}:webhook:{endpoint.id}:{int(now.timestamp())}:{uid}", 255),
                        job=NOTICE_JOB, channel=uid, text=text, blocks=blocks, not_before=sender.clock(),
                    ))
                await enqueue(session, posts)
        await session.commit()
    sender.wake()


__all__ = ["JOB", "NOTICE_JOB", "WebhookConfig", "deliver", "post_event"]
