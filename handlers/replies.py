"""Ways a listener answers the person who acted."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.tasks import build_notice
from bot.services.errors import ServiceError
from bot.text import SlackSafe

log = logging.getLogger(__name__)


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


def reply_to_click(body: dict, client: AsyncWebClient, respond):
    """Ephemeral next to the clicked message; a DM when the click came from the App Home (no response_url)."""
    return ephemeral(respond) if body.get("response_url") else direct_message(client, body["user"]["id"])


class ModalNotOpened(ServiceError):
    """Slack did not open the modal while its trigger was alive: the member is asked to try again."""

    key = "modal.error.not_opened"


# A trigger_id works for 3 s after the click or command; past that, waiting (say for a 429's
# Retry-After) can only end in expired_trigger_id, so the member is told at once instead.
OPEN_MODAL_WITHIN = 2.5


async def open_modal(client: AsyncWebClient, trigger_id: str, view: dict) -> None:
    """views.open within the trigger's life; any failure raises ModalNotOpened, which `turn` answers in the member's language."""
    try:
        await asyncio.wait_for(client.views_open(trigger_id=trigger_id, view=view), timeout=OPEN_MODAL_WITHIN)
    except SlackApiError as exc:
        log.warning("views.open refused: %s", exc.response.get("error"))
        raise ModalNotOpened() from None
    except (SlackClientError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
        log.warning("views.open failed: %s", type(exc).__name__)
        raise ModalNotOpened() from None
