"""What an operator scrapes: /metrics moves with real traffic and sends, /readyz says whether the database is usable."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from urllib.parse import urlencode

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import build_app
from bot.blocks import ids
from bot.db import Database
from bot.deps import Deps
from bot.metrics import Metrics
from bot.models import OutboxStatus, Workspace
from bot.server import BotServer, build_ops_app, build_web_app
from bot.services.outbox import Post
from jobs.outbox import SenderConfig
from jobs.scheduler import build_clockwork
from tests.scenario.conftest import ADMIN, REP1, REP2, SIGNING_SECRET, settle
from tests.scenario.helpers import assign, dm_cards, east_team

FAST = SenderConfig(per_channel_per_sec=20, workspace_per_min=60000, workspace_burst=50, backoff_base=0.05, poll_seconds=0.05)


def running(deps: Deps) -> Deps:
    """The same dependencies and metrics on the real clock, so a retry's backoff comes due."""
    return Deps(settings=deps.settings, db=deps.db, i18n=deps.i18n, metrics=deps.metrics)


def url(server: BotServer, path: str) -> str:
    return server.url.replace("/slack/events", path)


async def scrape(target: str, *, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple], float]:
    """GET /metrics and parse it: (sample name, sorted labels) -> value."""
    async with aiohttp.ClientSession() as http:
        async with http.get(target, headers=headers or {}) as res:
            assert res.status == 200, await res.text()
            assert res.headers["Content-Type"].startswith("text/plain")
            text = await res.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def get_json(target: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(target) as res:
            return res.status, await res.json()


async def test_requests_are_counted_by_kind_and_outcome_with_their_ack_time(driver, slack, bot):
    before = await scrape(url(bot, "/metrics"))
    assert value(before, "salesbot_requests_total", kind="command", outcome="ok") == 0

    await east_team(driver)  # four /salesbot team add commands
    await assign(driver, slack, title="Call Acme", assignees=[REP1])  # /assign, then the modal's submission
    [card] = dm_cards(slack, REP1)
    assert (await driver.click(card, ids.TASK_DONE, user=REP1)).status == 200
    assert (await driver.open_home(REP2)).status == 200
    await settle()

    # A replayed command and an unsigned one are answered, and counted apart from the real ones.
    body = urlencode({
        "team_id": slack.team_id, "channel_id": "C0GENERAL", "user_id": ADMIN, "command": "/salesbot", "text": "help",
        "api_app_id": slack.api_app_id, "response_url": slack.new_response_url(channel="C0GENERAL", user=ADMIN),
        "trigger_id": slack.new_trigger_id(user=ADMIN),
    })
    headers = driver.signed_headers(body)
    assert (await driver.send_raw(body, headers)).status == 200
    await settle()
    assert (await driver.send_raw(body, headers)).status == 200
    assert (await driver.send_raw(body, {**headers, "X-Slack-Signature": "v0=forged"})).status == 401
    junk = "{not json"
    assert (await driver.send_raw(junk, driver.signed_headers(junk))).status == 400
    await settle()

    after = await scrape(url(bot, "/metrics"))
    commands = value(after, "salesbot_requests_total", kind="command", outcome="ok")
    assert commands == 4 + 1 + 1
    assert value(after, "salesbot_requests_total", kind="view", outcome="ok") >= 1
    assert value(after, "salesbot_requests_total", kind="action", outcome="ok") >= 1
    assert value(after, "salesbot_requests_total", kind="event", outcome="ok") >= 1
    assert value(after, "salesbot_requests_total", kind="command", outcome="repeat") == 1
    assert value(after, "salesbot_requests_total", kind="unknown", outcome="unauthorized") == 1
    assert value(after, "salesbot_requests_total", kind="unknown", outcome="malformed") == 1
    # Every command answered is in the histogram, each well inside Slack's 3 s.
    assert value(after, "salesbot_ack_seconds_count", kind="command") == commands + 1
    assert value(after, "salesbot_ack_seconds_bucket", kind="command", le="3.0") == commands + 1
    assert 0 < value(after, "salesbot_ack_seconds_sum", kind="command") < 3 * (commands + 1)


async def test_ticks_sends_outcomes_budget_waits_and_outbox_depth(driver, slack, db, deps, bot):
    await east_team(driver)
    async with db.sessionmaker() as s:
        workspace_id = (await s.execute(select(Workspace.id))).scalar_one()

    async def hello(deps, session, *, now):
        """Two DMs to one rep (the second waits for the channel's budget) and one to another."""
        return [
            Post(workspace_id=workspace_id, key=f"hello:{who}:{n}", job="hello", channel=who, text=f"Hello {n}", blocks=[], not_before=now)
            for who, n in ((REP1, 1), (REP1, 2), (REP2, 1))
        ]

    # One post a second per channel: REP1's second DM waits whatever the budget (in-process, or shared on PostgreSQL).
    clockwork = build_clockwork(running(deps), config=dataclasses.replace(FAST, per_channel_per_sec=1), jobs={"hello": hello}, tick_seconds=3600)
    slack.fail("chat.postMessage", status=429, retry_after=0, times=1)
    slack.fail("chat.postMessage", status=500, times=1)
    assert await clockwork.tick("hello") == 3
    assert await clockwork.tick("hello") == 0  # the same posts again: nothing new
    counts = await asyncio.wait_for(clockwork.sender.deliver(["hello:UREP1:1", "hello:UREP1:2", "hello:UREP2:1"]), 30)
    assert counts == {OutboxStatus.SENT: 3}

    samples = await scrape(url(bot, "/metrics"))
    assert value(samples, "salesbot_scheduler_ticks_total", job="hello", outcome="ok") == 2
    assert value(samples, "salesbot_scheduler_posts_enqueued_total", job="hello") == 3
    assert value(samples, "salesbot_sends_total", outcome="sent") == 3
    assert value(samples, "salesbot_sends_total", outcome="429") == 1
    assert value(samples, "salesbot_sends_total", outcome="5xx") == 1
    assert value(samples, "salesbot_sends_total", outcome="dead") == 0
    assert value(samples, "salesbot_budget_waits_total") >= 1
    assert value(samples, "salesbot_budget_wait_seconds_total") > 0
    assert ("salesbot_outbox_rows", (("status", "sent"),)) not in samples  # settled rows are not depth
    assert value(samples, "salesbot_outbox_rows", status="pending") == 0
    assert value(samples, "salesbot_database_up") == 1


async def test_a_post_slack_keeps_refusing_is_counted_dead(driver, slack, db, deps, bot, logged_errors):
    logged_errors.allow("is dead after")
    await east_team(driver)
    async with db.sessionmaker() as s:
        workspace_id = (await s.execute(select(Workspace.id))).scalar_one()

    async def once(deps, session, *, now):
        """One post to a channel."""
        return [Post(workspace_id=workspace_id, key="once:C0GENERAL", job="once", channel="C0GENERAL", text="Hi", blocks=[], not_before=now)]

    config = SenderConfig(per_channel_per_sec=20, workspace_per_min=60000, workspace_burst=50, backoff_base=0.01, poll_seconds=0.05, max_attempts=2)
    clockwork = build_clockwork(running(deps), config=config, jobs={"once": once}, tick_seconds=3600)
    slack.fail("chat.postMessage", status=500, times=2)
    await clockwork.tick("once")
    assert await asyncio.wait_for(clockwork.sender.deliver(["once:C0GENERAL"]), 30) == {OutboxStatus.DEAD: 1}
    await settle()
    samples = await scrape(url(bot, "/metrics"))
    assert value(samples, "salesbot_sends_total", outcome="5xx") == 2
    assert value(samples, "salesbot_sends_total", outcome="dead") == 1
    assert value(samples, "salesbot_outbox_rows", status="dead") == 1
    # The admins' notice about it is queued, waiting for the sender.
    assert value(samples, "salesbot_outbox_rows", status="pending") >= 1


async def test_two_apps_in_one_process_count_apart(deps, bot, driver):
    other = Deps(settings=deps.settings, db=deps.db, clock=deps.clock)
    assert other.metrics.registry is not deps.metrics.registry
    await driver.slash("/salesbot", "help", user=ADMIN)
    await settle()
    other.metrics.request("command", "ok", 0.01)
    other.metrics.request("command", "ok", 0.01)
    samples = await scrape(url(bot, "/metrics"))
    assert value(samples, "salesbot_requests_total", kind="command", outcome="ok") == 1


async def test_metrics_need_the_bearer_token_when_one_is_set(deps, db):
    server = BotServer(build_web_app(build_app(deps), db, signing_secret=SIGNING_SECRET, metrics=deps.metrics, metrics_token="s3cret-scrape"), host="127.0.0.1", port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-scrape"}):
                async with http.get(url(server, "/metrics"), headers=headers) as res:
                    assert res.status == 401
                    assert "salesbot_" not in await res.text()
            async with http.get(url(server, "/healthz")) as res:
                assert res.status == 200  # the probes stay open
        samples = await scrape(url(server, "/metrics"), headers={"Authorization": "Bearer s3cret-scrape"})
        assert value(samples, "salesbot_database_up") == 1
    finally:
        await server.stop()


async def test_the_clocks_metrics_port_serves_its_ticks(deps, db):
    """A clock process has no Slack server: SALESBOT_METRICS_PORT serves its metrics and probes alone."""

    async def nothing(deps, session, *, now):
        """Nothing is due."""
        return []

    clockwork = build_clockwork(deps, config=FAST, jobs={"quiet": nothing}, tick_seconds=3600)
    await clockwork.tick("quiet")
    server = BotServer(build_ops_app(db, deps.metrics), host="127.0.0.1", port=0)
    await server.start()
    try:
        samples = await scrape(url(server, "/metrics"))
        assert value(samples, "salesbot_scheduler_ticks_total", job="quiet", outcome="ok") == 1
        assert value(samples, "salesbot_outbox_rows", status="pending") == 0
        assert await get_json(url(server, "/readyz")) == (200, {"ok": True})
        assert value(samples, "salesbot_scheduler_ticking") == 0
        clockwork.start()
        try:
            assert value(await scrape(url(server, "/metrics")), "salesbot_scheduler_ticking") == 1
        finally:
            await clockwork.stop()
        assert value(await scrape(url(server, "/metrics")), "salesbot_scheduler_ticking") == 0
        async with aiohttp.ClientSession() as http:
            async with http.post(url(server, "/slack/events"), data=b"{}") as res:
                assert res.status in (404, 405)  # no Slack endpoint on the clock's port
    finally:
        await server.stop()


async def test_the_clock_serves_metrics_only_when_a_port_is_set(deps, db):
    from bot.cli import _serve_ops
    from bot.settings import ConfigError, load_settings

    assert await _serve_ops(load_settings(DATABASE_URL=db.url), deps) is None
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"SALESBOT_METRICS_PORT {port} cannot be used"):
            await _serve_ops(load_settings(DATABASE_URL=db.url, SALESBOT_METRICS_PORT=str(port)), deps)
    server = await _serve_ops(load_settings(DATABASE_URL=db.url, SALESBOT_METRICS_PORT=str(port), SALESBOT_METRICS_TOKEN="tok"), deps)
    try:
        samples = await scrape(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer tok"})
        assert value(samples, "salesbot_database_up") == 1
    finally:
        await server.stop()


async def test_readyz_is_200_on_a_migrated_database(bot):
    assert await get_json(url(bot, "/readyz")) == (200, {"ok": True})


async def test_readyz_is_503_when_migrations_are_behind(deps, tmp_path):
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    server = BotServer(build_web_app(build_app(deps), empty, signing_secret=SIGNING_SECRET, metrics=Metrics()), host="127.0.0.1", port=0)
    await server.start()
    try:
        status, answer = await get_json(url(server, "/readyz"))
        assert status == 503 and answer["ok"] is False and "migrations" in answer["reason"]
        # Liveness is another question: the process and the file answer.
        assert (await get_json(url(server, "/healthz")))[0] == 200
    finally:
        await server.stop()
        await empty.dispose()


@pytest.mark.parametrize("dead_url", ["sqlite+aiosqlite:////nonexistent-dir/salesbot.db", "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"])
async def test_readyz_is_503_when_the_database_is_unreachable_and_metrics_say_so(deps, dead_url):
    dead = Database(dead_url)
    metrics = Metrics()
    metrics.outbox_rows.labels("pending").set(7)  # a figure from before the outage must not linger
    server = BotServer(build_ops_app(dead, metrics), host="127.0.0.1", port=0)
    await server.start()
    try:
        assert await get_json(url(server, "/readyz")) == (503, {"ok": False, "reason": "database unreachable"})
        samples = await scrape(url(server, "/metrics"))
        assert value(samples, "salesbot_database_up") == 0
        assert not [k for k in samples if k[0] == "salesbot_outbox_rows"]
    finally:
        await server.stop()
        await dead.dispose()
