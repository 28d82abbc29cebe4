"""Deals end to end: the modal, the card's buttons, activities, expenses, playbooks and who may edit."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select

from bot.models import Activity, ActivityKind, Customer, Deal, DealStageChange, DealStatus, Expense, Segment, Stage, Survey, Task
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import action_ids, both_teams, click, count, forged_click, mytasks, shown_text


async def open_modal(driver, slack, command: str, text: str = "", *, user: str):
    """Type a command that opens a modal; return the command's reply and the modal."""
    reply = await driver.slash(command, text, user=user)
    assert reply.status == 200, reply
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    return reply, call.response["view"]


async def the_deal(db) -> Deal:
    async with db.session() as s:
        return (await s.execute(select(Deal))).scalar_one()


async def stage_changes(db) -> list[tuple]:
    async with db.session() as s:
        rows = (await s.execute(select(DealStageChange).order_by(DealStageChange.id))).scalars()
        return [(c.from_stage, c.to_stage, c.status) for c in rows]


async def deal_task_titles(db) -> list[str]:
    async with db.session() as s:
        return list((await s.execute(select(Task.title).where(Task.deal_id.is_not(None)).order_by(Task.id))).scalars())


async def test_a_rep_works_a_deal_from_modal_to_won(driver, slack, db, clock):
    await both_teams(driver)

    # REP1 opens /deal; a wrong amount is marked at its field and nothing is saved.
    reply, modal = await open_modal(driver, slack, "/deal", user=REP1)
    owner = next(b for b in modal["blocks"] if b["block_id"] == ids.DEAL_OWNER)
    assert owner["element"]["initial_user"] == REP1
    fields = {
        ids.DEAL_NEW_CUSTOMER: "Globex <!here>", ids.DEAL_SEGMENT: "key", ids.DEAL_REGION: "East", ids.DEAL_CONTACT: "C0GLOBEX01",
        ids.DEAL_PRODUCT: "A", ids.DEAL_TITLE: "Globex rollout", ids.DEAL_AMOUNT: "lots", ids.DEAL_CLOSE: "2026-06-30",
    }
    refused = await driver.submit_view(modal["id"], user=REP1, values=fields)
    assert refused.body["response_action"] == "errors" and set(refused.body["errors"]) == {ids.DEAL_AMOUNT}
    assert await count(db, Deal) == 0 and await count(db, Customer) == 0

    saved = await driver.submit_view(modal["id"], user=REP1, values={**fields, ids.DEAL_AMOUNT: "12万"})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    deal = await the_deal(db)
    assert (deal.amount, deal.stage, deal.status, deal.product_line, deal.expected_close) == (12_000_000, Stage.LEAD, DealStatus.OPEN, "A", date(2026, 6, 30))
    async with db.session() as s:
        customer = await s.get(Customer, deal.customer_id)
    assert (customer.name, customer.segment, customer.region, customer.contact_channel_id) == ("Globex <!here>", Segment.KEY, "East", "C0GLOBEX01")

    # The card arrives where REP1 typed the command, escaped, with the lead checklist in /mytasks.
    [response] = await reply.responses()
    card = slack.ephemerals_for(REP1)[-1]
    text = shown_text(card["blocks"])
    assert "Globex &lt;!here&gt;" in text and "<!here>" not in text and "Qualify the lead" in text
    assert action_ids(card["blocks"]) == [ids.DEAL_NEXT, ids.DEAL_WON, ids.DEAL_LOST, ids.DEAL_LOG, ids.DEAL_EDIT]
    listing = await mytasks(driver, REP1)
    assert "Qualify the lead" in shown_text(listing["blocks"])

    # A double click on Next stage moves the deal once.
    replies = await asyncio.gather(driver.click(card, ids.DEAL_NEXT, user=REP1), driver.click(card, ids.DEAL_NEXT, user=REP1))
    assert [r.status for r in replies] == [200, 200]
    await settle()
    assert (await the_deal(db)).stage == Stage.FIRST_CONTACT
    assert await stage_changes(db) == [(None, Stage.LEAD, DealStatus.OPEN), (Stage.LEAD, Stage.FIRST_CONTACT, DealStatus.OPEN)]
    assert await deal_task_titles(db) == ["Qualify the lead", "Make the first effective contact"]
    card = slack.find_message(card["id"])
    assert card["edited"] and "2/6" in shown_text(card["blocks"])

    # The next click on the redrawn card moves it on.
    clock.advance(days=1)
    await click(driver, card, ids.DEAL_NEXT, user=REP1)
    deal = await the_deal(db)
    assert deal.stage == Stage.NEEDS_ANALYSIS and deal.stage_entered_at == clock.now

    # Log activity on the card opens the small modal for this deal.
    await click(driver, slack.find_message(card["id"]), ids.DEAL_LOG, user=REP1)
    [opened] = [c for c in slack.calls_to("views.open") if c.response.get("view", {}).get("callback_id") == ids.LOG_VIEW]
    logged = await driver.submit_view(opened.response["view"]["id"], user=REP1, values={ids.LOG_KIND: "visit", ids.LOG_EFFECTIVE: "yes", ids.LOG_NOTE: "demo went well"})
    assert logged.status == 200 and not logged.body, logged.body
    await settle()
    async with db.session() as s:
        [activity] = (await s.execute(select(Activity))).scalars().all()
    assert (activity.kind, activity.effective, activity.deal_id, activity.customer_id, activity.note) == (ActivityKind.VISIT, True, deal.id, deal.customer_id, "demo went well")
    assert "Visit with Globex &lt;!here&gt; logged (effective)" in shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])

    # /expense: bad input gets the usage hint and saves nothing; good input is confirmed.
    bad = await driver.slash("/expense", "taxi", user=REP1)
    [hint] = await bad.responses()
    assert "Usage" in hint["text"] or "not an amount" in hint["text"]
    assert await count(db, Expense) == 0
    good = await driver.slash("/expense", f"350 taxi {deal.id}", user=REP1)
    [confirm] = await good.responses()
    await settle()
    assert "¥350 " in confirm["text"] and "taxi" in confirm["text"]
    async with db.session() as s:
        [expense] = (await s.execute(select(Expense))).scalars().all()
    assert (expense.amount, expense.category, expense.deal_id, expense.spent_on) == (35_000, "taxi", deal.id, clock.today(REP1))

    # Another rep can neither open it for editing nor press its buttons.
    opens = len(slack.calls_to("views.open"))
    refused = await driver.slash("/deal", str(deal.id), user=REP2)
    [refusal] = await refused.responses()
    assert "Only the deal's owner" in refusal["text"]
    await forged_click(driver, slack.find_message(card["id"]), ids.DEAL_WON, user=REP2)
    assert "Only the deal's owner" in shown_text(slack.ephemerals_for(REP2)[-1]["blocks"])
    assert len(slack.calls_to("views.open")) == opens
    assert (await the_deal(db)).status == DealStatus.OPEN

    # The team's manager can: the modal opens prefilled and saves a new amount.
    _, edit = await open_modal(driver, slack, "/deal", str(deal.id), user=MANAGER)
    prefilled = {b["block_id"]: b["element"] for b in edit["blocks"]}
    assert prefilled[ids.DEAL_AMOUNT]["initial_value"] == "120000" and prefilled[ids.DEAL_STAGE]["initial_option"]["value"] == "needs_analysis"
    changed = await driver.submit_view(edit["id"], user=MANAGER, values={ids.DEAL_AMOUNT: "150,000"})
    assert changed.status == 200 and not changed.body, changed.body
    await settle()
    deal = await the_deal(db)
    assert (deal.amount, deal.owner_id, deal.customer_id, deal.stage) == (15_000_000, deal.owner_id, customer.id, Stage.NEEDS_ANALYSIS)

    # REP1 wins it; a double click wins it once and schedules one survey.
    card = slack.find_message(card["id"])
    await asyncio.gather(driver.click(card, ids.DEAL_WON, user=REP1), driver.click(card, ids.DEAL_WON, user=REP1))
    await settle()
    deal = await the_deal(db)
    assert deal.status == DealStatus.WON and deal.won_at == clock.now
    assert (await stage_changes(db))[-1] == (Stage.NEEDS_ANALYSIS, Stage.NEEDS_ANALYSIS, DealStatus.WON)
    assert len(await stage_changes(db)) == 4
    async with db.session() as s:
        [survey] = (await s.execute(select(Survey))).scalars().all()
    assert (survey.source, survey.source_id, survey.customer_id) == ("deal", deal.id, customer.id)
    card = slack.find_message(card["id"])
    assert ids.DEAL_WON not in action_ids(card["blocks"]) and "Won" in shown_text(card["blocks"])
    assert slack.rejected_calls() == []


