"""Stop repeating: the button on a repeat rule's reply and on each of its task cards."""

from __future__ import annotations

from bot.blocks.own_tasks import rule_stopped_text
from bot.blocks.refs import decode_id
from bot.services.errors import NotFound
from bot.services.repeats import stop_rule
from bot.unit import turn
from handlers.replies import reply_to_click


async def handle_repeat_stop(ack, body, action, client, respond, context):
    """Stop a repeat rule (once); tasks already made stay, later dates are not made."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        try:
            rule_id = decode_id(action.get("value", ""))
        except ValueError:
            raise NotFound("repeat.error.not_found") from None
        rule, changed = await stop_rule(t.session, actor=t.actor, rule_id=rule_id)
        await t.session.commit()
        await reply_to_click(body, client, respond)(rule_stopped_text(t.loc, rule, changed=changed))
