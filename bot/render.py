"""Plain-text rendering of Block Kit messages and views for the terminal demo."""

from __future__ import annotations

from typing import Any

from bot.text import display_width, fit

RULE = "-" * 48
_COLUMN = 34


def blocks_to_text(blocks: list[dict[str, Any]] | None) -> str:
    """Render blocks as readable terminal text."""
    lines: list[str] = []
    for block in blocks or []:
        lines += _block(block)
    return "\n".join(lines)


def view_to_text(view: dict[str, Any]) -> str:
    """Render a modal or Home tab (a view object or a stand-in view record)."""
    if "view" in view and isinstance(view["view"], dict):
        view = view["view"]
    lines: list[str] = []
    if view.get("type") == "home":
        lines += ["[ Home ]", RULE]
    else:
        title = _text(view.get("title")) or "Modal"
        lines += [f"+-- {title} " + "-" * max(3, 44 - len(title)), ""]
    body = blocks_to_text(view.get("blocks"))
    if body:
        lines.append(body)
    if view.get("type") != "home":
        buttons = [f"[ {_text(view.get('close')) or 'Cancel'} ]"]
        if view.get("submit"):
            buttons.append(f"[ {_text(view['submit'])} ]")
        lines += ["", "  ".join(buttons), "+" + "-" * 47]
    return "\n".join(lines)


def _block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [f"== {title} =="]
    if kind == "divider":
        return [RULE]
    if kind == "section":
        return _section(block)
    if kind == "context":
        parts = [
            f"[image: {e.get('alt_text', '')}]" if e.get("type") == "image" else _text(e)
            for e in block.get("elements") or []
        ]
        return ["  > " + line for line in "  ·  ".join(parts).splitlines() or [""]]
    if kind == "actions":
        return ["  ".join(_element(e) for e in block.get("elements") or [])]
    if kind == "input":
        return _input(block)
    if kind == "image":
        title = _text(block.get("title"))
        return [f"[image: {title or block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _rich_text(block).rstrip("\n").splitlines() or [""]
    return [f"[{kind} block]"]


def _section(block: dict[str, Any]) -> list[str]:
    lines = _text(block.get("text")).splitlines() if block.get("text") else []
    fields = [_text(f) for f in block.get("fields") or []]
    for i in range(0, len(fields), 2):
        pair = fields[i : i + 2]
        left = pair[0].replace("\n", " ")
        if len(pair) == 2 and display_width(left) <= _COLUMN:
            lines.append(f"{fit(left, _COLUMN)}  {pair[1].replace(chr(10), ' ')}")
        else:
            lines += [f.replace("\n", " ") for f in pair]
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        rendered = _element(accessory)
        if lines:
            lines[0] = f"{lines[0]}   {rendered}"
        else:
            lines.append(rendered)
    return lines


def _input(block: dict[str, Any]) -> list[str]:
    label = _text(block.get("label"))
    if block.get("optional"):
        label += " (optional)"
    element = block.get("element") or {}
    lines = [f"{label}: {_element(element, in_input=True)}"]
    if block.get("hint"):
        lines.append(f"  ({_text(block['hint'])})")
    return lines


def _element(element: dict[str, Any], *, in_input: bool = False) -> str:
    kind = element.get("type", "")
    placeholder = _text(element.get("placeholder"))
    if kind == "button":
        return f"[ {_text(element.get('text'))} ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "overflow":
        return "[ ... ]"
    if kind in ("static_select", "multi_static_select"):
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options += group.get("options") or []
        chosen = _chosen(element)
        shown = chosen or placeholder or "Select"
        count = f"{len(options)} option{'' if len(options) == 1 else 's'}"
        return f"[ {shown} v ({count}) ]"
    if kind in ("checkboxes", "radio_buttons"):
        selected = set(_chosen_values(element))
        mark = ("[x]", "[ ]") if kind == "checkboxes" else ("(o)", "( )")
        return "  ".join(
            f"{mark[0] if o.get('value') in selected else mark[1]} {_text(o.get('text'))}"
            for o in element.get("options") or []
        )
    if kind.endswith("_select"):
        initial = _chosen(element) or _initial_scalar(element)
        return f"[ {initial or placeholder or 'Select'} v ]"
    if kind == "datepicker":
        return f"[ {element.get('initial_date') or placeholder or 'YYYY-MM-DD'} ]"
    if kind == "timepicker":
        return f"[ {element.get('initial_time') or placeholder or 'HH:MM'} ]"
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        initial = element.get("initial_value")
        if initial not in (None, ""):
            return str(initial)
        return f"____ ({placeholder})" if placeholder else "____"
    return f"[{kind}]" if not in_input else "____"


def _chosen(element: dict[str, Any]) -> str:
    option = element.get("initial_option")
    if isinstance(option, dict):
        return _text(option.get("text"))
    options = element.get("initial_options") or []
    return ", ".join(_text(o.get("text")) for o in options if isinstance(o, dict))


def _chosen_values(element: dict[str, Any]) -> list[Any]:
    if isinstance(element.get("initial_option"), dict):
        return [element["initial_option"].get("value")]
    return [o.get("value") for o in element.get("initial_options") or [] if isinstance(o, dict)]


def _initial_scalar(element: dict[str, Any]) -> str:
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if element.get(key):
            return f"<{element[key]}>"
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if element.get(key):
            return ", ".join(f"<{v}>" for v in element[key])
    return ""


def _rich_text(node: Any) -> str:
    if isinstance(node, list):
        return "".join(_rich_text(n) for n in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return node.get("text", "")
    if kind == "link":
        return node.get("text") or node.get("url", "")
    if kind == "user":
        return f"<@{node.get('user_id')}>"
    if kind == "channel":
        return f"<#{node.get('channel_id')}>"
    if kind == "emoji":
        return f":{node.get('name')}:"
    inner = _rich_text(node.get("elements") or [])
    if kind == "rich_text_list":
        items = [_rich_text(e).strip("\n") for e in node.get("elements") or []]
        return "\n".join(f"  • {item}" for item in items) + "\n"
    if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
        return inner + "\n"
    return inner


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return _unescape(str(obj.get("text", "")))
    if isinstance(obj, str):
        return _unescape(obj)
    return ""


def _unescape(text: str) -> str:
    # Slack's mrkdwn escapes exactly these three; &amp; last so "&amp;lt;" stays "&lt;".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
