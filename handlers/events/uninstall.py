"""The app leaves a workspace: app_uninstalled, or its bot token revoked."""

from __future__ import annotations

import logging

from bot.services.workspaces import uninstall_workspace

log = logging.getLogger(__name__)


async def handle_app_uninstalled(body, context):
    """Forget the workspace's token and cancel its pending posts; its data stays until an admin deletes it."""
    await _uninstall(body, context, why="app_uninstalled")


async def handle_tokens_revoked(event, body, context):
    """A revoked bot token is an uninstall for the bot (user tokens: the app keeps none)."""
    if (event.get("tokens") or {}).get("bot"):
        await _uninstall(body, context, why="bot token revoked")


async def _uninstall(body, context, *, why: str) -> None:
    deps = context["deps"]
    team_id = body.get("team_id")
    if not deps.settings.oauth_enabled:
        # Token mode serves the one workspace whose token the operator configured: they replace it.
        log.warning("%s for workspace %s in token mode: set a new SLACK_BOT_TOKEN once the app is reinstalled", why, team_id)
        return
    async with deps.db.sessionmaker() as session:
        done = await uninstall_workspace(session, slack_team_id=team_id, now=deps.clock())
        await session.commit()
    deps.tokens.forget(team_id)
    log.info("%s: workspace %s uninstalled, %d pending posts cancelled", why, team_id, done.cancelled)
