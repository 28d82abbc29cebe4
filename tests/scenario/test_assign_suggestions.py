"""/assign suggestions: picking a customer or difficulty redraws the modal with the best-suited reps, keeping what was typed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.models import Customer, Deal, DealStatus, Member, Segment, Workspace
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, MANAGER_W, REP1, REP2, REP_ZH, TEAM, settle
from tests.scenario.helpers import add_to_roster, all_tasks, assignees_of, open_assign

MANAGER_ZH = "UMGRZH"
ROSTER = [
    f"team add <@{MANAGER}|mia> manager team:East region:Shanghai",
    f"team add <@{REP1}|ray> rep team:East region:Shanghai segment:key level:expert",
    f"team add <@{REP2}> rep team:East region:Shanghai segment:key level:senior",
    f"team add <@{REP_ZH}> rep team:East region:Beijing segment:smb level:junior",
]


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def suggestion_lines(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if (b.get("block_id") or "").startswith(ids.MATCH_REP_PREFIX)]


async def seed_customer(db) -> Customer:
    """A key account in Shanghai, and one key-account win of REP1's (what the CRM already knows)."""
    async with db.session() as s:
        ws = (await s.execute(select(Workspace).where(Workspace.slack_team_id == TEAM))).scalar_one()
        rep1 = (await s.execute(select(Member).where(Member.workspace_id == ws.id, Member.slack_user_id == REP1))).scalar_one()
        customer = Customer(workspace_id=ws.id, name="Shanghai Steel", segment=Segment.KEY, region="Shanghai")
        old = Customer(workspace_id=ws.id, name="Pudong Port", segment=Segment.KEY, region="Shanghai")
        s.add_all([customer, old])
        await s.flush()
        s.add(Deal(workspace_id=ws.id, team_id=rep1.team_id, customer_id=old.id, owner_id=rep1.id, amount=1_000_000_00,
                   status=DealStatus.WON, won_at=datetime(2026, 1, 10, tzinfo=timezone.utc)))
        await s.commit()
        return customer


async def updates(slack, count: int) -> list:
    """Wait until the bot has made `count` views.update calls."""
    return await slack.wait_for("views.update", lambda c: True, count=count) if count else []


