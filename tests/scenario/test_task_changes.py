"""Changing a task after it is assigned, driven through signed requests and the stand-in: edit and reassign,
cancel and reopen, history, notices in card threads, and the hand-over when a rep goes on leave."""

from __future__ import annotations

import asyncio
from datetime import timedelta


from bot.blocks import ids
from bot.models import TaskEventKind, TaskStatus
from tests.scenario.conftest import MANAGER, REP1, REP2, settle
from tests.scenario.helpers import (
    action_ids, assign, assignees_of, click, dm_cards, east_team, events, forged_click, mytasks, salesbot, shown_text,
    task_by_title, task_ids,
)
from tests.scenario.test_daily import priorities_dm, run_daily
from tests.scenario.test_kpi import command

N = 20


async def confirmation(slack, user: str = MANAGER) -> dict:
    """The manager's last ephemeral (the assign confirmation, with Edit / Cancel task / History)."""
    return slack.ephemerals_for(user)[-1]


async def opened_view(slack, before: int) -> dict:
    """The modal the bot opened after `before` views.open calls."""
    calls = slack.calls_to("views.open")
    assert len(calls) == before + 1, [c.response for c in calls[before:]]
    return calls[-1].response["view"]


async def open_from(driver, slack, message: dict, action_id: str, *, user: str) -> dict:
    """Click a button that opens a modal and return the modal."""
    before = len(slack.calls_to("views.open"))
    await click(driver, message, action_id, user=user)
    return await opened_view(slack, before)


async def test_manager_edits_due_date_and_reassigns_from_a_to_b(driver, slack, db, clock):
    await east_team(driver)
    today = clock.today(MANAGER)
    await assign(driver, slack, title="Call Acme", assignees=[REP1], due=today + timedelta(days=2), priority="2")
    task = await task_by_title(db, "Call Acme")
    [card_a] = dm_cards(slack, REP1)
    # The rep's card offers no Edit; the manager's confirmation does.
    assert ids.TASK_EDIT not in action_ids(card_a["blocks"])
    confirm = await confirmation(slack)
    assert ids.TASK_EDIT in action_ids(confirm["blocks"]) and ids.TASK_CANCEL in action_ids(confirm["blocks"])

    view = await open_from(driver, slack, confirm, ids.TASK_EDIT, user=MANAGER)
    assert view["callback_id"] == ids.TASK_EDIT_VIEW
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[ids.ASSIGN_TITLE]["element"]["initial_value"] == "Call Acme"
    assert blocks[ids.ASSIGN_ASSIGNEES]["element"]["initial_users"] == [REP1]
    assert blocks[ids.ASSIGN_DUE]["element"]["initial_date"] == (today + timedelta(days=2)).isoformat()

    # A due date in the past is refused under its field, changing nothing.
    bad = await driver.submit_view(view["id"], user=MANAGER, values={ids.ASSIGN_DUE: (today - timedelta(days=1)).isoformat()})
    assert bad.body["response_action"] == "errors" and ids.ASSIGN_DUE in bad.body["errors"]
    assert await events(db, TaskEventKind.EDITED) == []

    new_due = today + timedelta(days=5)
    saved = await driver.submit_view(view["id"], user=MANAGER, values={ids.ASSIGN_DUE: new_due.isoformat(), ids.ASSIGN_ASSIGNEES: [REP2]})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()

    assert await assignees_of(db, task.id) == [REP2]
    assert (await task_by_title(db, "Call Acme")).due_date == new_due
    edited = await events(db, TaskEventKind.EDITED, task.id)
    assert sorted(e.note.split('"')[3] for e in edited) == ["assignees", "due_date"]
    # A is told in one line, their card loses its buttons, and their list no longer shows the task.
    told = [m for m in dm_cards(slack, REP1) if "took you off *Call Acme*" in (m["text"] or "") and m["id"] != card_a["id"]]
    assert len(told) == 1
    assert action_ids(slack.find_message(card_a["id"])["blocks"]) == []
    assert task.id not in task_ids((await mytasks(driver, REP1))["blocks"])
    # B gets a card and sees it.
    [card_b] = dm_cards(slack, REP2)
    assert "Call Acme" in shown_text(card_b["blocks"]) and ids.TASK_DONE in action_ids(card_b["blocks"])
    assert task.id in task_ids((await mytasks(driver, REP2))["blocks"])

    # The history shows both changes, in the viewer's language.
    history = await open_from(driver, slack, card_b, ids.TASK_HISTORY, user=REP2)
    text = shown_text(history["blocks"])
    assert "created the task" in text
    assert f"Assignees: <@{REP1}> → <@{REP2}>" in text
    assert "Due date:" in text and "→" in text


