"""Two workspaces install by OAuth through the stand-in; each is served with its own token; A uninstalls, then is deleted."""

from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.models import OutboxMessage, OutboxStatus, SlackInstallation, Workspace
from bot.services.workspaces import deletion_plan
from bot.settings import load_settings
from bot.standin import SlackDriver
from jobs.outbox import SenderConfig
from jobs.registry import load_jobs
from jobs.scheduler import build_clockwork
from tests.scenario.conftest import ADMIN, MANAGER, REP1, SIGNING_SECRET, TEAM, settle
from tests.scenario.helpers import add_to_roster, assign, salesbot

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret"
STATE_SECRET = "oauth-state-secret-0123456789"
COOKIE = "slack-app-oauth-state"
FAST = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)

# Workspace B: its own people and channel.
TEAM_B = "T0002"
ADMIN_B, MANAGER_B, REP_B = "UADMINB", "UMGRB", "UREPB"
CHANNEL_B = "C0GENERALB"


@pytest.fixture
async def deps(db, slack, clock):
    """OAuth mode: no bot token configured, the client id and secrets instead; workspace B beside A."""
    slack.add_workspace(TEAM_B, name="Beta Trading")
    slack.add_user(ADMIN_B, name="Bea Admin", tz="Asia/Shanghai", is_admin=True, team_id=TEAM_B)
    slack.add_user(MANAGER_B, name="Bo Manager", tz="Asia/Shanghai", team_id=TEAM_B)
    slack.add_user(REP_B, name="Bill Rep", tz="Asia/Shanghai", team_id=TEAM_B)
    slack.add_channel(CHANNEL_B, name="general", team_id=TEAM_B)
    settings = load_settings(
        SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url, DATABASE_URL=db.url,
        SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET, SLACK_STATE_SECRET=STATE_SECRET,
    )
    assert settings.oauth_enabled and settings.slack_bot_token is None
    return Deps(settings=settings, db=db, clock=clock)


@pytest.fixture
def site(bot, slack) -> str:
    """The bot's root URL; the stand-in's app sends installers back to its redirect path."""
    root = bot.url.rsplit("/slack/events", 1)[0]
    slack.enable_oauth(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_url=f"{root}/slack/oauth_redirect")
    return root


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def add_to_slack(http: aiohttp.ClientSession, site: str) -> tuple[str, str]:
    """Open the install page: the Add to Slack link and the state cookie it set."""
    async with http.get(f"{site}/slack/install") as res:
        assert res.status == 200
        page = await res.text()
        state = res.cookies[COOKIE].value
    [link] = re.findall(r'<a href="([^"]+)"', page)
    return html.unescape(link), state


async def finish(http: aiohttp.ClientSession, redirect: str, state: str | None) -> tuple[int, str]:
    """Follow Slack's redirect back to the bot, from the browser that holds the cookie."""
    headers = {"Cookie": f"{COOKIE}={state}"} if state else {}
    async with http.get(redirect, headers=headers, allow_redirects=False) as res:
        return res.status, await res.text()


async def install(http, site, slack, *, team_id: str, user: str) -> str:
    """The whole install: install page, Allow on Slack's authorize page, the redirect; returns the workspace's token."""
    link, state = await add_to_slack(http, site)
    assert link.startswith(slack.base_url + "/oauth/v2/authorize?") and "client_id=1111.2222" in link
    assert f"state={state}" in link and "scope=commands,chat:write," in link
    status, page = await finish(http, slack.approve(link, team_id=team_id, user=user), state)
    assert status == 200 and "salesbot is installed" in page, page
    token = slack.token_of(team_id)
    assert token is not None
    return token


async def installations(db) -> dict[str, str]:
    async with db.sessionmaker() as s:
        return dict((await s.execute(select(SlackInstallation.team_id, SlackInstallation.bot_token))).all())


def calls_about(slack, team_id: str):
    return [c for c in slack.calls if c.token is not None and (c.about or c.team) == team_id]


