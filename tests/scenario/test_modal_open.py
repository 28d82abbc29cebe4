"""When Slack cannot open a modal while the trigger lives (5xx, or a 429 whose Retry-After outlasts
the trigger), the member is told to try again, in their language, instead of seeing nothing."""

from __future__ import annotations

import time

from bot.blocks import ids
from tests.scenario.conftest import MANAGER, REP1, REP_ZH, settle
from tests.scenario.helpers import assign, dm_cards, east_team, shown_text

TRIGGER_LIFE = 3.0


async def test_a_rate_limit_longer_than_the_trigger_is_reported_at_once(driver, slack):
    await east_team(driver)
    slack.fail("views.open", status=429, retry_after=30)
    started = time.monotonic()
    reply = await driver.slash("/assign", "", user=MANAGER)
    [response] = await reply.responses(timeout=10)
    assert time.monotonic() - started < TRIGGER_LIFE, "told while the member is still looking"
    assert "Slack could not open the form just now. Please try again." in shown_text(response["blocks"])
    assert response.get("response_type") == "ephemeral"
    assert slack.open_modals() == []
    await settle()


async def test_a_server_error_is_reported_in_the_members_language(driver, slack):
    await east_team(driver)
    slack.fail("views.open", status=500, times=1)
    reply = await driver.slash("/suggest", "", user=REP_ZH)
    [response] = await reply.responses()
    assert "Slack 暂时无法打开表单，请再试一次。" in shown_text(response["blocks"])
    assert slack.open_modals() == []

    # The next try opens the form as usual.
    again = await driver.slash("/suggest", "", user=REP_ZH)
    assert again.status == 200
    await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == again.trigger_id)
    await settle()
    assert len(slack.open_modals(REP_ZH)) == 1


async def test_a_button_that_opens_a_modal_reports_the_failure_beside_the_card(driver, slack):
    await east_team(driver)
    await assign(driver, slack, title="Call Acme", assignees=[REP1])
    [card] = dm_cards(slack, REP1)
    slack.fail("views.open", status=500)
    reply = await driver.click(card, ids.TASK_NOTE, user=REP1)
    assert reply.status == 200
    [response] = await reply.responses()
    assert "Slack could not open the form just now" in shown_text(response["blocks"])
    assert slack.open_modals(REP1) == []
    await settle()


async def test_the_listeners_calls_share_kept_alive_connections(driver, slack):
    """Three forms opened and saved one after another: the bot's Web API calls come on connections it kept, not a new one each."""
    await east_team(driver)
    mark = len(slack.calls)
    for title in ("Call Acme", "Visit Huaxin", "Quote Acme"):
        await assign(driver, slack, title=title, assignees=[REP1])
    calls = [c for c in slack.calls[mark:] if c.path.startswith("/api/")]
    assert {"views.open", "chat.postMessage"} <= {c.method for c in calls} and all(c.peer is not None for c in calls)
    assert len({c.peer for c in calls}) < len(calls) / 2, [(c.method, c.peer) for c in calls]
