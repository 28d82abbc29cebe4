"""/mytasks: the rep's own tasks as an ephemeral, paginated list."""

from bot.unit import turn
from bot.blocks.tasks import PAGE_SIZE, build_task_list
from bot.parsing import parse_mytasks
from bot.services.tasks import list_my_tasks
from handlers.replies import ephemeral


async def handle_mytasks(ack, command, client, respond, context):
    """List the caller's tasks: open (default), overdue, done or all."""
    await ack()
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        which = parse_mytasks(command.get("text", ""))
        page = await list_my_tasks(t.session, actor=t.actor, which=which, today=t.today, offset=0, limit=PAGE_SIZE)
        text, blocks = build_task_list(page, which, t.loc, t.today, viewer=t.actor)
        await respond(text=text, blocks=blocks, response_type="ephemeral")
