"""Outgoing webhooks: endpoints per workspace, and change events queued in the outbox with the change.

`emit` is called by the service where each change happens (one place per event), in the same
transaction: the event's outbox rows commit or roll back with the change itself. Each row is
keyed by event id and endpoint, so an event is queued once per endpoint; the sender
(jobs.webhooks) delivers it at least once, with the same id and body on every retry.

The signature a receiver checks (docs/webhooks.md):
    X-Salesbot-Signature: v1=hex(HMAC-SHA256(secret, "v1:" + X-Salesbot-Timestamp + ":" + body))
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Customer, Deal, DealStatus, Member, Stage, Survey, Target, Task, WebhookEndpoint, Workspace
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.outbox import Post, enqueue
from bot.services.sync_runs import require_admin

JOB = "webhook"
EVENTS = (
    "deal.created", "deal.stage_changed", "deal.won", "deal.lost",
    "task.created", "task.done", "task.cancelled", "survey.answered", "target.set",
)
MAX_BODY = 256 * 1024  # one event's JSON; a bigger one is cut to its ids (see _capped)
MAX_ENDPOINTS = 20  # per workspace
SIGNATURE_HEADER = "X-Salesbot-Signature"
TIMESTAMP_HEADER = "X-Salesbot-Timestamp"
EVENT_ID_HEADER = "X-Salesbot-Event-Id"
EVENT_TYPE_HEADER = "X-Salesbot-Event"
_CACHE = "salesbot.webhook_endpoints"  # session.info: a workspace's endpoints, read once per unit of work


# ---------------------------------------------------------------------------- URLs and signatures


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where plain http is allowed (tests, the demo)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """A URL the bot may call: https, or http on loopback only; raises ServiceError otherwise."""
    url = url.strip()
    if url.startswith("<") and url.endswith(">"):  # Slack wraps links it escapes: <https://…|label>
        url = url[1:-1].split("|", 1)[0]
    if len(url) > 2000:
        raise ServiceError("sync.error.url_too_long")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ServiceError("sync.error.url", url=url) from None
    if not host or parts.scheme not in ("https", "http"):
        raise ServiceError("sync.error.url", url=url)
    if parts.scheme == "http" and not is_loopback(host):
        raise ServiceError("sync.error.https_only", url=url)
    if parts.username or parts.password:
        raise ServiceError("sync.error.url_credentials")
    return url


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header's value for one delivery: v1= and the hex HMAC-SHA256 of "v1:{timestamp}:{body}"."""
    message = b"v1:" + str(timestamp).encode("ascii") + b":" + body
    return "v1=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def new_secret() -> str:
    """A fresh endpoint secret (shown once)."""
    return "whsec_" + secrets.token_urlsafe(32)


# ---------------------------------------------------------------------------- endpoints


def parse_events(words: list[str]) -> list[str]:
    """Event types named by an admin (none means all); raises ServiceError naming an unknown one."""
    chosen: list[str] = []
    for word in words:
        for name in word.replace(",", " ").split():
            name = name.strip().lower()
            if name in ("*", "all"):
                return []
            if name.endswith(".*") and any(e.startswith(name[:-1]) for e in EVENTS):
                chosen += [e for e in EVENTS if e.startswith(name[:-1]) and e not in chosen]
                continue
            if name not in EVENTS:
                raise ServiceError("sync.error.event", event=name, events=", ".join(EVENTS))
            if name not in chosen:
                chosen.append(name)
    return chosen


async def add_endpoint(session: AsyncSession, *, actor: Actor, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """Register a URL (admins); returns it with its secret, which is never shown again."""
    require_admin(actor)
    url = check_url(url)
    existing = list((await session.execute(select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == actor.workspace.id))).scalars())
    if any(e.url == url for e in existing):
        raise ServiceError("sync.error.webhook_exists", url=url)
    if len(existing) >= MAX_ENDPOINTS:
        raise ServiceError("sync.error.webhook_limit", max=MAX_ENDPOINTS)
    secret = new_secret()
    endpoint = WebhookEndpoint(workspace_id=actor.workspace.id, url=url, events=",".join(events) or "*", secret=secret, created_by_id=actor.member.id)
    session.add(endpoint)
    await session.flush()
    session.info.pop(_CACHE, None)
    return endpoint, secret


async def list_endpoints(session: AsyncSession, *, actor: Actor) -> list[WebhookEndpoint]:
    """The workspace's endpoints (admins)."""
    require_admin(actor)
    q = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == actor.workspace.id).order_by(WebhookEndpoint.id)
    return list((await session.execute(q)).scalars())


async def remove_endpoint(session: AsyncSession, *, actor: Actor, url: str) -> None:
    """Stop sending to a URL (admins); its undelivered events are dropped by the sender."""
    require_admin(actor)
    url = check_url(url)
    result = await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.workspace_id == actor.workspace.id, WebhookEndpoint.url == url))
    if result.rowcount != 1:
        raise ServiceError("sync.error.webhook_unknown", url=url)
    session.info.pop(_CACHE, None)


def subscribed(endpoint_events: str, event: str) -> bool:
    """Whether an endpoint's event list takes this event."""
    return endpoint_events == "*" or event in endpoint_events.split(",")


# ---------------------------------------------------------------------------- events


