"""Each Block Kit limit: a payload at the limit passes, one just over fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.standin import limits
from bot.standin.limits import validate_blocks, validate_message_args, validate_view


def pt(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hi") -> dict[str, Any]:
    return {"type": "section", "text": md(text)}


def button(action_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": pt("Go"), "action_id": action_id, **extra}


def option(value: str = "v", text: str = "Option") -> dict[str, Any]:
    return {"text": pt(text), "value": value}


def confirm(**over: Any) -> dict[str, Any]:
    return {"title": pt("Sure?"), "text": md("Really"), "confirm": pt("Yes"), "deny": pt("No"), **over}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def modal(blocks: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    return {"type": "modal", "title": pt("Title"), "blocks": blocks or [section()], **over}


def text_input(**over: Any) -> dict[str, Any]:
    block = {
        "type": "input",
        "block_id": "note",
        "label": pt("Note"),
        "element": {"type": "plain_text_input", "action_id": "note"},
    }
    block.update(over)
    return block


def msg(blocks: list[dict[str, Any]]) -> list[str]:
    return validate_blocks(blocks, surface="message")


def grouped_select(n: int) -> dict[str, Any]:
    first = [option(f"a{i}") for i in range(min(n, 50))]
    second = [option(f"b{i}") for i in range(n - len(first))]
    groups = [{"label": pt("A"), "options": first}]
    if second:
        groups.append({"label": pt("B"), "options": second})
    return {"type": "static_select", "action_id": "s", "option_groups": groups}


# (name, limit, builder: n -> error list)
CASES: list[tuple[str, int, Callable[[int], list[str]]]] = [
    ("message blocks", 50, lambda n: msg([section() for _ in range(n)])),
    ("modal blocks", 100, lambda n: validate_view(modal([section() for _ in range(n)]))),
    ("home blocks", 100, lambda n: validate_view({"type": "home", "blocks": [section()] * n})),
    ("section text", 3000, lambda n: msg([section("x" * n)])),
    ("section fields", 10, lambda n: msg([{"type": "section", "fields": [md("f")] * n}])),
    ("field text", 2000, lambda n: msg([{"type": "section", "fields": [md("x" * n)]}])),
    ("header text", 150, lambda n: msg([{"type": "header", "text": pt("x" * n)}])),
    ("context elements", 10, lambda n: msg([{"type": "context", "elements": [md("c")] * n}])),
    ("actions elements", 25, lambda n: msg([actions(*[button(f"b{i}") for i in range(n)])])),
    ("button text", 75, lambda n: msg([actions({**button(), "text": pt("x" * n)})])),
    ("button value", 2000, lambda n: msg([actions(button(value="x" * n))])),
    ("button url", 3000, lambda n: msg([actions(button(url="u" * n))])),
    ("button action_id", 255, lambda n: msg([actions(button("a" * n))])),
    ("block_id", 255, lambda n: msg([{**section(), "block_id": "b" * n}])),
    (
        "static_select options",
        100,
        lambda n: msg(
            [actions({"type": "static_select", "action_id": "s",
                      "options": [option(f"v{i}") for i in range(n)]})]
        ),
    ),
    ("option_groups total options", 100, lambda n: msg([actions(grouped_select(n))])),
    (
        "multi_static_select options",
        100,
        lambda n: validate_view(modal([{
            "type": "input", "label": pt("Pick"),
            "element": {"type": "multi_static_select", "action_id": "m",
                        "options": [option(f"v{i}") for i in range(n)]},
        }], submit=pt("OK"))),
    ),
    (
        "option text",
        75,
        lambda n: msg([actions({"type": "static_select", "action_id": "s",
                                "options": [option(text="x" * n)]})]),
    ),
    (
        "option value",
        150,
        lambda n: msg([actions({"type": "static_select", "action_id": "s",
                                "options": [option(value="x" * n)]})]),
    ),
    (
        "overflow options",
        5,
        lambda n: msg([actions({"type": "overflow", "action_id": "o",
                                "options": [option(f"v{i}") for i in range(n)]})]),
    ),
    ("confirm title", 100, lambda n: msg([actions(button(confirm=confirm(title=pt("x" * n))))])),
    ("confirm text", 300, lambda n: msg([actions(button(confirm=confirm(text=md("x" * n))))])),
    ("confirm confirm", 30, lambda n: msg([actions(button(confirm=confirm(confirm=pt("x" * n))))])),
    ("confirm deny", 30, lambda n: msg([actions(button(confirm=confirm(deny=pt("x" * n))))])),
    ("input label", 2000, lambda n: validate_view(modal([text_input(label=pt("x" * n))], submit=pt("OK")))),
    ("input hint", 2000, lambda n: validate_view(modal([text_input(hint=pt("x" * n))], submit=pt("OK")))),
    (
        "input placeholder",
        150,
        lambda n: validate_view(modal([text_input(element={
            "type": "plain_text_input", "action_id": "a", "placeholder": pt("x" * n)})], submit=pt("OK"))),
    ),
    ("modal title", 24, lambda n: validate_view(modal(title=pt("x" * n)))),
    ("modal submit", 24, lambda n: validate_view(modal(submit=pt("x" * n)))),
    ("modal close", 24, lambda n: validate_view(modal(close=pt("x" * n)))),
    ("modal callback_id", 255, lambda n: validate_view(modal(callback_id="c" * n))),
    ("modal private_metadata", 3000, lambda n: validate_view(modal(private_metadata="m" * n))),
    ("message text", 40_000, lambda n: validate_message_args({"text": "x" * n})),
]


@pytest.mark.parametrize(("name", "limit", "build"), CASES, ids=[c[0] for c in CASES])
def test_limit_boundary(name: str, limit: int, build: Callable[[int], list[str]]) -> None:
    assert build(limit) == [], f"{name}: {limit} should pass"
    assert build(limit + 1), f"{name}: {limit + 1} should fail"


def test_overflow_needs_at_least_one_option() -> None:
    assert msg([actions({"type": "overflow", "action_id": "o", "options": []})])
    assert msg([actions({"type": "overflow", "action_id": "o", "options": [option()]})]) == []


def test_modal_title_must_not_be_empty() -> None:
    assert validate_view(modal(title=pt("")))
    assert validate_view({"type": "modal", "blocks": [section()]})  # no title at all


def _sized_view(target: int) -> dict[str, Any]:
    """A modal whose compact JSON is exactly ``target`` bytes."""
    view = modal([section("x" * 2400) for _ in range(100)])
    for block in view["blocks"]:
        missing = target - limits.view_size(view)
        if missing <= 0:
            break
        grow = min(missing, 3000 - len(block["text"]["text"]))
        block["text"]["text"] += "x" * grow
    assert limits.view_size(view) == target
    return view


def test_view_must_be_under_250_kb() -> None:
    assert validate_view(_sized_view(limits.MAX_VIEW_BYTES - 1)) == []
    errors = validate_view(_sized_view(limits.MAX_VIEW_BYTES))
    assert any("bytes" in e for e in errors)


def test_block_ids_unique_within_message_and_view() -> None:
    twice = [{**section(), "block_id": "same"}, {**section(), "block_id": "same"}]
    assert any("duplicate block_id" in e for e in msg(twice))
    assert any("duplicate block_id" in e for e in validate_view(modal(twice)))
    assert msg([{**section(), "block_id": "a"}, {**section(), "block_id": "b"}]) == []


def test_action_ids_unique_within_a_block_only() -> None:
    assert any("duplicate action_id" in e for e in msg([actions(button("x"), button("x"))]))
    assert msg([actions(button("x")), actions(button("x"))]) == []


def test_modal_with_input_needs_submit() -> None:
    errors = validate_view(modal([text_input()]))
    assert any("submit" in e for e in errors)
    assert validate_view(modal([text_input()], submit=pt("Save"))) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "section", "text": {"type": "markdown", "text": "x"}},
        {"type": "section", "text": md("")},
        {"type": "section", "text": {"type": "mrkdwn"}},
        {"type": "section"},
    ],
)
def test_text_objects_need_type_and_text(bad: dict[str, Any]) -> None:
    assert msg([bad])


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "header", "text": md("Header")}],
        [actions({**button(), "text": md("Go")})],
        [actions({"type": "static_select", "action_id": "s", "options": [{"text": md("o"), "value": "v"}]})],
        [actions({"type": "static_select", "action_id": "s", "placeholder": md("p"), "options": [option()]})],
    ],
    ids=["header", "button", "option", "placeholder"],
)
def test_plain_text_only_fields(blocks: list[dict[str, Any]]) -> None:
    errors = msg(blocks)
    assert any("must be plain_text" in e for e in errors), errors


def test_label_must_be_plain_text() -> None:
    assert validate_view(modal([text_input(label=md("Note"))], submit=pt("OK")))


def test_unknown_block_types_rejected_known_ones_accepted() -> None:
    assert any("unsupported block type" in e for e in msg([{"type": "video"}]))
    known = [
        section(),
        {"type": "header", "text": pt("H")},
        {"type": "context", "elements": [md("c"), {"type": "image", "image_url": "http://i/x.png", "alt_text": "i"}]},
        actions(button()),
        {"type": "divider"},
        text_input(),
        {"type": "image", "image_url": "http://i/x.png", "alt_text": "chart"},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "t"}]}]},
    ]
    assert msg(known) == []


def test_select_initial_option_must_be_offered() -> None:
    select = {"type": "static_select", "action_id": "s", "options": [option("a")], "initial_option": option("b")}
    assert msg([actions(select)])


def test_element_not_allowed_in_container() -> None:
    assert msg([actions({"type": "plain_text_input", "action_id": "t"})])


def test_message_args_need_text_with_blocks() -> None:
    assert validate_message_args({"blocks": [section()]})
    assert validate_message_args({"text": "fallback", "blocks": [section()]}) == []
    assert validate_message_args({})
    assert validate_message_args({"text": "x", "blocks": '[{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}]'}) == []


def test_options_response() -> None:
    assert limits.validate_options_response({"options": [option()]}) == []
    assert limits.validate_options_response({"options": [option(f"v{i}") for i in range(101)]})
    assert limits.validate_options_response({"nope": []})


def test_an_empty_options_response_is_valid():
    """Slack shows "No results" for an empty list, which Bolt sends for ack(options=[])."""
    from bot.standin.limits import validate_options_response

    assert validate_options_response({"options": []}) == []
