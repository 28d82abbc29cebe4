"""The driver: signed requests, Slack-shaped payloads, and a round trip through a Bolt app."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SlackDriver, SlackStandIn

SECRET = "standin-signing-secret"


def pt(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def opt(value: str) -> dict[str, Any]:
    return {"text": pt(value.title()), "value": value}


@dataclass
class Recorder:
    """A minimal bot endpoint that checks signatures and records what it receives."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[tuple[int, Any]] = field(default_factory=list)
    delay: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        valid = SignatureVerifier(SECRET).is_valid_request(raw, dict(request.headers))
        if request.content_type == "application/json":
            parsed = json.loads(raw)
        else:
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            parsed = json.loads(form["payload"]) if "payload" in form else form
        self.requests.append({"headers": dict(request.headers), "body": parsed, "valid": valid})
        await asyncio.sleep(self.delay)
        if not valid:
            return web.Response(status=401)
        status, body = self.replies.pop(0) if self.replies else (200, None)
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]["body"]


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    app = web.Application()
    app.router.add_post("/slack/events", rec.handle)
    runner, url = await serve(app)
    yield rec, url
    await runner.cleanup()


@pytest.fixture
async def driver(slack: SlackStandIn, recorder: tuple[Recorder, str]) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(bot_url=recorder[1], signing_secret=SECRET, slack=slack) as drv:
        yield drv


@pytest.fixture
def rec(recorder: tuple[Recorder, str]) -> Recorder:
    return recorder[0]


async def open_modal(slack: SlackStandIn, view: dict[str, Any], user: str = "U1") -> str:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    res = await client.views_open(trigger_id=slack.new_trigger_id(user=user), view=view)
    return res["view"]["id"]


# ---------------------------------------------------------------- signing


