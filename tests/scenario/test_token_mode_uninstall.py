"""Token mode (SLACK_BOT_TOKEN) is unchanged by uninstall events: the operator replaces the token."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import OutboxMessage, OutboxStatus, Workspace
from tests.scenario.conftest import REP1, settle
from tests.scenario.helpers import mytasks


async def test_app_uninstalled_in_token_mode_changes_nothing(driver, slack, db, caplog):
    await mytasks(driver, REP1)  # the workspace and its member exist
    reply = await driver.event({"type": "app_uninstalled"})
    assert reply.status == 200
    await settle()
    assert "token mode" in caplog.text
    async with db.sessionmaker() as s:
        assert (await s.execute(select(Workspace.uninstalled_at))).scalars().all() == [None]
        assert (await s.execute(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.CANCELLED))).first() is None
    await mytasks(driver, REP1)  # still served with the configured token
