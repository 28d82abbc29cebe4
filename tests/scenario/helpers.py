"""Steps the scenarios share: build the roster, assign through the modal, read the database.

Every step acts the way Slack does (a signed slash command, a click on what the bot sent,
a submission of the modal the bot opened); only the database reads look behind the curtain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.models import Member, Task, TaskAssignee, TaskEvent, TaskEventKind
from bot.standin import SlackDriver, SlackStandIn
from bot.blocks import ids
from tests.scenario.conftest import ADMIN, MANAGER, MANAGER_W, REP1, REP2, REP_W, REP_ZH, settle

EAST = [
    f"team add <@{MANAGER}|mia> manager team:East region:East",
    f"team add <@{REP1}|ray> rep team:East region:East segment:key level:senior",
    f"team add <@{REP2}> rep team:East region:West segment:smb",
    f"team add <@{REP_ZH}> rep team:East region:East",
]
WEST = [
    f"team add <@{MANAGER_W}> manager team:West",
    f"team add <@{REP_W}> rep team:West",
]


async def salesbot(driver: SlackDriver, text: str, *, user: str) -> dict[str, Any]:
    """Run `/salesbot text` and return the one reply it sends through the response_url."""
    reply = await driver.slash("/salesbot", text, user=user)
    assert reply.status == 200, reply
    [response] = await reply.responses()
    await settle()
    return response


async def add_to_roster(driver: SlackDriver, *lines: str) -> None:
    """The admin adds people with `/salesbot team add …`; each gets a confirmation."""
    for line in lines:
        response = await salesbot(driver, line, user=ADMIN)
        assert ":white_check_mark:" in response["text"], response


async def east_team(driver: SlackDriver) -> None:
    """The East team: MANAGER with REP1, REP2 and REP_ZH."""
    await add_to_roster(driver, *EAST)


async def both_teams(driver: SlackDriver) -> None:
    """East as above, and West: MANAGER_W with REP_W."""
    await add_to_roster(driver, *EAST, *WEST)


async def open_assign(driver: SlackDriver, slack: SlackStandIn, text: str = "", *, user: str = MANAGER):
    """Type `/assign text`; return the command's reply and the modal the bot opened."""
    reply = await driver.slash("/assign", text, user=user)
    assert reply.status == 200, reply
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    return reply, call.response["view"]


async def assign(
    driver: SlackDriver,
    slack: SlackStandIn,
    *,
    title: str,
    assignees: list[str],
    due: date | None = None,
    priority: str | None = None,
    user: str = MANAGER,
    **values: Any,
) -> Any:
    """Assign a task through the modal; returns the command's reply (its response_url holds the confirmation)."""
    reply, view = await open_assign(driver, slack, user=user)
    fields: dict[str, Any] = {ids.ASSIGN_TITLE: title, ids.ASSIGN_ASSIGNEES: assignees, **values}
    if due is not None:
        fields[ids.ASSIGN_DUE] = due.isoformat()
    if priority is not None:
        fields[ids.ASSIGN_PRIORITY] = priority
    submitted = await driver.submit_view(view["id"], user=user, values=fields)
    assert submitted.status == 200 and not submitted.body, submitted.body
    await settle()
    return reply


async def mytasks(driver: SlackDriver, user: str, text: str = "") -> dict[str, Any]:
    """Run `/mytasks text` and return the ephemeral message it left on the user's screen."""
    reply = await driver.slash("/mytasks", text, user=user)
    assert reply.status == 200, reply
    await reply.responses()
    await settle()
    return driver.slack.ephemerals_for(user)[-1]


async def click(driver: SlackDriver, source: dict[str, Any], action_id: str, *, user: str, **kw: Any):
    """Click an element of a stored message or view and wait for the bot to finish."""
    reply = await driver.click(source, action_id, user=user, **kw)
    assert reply.status == 200, reply
    await settle()
    return reply


