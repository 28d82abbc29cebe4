"""Saving a note on a task."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unit import turn
from bot.blocks.refs import TaskRef
from bot.blocks.tasks import build_notice
from bot.services import tasks
from bot.services.errors import NotFound, ValidationFailed
from bot.blocks import ids
from handlers.replies import direct_message, view_error
from handlers.views.state import metadata, text_value


async def handle_note_submission(ack, body, view, client, context):
    """Record the note in the task's history and confirm to its author."""
    deps = context["deps"]
    meta = metadata(view)
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, ids.NOTE_TEXT)) as t:
        try:
            ref = TaskRef.decode(meta.get("ref", ""))
        except ValueError:
            raise NotFound("error.task_not_found") from None
        try:
            row = await tasks.add_note(t.session, actor=t.actor, task_id=ref.task_id, note=text_value(view, ids.NOTE_TEXT))
        except ValidationFailed as exc:
            key, params = exc.errors["note"]
            await ack(response_action="errors", errors={ids.NOTE_TEXT: t.loc.t(key, **params)})
            return
        await t.session.commit()
        await ack()
        saved = t.loc.md("note.saved", title=row.task.title)
        if meta.get("ru"):
            text, blocks = build_notice(saved)
            await AsyncWebhookClient(meta["ru"]).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        else:  # opened from the App Home, which has no response_url
            await direct_message(client, t.actor.member.slack_user_id)(saved)
