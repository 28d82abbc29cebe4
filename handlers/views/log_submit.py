"""Saving the log-activity modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.deals import activity_saved
from bot.models import ActivityKind
from bot.services import activities
from handlers.views.form import Form, save_form
from handlers.views.state import choice, metadata, metadata_id, selected_id, selected_value, text_value

# The deal and customer pickers only exist when the modal was not opened for one deal; the
# form falls back to the kind's block for errors about a field the view does not show.
FORM = Form(fallback=ids.LOG_KIND, fields={"customer": ids.LOG_CUSTOMER, "deal": ids.LOG_DEAL, "note": ids.LOG_NOTE})


def draft_from_view(view: dict, meta: dict) -> activities.ActivityDraft:
    """Turn the submitted state (and the deal the modal was opened for) into an ActivityDraft."""
    deal = metadata_id(meta, "deal")
    if deal is None:
        deal = selected_id(view, ids.LOG_DEAL)
    return activities.ActivityDraft(
        kind=choice(view, ids.LOG_KIND, ActivityKind, ActivityKind.CALL),
        effective=selected_value(view, ids.LOG_EFFECTIVE) != "no",
        note=text_value(view, ids.LOG_NOTE),
        customer_id=selected_id(view, ids.LOG_CUSTOMER),
        deal_id=deal,
    )


async def handle_log_submission(ack, body, view, client, context):
    """Record the activity and confirm it to the rep."""
    meta = metadata(view)

    async def save(t):
        return await activities.log_activity(t.session, actor=t.actor, draft=draft_from_view(view, meta), now=t.now)

    async def after(t, saved, confirm):
        activity, customer, deal = saved
        await confirm.notice(activity_saved(t.loc, kind=activity.kind, effective=activity.effective, customer_name=customer.name, deal=deal))

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
