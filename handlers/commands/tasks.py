"""/tasks: the team board for managers and admins, as an ephemeral, paginated list grouped by rep."""

from bot.unit import turn
from bot.blocks.board import build_board
from bot.services.board import parse_board, team_board
from handlers.replies import ephemeral


async def handle_tasks(ack, command, client, respond, context):
    """Show the first page of the team board for the filters typed."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        query = parse_board(command.get("text", ""))
        page = await team_board(t.session, actor=t.actor, query=query, today=t.today)
        text, blocks = build_board(page, t.loc, t.today, viewer=t.actor)
        await respond(text=text, blocks=blocks, response_type="ephemeral")
