"""Each member reads the bot in their Slack language and time zone."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2, REP_ZH, settle
from tests.scenario.helpers import assign, button_value, click, dm_cards, east_team, mytasks, salesbot, shown_text, task_by_title

HAN = re.compile(r"[\u4e00-\u9fff]")


def buttons(blocks) -> list[str]:
    return [e["text"]["text"] for b in blocks if b.get("type") == "actions" for e in b["elements"]]


async def test_a_chinese_locale_rep_reads_chinese_and_others_english(driver, slack, db, clock):
    await east_team(driver)
    due = clock.today(MANAGER) + timedelta(days=1)
    await assign(driver, slack, title="拜访客户 Acme", assignees=[REP_ZH, REP1], priority="1", due=due, **{ids.ASSIGN_STAGE: "proposal"})
    task = await task_by_title(db, "拜访客户 Acme")

    # The DM card.
    [zh_card] = dm_cards(slack, REP_ZH)
    [en_card] = dm_cards(slack, REP1)
    assert buttons(zh_card["blocks"]) == ["开始", "完成", "添加备注", "历史"]
    assert buttons(en_card["blocks"]) == ["Start", "Done", "Add note", "History"]
    zh_text, en_text = shown_text(zh_card["blocks"]), shown_text(en_card["blocks"])
    assert "给你分配了一个任务" in zh_text and "assigned you a task" not in zh_text
    assert "assigned you a task" in en_text and "Proposal" in en_text and "due tomorrow" in en_text
    assert not HAN.search(en_text.replace("拜访客户", ""))  # the title is the only Chinese

    # /mytasks.
    zh_list = await mytasks(driver, REP_ZH)
    assert zh_list["blocks"][0]["text"]["text"].startswith("你的待办任务")
    assert "开始" in buttons(zh_list["blocks"]) and "完成" in buttons(zh_list["blocks"])
    en_list = await mytasks(driver, REP1)
    assert en_list["blocks"][0]["text"]["text"] == "Your open tasks (1)"

    # The App Home.
    await driver.open_home(REP_ZH)
    await driver.open_home(REP1)
    await settle()
    zh_home = slack.home(REP_ZH)["view"]["blocks"]
    assert "你的待办任务" in shown_text(zh_home) and {"开始", "完成"} <= set(buttons(zh_home))
    assert "Your open tasks" in shown_text(slack.home(REP1)["view"]["blocks"])

    # Replies to what they do: help, errors, the note modal.
    zh_help = shown_text((await salesbot(driver, "help", user=REP_ZH))["blocks"])
    assert HAN.search(zh_help) and "What you can do" not in zh_help
    assert "What you can do" in shown_text((await salesbot(driver, "help", user=REP1))["blocks"])
    refusal = await driver.slash("/assign", "", user=REP_ZH)
    [answer] = await refusal.responses()
    await settle()
    assert HAN.search(answer["text"]) and "Only managers" not in answer["text"]
    note = await click(driver, zh_list, ids.TASK_NOTE, user=REP_ZH, value=button_value(zh_list["blocks"], ids.TASK_NOTE, task.id))
    [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == note.trigger_id)
    assert HAN.search(opened.response["view"]["title"]["text"])
    empty = await driver.submit_view(opened.response["view"]["id"], user=REP_ZH, values={ids.NOTE_TEXT: " "})
    assert HAN.search(empty.body["errors"][ids.NOTE_TEXT])
    await settle()

    # The manager who assigned it reads English.
    assert "Assign a task" in [c.response["view"]["title"]["text"] for c in slack.calls_to("views.open")]


async def test_due_dates_are_relative_to_each_members_own_day(driver, slack, db, clock):
    # At 02:00 UTC it is already 10 March in Shanghai but still 9 March in New York.
    await east_team(driver)
    shanghai_today = clock.today(REP1)
    assert clock.today(REP2) == shanghai_today - timedelta(days=1)
    await assign(driver, slack, title="Send the memo", assignees=[REP1, REP2], due=shanghai_today)
    assert "due today" in shown_text(dm_cards(slack, REP1)[0]["blocks"])
    assert "due tomorrow" in shown_text(dm_cards(slack, REP2)[0]["blocks"])

    clock.advance(days=1)  # 11 March in Shanghai, 10 March in New York
    assert "overdue by 1 day" in shown_text((await mytasks(driver, REP1, "overdue"))["blocks"])
    new_york = await mytasks(driver, REP2, "overdue")
    assert "Nothing overdue." in shown_text(new_york["blocks"])
    assert "due today" in shown_text((await mytasks(driver, REP2))["blocks"])
