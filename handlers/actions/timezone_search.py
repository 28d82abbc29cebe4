"""Options for the time-zone picker in the team settings modal."""

from bot.blocks.team_settings import zone_options
from bot.services.team_settings import search_zones


async def handle_timezone_search(ack, body):
    """Answer the external select with the IANA zones matching what was typed (at most 100)."""
    await ack(options=zone_options(search_zones(body.get("value", ""))))
