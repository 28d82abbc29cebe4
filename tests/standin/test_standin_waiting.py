"""Waiting for what the bot does after its ack: conditions, messages, elements, calls after a mark; and double clicks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SlackDriver, SlackStandIn

SECRET = "standin-signing-secret"


def pt(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def card(*buttons: str) -> list[dict[str, Any]]:
    return [{"type": "actions", "block_id": "task-1", "elements": [
        {"type": "button", "action_id": b, "value": "1", "text": pt(b.title())} for b in buttons
    ]}]


class LateBot:
    """A bot endpoint that acks at once and redraws the clicked message a moment later, through its response_url."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.tasks: list[asyncio.Task] = []

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        payload = json.loads(form["payload"])
        self.payloads.append(payload)
        self.tasks.append(asyncio.create_task(self._redraw(payload["response_url"])))
        return web.Response(status=200)

    async def _redraw(self, response_url: str) -> None:
        await self.release.wait()  # the redraw lands only when the test says so
        async with aiohttp.ClientSession() as http:
            await http.post(response_url, json={"text": "Done", "replace_original": True, "blocks": card("task_note")})


@pytest.fixture
async def late_bot() -> AsyncIterator[tuple[LateBot, str]]:
    bot = LateBot()
    app = web.Application()
    app.router.add_post("/slack/events", bot.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield bot, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    bot.release.set()
    await asyncio.gather(*bot.tasks)
    await runner.cleanup()


async def test_wait_until_returns_the_condition_value_and_names_what_it_missed(slack: SlackStandIn, client: AsyncWebClient) -> None:
    async def post_later() -> None:
        await asyncio.sleep(0)
        await client.chat_postMessage(channel="C0GENERAL", text="ready")

    task = asyncio.create_task(post_later())
    message = await slack.wait_for_message(lambda m: m["text"] == "ready", channel="C0GENERAL", timeout=5)
    await task
    assert message["text"] == "ready"
    with pytest.raises(TimeoutError, match=r"waited 0.05s for the summary in C0GENERAL, in vain\.\nrecorded calls:\n  chat.postMessage -> ok"):
        await slack.wait_for_message(lambda m: m["text"] == "summary", channel="C0GENERAL", what="the summary", timeout=0.05)
    assert await slack.wait_until(lambda: 42, what="an answer") == 42


async def test_wait_for_since_a_mark_ignores_earlier_calls(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}]})
    mark = slack.mark()
    with pytest.raises(TimeoutError, match="saw 0"):
        await slack.wait_for("views.publish", lambda c: c.args["user_id"] == "U1", since=mark, timeout=0.05)
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}]})
    [call] = await slack.wait_for("views.publish", since=mark, timeout=1)
    assert call is slack.calls_to("views.publish")[-1]


async def test_double_click_sends_both_clicks_from_the_message_as_first_shown(slack: SlackStandIn, late_bot, client: AsyncWebClient) -> None:
    bot, url = late_bot
    await client.chat_postMessage(channel="C0GENERAL", text="Task", blocks=card("task_done", "task_note"))
    message = slack.last_message("C0GENERAL")
    async with SlackDriver(bot_url=url, signing_secret=SECRET, slack=slack) as driver:
        first, second = await driver.double_click(message, "task_done", user="U1")
        bot.release.set()
        for reply in (first, second):
            await reply.responses(timeout=5)
        assert [p["actions"][0]["action_id"] for p in bot.payloads] == ["task_done", "task_done"]
        assert first.response_url != second.response_url
        assert [b["elements"][0]["action_id"] for b in bot.payloads[1]["message"]["blocks"]] == ["task_done"]
        # The redraw has landed: a plain click now finds no Done, and says what it does find.
        with pytest.raises(AssertionError, match=r"never showed an element 'task_done'; available: \['task_note'\]"):
            await driver.click(message, "task_done", user="U1")


async def test_wait_for_element_waits_for_the_redraw_that_shows_it(slack: SlackStandIn, late_bot, client: AsyncWebClient) -> None:
    bot, url = late_bot
    await client.chat_postMessage(channel="C0GENERAL", text="Task", blocks=card("task_done"))
    message = slack.last_message("C0GENERAL")
    async with SlackDriver(bot_url=url, signing_secret=SECRET, slack=slack) as driver:
        await driver.click(message, "task_done", user="U1")
        with pytest.raises(TimeoutError, match="an element 'task_note'"):
            await driver.wait_for_element(message, "task_note", timeout=0.05)
        bot.release.set()
        redrawn = await driver.wait_for_element(message, "task_note", timeout=5)
        assert redrawn["id"] == message["id"] and redrawn["text"] == "Done"
