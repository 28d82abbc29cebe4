"""Every click checks who clicked: an assignee or a manager of the assignee's team, nobody else."""

from __future__ import annotations

from bot.models import Member, TaskEventKind, TaskStatus
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, MANAGER_W, OUTSIDER, REP1, REP2
from tests.scenario.helpers import (
    action_ids, all_tasks, assign, both_teams, dm_cards, forged_click, events, mytasks, shown_text,
)


async def test_only_the_assignee_and_their_manager_may_act_on_a_task(driver, slack, db):
    await both_teams(driver)
    await assign(driver, slack, title="Sign the NDA", assignees=[REP1])
    [card] = dm_cards(slack, REP1)
    listing = await mytasks(driver, REP1)
    history = await events(db)
    opened = len(slack.calls_to("views.open"))

    # The exact message REP1 got, clicked by people who may not act on it (Slack would not
    # show it to them; a forged or replayed payload still can).
    for intruder in (REP2, MANAGER_W, OUTSIDER):
        for action in (ids.TASK_START, ids.TASK_DONE, ids.TASK_NOTE):
            await forged_click(driver, card, action, user=intruder)
            refusal = slack.ephemerals_for(intruder)[-1]
            assert "That task is not yours" in shown_text(refusal["blocks"]), (intruder, action, refusal)
        await forged_click(driver, listing, ids.TASK_DONE, user=intruder)
        assert "That task is not yours" in shown_text(slack.ephemerals_for(intruder)[-1]["blocks"])
        assert len(slack.ephemerals_for(intruder)) == 4

    [task] = await all_tasks(db)
    assert task.status == TaskStatus.OPEN
    assert await events(db) == history
    assert len(slack.calls_to("views.open")) == opened  # no note modal for an intruder
    assert not slack.find_message(card["id"])["edited"] and not slack.find_message(listing["id"])["edited"]
    assert slack.ephemerals_for(REP1) == [slack.find_message(listing["id"])]  # REP1 was told nothing

    # The manager of REP1's team may complete it, through the same card.
    publishes = len(slack.calls_to("views.publish"))
    await forged_click(driver, card, ids.TASK_DONE, user=MANAGER)
    [task] = await all_tasks(db)
    assert task.status == TaskStatus.DONE
    [done] = await events(db, TaskEventKind.DONE)
    async with db.session() as s:
        actor = await s.get(Member, done.actor_id)
    assert actor.slack_user_id == MANAGER
    card = slack.find_message(card["id"])
    assert card["edited"] and ids.TASK_DONE not in action_ids(card["blocks"])
    # REP1's Home is redrawn without the task.
    refreshed = [c.args["user_id"] for c in slack.calls_to("views.publish")[publishes:]]
    assert REP1 in refreshed
    assert "Sign the NDA" not in shown_text(slack.home(REP1)["view"]["blocks"])
