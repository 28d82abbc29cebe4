"""Where a deal button was clicked, drawn again: its card, or the `/deal list` page it sits on."""

from __future__ import annotations

from bot.blocks.deals import DealRef, build_deal_card, build_deal_list
from bot.services.deal_list import list_deals
from bot.services.deals import DealView
from bot.text import SlackSafe
from bot.unit import Turn


async def deal_surface(t: Turn, *, ref: DealRef, view: DealView, note: SlackSafe | None = None) -> tuple[str, list[dict]]:
    """The clicked card redrawn, or the whole list page it came from (with a note on top)."""
    can_reopen = t.actor.can_assign
    query = ref.query
    if query is None:
        return build_deal_card(view, t.loc, tz=t.actor.member.tz, now=t.now, note=note, can_reopen=can_reopen)
    page = await list_deals(t.session, actor=t.actor, query=query, offset=ref.offset)
    return build_deal_list(page, t.loc, tz=t.actor.member.tz, now=t.now, can_reopen=can_reopen, note=note)