async def test_a_reps_edit_of_a_managers_task_changes_nothing(driver, slack, db, clock):
    await east_team(driver)
    await assign(driver, slack, title="Quote Beta", assignees=[REP1], due=clock.today(MANAGER) + timedelta(days=3))
    task = await task_by_title(db, "Quote Beta")
    confirm = await confirmation(slack)
    opened = len(slack.calls_to("views.open"))
    # A forged click on the manager's Edit by the rep opens nothing and says why.
    await forged_click(driver, confirm, ids.TASK_EDIT, user=REP1)
    assert len(slack.calls_to("views.open")) == opened
    assert "Only a manager of the task's team" in slack.ephemerals_for(REP1)[-1]["text"] + shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])
    await forged_click(driver, confirm, ids.TASK_CANCEL, user=REP1)
    assert len(slack.calls_to("views.open")) == opened
    after = await task_by_title(db, "Quote Beta")
    assert (after.status, after.due_date, after.title) == (task.status, task.due_date, task.title)
    assert await events(db, TaskEventKind.EDITED) == [] and await events(db, TaskEventKind.CANCELLED) == []


async def test_cancelled_task_leaves_lists_morning_dm_and_kpi_and_comes_back_on_reopen(driver, slack, db, deps, clock):
    await east_team(driver)
    today = clock.today(REP1)
    await assign(driver, slack, title="Done one", assignees=[REP1], due=today)
    done_task = await task_by_title(db, "Done one")
    await click(driver, dm_cards(slack, REP1)[-1], ids.TASK_DONE, user=REP1)
    assert (await task_by_title(db, "Done one")).status == TaskStatus.DONE
    await assign(driver, slack, title="Keep me", assignees=[REP1], due=today + timedelta(days=40))  # due after the KPI's month
    await assign(driver, slack, title="Drop me", assignees=[REP1], due=today)
    task = await task_by_title(db, "Drop me")
    confirm = await confirmation(slack)
    kpi = await command(driver, slack, "/kpi", "", user=MANAGER)
    # (The services stamp completion with the real time, after the scenario's March: so "on time" stays 0.)
    assert "(0 of 2 tasks due were done on time)" in kpi, kpi

    view = await open_from(driver, slack, confirm, ids.TASK_CANCEL, user=MANAGER)
    empty = await driver.submit_view(view["id"], user=MANAGER, values={ids.CANCEL_REASON: "   "})
    assert ids.CANCEL_REASON in empty.body["errors"]
    ok = await driver.submit_view(view["id"], user=MANAGER, values={ids.CANCEL_REASON: "Customer <!here> moved the meeting"})
    assert ok.status == 200 and not ok.body, ok.body
    await settle()
    assert (await task_by_title(db, "Drop me")).status == TaskStatus.CANCELLED
    [cancelled] = await events(db, TaskEventKind.CANCELLED)
    assert cancelled.note == "Customer <!here> moved the meeting"
    # The rep hears why, escaped, in the thread of their card; the card is redrawn without Done.
    card = next(m for m in dm_cards(slack, REP1) if f"task-{task.id}" in [b.get("block_id") for b in m["blocks"] or []])
    replies = [m for m in slack.messages_in(slack.dm_channel(REP1)) if m.get("thread_ts") == card["ts"]]
    assert len(replies) == 1 and "&lt;!here&gt;" in replies[0]["text"] and "<!here>" not in replies[0]["text"]
    assert ids.TASK_DONE not in action_ids(slack.find_message(card["id"])["blocks"])

    assert task.id not in task_ids((await mytasks(driver, REP1))["blocks"])
    assert task.id not in task_ids((await mytasks(driver, REP1, "overdue"))["blocks"])
    await run_daily(deps, clock)
    dm = shown_text(priorities_dm(slack, REP1)["blocks"])
    assert "Keep me" in dm and "Drop me" not in dm
    assert "(0 of 1 task due was done on time)" in await command(driver, slack, "/kpi", "", user=MANAGER)

    # Reopened by the manager (from the redrawn confirmation), it is back everywhere.
    redrawn = slack.find_message(confirm["id"])
    assert ids.TASK_REOPEN in action_ids(redrawn["blocks"])
    await click(driver, redrawn, ids.TASK_REOPEN, user=MANAGER)
    assert (await task_by_title(db, "Drop me")).status == TaskStatus.OPEN
    assert task.id in task_ids((await mytasks(driver, REP1))["blocks"])
    assert "(0 of 2 tasks due were done on time)" in await command(driver, slack, "/kpi", "", user=MANAGER)
    assert done_task.id not in task_ids((await mytasks(driver, REP1))["blocks"])
    assert len(await events(db, TaskEventKind.REOPENED)) == 1
    clock.advance(days=1)
    await run_daily(deps, clock)
    assert "Drop me" in shown_text(priorities_dm(slack, REP1)["blocks"])


