"""A manager's Home with a hundred reps behind, each with long overdue titles, still publishes, cut with a count."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.blocks.kit import VIEW_BYTE_BUDGET
from bot.models import Member, Role, Task, TaskAssignee, Workspace
from bot.standin import limits
from tests.scenario.conftest import MANAGER, settle
from tests.scenario.helpers import east_team, shown_text

REPS = 110
PER_REP = 5


async def seed_overdue_team(db, slack, clock) -> None:
    """110 more reps on the manager's team, each with five overdue tasks titled with 200 characters, many of them three bytes in UTF-8 (setup, into the database)."""
    past = clock.today(MANAGER) - timedelta(days=3)
    async with db.session() as s:
        workspace = (await s.execute(select(Workspace))).scalar_one()
        manager = (await s.execute(select(Member).where(Member.slack_user_id == MANAGER))).scalar_one()
        reps = [
            Member(workspace_id=workspace.id, slack_user_id=f"UBIG{i:04d}", name=f"Rep {i:03d}", role=Role.REP, team_id=manager.team_id)
            for i in range(REPS)
        ]
        s.add_all(reps)
        await s.flush()
        tasks = [
            (rep, Task(workspace_id=workspace.id, team_id=manager.team_id, created_by_id=manager.id, due_date=past - timedelta(days=k),
                       title=(f"{rep.name} task {k} & <quote> " + "续签年度服务合同并报价升级方案" * 14)[:200]))
            for rep in reps for k in range(PER_REP)
        ]
        s.add_all([t for _, t in tasks])
        await s.flush()
        s.add_all([TaskAssignee(task_id=t.id, member_id=rep.id) for rep, t in tasks])
    for i in range(REPS):
        slack.add_user(f"UBIG{i:04d}", name=f"rep-{i:03d}")


async def test_a_manager_home_with_110_overdue_reps_publishes_within_the_budget(driver, slack, db, clock):
    await east_team(driver)
    await seed_overdue_team(db, slack, clock)

    await driver.open_home(MANAGER)
    await settle()
    [call] = [c for c in slack.calls_to("views.publish") if c.args.get("user_id") == MANAGER]
    assert call.ok, call.error
    view = slack.home(MANAGER)["view"]
    size = limits.view_size(call.args["view"])
    assert size <= VIEW_BYTE_BUDGET + 1000, size  # the blocks keep the budget; the view's own fields are small

    blocks = view["blocks"]
    shown = [b for b in blocks if b["type"] == "section" and "<@UBIG" in b["text"]["text"]]
    assert 10 < len(shown) < REPS
    text = shown_text(blocks)
    assert f"…and {REPS - len(shown)} more reps with overdue tasks." in text
    assert text.rstrip().endswith(shown_text([blocks[-1]]).rstrip())  # the closing hint is still there
    assert "&amp; &lt;quote&gt;" in shown[0]["text"]["text"]  # titles escaped, as always
    # Reps are listed in order, none twice: the cut only drops the tail.
    names = [int(re.search(r"<@UBIG(\d{4})>", b["text"]["text"]).group(1)) for b in shown]
    assert names == list(range(len(shown)))
