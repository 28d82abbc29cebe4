"""/mytasks: the rep's own tasks as an ephemeral, paginated list; `/mytasks add …` writes one down."""

from bot.unit import turn
from bot.blocks.own_tasks import build_own_created, build_rule_list
from bot.blocks.tasks import PAGE_SIZE, build_task_list
from bot.parsing import is_mytasks_add, is_mytasks_repeats, parse_mytasks, parse_mytasks_add
from bot.services.errors import ServiceError, ValidationFailed
from bot.services.own_tasks import create_own_task
from bot.services.repeats import list_rules
from bot.services.tasks import list_my_tasks, require_roster
from bot.surfaces import publish_home
from handlers.replies import ephemeral


async def handle_mytasks(ack, command, client, respond, context):
    """List the caller's tasks: open (default), overdue, done or all; add one of their own; or list their repeat rules."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        typed = command.get("text", "")
        if is_mytasks_add(typed):
            draft = parse_mytasks_add(typed, today=t.today)
            try:
                result = await create_own_task(t.session, actor=t.actor, draft=draft, today=t.today)
            except ValidationFailed as exc:  # a command has no fields: the first problem is the answer
                key, params = next(iter(exc.errors.values()))
                raise ServiceError(key, **params) from None
            await t.session.commit()
            text, blocks = build_own_created(t.loc, t.today, row=result.row, rule=result.rule)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            await publish_home(client, t.session, actor=t.actor, i18n=deps.i18n, now=t.now)
            return
        if is_mytasks_repeats(typed):
            require_roster(t.actor)
            rules, total = await list_rules(t.session, actor=t.actor)
            text, blocks = build_rule_list(rules, total, t.loc)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        which = parse_mytasks(typed)
        page = await list_my_tasks(t.session, actor=t.actor, which=which, today=t.today, offset=0, limit=PAGE_SIZE)
        text, blocks = build_task_list(page, which, t.loc, t.today, viewer=t.actor)
        await respond(text=text, blocks=blocks, response_type="ephemeral")
