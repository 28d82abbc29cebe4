"""The task loop end to end, driven only through signed requests and the stand-in."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from bot.models import Task, TaskEvent, TaskEventKind, TaskStatus
from handlers import ids
from tests.scenario.conftest import ADMIN, MANAGER, REP1, REP2, REP_ZH, settle


async def setup_roster(driver):
    """An admin adds a manager and three reps through /salesbot."""
    for text in (
        f"team add <@{MANAGER}|mia> manager team:East region:East",
        f"team add <@{REP1}|ray> rep team:East region:East segment:key level:senior",
        f"team add <@{REP2}> rep team:East region:West segment:smb",
        f"team add <@{REP_ZH}> rep team:East region:East",
    ):
        reply = await driver.slash("/salesbot", text, user=ADMIN)
        assert reply.status == 200
        [resp] = await reply.responses()
        assert ":white_check_mark:" in resp["text"], resp


async def test_manager_assigns_and_rep_completes(driver, slack, db):
    await setup_roster(driver)
    reply = await driver.slash("/assign", f"<@{REP1}> Send the <!channel> & quote", user=MANAGER)
    assert reply.status == 200
    [call] = await slack.wait_for("views.open")
    view_id = call.response["view"]["id"]
    due = (date.today() + timedelta(days=3)).isoformat()
    sub = await driver.submit_view(view_id, user=MANAGER, values={ids.ASSIGN_NEW_CUSTOMER: "ACME", ids.ASSIGN_DUE: due, ids.ASSIGN_PRIORITY: "1"})
    assert sub.status == 200 and not sub.body, sub.body
    await settle()
    dm = slack.last_message(channel=slack.dm_channel(REP1))
    assert dm is not None
    print(dm)
    assert "&lt;!channel&gt; &amp; quote" in dm["blocks"][0]["text"]["text"]
    r = await driver.slash("/mytasks", "", user=REP1)
    [lst] = await r.responses()
    print(lst)
    eph = slack.ephemerals_for(REP1)[-1]
    await driver.click(eph, ids.TASK_DONE, user=REP1)
    await settle()
    await driver.click(dm, ids.TASK_DONE, user=REP1)
    await settle()
    async with db.session() as s:
        n = (await s.execute(select(func.count()).select_from(TaskEvent).where(TaskEvent.kind == TaskEventKind.DONE))).scalar_one()
        task = (await s.execute(select(Task))).scalar_one()
    assert n == 1 and task.status == TaskStatus.DONE
    assert not slack.rejected_calls(), slack.rejected_calls()
