"""The App Home tab."""

from bot.unit import turn
from bot.surfaces import publish_home


async def handle_app_home_opened(event, body, client, context):
    """Draw the member's Home when they open it."""
    if event.get("tab", "home") != "home":
        return
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team_id"], user_id=event["user"]) as t:
        await publish_home(client, t.session, actor=t.actor, i18n=deps.i18n, now=t.now)
