"""Saving the log-activity modal."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unit import turn
from bot.blocks.deals import activity_saved
from bot.blocks.tasks import build_notice
from bot.models import ActivityKind
from bot.services import activities
from bot.services.errors import ValidationFailed
from bot.blocks import ids
from handlers.replies import direct_message, view_error
from handlers.views.state import enum_or, metadata, selected_value, text_value


def draft_from_view(view: dict, meta: dict) -> activities.ActivityDraft:
    """Turn the submitted state (and the deal the modal was opened for) into an ActivityDraft."""
    kind = selected_value(view, ids.LOG_KIND)
    customer = selected_value(view, ids.LOG_CUSTOMER)
    deal = meta.get("deal") if isinstance(meta.get("deal"), int) else None
    picked = selected_value(view, ids.LOG_DEAL)
    if deal is None and picked and picked.isdigit():
        deal = int(picked)
    return activities.ActivityDraft(
        kind=enum_or(ActivityKind, kind, ActivityKind.CALL),
        effective=selected_value(view, ids.LOG_EFFECTIVE) != "no",
        note=text_value(view, ids.LOG_NOTE),
        customer_id=int(customer) if customer and customer.isdigit() else None,
        deal_id=deal,
    )


async def handle_log_submission(ack, body, view, client, context):
    """Record the activity and confirm it to the rep."""
    deps = context["deps"]
    meta = metadata(view)
    # The deal picker only exists when the modal was not opened for one deal; errors go where the rep can see them.
    deal_block = ids.LOG_DEAL if "deal" not in meta else ids.LOG_KIND
    blocks_by_field = {"customer": ids.LOG_CUSTOMER if "deal" not in meta else ids.LOG_KIND, "deal": deal_block, "note": ids.LOG_NOTE}
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, ids.LOG_KIND)) as t:
        draft = draft_from_view(view, meta)
        try:
            activity, customer, deal = await activities.log_activity(t.session, actor=t.actor, draft=draft, now=t.now)
        except ValidationFailed as exc:
            present = {b["block_id"] for b in view.get("blocks", [])}
            errors = {}
            for f, (key, params) in exc.errors.items():
                block = blocks_by_field.get(f, ids.LOG_KIND)
                errors[block if block in present else ids.LOG_KIND] = t.loc.t(key, **params)[:150]
            await ack(response_action="errors", errors=errors)
            return
        await t.session.commit()
        await ack()
        saved = activity_saved(t.loc, kind=activity.kind, effective=activity.effective, customer_name=customer.name, deal=deal)
        if meta.get("ru"):
            text, blocks = build_notice(saved)
            await AsyncWebhookClient(meta["ru"]).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        else:
            await direct_message(client, t.actor.member.slack_user_id)(saved)
