"""/salesbot: help, the roster and roster changes."""

from bot.unit import turn
from bot.blocks.roster import build_help, build_roster
from bot.blocks.tasks import build_notice
from bot.parsing import parse_salesbot, unescape
from bot.notices import send_handover
from bot.services import leave, roster, task_changes
from bot.services.actors import refresh_profile
from bot.slackapi import profile_fetcher
from bot.text import mention
from handlers.commands.config import open_config, show_config
from handlers.commands.salesbot_api import run_api_command
from handlers.commands.salesbot_export import send_export
from handlers.commands.salesbot_sync import sync_command
from handlers.commands.salesbot_webhooks import webhook_command
from handlers.replies import ephemeral


async def handle_salesbot(ack, command, client, respond, context):
    """Show help or the roster, or change the roster (admins)."""
    await ack()
    deps = context["deps"]
    async with turn(deps, client, team_id=command["team_id"], user_id=command["user_id"], reply=ephemeral(respond)) as t:
        words = unescape(command.get("text") or "").split()
        if [w.lower() for w in words[:2]] == ["api", "webhook"]:
            await webhook_command(t, respond, words[2:])
            return
        if words[:1] and words[0].lower() == "api":
            await run_api_command(t, respond, words[1:])
            return
        if words[:1] and words[0].lower() == "sync":
            await sync_command(t, respond, words[1:])
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
        if cmd.action == "leave" and result.created:
            # The rep's work due while away goes to their manager, to be handed over.
            handover = await task_changes.handover(t.session, workspace_id=t.actor.workspace.id, member=result.member, start=result.start, end=result.end)
            if handover is not None:
                await send_handover(client, t.session, handover=handover, i18n=deps.i18n, now=t.now)
