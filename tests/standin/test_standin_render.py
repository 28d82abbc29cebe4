"""Terminal rendering of blocks and views."""

from __future__ import annotations

from typing import Any

from bot.render import blocks_to_text, view_to_text


def pt(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def test_blocks_to_text() -> None:
    blocks = [
        {"type": "header", "text": pt("Pipeline")},
        {"type": "section", "text": md("*Acme &amp; Co* &lt;renewal&gt;"),
         "accessory": {"type": "button", "text": pt("Open"), "action_id": "o"}},
        {"type": "section", "fields": [md("*Stage*"), md("Won")]},
        {"type": "divider"},
        {"type": "context", "elements": [md("Updated today")]},
        {"type": "actions", "elements": [
            {"type": "button", "text": pt("Done"), "action_id": "d"},
            {"type": "static_select", "action_id": "s", "placeholder": pt("Stage"),
             "options": [{"text": pt("a"), "value": "a"}, {"text": pt("b"), "value": "b"}]},
        ]},
    ]
    lines = blocks_to_text(blocks).splitlines()
    assert lines[0] == "== Pipeline =="
    assert lines[1] == "*Acme & Co* <renewal>   [ Open ]"
    assert lines[2].startswith("*Stage*") and lines[2].endswith("Won")
    assert set(lines[3]) == {"-"}
    assert lines[4] == "  > Updated today"
    assert lines[5] == "[ Done ]  [ Stage v (2 options) ]"


def test_view_to_text() -> None:
    view = {
        "type": "modal", "title": pt("Edit deal"), "submit": pt("Save"),
        "blocks": [
            {"type": "input", "label": pt("Name"),
             "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "Acme"}},
            {"type": "input", "label": pt("Note"), "optional": True,
             "element": {"type": "plain_text_input", "action_id": "n"}},
        ],
    }
    text = view_to_text({"view": view})  # a stand-in view record works too
    assert "Edit deal" in text.splitlines()[0]
    assert "Name: Acme" in text and "Note (optional): ____" in text
    assert text.splitlines()[-2] == "[ Cancel ]  [ Save ]"
    assert view_to_text({"type": "home", "blocks": [{"type": "divider"}]}).startswith("[ Home ]")
