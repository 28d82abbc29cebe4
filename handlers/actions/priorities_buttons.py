"""Done, Snooze to tomorrow and See all on the morning priorities DM."""

from __future__ import annotations

from bot.unit import turn
from bot.blocks.priorities import build_priorities
from bot.blocks.refs import decode_id
from bot.blocks.tasks import PAGE_SIZE, build_task_list
from bot.notices import after_done
from bot.services import priorities, tasks
from bot.services.errors import NotFound
from bot.services.tasks import TaskFilter
from handlers.replies import ephemeral


def _task_id(action) -> int:
    try:
        return decode_id(action.get("value", ""))
    except (TypeError, ValueError):
        raise NotFound("error.task_not_found") from None


async def _redraw(t, respond) -> None:
    """Draw the clicker's priorities again, in place of the DM that was clicked."""
    recipient = await priorities.recipient_for(t.session, member=t.actor.member, now=t.now)
    [p] = await priorities.load_priorities(t.session, recipients=[recipient], now=t.now)
    text, blocks = build_priorities(p, t.loc)
    await respond(text=text, blocks=blocks, replace_original=True)


async def handle_daily_done(ack, body, action, client, respond, context):
    """Complete a task from the morning DM (once, however often clicked) and redraw the DM."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=ephemeral(respond)) as t:
        row, changed = await tasks.complete_task(t.session, actor=t.actor, task_id=_task_id(action))
        await t.session.commit()
        await _redraw(t, respond)
        if changed:
            await after_done(client, t.session, row=row, actor=t.actor, i18n=context["deps"].i18n)


async def handle_daily_snooze(ack, body, action, client, respond, context):
    """Move a task's due date to tomorrow in the clicker's zone (once) and redraw the DM."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=ephemeral(respond)) as t:
        await priorities.snooze_task(t.session, actor=t.actor, task_id=_task_id(action), now=t.now)
        await t.session.commit()
        await _redraw(t, respond)


async def handle_daily_see_all(ack, body, client, respond, context):
    """Show the clicker's open tasks as /mytasks does, visible only to them."""
    await ack()
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=ephemeral(respond)) as t:
        page = await tasks.list_my_tasks(t.session, actor=t.actor, which=TaskFilter.OPEN, today=t.today, limit=PAGE_SIZE)
        text, blocks = build_task_list(page, TaskFilter.OPEN, t.loc, t.today, viewer=t.actor)
        await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
