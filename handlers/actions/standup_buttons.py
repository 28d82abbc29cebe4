"""The standup's buttons: Answer on the check-in DM, See all, and the managers' agenda buttons on the digest."""

from __future__ import annotations

import html
import re

from bot.blocks.modals import AssignPrefill, build_assign_modal
from bot.blocks.standup import build_answers_modal, build_blockers_modal, build_checkin_modal
from bot.blocks.targets import build_split_modal
from bot.services import standup, targets
from bot.services.errors import NotFound
from bot.services.tasks import require_assigner
from bot.services.team_settings import TeamSchedule
from bot.text import mention
from bot.unit import turn
from handlers.replies import open_modal, reply_to_click

_MARKS = re.compile(r"[*_~`]|^\d+\.\s*")


def _agenda_text(body: dict, action: dict) -> str:
    """The clicked agenda line as plain text, read from the message the button sits under."""
    block_id = str(action.get("block_id") or "")
    if not block_id.startswith("agenda-actions-"):
        return ""
    wanted = "agenda-" + block_id.removeprefix("agenda-actions-")
    for block in (body.get("message") or {}).get("blocks") or []:
        if block.get("block_id") == wanted:
            text = (block.get("text") or {}).get("text") or ""
            text = re.sub(r"<@(\w+)(?:\|[^>]*)?>", r"@\1", text)
            return html.unescape(_MARKS.sub("", text)).strip()
    return ""


async def handle_standup_answer(ack, body, action, client, respond, context):
    """Open the rep's check-in modal, prefilled with what they already answered."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = standup.CheckInRef.decode(action.get("value", ""))
        form = await standup.checkin_form(t.session, actor=t.actor, ref=ref, now=t.now)
        view = build_checkin_modal(t.loc, form, tz=t.actor.member.tz, response_url=body.get("response_url"))
        await open_modal(client, body["trigger_id"], view)


async def handle_standup_see_all(ack, body, action, client, respond, context):
    """Open one rep's whole answers (a thread reply shows them cut)."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        value = action.get("value", "")
        if not (value.isascii() and value.isdigit()) or len(value) > 12:
            raise NotFound("standup.error.no_item")
        member, answers, settings = await standup.answers_for_view(t.session, actor=t.actor, checkin_id=int(value))
        await open_modal(client, body["trigger_id"], build_answers_modal(t.loc, member=member, answers=answers, settings=settings))


async def handle_standup_blockers_all(ack, body, action, client, respond, context):
    """Open every blocker of the meeting (the digest lists the first few)."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        team_id, _, period = action.get("value", "").partition("|")
        if not team_id.isdigit():
            raise NotFound("standup.error.no_item")
        s = await standup.blockers_for_view(t.session, actor=t.actor, team_id=int(team_id), period=period[:16], today=t.today)
        await open_modal(client, body["trigger_id"], build_blockers_modal(t.loc, s))


async def handle_agenda_task(ack, body, action, client, respond, context):
    """Open the assign modal prefilled with the item's rep, customer and text; saving it records the meeting action."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = standup.AgendaRef.decode(action.get("value", ""))
        team = await standup.require_team_manager(t.session, actor=t.actor, team_id=ref.team_id)
        require_assigner(t.actor)
        item = await standup.item_context(t.session, team=team, ref=ref)
        text = item.text or _agenda_text(body, action)
        prefill = AssignPrefill(
            title=text.splitlines()[0][:200] if text else "", details=text if len(text) > 200 or "\n" in text else "",
            assignees=[item.member.slack_user_id] if item.member else [],
            customer={"text": item.customer_name, "value": str(item.customer_id)} if item.customer_id else None,
        )
        metadata = {"ch": (body.get("channel") or {}).get("id"), "ru": body.get("response_url"), "ag": ref.encode()}
        await open_modal(client, body["trigger_id"], build_assign_modal(t.loc, prefill=prefill, metadata=metadata))


async def handle_agenda_target(ack, body, action, client, respond, context):
    """Open the month's target form by rep (the line the item is about); saving it records the meeting action."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = standup.AgendaRef.decode(action.get("value", ""))
        team = await standup.require_team_manager(t.session, actor=t.actor, team_id=ref.team_id)
        month = standup.meeting_month(TeamSchedule.from_team(team), ref.period)
        form = await targets.split_form(t.session, actor=t.actor, period=month, by="rep", team_name=team.name)
        metadata = {"ru": body.get("response_url"), "team": team.name, "ag": ref.encode()}
        view = build_split_modal(t.loc, period=month, by="rep", keys=form.keys, parent_amount=form.parent.amount,
                                 currency=t.actor.workspace.currency or "CNY", metadata=metadata)
        await open_modal(client, body["trigger_id"], view)


async def handle_agenda_discussed(ack, body, action, client, respond, context):
    """Record that the meeting discussed an item (once, however often clicked) and say so to the clicker."""
    await ack()
    reply = reply_to_click(body, client, respond)
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply) as t:
        ref = standup.AgendaRef.decode(action.get("value", ""))
        team = await standup.require_team_manager(t.session, actor=t.actor, team_id=ref.team_id)
        item = await standup.item_context(t.session, team=team, ref=ref)
        created = await standup.record_action(t.session, actor=t.actor, ref=ref, kind="discussed", what=item.text or _agenda_text(body, action),
                                              member_id=item.member.id if item.member else None, now=t.now)
        await t.session.commit()
        key = "standup.discussed" if created else "standup.discussed_already"
        await reply(t.loc.md(key, user=mention(t.actor.member.slack_user_id)))
