"""/tasks: the team board for managers, grouped by rep with counts, paginated within Slack's limits."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

from sqlalchemy import update

from bot.blocks import ids
from bot.blocks.kit import MESSAGE_BYTE_BUDGET, MESSAGE_MAX_BLOCKS, VIEW_BYTE_BUDGET
from bot.blocks.refs import TaskRef
from bot.models import Task, TaskStatus
from bot.standin import limits
from tests.scenario.board_seed import seed_team
from tests.scenario.conftest import ADMIN, MANAGER, MANAGER_W, REP1, REP2, REP_W, REP_ZH, settle
from tests.scenario.helpers import assign, both_teams, button_value, click, east_team, shown_text, task_by_title, task_ids


async def board(driver, user: str, text: str = "") -> dict:
    """Run `/tasks text` and return the ephemeral message it left."""
    reply = await driver.slash("/tasks", text, user=user)
    assert reply.status == 200, reply
    await reply.responses()
    await settle()
    return driver.slack.ephemerals_for(user)[-1]


def nav(message: dict) -> list[str]:
    block = next((b for b in message["blocks"] if b.get("block_id") == "tasks-nav"), None)
    return [e["action_id"] for e in block["elements"]] if block else []


def rep_lines(message: dict) -> list[str]:
    """The rep each group line names, in order."""
    return [re.match(r"\*<@(\w+)>\*", b["text"]["text"]).group(1) for b in message["blocks"]
            if b["type"] == "section" and re.match(r"\*<@\w+>\*", b["text"]["text"])]


def size(blocks: list[dict]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False, separators=(",", ":")).encode())


async def test_a_manager_sees_the_team_grouped_by_rep_and_pages_through_it(driver, slack, db, clock):
    await both_teams(driver)
    today = clock.today(MANAGER)
    titles = {REP1: 7, REP2: 6, REP_ZH: 2}
    for user, n in titles.items():
        for k in range(n):
            await assign(driver, slack, title=f"{user} task {k} <&>", assignees=[user], due=today + timedelta(days=k))
    await assign(driver, slack, title="shared", assignees=[REP1, REP2], due=today + timedelta(days=30))
    await assign(driver, slack, title="west work", assignees=[REP_W], user=MANAGER_W)

    listing = await board(driver, MANAGER)
    assert listing["blocks"][0]["text"]["text"] == "Team board (17 tasks)"  # the shared task under each of its reps
    assert nav(listing) == [ids.TASKS_NEXT]
    assert "&lt;&amp;&gt;" in shown_text(listing["blocks"])  # titles are escaped
    seen, reps = task_ids(listing["blocks"]), rep_lines(listing)
    pages = 1
    while ids.TASKS_NEXT in nav(listing):
        await click(driver, listing, ids.TASKS_NEXT, user=MANAGER)
        listing = slack.find_message(listing["id"])
        assert len(listing["blocks"]) <= MESSAGE_MAX_BLOCKS
        seen += task_ids(listing["blocks"])
        reps += rep_lines(listing)
        pages += 1
    assert pages == 2 and "Page 2 of 2" in shown_text(listing["blocks"])
    shared = (await task_by_title(db, "shared")).id
    assert len(seen) == 17 and seen.count(shared) == 2
    assert (await task_by_title(db, "west work")).id not in seen  # another team's work stays out
    # Reps by name (Ray Rep, Rita Rep, 王小明); the second page names again the rep it continues.
    assert reps[0] == REP1 and reps[-1] == REP_ZH and "(continued)" in shown_text(listing["blocks"])
    assert "2 open · 0 overdue" in shown_text(listing["blocks"])

    # Done on the board redraws the same page of the same board, in place.
    second = task_ids(listing["blocks"])
    await click(driver, listing, ids.TASK_DONE, user=MANAGER, value=button_value(listing["blocks"], ids.TASK_DONE, second[-1]))
    listing = slack.find_message(listing["id"])
    assert listing["blocks"][0]["text"]["text"] == "Team board (16 tasks)"
    assert second[-1] not in task_ids(listing["blocks"])
    boards = [m for m in slack.ephemerals_for(MANAGER) if m["blocks"][0].get("text", {}).get("text", "").startswith("Team board")]
    assert len(boards) == 1


async def test_filters_rep_status_customer_and_due(driver, slack, db, clock):
    await east_team(driver)
    today = clock.today(MANAGER)
    await assign(driver, slack, title="acme call", assignees=[REP1], due=today, new_customer="Acme & Sons")
    await assign(driver, slack, title="later", assignees=[REP1], due=today + timedelta(days=14))
    await assign(driver, slack, title="rita", assignees=[REP2], due=today + timedelta(days=1))
    late = await task_by_title(db, "later")
    async with db.session() as s:
        await s.execute(update(Task).where(Task.id == late.id).values(due_date=today - timedelta(days=3)))

    only_ray = await board(driver, MANAGER, f"<@{REP1}|ray>")
    assert rep_lines(only_ray) == [REP1] and len(task_ids(only_ray["blocks"])) == 2
    overdue = await board(driver, MANAGER, "overdue")
    assert task_ids(overdue["blocks"]) == [late.id]
    assert "1 overdue" in shown_text(overdue["blocks"])
    acme = await board(driver, MANAGER, 'customer:"acme &amp; sons"')  # Slack sends & escaped
    assert task_ids(acme["blocks"]) == [(await task_by_title(db, "acme call")).id]
    week = await board(driver, MANAGER, "due:this-week")
    monday = today - timedelta(days=today.weekday())
    expected = {t for t, d in [("acme call", today), ("rita", today + timedelta(days=1))] if monday <= d < monday + timedelta(days=7)}
    assert {(await task_by_title(db, t)).id for t in expected} == set(task_ids(week["blocks"]))

    rita = await task_by_title(db, "rita")
    async with db.session() as s:
        await s.execute(update(Task).where(Task.id == rita.id).values(status=TaskStatus.CANCELLED))
    cancelled = await board(driver, MANAGER, "cancelled")
    assert task_ids(cancelled["blocks"]) == [rita.id]
    assert rita.id not in task_ids((await board(driver, MANAGER))["blocks"])
    assert len(task_ids((await board(driver, MANAGER, "all"))["blocks"])) == 3


async def test_reps_and_other_teams_are_refused(driver, slack, db, clock):
    await both_teams(driver)
    await assign(driver, slack, title="west work", assignees=[REP_W], user=MANAGER_W)
    refused = await board(driver, REP1)
    assert "for managers and admins" in shown_text(refused["blocks"])
    other = await board(driver, MANAGER, f"<@{REP_W}>")
    assert "is not on your team" in shown_text(other["blocks"]) and not task_ids(other["blocks"])
    wrong = await board(driver, MANAGER, "someday")
    assert "I don't know `someday`" in shown_text(wrong["blocks"])
    # An admin sees every team.
    everyone = await board(driver, ADMIN)
    assert task_ids(everyone["blocks"]) == [(await task_by_title(db, "west work")).id]


async def test_three_hundred_reps_with_30000_open_tasks_fit_at_every_page(driver, slack, db, clock):
    await east_team(driver)
    await seed_team(db, manager_user=MANAGER, reps=300, per_rep=100, today=clock.today(MANAGER))

    listing = await board(driver, MANAGER)
    pages = 3000
    assert listing["blocks"][0]["text"]["text"] == "Team board (30,000 tasks)"

    def check(message: dict, page: int) -> None:
        blocks = message["blocks"]
        assert len(blocks) <= MESSAGE_MAX_BLOCKS and size(blocks) <= MESSAGE_BYTE_BUDGET, (page, len(blocks), size(blocks))
        assert len(task_ids(blocks)) == 10, page  # nothing cut: every task has its page
        assert f"Page {page:,} of {pages:,}" in shown_text(blocks)
        assert "did not fit" not in shown_text(blocks)

    check(listing, 1)
    assert "100 open" in shown_text(listing["blocks"])
    await click(driver, listing, ids.TASKS_NEXT, user=MANAGER)
    listing = slack.find_message(listing["id"])
    check(listing, 2)
    # Far pages: the stored Next button stands for the clicks in between (each page is built the same way).
    for page in (1500, 2999, 3000):
        stored = slack.find_message(listing["id"])
        nav_block = next(b for b in stored["blocks"] if b.get("block_id") == "tasks-nav")
        nxt = next(e for e in nav_block["elements"] if e["action_id"] == ids.TASKS_NEXT)
        ref = TaskRef.decode(nxt["value"])
        nxt["value"] = TaskRef(0, ref.surface, offset=(page - 1) * 10, board=ref.board).encode()
        await click(driver, stored, ids.TASKS_NEXT, user=MANAGER)
        listing = slack.find_message(listing["id"])
        check(listing, page)
    assert nav(listing) == [ids.TASKS_PREV]

    # The manager's Home: a compact line per rep (most overdue first), within the view's limits, pointing to the board.
    started = time.perf_counter()
    await driver.open_home(MANAGER)
    await settle(30)
    elapsed = time.perf_counter() - started
    [call] = [c for c in slack.calls_to("views.publish") if c.args.get("user_id") == MANAGER]
    assert call.ok, call.error
    blocks = slack.home(MANAGER)["view"]["blocks"]
    assert len(blocks) <= 100 and limits.view_size(call.args["view"]) <= VIEW_BYTE_BUDGET + 1000
    text = shown_text(blocks)
    assert "Your team" in text and "Type `/tasks` for the team board" in text
    team_lines = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if re.match(r"<@UB\d{5}> · ", e["text"])]
    # 303 reps (the seeded 300, most overdue, before the East team's own three): the first 300 shown, the board has the rest.
    assert len(team_lines) == 300 and all(line.endswith("100 open · 50 overdue · 35 due this week") for line in team_lines)
    assert "…and 3 more reps: type `/tasks` to see the whole team." in text
    print(f"manager Home with 300 reps and 30,000 open tasks: {elapsed:.2f} s")
