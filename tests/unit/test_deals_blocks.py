"""bot/blocks/deals: the deal card, the deal and log modals, the playbook message (pure builders)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.blocks.deals import DealRef, activity_saved, build_deal_card, build_deal_modal, build_log_modal, build_playbook, expense_saved
from bot.models import ActivityKind, Deal, DealStatus, Stage, Task
from bot.services.deals import DealView
from bot.services.playbooks import Checklist
from bot.standin.limits import validate_message_args, validate_view
from bot.blocks import ids
from handlers.commands.deal import DealCommand, parse_deal_command, parse_stage
from bot.services.errors import ServiceError
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)


def view(stage: Stage = Stage.PROPOSAL, status: DealStatus = DealStatus.OPEN, *, title: str = "Rollout <!channel> & co", checklist=None) -> DealView:
    deal = Deal(
        id=12, workspace_id=1, team_id=1, customer_id=3, owner_id=4, title=title, product_line="A", amount=12_000_000,
        stage=stage, status=status, expected_close=date(2031, 6, 30), stage_entered_at=datetime(2031, 3, 7, 2, tzinfo=timezone.utc),
    )
    return DealView(deal=deal, customer_name="<https://evil|Globex>", owner_user_id="UREP1", currency="CNY", checklist=checklist or [])


def action_ids(blocks) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_card_shows_the_deal_escaped_and_within_limits(lang):
    loc = f.loc(lang)
    text, blocks = build_deal_card(view(), loc, tz="Asia/Shanghai", now=NOW)
    assert validate_message_args({"text": text, "blocks": blocks}) == []
    body = blocks[0]["text"]["text"]
    assert "&lt;!channel&gt; &amp; co" in body and "&lt;https://evil|Globex&gt;" in body and "<!channel>" not in body
    assert "<@UREP1>" in body and "4/6" in body and ("¥120,000*" if lang == "en" else "¥12万*") in body
    assert ("(3 days)" if lang == "en" else "（3 天）") in body  # three days in the stage
    assert action_ids(blocks) == [ids.DEAL_NEXT, ids.DEAL_WON, ids.DEAL_LOST, ids.DEAL_LOG, ids.DEAL_EDIT]
    assert DealRef.decode(blocks[-1]["elements"][0]["value"]) == DealRef(12, Stage.PROPOSAL)
    assert "<!channel>" not in text


def test_card_buttons_follow_the_status_and_stage():
    loc = f.loc()
    _, won = build_deal_card(view(Stage.NEGOTIATION, DealStatus.WON), loc, tz="UTC", now=NOW)
    assert action_ids(won) == [ids.DEAL_NEXT, ids.DEAL_LOG, ids.DEAL_EDIT]  # on to after-sales
    _, lost = build_deal_card(view(status=DealStatus.LOST), loc, tz="UTC", now=NOW)
    assert action_ids(lost) == [ids.DEAL_LOG, ids.DEAL_EDIT]
    _, last = build_deal_card(view(Stage.AFTER_SALES), loc, tz="UTC", now=NOW)
    assert action_ids(last) == [ids.DEAL_WON, ids.DEAL_LOST, ids.DEAL_LOG, ids.DEAL_EDIT]


def test_card_lists_the_new_checklist_tasks():
    tasks = [Task(id=i, workspace_id=1, title=f"step <{i}>") for i in range(7)]
    text, blocks = build_deal_card(view(checklist=tasks), f.loc(), tz="UTC", now=NOW, note=f.loc().md("deal.card.created"))
    assert validate_message_args({"text": text, "blocks": blocks}) == []
    checklist = blocks[2]["elements"][0]["text"]
    assert "step &lt;0&gt;" in checklist and "step &lt;5&gt;" not in checklist and "2 more" in checklist


def test_ref_refuses_foreign_values():
    for value in ("", "12", "x|lead", "12|nowhere"):
        with pytest.raises(ValueError):
            DealRef.decode(value)


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_deal_modals_fit_slack(lang):
    loc = f.loc(lang)
    new = build_deal_modal(loc, owner_user_id="UREP1", metadata={"ru": "https://x/y"})
    assert validate_view(new) == []
    owner = next(b for b in new["blocks"] if b["block_id"] == ids.DEAL_OWNER)
    assert owner["element"]["initial_user"] == "UREP1"
    edit = build_deal_modal(loc, owner_user_id="UREP1", metadata={"deal": 12}, view=view(), contact="C0CONNECT1")
    assert validate_view(edit) == []
    by_id = {b["block_id"]: b["element"] for b in edit["blocks"]}
    assert by_id[ids.DEAL_AMOUNT]["initial_value"] == "120000"
    assert by_id[ids.DEAL_STAGE]["initial_option"]["value"] == "proposal"
    assert by_id[ids.DEAL_CUSTOMER]["initial_option"]["value"] == "3"
    assert by_id[ids.DEAL_CONTACT]["initial_value"] == "C0CONNECT1"
    assert by_id[ids.DEAL_CLOSE]["initial_date"] == "2031-06-30"
    assert "12" in edit["title"]["text"]


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_log_modals_fit_slack(lang):
    loc = f.loc(lang)
    many = [(Deal(id=i, workspace_id=1, customer_id=1, owner_id=1, title="t" * 200), "c" * 200) for i in range(150)]
    free = build_log_modal(loc, metadata={}, deals=many)
    assert validate_view(free) == []
    picker = next(b for b in free["blocks"] if b["block_id"] == ids.LOG_DEAL)
    assert len(picker["element"]["options"]) == 100
    without = build_log_modal(loc, metadata={}, deals=[])
    assert ids.LOG_DEAL not in {b.get("block_id") for b in without["blocks"]}
    on_deal = build_log_modal(loc, metadata={"deal": 12}, deal=view())
    assert validate_view(on_deal) == []
    assert {b.get("block_id") for b in on_deal["blocks"]} >= {ids.LOG_KIND, ids.LOG_EFFECTIVE, ids.LOG_NOTE}
    assert ids.LOG_CUSTOMER not in {b.get("block_id") for b in on_deal["blocks"]}


def test_playbook_message_and_confirmations_escape_typed_text():
    loc = f.loc()
    text, blocks = build_playbook(Checklist(Stage.PROPOSAL, ["<!here> send", "b & c"], True), loc)
    assert validate_message_args({"text": text, "blocks": blocks}) == []
    assert "1. &lt;!here&gt; send\n2. b &amp; c" == blocks[1]["text"]["text"]
    saved = activity_saved(loc, kind=ActivityKind.VISIT, effective=True, customer_name="<@U1>", deal=None)
    assert "&lt;@U1&gt;" in saved and "Visit" in saved
    spent = expense_saved(f.loc("zh_Hans"), amount=35_000, currency="CNY", category="<b>", spent_on=date(2031, 3, 11), deal=None)
    assert "¥350。" in spent and "&lt;b&gt;" in spent and "3月11日" in spent


def test_parse_deal_command():
    assert parse_deal_command("") == DealCommand("new")
    assert parse_deal_command(" #12 ") == DealCommand("edit", deal_id=12)
    assert parse_deal_command("playbook proposal") == DealCommand("playbook_show", stage=Stage.PROPOSAL)
    assert parse_deal_command('playbook needs-analysis set "call the CFO" “send a deck” third') == DealCommand(
        "playbook_set", stage=Stage.NEEDS_ANALYSIS, items=["call the CFO", "send a deck", "third"],
    )
    assert parse_deal_command("playbook 方案 set", {"方案": Stage.PROPOSAL}) == DealCommand("playbook_set", stage=Stage.PROPOSAL)
    for bad in ("twelve", "playbook", "playbook proposal add x", "12 13"):
        with pytest.raises(ServiceError):
            parse_deal_command(bad)
    with pytest.raises(ServiceError) as exc:
        parse_stage("closing")
    assert exc.value.key == "deal.error.bad_stage"
