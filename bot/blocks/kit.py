"""Small Block Kit constructors that keep every text inside Slack's limits."""

from __future__ import annotations

from bot.text import SlackSafe, escape, truncate, truncate_md

# Slack limits (see slack-facts.md); the builders cut here so Slack never rejects a payload.
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
SELECT_MAX_OPTIONS = 100
CONTEXT_MAX_ELEMENTS = 10
MODAL_TITLE_MAX = 24
MODAL_BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3000
PLACEHOLDER_MAX = 150
LABEL_MAX = 2000
FALLBACK_TEXT_MAX = 3000


def plain(text: str, limit: int = 2000) -> dict:
    """A plain_text object, cut to `limit`; Slack shows it literally, so it needs no escaping."""
    return {"type": "plain_text", "text": truncate(text or " ", limit), "emoji": True}


def mrkdwn(text: SlackSafe | str, limit: int = SECTION_TEXT_MAX) -> dict:
    """A mrkdwn object; `text` must already be escaped (SlackSafe or built by templates)."""
    return {"type": "mrkdwn", "text": truncate_md(text or " ", limit)}


def section(text: SlackSafe | str, *, block_id: str | None = None, accessory: dict | None = None, fields: list[SlackSafe] | None = None) -> dict:
    """A section with mrkdwn text and optional fields or accessory."""
    block: dict = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [mrkdwn(f, FIELD_TEXT_MAX) for f in fields[:10]]
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def header(text: str) -> dict:
    """A header block (plain text, 150 characters)."""
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def context(*texts: SlackSafe | str) -> dict:
    """A context line of mrkdwn elements (at most ten)."""
    return {"type": "context", "elements": [mrkdwn(t, SECTION_TEXT_MAX) for t in texts[:CONTEXT_MAX_ELEMENTS]]}


def divider() -> dict:
    """A horizontal rule."""
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict:
    """A button; the value must fit Slack's 2000 characters (refs are short by design)."""
    if len(value) > BUTTON_VALUE_MAX:
        raise ValueError("button value over Slack's limit")
    b = {"type": "button", "text": plain(text, BUTTON_TEXT_MAX), "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def actions(elements: list[dict], *, block_id: str | None = None) -> dict:
    """An actions block (at most 25 elements)."""
    block: dict = {"type": "actions", "elements": elements[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> dict:
    """A select option within Slack's text and value limits."""
    if len(value) > OPTION_VALUE_MAX:
        raise ValueError("option value over Slack's limit")
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def input_block(block_id: str, label: str, element: dict, *, optional: bool = False, hint: str | None = None, dispatch: bool = False) -> dict:
    """An input block of a modal."""
    block: dict = {"type": "input", "block_id": block_id, "label": plain(label, LABEL_MAX), "element": element, "optional": optional}
    if hint:
        block["hint"] = plain(hint, LABEL_MAX)
    if dispatch:
        block["dispatch_action"] = True
    return block


def modal(*, callback_id: str, title: str, blocks: list[dict], submit: str | None = None, close: str | None = None, private_metadata: str = "") -> dict:
    """A modal view; Slack requires `submit` whenever the view has an input block."""
    if len(private_metadata) > PRIVATE_METADATA_MAX:
        raise ValueError("private_metadata over Slack's limit")
    view: dict = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_MAX),
        "blocks": blocks[:VIEW_MAX_BLOCKS],
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(submit, MODAL_BUTTON_MAX)
    if close:
        view["close"] = plain(close, MODAL_BUTTON_MAX)
    return view


def fallback_text(text: SlackSafe | str) -> str:
    """The top-level `text` of a message: Slack reads it as mrkdwn (notifications show it), so
    plain text is escaped here and mrkdwn built by the bot (SlackSafe) passes unchanged."""
    return truncate_md(escape(text), FALLBACK_TEXT_MAX)
