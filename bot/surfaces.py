"""Drawing and redrawing the bot's Slack surfaces; shared by listeners and jobs."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.home import build_home
from bot.blocks.refs import Surface, TaskRef
from bot.blocks.tasks import PAGE_SIZE, build_task_card, build_task_list
from bot.i18n import I18n
from bot.models import Member
from bot.services.actors import Actor
from bot.services.tasks import TaskRow, get_task_row, home_overview, list_my_tasks
from bot.slackapi import dm_channel

log = logging.getLogger(__name__)


async def publish_home(client: AsyncWebClient, session: AsyncSession, *, actor: Actor, i18n: I18n, now) -> None:
    """Draw the actor's App Home."""
    loc = i18n.get(actor.member.locale)
    today = actor.today(now)
    overview = await home_overview(session, actor=actor, today=today)
    await client.views_publish(user_id=actor.member.slack_user_id, view=build_home(overview, actor, loc, today))


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
        text, blocks = build_task_list(page, ref.which, loc, today)
    else:
        row = await get_task_row(session, actor=actor, task_id=ref.task_id)
        text, blocks = build_task_card(row, loc, today)
    await respond(text=text, blocks=blocks, replace_original=True)


async def send_task_cards(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, members: list[Member], assigned_by: str, i18n: I18n, now) -> None:
    """DM each assignee the task card, in their own language and time zone."""
    for member in members:
        loc = i18n.get(member.locale)
        today = Actor(workspace=None, member=member, is_admin=False).today(now)  # type: ignore[arg-type]
        text, blocks = build_task_card(row, loc, today, assigned_by=assigned_by)
        try:
            channel = await dm_channel(client, session, member)
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("task card to %s failed: %s", member.slack_user_id, exc.response.get("error"))
