"""The bot's real HTTP server and the Slack stand-in, driven by signed requests."""

from __future__ import annotations

import os

import pytest

from bot.app import Deps, build_app
from bot.server import BotServer, build_web_app, settle_listeners
from bot.settings import load_settings
from bot.standin import SlackDriver, SlackStandIn

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0001"

# People of the test workspace: (user id, name, tz, locale, Slack admin)
ADMIN, MANAGER, REP1, REP2, REP_ZH, OUTSIDER = "UADMIN", "UMGR", "UREP1", "UREP2", "UREPZH", "UOUT"
PEOPLE = [
    (ADMIN, "Ada Admin", "Europe/London", "en-GB", True),
    (MANAGER, "Mia Manager", "Asia/Shanghai", "en-US", False),
    (REP1, "Ray Rep", "Asia/Shanghai", "en-US", False),
    (REP2, "Rita Rep", "America/New_York", "en-US", False),
    (REP_ZH, "王小明", "Asia/Shanghai", "zh-CN", False),
    (OUTSIDER, "Otto Outsider", "UTC", "en-US", False),
]


async def settle(timeout: float = 5.0) -> None:
    """Wait for the work listeners do after their ack (it runs in background tasks)."""
    assert await settle_listeners(timeout), "listener work did not finish"


@pytest.fixture
async def slack():
    """The Slack stand-in with the test workspace's people."""
    stand_in = SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM, trigger_ttl=float(os.environ.get("TRIGGER_TTL", "3.0")))
    for user_id, name, tz, locale, admin in PEOPLE:
        stand_in.add_user(user_id, name=name, tz=tz, locale=locale, is_admin=admin)
    await stand_in.start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


@pytest.fixture
async def deps(db, slack):
    """The bot's dependencies, pointed at the stand-in and the test database."""
    settings = load_settings(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url,
    )
    return Deps(settings=settings, db=db)


@pytest.fixture
async def bot(deps, db):
    """The bot's real HTTP server on a free loopback port."""
    server = BotServer(build_web_app(build_app(deps), db), host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server
    finally:
        await settle()
        await server.stop()


@pytest.fixture
async def driver(bot, slack):
    """Sends what Slack sends, signed with the app's secret."""
    async with SlackDriver(bot_url=bot.url, signing_secret=SIGNING_SECRET, slack=slack) as d:
        yield d
