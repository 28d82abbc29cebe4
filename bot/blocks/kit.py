"""Small Block Kit constructors that keep every text inside Slack's limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from bot.text import SlackSafe, escape, truncate, truncate_md

# Slack limits (see slack-facts.md); the builders cut here so Slack never rejects a payload.
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
# Slack refuses a view (modal or Home) of 250 kB or more (view_too_large) whatever its block count:
# builders keep their blocks under a budget well below it, leaving room for the view's other fields.
VIEW_MAX_BYTES = 250_000
VIEW_BYTE_BUDGET = 100_000
# A message's text is cut past 40,000 characters; its blocks are kept to the same order of size, so a
# message stays readable and well inside what chat.postMessage and the outbox carry.
MESSAGE_BYTE_BUDGET = 40_000
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


def block_size(block: dict) -> int:
    """The bytes a block adds to a payload: its compact UTF-8 JSON and the comma that separates it."""
    return len(json.dumps(block, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + 1


class Budget:
    """Blocks being gathered for one surface, within its block count and byte budget.

    Slack limits both (50 blocks a message, 100 a view; a view under 250 kB), and a long list of long
    lines breaks the bytes well before the count. Fixed parts are added with `add`; lists with
    `add_while_fits`, which stops where the budget would break and says how many were left out.
    """

    def __init__(self, *, max_blocks: int, max_bytes: int) -> None:
        self.max_blocks = max_blocks
        self.max_bytes = max_bytes
        self.blocks: list[dict] = []
        self.size = 1  # the list's two brackets, less the comma block_size counts after the last block

    @classmethod
    def message(cls) -> Budget:
        """The budget of one message."""
        return cls(max_blocks=MESSAGE_MAX_BLOCKS, max_bytes=MESSAGE_BYTE_BUDGET)

    @classmethod
    def view(cls) -> Budget:
        """The budget of a modal or a Home tab."""
        return cls(max_blocks=VIEW_MAX_BLOCKS, max_bytes=VIEW_BYTE_BUDGET)

    def fits(self, blocks: Sequence[dict], *, reserve: Sequence[dict] = ()) -> bool:
        """Whether `blocks` fit now with room still left for `reserve` (blocks that must come later)."""
        count = len(self.blocks) + len(blocks) + len(reserve)
        size = self.size + sum(block_size(b) for b in blocks) + sum(block_size(b) for b in reserve)
        return count <= self.max_blocks and size <= self.max_bytes

    def add(self, *blocks: dict) -> None:
        """Add blocks that are always shown (titles, hints, closing lines)."""
        self.blocks.extend(blocks)
        self.size += sum(block_size(b) for b in blocks)

    def add_while_fits(
        self, groups: Sequence[Sequence[dict]], *, more: Callable[[int], dict], reserve: Sequence[dict] = (), hidden: int = 0,
        counts: Sequence[int] | None = None,
    ) -> int:
        """Add the groups (an item's blocks) in order while they fit, keeping room for `reserve` and the
        "… and N more" line; then that line, `more(n)`, if anything was left out. `counts` says how many
        items each group stands for (one each by default, e.g. lines packed into one section);
        `hidden` counts items never given (beyond a query's limit). Returns how many were left out."""
        counts = list(counts) if counts is not None else [1] * len(groups)
        total = sum(counts) + hidden
        worst = more(total)  # the line with the largest count: smaller counts are no longer
        shown = 0
        for i, group in enumerate(groups):
            last = i == len(groups) - 1 and not hidden
            if not self.fits(group, reserve=[*reserve, *([] if last else [worst])]):
                break
            self.add(*group)
            shown += counts[i]
        left = total - shown
        if left:
            self.add(more(left))
        return left
