"""/salesbot: help, the roster and roster changes."""

from bot.unit import turn
from bot.blocks.roster import build_help, build_roster
from bot.blocks.tasks import build_notice
from bot.parsing import parse_salesbot
from bot.services import leave, roster
from bot.services.actors import refresh_profile
from bot.slackapi import profile_fetcher
from bot.text import mention
from handlers.commands.config import open_config, show_config
from handlers.commands.salesbot_api import run_api_command
from handlers.commands.salesbot_export import send_export
from handlers.replies import ephemeral


async def handle_salesbot(ack, command, client, respond, context):
    """Show help or the roster, or change the roster (admins)."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        words = command.get("text", "").split()
        if words[:1] == ["api"]:
            await run_api_command(t, respond, words[1:])
            return
        cmd = parse_salesbot(command.get("text", ""))
        if cmd.action == "config":
            await open_config(t, client, command, cmd.team)
            return
        if cmd.action == "export":
            await send_export(t, client, respond, cmd.kind)
            return
        if cmd.action == "config_show":
            text, blocks = await show_config(t, cmd.team)
        elif cmd.action == "help":
            text, blocks = build_help(t.actor, t.loc)
        elif cmd.action == "roster":
            entries = await roster.list_roster(t.session, workspace=t.actor.workspace)
            text, blocks = build_roster(entries, t.loc)
        elif cmd.action == "add":
            member = await roster.add_member(t.session, actor=t.actor, change=cmd.change, fetch_profile=profile_fetcher(client))
            team = await roster.team_of(t.session, workspace=t.actor.workspace, team_id=member.team_id)
            text, blocks = build_notice(t.loc.md("roster.added", user=mention(member.slack_user_id), role=t.loc.t(f"role.{member.role.value}"), team=team.name if team else ""))
        elif cmd.action == "leave":
            result = await leave.record_leave(t.session, actor=t.actor, start=cmd.start, end=cmd.end, user_id=cmd.user_id)
            who = {"user": mention(result.member.slack_user_id), "start": t.loc.date_long(result.start), "end": t.loc.date_long(result.end)}
            notice = t.loc.mdn("leave.recorded", result.days, **who) if result.created else t.loc.md("leave.already", **who)
            text, blocks = build_notice(notice)
        else:
            member = await roster.remove_member(t.session, actor=t.actor, slack_user_id=cmd.user_id)
            text, blocks = build_notice(t.loc.md("roster.removed", user=mention(member.slack_user_id)))
        await t.session.commit()  # what the reply says is stored before anyone reads it
        await respond(text=text, blocks=blocks, response_type="ephemeral")