async def test_a_manager_creates_a_deal_for_a_rep_and_sets_a_playbook(driver, slack, db):
    await both_teams(driver)
    set_reply = await driver.slash("/deal", 'playbook proposal set "Draft the quote" "Review with finance"', user=MANAGER)
    [shown] = await set_reply.responses()
    assert "1. Draft the quote\n2. Review with finance" in shown_text(shown["blocks"])
    rep_try = await driver.slash("/deal", 'playbook proposal set "mine"', user=REP1)
    [no] = await rep_try.responses()
    assert "Only managers and admins" in no["text"]

    # The manager gives a proposal-stage deal to the Chinese-speaking rep: the owner gets a DM card
    # and the team's checklist; the card speaks Chinese.
    _, modal = await open_modal(driver, slack, "/deal", user=MANAGER)
    values = {ids.DEAL_NEW_CUSTOMER: "Initech", ids.DEAL_PRODUCT: "B", ids.DEAL_AMOUNT: "80000", ids.DEAL_STAGE: "proposal", ids.DEAL_OWNER: REP_ZH}
    saved = await driver.submit_view(modal["id"], user=MANAGER, values=values)
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    deal = await the_deal(db)
    assert deal.stage == Stage.PROPOSAL
    assert await deal_task_titles(db) == ["Draft the quote", "Review with finance"]
    [dm] = [m for m in slack.messages_in(slack.dm_channel(REP_ZH)) if not m["ephemeral"]]
    assert "阶段 4/6" in shown_text(dm["blocks"]) and "Draft the quote" in shown_text(dm["blocks"])

    # The owner's Edit button opens the form prefilled; saving redraws that DM card in place.
    await click(driver, dm, ids.DEAL_EDIT, user=REP_ZH)
    [opened] = [c for c in slack.calls_to("views.open") if c.args.get("view", {}).get("callback_id") == ids.DEAL_VIEW][-1:]
    edit = opened.response["view"]
    assert {b["block_id"]: b["element"] for b in edit["blocks"]}[ids.DEAL_OWNER]["initial_user"] == REP_ZH
    moved = await driver.submit_view(edit["id"], user=REP_ZH, values={ids.DEAL_STAGE: "negotiation"})
    assert moved.status == 200 and not moved.body, moved.body
    await settle()
    dm = slack.find_message(dm["id"])
    assert dm["edited"] and "阶段 5/6" in shown_text(dm["blocks"]) and "谈妥条款并签约" in shown_text(dm["blocks"])
    assert (await the_deal(db)).stage == Stage.NEGOTIATION

    # /log without a deal: the customer search answers, nothing picked is marked, a pick is saved.
    _, log_modal = await open_modal(driver, slack, "/log", user=REP_ZH)
    found = await driver.suggest(log_modal["id"], ids.DEAL_CUSTOMER_SEARCH, "Ini", user=REP_ZH)
    assert [o["text"]["text"] for o in found.body["options"]][0].startswith("Initech")
    empty = await driver.submit_view(log_modal["id"], user=REP_ZH, values={ids.LOG_KIND: "call"})
    assert empty.body["response_action"] == "errors" and set(empty.body["errors"]) == {ids.LOG_CUSTOMER}
    done = await driver.submit_view(log_modal["id"], user=REP_ZH, values={ids.LOG_DEAL: str(deal.id), ids.LOG_KIND: "call", ids.LOG_EFFECTIVE: "no"})
    assert done.status == 200 and not done.body, done.body
    await settle()
    async with db.session() as s:
        [activity] = (await s.execute(select(Activity))).scalars().all()
    assert (activity.kind, activity.effective, activity.deal_id) == (ActivityKind.CALL, False, deal.id)

    # A manager cannot give a deal to a rep of another team.
    _, modal = await open_modal(driver, slack, "/deal", user=MANAGER)
    refused = await driver.submit_view(modal["id"], user=MANAGER, values={**values, ids.DEAL_OWNER: "UREPW"})
    assert refused.body["response_action"] == "errors" and set(refused.body["errors"]) == {ids.DEAL_OWNER}
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Deal))).scalar_one() == 1
    assert slack.rejected_calls() == []
