"""Editing a repeat rule through signed requests: Edit on `/mytasks repeats` and on a rule's card opens the rule
prefilled; a save changes only the tasks still to come, is refused at a bad field, and counts once however often sent."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

from sqlalchemy import select, update

from bot.blocks import ids
from bot.models import Priority, SalesTeam, Task, TaskRule
from jobs.outbox import SenderConfig
from jobs.repeats import JOB, compose
from jobs.scheduler import build_clockwork
from tests.scenario.conftest import MANAGER, REP1, REP2, settle
from tests.scenario.helpers import action_ids, assign, assignees_of, click, dm_cards, east_team, forged_click, mytasks, shown_text

FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.02)
N = 20


async def _new_york(db) -> None:
    async with db.sessionmaker() as s:
        await s.execute(update(SalesTeam).where(SalesTeam.name == "East").values(timezone="America/New_York"))
        await s.commit()


async def _tick(deps, slack, clock, when: datetime) -> int:
    """One tick of the repeats job at `when`, waiting for the cards it sends."""
    clock.now = when
    mark = len(slack.calls)
    work = build_clockwork(deps, config=FAST, jobs={JOB: compose}, tick_seconds=3600)
    made = await work.tick(JOB)  # before start(): its own first tick would race this one
    work.start()
    try:
        if made:
            await slack.wait_for("chat.postMessage", count=made, since=mark, timeout=10)
    finally:
        await work.stop()
    return made


async def _open(driver, slack, source: dict, *, user: str) -> dict | None:
    """Click Edit on a rule and return the modal it opened (None when none was)."""
    before = len(slack.calls_to("views.open"))
    await click(driver, source, ids.REPEAT_EDIT, user=user)
    calls = slack.calls_to("views.open")
    return calls[-1].response["view"] if len(calls) > before else None


async def _rule(db) -> TaskRule:
    async with db.sessionmaker() as s:
        return (await s.execute(select(TaskRule))).scalar_one()


async def _tasks(db) -> list[Task]:
    async with db.sessionmaker() as s:
        return list((await s.execute(select(Task).order_by(Task.due_date))).scalars())


async def test_rep_edits_own_rule_future_tasks_change_made_ones_stay(driver, slack, db, deps, clock):
    await east_team(driver)
    await _new_york(db)
    clock.now = datetime(2026, 2, 20, 15, tzinfo=timezone.utc)  # Friday 20 February, 10:00 in New York
    await mytasks(driver, REP2, "add Call the top 5 key accounts repeat:weekly:mon")
    assert await _tick(deps, slack, clock, datetime(2026, 2, 23, 15, tzinfo=timezone.utc)) == 1  # Monday's task

    listing = await mytasks(driver, REP2, "repeats")
    assert action_ids(listing["blocks"]).count(ids.REPEAT_EDIT) == 1 and ids.REPEAT_STOP in action_ids(listing["blocks"])
    view = await _open(driver, slack, listing, user=REP2)
    assert view is not None and view["callback_id"] == ids.RULE_EDIT_VIEW
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.RULE_TITLE]["element"]["initial_value"] == "Call the top 5 key accounts"
    assert blocks[ids.RULE_KIND]["element"]["initial_option"]["value"] == "weekly"
    assert [o["value"] for o in blocks[ids.RULE_DAYS]["element"]["initial_options"]] == ["0"]
    assert ids.RULE_ASSIGNEES not in blocks  # a rep's own rule: the assignee is the rep

    # Weekly with no weekday is refused under the weekdays, and nothing is saved.
    bad = await driver.submit_view(view["id"], user=REP2, values={ids.RULE_TITLE: "Changed", ids.RULE_DAYS: []})
    assert bad.status == 200 and bad.body["response_action"] == "errors" and list(bad.body["errors"]) == [ids.RULE_DAYS]
    assert (await _rule(db)).title == "Call the top 5 key accounts"

    # Monday and Wednesday from now on: Monday already has its task, so the next one is Wednesday's.
    saved = await driver.submit_view(view["id"], user=REP2, values={
        ids.RULE_TITLE: "Call the top 10 <key> accounts", ids.RULE_DAYS: ["0", "2"], ids.RULE_PRIORITY: "1"})
    assert saved.status == 200 and not saved.body
    await settle()
    rule = await _rule(db)
    assert (rule.title, rule.weekdays, rule.next_on, int(rule.priority)) == ("Call the top 10 <key> accounts", "0,2", date(2026, 2, 25), 1)
    confirmation = shown_text(slack.ephemerals_for(REP2)[-1]["blocks"])
    assert "now repeats every Monday, Wednesday" in confirmation and "&lt;key&gt;" in str(slack.ephemerals_for(REP2)[-1]["blocks"])

    assert await _tick(deps, slack, clock, datetime(2026, 2, 23, 22, tzinfo=timezone.utc)) == 0  # no second Monday task
    assert await _tick(deps, slack, clock, datetime(2026, 2, 25, 15, tzinfo=timezone.utc)) == 1
    tasks = await _tasks(db)
    assert [(t.due_date, t.title, int(t.priority)) for t in tasks] == [
        (date(2026, 2, 23), "Call the top 5 key accounts", int(Priority.MEDIUM)),
        (date(2026, 2, 25), "Call the top 10 <key> accounts", 1),
    ]
    # The new card carries Edit beside Stop (the rule is the rep's own), and it opens the new spec.
    card = [m for m in dm_cards(slack, REP2) if "top 10" in shown_text(m["blocks"])][-1]
    assert ids.REPEAT_EDIT in action_ids(card["blocks"]) and ids.REPEAT_STOP in action_ids(card["blocks"])
    again = await _open(driver, slack, card, user=REP2)
    assert [o["value"] for o in {b.get("block_id"): b for b in again["blocks"]}[ids.RULE_DAYS]["element"]["initial_options"]] == ["0", "2"]

    # Monthly on the 10th from the same modal: the next date is 10 March.
    saved = await driver.submit_view(again["id"], user=REP2, values={ids.RULE_KIND: "monthly", ids.RULE_MONTH_DAY: "10"})
    assert saved.status == 200 and not saved.body
    rule = await _rule(db)
    assert (rule.kind.value, rule.month_day, rule.next_on) == ("monthly", 10, date(2026, 3, 10))
    await settle()


async def test_manager_changes_assignees_and_a_reps_forged_edit_changes_nothing(driver, slack, db, deps, clock):
    await east_team(driver)
    await _new_york(db)
    clock.now = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)  # Monday 2 March
    await assign(driver, slack, title="Weekly pipeline review", assignees=[REP1], due=date(2026, 3, 5), **{ids.ASSIGN_REPEAT: "weekly"})
    listing = await mytasks(driver, MANAGER, "repeats")

    # The rep clicks Edit on the manager's listing with a correctly signed, forged payload: no modal, nothing changes.
    before = len(slack.calls_to("views.open"))
    await forged_click(driver, listing, ids.REPEAT_EDIT, user=REP1)
    assert len(slack.calls_to("views.open")) == before
    assert "Only a manager of its team" in shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])
    assert (await _rule(db)).title == "Weekly pipeline review"

    view = await _open(driver, slack, listing, user=MANAGER)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.RULE_ASSIGNEES]["element"]["initial_users"] == [REP1]
    # Someone the manager may not assign (themselves) is refused at the assignees.
    bad = await driver.submit_view(view["id"], user=MANAGER, values={ids.RULE_ASSIGNEES: [MANAGER]})
    assert bad.body["response_action"] == "errors" and list(bad.body["errors"]) == [ids.RULE_ASSIGNEES]
    saved = await driver.submit_view(view["id"], user=MANAGER, values={ids.RULE_ASSIGNEES: [REP2], ids.RULE_DETAILS: "Bring the forecast"})
    assert saved.status == 200 and not saved.body
    assert await _tick(deps, slack, clock, datetime(2026, 3, 5, 15, tzinfo=timezone.utc)) == 1
    [task] = await _tasks(db)
    assert await assignees_of(db, task.id) == [REP2] and task.details == "Bring the forecast"
    # A manager's rule on the rep's card offers Stop only to whoever may; Edit is not offered there.
    assert ids.REPEAT_EDIT not in action_ids(dm_cards(slack, REP2)[-1]["blocks"])
    await settle()


async def test_the_same_edit_sent_twenty_times_at_once_is_one_change(driver, slack, db, deps, clock):
    await east_team(driver)
    driver.ack_timeout = None  # twenty requests at once on a shared machine: hold the outcome, not the speed
    clock.now = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
    await mytasks(driver, REP1, "add Update the forecast repeat:weekly:fri")
    listing = await mytasks(driver, REP1, "repeats")
    views = [await _open(driver, slack, listing, user=REP1) for _ in range(2)]
    marks = len(slack.ephemerals_for(REP1))
    values = {ids.RULE_TITLE: "Update the Q2 forecast", ids.RULE_DAYS: ["3"]}
    replies = await asyncio.gather(*(driver.submit_view(views[i % 2]["id"], user=REP1, values=values) for i in range(N)))
    await settle(30)
    assert all(r.status == 200 for r in replies)
    said = [shown_text(m["blocks"]) for m in slack.ephemerals_for(REP1)[marks:]]
    assert sum("now repeats" in s for s in said) == 1, said
    rule = await _rule(db)
    assert (rule.title, rule.weekdays, rule.next_on) == ("Update the Q2 forecast", "3", date(2026, 3, 5))
