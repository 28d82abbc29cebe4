"""The task loop in one story, driven only through signed requests and the stand-in."""

from __future__ import annotations

from datetime import timedelta

from bot.models import TaskEventKind, TaskStatus
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import (
    all_tasks, dm_cards, east_team, events, forged_click, mytasks, open_assign, roster, shown_text,
)


async def test_manager_assigns_and_rep_completes(driver, slack, db, clock):
    # An admin adds a manager and three reps.
    await east_team(driver)
    assert await roster(db) == {MANAGER: "manager", REP1: "rep", REP2: "rep", REP_ZH: "rep"}

    # The manager assigns a task through the modal; the title tries to ping the channel.
    reply, view = await open_assign(driver, slack, f"<@{REP1}> <@{REP_ZH}> Send the &lt;!channel&gt; &amp; quote")
    due = clock.today(MANAGER) + timedelta(days=3)
    sub = await driver.submit_view(view["id"], user=MANAGER, values={ids.ASSIGN_NEW_CUSTOMER: "ACME", ids.ASSIGN_DUE: due.isoformat(), ids.ASSIGN_PRIORITY: "1"})
    assert sub.status == 200 and not sub.body, sub.body
    await settle()
    [confirmation] = await reply.responses()
    assert "Send the &lt;!channel&gt; &amp; quote" in confirmation["text"]

    [card] = dm_cards(slack, REP1)
    assert "*Send the &lt;!channel&gt; &amp; quote*" in shown_text(card["blocks"])
    assert "完成" in shown_text(dm_cards(slack, REP_ZH)[0]["blocks"])

    # A rep's /assign opens nothing; another rep's click on the card changes nothing.
    opened = len(slack.calls_to("views.open"))
    await driver.slash("/assign", "", user=REP2)
    await settle()
    assert len(slack.calls_to("views.open")) == opened
    await forged_click(driver, card, ids.TASK_DONE, user=REP2)
    assert (await all_tasks(db))[0].status == TaskStatus.OPEN

    # The assignee's /mytasks shows it; Done there and again on the card completes it once.
    listing = await mytasks(driver, REP1)
    assert "Send the &lt;!channel&gt; &amp; quote" in shown_text(listing["blocks"])
    await driver.click(listing, ids.TASK_DONE, user=REP1)
    await settle()
    await driver.click(card, ids.TASK_DONE, user=REP1)
    await settle()
    [task] = await all_tasks(db)
    assert task.status == TaskStatus.DONE
    assert len(await events(db, TaskEventKind.DONE)) == 1
