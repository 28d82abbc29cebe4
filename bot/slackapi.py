"""Slack Web API helpers shared by listeners, surfaces and jobs: the client, profiles, DM channels."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member
from bot.services.actors import SlackProfile
from bot.settings import Settings

log = logging.getLogger(__name__)


def make_client(settings: Settings, *, token: str | None = None) -> AsyncWebClient:
    """The Web API client, pointed at SLACK_API_URL when set, retrying 429s and dropped connections.

    The token is the configured one unless given (a workspace's own, in OAuth mode).
    """
    kwargs = {"token": token or (None if settings.oauth_enabled else settings.slack_bot_token)}
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


async def dm_channel(client: AsyncWebClient, session: AsyncSession, member: Member) -> str:
    """The member's DM channel id, opened once and cached (conversations.open is tier 3)."""
    if member.dm_channel_id:
        return member.dm_channel_id
    resp = await client.conversations_open(users=member.slack_user_id)
    member.dm_channel_id = resp["channel"]["id"]
    session.add(member)
    await session.flush()
    return member.dm_channel_id
