"""Requests Slack did not sign, or signed too long ago, get 401 and change nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlmodel import SQLModel

from tests.scenario.conftest import ADMIN, REP1, settle
from tests.scenario.helpers import count, roster


def command_body(slack, text: str, *, user: str = ADMIN) -> str:
    """The form Slack posts for `/salesbot text`."""
    return urlencode({
        "token": "x", "team_id": slack.team_id, "team_domain": slack.team_domain, "channel_id": "C0GENERAL",
        "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/salesbot", "text": text,
        "api_app_id": slack.api_app_id, "is_enterprise_install": "false",
        "response_url": slack.new_response_url(channel="C0GENERAL", user=user), "trigger_id": slack.new_trigger_id(user=user),
    })


def event_body(slack, user: str = REP1) -> str:
    """An Events API callback: the member opened the Home tab."""
    return json.dumps({
        "token": "x", "team_id": slack.team_id, "api_app_id": slack.api_app_id, "type": "event_callback",
        "event_id": "Ev0SECURITY1", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": slack.dm_channel(user), "tab": "home", "event_ts": "1.0"},
    })


async def rows_everywhere(db) -> int:
    return sum([await count(db, table) for table in SQLModel.metadata.sorted_tables])


async def test_unsigned_forged_and_replayed_requests_get_401_and_change_nothing(driver, slack, db):
    for body in (command_body(slack, f"team add <@{REP1}> rep team:East"), event_body(slack)):
        signed = driver.signed_headers(body)
        unsigned = {"Content-Type": signed["Content-Type"]}
        no_signature = {**signed}
        del no_signature["X-Slack-Signature"]
        wrong_secret = {**signed, "X-Slack-Signature": "v0=" + "0" * 64}
        six_minutes_ago = driver.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
        tampered = body.replace("rep", "manager") if "rep" in body else body + " "
        for headers, sent in ((unsigned, body), (no_signature, body), (wrong_secret, body), (six_minutes_ago, body), (signed, tampered)):
            reply = await driver.send_raw(sent, headers)
            assert reply.status == 401, (headers, reply)

    assert await rows_everywhere(db) == 0
    assert slack.calls == []

    # The same command, signed now, is accepted: the refusals were about the signature.
    body = command_body(slack, f"team add <@{REP1}> rep team:East")
    reply = await driver.send_raw(body, driver.signed_headers(body))
    assert reply.status == 200
    await settle()
    assert await roster(db) == {REP1: "rep"}


async def test_health_check_answers_when_the_database_does(bot):
    """GET /healthz is 200 with the database up, and says so."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(bot.url.replace("/slack/events", "/healthz")) as res:
            assert res.status == 200
            assert (await res.json()) == {"ok": True, "database": "up"}


async def test_health_check_is_503_when_the_database_is_down(deps, logged_errors):
    """With a database that cannot be opened, /healthz says so with 503 (and the failure is logged)."""
    import aiohttp

    logged_errors.allow("database ping failed")
    from bot.app import build_app
    from bot.db import Database
    from bot.server import BotServer, build_web_app

    dead = Database("sqlite+aiosqlite:////nonexistent-dir/salesbot.db")
    server = BotServer(build_web_app(build_app(deps), dead, signing_secret=deps.settings.slack_signing_secret), host="127.0.0.1", port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url.replace("/slack/events", "/healthz")) as res:
                assert res.status == 503
                assert (await res.json())["database"] == "down"
    finally:
        await server.stop()
        await dead.dispose()
