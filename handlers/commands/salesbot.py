"""/salesbot: help, the roster and roster changes."""

from bot.app import turn
from bot.blocks.roster import build_help, build_roster
from bot.blocks.tasks import build_notice
from bot.parsing import parse_salesbot
from bot.services import roster
from bot.services.actors import refresh_profile
from bot.app import profile_fetcher
from bot.text import mention
from handlers.replies import ephemeral


async def handle_salesbot(ack, command, client, respond, context):
    """Show help or the roster, or change the roster (admins)."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        cmd = parse_salesbot(command.get("text", ""))
        if cmd.action == "help":
            text, blocks = build_help(t.actor, t.loc)
        elif cmd.action == "roster":
            entries = await roster.list_roster(t.session, workspace=t.actor.workspace)
            text, blocks = build_roster(entries, t.loc)
        elif cmd.action == "add":
            member = await roster.add_member(t.session, actor=t.actor, change=cmd.change, fetch_profile=profile_fetcher(client))
            team = await roster.team_of(t.session, workspace=t.actor.workspace, team_id=member.team_id)
            text, blocks = build_notice(t.loc.md("roster.added", user=mention(member.slack_user_id), role=t.loc.t(f"role.{member.role.value}"), team=team.name if team else ""))
        else:
            member = await roster.remove_member(t.session, actor=t.actor, slack_user_id=cmd.user_id)
            text, blocks = build_notice(t.loc.md("roster.removed", user=mention(member.slack_user_id)))
        await respond(text=text, blocks=blocks, response_type="ephemeral")
