"""Saving the deal modal (a new deal or changes to one)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.blocks import ids
from bot.blocks.deals import build_deal_card
from bot.models import DealStatus, Segment, Stage
from bot.services import deals
from bot.services.tasks import members_by_ids
from bot.slackapi import dm_channel
from bot.surfaces import publish_homes
from bot.text import mention
from handlers.views.form import Form, save_form
from handlers.views.state import choice, metadata, metadata_id, selected_date, selected_id, selected_user, text_value

log = logging.getLogger(__name__)

# Service field names → the modal's block ids, so an error shows under the right field.
FORM = Form(fallback=ids.DEAL_PRODUCT, fields={
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
})


def draft_from_view(view: dict) -> deals.DealDraft:
    """Turn the submitted state into a DealDraft; a value the form could not have sent is refused at its field."""
    return deals.DealDraft(
        owner_user_id=selected_user(view, ids.DEAL_OWNER),
        amount_text=text_value(view, ids.DEAL_AMOUNT),
        product_line=text_value(view, ids.DEAL_PRODUCT),
        title=text_value(view, ids.DEAL_TITLE),
        customer_id=selected_id(view, ids.DEAL_CUSTOMER),
        new_customer_name=text_value(view, ids.DEAL_NEW_CUSTOMER) or None,
        new_customer_segment=choice(view, ids.DEAL_SEGMENT, Segment, Segment.SMB),
        new_customer_region=text_value(view, ids.DEAL_REGION) or None,
        contact=text_value(view, ids.DEAL_CONTACT) or None,
        stage=choice(view, ids.DEAL_STAGE, Stage, Stage.LEAD),
        status=choice(view, ids.DEAL_STATUS, DealStatus, DealStatus.OPEN),
        expected_close=selected_date(view, ids.DEAL_CLOSE),
    )


@dataclass
class _Saved:
    outcome: deals.DealOutcome
    previous_owner: str | None


async def handle_deal_submission(ack, body, view, client, context):
    """Validate and save the deal, then show its card to the author (and DM it to a new owner)."""
    deps = context["deps"]
    meta = metadata(view)

    async def save(t):
        deal_id = metadata_id(meta, "deal")
        before = await deals.get_deal_view(t.session, actor=t.actor, deal_id=deal_id) if deal_id else None
        outcome = await deals.save_deal(t.session, actor=t.actor, draft=draft_from_view(view), now=t.now, i18n=deps.i18n, deal_id=deal_id)
        return _Saved(outcome, before.owner_user_id if before else None)

    async def after(t, saved, confirm):
        outcome, dv = saved.outcome, saved.outcome.view
        note = t.loc.md("deal.card.won") if outcome.won else t.loc.md("deal.card.updated" if meta.get("deal") else "deal.card.created")
        text, blocks = build_deal_card(dv, t.loc, tz=t.actor.member.tz, now=t.now, note=note, can_reopen=t.actor.can_assign)
        # Opened from a card's Edit button: redraw that card in place; from /deal: a new card for its author.
        await confirm.message(text, blocks, replace=bool(meta.get("card")))
        owner = (await members_by_ids(t.session, workspace_id=t.actor.workspace.id, member_ids=[dv.deal.owner_id]))[0]
        if owner.id != t.actor.member.id and dv.owner_user_id != saved.previous_owner:
            await _send_owner_card(client, t, deps, owner, dv)
        if dv.checklist:
            await publish_homes(client, t.session, members=[owner], actor=t.actor, admins=deps.settings.admins, i18n=deps.i18n, now=t.now)

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)


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
