"""/mytasks and the task buttons: order, Start and Done in place, idempotency, notes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.models import TaskEventKind, TaskStatus
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2, settle
from tests.scenario.helpers import (
    action_ids, all_tasks, assign, button_value, click, dm_cards, east_team, events, mytasks, shown_text, task_by_title,
    task_ids,
)


async def assign_several(driver, slack, clock):
    """Five open tasks for REP1 (two of them become overdue), one for REP2, and one REP1 finishes."""
    today = clock.today(MANAGER)
    plan = [
        ("A low later", "3", today + timedelta(days=5)),
        ("B high later", "1", today + timedelta(days=6)),
        ("C medium soon", "2", today + timedelta(days=1)),
        ("D low soon", "3", today + timedelta(days=1)),
        ("E high undated", "1", None),
        ("G already done", "1", today + timedelta(days=1)),
    ]
    for title, priority, due in plan:
        await assign(driver, slack, title=title, assignees=[REP1], priority=priority, due=due)
    await assign(driver, slack, title="F someone else's", assignees=[REP2], priority="1", due=today + timedelta(days=1))


async def titles(db, blocks) -> list[str]:
    by_id = {t.id: t.title for t in await all_tasks(db)}
    return [by_id[i] for i in task_ids(blocks)]


async def test_mytasks_lists_overdue_first_then_priority_and_due_date(driver, slack, db, clock):
    await east_team(driver)
    await assign_several(driver, slack, clock)
    g = await task_by_title(db, "G already done")
    await click(driver, dm_cards(slack, REP1)[-1], ids.TASK_DONE, user=REP1)
    clock.advance(days=2)  # C and D were due tomorrow: now a day overdue

    listing = await mytasks(driver, REP1)
    assert listing["blocks"][0]["text"]["text"] == "Your open tasks (5)"
    assert await titles(db, listing["blocks"]) == ["C medium soon", "D low soon", "B high later", "E high undated", "A low later"]
    text = shown_text(listing["blocks"])
    assert ":warning: *C medium soon*" in text and "overdue by 1 day" in text
    assert "no due date" in text and "F someone else" not in text

    overdue = await mytasks(driver, REP1, "overdue")
    assert await titles(db, overdue["blocks"]) == ["C medium soon", "D low soon"]
    everything = await mytasks(driver, REP1, "all")
    assert await titles(db, everything["blocks"]) == ["C medium soon", "D low soon", "B high later", "E high undated", "A low later", "G already done"]
    done = await mytasks(driver, REP1, "done")
    assert task_ids(done["blocks"]) == [g.id]
    assert action_ids(done["blocks"]) == [ids.TASK_NOTE, ids.TASK_HISTORY]  # nothing left to start or finish


async def test_start_then_done_update_the_list_in_place_and_done_twice_counts_once(driver, slack, db, clock):
    await east_team(driver)
    await assign(driver, slack, title="Send the contract", assignees=[REP1], priority="1", due=clock.today(REP1) + timedelta(days=2))
    await assign(driver, slack, title="Book the demo", assignees=[REP1], priority="2")
    task = await task_by_title(db, "Send the contract")
    card = next(m for m in dm_cards(slack, REP1) if "Send the contract" in m["text"])

    listing = await mytasks(driver, REP1)
    shown = len(slack.ephemerals_for(REP1))
    await click(driver, listing, ids.TASK_START, user=REP1, value=button_value(listing["blocks"], ids.TASK_START, task.id))
    listing = slack.find_message(listing["id"])  # the same ephemeral, replaced
    assert listing["edited"] and len(slack.ephemerals_for(REP1)) == shown
    redraw = [c for c in slack.calls if c.method == "response_url"][-1]
    assert redraw.args["replace_original"] is True
    block = next(b for b in listing["blocks"] if b.get("block_id") == f"task-{task.id}")
    assert [e["action_id"] for e in block["elements"]] == [ids.TASK_DONE, ids.TASK_NOTE, ids.TASK_HISTORY]
    assert "in progress" in shown_text(listing["blocks"])
    assert (await task_by_title(db, "Send the contract")).status == TaskStatus.IN_PROGRESS

    await click(driver, listing, ids.TASK_DONE, user=REP1, value=button_value(listing["blocks"], ids.TASK_DONE, task.id))
    listing = slack.find_message(listing["id"])
    assert len(slack.ephemerals_for(REP1)) == shown
    assert listing["blocks"][0]["text"]["text"] == "Your open tasks (1)"
    assert task.id not in task_ids(listing["blocks"])

    # The DM card still offers Done; clicking it again changes nothing but the card itself.
    assert ids.TASK_DONE in action_ids(slack.find_message(card["id"])["blocks"])
    await click(driver, card, ids.TASK_DONE, user=REP1)
    card = slack.find_message(card["id"])
    assert card["edited"] and ids.TASK_DONE not in action_ids(card["blocks"])
    assert ":white_check_mark: *Send the contract*" in shown_text(card["blocks"])

    done = await task_by_title(db, "Send the contract")
    assert done.status == TaskStatus.DONE and done.completed_at is not None
    assert [e.kind for e in await events(db, task_id=task.id)] == [TaskEventKind.CREATED, TaskEventKind.STARTED, TaskEventKind.DONE]
    assert task_ids((await mytasks(driver, REP1, "done"))["blocks"]) == [task.id]


async def test_two_racing_clicks_on_one_card_complete_the_task_once(driver, slack, db):
    await east_team(driver)
    await assign(driver, slack, title="Call the buyer", assignees=[REP1])
    [card] = dm_cards(slack, REP1)
    replies = await asyncio.gather(*(driver.click(card, ids.TASK_DONE, user=REP1) for _ in range(2)))
    assert [r.status for r in replies] == [200, 200]
    await settle()
    [task] = await all_tasks(db)
    assert task.status == TaskStatus.DONE
    assert len(await events(db, TaskEventKind.DONE)) == 1


async def test_mytasks_with_unknown_words_gives_a_hint(driver, slack, db):
    await east_team(driver)
    hint = await mytasks(driver, REP1, "nonsense")
    assert "I don't know `nonsense`. Try `/mytasks`, `/mytasks overdue`" in shown_text(hint["blocks"])
    # Slack escapes what was typed; the hint shows it as typed, escaped once.
    odd = await mytasks(driver, REP1, "&lt;b&gt; &amp;")
    assert "I don't know `&lt;b&gt; &amp;`." in shown_text(odd["blocks"])

    # Chinese words work too, and an empty list says so kindly.
    empty = await mytasks(driver, REP1, "逾期")
    assert "Nothing overdue." in shown_text(empty["blocks"])


async def test_add_note_opens_a_modal_and_records_the_note(driver, slack, db):
    await east_team(driver)
    await assign(driver, slack, title="Chase the invoice", assignees=[REP1])
    task = await task_by_title(db, "Chase the invoice")
    listing = await mytasks(driver, REP1)
    reply = await click(driver, listing, ids.TASK_NOTE, user=REP1)
    [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    modal = opened.response["view"]
    assert modal["callback_id"] == ids.NOTE_VIEW
    assert "Task: *Chase the invoice*" in shown_text(modal["blocks"])

    empty = await driver.submit_view(modal["id"], user=REP1, values={ids.NOTE_TEXT: "  \n "})
    assert empty.body == {"response_action": "errors", "errors": {ids.NOTE_TEXT: "Write a note first."}}
    await settle()
    assert await events(db, TaskEventKind.NOTE) == []

    saved = await driver.submit_view(modal["id"], user=REP1, values={ids.NOTE_TEXT: "They want 5% off for 3 years."})
    assert saved.status == 200 and not saved.body
    await settle()
    [note] = await events(db, TaskEventKind.NOTE)
    assert note.task_id == task.id and note.note == "They want 5% off for 3 years."
    confirmation = slack.ephemerals_for(REP1)[-1]
    assert confirmation["id"] != listing["id"]
    assert ":memo: Note added to *Chase the invoice*." in shown_text(confirmation["blocks"])
    assert slack.find_message(listing["id"]) is not None  # the list stays where it was
    assert (await task_by_title(db, "Chase the invoice")).status == TaskStatus.OPEN
