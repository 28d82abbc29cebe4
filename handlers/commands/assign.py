"""/assign: open the assign modal for managers."""

from bot.unit import turn
from bot.blocks.modals import AssignPrefill, build_assign_modal
from bot.parsing import parse_assign
from bot.services.tasks import require_assigner
from handlers.replies import ephemeral, open_modal


async def handle_assign(ack, command, client, respond, context):
    """Open the assign modal, prefilled from `/assign @user title`; reps are told only managers assign."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        require_assigner(t.actor)
        cmd = parse_assign(command.get("text", ""))
        # The command's response_url lets the submission confirm in the channel it came from.
        metadata = {"ch": command.get("channel_id"), "ru": command.get("response_url")}
        view = build_assign_modal(t.loc, prefill=AssignPrefill(title=cmd.title, assignees=cmd.assignees), metadata=metadata)
        await open_modal(client, command["trigger_id"], view)
