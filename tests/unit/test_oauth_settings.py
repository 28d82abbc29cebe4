"""OAuth mode's settings, manifest and `salesbot workspace delete`: clear errors, exit status 2, nothing half done."""

from __future__ import annotations

import asyncio

import pytest
import yaml
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, select

from bot import PROJECT_ROOT
from bot.installations import DatabaseInstallationStore
from bot.models import Workspace
from bot.oauth import BOT_SCOPES, REDIRECT_PATH
from bot.settings import ConfigError, load_settings

OAUTH = {"SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "client-secret", "SLACK_STATE_SECRET": "state-secret-0123456789", "SLACK_SIGNING_SECRET": "s"}


def test_oauth_mode_needs_no_bot_token_but_its_three_settings():
    settings = load_settings(**OAUTH)
    assert settings.oauth_enabled
    settings.require_for_run()
    assert not load_settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_CLIENT_ID="").oauth_enabled, "a blank client id is token mode"


@pytest.mark.parametrize("change, variable", [
    ({"SLACK_CLIENT_ID": "your-client-id"}, "SLACK_CLIENT_ID"),
    ({"SLACK_CLIENT_SECRET": ""}, "SLACK_CLIENT_SECRET"),
    ({"SLACK_STATE_SECRET": ""}, "SLACK_STATE_SECRET"),
    ({"SLACK_STATE_SECRET": "short"}, "SLACK_STATE_SECRET"),
    ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
    ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN"),
])
def test_run_in_oauth_mode_stops_with_one_line_and_status_2(change, variable, tmp_path, salesbot_cli):
    env = {k: v for k, v in {**OAUTH, **change}.items() if v}
    done = salesbot_cli("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("salesbot:")]
    assert len(lines) == 1 and variable in lines[0], done.stderr
    with pytest.raises(ConfigError, match=variable):
        load_settings(**{**OAUTH, **change}).require_for_run()


def test_the_authorize_page_sits_beside_the_web_api():
    assert load_settings().authorize_url == "https://slack.com/oauth/v2/authorize"
    assert load_settings(SLACK_API_URL="http://127.0.0.1:9/api").authorize_url == "http://127.0.0.1:9/oauth/v2/authorize"


def test_the_manifest_asks_for_the_scopes_installs_request_and_sends_installers_back():
    manifest = yaml.safe_load((PROJECT_ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith(REDIRECT_PATH)
    assert {"app_uninstalled", "tokens_revoked"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])


async def test_workspace_delete_refuses_an_installed_or_unknown_workspace_and_deletes_with_force(db, salesbot_cli):
    store = DatabaseInstallationStore(db)
    await store.async_save(Installation(team_id="TA", bot_token="xoxb-a", bot_id="B1", bot_user_id="U1", user_id="U2"))
    await store.async_save(Installation(team_id="TB", bot_token="xoxb-b", bot_id="B2", bot_user_id="U3", user_id="U4"))
    env = {"DATABASE_URL": db.url}
    unknown = await asyncio.to_thread(salesbot_cli, "workspace", "delete", "TNOPE", env=env)
    assert unknown.returncode == 2 and "TNOPE" in unknown.stderr
    installed = await asyncio.to_thread(salesbot_cli, "workspace", "delete", "TA", env=env)
    assert installed.returncode == 2 and "still has the app installed" in installed.stderr
    forced = await asyncio.to_thread(salesbot_cli, "workspace", "delete", "TA", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert "workspace TA deleted: 2 rows" in forced.stdout  # the installation and the workspace
    async with db.sessionmaker() as s:
        assert list((await s.execute(select(Workspace.slack_team_id))).scalars()) == ["TB"]
        assert (await s.execute(select(func.count()).select_from(Workspace))).scalar_one() == 1