async def _endpoints(session: AsyncSession, workspace_id: int) -> list[tuple[int, str]]:
    cache: dict[int, list[tuple[int, str]]] = session.info.setdefault(_CACHE, {})
    if workspace_id not in cache:
        rows = await session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.workspace_id == workspace_id).order_by(WebhookEndpoint.id))
        cache[workspace_id] = [(i, e) for i, e in rows.all()]
    return cache[workspace_id]


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"not JSON: {type(value).__name__}")


def event_body(*, event_id: str, event: str, team_id: str, created_at: datetime, data: dict[str, Any]) -> str:
    """The JSON a receiver gets (compact, keys in a fixed order: the signed bytes are these)."""
    body = json.dumps({"id": event_id, "type": event, "created_at": created_at, "workspace": team_id, "data": data},
                      default=_json_default, ensure_ascii=False, separators=(",", ":"))
    if len(body.encode("utf-8")) > MAX_BODY:
        # Free text (notes, comments) is what grows; the ids let the receiver read the rest through the API.
        small = {k: v for k, v in data.items() if k in ("id", "external_id", "type")}
        body = json.dumps({"id": event_id, "type": event, "created_at": created_at, "workspace": team_id, "data": small, "truncated": True},
                          default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return body


async def emit(session: AsyncSession, *, workspace_id: int, event: str, data: dict[str, Any], now: datetime) -> int:
    """Queue one event for every endpoint of the workspace that takes it; returns how many rows were queued."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    targets = [eid for eid, events in await _endpoints(session, workspace_id) if subscribed(events, event)]
    if not targets:
        return 0
    team_id = (await session.get(Workspace, workspace_id)).slack_team_id
    event_id = "evt_" + uuid.uuid4().hex
    body = event_body(event_id=event_id, event=event, team_id=team_id, created_at=now, data=data)
    posts = [
        Post(workspace_id=workspace_id, key=f"{JOB}:{event_id}:{eid}", job=JOB, channel=f"{JOB}:{eid}", text=body, blocks=[], not_before=now)
        for eid in targets
    ]
    return await enqueue(session, posts)


async def _slack_id(session: AsyncSession, member_id: int | None) -> str | None:
    member = await session.get(Member, member_id) if member_id else None
    return member.slack_user_id if member else None


async def deal_data(session: AsyncSession, deal: Deal) -> dict[str, Any]:
    """A deal as events carry it (amounts in minor units of the workspace currency)."""
    customer = await session.get(Customer, deal.customer_id)
    ws = await session.get(Workspace, deal.workspace_id)
    return {
        "id": deal.id, "external_id": deal.external_id, "title": deal.title, "product_line": deal.product_line,
        "amount": deal.amount, "currency": ws.currency, "stage": deal.stage, "status": deal.status,
        "owner": await _slack_id(session, deal.owner_id),
        "customer": {"id": customer.id, "external_id": customer.external_id, "name": customer.name} if customer else None,
        "expected_close": deal.expected_close, "won_at": deal.won_at, "lost_at": deal.lost_at, "updated_at": deal.updated_at,
    }


async def emit_deal_change(session: AsyncSession, *, workspace_id: int, deal_id: int, from_stage: Stage | None, to_stage: Stage, status: DealStatus, at: datetime) -> None:
    """The event of one recorded stage change: created, stage changed, won or lost."""
    if not await _endpoints(session, workspace_id):
        return  # the common case: no query for the deal at all
    if status == DealStatus.WON:
        event = "deal.won"
    elif status == DealStatus.LOST:
        event = "deal.lost"
    elif from_stage is None:
        event = "deal.created"
    else:
        event = "deal.stage_changed"
    deal = await session.get(Deal, deal_id)
    data = {**await deal_data(session, deal), "from_stage": from_stage, "to_stage": to_stage}
    await emit(session, workspace_id=workspace_id, event=event, data=data, now=at)


async def emit_task(session: AsyncSession, *, task: Task, event: str, at: datetime) -> None:
    """A task event (created, done, cancelled)."""
    if not await _endpoints(session, task.workspace_id):
        return
    data = {
        "id": task.id, "external_id": task.external_id, "title": task.title, "status": task.status, "priority": int(task.priority),
        "due_date": task.due_date, "stage": task.stage, "customer_id": task.customer_id, "deal_id": task.deal_id,
        "completed_at": task.completed_at, "updated_at": task.updated_at,
    }
    await emit(session, workspace_id=task.workspace_id, event=event, data=data, now=at)


async def emit_survey_answered(session: AsyncSession, *, survey: Survey, at: datetime) -> None:
    """A customer answered (or changed) a satisfaction survey."""
    if not await _endpoints(session, survey.workspace_id):
        return
    data = {
        "id": survey.id, "customer_id": survey.customer_id, "rep": await _slack_id(session, survey.rep_id), "source": survey.source,
        "source_id": survey.source_id, "score": survey.score, "satisfied": survey.score is not None and survey.score >= 4, "answered_at": survey.answered_at,
    }
    await emit(session, workspace_id=survey.workspace_id, event="survey.answered", data=data, now=at)


async def emit_target_set(session: AsyncSession, *, target: Target, team_name: str, previous: int | None, at: datetime) -> None:
    """A team's total target for a period was set or changed."""
    if not await _endpoints(session, target.workspace_id):
        return
    data = {
        "id": target.id, "external_id": target.external_id, "team": team_name, "period": target.period, "period_start": target.period_start,
        "period_end": target.period_end, "dimension": target.dimension, "key": target.key, "amount": target.amount, "previous_amount": previous,
    }
    await emit(session, workspace_id=target.workspace_id, event="target.set", data=data, now=at)