async def test_racing_cancel_reopen_and_edit_saves_record_one_event_each(driver, slack, db, clock):
    await east_team(driver)
    driver.ack_timeout = None  # twenty requests at once on a shared machine: hold the outcome, not the speed
    await assign(driver, slack, title="Race", assignees=[REP1], due=clock.today(MANAGER) + timedelta(days=3))
    task = await task_by_title(db, "Race")
    confirm = await confirmation(slack)

    # The same edit submitted twenty times at once (and from twenty opened modals): one change.
    views = [await open_from(driver, slack, confirm, ids.TASK_EDIT, user=MANAGER) for _ in range(2)]
    values = {ids.ASSIGN_PRIORITY: "1"}
    replies = await asyncio.gather(*(driver.submit_view(views[i % 2]["id"], user=MANAGER, values=values) for i in range(N)))
    await settle(30)
    assert all(r.status == 200 for r in replies)
    assert len(await events(db, TaskEventKind.EDITED, task.id)) == 1
    assert int((await task_by_title(db, "Race")).priority) == 1

    view = await open_from(driver, slack, confirm, ids.TASK_CANCEL, user=MANAGER)
    replies = await asyncio.gather(*(driver.submit_view(view["id"], user=MANAGER, values={ids.CANCEL_REASON: "obsolete"}) for _ in range(N)))
    await settle(30)
    assert all(r.status == 200 for r in replies)
    assert len(await events(db, TaskEventKind.CANCELLED, task.id)) == 1

    redrawn = slack.find_message(confirm["id"])
    replies = await asyncio.gather(*(driver.click(redrawn, ids.TASK_REOPEN, user=MANAGER) for _ in range(N)))
    await settle(30)
    assert all(r.status == 200 for r in replies)
    assert len(await events(db, TaskEventKind.REOPENED, task.id)) == 1
    assert (await task_by_title(db, "Race")).status == TaskStatus.OPEN