async def test_two_workspaces_install_are_served_with_their_own_tokens_and_a_leaves(driver, slack, db, deps, clock, site, http, salesbot_cli, logged_errors):
    token_a = await install(http, site, slack, team_id=TEAM, user=ADMIN)
    token_b = await install(http, site, slack, team_id=TEAM_B, user=ADMIN_B)
    assert token_a != token_b
    assert await installations(db) == {TEAM: token_a, TEAM_B: token_b}
    # Bolt learnt each bot's id with auth.test on the token just issued.
    assert {c.token for c in slack.calls_to("auth.test")} == {token_a, token_b}

    driver_b = SlackDriver(bot_url=driver.bot_url, signing_secret=SIGNING_SECRET, slack=slack, team_id=TEAM_B)
    async with driver_b:
        # Each workspace builds its roster and assigns a task: commands, a modal, a DM card.
        await add_to_roster(driver, f"team add <@{MANAGER}> manager team:East", f"team add <@{REP1}> rep team:East")
        for line in (f"team add <@{MANAGER_B}> manager team:Beta", f"team add <@{REP_B}> rep team:Beta"):
            reply = await driver_b.slash("/salesbot", line, user=ADMIN_B, channel=CHANNEL_B)
            [response] = await reply.responses()
            assert ":white_check_mark:" in response["text"], response
        today = clock.today(REP1)
        await assign(driver, slack, title="Call Huaxin", assignees=[REP1], due=today)
        await assign(driver_b, slack, title="Visit Beta's client", assignees=[REP_B], due=today, user=MANAGER_B)
        await settle()

        # Every call about a workspace carried that workspace's token (the stand-in refuses any other).
        assert calls_about(slack, TEAM) and calls_about(slack, TEAM_B)
        assert {c.token for c in calls_about(slack, TEAM)} == {token_a}
        assert {c.token for c in calls_about(slack, TEAM_B)} == {token_b}
        assert all(c.about in (None, c.team) for c in slack.calls if c.token), "a token spoke for another workspace"
        # The commands' first sight of each admin asked Slack for the profile with that workspace's token.
        assert {c.token for c in slack.calls_to("users.info") if c.args.get("user") == ADMIN} == {token_a}
        assert {c.token for c in slack.calls_to("users.info") if c.args.get("user") == ADMIN_B} == {token_b}

        # The morning tick composes both workspaces' DMs; nothing is sent yet.
        clockwork = build_clockwork(deps, config=FAST, jobs=load_jobs(["daily"]))
        assert await clockwork.tick("daily") == 2
        async with db.sessionmaker() as s:
            ws = dict((await s.execute(select(Workspace.slack_team_id, Workspace.id))).all())

        async def outbox() -> dict[str, list[OutboxStatus]]:
            async with db.sessionmaker() as s:
                found = (await s.execute(select(OutboxMessage.workspace_id, OutboxMessage.status).order_by(OutboxMessage.id))).all()
            return {team: [st for w, st in found if w == ws[team]] for team in (TEAM, TEAM_B)}

        assert await outbox() == {TEAM: [OutboxStatus.PENDING], TEAM_B: [OutboxStatus.PENDING]}

        # A removes the app: Slack revokes A's token and sends app_uninstalled.
        slack.uninstall(TEAM)
        revoked_at = time.monotonic()
        reply = await driver.event({"type": "app_uninstalled"})
        assert reply.status == 200
        await settle()
        assert await installations(db) == {TEAM_B: token_b}
        assert await outbox() == {TEAM: [OutboxStatus.CANCELLED], TEAM_B: [OutboxStatus.PENDING]}

        # The sender delivers B's post with B's token; the next morning's tick composes for B only.
        sent = await clockwork.sender.deliver(await _keys(db))
        assert sent == {OutboxStatus.CANCELLED: 1, OutboxStatus.SENT: 1}
        clock.advance(days=1)
        assert await clockwork.tick("daily") == 1
        assert await outbox() == {TEAM: [OutboxStatus.CANCELLED], TEAM_B: [OutboxStatus.SENT, OutboxStatus.PENDING]}
        posted = [c for c in slack.calls_to("chat.postMessage") if c.about == TEAM_B]
        assert posted and {c.token for c in posted} == {token_b}

        # A's members are no longer served: Bolt finds no installation and answers with its apology.
        logged_errors.allow("the AuthorizeResult (returned value from authorize) for it was not found")
        refused = await driver.slash("/mytasks", "", user=REP1)
        assert refused.status == 200
        [apology] = await refused.responses()
        assert "no longer installed" in apology["text"] and "已不再安装" in apology["text"]
        assert deps.metrics.registry.get_sample_value("salesbot_requests_total", {"kind": "command", "outcome": "not_installed"}) == 1
        assert not [c for c in slack.calls if c.token == token_a and c.at > revoked_at], "A's revoked token was used"

        # B keeps working.
        response = await salesbot(driver_b, "help", user=MANAGER_B)
        assert response["text"]

    # The admin deletes A's data: no row of A is left in any table, B's rows are all there.
    before_b = await _rows_of(db, ws[TEAM_B])
    before_a = await _rows_of(db, ws[TEAM])
    assert sum(before_a.values()) > 5 and before_a["task_assignee"] and before_a["outbox"] and before_a["member"]
    result = await asyncio.to_thread(salesbot_cli, "workspace", "delete", TEAM, env={"DATABASE_URL": db.url})
    assert result.returncode == 0, result.stderr
    assert f"workspace {TEAM} deleted: {sum(before_a.values())} rows" in result.stdout
    after_a = await _rows_of(db, ws[TEAM])
    assert set(after_a) == {t.name for t, _ in deletion_plan(ws[TEAM])}
    assert sum(after_a.values()) == 0, after_a
    assert await _rows_of(db, ws[TEAM_B]) == before_b
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Workspace).where(Workspace.slack_team_id == TEAM))).scalar_one() == 0


