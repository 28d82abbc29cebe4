"""Text people type is shown literally everywhere: it never pings, links or formats by accident."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.models import Customer, SalesTeam
from bot.blocks import ids
from tests.scenario.conftest import ADMIN, MANAGER, REP1, REP2, REP_W, settle
from tests.scenario.helpers import (
    add_to_roster, all_tasks, click, dm_cards, east_team, mrkdwn_texts, mytasks, open_assign, salesbot,
    shown_text,
)

TITLE = "<!channel> & <@U1>"
SHOWN = "&lt;!channel&gt; &amp; &lt;@U1&gt;"
# What Slack sends when someone types TITLE into a slash command.
TYPED = "&lt;!channel&gt; &amp; &lt;@U1&gt;"
MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"}


def texts_of(call) -> list[str]:
    """Everything Slack would read as mrkdwn in one recorded call: block texts and a message's top-level text."""
    out = list(mrkdwn_texts(call.args))
    if call.method in MESSAGE_METHODS and isinstance(call.args.get("text"), str):
        out.append(call.args["text"])
    return out


async def test_a_hostile_title_pings_nobody_anywhere(driver, slack, db, clock):
    await east_team(driver)
    await add_to_roster(driver, f"team add <@{REP_W}> rep team:R&amp;D region:&lt;North&gt;")

    reply, view = await open_assign(driver, slack, f"<@{REP1}> <@{REP2}> {TYPED}")
    title_input = next(b for b in view["blocks"] if b["block_id"] == ids.ASSIGN_TITLE)
    assert title_input["element"]["initial_value"] == TITLE  # plain text: shown as typed
    answer = await driver.submit_view(view["id"], user=MANAGER, values={
        ids.ASSIGN_NEW_CUSTOMER: "<!here> Corp & Co",
        ids.ASSIGN_DETAILS: "<!everyone> read this\n> not a quote & <https://evil.example|a link>",
        ids.ASSIGN_DUE: (clock.today(MANAGER) + timedelta(days=1)).isoformat(),
    })
    assert not answer.body
    await settle()
    [task] = await all_tasks(db)
    assert task.title == TITLE  # stored as typed, escaped only on the way out
    async with db.session() as s:
        assert (await s.execute(select(Customer.name))).scalar_one() == "<!here> Corp & Co"
        assert set((await s.execute(select(SalesTeam.name))).scalars()) == {"East", "R&D"}

    # Every surface the task reaches: cards, confirmation, list, buttons, note, Homes, history.
    [card] = dm_cards(slack, REP1)
    assert f"*{SHOWN}*" in shown_text(card["blocks"]) and card["text"] == f"Task: {SHOWN}"
    assert ":office: &lt;!here&gt; Corp &amp; Co" in shown_text(card["blocks"])
    [confirmation] = await reply.responses()
    assert f"*{SHOWN}* →" in shown_text(confirmation["blocks"])

    listing = await mytasks(driver, REP1)
    assert SHOWN in shown_text(listing["blocks"])
    await click(driver, listing, ids.TASK_START, user=REP1)
    note_click = await click(driver, slack.find_message(listing["id"]), ids.TASK_NOTE, user=REP1)
    [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == note_click.trigger_id)
    assert f"Task: *{SHOWN}*" in shown_text(opened.response["view"]["blocks"])
    await driver.submit_view(opened.response["view"]["id"], user=REP1, values={ids.NOTE_TEXT: "<!channel> call me"})
    await settle()
    assert f"Note added to *{SHOWN}*" in shown_text(slack.ephemerals_for(REP1)[-1]["blocks"])

    for user in (REP1, REP2):
        await driver.open_home(user)
    await settle()  # those Homes are drawn before the clock moves on
    clock.advance(days=3)
    await driver.open_home(MANAGER)  # the team's overdue list names the task
    await settle()
    assert SHOWN in shown_text(slack.home(MANAGER)["view"]["blocks"])
    card = dm_cards(slack, REP2)[0]
    await click(driver, card, ids.TASK_DONE, user=REP2)
    assert SHOWN in shown_text((await mytasks(driver, REP2, "done"))["blocks"])

    # Typed words echoed in hints, and roster names, are escaped exactly once.
    assert "I don't know `&lt;!channel&gt;`" in shown_text((await mytasks(driver, REP1, "&lt;!channel&gt;"))["blocks"])
    bad_role = await salesbot(driver, f"team add <@{REP1}> &lt;!here&gt;", user=ADMIN)
    assert "`&lt;!here&gt;` is not a role" in shown_text(bad_role["blocks"])
    listing = shown_text((await salesbot(driver, "team", user=ADMIN))["blocks"])
    assert "*R&amp;D* (1)" in listing and " · &lt;North&gt; · " in listing

    # Now read every payload the bot sent.
    seen: Counter[str] = Counter()
    for call in slack.calls:
        for text in texts_of(call):
            assert "<!" not in text, (call.method, text)
            assert "<@U1>" not in text and "<https://evil" not in text, (call.method, text)
            assert "&amp;lt;" not in text and "&amp;amp;" not in text and "&amp;gt;" not in text, (call.method, text)
            if SHOWN in text:
                seen[call.method] += 1
    assert {"chat.postMessage", "response_url", "views.publish", "views.open"} <= set(seen), seen
    top_level = [c.args["text"] for c in slack.calls if c.method in MESSAGE_METHODS and SHOWN in c.args.get("text", "")]
    assert top_level, "the escaped title also reaches notification texts"
