"""Read the values Slack sends with a modal submission.

Every reader refuses what Slack could not have sent (a missing state, a date in another format,
an option the view does not offer, an id out of range) with a BadField naming the block, so a
forged or stale payload gets an error under the field instead of a crash.
"""

from __future__ import annotations

import json
import re
from datetime import date

from bot.services.errors import ServiceError

# Row ids are INTEGER columns: anything larger would make the database raise, not refuse.
MAX_ID = 2**31 - 1
_ID = re.compile(r"[1-9][0-9]{0,9}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_USER = re.compile(r"[UW][A-Z0-9]{1,31}")
_CONVERSATION = re.compile(r"[CDG][A-Z0-9]{1,31}")
OPTION_VALUE_MAX = 150  # Slack's limit on an option value


class BadField(ServiceError):
    """A submitted value the form could not have sent; `block_id` None means the form as a whole."""

    key = "form.error.bad_value"

    def __init__(self, block_id: str | None, key: str | None = None, **params: object) -> None:
        super().__init__(key, **params)
        self.block_id = block_id


def _values(view: dict) -> dict:
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        raise BadField(None, "form.error.unreadable")
    return values


def element(view: dict, block_id: str) -> dict:
    """The submitted element of an input block (one element per block in our modals)."""
    values = _values(view).get(block_id)
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise BadField(block_id)
    found = next(iter(values.values()), {}) if values else {}
    if not isinstance(found, dict):
        raise BadField(block_id)
    return found


def text_value(view: dict, block_id: str) -> str:
    """A text input's value ('' when empty)."""
    value = element(view, block_id).get("value")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadField(block_id)
    return value


def _offered(view: dict, block_id: str) -> set[str] | None:
    """The option values the view's block offers, or None when its options are not in the view (external selects)."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == block_id:
            el = block.get("element") or block.get("accessory") or {}
            options = list(el.get("options") or [])
            for group in el.get("option_groups") or []:
                options += group.get("options") or []
            if not options:
                return None
            return {o.get("value") for o in options if isinstance(o, dict)}
    return None


def _option_value(view: dict, block_id: str, option) -> str:
    value = option.get("value") if isinstance(option, dict) else None
    if not isinstance(value, str) or len(value) > OPTION_VALUE_MAX:
        raise BadField(block_id, "form.error.bad_choice")
    offered = _offered(view, block_id)
    if offered is not None and value not in offered:
        raise BadField(block_id, "form.error.bad_choice")
    return value


def selected_value(view: dict, block_id: str) -> str | None:
    """The chosen option's value of a select, or None; a value the view does not offer is refused."""
    opt = element(view, block_id).get("selected_option")
    return None if opt is None else _option_value(view, block_id, opt)


def selected_values(view: dict, block_id: str) -> list[str]:
    """The chosen options' values of checkboxes or a multi-select."""
    chosen = element(view, block_id).get("selected_options")
    if chosen is None:
        return []
    if not isinstance(chosen, list):
        raise BadField(block_id, "form.error.bad_choice")
    return [_option_value(view, block_id, o) for o in chosen]


def choice(view: dict, block_id: str, enum_cls, default):
    """The enum member chosen in a select, `default` when nothing is chosen; anything else is refused."""
    value = selected_value(view, block_id)
    if value is None:
        return default
    try:
        return enum_cls(value)
    except ValueError:
        raise BadField(block_id, "form.error.bad_choice") from None


def enum_or(enum_cls, value, default):
    """The enum member for a value, or `default` (for prefills, where a wrong value is not the member's doing)."""
    try:
        return enum_cls(value)
    except ValueError:
        return default


def as_id(value, block_id: str | None, key: str = "form.error.bad_choice") -> int | None:
    """A row id from a submitted string or stored int (None when absent); out of range is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadField(block_id, key)
    if isinstance(value, int):
        if 0 < value <= MAX_ID:
            return value
        raise BadField(block_id, key)
    if isinstance(value, str) and _ID.fullmatch(value) and int(value) <= MAX_ID:
        return int(value)
    raise BadField(block_id, key)


def selected_id(view: dict, block_id: str) -> int | None:
    """The row id chosen in a select whose option values are ids (external selects included)."""
    return as_id(selected_value(view, block_id), block_id)


def selected_user(view: dict, block_id: str) -> str | None:
    """The user chosen in a users_select."""
    value = element(view, block_id).get("selected_user")
    if value is None:
        return None
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise BadField(block_id, "form.error.bad_choice")
    return value


def selected_users(view: dict, block_id: str) -> list[str]:
    """Users chosen in a multi_users_select."""
    users = element(view, block_id).get("selected_users")
    if users is None:
        return []
    if not isinstance(users, list) or not all(isinstance(u, str) and _USER.fullmatch(u) for u in users):
        raise BadField(block_id, "form.error.bad_choice")
    return list(users)


def selected_conversation(view: dict, block_id: str) -> str | None:
    """The channel chosen in a conversations_select."""
    value = element(view, block_id).get("selected_conversation")
    if value is None:
        return None
    if not isinstance(value, str) or not _CONVERSATION.fullmatch(value):
        raise BadField(block_id, "form.error.bad_choice")
    return value


def selected_date(view: dict, block_id: str) -> date | None:
    """A datepicker's date (Slack sends YYYY-MM-DD), or None."""
    raw = element(view, block_id).get("selected_date")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _DATE.fullmatch(raw):
        raise BadField(block_id, "form.error.bad_date")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadField(block_id, "form.error.bad_date") from None


def metadata(view: dict) -> dict:
    """The private_metadata the bot stored in the view (a JSON object)."""
    raw = view.get("private_metadata") if isinstance(view, dict) else None
    try:
        data = json.loads(raw or "{}") if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def metadata_id(meta: dict, key: str) -> int | None:
    """An id the bot stored in the metadata; a malformed one means the form is stale or forged."""
    return as_id(meta.get(key), None, "form.error.stale")
