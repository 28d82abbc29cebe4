"""Storing posts in the outbox: each under its unique key, so a post is queued once however often it is offered.

The sender (jobs.outbox) claims and delivers these rows; listeners queue here the messages
they could not deliver at once, so the clock's sender delivers them later, exactly once.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import OutboxMessage, OutboxStatus, utcnow
from bot.services.workspaces import uninstalled_among

_CHUNK = 500  # rows per statement: well under SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class Post:
    """One message to deliver once.

    `key` names the job, the recipient and the period (e.g. ``daily:W1:U123:2027-03-01``):
    composing the same post twice yields the same key, and the outbox keeps only one.
    `channel` is a channel id, or a user id for a DM. `files` are uploaded into the post's
    thread after it is sent: dicts with ``filename``, ``title`` and ``content`` (bytes).
    A post not sent by `expires_at` is skipped and logged (its moment has passed).
    A post with `skip` set is only a marker: the recipient and period were considered and
    there is nothing to send. It is stored as skipped, so later ticks do not compose it again.
    A post with `thread_of` (another post's key, to the same channel) is a reply in that post's
    thread: it waits until that post is sent, and is skipped if that post never is.
    """

    workspace_id: int
    key: str
    job: str
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    not_before: datetime
    expires_at: datetime | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    skip: bool = False
    thread_of: str | None = None


def encode_payload(post: Post) -> str:
    """The stored form of a post's content: text, blocks and files (content in base64)."""
    files = [
        {"filename": f["filename"], "title": f.get("title") or f["filename"], "content": base64.b64encode(f["content"]).decode("ascii")}
        for f in post.files
    ]
    data: dict[str, Any] = {"text": post.text, "blocks": post.blocks, "files": files}
    if post.thread_of:
        data["thread_of"] = post.thread_of
    return json.dumps(data, ensure_ascii=False)


def decode_payload(raw: str) -> dict[str, Any]:
    """The inverse of encode_payload: files come back with their content as bytes."""
    data = json.loads(raw)
    data["files"] = [{**f, "content": base64.b64decode(f["content"])} for f in data.get("files") or []]
    return data


async def enqueue(session: AsyncSession, posts: Sequence[Post], *, status: OutboxStatus | None = None, error: str | None = None) -> int:
    """Insert posts into the outbox, ignoring keys already there; returns how many were new.

    `status` overrides the initial state (e.g. `unknown` for a post whose first attempt may
    have reached Slack: it is held for review, never resent blindly); `error` is recorded with it.
    """
    if not posts:
        return 0
    # Nothing is queued for a workspace that uninstalled the app (its posts could never be sent).
    gone = await uninstalled_among(session, {p.workspace_id for p in posts})
    if gone:
        posts = [p for p in posts if p.workspace_id not in gone]
    table = OutboxMessage.__table__
    now = utcnow()
    new = 0
    first: dict[str, Post] = {}
    for p in posts:  # one statement must not carry a key twice; the first one wins, as in the table
        first.setdefault(p.key, p)
    unique = list(first.values())
    for start in range(0, len(unique), _CHUNK):
        rows = [
            {
                "workspace_id": p.workspace_id,
                "key": p.key,
                "job": p.job,
                "channel": p.channel,
                "payload": encode_payload(p),
                "status": status or (OutboxStatus.SKIPPED if p.skip else OutboxStatus.PENDING),
                "attempts": 0,
                "not_before": p.not_before,
                "expires_at": p.expires_at,
                "created_at": now,
                "last_error": error[:500] if error else None,
            }
            for p in unique[start : start + _CHUNK]
        ]
        new += len((await upsert(session, table, rows, keys=["key"], returning=[table.c.id])).all())
    return new
