"""/target: set, split and show a team's sales targets."""

from bot.unit import turn
from bot.blocks.targets import build_set_confirmation, build_split_confirmation, build_split_modal, build_target_view
from bot.blocks.tasks import build_notice
from bot.services import targets
from handlers.replies import ephemeral, open_modal


async def handle_target(ack, command, client, respond, context):
    """Show attainment (anyone on a team), or set and split targets (managers and admins)."""
    await ack()
    reply = ephemeral(respond)
    async with turn(context["deps"], client, team_id=command["team_id"], user_id=command["user_id"], reply=reply) as t:
        cmd = targets.parse_target(command.get("text", ""))
        currency = t.actor.workspace.currency or "CNY"
        if cmd.action == "set":
            result = await targets.set_target(t.session, actor=t.actor, period=cmd.period, amount=cmd.amount, team_name=cmd.team)
            text, blocks = build_notice(build_set_confirmation(result, t.loc, currency))
        elif cmd.action == "split" and cmd.shares is None and cmd.by in targets.DIMENSIONS:
            # No shares for a dimension: the form lists the keys we know; with none known, a hint.
            form = await targets.split_form(t.session, actor=t.actor, period=cmd.period, by=cmd.by, team_name=cmd.team)
            metadata = {"ru": command.get("response_url"), "team": cmd.team}
            view = build_split_modal(t.loc, period=cmd.period, by=cmd.by, keys=form.keys, parent_amount=form.parent.amount, currency=currency, metadata=metadata)
            await open_modal(client, command["trigger_id"], view)
            return
        elif cmd.action == "split":
            result = await targets.split_target(
                t.session, actor=t.actor, period=cmd.period, by=cmd.by, shares=cmd.shares, share_kind=cmd.share_kind, team_name=cmd.team,
            )
            text, blocks = build_split_confirmation(result, t.loc, currency)
        else:
            view = await targets.attainment(t.session, actor=t.actor, period=cmd.period, by=cmd.by, now=t.now, team_name=cmd.team)
            text, blocks = build_target_view(view, t.loc)
        await t.session.commit()  # what the reply says is stored before anyone reads it
        await respond(text=text, blocks=blocks, response_type="ephemeral")
