"""Build the Bolt app: the Web API client, listeners and the per-request plumbing they share."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncIterator

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.i18n import I18n, Localizer
from bot.models import Member, utcnow
from bot.services.actors import Actor, SlackProfile, resolve_actor
from bot.services.errors import ServiceError
from bot.settings import Settings

log = logging.getLogger(__name__)

Reply = Callable[[str], Awaitable[object]]


@dataclass
class Deps:
    """What every listener and job needs, built once in the entry point."""

    settings: Settings
    db: Database
    i18n: I18n = field(default_factory=I18n)
    clock: Callable[[], datetime] = utcnow


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client, pointed at SLACK_API_URL when set, retrying 429s and dropped connections."""
    kwargs = {"token": settings.slack_bot_token}
    if settings.api_url:
        kwargs["base_url"] = settings.api_url
    client = AsyncWebClient(**kwargs)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=1))
    return client


def profile_fetcher(client: AsyncWebClient):
    """users.info (with locale) as a service-friendly callable."""

    async def fetch(user_id: str) -> SlackProfile | None:
        try:
            resp = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return None
        u = resp["user"]
        profile = u.get("profile") or {}
        return SlackProfile(
            name=profile.get("display_name") or profile.get("real_name") or u.get("real_name") or u.get("name") or "",
            tz=u.get("tz") or "UTC",
            locale=u.get("locale") or "en-US",
            is_admin=bool(u.get("is_admin") or u.get("is_owner") or u.get("is_primary_owner")),
        )

    return fetch


@dataclass
class Turn:
    """One listener's unit of work: a session, the acting member and their language."""

    session: AsyncSession
    actor: Actor
    loc: Localizer
    now: datetime

    @property
    def today(self):
        """The actor's local date."""
        return self.actor.today(self.now)


@asynccontextmanager
async def turn(deps: Deps, client: AsyncWebClient, *, team_id: str, user_id: str, reply: Reply | None = None) -> AsyncIterator[Turn]:
    """Open a session for the acting user; a ServiceError becomes a localized reply and a rollback."""
    fetch = profile_fetcher(client)
    async with deps.db.sessionmaker() as session:
        actor = await resolve_actor(session, slack_team_id=team_id, slack_user_id=user_id, fetch_profile=fetch, admins=deps.settings.admins)
        await session.commit()  # keep the profile even if the work below is refused
        loc = deps.i18n.get(actor.member.locale)
        try:
            yield Turn(session=session, actor=actor, loc=loc, now=deps.clock())
            await session.commit()
        except ServiceError as exc:
            await session.rollback()
            if reply is None:
                raise
            await reply(loc.md(exc.key, **exc.params))


async def dm_channel(client: AsyncWebClient, session: AsyncSession, member: Member) -> str:
    """The member's DM channel id, opened once and cached (conversations.open is tier 3)."""
    if member.dm_channel_id:
        return member.dm_channel_id
    resp = await client.conversations_open(users=member.slack_user_id)
    member.dm_channel_id = resp["channel"]["id"]
    session.add(member)
    await session.flush()
    return member.dm_channel_id


def build_app(deps: Deps, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app with every listener registered."""
    from handlers import register_all  # handlers import bot.*, not the other way round

    settings = deps.settings
    app = AsyncApp(
        client=client or make_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode has no signatures to check; HTTP mode always verifies.
        request_verification_enabled=settings.slack_app_token is None,
        raise_error_for_unhandled_request=False,
    )

    @app.error
    async def on_error(error: Exception, body: dict, logger: logging.Logger) -> None:
        """Log every unexpected listener failure with its traceback; users see no traceback."""
        logger.exception("listener failed: %s (body type %s)", error, body.get("type") if isinstance(body, dict) else None)

    register_all(app, deps)
    return app
