"""`/salesbot config [show] [team:NAME]`: the steps handle_salesbot delegates to (not a listener)."""

from __future__ import annotations

from bot.unit import Turn
from bot.blocks.team_settings import build_config_modal, build_config_show
from bot.services.team_settings import team_for_config
from handlers.replies import open_modal


async def open_config(t: Turn, client, command: dict, team_name: str | None) -> None:
    """Open the settings modal of the team the caller may configure."""
    team = await team_for_config(t.session, actor=t.actor, team_name=team_name)
    # The response_url lets the submission confirm where the command was typed.
    metadata = {"team": team.id, "ru": command.get("response_url")}
    await open_modal(client, command["trigger_id"], build_config_modal(team, t.loc, metadata=metadata))


async def show_config(t: Turn, team_name: str | None) -> tuple[str, list[dict]]:
    """The settings summary of the team the caller may configure."""
    team = await team_for_config(t.session, actor=t.actor, team_name=team_name)
    return build_config_show(team, t.loc, t.actor.workspace.currency)
