"""Ways a listener answers the person who acted."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.tasks import build_notice
from bot.text import SlackSafe


def ephemeral(respond):
    """Answer through the response_url, visible only to the actor, leaving the original alone."""

    async def reply(text: SlackSafe) -> None:
        fallback, blocks = build_notice(text)
        await respond(text=fallback, blocks=blocks, response_type="ephemeral", replace_original=False)

    return reply


def direct_message(client: AsyncWebClient, user_id: str):
    """Answer in the app's DM with the actor (used where there is no response_url, e.g. App Home)."""

    async def reply(text: SlackSafe) -> None:
        fallback, blocks = build_notice(text)
        await client.chat_postMessage(channel=user_id, text=fallback, blocks=blocks)

    return reply


def view_error(ack, block_id: str):
    """Answer a modal submission with the message under one field."""

    async def reply(text: SlackSafe) -> None:
        await ack(response_action="errors", errors={block_id: str(text)[:150]})

    return reply


def reply_to_click(body: dict, client: AsyncWebClient, respond):
    """Ephemeral next to the clicked message; a DM when the click came from the App Home (no response_url)."""
    return ephemeral(respond) if body.get("response_url") else direct_message(client, body["user"]["id"])
