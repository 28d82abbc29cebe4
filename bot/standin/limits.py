"""Block Kit and Web API limits, checked the way Slack checks them.

Every validator returns a list of human-readable error strings; an empty list means valid.
The numbers come from Slack's published limits (see the project's Slack facts sheet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000
MAX_VIEW_BYTES = 250_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OVERFLOW_OPTIONS = 5
MAX_CHOICE_OPTIONS = 10
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3000
MAX_EXTERNAL_ID = 255
MAX_IMAGE_ALT = 2000

KNOWN_BLOCKS = frozenset(
    {"section", "header", "context", "actions", "divider", "input", "image", "rich_text"}
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})

_STATIC_SELECTS = frozenset({"static_select", "multi_static_select"})
_PICKERS = frozenset(
    {
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
_CHOICES = frozenset({"checkboxes", "radio_buttons"})
_TEXT_INPUTS = frozenset(
    {"plain_text_input", "number_input", "email_text_input", "url_text_input", "rich_text_input"}
)
_DATES = frozenset({"datepicker", "timepicker", "datetimepicker"})

# Which element types each container accepts, per Block Kit's reference.
_ACTIONS_ELEMENTS = frozenset(
    {"button", "overflow", *_STATIC_SELECTS, *_PICKERS, *_CHOICES, *_DATES}
)
_ACCESSORY_ELEMENTS = _ACTIONS_ELEMENTS | {"image"}
_INPUT_ELEMENTS = frozenset(
    {*_STATIC_SELECTS, *_PICKERS, *_CHOICES, *_DATES, *_TEXT_INPUTS, "file_input"}
)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}$")


def validate_blocks(blocks: Any, *, surface: Surface) -> list[str]:
    """Check a list of blocks against the limits of a message, modal or Home tab."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks: not valid JSON"]
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    errors: list[str] = []
    limit = MAX_BLOCKS[surface]
    if len(blocks) > limit:
        errors.append(f"blocks: {len(blocks)} blocks, at most {limit} allowed in a {surface}")
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        path = f"blocks[{index}]"
        block_errors = _block(block, path)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in seen_block_ids:
                block_errors.append(f"{path}.block_id: duplicate block_id {block_id!r}")
            seen_block_ids.add(block_id)
        if not block_errors:
            # The SDK models catch a few shapes we do not model ourselves; only ask them
            # when our own checks passed so one mistake is not reported twice.
            block_errors.extend(_sdk_block_errors(block, path))
        errors.extend(block_errors)
    return errors


