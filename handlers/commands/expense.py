"""/expense AMOUNT CATEGORY [DEAL-ID]: record a sales expense."""

from __future__ import annotations

from bot.unit import turn
from bot.blocks.deals import expense_saved
from bot.blocks.tasks import build_notice
from bot.parsing import unescape
from bot.services import activities
from bot.services.deals import get_customer
from handlers.replies import ephemeral


async def handle_expense(ack, command, client, respond, context):
    """Record the expense on the caller's today (their time zone) and confirm; bad input gets the usage hint."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        data = activities.parse_expense(unescape(command.get("text", "")))
        expense, deal = await activities.record_expense(t.session, actor=t.actor, data=data, today=t.today)
        customer = await get_customer(t.session, actor=t.actor, customer_id=deal.customer_id) if deal else None
        await t.session.commit()
        text, blocks = build_notice(expense_saved(
            t.loc, amount=expense.amount, currency=t.actor.workspace.currency, category=expense.category,
            spent_on=expense.spent_on, deal=deal, customer_name=customer.name if customer else None,
        ))
        await respond(text=text, blocks=blocks, response_type="ephemeral")
