"""Saving the deal modal (a new deal or changes to one)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slackapi import dm_channel
from bot.unit import turn
from bot.blocks.deals import build_deal_card
from bot.models import DealStatus, Segment, Stage
from bot.services import deals
from bot.services.errors import ValidationFailed
from bot.services.tasks import members_by_ids
from bot.surfaces import publish_homes
from bot.text import mention
from bot.blocks import ids
from handlers.replies import view_error
from handlers.views.state import enum_or, element, metadata, selected_date, selected_value, text_value

# Service field names → the modal's block ids, so an error shows under the right field.
log = logging.getLogger(__name__)

FIELD_BLOCKS = {
    "customer": ids.DEAL_CUSTOMER,
    "new_customer": ids.DEAL_NEW_CUSTOMER,
    "region": ids.DEAL_REGION,
    "contact": ids.DEAL_CONTACT,
    "product_line": ids.DEAL_PRODUCT,
    "title": ids.DEAL_TITLE,
    "amount": ids.DEAL_AMOUNT,
    "stage": ids.DEAL_STAGE,
    "status": ids.DEAL_STATUS,
    "owner": ids.DEAL_OWNER,
}


def draft_from_view(view: dict) -> deals.DealDraft:
    """Turn the submitted state into a DealDraft (values Slack could not have sent fall back to defaults)."""
    customer = selected_value(view, ids.DEAL_CUSTOMER)
    segment = selected_value(view, ids.DEAL_SEGMENT)
    stage = selected_value(view, ids.DEAL_STAGE)
    status = selected_value(view, ids.DEAL_STATUS)
    return deals.DealDraft(
        owner_user_id=element(view, ids.DEAL_OWNER).get("selected_user"),
        amount_text=text_value(view, ids.DEAL_AMOUNT),
        product_line=text_value(view, ids.DEAL_PRODUCT),
        title=text_value(view, ids.DEAL_TITLE),
        customer_id=int(customer) if customer and customer.isdigit() else None,
        new_customer_name=text_value(view, ids.DEAL_NEW_CUSTOMER) or None,
        new_customer_segment=enum_or(Segment, segment, Segment.SMB),
        new_customer_region=text_value(view, ids.DEAL_REGION) or None,
        contact=text_value(view, ids.DEAL_CONTACT) or None,
        stage=enum_or(Stage, stage, Stage.LEAD),
        status=enum_or(DealStatus, status, DealStatus.OPEN),
        expected_close=selected_date(view, ids.DEAL_CLOSE),
    )


async def handle_deal_submission(ack, body, view, client, context):
    """Validate and save the deal, then show its card to the author (and DM it to a new owner)."""
    deps = context["deps"]
    meta = metadata(view)
    deal_id = meta.get("deal") if isinstance(meta.get("deal"), int) else None
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, ids.DEAL_PRODUCT)) as t:
        before = await deals.get_deal_view(t.session, actor=t.actor, deal_id=deal_id) if deal_id else None
        previous_owner = before.owner_user_id if before else None
        try:
            outcome = await deals.save_deal(t.session, actor=t.actor, draft=draft_from_view(view), now=t.now, i18n=deps.i18n, deal_id=deal_id)
        except ValidationFailed as exc:
            errors = {FIELD_BLOCKS.get(f, ids.DEAL_PRODUCT): t.loc.t(key, **params)[:150] for f, (key, params) in exc.errors.items()}
            await ack(response_action="errors", errors=errors)
            return
        await t.session.commit()
        await ack()
        dv = outcome.view
        note = t.loc.md("deal.card.won") if outcome.won else t.loc.md("deal.card.updated" if deal_id else "deal.card.created")
        text, blocks = build_deal_card(dv, t.loc, tz=t.actor.member.tz, now=t.now, note=note)
        if meta.get("ru"):
            webhook = AsyncWebhookClient(meta["ru"])
            if meta.get("card"):  # opened from a card's Edit button: redraw that card in place
                await webhook.send(text=text, blocks=blocks, replace_original=True)
            else:  # from /deal: a new card, seen only by its author
                await webhook.send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        else:
            await client.chat_postMessage(channel=t.actor.member.slack_user_id, text=text, blocks=blocks)
        owner = (await members_by_ids(t.session, workspace_id=t.actor.workspace.id, member_ids=[dv.deal.owner_id]))[0]
        if owner.id != t.actor.member.id and dv.owner_user_id != previous_owner:
            await _send_owner_card(client, t, deps, owner, dv)
        if dv.checklist:
            await publish_homes(client, t.session, members=[owner], actor=t.actor, admins=deps.settings.admins, i18n=deps.i18n, now=t.now)


async def _send_owner_card(client, t, deps, owner, dv) -> None:
    """DM the card to the member a manager gave the deal to, in their language and time zone."""
    loc = deps.i18n.get(owner.locale)
    text, blocks = build_deal_card(dv, loc, tz=owner.tz, now=t.now, note=loc.md("deal.card.assigned", user=mention(t.actor.member.slack_user_id)))
    try:
        channel = await dm_channel(client, t.session, owner)
        await t.session.commit()
        await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as exc:  # the deal is saved; a failed DM must not look like a failed save
        log.warning("deal card to %s failed: %s", owner.slack_user_id, exc.response.get("error"))
