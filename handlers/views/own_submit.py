"""Saving the App Home's New task modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.own_tasks import build_own_created
from bot.models import Priority
from bot.services.own_tasks import OwnTaskDraft, create_own_task
from bot.surfaces import publish_home
from handlers.views.form import Form, save_form
from handlers.views.state import BadField, selected_date, selected_value, text_value

FORM = Form(fallback=ids.OWN_TITLE, fields={"title": ids.OWN_TITLE, "due_date": ids.OWN_DUE, "customer": ids.OWN_CUSTOMER})


def draft_from_view(view: dict) -> OwnTaskDraft:
    """The submitted task; a priority the form could not have sent is refused at its field."""
    priority = selected_value(view, ids.OWN_PRIORITY) or str(Priority.MEDIUM.value)
    if priority not in {"1", "2", "3"}:
        raise BadField(ids.OWN_PRIORITY, "form.error.bad_choice")
    return OwnTaskDraft(
        title=text_value(view, ids.OWN_TITLE), due_date=selected_date(view, ids.OWN_DUE), priority=Priority(int(priority)),
        customer_name=text_value(view, ids.OWN_CUSTOMER) or None,
    )


async def handle_own_task_submission(ack, body, view, client, context):
    """Save the member's own task, confirm it by DM and redraw their Home."""
    deps = context["deps"]

    async def save(t):
        return await create_own_task(t.session, actor=t.actor, draft=draft_from_view(view), today=t.today)

    async def after(t, result, confirm):
        text, blocks = build_own_created(t.loc, t.today, row=result.row, rule=result.rule)
        await confirm.message(text, blocks)
        await publish_home(client, t.session, actor=t.actor, i18n=deps.i18n, now=t.now)

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