async def test_notes_go_to_the_others_in_their_card_thread_and_can_be_turned_off(driver, slack, db, clock):
    await east_team(driver)
    await assign(driver, slack, title="Shared pitch", assignees=[REP1, REP2], due=clock.today(MANAGER) + timedelta(days=3))
    [card1], [card2] = dm_cards(slack, REP1), dm_cards(slack, REP2)

    async def note(text: str) -> None:
        before = len(slack.calls_to("views.open"))
        await click(driver, slack.find_message(card1["id"]), ids.TASK_NOTE, user=REP1)
        modal = await opened_view(slack, before)
        reply = await driver.submit_view(modal["id"], user=REP1, values={ids.NOTE_TEXT: text})
        assert reply.status == 200 and not reply.body
        await settle()

    await note("Customer wants <b> pricing")
    thread2 = [m for m in slack.messages_in(slack.dm_channel(REP2)) if m.get("thread_ts") == card2["ts"]]
    assert len(thread2) == 1 and "Customer wants &lt;b&gt; pricing" in thread2[0]["text"]
    # The author gets nothing; the manager (the task's creator) gets it too, and that message becomes the task's thread.
    assert not [m for m in slack.messages_in(slack.dm_channel(REP1)) if m.get("thread_ts")]
    first = [m for m in slack.messages_in(slack.dm_channel(MANAGER)) if "Customer wants" in (m["text"] or "")]
    assert len(first) == 1 and not first[0].get("thread_ts")
    await note("Second note")
    mgr = [m for m in slack.messages_in(slack.dm_channel(MANAGER)) if "Second note" in (m["text"] or "")]
    assert len(mgr) == 1 and mgr[0]["thread_ts"] == first[0]["ts"]

    # REP2 turns notices off on their Home: the next note does not reach them.
    await driver.open_home(REP2)
    await settle()
    await click(driver, slack.home(REP2), ids.HOME_NOTICES, user=REP2)
    assert "notices are off" in shown_text(slack.home(REP2)["view"]["blocks"])
    await note("Third note")
    assert not [m for m in slack.messages_in(slack.dm_channel(REP2)) if "Third note" in (m["text"] or "")]
    assert [m for m in slack.messages_in(slack.dm_channel(MANAGER)) if "Third note" in (m["text"] or "")]


async def test_leave_sends_the_manager_a_handover_with_one_click_reassign(driver, slack, db, clock):
    await east_team(driver)
    today = clock.today(REP1)
    await assign(driver, slack, title="During leave", assignees=[REP1], due=today + timedelta(days=2))
    await assign(driver, slack, title="After leave", assignees=[REP1], due=today + timedelta(days=10))
    during = await task_by_title(db, "During leave")

    start, end = today + timedelta(days=1), today + timedelta(days=4)
    reply = await salesbot(driver, f"leave <@{REP1}> {start.isoformat()} {end.isoformat()}", user=MANAGER)
    assert "leave" in reply["text"].lower() or reply["blocks"]
    await settle()
    [handover] = [m for m in dm_cards(slack, MANAGER) if any((b.get("block_id") or "").startswith("handover-") for b in m["blocks"] or [])]
    text = shown_text(handover["blocks"])
    assert "During leave" in text and "After leave" not in text

    # One pick moves it to REP2, with the events and notices of an edit.
    await click(driver, handover, ids.TASK_REASSIGN, user=MANAGER, value=REP2)
    assert await assignees_of(db, during.id) == [REP2]
    assert len(await events(db, TaskEventKind.EDITED, during.id)) == 1
    assert any("During leave" in shown_text(m["blocks"]) for m in dm_cards(slack, REP2))
    assert any("took you off *During leave*" in (m["text"] or "") for m in dm_cards(slack, REP1))
    assert f"<@{REP2}>" in shown_text(slack.find_message(handover["id"])["blocks"])

    # Recording the same leave again sends no second hand-over.
    await salesbot(driver, f"leave <@{REP1}> {start.isoformat()} {end.isoformat()}", user=MANAGER)
    assert len([m for m in dm_cards(slack, MANAGER) if any((b.get("block_id") or "").startswith("handover-") for b in m["blocks"] or [])]) == 1


async def test_a_rep_moves_the_due_date_of_a_task_they_gave_themselves(driver, slack, db, clock):
    await east_team(driver)
    # A task the rep gives themselves with `/mytasks add`.
    await mytasks(driver, REP1, "add My follow-up due:today")
    task_id = (await task_by_title(db, "My follow-up")).id
    listing = await mytasks(driver, REP1)
    before = len(slack.calls_to("views.open"))
    await click(driver, listing, ids.TASK_EDIT, user=REP1, value=str(task_id))
    view = await opened_view(slack, before)
    # Only the due date and the priority can be changed.
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [ids.ASSIGN_PRIORITY, ids.ASSIGN_DUE]
    new_due = clock.today(REP1) + timedelta(days=2)
    saved = await driver.submit_view(view["id"], user=REP1, values={ids.ASSIGN_DUE: new_due.isoformat()})
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    assert (await task_by_title(db, "My follow-up")).due_date == new_due
    [change] = await events(db, TaskEventKind.EDITED, task_id)
    assert '"field":"due_date"' in change.note
