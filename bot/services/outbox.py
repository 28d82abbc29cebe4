"""Storing posts in the outbox: each under its unique key, so a post is queued once however often it is offered.

The sender (jobs.outbox) claims and delivers these rows; listeners queue here the messages
they could not deliver at once, so the clock's sender delivers them later, exactly once.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert, upsert
from bot.models import OutboxBlob, OutboxMessage, OutboxStatus, utcnow
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


def file_digest(content: bytes) -> str:
    """The key a file is stored under: its content's SHA-256, so one chart sent to many is stored once."""
    return hashlib.sha256(content).hexdigest()


def encode_payload(post: Post) -> str:
    """The stored form of a post's content: text, blocks, its files by digest (the bytes live in outbox_blob), its thread."""
    files = [{"filename": f["filename"], "title": f.get("title") or f["filename"], "blob": file_digest(f["content"])} for f in post.files]
    data: dict[str, Any] = {"text": post.text, "blocks": post.blocks, "files": files}
    if post.thread_of:
        data["thread_of"] = post.thread_of
    return json.dumps(data, ensure_ascii=False)


def decode_payload(raw: str) -> dict[str, Any]:
    """The inverse of encode_payload: files name their blob (rows stored before blobs carry the content, as bytes)."""
    data = json.loads(raw)
    data["files"] = [{**f, "content": base64.b64decode(f["content"])} if "content" in f else dict(f) for f in data.get("files") or []]
    return data


async def resolve_files(session: AsyncSession, *, workspace_id: int, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Files of a decoded payload with their content loaded from the blob table (one query)."""
    wanted = {f["blob"] for f in files if "blob" in f}
    found: dict[str, bytes] = {}
    if wanted:
        q = select(OutboxBlob.digest, OutboxBlob.content).where(OutboxBlob.workspace_id == workspace_id, OutboxBlob.digest.in_(wanted))
        found = {d: bytes(c) for d, c in (await session.execute(q)).all()}
    out = []
    for f in files:
        if "blob" in f:
            if f["blob"] not in found:
                raise LookupError(f"file {f['filename']} ({f['blob'][:12]}…) is no longer stored")
            f = {**f, "content": found[f["blob"]]}
        out.append(f)
    return out


async def store_blobs(session: AsyncSession, posts: Sequence[Post], *, now: datetime) -> None:
    """Store each distinct file of the posts once per workspace, and mark it used now (housekeeping keeps it while posts name it)."""
    blobs: dict[tuple[int, str], bytes] = {}
    for p in posts:
        for f in p.files:
            blobs.setdefault((p.workspace_id, file_digest(f["content"])), f["content"])
    if not blobs:
        return
    table = OutboxBlob.__table__
    for (ws, digest), content in blobs.items():  # a few charts per tick: one statement each keeps parameters small
        stmt = dialect_insert(session)(table).values(workspace_id=ws, digest=digest, content=content, last_used_at=now)
        await session.execute(stmt.on_conflict_do_update(index_elements=["workspace_id", "digest"], set_={"last_used_at": now}))


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
    await store_blobs(session, unique, now=now)
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