async def _keys(db) -> list[str]:
    async with db.sessionmaker() as s:
        return list((await s.execute(select(OutboxMessage.key))).scalars())


async def _rows_of(db, workspace_id: int) -> dict[str, int]:
    """Rows per table that belong to the workspace, by the same paths the deletion follows."""
    out = {}
    async with db.sessionmaker() as s:
        for table, cond in deletion_plan(workspace_id):
            out[table.name] = (await s.execute(select(func.count()).select_from(table).where(cond))).scalar_one()
    return out


async def test_forged_replayed_and_foreign_browser_states_are_refused(driver, slack, db, site, http):
    link, state = await add_to_slack(http, site)
    redirect = slack.approve(link, team_id=TEAM, user=ADMIN)
    # A state the app never issued, even with a matching cookie: refused before the code is used.
    forged = redirect.replace(state, "forged.0123456789abcdef0123456789abcdef")
    status, page = await finish(http, forged, "forged.0123456789abcdef0123456789abcdef")
    assert status == 401 and "installation (invalid_state)" in page and 'href="/slack/install"' in page
    # The genuine state from a browser without the cookie (a link passed on): refused.
    assert (await finish(http, redirect, None))[0] == 400
    assert slack.calls_to("oauth.v2.access") == [] and await installations(db) == {}
    # The right browser completes the install once; replaying the same redirect is refused.
    assert (await finish(http, redirect, state))[0] == 200
    assert (await finish(http, redirect, state))[0] == 401
    assert len(slack.calls_to("oauth.v2.access")) == 1
    assert list(await installations(db)) == [TEAM]


async def test_concurrent_redirects_with_one_state_install_once(driver, slack, db, site, http):
    link, state = await add_to_slack(http, site)
    redirect = slack.approve(link, team_id=TEAM_B, user=ADMIN_B)
    results = await asyncio.gather(*(finish(http, redirect, state) for _ in range(24)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * 23, statuses
    assert len(slack.calls_to("oauth.v2.access")) == 1
    assert await installations(db) == {TEAM_B: slack.token_of(TEAM_B)}
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Workspace).where(Workspace.slack_team_id == TEAM_B))).scalar_one() == 1


async def test_a_workspace_that_never_installed_is_not_served(driver, slack, db, site, logged_errors):
    logged_errors.allow("the AuthorizeResult (returned value from authorize) for it was not found")
    reply = await driver.slash("/mytasks", "", user=REP1)
    [apology] = await reply.responses()
    assert "no longer installed" in apology["text"]
    assert [c for c in slack.calls if c.token] == [], "no Web API call without an installation"
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Workspace))).scalar_one() == 0


async def test_tokens_revoked_removes_the_installation_only_for_the_bot_token(driver, slack, db, site, http):
    token_a = await install(http, site, slack, team_id=TEAM, user=ADMIN)
    # Only a user's token revoked: the app keeps none, nothing changes.
    await driver.event({"type": "tokens_revoked", "tokens": {"oauth": [ADMIN], "bot": []}})
    await settle()
    assert await installations(db) == {TEAM: token_a}
    slack.uninstall(TEAM)
    await driver.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [slack.workspaces[TEAM]["bot_user_id"]]}})
    await settle()
    assert await installations(db) == {}
    async with db.sessionmaker() as s:
        assert (await s.execute(select(Workspace.uninstalled_at).where(Workspace.slack_team_id == TEAM))).scalar_one() is not None


async def test_the_install_pages_speak_the_browsers_language(driver, slack, site, http):
    async with http.get(f"{site}/slack/install", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}) as res:
        page = await res.text()
        state = res.cookies[COOKIE].value
    assert res.status == 200 and "将 salesbot 添加到你的 Slack 工作区" in page and 'alt="添加到 Slack"' in page
    [link] = re.findall(r'<a href="([^"]+)"', page)
    redirect = slack.approve(html.unescape(link), team_id=TEAM_B, user=ADMIN_B)
    async with http.get(redirect, headers={"Cookie": f"{COOKIE}={state}", "Accept-Language": "zh-CN"}) as res:
        assert res.status == 200 and "salesbot 已加入 Beta Trading" in await res.text()
