"""Hostile requests get an answer and change nothing: replays, other workspaces, malformed bodies, odd ids, NUL bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.blocks import ids
from bot.models import Customer, Expense, PlaybookItem, ProcessedEvent, RequestSignature, SalesTeam, Task
from tests.scenario.conftest import ADMIN, MANAGER, REP1, SIGNING_SECRET, settle
from tests.scenario.helpers import add_to_roster, assign, count, east_team, open_assign, roster

OTHER_TEAM = "T9OTHER"


def command_body(slack, command: str, text: str, *, user: str = ADMIN, team: str | None = None) -> tuple[str, str]:
    """The form Slack posts for a slash command, and its response_url."""
    response_url = slack.new_response_url(channel="C0GENERAL", user=user)
    body = urlencode({
        "token": "x", "team_id": team or slack.team_id, "team_domain": "acme", "channel_id": "C0GENERAL",
        "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": command, "text": text,
        "api_app_id": slack.api_app_id, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": slack.new_trigger_id(user=user),
    })
    return body, response_url


def click_payload(slack, action_id: str, value: str, *, user: str | None = REP1, team: str | None = None) -> tuple[dict, str]:
    """A block_actions payload for one button, as if on an ephemeral message in #general."""
    response_url = slack.new_response_url(channel="C0GENERAL", user=user or REP1)
    payload = {
        "type": "block_actions", "api_app_id": slack.api_app_id, "token": "x",
        "container": {"type": "message", "message_ts": "1.0", "channel_id": "C0GENERAL", "is_ephemeral": True},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value, "action_ts": "1.0"}],
        "response_url": response_url, "trigger_id": slack.new_trigger_id(user=user),
        "state": {"values": {}},
    }
    if user is not None:
        payload["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team or slack.team_id}
    if team is not False:
        payload["team"] = {"id": team or slack.team_id, "domain": "acme"}
    return payload, response_url


async def send_signed(driver, body: str, **headers: str):
    """POST a body signed now with the app's secret."""
    return await driver.send_raw(body, {**driver.signed_headers(body), **headers})


async def rows_everywhere(db) -> int:
    return sum([await count(db, table) for table in SQLModel.metadata.sorted_tables])


async def test_a_replayed_signed_command_is_ignored(driver, slack, db):
    """The same signed /expense sent again inside Slack's 5-minute window records one expense."""
    await east_team(driver)
    body, response_url = command_body(slack, "/expense", "120 taxi", user=REP1)
    headers = driver.signed_headers(body)
    first = await driver.send_raw(body, headers)
    assert first.status == 200
    await settle()
    replay = await driver.send_raw(body, headers)
    await settle()
    assert replay.status == 200 and not replay.body
    assert await count(db, Expense) == 1
    assert len(await slack.wait_for_responses(response_url)) == 1  # confirmed once, not twice

    # The memory is shared through the database: a second web process refuses it as well.
    async with db.session() as s:
        remembered = (await s.execute(select(RequestSignature.signature))).scalars().all()
    assert headers["X-Slack-Signature"] in remembered


async def test_expired_signatures_and_old_event_ids_are_pruned(driver, slack, db):
    """Rows past their window are deleted as requests come in; the rest stay."""
    now = datetime.now(timezone.utc)
    async with db.session() as s:
        s.add(RequestSignature(signature="v0=old", expires_at=now - timedelta(minutes=1)))
        s.add(RequestSignature(signature="v0=live", expires_at=now + timedelta(minutes=4)))
        s.add(ProcessedEvent(event_id="EvOLD", received_at=now - timedelta(days=2)))
        s.add(ProcessedEvent(event_id="EvNEW", received_at=now - timedelta(minutes=2)))
    reply = await driver.slash("/mytasks", "", user=REP1)
    assert reply.status == 200
    await settle()
    async with db.session() as s:
        signatures = set((await s.execute(select(RequestSignature.signature))).scalars())
        events = set((await s.execute(select(ProcessedEvent.event_id))).scalars())
    assert "v0=old" not in signatures and "v0=live" in signatures and len(signatures) == 2
    assert events == {"EvNEW"}


async def test_another_workspace_is_refused_politely_and_nothing_is_written(driver, slack, db):
    """In token mode only the token's workspace is served: commands, clicks and events from others change nothing."""
    body, _ = command_body(slack, "/salesbot", f"team add <@{REP1}> rep team:East", team=OTHER_TEAM)
    reply = await send_signed(driver, body)
    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral" and "not installed" in reply.body["text"]

    payload, response_url = click_payload(slack, ids.TASK_DONE, "1|l|open|0", team=OTHER_TEAM)
    click = await send_signed(driver, urlencode({"payload": json.dumps(payload)}))
    assert click.status == 200 and not click.body
    [refusal] = await slack.wait_for_responses(response_url)
    assert "not installed" in refusal["text"]

    event = json.dumps({
        "token": "x", "team_id": OTHER_TEAM, "api_app_id": slack.api_app_id, "type": "event_callback",
        "event_id": "Ev0OTHER", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": REP1, "channel": "D0OTHER", "tab": "home", "event_ts": "1.0"},
    })
    assert (await send_signed(driver, event)).status == 200
    await settle()
    assert await rows_everywhere(db) == 0
    assert not slack.calls_to("views.publish") and not slack.calls_to("users.info")

    # The own workspace is still served, and auth.test was asked once, not per request.
    await add_to_roster(driver, f"team add <@{REP1}> rep team:East")
    assert await roster(db) == {REP1: "rep"}
    assert len(slack.calls_to("auth.test")) == 1


MALFORMED = [
    ("payload={not json", "application/x-www-form-urlencoded"),
    (urlencode({"payload": "[1, 2]"}), "application/x-www-form-urlencoded"),
    ("[1, 2]", "application/json"),
    ("not json at all", "application/json"),
    ('{"type": "event_callback", ', "application/json"),
    ("", "application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize(("body", "content_type"), MALFORMED)
async def test_malformed_bodies_get_400_when_signed_and_401_when_not(driver, db, caplog, body, content_type):
    """Nothing is parsed before the signature is checked; a signed body Slack would never send is a 400; no traceback."""
    caplog.set_level(logging.DEBUG)
    signed = {**driver.signed_headers(body), "Content-Type": content_type}
    unsigned = {"Content-Type": content_type, "X-Slack-Request-Timestamp": signed["X-Slack-Request-Timestamp"]}
    assert (await driver.send_raw(body, unsigned)).status == 401
    assert (await driver.send_raw(body, signed)).status == 400
    assert [r for r in caplog.records if r.exc_info] == []
    assert await rows_everywhere(db) == 0


async def test_odd_timestamps_and_bytes_are_refused_without_a_traceback(driver, slack, db, caplog):
    """A non-numeric timestamp cannot be signed (401); bytes that are not UTF-8 are not Slack's (400)."""
    caplog.set_level(logging.DEBUG)
    body, _ = command_body(slack, "/salesbot", "help")
    for stamp in ("abc", "1e9", "", "-1", "0x10"):
        headers = {**driver.signed_headers(body), "X-Slack-Request-Timestamp": stamp}
        headers["X-Slack-Signature"] = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
        assert (await driver.send_raw(body.encode(), headers)).status == 401, stamp
    raw = b"token=x&text=\xff\xfe&command=%2Fsalesbot"
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    assert (await driver.send_raw(raw, headers)).status == 400
    assert [r for r in caplog.records if r.exc_info] == []
    assert await rows_everywhere(db) == 0


async def test_clicks_without_a_user_or_team_are_refused_cleanly(driver, slack, db, caplog):
    """block_actions missing its user or team: a quick refusal, never a 500 or a 3 s wait."""
    caplog.set_level(logging.DEBUG)
    no_user, _ = click_payload(slack, ids.TASK_DONE, "1|l|open|0", user=None)
    no_team, _ = click_payload(slack, ids.TASK_DONE, "1|l|open|0", team=False)
    odd_shapes = [
        {**no_team, "team": ["T0001"]},
        {**no_team, "user": "UREP1", "team": "T0001", "response_urls": [1]},
        {**no_team, "user": {"id": ["UREP1"]}},
    ]
    for payload in (no_user, no_team, *odd_shapes):
        reply = await send_signed(driver, urlencode({"payload": json.dumps(payload)}))
        assert reply.status in (200, 400), (payload, reply)
        assert reply.elapsed < 1.0
    await settle()
    assert [r for r in caplog.records if r.exc_info] == []
    assert await rows_everywhere(db) == 0


HUGE = "1" * 30


@pytest.mark.parametrize(("action_id", "value", "refusal"), [
    (ids.TASK_DONE, f"{HUGE}|l|open|0", "That task no longer exists"),
    (ids.TASKS_NEXT, f"1|l|open|{HUGE}", "That task no longer exists"),
    (ids.DEAL_WON, f"{HUGE}|lead", "There is no deal"),
    (ids.DAILY_DONE, HUGE, "That task no longer exists"),
])
async def test_a_30_digit_id_in_a_button_is_a_clean_refusal(driver, slack, db, action_id, value, refusal):
    """An id no integer column can hold is refused like a missing row, on SQLite and PostgreSQL alike."""
    await east_team(driver)
    payload, response_url = click_payload(slack, action_id, value)
    reply = await send_signed(driver, urlencode({"payload": json.dumps(payload)}))
    assert reply.status == 200 and reply.elapsed < 1.0
    [answer] = await slack.wait_for_responses(response_url)
    assert refusal in json.dumps(answer)


async def test_nul_bytes_and_control_characters_are_stripped_at_the_edge(driver, slack, db):
    """Text with NUL and other control bytes is saved without them (PostgreSQL refuses NUL), tabs and newlines kept."""
    await add_to_roster(driver, f"team add <@{MANAGER}> manager team:Ea\x00st\x07", f"team add <@{REP1}> rep team:East")
    assert [t.name for t in await _all(db, SalesTeam)] == ["East"]

    expense = await driver.slash("/expense", "120 ta\x00xi", user=REP1)
    [confirm] = await expense.responses()
    await settle()
    assert [e.category for e in await _all(db, Expense)] == ["taxi"]

    playbook = await driver.slash("/deal", 'playbook proposal set "Dr\x00aft the quote"', user=MANAGER)
    await playbook.responses()
    await settle()
    assert [p.title for p in await _all(db, PlaybookItem)] == ["Draft the quote"]

    await assign(driver, slack, title="Call\x00 back\tsoon", assignees=[REP1], **{ids.ASSIGN_DETAILS: "line one\nline\x00 two"})
    [task] = await _all(db, Task)
    assert (task.title, task.details) == ("Call back\tsoon", "line one\nline two")

    async with db.session() as s:
        s.add(Customer(workspace_id=task.workspace_id, name="Acme"))
    _, view = await open_assign(driver, slack)
    found = await driver.suggest(view["id"], ids.ASSIGN_CUSTOMER_SEARCH, "Ac\x00me", user=MANAGER)
    assert found.status == 200
    assert [o["text"]["text"].split(" · ")[0] for o in found.body["options"]] == ["Acme"]


async def _all(db, model):
    async with db.session() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())
