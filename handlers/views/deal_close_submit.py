"""Saving the Lost modal (why the deal was lost) and the Reopen modal (why a manager reopens it)."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.deals import DealRef
from bot.models import DealStatus, LostReason
from bot.services import deals
from bot.services.errors import NotFound
from handlers.deal_redraw import deal_surface
from handlers.views.form import Form, save_form
from handlers.views.state import choice, metadata, text_value

LOST_FORM = Form(fallback=ids.LOST_REASON, fields={"reason": ids.LOST_REASON, "note": ids.LOST_NOTE})
REOPEN_FORM = Form(fallback=ids.REOPEN_NOTE, fields={"note": ids.REOPEN_NOTE})


def _ref(meta: dict) -> DealRef:
    try:
        return DealRef.decode(str(meta.get("ref", "")))
    except (ValueError, TypeError):
        raise NotFound("deal.error.not_found", id="?") from None


async def _redraw(t, ref: DealRef, outcome, confirm, key: str) -> None:
    """Redraw the card or list page the button was on, with a line saying what happened (or that nothing did)."""
    note = t.loc.md(key) if outcome.changed else t.loc.md("deal.close.unchanged")
    text, blocks = await deal_surface(t, ref=ref, view=outcome.view, note=note)
    await confirm.message(text, blocks, replace=True)


async def handle_lost_submission(ack, body, view, client, context):
    """Record the loss with its reason, once however often submitted, and redraw where Lost was clicked."""
    meta = metadata(view)

    async def save(t):
        ref = _ref(meta)
        reason = choice(view, ids.LOST_REASON, LostReason, None)
        return ref, await deals.close_deal(t.session, actor=t.actor, deal_id=ref.deal_id, status=DealStatus.LOST, now=t.now,
                                           reason=reason, note=text_value(view, ids.LOST_NOTE))

    async def after(t, saved, confirm):
        await _redraw(t, *saved, confirm, "deal.card.lost")

    await save_form(ack, body, view, client, context, form=LOST_FORM, save=save, after=after)


async def handle_reopen_submission(ack, body, view, client, context):
    """Reopen the won or lost deal with the manager's reason, once, and redraw where Reopen was clicked."""
    meta = metadata(view)

    async def save(t):
        ref = _ref(meta)
        return ref, await deals.reopen_deal(t.session, actor=t.actor, deal_id=ref.deal_id, note=text_value(view, ids.REOPEN_NOTE), now=t.now)

    async def after(t, saved, confirm):
        await _redraw(t, *saved, confirm, "deal.card.reopened")

    await save_form(ack, body, view, client, context, form=REOPEN_FORM, save=save, after=after)