def validate_view(view: Any) -> list[str]:
    """Check a modal or Home tab view object against Slack's view limits."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return ["view: not valid JSON"]
    if not isinstance(view, dict):
        return ["view: must be an object"]
    errors: list[str] = []
    size = view_size(view)
    if size >= MAX_VIEW_BYTES:
        errors.append(f"view: {size} bytes, must be under {MAX_VIEW_BYTES}")
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        return [*errors, f"view.type: must be 'modal' or 'home', got {view_type!r}"]
    if view_type == "modal":
        if "title" not in view:
            errors.append("view.title: required for a modal")
        else:
            errors += _text(view["title"], "view.title", MAX_MODAL_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in view and view[key] is not None:
                errors += _text(view[key], f"view.{key}", MAX_MODAL_BUTTON, plain_only=True)
    errors += _max_str(view, "callback_id", MAX_CALLBACK_ID, "view")
    errors += _max_str(view, "private_metadata", MAX_PRIVATE_METADATA, "view")
    errors += _max_str(view, "external_id", MAX_EXTERNAL_ID, "view")
    blocks = view.get("blocks")
    if blocks is None:
        errors.append("view.blocks: required")
        return errors
    errors += validate_blocks(blocks, surface=view_type)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if view_type == "modal" and has_input and not view.get("submit"):
        errors.append("view.submit: a modal with input blocks must have a submit button")
    if not errors:
        errors += _sdk_view_errors(view)
    return errors


def validate_message_args(args: dict[str, Any]) -> list[str]:
    """Check chat.postMessage / postEphemeral / update or response_url message arguments."""
    errors: list[str] = []
    text = args.get("text")
    blocks = args.get("blocks")
    if text is not None and not isinstance(text, str):
        errors.append("text: must be a string")
        text = str(text)
    has_text = bool(text)
    if blocks is not None and not has_text:
        # Stricter than Slack on purpose: the text feeds notifications and screen readers.
        errors.append("text: required whenever blocks are given")
    if blocks is None and not has_text and not args.get("attachments"):
        errors.append("text: no text, blocks or attachments given")
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        errors.append(f"text: {len(text)} characters, at most {MAX_MESSAGE_TEXT} allowed")
    if blocks is not None:
        errors += validate_blocks(blocks, surface="message")
    return errors


def view_size(view: dict[str, Any]) -> int:
    """Size in bytes of a view once serialised as compact JSON."""
    return len(json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def validate_options_response(body: Any) -> list[str]:
    """Check the options an app returns for an external_select suggestion."""
    if not isinstance(body, dict):
        return ["options response: must be an object"]
    if "option_groups" in body:
        return _option_groups(body["option_groups"], "option_groups")
    if "options" in body:
        if body["options"] == []:
            return []  # Slack shows "No results" (and Bolt sends this for ack(options=[]))
        return _options(body["options"], "options", max_count=MAX_SELECT_OPTIONS)
    return ["options response: needs options or option_groups"]


# ---------------------------------------------------------------------------
# blocks


def _block(block: Any, path: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{path}: must be an object"]
    kind = block.get("type")
    if kind not in KNOWN_BLOCKS:
        return [f"{path}.type: unsupported block type {kind!r}"]
    errors = _max_str(block, "block_id", MAX_BLOCK_ID, path)
    if kind == "section":
        errors += _section(block, path)
    elif kind == "header":
        errors += _required_text(block, "text", path, MAX_HEADER_TEXT, plain_only=True)
    elif kind == "context":
        errors += _context(block, path)
    elif kind == "actions":
        errors += _actions(block, path)
    elif kind == "input":
        errors += _input(block, path)
    elif kind == "image":
        errors += _image(block, path)
    elif kind == "rich_text":
        if not isinstance(block.get("elements"), list):
            errors.append(f"{path}.elements: required array")
    return errors


def _section(block: dict[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    if "text" not in block and "fields" not in block:
        errors.append(f"{path}: a section needs text or fields")
    if "text" in block:
        errors += _text(block["text"], f"{path}.text", MAX_SECTION_TEXT)
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not fields:
            errors.append(f"{path}.fields: must be a non-empty array")
        else:
            if len(fields) > MAX_SECTION_FIELDS:
                errors.append(
                    f"{path}.fields: {len(fields)} fields, at most {MAX_SECTION_FIELDS} allowed"
                )
            for i, field in enumerate(fields):
                errors += _text(field, f"{path}.fields[{i}]", MAX_FIELD_TEXT)
    if "accessory" in block:
        errors += _element(block["accessory"], f"{path}.accessory", _ACCESSORY_ELEMENTS)
    return errors


def _context(block: dict[str, Any], path: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{path}.elements: must be a non-empty array"]
    errors: list[str] = []
    if len(elements) > MAX_CONTEXT_ELEMENTS:
        errors.append(
            f"{path}.elements: {len(elements)} elements, at most {MAX_CONTEXT_ELEMENTS} allowed"
        )
    for i, element in enumerate(elements):
        sub = f"{path}.elements[{i}]"
        if isinstance(element, dict) and element.get("type") == "image":
            errors += _image_element(element, sub)
        else:
            errors += _text(element, sub, MAX_SECTION_TEXT)
    return errors


def _actions(block: dict[str, Any], path: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{path}.elements: must be a non-empty array"]
    errors: list[str] = []
    if len(elements) > MAX_ACTIONS_ELEMENTS:
        errors.append(
            f"{path}.elements: {len(elements)} elements, at most {MAX_ACTIONS_ELEMENTS} allowed"
        )
    seen: set[str] = set()
    for i, element in enumerate(elements):
        sub = f"{path}.elements[{i}]"
        errors += _element(element, sub, _ACTIONS_ELEMENTS)
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if action_id is not None:
            if action_id in seen:
                errors.append(f"{sub}.action_id: duplicate action_id {action_id!r} in block")
            seen.add(action_id)
    return errors


def _input(block: dict[str, Any], path: str) -> list[str]:
    errors = _required_text(block, "label", path, MAX_LABEL, plain_only=True)
    if "hint" in block:
        errors += _text(block["hint"], f"{path}.hint", MAX_HINT, plain_only=True)
    if "element" not in block:
        errors.append(f"{path}.element: required")
    else:
        errors += _element(block["element"], f"{path}.element", _INPUT_ELEMENTS)
    for key in ("optional", "dispatch_action"):
        if key in block and not isinstance(block[key], bool):
            errors.append(f"{path}.{key}: must be a boolean")
    return errors


def _image(block: dict[str, Any], path: str) -> list[str]:
    errors = _image_element(block, path)
    if "title" in block:
        errors += _text(block["title"], f"{path}.title", MAX_IMAGE_ALT, plain_only=True)
    return errors


# ---------------------------------------------------------------------------
# elements


def _element(element: Any, path: str, allowed: Iterable[str]) -> list[str]:
    if not isinstance(element, dict):
        return [f"{path}: must be an object"]
    kind = element.get("type")
    if kind not in allowed:
        return [f"{path}.type: element {kind!r} is not allowed here"]
    errors = _max_str(element, "action_id", MAX_ACTION_ID, path)
    if "placeholder" in element:
        errors += _text(element["placeholder"], f"{path}.placeholder", MAX_PLACEHOLDER, plain_only=True)
    if "confirm" in element:
        errors += _confirm(element["confirm"], f"{path}.confirm")
    if kind == "button":
        errors += _required_text(element, "text", path, MAX_BUTTON_TEXT, plain_only=True)
        errors += _max_str(element, "value", MAX_BUTTON_VALUE, path)
        errors += _max_str(element, "url", MAX_URL, path)
        if "style" in element and element["style"] not in ("primary", "danger"):
            errors.append(f"{path}.style: must be 'primary' or 'danger'")
    elif kind == "image":
        errors += _image_element(element, path)
    elif kind == "overflow":
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= MAX_OVERFLOW_OPTIONS:
            count = len(options) if isinstance(options, list) else 0
            errors.append(f"{path}.options: {count} options, overflow needs 1 to {MAX_OVERFLOW_OPTIONS}")
        if isinstance(options, list):
            errors += _options(options, f"{path}.options", max_count=MAX_OVERFLOW_OPTIONS)
    elif kind in _STATIC_SELECTS:
        errors += _static_select(element, path)
    elif kind in _CHOICES:
        errors += _options(
            element.get("options"), f"{path}.options", max_count=MAX_CHOICE_OPTIONS, mrkdwn_ok=True
        )
    elif kind == "datepicker" and "initial_date" in element:
        if not _DATE_RE.match(str(element["initial_date"])):
            errors.append(f"{path}.initial_date: must be YYYY-MM-DD")
    elif kind == "timepicker" and "initial_time" in element:
        if not _TIME_RE.match(str(element["initial_time"])):
            errors.append(f"{path}.initial_time: must be HH:mm")
    elif kind == "number_input" and not isinstance(element.get("is_decimal_allowed"), bool):
        errors.append(f"{path}.is_decimal_allowed: required boolean")
    return errors


def _static_select(element: dict[str, Any], path: str) -> list[str]:
    has_options = "options" in element
    has_groups = "option_groups" in element
    if has_options == has_groups:
        return [f"{path}: give exactly one of options or option_groups"]
    if has_options:
        errors = _options(element["options"], f"{path}.options", max_count=MAX_SELECT_OPTIONS)
        offered = _option_values(element["options"])
    else:
        errors = _option_groups(element["option_groups"], f"{path}.option_groups")
        groups = element["option_groups"] if isinstance(element["option_groups"], list) else []
        offered = {
            v for g in groups if isinstance(g, dict) for v in _option_values(g.get("options"))
        }
    initial = []
    if isinstance(element.get("initial_option"), dict):
        initial.append(element["initial_option"])
    if isinstance(element.get("initial_options"), list):
        initial += [o for o in element["initial_options"] if isinstance(o, dict)]
    for option in initial:
        if option.get("value") not in offered:
            errors.append(f"{path}: initial option {option.get('value')!r} is not among the options")
    return errors


def _options(options: Any, path: str, *, max_count: int, mrkdwn_ok: bool = False) -> list[str]:
    if not isinstance(options, list) or not options:
        return [f"{path}: must be a non-empty array"]
    errors: list[str] = []
    if len(options) > max_count:
        errors.append(f"{path}: {len(options)} options, at most {max_count} allowed")
    for i, option in enumerate(options):
        errors += _option(option, f"{path}[{i}]", mrkdwn_ok=mrkdwn_ok)
    return errors


def _option_groups(groups: Any, path: str) -> list[str]:
    if not isinstance(groups, list) or not groups:
        return [f"{path}: must be a non-empty array"]
    errors: list[str] = []
    total = 0
    for i, group in enumerate(groups):
        sub = f"{path}[{i}]"
        if not isinstance(group, dict):
            errors.append(f"{sub}: must be an object")
            continue
        errors += _required_text(group, "label", sub, MAX_OPTION_TEXT, plain_only=True)
        options = group.get("options")
        errors += _options(options, f"{sub}.options", max_count=MAX_SELECT_OPTIONS)
        total += len(options) if isinstance(options, list) else 0
    if total > MAX_SELECT_OPTIONS:
        errors.append(f"{path}: {total} options in all groups, at most {MAX_SELECT_OPTIONS} allowed")
    return errors


def _option(option: Any, path: str, *, mrkdwn_ok: bool = False) -> list[str]:
    if not isinstance(option, dict):
        return [f"{path}: must be an object"]
    errors = _required_text(option, "text", path, MAX_OPTION_TEXT, plain_only=not mrkdwn_ok)
    value = option.get("value")
    if not isinstance(value, str) or not value:
        errors.append(f"{path}.value: required non-empty string")
    elif len(value) > MAX_OPTION_VALUE:
        errors.append(f"{path}.value: {len(value)} characters, at most {MAX_OPTION_VALUE} allowed")
    if "description" in option:
        errors += _text(option["description"], f"{path}.description", MAX_OPTION_TEXT)
    errors += _max_str(option, "url", MAX_URL, path)
    return errors


def _option_values(options: Any) -> set[Any]:
    if not isinstance(options, list):
        return set()
    return {o.get("value") for o in options if isinstance(o, dict)}


def _confirm(confirm: Any, path: str) -> list[str]:
    if not isinstance(confirm, dict):
        return [f"{path}: must be an object"]
    errors = _required_text(confirm, "title", path, MAX_CONFIRM_TITLE, plain_only=True)
    errors += _required_text(confirm, "text", path, MAX_CONFIRM_TEXT)
    errors += _required_text(confirm, "confirm", path, MAX_CONFIRM_BUTTON, plain_only=True)
    errors += _required_text(confirm, "deny", path, MAX_CONFIRM_BUTTON, plain_only=True)
    return errors


def _image_element(element: dict[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    if "image_url" not in element and "slack_file" not in element:
        errors.append(f"{path}: needs image_url or slack_file")
    errors += _max_str(element, "image_url", MAX_URL, path)
    alt = element.get("alt_text")
    if not isinstance(alt, str) or not alt:
        errors.append(f"{path}.alt_text: required non-empty string")
    elif len(alt) > MAX_IMAGE_ALT:
        errors.append(f"{path}.alt_text: {len(alt)} characters, at most {MAX_IMAGE_ALT} allowed")
    return errors


# ---------------------------------------------------------------------------
# text objects and plain strings


def _required_text(
    obj: dict[str, Any], key: str, path: str, max_len: int, *, plain_only: bool = False
) -> list[str]:
    if key not in obj:
        return [f"{path}.{key}: required"]
    return _text(obj[key], f"{path}.{key}", max_len, plain_only=plain_only)


def _text(obj: Any, path: str, max_len: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path}: must be a text object"]
    kind = obj.get("type")
    if kind not in TEXT_TYPES:
        return [f"{path}.type: must be plain_text or mrkdwn, got {kind!r}"]
    errors: list[str] = []
    if plain_only and kind != "plain_text":
        errors.append(f"{path}.type: must be plain_text")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"{path}.text: required non-empty string")
    elif len(text) > max_len:
        errors.append(f"{path}.text: {len(text)} characters, at most {max_len} allowed")
    return errors


def _max_str(obj: dict[str, Any], key: str, max_len: int, path: str) -> list[str]:
    if key not in obj or obj[key] is None:
        return []
    value = obj[key]
    if not isinstance(value, str):
        return [f"{path}.{key}: must be a string"]
    if len(value) > max_len:
        return [f"{path}.{key}: {len(value)} characters, at most {max_len} allowed"]
    return []


# ---------------------------------------------------------------------------
# slack_sdk model checks


def _sdk_block_errors(block: dict[str, Any], path: str) -> list[str]:
    try:
        parsed = Block.parse(block)
        if parsed is not None:
            parsed.to_dict()
    except SlackObjectFormationError as exc:
        return [f"{path}: {exc}"]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return [f"{path}: malformed block ({exc})"]
    return []


def _sdk_view_errors(view: dict[str, Any]) -> list[str]:
    try:
        View(**view).to_dict()
    except SlackObjectFormationError as exc:
        return [f"view: {exc}"]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return [f"view: malformed view ({exc})"]
    return []
