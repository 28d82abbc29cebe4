"""/suggest: open the suggestion modal, or list the new suggestions for managers."""

from bot.unit import turn
from bot.blocks.suggestions import build_suggest_modal, build_suggestion_list
from bot.parsing import parse_suggest
from bot.services.suggestions import list_new_suggestions
from bot.services.tasks import require_roster
from handlers.replies import ephemeral, open_modal


async def handle_suggest(ack, command, client, respond, context):
    """Open the modal (any text prefills it); `/suggest list` shows managers and admins what is undecided."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        action, text = parse_suggest(command.get("text", ""))
        if action == "list":
            rows, total = await list_new_suggestions(t.session, actor=t.actor)
            text, blocks = build_suggestion_list(rows, total, t.loc, tz=t.actor.member.tz)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        require_roster(t.actor)
        view = build_suggest_modal(t.loc, text=text, metadata={"ru": command.get("response_url")})
        await open_modal(client, command["trigger_id"], view)
