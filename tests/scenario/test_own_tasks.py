"""Reps' own tasks: `/mytasks add` with natural dates in both languages, resolved in the rep's own zone."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.blocks import ids
from bot.models import Customer, Priority, Task, TaskEvent, TaskEventKind, TaskRule
from tests.scenario.conftest import OUTSIDER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import assignees_of, click, dm_cards, east_team, mytasks, shown_text, task_by_title, task_ids


async def test_mytasks_add_due_tomorrow_in_new_york_and_shanghai(driver, slack, db, clock):
    await east_team(driver)
    # 02:00 UTC on 10 March: still the 9th in New York, already the 10th in Shanghai.
    reply = await mytasks(driver, REP2, "add Call Acme due:tomorrow")
    assert "Added to your tasks: *Call Acme*" in shown_text(reply["blocks"])
    reply = await mytasks(driver, REP_ZH, "add 给王总回电话 due:明天")
    assert "已加入你的任务：*给王总回电话*" in shown_text(reply["blocks"])

    acme, wang = await task_by_title(db, "Call Acme"), await task_by_title(db, "给王总回电话")
    assert acme.due_date == date(2026, 3, 10) and wang.due_date == date(2026, 3, 11)
    assert acme.self_created and wang.self_created
    assert await assignees_of(db, acme.id) == [REP2] and await assignees_of(db, wang.id) == [REP_ZH]
    assert acme.created_by_id is not None and acme.priority == Priority.MEDIUM
    # The reply carries the task's buttons, and the task is in the rep's list like any other.
    assert task_ids(reply["blocks"]) == [wang.id]
    assert task_ids((await mytasks(driver, REP2))["blocks"]) == [acme.id]
    assert "Call Acme" in shown_text(slack.home(REP2)["view"]["blocks"])  # the Home was redrawn


async def test_mytasks_add_options_and_errors_name_the_bad_part(driver, slack, db, clock):
    await east_team(driver)
    reply = await mytasks(driver, REP1, 'add Send &lt;!channel&gt; quote due:fri priority:high customer:"Acme Corp"')
    task = await task_by_title(db, "Send <!channel> quote")
    # Tuesday 10 March in Shanghai: `fri` is the 13th; the title is escaped wherever it is shown.
    assert task.due_date == date(2026, 3, 13) and task.priority == Priority.HIGH
    assert "<!channel>" not in shown_text(reply["blocks"])
    async with db.sessionmaker() as s:
        assert (await s.get(Customer, task.customer_id)).name == "Acme Corp"
        created = (await s.execute(select(TaskEvent).where(TaskEvent.task_id == task.id, TaskEvent.kind == TaskEventKind.CREATED))).scalars().all()
        assert len(created) == 1

    bad = {
        "add Call due:someday": "`someday`",
        "add Call priority:urgent": "`urgent`",
        "add Call repeat:hourly": "`hourly`",
        "add due:tomorrow": "Write a title",
        "add Call due:2026-03-01": "2026-03-01 has passed",
    }
    for text, part in bad.items():
        reply = await mytasks(driver, REP1, text)
        assert part in shown_text(reply["blocks"]), (text, reply)
    reply = await mytasks(driver, REP_ZH, "add 开会 截止:下辈子")
    assert "无法识别日期 `下辈子`" in shown_text(reply["blocks"])
    async with db.sessionmaker() as s:
        assert len((await s.execute(select(Task))).scalars().all()) == 1

    # Someone on no team gets the roster message, and nothing is written.
    reply = await mytasks(driver, OUTSIDER, "add Call due:today")
    assert "Added" not in shown_text(reply["blocks"])
    assert [t.title for t in await _tasks(db)] == ["Send <!channel> quote"]


async def test_mytasks_add_repeat_makes_a_rule_not_a_task(driver, slack, db, clock):
    await east_team(driver)
    reply = await mytasks(driver, REP_ZH, "add 拜访重点客户 重复:每周一、四")
    text = shown_text(reply["blocks"])
    assert "拜访重点客户" in text and "星期一、星期四" in text
    async with db.sessionmaker() as s:
        [rule] = (await s.execute(select(TaskRule))).scalars().all()
        assert rule.weekdays == "0,3" and rule.next_on == date(2026, 3, 12) and rule.self_created
        assert (await s.execute(select(Task))).scalars().all() == []


async def _tasks(db):
    async with db.sessionmaker() as s:
        return list((await s.execute(select(Task).order_by(Task.id))).scalars())


async def test_new_task_from_the_home(driver, slack, db, clock):
    await east_team(driver)
    await driver.open_home(REP2)
    await settle()
    home = slack.home(REP2)
    reply = await click(driver, home, ids.HOME_NEW_TASK, user=REP2)
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    view = call.response["view"]

    # A past date is refused under its field, and nothing is written.
    refused = await driver.submit_view(view["id"], user=REP2, values={ids.OWN_TITLE: "Renew Beta", ids.OWN_DUE: "2026-03-01"})
    assert refused.status == 200 and ids.OWN_DUE in refused.body["errors"], refused.body
    assert await _tasks(db) == []

    done = await driver.submit_view(view["id"], user=REP2, values={
        ids.OWN_TITLE: "Renew Beta", ids.OWN_DUE: "2026-03-12", ids.OWN_PRIORITY: "1", ids.OWN_CUSTOMER: "Beta & Co"})
    assert done.status == 200 and not done.body, done.body
    await settle()
    task = await task_by_title(db, "Renew Beta")
    assert task.self_created and task.due_date == date(2026, 3, 12) and task.priority == Priority.HIGH
    assert await assignees_of(db, task.id) == [REP2]
    assert task.id in task_ids(slack.home(REP2)["view"]["blocks"])
    [dm] = [m for m in dm_cards(slack, REP2) if "Renew Beta" in shown_text(m["blocks"])]
    assert task_ids(dm["blocks"]) == [task.id]
    # Someone on no team is told so instead of getting the modal.
    await driver.open_home(OUTSIDER)
    await settle()
    assert ids.HOME_NEW_TASK not in str(slack.home(OUTSIDER)["view"]["blocks"])


async def test_mytasks_repeats_lists_running_rules_with_stop(driver, slack, db, clock):
    await east_team(driver)
    await mytasks(driver, REP1, "add Weekly report repeat:weekly:fri")
    await mytasks(driver, REP_ZH, "add 月度回访 重复:每月15日")
    listing = await mytasks(driver, REP1, "repeats")
    text = shown_text(listing["blocks"])
    assert "Repeating tasks (1)" in text and "Weekly report" in text and "every Friday" in text and "月度回访" not in text
    assert "月度回访" in shown_text((await mytasks(driver, REP_ZH, "重复"))["blocks"])
    await click(driver, listing, ids.REPEAT_STOP, user=REP1)
    assert "no longer repeats" in shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])
    assert "Repeating tasks (0)" in shown_text((await mytasks(driver, REP1, "repeats"))["blocks"])
    async with db.sessionmaker() as s:
        rules = {r.title: r.next_on for r in (await s.execute(select(TaskRule))).scalars()}
    assert rules["Weekly report"] is None and rules["月度回访"] == date(2026, 3, 15)
