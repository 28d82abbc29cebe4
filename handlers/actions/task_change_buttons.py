"""Edit, Cancel, Reopen and History on task surfaces; the hand-over's Reassign picker; the Home's notices switch."""

from __future__ import annotations

from bot.blocks.modals import customer_options
from bot.blocks.refs import TaskRef, decode_id
from bot.blocks.task_changes import build_cancel_modal, build_edit_modal, build_history_modal, handover_moved, moved_line, parse_handover_block
from bot.notices import after_edit, after_status
from bot.services import task_changes
from bot.services.errors import NotFound
from bot.surfaces import publish_home, redraw
from bot.unit import turn
from handlers.replies import ephemeral, open_modal, reply_to_click


def task_id_of(action) -> int:
    """The task a button names: a plain id (Edit, and any list's buttons) or a task ref."""
    value = action.get("value", "")
    try:
        return decode_id(value) if "|" not in value else TaskRef.decode(value).task_id
    except (ValueError, TypeError):
        raise NotFound("error.task_not_found") from None


def _ref(action) -> TaskRef | None:
    value = action.get("value", "")
    try:
        return TaskRef.decode(value) if "|" in value else None
    except (ValueError, TypeError):
        return None


async def handle_task_edit(ack, body, action, client, respond, context):
    """Open the task's modal prefilled, for managers of its team (all fields) or a rep's own task (due date and priority)."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        task_id = task_id_of(action)
        row, full = await task_changes.check_editable(t.session, actor=t.actor, task_id=task_id)
        customer, deals = await task_changes.edit_choices(t.session, actor=t.actor, task=row.task)
        option = customer_options([customer], t.loc)[0] if customer is not None else None
        metadata = {"id": task_id, "ru": body.get("response_url")}
        view = build_edit_modal(t.loc, row=row, full=full, metadata=metadata, customer_option=option, deals=deals)
        await open_modal(client, body["trigger_id"], view)


async def handle_task_cancel(ack, body, action, client, respond, context):
    """Ask a manager why the task is cancelled (the modal's submission cancels it)."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        task_id = task_id_of(action)
        row = await task_changes.check_cancellable(t.session, actor=t.actor, task_id=task_id)
        ref = _ref(action)
        metadata = {"id": task_id, "ref": ref.encode() if ref else None, "ru": body.get("response_url")}
        await open_modal(client, body["trigger_id"], build_cancel_modal(t.loc, row=row, metadata=metadata))


async def handle_task_reopen(ack, body, action, client, respond, context):
    """Reopen a done or cancelled task (once, however often clicked) and redraw where it was clicked."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        row, changed = await task_changes.reopen_task(t.session, actor=t.actor, task_id=task_id_of(action))
        await t.session.commit()
        ref = _ref(action)
        if ref is not None:
            await redraw(respond, client, t.session, actor=t.actor, ref=ref, i18n=deps.i18n, now=t.now)
        if changed:
            await after_status(client, t.session, row=row, actor=t.actor, cancelled=False, reason="", i18n=deps.i18n, admins=deps.settings.admins, now=t.now)


async def handle_task_history(ack, body, action, client, respond, context):
    """Show who did what to the task and when, in the viewer's zone and language."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        row, entries, older = await task_changes.task_history(t.session, actor=t.actor, task_id=task_id_of(action))
        await open_modal(client, body["trigger_id"], build_history_modal(t.loc, row=row, entries=entries, older=older, tz=t.actor.member.tz))


async def handle_task_reassign(ack, body, action, client, respond, context):
    """Move a task from the rep on leave to the picked member, then show where it went in the hand-over DM."""
    await ack()
    deps = context["deps"]
    parsed = parse_handover_block(action.get("block_id", ""))
    to_user = action.get("selected_user")
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=ephemeral(respond)) as t:
        if parsed is None or not isinstance(to_user, str):
            raise NotFound("error.task_not_found")
        task_id, from_member_id = parsed
        result = await task_changes.reassign_task(t.session, actor=t.actor, task_id=task_id, from_member_id=from_member_id, to_user_id=to_user, today=t.today)
        await t.session.commit()
        if result.changed:
            [to] = [m for m in result.added if m.slack_user_id == to_user] or [None]
            message = body.get("message") or {}
            if to is not None and message.get("blocks"):
                blocks = handover_moved(message["blocks"], action["block_id"], moved_line(t.loc, row=result.row, to=to))
                await respond(text=message.get("text") or "", blocks=blocks, replace_original=True)
            await after_edit(client, t.session, result=result, actor=t.actor, i18n=deps.i18n, admins=deps.settings.admins, now=t.now)


async def handle_home_notices(ack, body, action, client, context):
    """Turn the member's task notices on or off from their App Home, and redraw it."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"]) as t:
        await task_changes.set_task_notices(t.session, actor=t.actor, on=action.get("value") == "on")
        await t.session.commit()
        await publish_home(client, t.session, actor=t.actor, i18n=deps.i18n, now=t.now)
