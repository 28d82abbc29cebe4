"""manifest.yml asks Slack for exactly what the code uses: its commands, events, interactivity and scopes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import PROJECT_ROOT
from bot.app import build_app
from bot.deps import Deps
from bot.settings import Settings

# The bot scopes each Web API method the code calls needs (None: the method needs no scope).
# A call to a method missing here fails the test: look its scope up and add it.
METHOD_SCOPES = {
    "auth.test": None,
    # Bolt's OAuth flow exchanges the install's code for the workspace's bot token (client id and secret, no scope).
    "oauth.v2.access": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "conversations.open": "im:write",
    # Who may answer a survey in a customer's shared channel: public and private channels alike.
    "conversations.members": ("channels:read", "groups:read"),
    "users.info": "users:read",
    "views.open": None,
    "views.push": None,
    "views.update": None,
    "views.publish": None,
    # slack_sdk's files_upload_v2 calls files.getUploadURLExternal and files.completeUploadExternal.
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
SDK_HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}

# What the product calls Slack from; the stand-in plays Slack and is not scanned.
SOURCE_DIRS = ("bot", "handlers", "jobs")
CALL = re.compile(r"\bclient\.(?!api_call\b)([a-z]+_[A-Za-z0-9_]+)\(")
API_CALL = re.compile(r"\bapi_call\(\s*[\"']([\w.]+)[\"']")

REGISTRARS = ("command", "event", "action", "block_action", "view", "view_submission", "view_closed", "options", "block_suggestion", "shortcut", "global_shortcut", "message_shortcut", "message")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "manifest.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registered():
    """Build the real app, recording what each registration method was asked to listen for."""
    calls: dict[str, list] = {name: [] for name in REGISTRARS}
    originals = {name: getattr(AsyncApp, name) for name in REGISTRARS}

    def spy(name):
        def record(self, *args, **kwargs):
            calls[name].append(args[0] if args else next(iter(kwargs.values()), None))
            return originals[name](self, *args, **kwargs)

        return record

    mp = pytest.MonkeyPatch()
    for name in REGISTRARS:
        mp.setattr(AsyncApp, name, spy(name))
    try:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-manifest-test", SLACK_SIGNING_SECRET="manifest-test")
        # The listeners are only registered and matched, never run, so no database is needed.
        app = build_app(Deps(settings=settings, db=None))
    finally:
        mp.undo()
    return app, calls


def slash_commands(manifest: dict) -> dict[str, dict]:
    return {c["command"]: c for c in manifest["features"]["slash_commands"]}


def called_methods() -> dict[str, set[str]]:
    """Web API method -> the files that call it, from the source."""
    found: dict[str, set[str]] = {}
    for top in SOURCE_DIRS:
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            if "standin" in path.relative_to(PROJECT_ROOT).parts:
                continue
            text = path.read_text(encoding="utf-8")
            names = [m.replace("_", ".", 1) if m not in SDK_HELPERS else m for m in CALL.findall(text)]
            names += API_CALL.findall(text)
            for name in names:
                for method in SDK_HELPERS.get(name, (name,)):
                    found.setdefault(method, set()).add(str(path.relative_to(PROJECT_ROOT)))
    return found


def test_slash_commands_are_the_registered_ones(manifest, registered):
    _, calls = registered
    code = {c for c in calls["command"] if isinstance(c, str)}
    assert all(isinstance(c, str) for c in calls["command"]), "a command registered by pattern cannot be checked"
    assert set(slash_commands(manifest)) == code


async def test_each_manifest_command_reaches_a_listener(manifest, registered):
    app, _ = registered
    for command in slash_commands(manifest):
        body = {"command": command, "text": "", "team_id": "T1", "user_id": "U1", "channel_id": "C1"}
        req = AsyncBoltRequest(body=body, mode="socket_mode")
        matches = [lst for lst in app._async_listeners if await lst.async_matches(req=req, resp=BoltResponse(status=200))]
        assert len(matches) == 1, f"{command}: {len(matches)} listeners"
    unknown = AsyncBoltRequest(body={"command": "/not-ours", "text": ""}, mode="socket_mode")
    assert not [lst for lst in app._async_listeners if await lst.async_matches(req=unknown, resp=BoltResponse(status=200))]


def test_every_slash_command_is_described_and_escaped(manifest):
    for command, entry in slash_commands(manifest).items():
        assert entry.get("description"), command
        assert entry.get("usage_hint"), f"{command} has no usage_hint"
        # Mentions arrive as <@U…> only when Slack escapes the text; the parsers expect that.
        assert entry.get("should_escape") is True, command
        assert entry["url"].endswith("/slack/events"), command


def test_bot_events_are_the_ones_listened_for(manifest, registered):
    _, calls = registered
    code = set()
    for constraint in calls["event"]:
        code.add(constraint if isinstance(constraint, str) else constraint["type"])
    code |= {"message"} if calls["message"] else set()
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == code
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")


def test_messages_tab_is_read_only_since_no_message_is_read(manifest, registered):
    _, calls = registered
    assert not calls["message"] and "message" not in calls["event"]
    app_home = manifest["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True, "DM cards and digests are posted in the Messages tab"
    assert app_home["messages_tab_read_only_enabled"] is True
    assert app_home["home_tab_enabled"] is ("app_home_opened" in calls["event"])


def test_interactivity_is_on_for_the_registered_actions_and_views(manifest, registered):
    _, calls = registered
    interactive = sum(len(calls[n]) for n in REGISTRARS if n not in ("command", "event", "message"))
    assert interactive > 0
    settings = manifest["settings"]["interactivity"]
    assert settings["is_enabled"] is True
    assert settings["request_url"].endswith("/slack/events")
    # External selects (options listeners) load their options from this URL.
    if calls["options"] or calls["block_suggestion"]:
        assert settings.get("message_menu_options_url", "").endswith("/slack/events")


def _scopes(entry) -> tuple[str, ...]:
    """A METHOD_SCOPES entry as a tuple of scopes."""
    return () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)


def test_scopes_cover_every_method_called_and_nothing_else(manifest):
    methods = called_methods()
    assert "chat.postMessage" in methods and "views.open" in methods, "the scan found the calls"
    unknown = {m: sorted(files) for m, files in methods.items() if m not in METHOD_SCOPES}
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    needed = {scope for m in methods for scope in _scopes(METHOD_SCOPES[m])}
    if manifest["features"].get("slash_commands"):
        needed.add("commands")
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes)), "a scope is listed twice"
    assert set(scopes) == needed, f"missing: {needed - set(scopes)}; unused: {set(scopes) - needed}"


def test_the_method_scan_sees_helper_calls(tmp_path: Path, monkeypatch):
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "x.py").write_text(
        "await client.files_upload_v2(channel=c)\nawait self.client.chat_postMessage(channel=c)\nclient.api_call('team.info')\n"
    )
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    assert set(called_methods()) == {"files.getUploadURLExternal", "files.completeUploadExternal", "chat.postMessage", "team.info"}