async def test_requests_are_signed(driver: SlackDriver, rec: Recorder) -> None:
    reply = await driver.slash("/pipeline", "week", user="U1")
    assert reply.status == 200 and rec.requests[0]["valid"]
    headers = rec.requests[0]["headers"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(
        "token=x", driver.signed_headers("token=x")
    )


async def test_unsigned_and_replayed_requests(driver: SlackDriver, rec: Recorder) -> None:
    body = "command=%2Fpipeline"
    unsigned = await driver.send_raw(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status == 401
    stale = driver.signed_headers(body, timestamp=int(time.time()) - 600)
    assert not SignatureVerifier(SECRET).is_valid_request(body, stale)  # older than 5 minutes


# ---------------------------------------------------------------- slash commands


async def test_slash_payload_and_responses(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    reply = await driver.slash("/tasks", "today", user="U1", channel="C0GENERAL")
    form = rec.last
    assert form["command"] == "/tasks" and form["text"] == "today"
    assert form["user_id"] == "U1" and form["user_name"] == "alice"
    assert form["channel_name"] == "general" and form["team_id"] == "T0001"
    assert form["response_url"] == reply.response_url and form["trigger_id"] == reply.trigger_id

    async def bot_answers_later() -> None:
        await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http:
            await http.post(reply.response_url, json={"text": "3 tasks due"})

    task = asyncio.create_task(bot_answers_later())
    [payload] = await reply.responses(timeout=2)
    await task
    assert payload == {"text": "3 tasks due"}
    assert slack.ephemerals_for("U1")[-1]["text"] == "3 tasks due"


async def test_slash_ack_body_is_shown_and_checked(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    rec.replies.append((200, {"text": "Working on it…"}))
    await driver.slash("/report", user="U1")
    assert slack.ephemerals_for("U1")[-1]["text"] == "Working on it…"
    rec.replies.append((200, {"blocks": [{"type": "divider"}]}))  # no fallback text
    await driver.slash("/report", user="U1")
    [rejected] = slack.rejected_calls()
    assert rejected.method == "command.response"


async def test_slow_ack_is_an_error(slack: SlackStandIn, recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.delay = 0.2
    async with SlackDriver(bot_url=url, signing_secret=SECRET, slack=slack, ack_timeout=0.1) as drv:
        with pytest.raises(AssertionError, match="ack first"):
            await drv.slash("/slow", user="U1")


# ---------------------------------------------------------------- block actions


async def test_click_message_button(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    blocks = [
        {"type": "section", "block_id": f"task-{n}", "text": pt(f"Task {n}"),
         "accessory": {"type": "button", "action_id": "task_done", "value": str(n), "text": pt("Done")}}
        for n in (1, 2)
    ]
    await client.chat_postMessage(channel="C0GENERAL", text="Tasks", blocks=blocks)
    message = slack.last_message("C0GENERAL")

    with pytest.raises(AssertionError, match="pass value= or block_id="):
        await driver.click(message, "task_done", user="U1")
    with pytest.raises(AssertionError, match="never showed"):
        await driver.click(message, "task_snooze", user="U1")

    reply = await driver.click(message, "task_done", user="U1", value="2")
    payload = rec.last
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message", "message_ts": message["ts"], "channel_id": "C0GENERAL", "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == message["ts"] and payload["channel"]["id"] == "C0GENERAL"
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == ("task_done", "task-2", "2")
    assert payload["user"]["id"] == "U1" and payload["trigger_id"] == reply.trigger_id

    # The response_url is bound to the clicked message, so replace_original edits it.
    async with aiohttp.ClientSession() as http:
        await http.post(payload["response_url"], json={"text": "Task 2 done", "replace_original": True})
    assert slack.find_message(message["id"])["text"] == "Task 2 done"


async def test_click_ephemeral_and_select(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    select = {"type": "static_select", "action_id": "stage", "placeholder": pt("Stage"),
              "options": [opt("lead"), opt("won")]}
    await client.chat_postEphemeral(channel="C0GENERAL", user="U1", text="Stage?",
                                    blocks=[{"type": "actions", "elements": [select]}])
    [eph] = slack.ephemerals_for("U1")
    with pytest.raises(AssertionError, match="no 'stage' element offers"):
        await driver.click(eph, "stage", user="U1", value="lost")
    await driver.click(eph, "stage", user="U1", value="won")
    payload = rec.last
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload
    assert payload["actions"][0]["selected_option"]["value"] == "won"


async def test_click_in_modal_carries_view(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    view_id = await open_modal(slack, {
        "type": "modal", "title": pt("Deal"), "callback_id": "deal",
        "blocks": [{"type": "actions", "elements": [{"type": "button", "action_id": "more", "text": pt("More")}]}],
    })
    reply = await driver.click(slack.views[view_id], "more", user="U1")
    payload = rec.last
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id and "response_url" not in payload
    # A trigger from inside a modal can push onto its stack.
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await client.views_push(trigger_id=reply.trigger_id, view={"type": "modal", "title": pt("More"), "blocks": [{"type": "divider"}]})
    assert len(slack.modal_stack(view_id)) == 2


# ---------------------------------------------------------------- view submission


FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "deal_form",
    "private_metadata": "deal=42",
    "title": pt("Edit deal"),
    "submit": pt("Save"),
    "blocks": [
        {"type": "input", "block_id": "name", "label": pt("Name"),
         "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "Acme"}},
        {"type": "input", "block_id": "stage", "label": pt("Stage"),
         "element": {"type": "static_select", "action_id": "v", "options": [opt("lead"), opt("won")]}},
        {"type": "input", "block_id": "tags", "label": pt("Tags"), "optional": True,
         "element": {"type": "multi_static_select", "action_id": "v", "options": [opt("hot"), opt("big")]}},
        {"type": "input", "block_id": "owner", "label": pt("Owner"),
         "element": {"type": "users_select", "action_id": "v", "initial_user": "U2"}},
        {"type": "input", "block_id": "team", "label": pt("Team"), "optional": True,
         "element": {"type": "multi_users_select", "action_id": "v"}},
        {"type": "input", "block_id": "close", "label": pt("Close date"),
         "element": {"type": "datepicker", "action_id": "v"}},
        {"type": "input", "block_id": "time", "label": pt("Call at"), "optional": True,
         "element": {"type": "timepicker", "action_id": "v", "initial_time": "09:30"}},
        {"type": "input", "block_id": "amount", "label": pt("Amount"),
         "element": {"type": "number_input", "action_id": "v", "is_decimal_allowed": True}},
        {"type": "input", "block_id": "account", "label": pt("Account"), "optional": True,
         "element": {"type": "external_select", "action_id": "v", "min_query_length": 2}},
        {"type": "input", "block_id": "channel", "label": pt("Channel"), "optional": True,
         "element": {"type": "conversations_select", "action_id": "v"}},
        {"type": "input", "block_id": "prio", "label": pt("Priority"), "optional": True,
         "element": {"type": "radio_buttons", "action_id": "v", "options": [opt("high"), opt("low")]}},
        {"type": "input", "block_id": "flags", "label": pt("Flags"), "optional": True,
         "element": {"type": "checkboxes", "action_id": "v", "options": [opt("renewal")]}},
    ],
}


async def test_submit_encodes_values_by_element_type(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    view_id = await open_modal(slack, FORM_VIEW)
    await driver.submit_view(view_id, user="U1", values={
        "stage": "won",
        "tags": ["hot", "big"],
        "team": ["U1", "U2"],
        "close": dt.date(2025, 3, 31),
        "amount": 1250.5,
        "account": "ACME-1",
        "channel": "C0GENERAL",
        "prio": "high",
        "flags": ["renewal"],
    })
    payload = rec.last
    assert payload["type"] == "view_submission" and payload["response_urls"] == []
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (view_id, "deal_form", "deal=42")
    values = {block: actions["v"] for block, actions in view["state"]["values"].items()}
    assert values["name"] == {"type": "plain_text_input", "value": "Acme"}  # initial value kept
    assert values["stage"]["selected_option"] == opt("won")
    assert [o["value"] for o in values["tags"]["selected_options"]] == ["hot", "big"]
    assert values["owner"] == {"type": "users_select", "selected_user": "U2"}
    assert values["team"]["selected_users"] == ["U1", "U2"]
    assert values["close"]["selected_date"] == "2025-03-31"
    assert values["time"]["selected_time"] == "09:30"
    assert values["amount"] == {"type": "number_input", "value": "1250.5"}
    assert values["account"]["selected_option"] == {"text": pt("ACME-1"), "value": "ACME-1"}
    assert values["channel"]["selected_conversation"] == "C0GENERAL"
    assert values["prio"]["selected_option"]["value"] == "high"
    assert values["flags"]["selected_options"][0]["value"] == "renewal"
    # An empty answer closes the modal, as on Slack.
    assert not slack.views[view_id]["open"]


async def test_submit_rejects_what_slack_would(slack: SlackStandIn, driver: SlackDriver) -> None:
    view_id = await open_modal(slack, FORM_VIEW)
    with pytest.raises(AssertionError, match="no block"):
        await driver.submit_view(view_id, user="U1", values={"nope": 1})
    with pytest.raises(AssertionError, match="offers no option"):
        await driver.submit_view(view_id, user="U1", values={"stage": "lost", "close": "2025-01-01", "amount": 1})
    with pytest.raises(AssertionError, match="required"):
        await driver.submit_view(view_id, user="U1", values={"stage": "won", "amount": 1})


async def test_submit_response_actions(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    view_id = await open_modal(slack, FORM_VIEW)
    good = {"stage": "won", "close": "2025-01-01", "amount": 3}
    rec.replies.append((200, {"response_action": "errors", "errors": {"amount": "Must be positive"}}))
    reply = await driver.submit_view(view_id, user="U1", values=good)
    assert reply.body["errors"] == {"amount": "Must be positive"}
    assert slack.views[view_id]["open"]

    updated = {"type": "modal", "title": pt("Saved"), "blocks": [{"type": "divider"}]}
    rec.replies.append((200, {"response_action": "update", "view": updated}))
    await driver.submit_view(view_id, user="U1", values=good)
    assert slack.views[view_id]["view"]["title"]["text"] == "Saved"

    rec.replies.append((200, {"response_action": "errors", "errors": {"ghost": "x"}}))
    view2 = await open_modal(slack, FORM_VIEW)
    await driver.submit_view(view2, user="U1", values=good)
    [rejected] = slack.rejected_calls()
    assert rejected.method == "view_submission.response"


async def test_close_view_and_suggest(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    quiet = await open_modal(slack, FORM_VIEW)
    assert await driver.close_view(quiet, user="U1") is None  # no notify_on_close: Slack stays silent
    assert not slack.views[quiet]["open"]

    loud = await open_modal(slack, {**FORM_VIEW, "notify_on_close": True})
    reply = await driver.close_view(loud, user="U1")
    assert reply is not None and rec.last["type"] == "view_closed"

    search = await open_modal(slack, FORM_VIEW)
    rec.replies.append((200, {"options": [opt("acme-1")]}))
    reply = await driver.suggest(search, "v", "ac", user="U1")
    assert rec.last["type"] == "block_suggestion" and rec.last["value"] == "ac"
    assert rec.last["block_id"] == "account"
    assert reply.body == {"options": [opt("acme-1")]}
    assert slack.rejected_calls() == []


# ---------------------------------------------------------------- events


async def test_event_envelope_and_retry_headers(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> pipeline", "channel": "C0GENERAL", "ts": "1.2"}
    await driver.event(event, event_id="Ev123", retry_num=1, retry_reason="http_timeout")
    request = rec.requests[-1]
    assert request["valid"] and request["headers"]["X-Slack-Retry-Num"] == "1"
    assert request["headers"]["X-Slack-Retry-Reason"] == "http_timeout"
    body = request["body"]
    assert body["type"] == "event_callback" and body["event_id"] == "Ev123"
    assert body["event"]["text"] == "<@UBOT> pipeline"
    assert body["authorizations"][0]["user_id"] == "UBOT"

    await driver.open_home("U2")
    home_event = rec.last["event"]
    assert home_event["type"] == "app_home_opened" and home_event["tab"] == "home"
    assert home_event["channel"] == slack.dm_channel("U2")


# ---------------------------------------------------------------- a real Bolt app


@pytest.fixture
async def bolt_bot(slack: SlackStandIn) -> AsyncIterator[str]:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/deal")
    async def deal(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "callback_id": "deal", "title": pt("New deal"), "submit": pt("Save"),
            "blocks": [{"type": "input", "block_id": "name", "label": pt("Name"),
                        "element": {"type": "plain_text_input", "action_id": "v"}}],
        })

    @app.view("deal")
    async def save(ack: Any, view: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        name = view["state"]["values"]["name"]["v"]["value"]
        if len(name) < 3:
            await ack(response_action="errors", errors={"name": "Too short"})
            return
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"], text=f"Saved {name}")

    runner, url = await serve(app.web_app(path="/slack/events"))
    yield url
    await runner.cleanup()


async def test_round_trip_through_bolt(slack: SlackStandIn, bolt_bot: str) -> None:
    async with SlackDriver(bot_url=bolt_bot, signing_secret=SECRET, slack=slack) as drv:
        reply = await drv.slash("/deal", user="U1")
        assert reply.status == 200
        [opened] = await slack.wait_for("views.open")
        view_id = opened.response["view"]["id"]

        rejected = await drv.submit_view(view_id, user="U1", values={"name": "Ac"})
        assert rejected.body == {"response_action": "errors", "errors": {"name": "Too short"}}
        await drv.submit_view(view_id, user="U1", values={"name": "Acme"})
        await slack.wait_for("chat.postMessage")
        assert slack.last_message(user="U1")["text"] == "Saved Acme"
        assert slack.rejected_calls() == []

        unsigned = await drv.send_raw("command=%2Fdeal", {"Content-Type": "application/x-www-form-urlencoded"})
        assert unsigned.status == 401


async def test_members_only_click_what_they_see(slack: SlackStandIn, driver: SlackDriver, rec: Recorder) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    actions = [{"type": "actions", "elements": [{"type": "button", "action_id": "ok", "text": pt("OK")}]}]
    await client.chat_postEphemeral(channel="C0GENERAL", user="U1", text="Only Alice", blocks=actions)
    with pytest.raises(AssertionError, match="cannot see"):
        await driver.click(slack.ephemerals_for("U1")[0], "ok", user="U2")
    await client.views_publish(user_id="U2", view={"type": "home", "blocks": actions})
    with pytest.raises(AssertionError, match="cannot see"):
        await driver.click(slack.home("U2"), "ok", user="U1")
    await driver.click(slack.home("U2"), "ok", user="U2")
    assert rec.last["container"]["type"] == "view" and rec.last["view"]["type"] == "home"
