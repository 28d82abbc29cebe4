"""The deal card's buttons: Next stage, Won, Lost, Reopen, Log activity and Edit; and /deal list's pages."""

from __future__ import annotations

from bot.unit import turn
from bot.blocks.deals import DealRef, DealsPageRef, build_deal_list, build_deal_modal, build_log_modal, build_lost_modal, build_reopen_modal
from bot.models import DealStatus
from bot.services import deal_list, deals
from bot.services.errors import NotFound, PermissionDenied, ServiceError
from bot.services.tasks import members_by_ids
from bot.surfaces import publish_homes
from handlers.deal_redraw import deal_surface
from handlers.replies import reply_to_click, open_modal


def _ref(action) -> DealRef:
    try:
        return DealRef.decode(action.get("value", ""))
    except (ValueError, TypeError):
        raise NotFound("deal.error.not_found", id="?") from None


async def _change(ack, body, action, client, respond, context, change):
    """Apply a change to the deal the card shows, then redraw the card (or its list page) in place."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = _ref(action)
        outcome = await change(t, deps, ref)
        await t.session.commit()
        note = t.loc.md("deal.card.won") if outcome.won else None
        text, blocks = await deal_surface(t, ref=ref, view=outcome.view, note=note)
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
    """Ask why the deal was lost (a modal) before the loss is recorded."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = _ref(action)
        dv = await deals.get_deal_view(t.session, actor=t.actor, deal_id=ref.deal_id)
        if dv.deal.status != DealStatus.OPEN:
            raise ServiceError("deal.lost.error.closed")
        view = build_lost_modal(dv, t.loc, metadata={"ref": ref.encode(), "ru": body.get("response_url")})
        await open_modal(client, body["trigger_id"], view)


async def handle_deal_reopen(ack, body, action, client, respond, context):
    """Ask a manager why a won or lost deal is reopened (a modal) before it is."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        ref = _ref(action)
        dv = await deals.get_deal_view(t.session, actor=t.actor, deal_id=ref.deal_id)
        if not deals.may_reopen(t.actor, dv.deal):
            raise PermissionDenied("deal.reopen.error.managers_only")
        view = build_reopen_modal(dv, t.loc, metadata={"ref": ref.encode(), "ru": body.get("response_url")})
        await open_modal(client, body["trigger_id"], view)


async def handle_deals_page(ack, body, action, client, respond, context):
    """Show the previous or next page of /deal list in place."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        try:
            ref = DealsPageRef.decode(action.get("value", ""))
        except (ValueError, TypeError):
            raise NotFound("deal.error.not_found", id="?") from None
        page = await deal_list.list_deals(t.session, actor=t.actor, query=ref.query, offset=ref.offset)
        text, blocks = build_deal_list(page, t.loc, tz=t.actor.member.tz, now=t.now, can_reopen=t.actor.can_assign)
        await respond(text=text, blocks=blocks, replace_original=True)


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
