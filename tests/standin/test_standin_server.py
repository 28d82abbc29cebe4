"""The stand-in answered through the real slack_sdk AsyncWebClient and webhook client."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.standin import SlackStandIn

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Pipeline* is up"}}


def modal(title: str = "Deal", **over: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [SECTION],
        **over,
    }


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# ---------------------------------------------------------------- auth and users


async def test_auth(slack: SlackStandIn, client: AsyncWebClient) -> None:
    me = await client.auth_test()
    assert me["user_id"] == "UBOT" and me["team_id"] == "T0001"
    err = await api_error(AsyncWebClient(base_url=slack.api_url).auth_test())
    assert err.response["error"] == "not_authed"
    err = await api_error(AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test())
    assert err.response["error"] == "invalid_auth"


async def test_unknown_method(client: AsyncWebClient) -> None:
    err = await api_error(client.api_call("chat.fly"))
    assert err.response["error"] == "unknown_method"


async def test_users_info(client: AsyncWebClient) -> None:
    alice = (await client.users_info(user="U1"))["user"]
    expected = datetime.now(ZoneInfo("America/New_York")).utcoffset()
    assert alice["tz"] == "America/New_York"
    assert alice["tz_offset"] == int(expected.total_seconds())
    assert alice["profile"]["real_name"] == "Alice Adams"
    assert "locale" not in alice
    bob = (await client.users_info(user="U2", include_locale=True))["user"]
    assert bob["locale"] == "de-DE" and bob["is_admin"] and not bob["is_owner"]
    err = await api_error(client.users_info(user="U404"))
    assert err.response["error"] == "user_not_found"


# ---------------------------------------------------------------- messages


async def test_post_message_recorded(slack: SlackStandIn, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users="U1"))["channel"]["id"]
    assert dm == slack.dm_channel("U1") == (await client.conversations_open(users="U1"))["channel"]["id"]
    res = await client.chat_postMessage(channel=dm, text="Morning!", blocks=[SECTION])
    assert res["channel"] == dm
    stored = slack.last_message(dm)
    assert stored is not None
    assert stored["ts"] == res["ts"] and stored["text"] == "Morning!" and not stored["ephemeral"]
    assert stored["blocks"][0]["block_id"]  # Slack fills in missing block ids
    assert slack.messages_in(dm) == [stored]
    assert slack.last_message(user="U1") is stored
    assert slack.calls_to("chat.postMessage")[0].args["text"] == "Morning!"
    assert slack.rejected_calls() == []


async def test_post_to_member_id_lands_in_dm(slack: SlackStandIn, client: AsyncWebClient) -> None:
    res = await client.chat_postMessage(channel="U2", text="hi")
    assert res["channel"] == slack.dm_channel("U2")


async def test_form_encoded_blocks_are_decoded(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C0GENERAL", "text": "form", "blocks": json.dumps([SECTION])},
    )
    assert slack.last_message("C0GENERAL")["blocks"][0]["text"]["text"] == "*Pipeline* is up"


async def test_invalid_blocks_rejected(slack: SlackStandIn, client: AsyncWebClient) -> None:
    bad = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    err = await api_error(client.chat_postMessage(channel="C0GENERAL", text="t", blocks=bad))
    assert err.response["error"] == "invalid_blocks"
    assert any("150" in e for e in err.response["errors"])
    assert slack.messages == []
    [rejected] = slack.rejected_calls()
    assert rejected.method == "chat.postMessage" and rejected.error == "invalid_blocks"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C0GENERAL", "blocks": [SECTION]}, "no_text"),
        ({"channel": "C0GENERAL"}, "no_text"),
        ({"channel": "C0GENERAL", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C404", "text": "hi"}, "channel_not_found"),
    ],
)
async def test_post_message_errors(client: AsyncWebClient, kwargs: dict[str, Any], error: str) -> None:
    err = await api_error(client.chat_postMessage(**kwargs))
    assert err.response["error"] == error


async def test_ephemeral_update_delete(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.chat_postEphemeral(channel="C0GENERAL", user="U1", text="only you")
    [eph] = slack.ephemerals_for("U1")
    assert eph["ephemeral"] and eph["user"] == "U1" and eph["id"]
    res = await client.chat_postMessage(channel="C0GENERAL", text="v1", blocks=[SECTION])
    await client.chat_update(channel="C0GENERAL", ts=res["ts"], text="v2")
    message = slack.last_message("C0GENERAL")
    assert message["text"] == "v2" and message["blocks"]  # chat.update keeps blocks not given
    await client.chat_delete(channel="C0GENERAL", ts=res["ts"])
    assert slack.messages_in("C0GENERAL") == [eph]
    err = await api_error(client.chat_update(channel="C0GENERAL", ts=res["ts"], text="v3"))
    assert err.response["error"] == "message_not_found"
    err = await api_error(client.chat_postEphemeral(channel="C0GENERAL", user="U404", text="x"))
    assert err.response["error"] == "user_not_found"


# ---------------------------------------------------------------- failure injection


async def test_rate_limit_injection(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", retry_after=7, times=1)
    err = await api_error(client.chat_postMessage(channel="C0GENERAL", text="one"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] in ("7", ["7"])
    assert err.response["error"] == "ratelimited"
    await client.chat_postMessage(channel="C0GENERAL", text="two")
    first, second = slack.calls_to("chat.postMessage")
    assert (first.ok, first.injected, first.status) == (False, True, 429)
    assert second.ok
    assert slack.rejected_calls() == []


async def test_server_error_rate_is_seeded(slack: SlackStandIn, client: AsyncWebClient) -> None:
    async def outcomes() -> list[bool]:
        slack.fail("users.info", status=500, rate=0.5, seed=42)
        results = []
        for _ in range(12):
            try:
                await client.users_info(user="U1")
                results.append(True)
            except SlackApiError as exc:
                assert exc.response.status_code == 500
                assert exc.response["error"] == "internal_error"
                results.append(False)
        return results

    first = await outcomes()
    assert await outcomes() == first
    assert True in first and False in first
    slack.clear_failures()
    await client.users_info(user="U1")


async def test_sdk_retry_handler_honours_retry_after(slack: SlackStandIn) -> None:
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail("chat.postMessage", retry_after=0, times=1)
    await client.chat_postMessage(channel="C0GENERAL", text="eventually")
    assert [c.ok for c in slack.calls_to("chat.postMessage")] == [False, True]


# ---------------------------------------------------------------- views and triggers


async def test_trigger_single_use(slack: SlackStandIn, client: AsyncWebClient) -> None:
    trigger = slack.new_trigger_id(user="U1")
    opened = await client.views_open(trigger_id=trigger, view=modal())
    view_id = opened["view"]["id"]
    assert slack.views[view_id]["user"] == "U1" and slack.views[view_id]["open"]
    err = await api_error(client.views_open(trigger_id=trigger, view=modal()))
    assert err.response["error"] == "exchanged_trigger_id"
    err = await api_error(client.views_open(trigger_id="1.2.nope", view=modal()))
    assert err.response["error"] == "invalid_trigger_id"


async def test_trigger_expires() -> None:
    async with SlackStandIn(trigger_ttl=0.05) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        trigger = slack.new_trigger_id()
        await asyncio.sleep(0.1)
        err = await api_error(client.views_open(trigger_id=trigger, view=modal()))
        assert err.response["error"] == "expired_trigger_id"


async def test_invalid_view_rejected(slack: SlackStandIn, client: AsyncWebClient) -> None:
    err = await api_error(
        client.views_open(trigger_id=slack.new_trigger_id(), view=modal("A title that is far too long"))
    )
    assert err.response["error"] == "invalid_arguments"
    assert any("24" in e for e in err.response["errors"])
    huge = modal(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 100)
    err = await api_error(client.views_open(trigger_id=slack.new_trigger_id(), view=huge))
    assert err.response["error"] == "view_too_large"


async def test_push_limit_and_update(slack: SlackStandIn, client: AsyncWebClient) -> None:
    root = (await client.views_open(trigger_id=slack.new_trigger_id(user="U1"), view=modal()))["view"]
    top = root
    for depth in (2, 3):
        top = (
            await client.views_push(
                trigger_id=slack.new_trigger_id(user="U1", view_id=top["id"]), view=modal(f"Step {depth}")
            )
        )["view"]
        assert top["root_view_id"] == root["id"]
    assert len(slack.modal_stack(root["id"])) == 3
    err = await api_error(
        client.views_push(trigger_id=slack.new_trigger_id(view_id=top["id"]), view=modal("Step 4"))
    )
    assert err.response["error"] == "push_limit_reached"

    updated = await client.views_update(view_id=top["id"], view=modal("Step 3b"), hash=top["hash"])
    assert slack.views[top["id"]]["view"]["title"]["text"] == "Step 3b"
    err = await api_error(client.views_update(view_id=top["id"], view=modal(), hash=top["hash"]))
    assert err.response["error"] == "hash_conflict"
    await client.views_update(view_id=top["id"], view=modal(), hash=updated["view"]["hash"])
    err = await api_error(client.views_update(view_id="V404", view=modal()))
    assert err.response["error"] == "not_found"


async def test_publish_home(slack: SlackStandIn, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [SECTION]}
    first = await client.views_publish(user_id="U1", view=home)
    again = await client.views_publish(user_id="U1", view=home)
    assert first["view"]["id"] == again["view"]["id"] == slack.home("U1")["id"]
    assert slack.home("U2") is None
    err = await api_error(client.views_publish(user_id="U1", view=modal()))
    assert err.response["error"] == "invalid_arguments"
    err = await api_error(client.views_publish(user_id="U1", view={"type": "home", "blocks": [SECTION] * 101}))
    assert err.response["error"] == "invalid_arguments"


# ---------------------------------------------------------------- files


async def test_files_upload_v2(slack: SlackStandIn, client: AsyncWebClient) -> None:
    res = await client.files_upload_v2(
        channel="C0GENERAL", content=b"a,b\n1,2\n", filename="pipeline.csv", initial_comment="Export"
    )
    file_id = res["file"]["id"]
    stored = slack.files[file_id]
    assert stored["data"] == b"a,b\n1,2\n" and stored["completed"]
    assert stored["shares"][0]["channel"] == "C0GENERAL"
    message = slack.last_message("C0GENERAL")
    assert message["files"] == [file_id] and message["text"] == "Export"


# ---------------------------------------------------------------- response_url


async def test_response_url_limits_and_replace(slack: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="Task: call Acme", blocks=[SECTION])
    url = slack.new_response_url(channel="C0GENERAL", user="U1", message_ts=posted["ts"])
    hook = AsyncWebhookClient(url)

    res = await hook.send(text="Done", replace_original=True)
    assert res.status_code == 200
    message = slack.last_message("C0GENERAL")
    assert message["ts"] == posted["ts"] and message["text"] == "Done" and message["blocks"] is None

    await hook.send(text="private note")
    assert slack.ephemerals_for("U1")[-1]["text"] == "private note"
    await hook.send(text="for everyone", response_type="in_channel")
    assert not slack.last_message("C0GENERAL")["ephemeral"]

    bad = await hook.send(text="t", blocks=[{"type": "nope"}])
    assert bad.status_code == 400 and json.loads(bad.body)["error"] == "invalid_blocks"
    assert len(slack.rejected_calls()) == 1

    await hook.send(text="four")
    await hook.send(text="five")
    used = await hook.send(text="six")
    assert used.status_code == 404 and json.loads(used.body)["error"] == "used_url"


async def test_response_url_replaces_ephemeral_and_deletes(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.chat_postEphemeral(channel="C0GENERAL", user="U1", text="Pick one")
    [eph] = slack.ephemerals_for("U1")
    url = slack.new_response_url(channel="C0GENERAL", user="U1", ephemeral_id=eph["id"])
    await AsyncWebhookClient(url).send(text="Picked", replace_original=True)
    assert slack.ephemerals_for("U1") == [eph] and eph["text"] == "Picked"
    await AsyncWebhookClient(url).send(delete_original=True)
    assert slack.ephemerals_for("U1") == []


# ---------------------------------------------------------------- waiting


async def test_wait_for(slack: SlackStandIn, client: AsyncWebClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C0GENERAL", text="slow work done")

    task = asyncio.create_task(later())
    [call] = await slack.wait_for("chat.postMessage", lambda c: "done" in c.args["text"], timeout=2)
    assert call.ok
    await task
    with pytest.raises(TimeoutError, match="chat.postMessage -> ok"):
        await slack.wait_for("chat.postMessage", count=2, timeout=0.05)


async def test_response_url_expires() -> None:
    async with SlackStandIn(response_url_ttl=0.05) as slack:
        url = slack.new_response_url(channel="C0GENERAL", user="U1")
        await asyncio.sleep(0.1)
        res = await AsyncWebhookClient(url).send(text="late")
        assert res.status_code == 404 and json.loads(res.body)["error"] == "expired_url"


async def test_push_needs_a_trigger_from_a_modal(slack: SlackStandIn, client: AsyncWebClient) -> None:
    err = await api_error(client.views_push(trigger_id=slack.new_trigger_id(user="U1"), view=modal()))
    assert err.response["error"] == "invalid_arguments"
