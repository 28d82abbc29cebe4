"""Read the values Slack sends with a modal submission."""

from __future__ import annotations

import json
from datetime import date


def element(view: dict, block_id: str) -> dict:
    """The submitted element of an input block (one element per block in our modals)."""
    values = view.get("state", {}).get("values", {}).get(block_id, {})
    return next(iter(values.values()), {}) if values else {}


def text_value(view: dict, block_id: str) -> str:
    """A text input's value ('' when empty)."""
    return element(view, block_id).get("value") or ""


def selected_value(view: dict, block_id: str) -> str | None:
    """The chosen option's value of a select, or None."""
    opt = element(view, block_id).get("selected_option")
    return opt.get("value") if opt else None


def enum_or(enum_cls, value, default):
    """The enum member for a submitted value, or `default` for anything Slack could not have sent."""
    try:
        return enum_cls(value)
    except ValueError:
        return default


def selected_users(view: dict, block_id: str) -> list[str]:
    """Users chosen in a multi_users_select."""
    return list(element(view, block_id).get("selected_users") or [])


def selected_date(view: dict, block_id: str) -> date | None:
    """A datepicker's date, or None."""
    raw = element(view, block_id).get("selected_date")
    return date.fromisoformat(raw) if raw else None


def metadata(view: dict) -> dict:
    """The private_metadata the bot stored in the view (a JSON object)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
