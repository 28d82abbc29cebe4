"""The App Home: a rep's open tasks with working buttons, a manager's team overdue, event retries."""

from __future__ import annotations

from datetime import timedelta

from bot.models import TaskEventKind, TaskStatus
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, OUTSIDER, REP1, REP2, settle
from tests.scenario.helpers import (
    all_tasks, assign, button_value, click, dm_cards, east_team, events, shown_text, task_by_title, task_ids,
)


def publishes(slack, user: str) -> int:
    return len([c for c in slack.calls_to("views.publish") if c.args.get("user_id") == user])


async def test_home_shows_open_tasks_and_its_buttons_work(driver, slack, db, clock):
    await east_team(driver)
    today = clock.today(MANAGER)
    await assign(driver, slack, title="Quote for Acme", assignees=[REP1], priority="1", due=today + timedelta(days=2))
    await assign(driver, slack, title="Visit Beta", assignees=[REP1], priority="2", due=today + timedelta(days=1))
    await assign(driver, slack, title="Joint pitch", assignees=[REP1, REP2], priority="3")
    quote, visit, pitch = [await task_by_title(db, t) for t in ("Quote for Acme", "Visit Beta", "Joint pitch")]

    before = publishes(slack, REP1)
    await driver.open_home(REP1)
    await settle()
    assert publishes(slack, REP1) == before + 1
    home = slack.home(REP1)
    assert home["view"]["type"] == "home"
    assert task_ids(home["view"]["blocks"]) == [quote.id, visit.id, pitch.id]
    text = shown_text(home["view"]["blocks"])
    assert "Your open tasks" in text and "3 open" in text and "Your team: overdue" not in text

    # Start from the Home: the Home is redrawn with the new status.
    await click(driver, home, ids.TASK_START, user=REP1, value=button_value(home["view"]["blocks"], ids.TASK_START, visit.id))
    assert (await task_by_title(db, "Visit Beta")).status == TaskStatus.IN_PROGRESS
    assert "in progress" in shown_text(slack.home(REP1)["view"]["blocks"])

    # Done from the Home republishes it without the task; only its creator (the manager) gets a line about it.
    messages = len(slack.messages)
    count = publishes(slack, REP1)
    home = slack.home(REP1)
    await click(driver, home, ids.TASK_DONE, user=REP1, value=button_value(home["view"]["blocks"], ids.TASK_DONE, quote.id))
    assert publishes(slack, REP1) == count + 1
    assert task_ids(slack.home(REP1)["view"]["blocks"]) == [visit.id, pitch.id]
    assert (await task_by_title(db, "Quote for Acme")).status == TaskStatus.DONE
    assert len(slack.messages) == messages + 1
    assert slack.messages[-1]["channel"] == slack.dm_channel(MANAGER) and "finished *Quote for Acme*" in slack.messages[-1]["text"]

    # Done on a shared task from one assignee's Home refreshes the other assignee's Home too.
    other = publishes(slack, REP2)
    home = slack.home(REP1)
    await click(driver, home, ids.TASK_DONE, user=REP1, value=button_value(home["view"]["blocks"], ids.TASK_DONE, pitch.id))
    assert publishes(slack, REP2) == other + 1
    assert pitch.id not in task_ids(slack.home(REP2)["view"]["blocks"])
    assert len(await events(db, TaskEventKind.DONE)) == 2

    # A note from the Home opens the note modal over it.
    home = slack.home(REP1)
    reply = await click(driver, home, ids.TASK_NOTE, user=REP1, value=button_value(home["view"]["blocks"], ids.TASK_NOTE, visit.id))
    [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    saved = await driver.submit_view(opened.response["view"]["id"], user=REP1, values={ids.NOTE_TEXT: "Parking is at the back."})
    assert not saved.body
    await settle()
    [note] = await events(db, TaskEventKind.NOTE)
    assert note.task_id == visit.id
    # The Home has no response_url: the confirmation comes as a DM.
    assert ":memo: Note added to *Visit Beta*." in slack.last_message(channel=slack.dm_channel(REP1))["text"]


async def test_a_manager_home_shows_the_team_overdue_per_rep(driver, slack, db, clock):
    await east_team(driver)
    today = clock.today(MANAGER)
    await assign(driver, slack, title="Renew Acme", assignees=[REP1], due=today + timedelta(days=1))
    await assign(driver, slack, title="Call Beta", assignees=[REP1], due=today)
    await assign(driver, slack, title="Ship samples", assignees=[REP2], due=today + timedelta(days=1))
    await assign(driver, slack, title="Plan Q3", assignees=[REP2], due=today + timedelta(days=30))

    await driver.open_home(MANAGER)
    await settle()
    text = shown_text(slack.home(MANAGER)["view"]["blocks"])
    assert "Your team: overdue" in text and "No overdue tasks on your team." in text

    clock.advance(days=3)
    await driver.open_home(MANAGER)
    await settle()
    blocks = slack.home(MANAGER)["view"]["blocks"]
    text = shown_text(blocks)
    assert task_ids(blocks) == []  # the manager has no tasks of their own
    rep1 = next(b["text"]["text"] for b in blocks if b["type"] == "section" and f"<@{REP1}>" in b["text"]["text"])
    rep2 = next(b["text"]["text"] for b in blocks if b["type"] == "section" and f"<@{REP2}>" in b["text"]["text"])
    assert "*2 overdue*" in rep1 and "Call Beta" in rep1 and "Renew Acme" in rep1
    assert rep1.index("Call Beta") < rep1.index("Renew Acme")  # longest overdue first
    assert "*1 overdue*" in rep2 and "Ship samples" in rep2 and "Plan Q3" not in rep2
    assert "Plan Q3" not in text

    # A rep's Home has no team section.
    await driver.open_home(REP1)
    await settle()
    assert "Your team: overdue" not in shown_text(slack.home(REP1)["view"]["blocks"])


async def test_someone_on_no_team_gets_an_explaining_home(driver, slack):
    await driver.open_home(OUTSIDER)
    await settle()
    assert "You are not on a sales team yet." in shown_text(slack.home(OUTSIDER)["view"]["blocks"])


async def test_an_events_api_retry_is_handled_once(driver, slack, db):
    await east_team(driver)
    await assign(driver, slack, title="Follow up", assignees=[REP2])
    before = publishes(slack, REP2)
    event = {"type": "app_home_opened", "user": REP2, "channel": slack.dm_channel(REP2), "tab": "home"}

    first = await driver.event(event, event_id="Ev0HOME0001")
    assert first.status == 200
    await settle()
    assert publishes(slack, REP2) == before + 1

    retry = await driver.event(event, event_id="Ev0HOME0001", retry_num=1, retry_reason="http_timeout")
    assert retry.status == 200
    await settle()
    assert publishes(slack, REP2) == before + 1

    # A new event is handled again, and the Messages tab draws nothing.
    await driver.event(event, event_id="Ev0HOME0002")
    await driver.event({**event, "tab": "messages"}, event_id="Ev0HOME0003")
    await settle()
    assert publishes(slack, REP2) == before + 2
    assert [t.title for t in await all_tasks(db)] == ["Follow up"]
    assert dm_cards(slack, REP2)  # the card from the assignment, and nothing more
    assert len(dm_cards(slack, REP2)) == 1
