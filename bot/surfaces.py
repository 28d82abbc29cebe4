"""Drawing and redrawing the bot's Slack surfaces; shared by listeners and jobs."""

from __future__ import annotations

import asyncio
import logging
from enum import Enum

from dataclasses import dataclass, field

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.board import build_board
from bot.blocks.home import build_home
from bot.blocks.refs import Surface, TaskRef
from bot.blocks.tasks import PAGE_SIZE, build_task_card, build_task_list
from bot.i18n import I18n
from bot.models import Member, OutboxStatus, utcnow
from bot.services.actors import Actor
from bot.services.board import BoardQuery, team_board, team_summary
from bot.services.deal_list import home_deals
from bot.services.outbox import Post, enqueue
from bot.services.task_changes import remember_card
from bot.services.tasks import TaskRow, get_task_row, home_overview, list_my_tasks
from bot.slackapi import dm_channel, posting_workspace

log = logging.getLogger(__name__)


async def publish_home(client: AsyncWebClient, session: AsyncSession, *, actor: Actor, i18n: I18n, now) -> None:
    """Draw the actor's App Home."""
    loc = i18n.get(actor.member.locale)
    today = actor.today(now)
    overview = await home_overview(session, actor=actor, today=today)
    deals = await home_deals(session, actor=actor)
    team = await team_summary(session, actor=actor, today=today)
    await client.views_publish(user_id=actor.member.slack_user_id, view=build_home(overview, actor, loc, today, deals=deals, team=team))


async def publish_homes(client: AsyncWebClient, session: AsyncSession, *, members: list[Member], actor: Actor, admins: frozenset[str], i18n: I18n, now) -> None:
    """Refresh the Home of several members (e.g. a task's assignees) after a change."""
    for member in members:
        other = Actor(workspace=actor.workspace, member=member, is_admin=member.is_slack_admin or member.slack_user_id in admins)
        try:
            await publish_home(client, session, actor=other, i18n=i18n, now=now)
        except SlackApiError as exc:  # one failed Home must not stop the others
            log.warning("views.publish failed for %s: %s", member.slack_user_id, exc.response.get("error"))


async def redraw(respond, client: AsyncWebClient, session: AsyncSession, *, actor: Actor, ref: TaskRef, i18n: I18n, now) -> None:
    """Redraw the surface a task button was clicked on, in place."""
    loc = i18n.get(actor.member.locale)
    today = actor.today(now)
    if ref.surface == Surface.HOME:
        await publish_home(client, session, actor=actor, i18n=i18n, now=now)
        return
    if ref.surface == Surface.LIST:
        page = await list_my_tasks(session, actor=actor, which=ref.which, today=today, offset=ref.offset, limit=PAGE_SIZE)
        text, blocks = build_task_list(page, ref.which, loc, today, viewer=actor)
    elif ref.surface == Surface.BOARD:
        board = await team_board(session, actor=actor, query=BoardQuery.decode(ref.board), today=today, offset=ref.offset)
        text, blocks = build_board(board, loc, today, viewer=actor)
    else:
        row = await get_task_row(session, actor=actor, task_id=ref.task_id)
        text, blocks = build_task_card(row, loc, today, viewer=actor)
    await respond(text=text, blocks=blocks, replace_original=True)


TASK_CARD_JOB = "task.card"  # the outbox's job name for a task card queued after a failed DM


class Delivery(str, Enum):
    """How a direct message went: sent now, queued for the outbox's sender, or held (it may have arrived)."""

    SENT = "sent"
    QUEUED = "queued"
    UNSURE = "unsure"


async def send_dm(client: AsyncWebClient, session: AsyncSession, *, member: Member, key: str, job: str, text: str, blocks: list[dict], posted: dict | None = None) -> Delivery:
    """DM a member now; if Slack cannot take it, queue it in the outbox under `key` so the sender delivers it once, later.

    The first try stays instant for the normal case. A failure after the client's own retries
    is stored, and committed at once so a later failure of the listener cannot lose it.
    """
    channel = member.dm_channel_id or member.slack_user_id
    status: OutboxStatus | None = None
    posting_workspace.set(member.workspace_id)  # the DM takes a slot of its workspace's send budget (PostgreSQL)
    try:
        channel = await dm_channel(client, session, member)
    except (SlackApiError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
        # Opening a DM is safe to repeat: the sender opens it again from the user id.
        error = f"conversations.open: {_describe(exc)}"
    else:
        try:
            response = await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            if posted is not None:  # the caller keeps where it went (to redraw it, or to reply in its thread)
                posted.update(channel=response.get("channel") or channel, ts=response.get("ts"))
            return Delivery.SENT
        except (SlackApiError, aiohttp.ClientConnectorError) as exc:
            # Slack answered with an error, or no connection was made: nothing was posted (the sender judges the same way).
            error = _describe(exc)
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            # The request may have left and been posted: chat.postMessage has no idempotency key, so
            # the row is held for review (`salesbot outbox list|mark`), never resent blindly.
            error = f"{_describe(exc)} after the request was sent"
            status = OutboxStatus.UNKNOWN
    log.warning("DM %s to %s failed (%s); %s in the outbox", key, member.slack_user_id, error, "held for review" if status else "queued")
    post = Post(workspace_id=member.workspace_id, key=key, job=job, channel=channel, text=text, blocks=blocks, not_before=utcnow())
    await enqueue(session, [post], status=status, error=error)
    await session.commit()
    return Delivery.UNSURE if status else Delivery.QUEUED


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"HTTP {exc.response.status_code}: {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Unreached:
    """Assignees whose card did not arrive at once: queued for the sender, or held because it may have arrived."""

    queued: list[Member] = field(default_factory=list)
    unsure: list[Member] = field(default_factory=list)


def task_card_key(task_id: int, member: Member) -> str:
    """The outbox key of one assignee's card: each card is delivered once however often it is queued."""
    return f"task-card:{task_id}:{member.id}"


async def send_task_cards(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, members: list[Member], assigned_by: str, i18n: I18n, now) -> Unreached:
    """DM each assignee the task card, in their own language and time zone; returns who was not reached yet."""
    unreached = Unreached()
    for member in members:
        loc = i18n.get(member.locale)
        today = Actor(workspace=None, member=member, is_admin=False).today(now)  # type: ignore[arg-type]
        viewer = Actor(workspace=None, member=member, is_admin=False)  # type: ignore[arg-type]
        text, blocks = build_task_card(row, loc, today, assigned_by=assigned_by, viewer=viewer)
        posted: dict = {}
        outcome = await send_dm(client, session, member=member, key=task_card_key(row.task.id, member), job=TASK_CARD_JOB, text=text, blocks=blocks, posted=posted)
        if outcome == Delivery.SENT and posted.get("ts"):
            await remember_card(session, task_id=row.task.id, member_id=member.id, channel=posted["channel"], ts=posted["ts"], replace=True)
        if outcome == Delivery.QUEUED:
            unreached.queued.append(member)
        elif outcome == Delivery.UNSURE:
            unreached.unsure.append(member)
    return unreached
