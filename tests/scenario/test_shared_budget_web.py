"""A web process's DMs (task cards sent in reply to a modal) take slots of the send budget the clocks share (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.deps import Deps
from bot.models import Member, SendBudget, Workspace
from bot.services.sendbudget import channel_scope, workspace_scope
from bot.settings import load_settings
from tests.conftest import PG_URL
from tests.scenario.conftest import BOT_TOKEN, MANAGER, REP1, REP2, SIGNING_SECRET
from tests.scenario.helpers import assign, dm_cards, east_team
from jobs.outbox import SenderConfig, shared_budget_for

pytestmark = pytest.mark.skipif(not PG_URL, reason="the shared send budget lives in PostgreSQL")


@pytest.fixture
async def deps(db, slack, clock):
    """The bot's dependencies as `salesbot run` builds them on PostgreSQL: with the shared send budget."""
    settings = load_settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url)
    d = Deps(settings=settings, db=db, clock=clock)
    d.send_budget = shared_budget_for(db, SenderConfig(), metrics=d.metrics)
    return d


async def test_task_cards_sent_by_the_web_process_are_counted_in_the_shared_budget(driver, slack, db, deps):
    await east_team(driver)
    await assign(driver, slack, title="Call Acme", assignees=[REP1, REP2], user=MANAGER)
    assert len(dm_cards(slack, REP1)) == 1 and len(dm_cards(slack, REP2)) == 1
    async with db.sessionmaker() as s:
        ws = (await s.execute(select(Workspace))).scalar_one()
        rep1 = (await s.execute(select(Member).where(Member.slack_user_id == REP1))).scalar_one()
        budget = {b.scope: b for b in (await s.execute(select(SendBudget))).scalars()}
    # Both cards took a slot of the workspace (the same window, or the next one), and one of REP1's DM channel.
    assert workspace_scope(ws.id) in budget and budget[workspace_scope(ws.id)].used >= 1
    assert channel_scope(ws.id, rep1.dm_channel_id) in budget
    posts = [c for c in slack.calls if c.method == "chat.postMessage"]
    channels_in_budget = {scope.split(":", 2)[2] for scope in budget if scope.startswith("c:")}
    assert {c.args["channel"] for c in posts} <= channels_in_budget
