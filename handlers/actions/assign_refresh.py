"""Picking a customer, stage or difficulty in the open assign modal redraws it with the best-suited reps."""

from __future__ import annotations

import copy
import logging

from slack_sdk.errors import SlackApiError

from bot.unit import turn
from bot.blocks.modals import AssignPrefill, build_assign_modal, customer_options
from bot.models import Segment
from bot.services import matching
from bot.blocks import ids
from handlers.views.state import enum_or, element, metadata, selected_users, selected_value, selected_values, text_value

log = logging.getLogger(__name__)

# Keys of a block_actions action that describe the element, not its value.
_ACTION_META = frozenset({"type", "action_id", "block_id", "action_ts"})


async def _ignore(_text) -> None:
    """A refused redraw shows nothing: the modal stays as it was and its submission is checked again."""


def current_view(view: dict, action: dict) -> dict:
    """The view with the picked value written into its state (the action is the freshest word on it)."""
    merged = copy.deepcopy(view)
    values = merged.setdefault("state", {}).setdefault("values", {})
    block_id, action_id = action.get("block_id"), action.get("action_id")
    if block_id and action_id:
        entry = {k: v for k, v in action.items() if k not in _ACTION_META}
        values.setdefault(block_id, {})[action_id] = {"type": action.get("type"), **entry}
    return merged


def prefill_from_view(view: dict) -> AssignPrefill:
    """Everything the manager has typed or picked so far, to give back as initial values."""
    return AssignPrefill(
        title=text_value(view, ids.ASSIGN_TITLE),
        assignees=selected_users(view, ids.ASSIGN_ASSIGNEES),
        customer=element(view, ids.ASSIGN_CUSTOMER).get("selected_option"),
        new_customer=text_value(view, ids.ASSIGN_NEW_CUSTOMER),
        segment=selected_value(view, ids.ASSIGN_SEGMENT),
        stage=selected_value(view, ids.ASSIGN_STAGE),
        priority=selected_value(view, ids.ASSIGN_PRIORITY),
        difficulty=selected_value(view, ids.ASSIGN_DIFFICULTY),
        due=element(view, ids.ASSIGN_DUE).get("selected_date"),
        details=text_value(view, ids.ASSIGN_DETAILS),
        repeat=selected_value(view, ids.ASSIGN_REPEAT),
        repeat_days=selected_values(view, ids.ASSIGN_REPEAT_DAYS),
    )


async def handle_assign_refresh(ack, body, action, client, context):
    """Rank the reps for the chosen customer and difficulty and update the assign modal in place, keeping what was typed."""
    await ack()
    view = body.get("view") or {}
    if view.get("callback_id") != ids.ASSIGN_VIEW:
        return  # the same ids in another modal: not ours to redraw
    view = current_view(view, action)
    prefill = prefill_from_view(view)
    raw_customer = (prefill.customer or {}).get("value")
    customer_id = int(raw_customer) if isinstance(raw_customer, str) and raw_customer.isdigit() else None
    segment = None
    if prefill.new_customer.strip() and customer_id is None:
        segment = enum_or(Segment, prefill.segment, Segment.SMB)
    difficulty = int(prefill.difficulty) if prefill.difficulty in {"1", "2", "3"} else 1
    async with turn(context["deps"], client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=_ignore) as t:
        match = await matching.suggest_assignees(t.session, actor=t.actor, customer_id=customer_id, new_customer_segment=segment, difficulty=difficulty)
        # The customer's option is rebuilt from the database: the picked option's text is Slack's echo.
        prefill.customer = customer_options([match.customer], t.loc)[0] if match.customer is not None else None
        new_view = build_assign_modal(t.loc, prefill=prefill, metadata=metadata(view), match=match)
    # No hash: a later pick carries the fuller state, so the last update is the one to keep.
    try:
        await client.views_update(view_id=body["view"]["id"], view=new_view)
    except SlackApiError as exc:
        if exc.response.get("error") != "not_found":
            raise
        # Submitted or closed while the ranking ran: there is nothing left to redraw.
        log.info("assign modal %s was gone before its suggestions were shown", body["view"]["id"])
