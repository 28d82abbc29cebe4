"""/assign: the prefilled modal, field errors, saving, the DM cards, the confirmation and the picker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Customer, Segment, Task, TaskEvent, TaskEventKind, Workspace
from bot.blocks import ids
from tests.scenario.conftest import ADMIN, MANAGER, MANAGER_W, OUTSIDER, REP1, REP2, REP_W, settle
from tests.scenario.helpers import (
    action_ids, add_to_roster, all_tasks, assign, assignees_of, both_teams, count, dm_cards, east_team, events, open_assign,
    shown_text,
)


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def test_assign_opens_a_prefilled_modal(driver, slack):
    await east_team(driver)
    # Slack sends what was typed escaped (&, <, >) and mentions as <@U…|name>.
    _reply, view = await open_assign(driver, slack, f"<@{REP1}|ray> <@{REP2}> Call back &lt;ACME&gt; &amp; quote")
    assert view["callback_id"] == ids.ASSIGN_VIEW
    assert block(view, ids.ASSIGN_TITLE)["element"]["initial_value"] == "Call back <ACME> & quote"
    assert block(view, ids.ASSIGN_ASSIGNEES)["element"]["initial_users"] == [REP1, REP2]
    assert view["submit"]["text"] == "Assign"

    _reply, empty = await open_assign(driver, slack, "")
    assert "initial_value" not in block(empty, ids.ASSIGN_TITLE)["element"]
    assert "initial_users" not in block(empty, ids.ASSIGN_ASSIGNEES)["element"]


async def test_invalid_fields_are_refused_at_the_field_and_nothing_is_saved(driver, slack, db, clock):
    await both_teams(driver)
    reply, view = await open_assign(driver, slack, f"<@{REP1}> Visit the plant")
    today = clock.today(MANAGER)
    good = {ids.ASSIGN_TITLE: "Visit the plant", ids.ASSIGN_ASSIGNEES: [REP1], ids.ASSIGN_DUE: (today + timedelta(days=2)).isoformat()}
    bad_cases = [
        ({ids.ASSIGN_TITLE: "   "}, ids.ASSIGN_TITLE, "Give the task a title."),
        ({ids.ASSIGN_DUE: (today - timedelta(days=1)).isoformat()}, ids.ASSIGN_DUE, "The due date cannot be in the past."),
        ({ids.ASSIGN_ASSIGNEES: [REP1, ADMIN]}, ids.ASSIGN_ASSIGNEES, "Only reps of your team"),
        ({ids.ASSIGN_ASSIGNEES: [MANAGER]}, ids.ASSIGN_ASSIGNEES, "Only reps of your team"),
        ({ids.ASSIGN_ASSIGNEES: [OUTSIDER]}, ids.ASSIGN_ASSIGNEES, "Only reps of your team"),
        ({ids.ASSIGN_ASSIGNEES: [REP_W]}, ids.ASSIGN_ASSIGNEES, "Only reps of your team"),  # another team's rep
    ]
    for change, block_id, message in bad_cases:
        answer = await driver.submit_view(view["id"], user=MANAGER, values={**good, **change})
        assert answer.status == 200
        assert answer.body["response_action"] == "errors", (change, answer.body)
        assert list(answer.body["errors"]) == [block_id], answer.body
        assert message in answer.body["errors"][block_id]
        assert slack.views[view["id"]]["open"], "the modal stays open to be fixed"
    await settle()

    # Several wrong fields at once: each gets its own message.
    answer = await driver.submit_view(view["id"], user=MANAGER, values={
        **good, ids.ASSIGN_TITLE: " ", ids.ASSIGN_DUE: (today - timedelta(days=9)).isoformat(), ids.ASSIGN_ASSIGNEES: [REP_W],
    })
    assert set(answer.body["errors"]) == {ids.ASSIGN_TITLE, ids.ASSIGN_DUE, ids.ASSIGN_ASSIGNEES}
    await settle()

    assert await count(db, Task) == 0 and await count(db, TaskEvent) == 0 and await count(db, Customer) == 0
    assert slack.calls_to("chat.postMessage") == [] and slack.calls_to("views.publish") == []
    assert [c for c in slack.calls if c.method == "response_url" and c.path in reply.response_url] == []


async def test_a_valid_submission_saves_one_shared_task_and_tells_everyone(driver, slack, db, clock):
    await east_team(driver)
    reply, view = await open_assign(driver, slack, f"<@{REP1}> <@{REP2}> Prepare the Q2 proposal")
    due = clock.today(MANAGER) + timedelta(days=3)
    answer = await driver.submit_view(view["id"], user=MANAGER, values={
        ids.ASSIGN_NEW_CUSTOMER: "Acme Trading",
        ids.ASSIGN_SEGMENT: "key",
        ids.ASSIGN_STAGE: "proposal",
        ids.ASSIGN_PRIORITY: "1",
        ids.ASSIGN_DIFFICULTY: "2",
        ids.ASSIGN_DUE: due.isoformat(),
        ids.ASSIGN_DETAILS: "Bring the new price list.\nAsk about volumes.",
    })
    assert answer.status == 200 and not answer.body  # the modal closes
    assert not slack.views[view["id"]]["open"]
    await settle()

    [task] = await all_tasks(db)
    assert task.title == "Prepare the Q2 proposal" and task.due_date == due
    assert task.priority == 1 and task.difficulty == 2 and task.stage.value == "proposal" and task.status.value == "open"
    assert await assignees_of(db, task.id) == [REP1, REP2]
    assert [e.kind for e in await events(db)] == [TaskEventKind.CREATED]
    async with db.session() as s:
        customer = await s.get(Customer, task.customer_id)
    assert customer.name == "Acme Trading" and customer.segment.value == "key"

    # Each assignee gets exactly one card, with the task and its buttons.
    for rep, other in ((REP1, REP2), (REP2, REP1)):
        [card] = dm_cards(slack, rep)
        text = shown_text(card["blocks"])
        assert f"<@{MANAGER}> assigned you a task:" in text
        assert "*Prepare the Q2 proposal*" in text and ":office: Acme Trading" in text and "Proposal" in text
        assert f"Shared with <@{REP1}>, <@{REP2}>" in text
        assert ">Bring the new price list." in text
        assert action_ids(card["blocks"]) == [ids.TASK_START, ids.TASK_DONE, ids.TASK_NOTE, ids.TASK_HISTORY]
        assert card["text"] == "Task: Prepare the Q2 proposal"
    assert len(slack.calls_to("chat.postMessage")) == 2

    # The manager's confirmation goes back through the command's response_url.
    [confirmation] = await reply.responses()
    assert confirmation["response_type"] == "ephemeral"
    assert f"*Prepare the Q2 proposal* → <@{REP1}>, <@{REP2}>" in shown_text(confirmation["blocks"])
    assert dm_cards(slack, MANAGER) == []

    # Both assignees' App Home now shows the task.
    published = {c.args["user_id"] for c in slack.calls_to("views.publish")}
    assert published == {REP1, REP2}
    for rep in (REP1, REP2):
        assert "Prepare the Q2 proposal" in shown_text(slack.home(rep)["view"]["blocks"])


async def test_an_admin_may_assign_across_teams_and_a_second_manager_only_to_their_team(driver, slack, db, clock):
    await both_teams(driver)
    await assign(driver, slack, title="Audit the West pipeline", assignees=[REP_W], user=ADMIN)
    await assign(driver, slack, title="West follow-up", assignees=[REP_W], user=MANAGER_W)
    _reply, view = await open_assign(driver, slack, user=MANAGER_W)
    answer = await driver.submit_view(view["id"], user=MANAGER_W, values={ids.ASSIGN_TITLE: "Poach", ids.ASSIGN_ASSIGNEES: [REP1]})
    assert list(answer.body["errors"]) == [ids.ASSIGN_ASSIGNEES]
    await settle()
    assert sorted(t.title for t in await all_tasks(db)) == ["Audit the West pipeline", "West follow-up"]
    assert len(dm_cards(slack, REP_W)) == 2 and dm_cards(slack, REP1) == []


async def test_the_customer_picker_suggests_matching_customers(driver, slack, db, clock):
    await east_team(driver)
    await assign(driver, slack, title="Intro call", assignees=[REP1], **{ids.ASSIGN_NEW_CUSTOMER: "Acme Trading"})
    async with db.session() as s:
        workspace = (await s.execute(select(Workspace))).scalar_one()
        other = Workspace(slack_team_id="T0THER", name="Other")
        s.add(other)
        await s.flush()
        s.add_all([
            Customer(workspace_id=workspace.id, name="ACME Holdings", segment=Segment.KEY),
            Customer(workspace_id=workspace.id, name="Beta Foods", segment=Segment.SMB),
            Customer(workspace_id=workspace.id, name="100% Organic", segment=Segment.SMB),
            Customer(workspace_id=other.id, name="Acme Elsewhere", segment=Segment.SMB),  # another workspace
        ])

    _reply, view = await open_assign(driver, slack)
    found = await driver.suggest(view["id"], ids.ASSIGN_CUSTOMER_SEARCH, "acme", user=MANAGER)
    assert found.status == 200
    labels = [o["text"]["text"] for o in found.body["options"]]
    assert labels == ["Acme Trading · SMB", "ACME Holdings · key account"]

    everyone = await driver.suggest(view["id"], ids.ASSIGN_CUSTOMER_SEARCH, "", user=MANAGER)
    assert len(everyone.body["options"]) == 4
    percent = await driver.suggest(view["id"], ids.ASSIGN_CUSTOMER_SEARCH, "%", user=MANAGER)
    assert [o["text"]["text"] for o in percent.body["options"]] == ["100% Organic · SMB"]

    # Picking a suggestion links the task to that customer.
    holdings = next(o["value"] for o in found.body["options"] if o["text"]["text"].startswith("ACME Holdings"))
    answer = await driver.submit_view(view["id"], user=MANAGER, values={
        ids.ASSIGN_TITLE: "Renewal", ids.ASSIGN_ASSIGNEES: [REP1], ids.ASSIGN_CUSTOMER: holdings,
    })
    assert not answer.body
    await settle()
    task = next(t for t in await all_tasks(db) if t.title == "Renewal")
    assert task.customer_id == int(holdings)
    assert ":office: ACME Holdings" in shown_text(dm_cards(slack, REP1)[-1]["blocks"])


async def test_a_manager_demoted_while_the_modal_is_open_saves_nothing(driver, slack, db):
    await east_team(driver)
    _reply, view = await open_assign(driver, slack, f"<@{REP1}> Last task")
    await add_to_roster(driver, f"team add <@{MANAGER}> rep")
    answer = await driver.submit_view(view["id"], user=MANAGER, values={})
    assert answer.body["response_action"] == "errors"
    assert "Only managers assign tasks." in next(iter(answer.body["errors"].values()))
    await settle()
    assert await count(db, Task) == 0 and slack.calls_to("chat.postMessage") == []


async def test_a_rep_cannot_assign(driver, slack, db):
    await east_team(driver)
    for user, expected in ((REP1, "Only managers assign tasks."), (OUTSIDER, "You are not on a sales team yet")):
        reply = await driver.slash("/assign", f"<@{REP2}> Do my work", user=user)
        assert reply.status == 200
        [answer] = await reply.responses()
        await settle()
        assert answer["response_type"] == "ephemeral"
        assert expected in shown_text(answer["blocks"])
    assert slack.calls_to("views.open") == []
    assert await count(db, Task) == 0
