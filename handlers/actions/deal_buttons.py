"""The deal card's buttons: Next stage, Won, Lost, Log activity and Edit."""

from __future__ import annotations

from bot.unit import turn
from bot.blocks.deals import DealRef, build_deal_card, build_deal_modal, build_log_modal
from bot.models import DealStatus
from bot.services import deals
from bot.services.errors import NotFound
from bot.services.tasks import members_by_ids
from bot.surfaces import publish_homes
from handlers.replies import reply_to_click, open_modal


def _ref(action) -> DealRef:
    try:
        return DealRef.decode(action.get("value", ""))
    except (ValueError, TypeError):
        raise NotFound("deal.error.not_found", id="?") from None


async def _change(ack, body, action, client, respond, context, change):
    """Apply a change to the deal the card shows, then redraw the card in place."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        outcome = await change(t, deps, _ref(action))
        await t.session.commit()
        note = t.loc.md("deal.card.won") if outcome.won else None
        text, blocks = build_deal_card(outcome.view, t.loc, tz=t.actor.member.tz, now=t.now, note=note)
        await respond(text=text, blocks=blocks, replace_original=True)
        if outcome.view.checklist:  # new checklist tasks: the owner's Home lists them
            owners = await members_by_ids(t.session, workspace_id=t.actor.workspace.id, member_ids=[outcome.view.deal.owner_id])
            await publish_homes(client, t.session, members=owners, actor=t.actor, admins=deps.settings.admins, i18n=deps.i18n, now=t.now)


async def handle_deal_next(ack, body, action, client, respond, context):
    """Move the deal to the next stage, once however often clicked."""

    async def change(t, deps, ref):
        return await deals.advance_stage(t.session, actor=t.actor, deal_id=ref.deal_id, expected=ref.stage, now=t.now, i18n=deps.i18n)

    await _change(ack, body, action, client, respond, context, change)


async def handle_deal_won(ack, body, action, client, respond, context):
    """Mark the deal won (once) and schedule the customer's satisfaction survey."""

    async def change(t, deps, ref):
        return await deals.close_deal(t.session, actor=t.actor, deal_id=ref.deal_id, status=DealStatus.WON, now=t.now)

    await _change(ack, body, action, client, respond, context, change)


async def handle_deal_lost(ack, body, action, client, respond, context):
    """Mark the deal lost (once)."""

    async def change(t, deps, ref):
        return await deals.close_deal(t.session, actor=t.actor, deal_id=ref.deal_id, status=DealStatus.LOST, now=t.now)

    await _change(ack, body, action, client, respond, context, change)


async def handle_deal_log(ack, body, action, client, respond, context):
    """Open the log-activity modal for the card's deal."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        dv = await deals.get_deal_view(t.session, actor=t.actor, deal_id=_ref(action).deal_id)
        view = build_log_modal(t.loc, metadata={"deal": dv.deal.id, "ru": body.get("response_url")}, deal=dv)
        await open_modal(client, body["trigger_id"], view)


async def handle_deal_edit(ack, body, action, client, respond, context):
    """Open the deal modal prefilled; saving it redraws this card."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        dv = await deals.get_deal_view(t.session, actor=t.actor, deal_id=_ref(action).deal_id)
        customer = await deals.get_customer(t.session, actor=t.actor, customer_id=dv.deal.customer_id)
        contact = (customer.contact_channel_id or customer.contact_user_id) if customer else None
        metadata = {"deal": dv.deal.id, "ru": body.get("response_url"), "card": 1}
        view = build_deal_modal(t.loc, owner_user_id=dv.owner_user_id, metadata=metadata, view=dv, contact=contact)
        await open_modal(client, body["trigger_id"], view)
