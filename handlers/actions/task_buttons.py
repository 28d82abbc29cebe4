"""Start, Done, Add note and Previous/Next on task lists, cards and the App Home."""

from __future__ import annotations

from bot.unit import turn
from bot.blocks.modals import build_note_modal
from bot.blocks.refs import Surface, TaskRef
from bot.services import tasks
from bot.services.errors import NotFound
from bot.notices import after_done
from bot.surfaces import publish_homes, redraw
from handlers.replies import reply_to_click, open_modal


def _ref(action) -> TaskRef:
    try:
        return TaskRef.decode(action.get("value", ""))
    except (ValueError, TypeError):
        raise NotFound("error.task_not_found") from None


async def _change(ack, body, action, client, respond, context, change, *, done: bool = False):
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = _ref(action)
        row, changed = await change(t.session, actor=t.actor, task_id=ref.task_id)
        await t.session.commit()
        await redraw(respond, client, t.session, actor=t.actor, ref=ref, i18n=deps.i18n, now=t.now)
        if changed and done:
            await after_done(client, t.session, row=row, actor=t.actor, i18n=deps.i18n)
        if changed:
            members = await tasks.members_by_slack_ids(t.session, workspace_id=t.actor.workspace.id, user_ids=row.assignees)
            others = [m for m in members if m.id != t.actor.member.id]
            if ref.surface != Surface.HOME:
                others.append(t.actor.member)
            await publish_homes(client, t.session, members=others, actor=t.actor, admins=deps.settings.admins, i18n=deps.i18n, now=t.now)


async def handle_task_start(ack, body, action, client, respond, context):
    """Start a task (once) and redraw where it was clicked."""
    await _change(ack, body, action, client, respond, context, tasks.start_task)


async def handle_task_done(ack, body, action, client, respond, context):
    """Complete a task (once, however often clicked) and redraw where it was clicked."""
    await _change(ack, body, action, client, respond, context, tasks.complete_task, done=True)


async def handle_task_note(ack, body, action, client, respond, context):
    """Open the note modal for a task the clicker may act on."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = _ref(action)
        row = await tasks.get_task_row(t.session, actor=t.actor, task_id=ref.task_id)
        metadata = {"ref": ref.encode(), "ru": body.get("response_url")}
        view = build_note_modal(t.loc, task_title=row.task.title, metadata=metadata)
        await open_modal(client, body["trigger_id"], view)


async def handle_tasks_page(ack, body, action, client, respond, context):
    """Show the previous or next page of /mytasks or of the team board in place."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = _ref(action)
        await redraw(respond, client, t.session, actor=t.actor, ref=ref, i18n=deps.i18n, now=t.now)

