"""What a scheduled job produces: posts for the outbox, each with its exactly-once key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


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


# A job's composer: given the moment the clock says it is, the posts that are due then.
Composer = Callable[..., Awaitable[list[Post]]]
# Signature: async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]
__all__ = ["Post", "Composer", "AsyncSession"]
