"""A rep with 300 open tasks still gets valid messages, and paging shows each task exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Customer, Member, Segment, Task, TaskAssignee, TaskStatus, Workspace
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2, settle
from tests.scenario.helpers import button_value, click, east_team, mytasks, shown_text, task_ids

N = 300


async def seed_tasks(db, clock) -> list[int]:
    """300 open tasks for REP1 (setup, straight into the database); returns their ids in list order."""
    today = clock.today(REP1)
    async with db.session() as s:
        workspace = (await s.execute(select(Workspace))).scalar_one()
        members = {m.slack_user_id: m for m in (await s.execute(select(Member))).scalars()}
        rep, other, manager = members[REP1], members[REP2], members[MANAGER]
        customers = [Customer(workspace_id=workspace.id, name=f"Customer {i} " + "x" * 180, segment=Segment.KEY if i % 2 else Segment.SMB) for i in range(7)]
        s.add_all(customers)
        await s.flush()
        tasks = []
        for i in range(N):
            due = None if i % 11 == 0 else today + timedelta(days=(i * 7) % 61 - 20)
            tasks.append(Task(
                workspace_id=workspace.id, team_id=rep.team_id, title=f"Task {i:03d} " + "long title " * 17,
                details="line\n" * 40, customer_id=customers[i % 7].id if i % 3 else None, priority=1 + i % 3,
                difficulty=1 + i % 3, due_date=due, status=TaskStatus.IN_PROGRESS if i % 5 == 0 else TaskStatus.OPEN,
                created_by_id=manager.id,
            ))
        s.add_all(tasks)
        await s.flush()
        s.add_all([TaskAssignee(task_id=t.id, member_id=rep.id) for t in tasks])
        s.add_all([TaskAssignee(task_id=t.id, member_id=other.id) for t in tasks[::25]])  # some are shared
        order = sorted(tasks, key=lambda t: (not (t.due_date is not None and t.due_date < today), t.priority, t.due_date is None, t.due_date or today, t.id))
        return [t.id for t in order]


def nav(message: dict) -> list[str]:
    block = next((b for b in message["blocks"] if b.get("block_id") == "tasks-nav"), None)
    return [e["action_id"] for e in block["elements"]] if block else []


async def test_three_hundred_tasks_page_through_valid_messages(driver, slack, db, clock):
    await east_team(driver)
    expected = await seed_tasks(db, clock)

    listing = await mytasks(driver, REP1)
    assert listing["blocks"][0]["text"]["text"] == f"Your open tasks ({N})"
    assert 1 < len(listing["blocks"]) <= 50
    assert nav(listing) == [ids.TASKS_NEXT]
    first_page = task_ids(listing["blocks"])

    # Next to the end: every task once, in list order (overdue first, then priority and due date).
    forward = list(first_page)
    pages = 1
    while ids.TASKS_NEXT in nav(listing):
        await click(driver, listing, ids.TASKS_NEXT, user=REP1)
        listing = slack.find_message(listing["id"])  # the same ephemeral, replaced in place
        assert len(listing["blocks"]) <= 50
        forward += task_ids(listing["blocks"])
        pages += 1
    assert forward == expected
    assert f"Page {pages} of {pages}" in shown_text(listing["blocks"])
    assert nav(listing) == [ids.TASKS_PREV]

    # Previous back to the start: the same pages in reverse.
    backward = task_ids(listing["blocks"])
    while ids.TASKS_PREV in nav(listing):
        await click(driver, listing, ids.TASKS_PREV, user=REP1)
        listing = slack.find_message(listing["id"])
        backward = task_ids(listing["blocks"]) + backward
    assert backward == expected
    assert task_ids(listing["blocks"]) == first_page
    assert len(slack.ephemerals_for(REP1)) == 1

    # Done on page 3 redraws page 3, one task shorter.
    for _ in range(2):
        await click(driver, listing, ids.TASKS_NEXT, user=REP1)
        listing = slack.find_message(listing["id"])
    third = task_ids(listing["blocks"])
    await click(driver, listing, ids.TASK_DONE, user=REP1, value=button_value(listing["blocks"], ids.TASK_DONE, third[0]))
    listing = slack.find_message(listing["id"])
    assert listing["blocks"][0]["text"]["text"] == f"Your open tasks ({N - 1})"
    assert f"Page 3 of {pages}" in shown_text(listing["blocks"])
    assert task_ids(listing["blocks"]) == [t for t in expected if t != third[0]][20:30]

    # The App Home and the manager's Home stay within Slack's limits too.
    await driver.open_home(REP1)
    await driver.open_home(MANAGER)
    await settle()
    home = slack.home(REP1)["view"]["blocks"]
    assert len(home) <= 100 and len(task_ids(home)) == 15
    assert f"and {N - 1 - 15} more" in shown_text(home)
    manager_home = shown_text(slack.home(MANAGER)["view"]["blocks"])
    assert "overdue*" in manager_home and "more" in manager_home
