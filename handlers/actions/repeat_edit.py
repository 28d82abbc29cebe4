"""Edit a repeat rule: the button beside Stop on `/mytasks repeats` and on a rule's own task cards."""

from __future__ import annotations

from bot.blocks.own_tasks import build_rule_edit_modal
from bot.blocks.refs import decode_id
from bot.services.errors import NotFound
from bot.services.repeats import editable_rule
from bot.unit import turn
from handlers.replies import open_modal, reply_to_click


async def handle_repeat_edit(ack, body, action, client, respond, context):
    """Open the rule's edit modal prefilled, for whoever may edit it (checked again when it is saved)."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        try:
            rule_id = decode_id(action.get("value", ""))
        except ValueError:
            raise NotFound("repeat.error.not_found") from None
        rule, full, assignees = await editable_rule(t.session, actor=t.actor, rule_id=rule_id)
        view = build_rule_edit_modal(t.loc, rule=rule, assignees=assignees if full else None,
                                     metadata={"id": rule.id, "ru": body.get("response_url")})
        await open_modal(client, body["trigger_id"], view)
