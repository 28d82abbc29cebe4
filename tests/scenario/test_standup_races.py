"""Races on the standup: many submissions of one check-in store one answer; many Mark discussed clicks record one action."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.blocks import ids
from bot.models import CheckIn, MeetingAction
from tests.scenario.conftest import MANAGER, REP1, settle
from tests.scenario.helpers import shown_text
from tests.scenario.test_standup import FRI_SHANGHAI, MON_DIGEST, checkins, digest_top, run_clocks, setup_team

N = 24


async def test_concurrent_answers_store_one_and_concurrent_discussed_clicks_record_one(driver, slack, db, deps, clock):
    await setup_team(driver, slack, db)
    await run_clocks(deps, db, clock, FRI_SHANGHAI, count=1)
    [dm] = checkins(slack, REP1)

    # Two modals opened from the same DM, each submitted many times at once (a double-clicked Save, Slack's retries).
    views = []
    for _ in range(2):
        reply = await driver.click(dm, ids.STANDUP_ANSWER, user=REP1)
        [call] = await slack.wait_for("views.open", lambda c, r=reply: c.args.get("trigger_id") == r.trigger_id)
        views.append(call.response["view"])
    values = {f"{ids.STANDUP_Q_PREFIX}0": "Won Beida", f"{ids.STANDUP_Q_PREFIX}2": "Waiting on pricing approval"}
    replies = await asyncio.gather(*(driver.submit_view(views[i % 2]["id"], user=REP1, values=values) for i in range(N)))
    await settle()
    assert all(r.status == 200 for r in replies)
    async with db.sessionmaker() as s:
        rows = (await s.execute(select(CheckIn))).scalars().all()
    assert [(r.blocker, r.period) for r in rows] == [("Waiting on pricing approval", "2026-W12")]

    await run_clocks(deps, db, clock, MON_DIGEST, count=1)
    top = digest_top(slack)
    assert "Waiting on pricing approval" in shown_text(top["blocks"])
    clicks = await asyncio.gather(*(driver.click(top, ids.AGENDA_DISCUSSED, user=MANAGER, block_id=f"blocker-{rows[0].id}") for _ in range(N)))
    await settle()
    assert all(c.status == 200 for c in clicks)
    async with db.sessionmaker() as s:
        count = (await s.execute(select(func.count()).select_from(MeetingAction))).scalar_one()
        kinds = (await s.execute(select(MeetingAction.kind, MeetingAction.source))).all()
    assert count == 1 and kinds == [("discussed", f"blocker:{rows[0].id}")]
    said = [shown_text(m["blocks"]) for m in slack.ephemerals_for(MANAGER)]
    assert sum("Marked as discussed" in t for t in said) == 1
    assert sum("Already marked" in t for t in said) == N - 1
