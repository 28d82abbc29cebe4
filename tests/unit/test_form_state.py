"""The modal state readers: what Slack sends is read; anything else is refused under its block."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from bot.models import Stage
from handlers.views.state import (
    MAX_ID, BadField, choice, metadata, metadata_id, selected_date, selected_id, selected_users, selected_value, selected_values,
    text_value,
)

STAGES = {"type": "static_select", "action_id": "pick", "options": [{"text": {"type": "plain_text", "text": s.value}, "value": s.value} for s in Stage]}


def view(values: dict, *, meta: str = "") -> dict:
    """A submitted view with one stage select and `values` as its state."""
    return {
        "blocks": [{"type": "input", "block_id": "stage", "element": STAGES, "label": {"type": "plain_text", "text": "Stage"}}],
        "state": {"values": values},
        "private_metadata": meta,
    }


@contextmanager
def refused(block_id, key):
    """Expect a BadField for `block_id` with message `key`."""
    with pytest.raises(BadField) as info:
        yield
    assert (info.value.block_id, info.value.key) == (block_id, key)


def test_values_slack_sends_are_read():
    v = view({
        "title": {"t": {"type": "plain_text_input", "value": "Call"}},
        "due": {"d": {"type": "datepicker", "selected_date": "2027-12-31"}},
        "stage": {"pick": {"type": "static_select", "selected_option": {"value": "proposal"}}},
        "who": {"u": {"type": "multi_users_select", "selected_users": ["U1", "W2"]}},
        "customer": {"c": {"type": "external_select", "selected_option": {"value": str(MAX_ID)}}},
        "empty": {"e": {"type": "plain_text_input", "value": None}},
    }, meta='{"team": 7}')
    assert text_value(v, "title") == "Call" and text_value(v, "empty") == "" and text_value(v, "missing") == ""
    assert selected_date(v, "due") == date(2027, 12, 31)
    assert choice(v, "stage", Stage, None) == Stage.PROPOSAL and selected_value(v, "stage") == "proposal"
    assert selected_users(v, "who") == ["U1", "W2"]
    assert selected_id(v, "customer") == MAX_ID
    assert metadata_id(metadata(v), "team") == 7 and metadata_id({}, "team") is None
    assert selected_values(v, "missing") == [] and choice(v, "missing", Stage, Stage.LEAD) == Stage.LEAD


@pytest.mark.parametrize("state", [None, [], "x", {"values": None}, {"values": []}])
def test_a_view_without_state_is_refused_as_a_whole(state):
    v = view({})
    v["state"] = state
    with refused(None, "form.error.unreadable"):
        text_value(v, "title")


@pytest.mark.parametrize("raw", ["31/12/2027", "2027-02-30", "2027-1-1", 20271231, "２０２７-１２-３１"])
def test_a_date_not_from_the_date_picker_is_refused(raw):
    with refused("due", "form.error.bad_date"):
        selected_date(view({"due": {"d": {"selected_date": raw}}}), "due")


@pytest.mark.parametrize("option", [{"value": "bribe"}, {"value": 3}, "proposal", {"value": "x" * 151}])
def test_an_option_the_view_does_not_offer_is_refused(option):
    with refused("stage", "form.error.bad_choice"):
        choice(view({"stage": {"pick": {"selected_option": option}}}), "stage", Stage, None)


@pytest.mark.parametrize("raw", ["9" * 30, str(MAX_ID + 1), "0", "-1", "12a", "1e3", " 1"])
def test_an_id_out_of_range_is_refused(raw):
    with refused("customer", "form.error.bad_choice"):
        selected_id(view({"customer": {"c": {"selected_option": {"value": raw}}}}), "customer")


@pytest.mark.parametrize("raw", [10**29, -1, 0, True, "x7", 1.5, [7]])
def test_a_metadata_id_out_of_range_is_refused(raw):
    with refused(None, "form.error.stale"):
        metadata_id({"team": raw}, "team")


def test_malformed_state_shapes_are_refused_at_their_block():
    with refused("title", "form.error.bad_value"):
        text_value(view({"title": {"t": {"value": ["Call"]}}}), "title")
    with refused("title", "form.error.bad_value"):
        text_value(view({"title": ["Call"]}), "title")
    with refused("who", "form.error.bad_choice"):
        selected_users(view({"who": {"u": {"selected_users": [{"id": "U1"}]}}}), "who")
    assert metadata({"private_metadata": "[1]"}) == {} and metadata({"private_metadata": 5}) == {}
