"""/log: open the modal that logs a customer touch (`/log ID` for a deal)."""

from __future__ import annotations

import re

from bot.unit import turn
from bot.blocks.deals import build_log_modal
from bot.parsing import unescape
from bot.services import deals
from bot.services.errors import ServiceError
from handlers.replies import ephemeral, open_modal

_DEAL_ID = re.compile(r"#?(\d{1,9})")  # nine digits always fit an integer column


async def handle_log(ack, command, client, respond, context):
    """Open the log-activity modal, on a deal when its id is given."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        deals.require_roster(t.actor)
        text = unescape(command.get("text", "")).strip()
        metadata = {"ru": command.get("response_url")}
        if text:
            m = _DEAL_ID.fullmatch(text)
            if not m:
                raise ServiceError("deal.log.error.usage")
            dv = await deals.get_deal_view(t.session, actor=t.actor, deal_id=int(m.group(1)))
            metadata["deal"] = dv.deal.id
            view = build_log_modal(t.loc, metadata=metadata, deal=dv)
        else:
            view = build_log_modal(t.loc, metadata=metadata, deals=await deals.open_deals_of(t.session, actor=t.actor))
        await open_modal(client, command["trigger_id"], view)
