"""What a scheduled job produces: posts for the outbox, each with its exactly-once key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.outbox import Post  # one message to deliver once (stored by the outbox service)


# A job's composer: given the moment the clock says it is, the posts that are due then.
Composer = Callable[..., Awaitable[list[Post]]]
# Signature: async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]
__all__ = ["Post", "Composer", "AsyncSession"]