async def forged_click(driver: SlackDriver, message: dict[str, Any], action_id: str, *, user: str):
    """A correctly signed click on a button of someone else's message.

    Slack never shows one member another's DM or ephemeral message, so the driver refuses
    such a click; a forged, replayed or shared payload can still carry one, and the bot must
    check who clicked, not only where the button was shown.
    """
    slack = driver.slack
    current = slack.find_message(message["id"])
    assert current is not None, "the message is gone"
    [element] = [e for b in current["blocks"] if b.get("type") == "actions" for e in b["elements"] if e.get("action_id") == action_id]
    block = next(b for b in current["blocks"] if element in b.get("elements", []))
    member = slack.ensure_user(user)
    response_url = slack.new_response_url(
        channel=current["channel"], user=user,
        message_ts=None if current["ephemeral"] else current["ts"],
        ephemeral_id=current["id"] if current["ephemeral"] else None,
    )
    trigger_id = slack.new_trigger_id(user=user)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": member["name"], "name": member["name"], "team_id": slack.team_id},
        "api_app_id": slack.api_app_id,
        "team": {"id": slack.team_id, "domain": slack.team_domain},
        "container": {"type": "message", "message_ts": current["ts"], "channel_id": current["channel"], "is_ephemeral": current["ephemeral"]},
        "channel": {"id": current["channel"], "name": "directmessage"},
        "actions": [{
            "type": "button", "action_id": action_id, "block_id": block["block_id"], "text": element["text"],
            "value": element["value"], "action_ts": "1.0",
        }],
        "response_url": response_url,
        "trigger_id": trigger_id,
        "state": {"values": {}},
    }
    if not current["ephemeral"]:
        payload["message"] = slack.message_payload(current)
    body = urlencode({"payload": json.dumps(payload)})
    reply = await driver.send_raw(body, driver.signed_headers(body))
    assert reply.status == 200, reply
    await settle()
    return reply


# --------------------------------------------------------------------------- reading surfaces


def task_ids(blocks: list[dict[str, Any]]) -> list[int]:
    """Task ids in the order a list, card or Home shows them (from their button blocks)."""
    out = []
    for block in blocks or []:
        m = re.fullmatch(r"task-(\d+)", block.get("block_id") or "")
        if m and block.get("type") == "actions":
            out.append(int(m.group(1)))
    return out


def button_value(blocks: list[dict[str, Any]], action_id: str, task_id: int) -> str:
    """The value of a task's button, to tell the driver which of several to click."""
    for block in blocks:
        if block.get("block_id") == f"task-{task_id}":
            for element in block["elements"]:
                if element["action_id"] == action_id:
                    return element["value"]
    raise AssertionError(f"task {task_id} shows no {action_id!r} button")


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    """Every action_id shown, in order."""
    return [e.get("action_id") for b in blocks or [] if b.get("type") == "actions" for e in b["elements"]]


def mrkdwn_texts(obj: Any) -> Iterator[str]:
    """Every mrkdwn text object inside a payload (blocks, views, nested elements)."""
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn" and isinstance(obj.get("text"), str):
            yield obj["text"]
        for value in obj.values():
            yield from mrkdwn_texts(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from mrkdwn_texts(value)


def shown_text(blocks: list[dict[str, Any]] | None) -> str:
    """All text a member reads in blocks (mrkdwn and plain), one string for `in` checks."""
    parts: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
                parts.append(obj["text"])
            for value in obj.values():
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(blocks)
    return "\n".join(parts)


def dm_cards(slack: SlackStandIn, user: str) -> list[dict[str, Any]]:
    """Messages the bot posted in its DM with a member."""
    return [m for m in slack.messages_in(slack.dm_channel(user)) if not m["ephemeral"]]


# --------------------------------------------------------------------------- reading the database


async def all_tasks(db) -> list[Task]:
    """Every task, oldest first."""
    async with db.session() as s:
        return list((await s.execute(select(Task).order_by(Task.id))).scalars())


async def task_by_title(db, title: str) -> Task:
    """The one task with this title."""
    async with db.session() as s:
        return (await s.execute(select(Task).where(Task.title == title))).scalar_one()


async def assignees_of(db, task_id: int) -> list[str]:
    """Slack user ids assigned to a task, sorted."""
    async with db.session() as s:
        q = select(Member.slack_user_id).join(TaskAssignee, TaskAssignee.member_id == Member.id).where(TaskAssignee.task_id == task_id)
        return sorted((await s.execute(q)).scalars())


async def events(db, kind: TaskEventKind | None = None, task_id: int | None = None) -> list[TaskEvent]:
    """Task events, oldest first, optionally of one kind or task."""
    async with db.session() as s:
        q = select(TaskEvent).order_by(TaskEvent.id)
        if kind is not None:
            q = q.where(TaskEvent.kind == kind)
        if task_id is not None:
            q = q.where(TaskEvent.task_id == task_id)
        return list((await s.execute(q)).scalars())


async def roster(db) -> dict[str, str]:
    """Who is on the roster: Slack user id -> role."""
    async with db.session() as s:
        rows = (await s.execute(select(Member.slack_user_id, Member.role).where(Member.role.is_not(None)))).all()
    return {u: r.value for u, r in rows}


async def count(db, model) -> int:
    """Rows in a table."""
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()
