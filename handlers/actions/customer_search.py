"""Options for the customer picker in the assign modal."""

from bot.unit import turn
from bot.blocks.modals import customer_options
from bot.services.tasks import search_customers


async def handle_customer_search(ack, body, client, context):
    """Answer the external select with customers matching what the manager typed."""
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"]) as t:
        found = await search_customers(t.session, workspace_id=t.actor.workspace.id, query=body.get("value", ""))
        await ack(options=customer_options(found, t.loc))
