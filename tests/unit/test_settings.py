"""Settings and the `salesbot` entry point's configuration errors."""

from __future__ import annotations

import os

import pytest

from bot.settings import ConfigError, is_placeholder, load_settings, normalize_database_url


def test_database_urls_map_onto_the_async_drivers():
    assert normalize_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_database_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def test_defaults_follow_the_contract():
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///salesbot.db" or "DATABASE_URL" in os.environ
    assert s.port == 3000 or "PORT" in os.environ


def test_admins_and_api_url():
    s = load_settings(SALESBOT_ADMINS=" U1, U2 ,,", SLACK_API_URL="http://127.0.0.1:9/api")
    assert s.admins == frozenset({"U1", "U2"})
    assert s.api_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize("value", [None, "", "changeme", "xoxb-your-token", "<token>"])
def test_placeholders_are_not_secrets(value):
    assert is_placeholder(value)


def test_http_mode_needs_the_signing_secret_and_socket_mode_does_not():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings(SLACK_BOT_TOKEN="changeme").require_for_run()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings(SLACK_BOT_TOKEN="xoxb-1").require_for_run()
    load_settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="abc").require_for_run()
    load_settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1").require_for_run()
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        load_settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="your-app-token").require_for_run()


@pytest.mark.parametrize("env, variable", [
    ({}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-your-token"}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "postgresql://u@127.0.0.1:1/none"}, "DATABASE_URL"),
])
def test_run_stops_with_one_line_and_status_2(env, variable, tmp_path, salesbot_cli):
    """A missing secret or an unreachable database: one line naming the variable, no traceback."""
    done = salesbot_cli("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("salesbot:")]
    assert len(lines) == 1 and variable in lines[0], done.stderr
    assert "Traceback" not in done.stderr


async def test_run_uses_socket_mode_when_an_app_token_is_set(tmp_path, monkeypatch):
    """With SLACK_APP_TOKEN, `run` hands the Bolt app to Socket Mode instead of serving HTTP (Slack itself is out of reach here); SIGTERM closes it."""
    import os
    import signal

    import slack_bolt.adapter.socket_mode.async_handler as socket_mode

    from bot import cli

    started = []

    class FakeSocketModeHandler:
        def __init__(self, app, app_token):
            self.app, self.app_token = app, app_token
            self.closed = False

        async def connect_async(self):
            started.append(self)
            os.kill(os.getpid(), signal.SIGTERM)  # `run` stops cleanly on it

        async def close_async(self):
            self.closed = True

    def no_http(*_a, **_k):
        raise AssertionError("HTTP mode started in Socket Mode")

    monkeypatch.setattr(socket_mode, "AsyncSocketModeHandler", FakeSocketModeHandler)
    monkeypatch.setattr("bot.server.BotServer", no_http)
    settings = load_settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1-test", DATABASE_URL=f"sqlite:///{tmp_path / 'sm.db'}")
    settings.require_for_run()
    assert await cli._run(settings, scheduler=False) == 0
    [handler] = started
    assert handler.app_token == "xapp-1-test" and handler.app is not None and handler.closed
