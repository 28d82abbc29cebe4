"""The bot's real HTTP server and the Slack stand-in, driven by signed requests."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.deps import Deps
from bot.app import build_app
from bot.server import BotServer, build_web_app, settle_listeners
from bot.settings import load_settings
from bot.standin import SlackDriver, SlackStandIn

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0001"

# People of the test workspace: (user id, name, tz, locale, Slack admin)
ADMIN, MANAGER, REP1, REP2, REP_ZH, OUTSIDER = "UADMIN", "UMGR", "UREP1", "UREP2", "UREPZH", "UOUT"
# A second team ("West") with its own manager and rep.
MANAGER_W, REP_W = "UMGRW", "UREPW"
PEOPLE = [
    (ADMIN, "Ada Admin", "Europe/London", "en-GB", True),
    (MANAGER, "Mia Manager", "Asia/Shanghai", "en-US", False),
    (REP1, "Ray Rep", "Asia/Shanghai", "en-US", False),
    (REP2, "Rita Rep", "America/New_York", "en-US", False),
    (REP_ZH, "王小明", "Asia/Shanghai", "zh-CN", False),
    (OUTSIDER, "Otto Outsider", "UTC", "en-US", False),
    (MANAGER_W, "Walt Westman", "Asia/Shanghai", "en-US", False),
    (REP_W, "Wendy West", "Asia/Shanghai", "en-US", False),
]
TZ = {user_id: tz for user_id, _name, tz, _locale, _admin in PEOPLE}

# The bot's clock starts here: 10:00 on 10 March in Shanghai, still 9 March (22:00) in New York.
START = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)


class Clock:
    """The bot's notion of now, moved by tests instead of waiting for real days to pass."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward (days=, hours=, …)."""
        self.now += timedelta(**delta)

    def today(self, user_id: str = MANAGER) -> date:
        """The local date of a member of the test workspace."""
        return self.now.astimezone(ZoneInfo(TZ[user_id])).date()


async def settle(timeout: float = 5.0) -> None:
    """Wait for the work listeners do after their ack (it runs in background tasks)."""
    assert await settle_listeners(timeout), "listener work did not finish"


@pytest.fixture
def clock() -> Clock:
    """The bot's clock, fixed at START until a test moves it."""
    return Clock(START)


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


class ErrorLog(logging.Handler):
    """Collects ERROR records: a listener that fails logs one, even when the user saw a reply."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._allowed: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def allow(self, *fragments: str) -> None:
        """Accept errors whose message contains a fragment (for scenarios that break things on purpose)."""
        self._allowed.extend(fragments)

    def unexpected(self) -> list[str]:
        """Formatted records no `allow` call accepted."""
        out = []
        for record in self.records:
            message = record.getMessage()
            if not any(fragment in message for fragment in self._allowed):
                out.append(logging.Formatter("%(name)s: %(message)s").format(record))
        return out


@pytest.fixture
def logged_errors():
    """Errors logged during the scenario; the check below fails on any a test did not allow."""
    collector = ErrorLog()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield collector
    finally:
        root.removeHandler(collector)


@pytest.fixture(autouse=True)
async def slack_accepted_everything(slack, logged_errors):
    """Every scenario ends with no payload Slack would reject and no unexpected listener failure."""
    yield
    await settle()
    assert slack.rejected_calls() == [], slack.summary()
    unexpected = logged_errors.unexpected()
    assert unexpected == [], "\n".join(unexpected)


@pytest.fixture
async def deps(db, slack, clock):
    """The bot's dependencies, pointed at the stand-in and the test database."""
    settings = load_settings(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url,
    )
    return Deps(settings=settings, db=db, clock=clock)


@pytest.fixture
async def bot(deps, db):
    """The bot's real HTTP server on a free loopback port, counting into the same metrics as its listeners and jobs."""
    server = BotServer(build_web_app(build_app(deps), db, signing_secret=SIGNING_SECRET, metrics=deps.metrics), host="127.0.0.1", port=0)
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
