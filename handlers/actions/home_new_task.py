"""New task on the App Home: opens the small modal for a task of the member's own."""

from __future__ import annotations

from bot.blocks.own_tasks import build_new_task_modal
from bot.services.tasks import require_roster
from bot.unit import turn
from handlers.replies import open_modal, reply_to_click


async def handle_home_new_task(ack, body, client, respond, context):
    """Open the New task modal for a member on a team."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=reply_to_click(body, client, respond)) as t:
        require_roster(t.actor)
        await open_modal(client, body["trigger_id"], build_new_task_modal(t.loc, metadata={}))
