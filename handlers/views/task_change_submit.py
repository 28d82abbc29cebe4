"""Saving the edit modal and the cancel reason."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.refs import TaskRef
from bot.blocks.tasks import build_task_card, build_task_list, PAGE_SIZE
from bot.blocks.refs import Surface
from bot.models import Priority, Segment, Stage
from bot.notices import after_edit, after_status
from bot.services import task_changes
from bot.services.errors import NotFound
from bot.services.tasks import get_task_row, list_my_tasks
from bot.surfaces import publish_home
from handlers.views.assign_submit import FORM as ASSIGN_FORM, _level
from handlers.views.form import Form, save_form
from handlers.views.state import choice, metadata, metadata_id, selected_date, selected_id, selected_users, text_value

# Errors about the form as a whole show under priority: the one input both the full and the short modal have.
EDIT_FORM = Form(fallback=ids.ASSIGN_PRIORITY, fields={**ASSIGN_FORM.fields, "deal": ids.TASK_EDIT_DEAL})
CANCEL_FORM = Form(fallback=ids.CANCEL_REASON, fields={"reason": ids.CANCEL_REASON})


def _has(view: dict, block_id: str) -> bool:
    return any(isinstance(b, dict) and b.get("block_id") == block_id for b in view.get("blocks") or [])


def edit_from_view(view: dict) -> task_changes.TaskEdit:
    """The submitted fields as an edit; a block the modal did not show leaves its field as it is."""
    edit = task_changes.TaskEdit(
        priority=Priority(_level(view, ids.ASSIGN_PRIORITY, {"1", "2", "3"}, Priority.MEDIUM.value)),
        due_date=selected_date(view, ids.ASSIGN_DUE),
    )
    edit.clear_due = edit.due_date is None
    if _has(view, ids.ASSIGN_TITLE):  # the full modal (a rep's own task shows only due date and priority)
        edit.title = text_value(view, ids.ASSIGN_TITLE)
        edit.details = text_value(view, ids.ASSIGN_DETAILS)
        edit.assignee_user_ids = selected_users(view, ids.ASSIGN_ASSIGNEES)
        edit.customer_id = selected_id(view, ids.ASSIGN_CUSTOMER)
        edit.new_customer_name = text_value(view, ids.ASSIGN_NEW_CUSTOMER) or None
        edit.new_customer_segment = choice(view, ids.ASSIGN_SEGMENT, Segment, Segment.SMB)
        edit.clear_customer = edit.customer_id is None and not edit.new_customer_name
        edit.stage = choice(view, ids.ASSIGN_STAGE, Stage, None)
        edit.clear_stage = edit.stage is None
        edit.difficulty = _level(view, ids.ASSIGN_DIFFICULTY, {"1", "2", "3"}, 1)
        if _has(view, ids.TASK_EDIT_DEAL):
            edit.deal_id = selected_id(view, ids.TASK_EDIT_DEAL)
            edit.clear_deal = edit.deal_id is None
    return edit


def _task_id(meta: dict) -> int:
    task_id = metadata_id(meta, "id")
    if task_id is None:
        raise NotFound("error.task_not_found")
    return task_id


async def handle_task_edit_submission(ack, body, view, client, context):
    """Save the changed fields (one history entry each), then tell the people on the task and redraw their cards and Homes."""
    deps = context["deps"]
    meta = metadata(view)

    async def save(t):
        return await task_changes.edit_task(t.session, actor=t.actor, task_id=_task_id(meta), edit=edit_from_view(view), today=t.today)

    async def after(t, result, confirm):
        if result.changed:
            await confirm.notice(t.loc.mdn("task.edit.saved", len(result.changes), title=result.row.task.title))
        else:
            await confirm.notice(t.loc.md("task.edit.unchanged", title=result.row.task.title))
        await after_edit(client, t.session, result=result, actor=t.actor, i18n=deps.i18n, admins=deps.settings.admins, now=t.now)

    await save_form(ack, body, view, client, context, form=EDIT_FORM, save=save, after=after)


async def handle_task_cancel_submission(ack, body, view, client, context):
    """Cancel the task with the reason given (once), redraw where Cancel was clicked, and tell its assignees."""
    deps = context["deps"]
    meta = metadata(view)

    async def save(t):
        return await task_changes.cancel_task(t.session, actor=t.actor, task_id=_task_id(meta), reason=text_value(view, ids.CANCEL_REASON))

    async def after(t, outcome, confirm):
        row, changed = outcome
        try:
            ref = TaskRef.decode(str(meta.get("ref") or ""))
        except ValueError:
            ref = None
        # Where Cancel was clicked is drawn again: the list or card in place, or the Home.
        if ref is not None and ref.surface == Surface.HOME:
            await publish_home(client, t.session, actor=t.actor, i18n=deps.i18n, now=t.now)
        elif ref is not None and ref.surface == Surface.LIST and confirm.response_url:
            page = await list_my_tasks(t.session, actor=t.actor, which=ref.which, today=t.today, offset=ref.offset, limit=PAGE_SIZE)
            await confirm.message(*build_task_list(page, ref.which, t.loc, t.today, viewer=t.actor), replace=True)
        elif confirm.response_url and ref is not None:
            fresh = await get_task_row(t.session, actor=t.actor, task_id=row.task.id)
            await confirm.message(*build_task_card(fresh, t.loc, t.today, viewer=t.actor), replace=True)
        else:
            await confirm.notice(t.loc.md("task.cancel.saved", title=row.task.title))
        if changed:
            await after_status(client, t.session, row=row, actor=t.actor, cancelled=True, reason=text_value(view, ids.CANCEL_REASON).strip(), i18n=deps.i18n, admins=deps.settings.admins, now=t.now)

    await save_form(ack, body, view, client, context, form=CANCEL_FORM, save=save, after=after)