async def test_picking_a_customer_and_difficulty_suggests_the_expert_and_keeps_what_was_typed(driver, slack, db, clock):
    await add_to_roster(driver, *ROSTER)
    customer = await seed_customer(db)
    _reply, view = await open_assign(driver, slack, f"<@{REP_ZH}> Prepare the renewal")
    assert block(view, ids.MATCH_NOTE)["elements"][0]["text"].startswith(":bulb: Pick a customer")
    due = (clock.today(MANAGER) + timedelta(days=4)).isoformat()
    typed = {
        ids.ASSIGN_ASSIGNEES: [REP_ZH, REP2], ids.ASSIGN_PRIORITY: "1", ids.ASSIGN_DUE: due,
        ids.ASSIGN_DETAILS: "Bring the contract & the <price list>", ids.ASSIGN_STAGE: "negotiation",
    }

    # The manager has typed a few fields, then picks the customer: the modal is redrawn in place.
    reply = await driver.click(view, ids.ASSIGN_CUSTOMER_SEARCH, user=MANAGER, value=str(customer.id), values=typed)
    assert reply.status == 200
    await settle()
    [first] = await updates(slack, 1)
    assert first.ok and first.args["view_id"] == view["id"]
    shown = slack.views[view["id"]]["view"]
    # Difficulty is still 1: the senior is preferred to keep the expert free.
    assert [line.split(" — ")[0] for line in suggestion_lines(shown)] == [f"*1.* <@{REP2}>", f"*2.* <@{REP1}>", f"*3.* <@{REP_ZH}>"]

    # Then difficulty 3: the expert Shanghai key-account rep comes first, with the reasons.
    reply = await driver.click(shown, "value", block_id=ids.ASSIGN_DIFFICULTY, user=MANAGER, value="3")
    assert reply.status == 200
    await settle()
    calls = await updates(slack, 2)
    assert all(c.ok for c in calls)
    shown = slack.views[view["id"]]["view"]
    lines = suggestion_lines(shown)
    assert lines == [
        f"*1.* <@{REP1}> — same region (Shanghai) · key accounts, 1 won · expert for a difficulty-3 task · no open tasks",
        f"*2.* <@{REP2}> — same region (Shanghai) · key accounts · senior, can do a difficulty-3 task · no open tasks",
        f"*3.* <@{REP_ZH}> — junior, a difficulty-3 task is a stretch · no open tasks",
    ]
    assert block(shown, ids.MATCH_SUGGESTIONS)["text"]["text"] == "*Who should do it?*"

    # Everything typed before the picks is still there (given back as initial values).
    assert block(shown, ids.ASSIGN_TITLE)["element"]["initial_value"] == "Prepare the renewal"
    assert block(shown, ids.ASSIGN_ASSIGNEES)["element"]["initial_users"] == [REP_ZH, REP2]
    assert block(shown, ids.ASSIGN_PRIORITY)["element"]["initial_option"]["value"] == "1"
    assert block(shown, ids.ASSIGN_STAGE)["element"]["initial_option"]["value"] == "negotiation"
    assert block(shown, ids.ASSIGN_DIFFICULTY)["element"]["initial_option"]["value"] == "3"
    assert block(shown, ids.ASSIGN_DUE)["element"]["initial_date"] == due
    assert block(shown, ids.ASSIGN_DETAILS)["element"]["initial_value"] == "Bring the contract & the <price list>"
    assert block(shown, ids.ASSIGN_CUSTOMER)["element"]["initial_option"] == {
        "text": {"type": "plain_text", "text": "Shanghai Steel · key account", "emoji": True}, "value": str(customer.id),
    }
    assert shown["callback_id"] == ids.ASSIGN_VIEW and shown["private_metadata"] == view["private_metadata"]

    # Submitting without touching anything else saves what was typed before the updates.
    answer = await driver.submit_view(view["id"], user=MANAGER)
    assert answer.status == 200 and not answer.body, answer.body
    await settle()
    [task] = await all_tasks(db)
    assert task.title == "Prepare the renewal" and task.customer_id == customer.id and task.difficulty == 3
    assert task.priority == 1 and task.due_date.isoformat() == due and task.stage.value == "negotiation"
    assert task.details == "Bring the contract & the <price list>"
    assert await assignees_of(db, task.id) == [REP2, REP_ZH]

    # The next ranking counts that open task against the two reps who took it.
    _reply, again = await open_assign(driver, slack, "")
    await driver.click(again, "value", block_id=ids.ASSIGN_DIFFICULTY, user=MANAGER, value="3",
                       values={ids.ASSIGN_TITLE: "Follow up"})
    await settle()
    await updates(slack, 3)
    lines = suggestion_lines(slack.views[again["id"]]["view"])
    assert lines[0] == f"*1.* <@{REP1}> — expert for a difficulty-3 task · no open tasks"
    assert lines[1].endswith("· 1 open task") and lines[2].endswith("· 1 open task")
    assert block(slack.views[again["id"]]["view"], ids.ASSIGN_TITLE)["element"]["initial_value"] == "Follow up"
    assert slack.rejected_calls() == []


async def test_a_team_without_reps_gets_the_none_suitable_note(driver, slack, db):
    await add_to_roster(driver, f"team add <@{MANAGER_W}> manager team:West")
    _reply, view = await open_assign(driver, slack, "Call the port", user=MANAGER_W)
    await driver.click(view, "value", block_id=ids.ASSIGN_STAGE, user=MANAGER_W, value="proposal")
    await settle()
    [call] = await updates(slack, 1)
    assert call.ok
    shown = slack.views[view["id"]]["view"]
    assert suggestion_lines(shown) == []
    assert block(shown, ids.MATCH_NOTE)["elements"][0]["text"] == "No rep on your team to suggest: add reps with `/salesbot team add`."
    assert block(shown, ids.ASSIGN_STAGE)["element"]["initial_option"]["value"] == "proposal"
    assert block(shown, ids.ASSIGN_TITLE)["element"]["initial_value"] == "Call the port"
    assert slack.rejected_calls() == []


async def test_a_chinese_manager_reads_the_reasons_in_chinese(driver, slack, db):
    slack.add_user(MANAGER_ZH, name="李经理", tz="Asia/Shanghai", locale="zh-CN")
    await add_to_roster(driver, *ROSTER, f"team add <@{MANAGER_ZH}> manager team:East region:Shanghai")
    customer = await seed_customer(db)
    _reply, view = await open_assign(driver, slack, "", user=MANAGER_ZH)
    await driver.click(view, ids.ASSIGN_CUSTOMER_SEARCH, user=MANAGER_ZH, value=str(customer.id), values={ids.ASSIGN_DIFFICULTY: "3"})
    await settle()
    await updates(slack, 1)
    shown = slack.views[view["id"]]["view"]
    assert suggestion_lines(shown)[0] == f"*1.* <@{REP1}>：同区域（Shanghai） · 大客户经验，已赢单 1 笔 · 专家，适合难度 3 的任务 · 没有待办任务"
    assert block(shown, ids.MATCH_SUGGESTIONS)["text"]["text"] == "*谁最合适？*"
    assert slack.rejected_calls() == []

