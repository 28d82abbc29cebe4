"""Slack Web API helpers shared by listeners, surfaces and jobs: the client, profiles, DM channels."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member
from bot.services.actors import SlackProfile
from bot.services.sendbudget import SharedBudget
from bot.settings import Settings

log = logging.getLogger(__name__)

# The workspace (database id) a listener posts for: set by the unit of work and by send_dm, read
# by the budgeted client, so a web process's messages take their slots in the shared send budget.
posting_workspace: ContextVar[int | None] = ContextVar("posting_workspace", default=None)


class BudgetedClient(AsyncWebClient):
    """A Web API client whose chat.postMessage calls wait for a slot of the shared send budget (PostgreSQL).

    Web processes DM cards and notices in reply to clicks while the clocks send the morning:
    taking the same slots keeps all of them together within Slack's limits.
    """

    def __init__(self, *args: Any, send_budget: SharedBudget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_budget = send_budget

    async def api_call(self, api_method: str, **kwargs: Any):  # type: ignore[override]
        """Take a budget slot before each message post whose workspace is known; then call as usual."""
        workspace_id = posting_workspace.get()
        if api_method == "chat.postMessage" and workspace_id is not None:
            args = kwargs.get("json") or kwargs.get("params") or kwargs.get("data") or {}
            channel = args.get("channel") if isinstance(args, dict) else None
            await self.send_budget.take(workspace_id, str(channel or ""))
        return await super().api_call(api_method, **kwargs)


def budget_middleware(send_budget: SharedBudget):
    """A Bolt middleware that gives each request's listeners a budgeted client (Bolt builds a plain one per request)."""

    async def use_send_budget(context, next):  # noqa: A002 - Bolt's own parameter name
        c = context.client
        context["client"] = BudgetedClient(
            token=c.token, base_url=c.base_url, timeout=c.timeout, ssl=c.ssl, proxy=c.proxy, session=c.session,
            trust_env_in_session=c.trust_env_in_session, headers=c.headers, team_id=context.team_id, logger=c.logger,
            retry_handlers=c.retry_handlers, send_budget=send_budget,
        )
        await next()

    return use_send_budget


def make_client(settings: Settings, *, token: str | None = None, send_budget: SharedBudget | None = None) -> AsyncWebClient:
    """The Web API client, pointed at SLACK_API_URL when set, retrying 429s and dropped connections.

    The token is the configured one unless given (a workspace's own, in OAuth mode). With
    `send_budget` (PostgreSQL) its message posts share the clocks' send budget.
    """
    kwargs: dict[str, Any] = {"token": token or (None if settings.oauth_enabled else settings.slack_bot_token)}
    if settings.api_url:
        kwargs["base_url"] = settings.api_url
    client = BudgetedClient(**kwargs, send_budget=send_budget) if send_budget is not None else AsyncWebClient(**kwargs)
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
