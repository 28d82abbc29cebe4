"""Saving forms: an answer within Slack's 3 seconds whatever the database does, one save per
submitted view, and a clean refusal under the field for payloads Slack could not have sent."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text

from bot.blocks import ids
from bot.db import Database
from bot.standin import SlackDriver
from tests.conftest import PG_URL
from tests.scenario.conftest import ADMIN, MANAGER, REP1, REP2, settle
from tests.scenario.helpers import all_tasks, assign, dm_cards, east_team, open_assign

SLACK_GIVES_UP = 3.0


def submission(driver: SlackDriver, view_id: str, *, user: str, values: dict[str, Any]) -> dict[str, Any]:
    """The view_submission payload Slack sends for an open modal with `values` typed in."""
    slack = driver.slack
    record = slack.views[view_id]
    member = slack.ensure_user(user)
    return {
        "type": "view_submission",
        "team": {"id": slack.team_id, "domain": slack.team_domain},
        "user": {"id": user, "username": member["name"], "name": member["name"], "team_id": slack.team_id},
        "api_app_id": slack.api_app_id,
        "trigger_id": slack.new_trigger_id(user=user, view_id=view_id),
        "view": driver._view_payload(record, values),
        "response_urls": [],
    }


async def send(driver: SlackDriver, payload: dict[str, Any]):
    """Send a payload correctly signed (Slack's own, replayed, or forged by someone holding a valid request)."""
    body = urlencode({"payload": json.dumps(payload)})
    return await driver.send_raw(body, driver.signed_headers(body))


BUSY = "Could not save just now. Please submit again."


def field_errors(reply) -> dict[str, str]:
    """The errors a submission's answer shows under the modal's fields."""
    assert reply.status == 200, reply
    assert isinstance(reply.body, dict) and reply.body.get("response_action") == "errors", reply.body
    return reply.body["errors"]


# Another process takes the SQLite file's one write lock and keeps it until told to let go.
_HOLD_SQLITE_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@asynccontextmanager
async def write_lock(db: Database):
    """Hold a write lock on the tasks from another process, as a long import or a stuck worker would."""
    if PG_URL:
        other = Database(db.url)  # another server backend: PostgreSQL runs each connection as its own process
        try:
            async with other.engine.connect() as conn:
                await conn.begin()
                await conn.execute(text("LOCK TABLE task IN EXCLUSIVE MODE"))  # reads go on, writes wait
                yield
                await conn.rollback()
        finally:
            await other.dispose()
    else:
        path = db.url.split("///", 1)[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _HOLD_SQLITE_LOCK, path, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert (await proc.stdout.readline()).strip() == b"locked"
            yield
        finally:
            proc.stdin.write(b"release\n")
            await proc.stdin.drain()
            assert await proc.wait() == 0


async def test_a_locked_database_gets_a_field_error_in_time_and_saves_nothing(driver, slack, db, logged_errors):
    logged_errors.allow("database unreachable")  # the edge may meet the lock before the form does
    await east_team(driver)
    _reply, view = await open_assign(driver, slack)
    values = {ids.ASSIGN_TITLE: "Call Acme", ids.ASSIGN_ASSIGNEES: [REP1]}
    locked_at = time.monotonic()
    async with write_lock(db):
        # The manager submits, reads the error and submits again while the lock is still held,
        # until it has been held longer than Slack would wait for one answer.
        attempt = 0
        while attempt < 2 or time.monotonic() - locked_at <= SLACK_GIVES_UP:
            attempt += 1
            blocked = await driver.submit_view(view["id"], user=MANAGER, values=values)
            assert blocked.elapsed < SLACK_GIVES_UP, f"attempt {attempt} answered after {blocked.elapsed:.2f}s"
            assert field_errors(blocked) == {ids.ASSIGN_TITLE: BUSY}
        assert time.monotonic() - locked_at > SLACK_GIVES_UP, "the lock outlived Slack's patience"
    await settle()
    assert await all_tasks(db) == [], "the abandoned saves were rolled back"
    assert dm_cards(slack, REP1) == []

    # Once the database is free the same view is saved, once; the modal closes.
    saved = await driver.submit_view(view["id"], user=MANAGER, values=values)
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    assert [t.title for t in await all_tasks(db)] == ["Call Acme"]
    assert len(dm_cards(slack, REP1)) == 1


async def test_a_view_submitted_twice_saves_one_task(driver, slack, db):
    await east_team(driver)
    _reply, view = await open_assign(driver, slack)
    payload = submission(driver, view["id"], user=MANAGER, values={ids.ASSIGN_TITLE: "Visit Acme", ids.ASSIGN_ASSIGNEES: [REP2]})
    # Slack's retry after a slow answer, and the member's second click, carry the same view id and hash.
    first, second = await asyncio.gather(send(driver, payload), send(driver, payload))
    for reply in (first, second):
        # One waits for the other's save; on a loaded machine its 2 s can pass first and it asks for
        # another submission (the modal stays open), which is what the member's third click is.
        assert reply.status == 200 and (not reply.body or field_errors(reply) == {ids.ASSIGN_TITLE: BUSY}), reply.body
    for _ in range(10):
        third = await send(driver, payload)
        if not third.body:
            break
        assert field_errors(third) == {ids.ASSIGN_TITLE: BUSY}
    await settle()
    assert third.status == 200 and not third.body, third.body
    assert [t.title for t in await all_tasks(db)] == ["Visit Acme"]
    assert len(dm_cards(slack, REP2)) == 1, "one card for one task"


async def test_a_refused_submission_can_be_corrected_and_saved(driver, slack, db):
    await east_team(driver)
    _reply, view = await open_assign(driver, slack)
    refused = await driver.submit_view(view["id"], user=MANAGER, values={ids.ASSIGN_TITLE: "Call", ids.ASSIGN_ASSIGNEES: [REP1], ids.ASSIGN_DUE: "2020-01-01"})
    assert ids.ASSIGN_DUE in field_errors(refused)
    saved = await driver.submit_view(view["id"], user=MANAGER, values={ids.ASSIGN_TITLE: "Call", ids.ASSIGN_ASSIGNEES: [REP1]})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    assert len(await all_tasks(db)) == 1, "the same view id and hash saves once it is right"


def _forge(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(payload: dict[str, Any]) -> dict[str, Any]:
        change(payload["view"])
        return payload

    return apply


def _state_of(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(iter(view["state"]["values"][block_id].values()))


FORGED_ASSIGN = {
    "no state": (_forge(lambda v: v.pop("state")), ids.ASSIGN_TITLE, "This form could not be read"),
    "null state": (_forge(lambda v: v.update(state=None)), ids.ASSIGN_TITLE, "This form could not be read"),
    "day-first date": (_forge(lambda v: _state_of(v, ids.ASSIGN_DUE).update(selected_date="31/12/2027")), ids.ASSIGN_DUE, "date picker"),
    "impossible date": (_forge(lambda v: _state_of(v, ids.ASSIGN_DUE).update(selected_date="2027-02-30")), ids.ASSIGN_DUE, "date picker"),
    "stage not offered": (
        _forge(lambda v: _state_of(v, ids.ASSIGN_STAGE).update(selected_option={"text": {"type": "plain_text", "text": "x"}, "value": "bribe"})),
        ids.ASSIGN_STAGE, "Pick one of the options",
    ),
    "priority not offered": (
        _forge(lambda v: _state_of(v, ids.ASSIGN_PRIORITY).update(selected_option={"text": {"type": "plain_text", "text": "x"}, "value": "9"})),
        ids.ASSIGN_PRIORITY, "Pick one of the options",
    ),
    "30-digit customer": (
        _forge(lambda v: _state_of(v, ids.ASSIGN_CUSTOMER).update(selected_option={"text": {"type": "plain_text", "text": "x"}, "value": "9" * 30})),
        ids.ASSIGN_CUSTOMER, "Pick one of the options",
    ),
    "assignee not a user": (_forge(lambda v: _state_of(v, ids.ASSIGN_ASSIGNEES).update(selected_users=[{"id": REP1}])), ids.ASSIGN_ASSIGNEES, "Pick one"),
}


async def test_forged_assign_submissions_are_refused_under_the_field(driver, slack, db):
    await east_team(driver)
    for name, (forge, block, message) in FORGED_ASSIGN.items():
        _reply, view = await open_assign(driver, slack)
        values = {ids.ASSIGN_TITLE: "Forged", ids.ASSIGN_ASSIGNEES: [REP1], ids.ASSIGN_DUE: date(2027, 12, 31).isoformat()}
        reply = await send(driver, forge(submission(driver, view["id"], user=MANAGER, values=values)))
        assert reply.elapsed < SLACK_GIVES_UP, name
        errors = field_errors(reply)
        assert list(errors) == [block] and message in errors[block], (name, errors)
    await settle()
    assert await all_tasks(db) == []


async def _open_config(driver, slack) -> dict[str, Any]:
    reply = await driver.slash("/salesbot", "config", user=MANAGER)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    return call.response["view"]


async def test_forged_ids_in_private_metadata_are_refused(driver, slack, db):
    await east_team(driver)
    for forged in (10**29, -1, "East", True):
        view = await _open_config(driver, slack)
        payload = submission(driver, view["id"], user=MANAGER, values={ids.CONFIG_DAILY_TIME: "07:00"})
        payload["view"]["private_metadata"] = json.dumps({"team": forged})
        errors = field_errors(await send(driver, payload))
        assert list(errors.values()) in (["This form is out of date. Close it and open it again."], ["Say which team: `/salesbot config team:NAME`."]), (forged, errors)

    await assign(driver, slack, title="Call Acme", assignees=[REP1])
    [card] = dm_cards(slack, REP1)
    reply = await driver.click(card, ids.TASK_NOTE, user=REP1)
    assert reply.status == 200
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    note_view = call.response["view"]
    for ref in ("9" * 30 + "|c|open|0", "abc", "-5|c|open|0"):
        payload = submission(driver, note_view["id"], user=REP1, values={ids.NOTE_TEXT: "Called"})
        payload["view"]["private_metadata"] = json.dumps({"ref": ref})
        errors = field_errors(await send(driver, payload))
        assert list(errors) == [ids.NOTE_TEXT], (ref, errors)
    await settle()
