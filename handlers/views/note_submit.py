"""Saving a note on a task."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.refs import TaskRef
from bot.notices import after_note
from bot.services import tasks
from bot.services.errors import NotFound
from handlers.views.form import Form, save_form
from handlers.views.state import BadField, MAX_ID, metadata, text_value

FORM = Form(fallback=ids.NOTE_TEXT, fields={"note": ids.NOTE_TEXT})


def _task_ref(meta: dict) -> TaskRef:
    try:
        ref = TaskRef.decode(str(meta.get("ref", "")))
    except ValueError:
        raise NotFound("error.task_not_found") from None
    if not 0 < ref.task_id <= MAX_ID:
        raise BadField(None, "form.error.stale")
    return ref


async def handle_note_submission(ack, body, view, client, context):
    """Record the note in the task's history and confirm to its author."""
    meta = metadata(view)

    async def save(t):
        ref = _task_ref(meta)
        return await tasks.add_note(t.session, actor=t.actor, task_id=ref.task_id, note=text_value(view, ids.NOTE_TEXT))

    async def after(t, row, confirm):
        await confirm.notice(t.loc.md("note.saved", title=row.task.title))
        await after_note(client, t.session, row=row, actor=t.actor, note=text_value(view, ids.NOTE_TEXT).strip(), i18n=context["deps"].i18n)

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
