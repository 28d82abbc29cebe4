"""Telling people about a task that moved: redrawn cards, one-line notices in each card's thread, the hand-over DM."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.kit import fallback_text, section
from bot.blocks.task_changes import build_handover, done_notice, edit_notice, moved_card, note_notice, removed_notice, status_notice
from bot.blocks.tasks import build_task_card
from bot.i18n import I18n, Localizer
from bot.models import Member
from bot.services import task_changes
from bot.services.actors import Actor
from bot.services.task_changes import EditResult, Handover
from bot.services.tasks import TaskRow, members_by_slack_ids
from bot.slackapi import dm_channel
from bot.surfaces import publish_homes, send_dm, send_task_cards
from bot.text import SlackSafe

log = logging.getLogger(__name__)

HANDOVER_JOB = "task.handover"
# A notice is a courtesy: when Slack cannot take it, the change itself stands and nothing is retried.
_SLACK_FAILURES = (SlackApiError, asyncio.TimeoutError, aiohttp.ClientError)


def _viewer(member: Member, admins: frozenset[str]) -> Actor:
    return Actor(workspace=None, member=member, is_admin=member.is_slack_admin or member.slack_user_id in admins)  # type: ignore[arg-type]


async def tell(client: AsyncWebClient, session: AsyncSession, *, member: Member, task_id: int, line: SlackSafe, thread: bool = True) -> None:
    """One line to a member about a task: in the thread of their card, or as a DM that becomes the task's thread for them."""
    cards = await task_changes.cards_for(session, task_id=task_id, member_ids=[member.id]) if thread else {}
    text, blocks = fallback_text(line), [section(line)]
    try:
        if member.id in cards:
            channel, ts = cards[member.id]
            await client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=blocks)
            return
        channel = await dm_channel(client, session, member)
        response = await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        if thread and response.get("ts"):
            await task_changes.remember_card(session, task_id=task_id, member_id=member.id, channel=response.get("channel") or channel, ts=response["ts"])
    except _SLACK_FAILURES as exc:
        log.warning("task notice to %s about task %s failed: %s", member.slack_user_id, task_id, type(exc).__name__)


async def redraw_cards(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, members: list[Member], i18n: I18n, admins: frozenset[str], now) -> None:
    """Redraw the DM card of each member who has one, so its text and buttons match the task."""
    cards = await task_changes.cards_for(session, task_id=row.task.id, member_ids=[m.id for m in members])
    for member in members:
        if member.id not in cards:
            continue
        channel, ts = cards[member.id]
        viewer = _viewer(member, admins)
        text, blocks = build_task_card(row, i18n.get(member.locale), viewer.today(now), viewer=viewer)
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except _SLACK_FAILURES as exc:
            log.warning("card of task %s for %s not redrawn: %s", row.task.id, member.slack_user_id, type(exc).__name__)


async def after_edit(client: AsyncWebClient, session: AsyncSession, *, result: EditResult, actor: Actor, i18n: I18n, admins: frozenset[str], now) -> None:
    """New assignees get a card, removed ones a line (and a card without buttons), the others a line about due date and priority."""
    if not result.changed:
        return
    row, by = result.row, actor.member.slack_user_id
    if result.added:
        await send_task_cards(client, session, row=row, members=result.added, assigned_by=by, i18n=i18n, now=now)
    for member in result.removed:
        loc = i18n.get(member.locale)
        await tell(client, session, member=member, task_id=row.task.id, line=removed_notice(loc, row=row, by=by), thread=False)
    await _strip_cards(client, session, row=row, members=result.removed, by=by, i18n=i18n)
    await redraw_cards(client, session, row=row, members=result.kept, i18n=i18n, admins=admins, now=now)
    for member in result.kept:
        if member.id == actor.member.id:
            continue
        line = edit_notice(i18n.get(member.locale), row=row, changes=result.changes, by=by)
        if line is not None:
            await tell(client, session, member=member, task_id=row.task.id, line=line)
    await publish_homes(client, session, members=[*result.added, *result.removed, *result.kept, actor.member], actor=actor, admins=admins, i18n=i18n, now=now)


async def _strip_cards(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, members: list[Member], by: str, i18n: I18n) -> None:
    """A removed assignee's card keeps no buttons: it says the task moved instead."""
    cards = await task_changes.cards_for(session, task_id=row.task.id, member_ids=[m.id for m in members])
    for member in members:
        if member.id not in cards:
            continue
        channel, ts = cards[member.id]
        text, blocks = moved_card(i18n.get(member.locale), row=row, by=by)
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except _SLACK_FAILURES as exc:
            log.warning("card of task %s for %s not cleared: %s", row.task.id, member.slack_user_id, type(exc).__name__)


async def after_status(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, actor: Actor, cancelled: bool, reason: str, i18n: I18n, admins: frozenset[str], now) -> None:
    """A cancelled or reopened task: assignees' cards redrawn, a line in each card's thread, Homes refreshed."""
    members = await members_by_slack_ids(session, workspace_id=actor.workspace.id, user_ids=row.assignees)
    await redraw_cards(client, session, row=row, members=members, i18n=i18n, admins=admins, now=now)
    for member in members:
        if member.id != actor.member.id:
            line = status_notice(i18n.get(member.locale), row=row, by=actor.member.slack_user_id, cancelled=cancelled, reason=reason)
            await tell(client, session, member=member, task_id=row.task.id, line=line)
    await publish_homes(client, session, members=[*members, actor.member], actor=actor, admins=admins, i18n=i18n, now=now)


async def after_done(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, actor: Actor, i18n: I18n) -> None:
    """The creator of a task someone else finished gets one line."""
    creator = await task_changes.done_recipient(session, task=row.task, clicker_id=actor.member.id)
    if creator is not None:
        await tell(client, session, member=creator, task_id=row.task.id, line=done_notice(i18n.get(creator.locale), row=row, by=actor.member.slack_user_id))


async def after_note(client: AsyncWebClient, session: AsyncSession, *, row: TaskRow, actor: Actor, note: str, i18n: I18n) -> None:
    """The other people on the task get the note in the thread of their card."""
    for member in await task_changes.note_recipients(session, task_id=row.task.id, author_id=actor.member.id):
        loc: Localizer = i18n.get(member.locale)
        await tell(client, session, member=member, task_id=row.task.id, line=note_notice(loc, row=row, by=actor.member.slack_user_id, note=note))


async def send_handover(client: AsyncWebClient, session: AsyncSession, *, handover: Handover, i18n: I18n, now) -> None:
    """One DM per manager of the rep's team listing the tasks due during the leave (once per leave and manager)."""
    for manager in handover.managers:
        viewer = Actor(workspace=None, member=manager, is_admin=False)  # type: ignore[arg-type]
        text, blocks = build_handover(i18n.get(manager.locale), handover, viewer.today(now))
        await send_dm(client, session, member=manager, key=f"handover:{handover.leave_id}:{manager.id}", job=HANDOVER_JOB, text=text, blocks=blocks)
