"""`/suggest`: the modal stores the suggestion (no author when anonymous); a manager decides; the author is told."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import Suggestion, SuggestionStatus
from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP2
from tests.scenario.helpers import click, dm_cards, east_team, shown_text


async def suggest(driver, slack, *, user, text, anonymous=False):
    reply = await driver.slash("/suggest", "", user=user)
    assert reply.status == 200
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    values = {ids.SUGGEST_TEXT: text, ids.SUGGEST_ANONYMOUS: ["anonymous"] if anonymous else []}
    submitted = await driver.submit_view(call.response["view"]["id"], user=user, values=values)
    assert submitted.status == 200 and not submitted.body, submitted.body
    [thanks] = await reply.responses()
    return thanks


async def suggestions(db) -> list[Suggestion]:
    async with db.session() as s:
        return list((await s.execute(select(Suggestion).order_by(Suggestion.id))).scalars())


async def test_suggest_then_manager_decides_and_author_is_told(driver, slack, db):
    await east_team(driver)
    thanks = await suggest(driver, slack, user=REP1, text="Share <b>call scripts</b> & objections")
    assert "Thank you" in thanks["text"]
    await suggest(driver, slack, user=REP2, text="Fewer status meetings", anonymous=True)
    named, anonymous = await suggestions(db)
    assert named.author_id is not None and named.text == "Share <b>call scripts</b> & objections"
    assert anonymous.author_id is None and anonymous.team_id == named.team_id

    listed = await driver.slash("/suggest", "list", user=MANAGER)
    [page] = await listed.responses()
    message = slack.ephemerals_for(MANAGER)[-1]
    assert "&lt;b&gt;call scripts&lt;/b&gt; &amp; objections" in shown_text(message["blocks"])
    assert f"<@{REP2}>" not in shown_text(message["blocks"])
    await click(driver, message, ids.SUGGEST_PLANNED, user=MANAGER, value=str(named.id))
    await click(driver, slack.ephemerals_for(MANAGER)[-1], ids.SUGGEST_DECLINED, user=MANAGER, value=str(anonymous.id))
    named, anonymous = await suggestions(db)
    assert (named.status, anonymous.status) == (SuggestionStatus.PLANNED, SuggestionStatus.DECLINED)
    [told] = dm_cards(slack, REP1)
    assert "planned" in shown_text(told["blocks"]) and f"<@{MANAGER}>" in shown_text(told["blocks"])
    assert dm_cards(slack, REP2) == [], "an anonymous author cannot be told"
    assert "No new suggestions" in shown_text(slack.ephemerals_for(MANAGER)[-1]["blocks"])
    assert slack.rejected_calls() == []


async def test_reps_cannot_list_or_decide(driver, slack, db):
    await east_team(driver)
    reply = await driver.slash("/suggest", "list", user=REP1)
    [answer] = await reply.responses()
    assert "Only managers" in shown_text(answer["blocks"])
    assert slack.rejected_calls() == []
