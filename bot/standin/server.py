"""A local HTTP stand-in for the parts of Slack the bot uses.

The bot reaches it through the real ``slack_sdk`` clients (``base_url=slack.api_url``), so
request encoding, errors and retries behave as they would against Slack. Every message,
view and Home tab passes through :mod:`bot.standin.limits`; anything Slack would refuse is
refused here too, and recorded so tests can assert that nothing was rejected.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import json
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.standin import limits

TRIGGER_TTL = 3.0
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5
MODAL_STACK_DEPTH = 3  # the opened view plus at most two pushed ones

# Fields Slack accepts as JSON-encoded strings inside form bodies.
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "options", "option_groups")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Elements that carry an action_id: whatever the validator accepts in actions and input blocks.
_INTERACTIVE = limits._ACTIONS_ELEMENTS | limits._INPUT_ELEMENTS


@dataclass
class Call:
    """One request the stand-in answered, as tests inspect it."""

    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    status: int
    at: float
    path: str = ""
    injected: bool = False
    errors: list[str] = field(default_factory=list)
    response: Any = None
    token: str | None = None  # the token the call carried
    team: str | None = None  # the workspace that token belongs to
    about: str | None = None  # the workspace the call's user, channel or view belongs to, when it names one
    peer: Any = None  # the caller's address and port: calls with the same one came on one kept-alive connection


@dataclass
class _Failure:
    """A failure rule set with :meth:`SlackStandIn.fail`."""

    status: int
    retry_after: int
    times: int | None
    rate: float | None
    rng: random.Random

    def trips(self) -> bool:
        """Decide whether the next call fails, consuming one use when counted."""
        if self.times is not None:
            if self.times <= 0:
                return False
            self.times -= 1
            return True
        if self.rate is not None:
            return self.rng.random() < self.rate
        return True


class ApiError(Exception):
    """A Slack-style error answer: ``{"ok": false, "error": code}``."""

    def __init__(
        self,
        code: str,
        errors: list[str] | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.errors = errors or []
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Slack would send for this error."""
        body: dict[str, Any] = {"ok": False, "error": self.code}
        if self.errors:
            body["errors"] = list(self.errors)
            body["response_metadata"] = {"messages": list(self.errors)}
        return body


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
T = TypeVar("T")


class SlackStandIn:
    """Loopback HTTP server that answers the Slack Web API, response URLs and file uploads."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin",
        team_id: str = "T0001",
        team_name: str = "Acme Sales",
        bot_user_id: str = "UBOT",
        trigger_ttl: float = TRIGGER_TTL,
        response_url_ttl: float = RESPONSE_URL_TTL,
        api_app_id: str = "A0STANDIN",
        bot_id: str = "B0STANDIN",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = re.sub(r"[^a-z0-9]+", "-", team_name.lower()).strip("-") or "team"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.api_app_id = api_app_id
        self.trigger_ttl = trigger_ttl
        self.response_url_ttl = response_url_ttl
        # Workspaces and the bot tokens that belong to them (OAuth installs add both).
        self.workspaces: dict[str, dict[str, Any]] = {
            team_id: {"id": team_id, "name": team_name, "domain": self.team_domain, "bot_user_id": bot_user_id, "bot_id": bot_id}
        }
        self.tokens: dict[str, str] = {bot_token: team_id}
        self.revoked: dict[str, str] = {}
        self.oauth_client: tuple[str, str] | None = None
        self.oauth_redirect_url: str | None = None
        self._codes: dict[str, dict[str, Any]] = {}

        self.calls: list[Call] = []
        self.messages: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}

        self._dms: dict[str, str] = {}
        self._homes: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}
        self._triggers: dict[str, dict[str, Any]] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._failures: dict[tuple[str, int], _Failure] = {}
        self._delays: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._last_ts = 0.0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update_message,
            "chat.delete": self._delete_message,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }
        self.add_channel("C0GENERAL", name="general")
        self.users[bot_user_id] = {
            "id": bot_user_id,
            "name": "salesbot",
            "real_name": "Salesbot",
            "tz": "UTC",
            "locale": "en-US",
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_bot": True,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start listening; ``port=0`` picks a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{url_id}", self._handle_response_url)
        app.router.add_get("/oauth/v2/authorize", self._handle_authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host = host
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Root URL of the running server, without a trailing slash."""
        if self._port is None:
            raise RuntimeError("SlackStandIn is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def api_url(self) -> str:
        """Web API root in the form slack_sdk's ``base_url`` expects (trailing slash)."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ workspace setup

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        tz: str = "UTC",
        locale: str = "en-US",
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a member of a workspace (the first one unless `team_id` says another)."""
        ZoneInfo(tz)  # fail early on a misspelt zone rather than inside users.info
        user = {
            "id": user_id,
            "name": name,
            "real_name": real_name or name,
            "tz": tz,
            "locale": locale,
            "is_admin": is_admin or is_owner or is_primary_owner,
            "is_owner": is_owner or is_primary_owner,
            "is_primary_owner": is_primary_owner,
            "is_bot": False,
            "team_id": team_id or self.team_id,
        }
        self.users[user_id] = user
        return user

    def ensure_user(self, user_id: str) -> dict[str, Any]:
        """Return a member, registering one with default settings if unknown."""
        if user_id not in self.users:
            self.add_user(user_id, name=user_id.lower())
        return self.users[user_id]

    def add_channel(self, channel_id: str, *, name: str, members: Iterable[str] = (), team_id: str | None = None) -> dict[str, Any]:
        """Register a public or private channel the bot can post in, with the people in it (the bot is always in)."""
        channel = {"id": channel_id, "name": name, "is_im": False, "user": None, "members": [self.bot_user_id, *members], "team_id": team_id or self.team_id}
        self.channels[channel_id] = channel
        return channel

    def ensure_channel(self, channel_id: str) -> dict[str, Any]:
        """Return a channel, registering it under a default name if unknown."""
        if channel_id not in self.channels:
            self.add_channel(channel_id, name=channel_id.lower())
        return self.channels[channel_id]

    def dm_channel(self, user_id: str) -> str:
        """The stable DM channel id between the bot and a member."""
        if user_id not in self._dms:
            channel_id = f"D{next(self._ids):08d}"
            self._dms[user_id] = channel_id
            self.channels[channel_id] = {
                "id": channel_id,
                "name": "directmessage",
                "is_im": True,
                "user": user_id,
                "members": [user_id, self.bot_user_id],
                "team_id": self.users.get(user_id, {}).get("team_id", self.team_id),
            }
        return self._dms[user_id]

    # ------------------------------------------------------------------ workspaces and OAuth installs

    def add_workspace(self, team_id: str, *, name: str, bot_user_id: str | None = None) -> dict[str, Any]:
        """Register another workspace (its bot token is issued when the app is installed there by OAuth)."""
        n = len(self.workspaces) + 1
        domain = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or f"team{n}"
        ws = {"id": team_id, "name": name, "domain": domain, "bot_user_id": bot_user_id or f"UBOT{n}", "bot_id": f"B0STANDIN{n}"}
        self.workspaces[team_id] = ws
        return ws

    def enable_oauth(self, *, client_id: str, client_secret: str, redirect_url: str) -> None:
        """Let workspaces install the app by OAuth, as an app with Manage Distribution turned on."""
        self.oauth_client = (client_id, client_secret)
        self.oauth_redirect_url = redirect_url

    def approve(self, authorize_url: str, *, team_id: str, user: str) -> str:
        """What the authorize page does when `user` clicks Allow for `team_id`: the redirect URL, with a code and the state."""
        from urllib.parse import parse_qs, urlencode, urlsplit

        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        if self.oauth_client is None or query.get("client_id") != self.oauth_client[0]:
            raise AssertionError(f"authorize URL for an unknown client: {authorize_url}")
        if team_id not in self.workspaces:
            raise AssertionError(f"unknown workspace {team_id}")
        code = f"code-{team_id}-{secrets.token_hex(8)}"
        self._codes[code] = {"team_id": team_id, "user": user, "scope": query.get("scope", ""), "issued": time.monotonic(), "used": False}
        redirect = query.get("redirect_uri") or self.oauth_redirect_url
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        return f"{redirect}?{urlencode(params)}"

    def uninstall(self, team_id: str) -> list[str]:
        """The app is removed from a workspace: its tokens stop working. Returns the revoked tokens."""
        gone = [t for t, team in self.tokens.items() if team == team_id]
        for token in gone:
            self.revoked[token] = self.tokens.pop(token)
        return gone

    def token_of(self, team_id: str) -> str | None:
        """The live bot token issued to a workspace (the newest one)."""
        live = [t for t, team in self.tokens.items() if team == team_id]
        return live[-1] if live else None

    async def _handle_authorize(self, request: web.Request) -> web.Response:
        # The browser page of slack.com/oauth/v2/authorize: installing as ?team=&user= (a test's shortcut).
        team_id = request.query.get("team") or self.team_id
        user = request.query.get("user") or next(u for u, rec in self.users.items() if rec.get("team_id") == team_id and not rec["is_bot"])
        raise web.HTTPFound(self.approve(str(request.url), team_id=team_id, user=user))

    # ------------------------------------------------------------------ tokens for the driver

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """Issue a trigger_id as Slack does with each interaction."""
        n = next(self._ids)
        trigger_id = f"{n}.{int(time.time())}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = {
            "issued": time.monotonic(),
            "used": False,
            "user": user,
            "view_id": view_id,
        }
        return trigger_id

    def new_response_url(
        self,
        *,
        channel: str,
        user: str,
        message_ts: str | None = None,
        ephemeral_id: str | None = None,
    ) -> str:
        """Issue a response_url bound to a channel, member and optionally a message."""
        url_id = f"R{next(self._ids):08d}{secrets.token_hex(8)}"
        self._response_urls[url_id] = {
            "channel": channel,
            "user": user,
            "message_ts": message_ts,
            "ephemeral_id": ephemeral_id,
            "uses": 0,
            "issued": time.monotonic(),
        }
        return f"{self.base_url}/response/{url_id}"

    # ------------------------------------------------------------------ failure injection

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int | None = None,
        rate: float | None = None,
        seed: int = 0,
    ) -> None:
        """Make ``method`` answer 429 (rate limited) or 500 for ``times`` calls or a ``rate`` share.

        With neither ``times`` nor ``rate`` every call fails until :meth:`clear_failures`.
        ``method`` may also be ``"response_url"`` or ``"file_upload"``. A 429 rule and a 500
        rule for the same method apply together (429 is tried first); setting a rule again
        for the same method and status replaces it.
        """
        if status not in (429, 500):
            raise ValueError("status must be 429 or 500")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._failures[(method, status)] = _Failure(status, retry_after, times, rate, random.Random(seed))

    def clear_failures(self) -> None:
        """Remove every failure rule."""
        self._failures.clear()

    def delay(self, method: str, seconds: float) -> None:
        """Hold every answer to a Web API ``method`` for ``seconds`` (0 removes the delay).

        The call is handled and recorded first, then the answer waits: a message posted with a
        delay already exists while its sender still waits for the reply, which lets a test stop
        a client in the middle of a request. A delayed answer a client no longer waits for
        is simply dropped.
        """
        if seconds < 0:
            raise ValueError("delay must not be negative")
        if seconds:
            self._delays[method] = seconds
        else:
            self._delays.pop(method, None)

    def _injected(self, method: str) -> ApiError | None:
        rule = next(
            (r for status in (429, 500) if (r := self._failures.get((method, status))) and r.trips()),
            None,
        )
        if rule is None:
            return None
        if rule.status == 429:
            return ApiError(
                "ratelimited", status=429, headers={"Retry-After": str(rule.retry_after)}
            )
        return ApiError("internal_error", status=500)

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """All recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def rejected_calls(self) -> list[Call]:
        """Failed calls that were not injected failures: the bot sent something wrong."""
        return [c for c in self.calls if not c.ok and not c.injected]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Messages (including ephemeral ones) currently in a channel."""
        return [m for m in self.messages if m["channel"] == channel]

    def ephemerals_for(self, user: str) -> list[dict[str, Any]]:
        """Ephemeral messages currently shown to a member."""
        return [m for m in self.messages if m["ephemeral"] and m["user"] == user]

    def last_message(
        self, channel: str | None = None, user: str | None = None
    ) -> dict[str, Any] | None:
        """The newest message, optionally in a channel and/or addressed to a member.

        A message is addressed to a member when it is ephemeral for them or sits in their DM.
        """
        dm = self._dms.get(user) if user else None
        for message in reversed(self.messages):
            if channel is not None and message["channel"] != channel:
                continue
            if user is not None and not (
                (message["ephemeral"] and message["user"] == user)
                or (dm is not None and message["channel"] == dm)
            ):
                continue
            return message
        return None

    def find_message(self, message_id: str) -> dict[str, Any] | None:
        """A stored message by its stand-in id, if it still exists."""
        return next((m for m in self.messages if m["id"] == message_id), None)

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab record last published for a member."""
        view_id = self._homes.get(user_id)
        return self.views.get(view_id) if view_id else None

    def modal_stack(self, view_id: str) -> list[str]:
        """View ids in the open modal stack containing ``view_id``, bottom first."""
        record = self.views.get(view_id)
        if record is None:
            return []
        return list(self._stacks.get(record["stack"]["root_view_id"], []))

    def open_modals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Open modal records, optionally for one member."""
        return [
            r
            for r in self.views.values()
            if r["type"] == "modal" and r["open"] and (user is None or r["user"] == user)
        ]

    def mark(self) -> int:
        """A bookmark in the call record: pass it as ``since=`` to wait only for later calls."""
        return len(self.calls)

    async def wait_until(self, condition: Callable[[], T | None], *, what: str, timeout: float = 10.0) -> T:
        """Wait until ``condition()`` returns something truthy, and return it.

        The condition is checked again after every call the stand-in records (a redraw, a
        post, a response_url), and now and then in between for state that lives elsewhere
        (the bot's database). On timeout a TimeoutError says ``what`` was awaited and lists
        the recorded calls.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = condition()
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout}s for {what}, in vain.\n{self.summary()}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))
            except asyncio.TimeoutError:
                pass

    async def wait_for_message(
        self, predicate: Callable[[dict[str, Any]], bool], *, channel: str | None = None, what: str = "a message", timeout: float = 10.0
    ) -> dict[str, Any]:
        """Wait until a stored message (optionally in ``channel``) matches ``predicate``; return the newest such."""

        def newest() -> dict[str, Any] | None:
            return next((m for m in reversed(self.messages) if (channel is None or m["channel"] == channel) and predicate(m)), None)

        where = f" in {channel}" if channel else ""
        return await self.wait_until(newest, what=f"{what}{where}", timeout=timeout)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda call: True,
        *,
        count: int = 1,
        timeout: float = 5.0,
        since: int = 0,
    ) -> list[Call]:
        """Wait until ``count`` successful ``method`` calls match ``predicate`` (among calls after the mark ``since``)."""

        def matching() -> list[Call]:
            return [c for c in self.calls[since:] if c.method == method and c.ok and predicate(c)]

        found = await self._poll(matching, count, timeout)
        if found is None:
            raise TimeoutError(
                f"waited {timeout}s for {count} successful {method} call(s) matching the "
                f"predicate, saw {len(matching())}.\n{self.summary()}"
            )
        return found[:count]

    async def wait_for_responses(
        self, response_url: str, *, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` POSTs reached ``response_url``; return their payloads."""
        path = response_url.removeprefix(self.base_url)

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == "response_url" and c.path == path]

        found = await self._poll(matching, count, timeout)
        if found is None:
            raise TimeoutError(
                f"waited {timeout}s for {count} POST(s) to {path}, saw {len(matching())}.\n"
                f"{self.summary()}"
            )
        return [c.args for c in found[:count]]

    def summary(self) -> str:
        """One line per recorded call, for assertion messages."""
        if not self.calls:
            return "(no calls recorded)"
        shown = self.calls[-40:]
        lines = [f"  ... {len(self.calls) - len(shown)} earlier"] if len(shown) < len(self.calls) else []
        for c in shown:
            state = "ok" if c.ok else f"{c.error}{' (injected)' if c.injected else ''}"
            detail = f" {c.errors}" if c.errors else ""
            lines.append(f"  {c.method} -> {state}{detail}")
        return "recorded calls:\n" + "\n".join(lines)

    async def _poll(
        self, matching: Callable[[], list[Call]], count: int, timeout: float
    ) -> list[Call] | None:
        def enough() -> list[Call] | None:
            found = matching()
            return found if len(found) >= count else None

        try:
            return await self.wait_until(enough, what="calls", timeout=timeout)
        except TimeoutError:
            return None

    # ------------------------------------------------------------------ replies the driver relays

    def record_reply(self, method: str, payload: Any, errors: list[str]) -> Call:
        """Record something the bot answered in an HTTP body (checked by the driver)."""
        args = payload if isinstance(payload, dict) else {"body": payload}
        return self._record(
            method,
            args,
            status=200,
            response=None,
            error="invalid_arguments" if errors else None,
            errors=errors,
        )

    def apply_command_reply(self, response_url: str, body: Any) -> None:
        """Show the message a slash command handler put in its ack, as Slack would."""
        if body in (None, "", {}):
            return
        payload = {"text": body} if isinstance(body, str) else body
        if not isinstance(payload, dict):
            self.record_reply("command.response", payload, ["ack body must be JSON or text"])
            return
        url = self._response_urls[self._url_id(response_url)]
        errors = limits.validate_message_args(payload)
        self.record_reply("command.response", payload, errors)
        if not errors:
            self._respond(url, payload)

    def apply_submission_reply(self, view_id: str, body: Any) -> None:
        """Apply a view_submission answer (close, errors, update, push or clear)."""
        record = self.views[view_id]
        action = body.get("response_action") if isinstance(body, dict) else None
        if action is None:
            self.record_reply("view_submission.response", {"body": body}, [])
            self.close_modal(view_id)
            return
        errors: list[str] = []
        if action == "errors":
            input_ids = {
                b.get("block_id")
                for b in record["view"].get("blocks", [])
                if b.get("type") == "input"
            }
            given = body.get("errors")
            if not isinstance(given, dict) or not given:
                errors.append("errors: must be a non-empty object of block_id -> message")
            else:
                errors += [
                    f"errors: {k!r} is not an input block_id in the view"
                    for k in given
                    if k not in input_ids
                ]
        elif action in ("update", "push"):
            view = body.get("view")
            errors += limits.validate_view(view)
            if not errors and view.get("type") != "modal":
                errors.append("view.type: must be modal")
            if not errors and action == "push" and len(self.modal_stack(view_id)) >= MODAL_STACK_DEPTH:
                errors.append("push_limit_reached: the stack already holds 3 views")
        elif action != "clear":
            errors.append(f"response_action: unknown value {action!r}")
        self.record_reply("view_submission.response", body, errors)
        if errors:
            return
        if action == "update":
            self._replace_view(record, body["view"])
        elif action == "push":
            self._push_view(record, body["view"])
        elif action == "clear":
            self.close_modal(view_id, clear=True)

    def close_modal(self, view_id: str, *, clear: bool = False) -> None:
        """Close a modal as the member would; ``clear`` closes its whole stack."""
        record = self.views[view_id]
        stack = self._stacks.get(record["stack"]["root_view_id"], [])
        if clear:
            closing, remaining = list(stack), []
        else:
            position = stack.index(view_id) if view_id in stack else len(stack)
            closing, remaining = stack[position:], stack[:position]
        for closed_id in closing:
            self.views[closed_id]["open"] = False
        self._stacks[record["stack"]["root_view_id"]] = remaining

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args = await self._read_args(request)
        except ValueError as exc:
            return self._answer(method, {}, request.path, ApiError("invalid_json", [str(exc)]))
        handler = self._handlers.get(method)
        if handler is None:
            return self._answer(method, args, request.path, ApiError("unknown_method"))
        if method == "oauth.v2.access":
            auth_error = self._check_client(request, args)
            token = team = about = None
        else:
            token = self._token(request, args)
            team = self.tokens.get(token) if token else None
            about = self._team_of_call(args)
            auth_error = self._check_auth(token, team, about)
        if auth_error is not None:
            response = self._answer(method, args, request.path, auth_error)
            self._stamp(request, token, team, about)
            return response
        injected = self._injected(method)
        if injected is not None:
            return self._answer(method, args, request.path, injected, injected_failure=True)
        try:
            body = await (self._auth_test_for(team) if method == "auth.test" else handler(args))
        except ApiError as exc:
            response = self._answer(method, args, request.path, exc)
            self._stamp(request, token, team, about)
            return response
        response = self._answer(method, args, request.path, body)
        self._stamp(request, token, team, about)
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        return response

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        path: str,
        result: dict[str, Any] | ApiError,
        *,
        injected_failure: bool = False,
    ) -> web.Response:
        if isinstance(result, ApiError):
            body = result.body()
            self._record(
                method,
                args,
                status=result.status,
                response=body,
                error=result.code,
                errors=result.errors,
                path=path,
                injected=injected_failure,
            )
            return web.json_response(body, status=result.status, headers=result.headers)
        body = {"ok": True, **result}
        self._record(method, args, status=200, response=body, path=path)
        return web.json_response(body)

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        *,
        status: int,
        response: Any,
        error: str | None = None,
        errors: list[str] | None = None,
        path: str = "",
        injected: bool = False,
    ) -> Call:
        call = Call(
            method=method,
            args=args,
            ok=error is None,
            error=error,
            status=status,
            at=time.monotonic(),
            path=path,
            injected=injected,
            errors=list(errors or []),
            response=response,
        )
        self.calls.append(call)
        self._changed.set()  # wakes whoever waits for a call, a message or a redraw
        return call

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("JSON body must be an object")
                args.update(body)
            elif request.content_type in _FORM_TYPES:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_FIELDS:
            value = args.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                args[key] = json.loads(value)
        return args

    def _token(self, request: web.Request, args: dict[str, Any]) -> str | None:
        header = request.headers.get("Authorization", "")
        body_token = args.pop("token", None)  # Slack also accepts the token as an argument
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        return token or body_token

    def _check_auth(self, token: str | None, team: str | None, about: str | None) -> ApiError | None:
        if not token:
            return ApiError("not_authed")
        if token in self.revoked:
            return ApiError("token_revoked")
        if team is None:
            return ApiError("invalid_auth")
        if about is not None and about != team:
            # A token only sees its own workspace: another workspace's user, channel or view is not there.
            return ApiError("not_found_in_workspace", [f"the token belongs to {team}, the call is about {about}"])
        return None

    def _check_client(self, request: web.Request, args: dict[str, Any]) -> ApiError | None:
        import base64

        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):  # slack_sdk sends the client credentials as HTTP Basic auth
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        if self.oauth_client is None or (client_id, client_secret) != self.oauth_client:
            return ApiError("invalid_client_id" if self.oauth_client is None or client_id != self.oauth_client[0] else "bad_client_secret")
        return None

    def _stamp(self, request: web.Request, token: str | None, team: str | None, about: str | None) -> None:
        """Note on the call just recorded which token made it, which workspace it was about, and which connection it came on."""
        if not self.calls:
            return
        call = self.calls[-1]
        call.token, call.team, call.about = token, team, about
        call.peer = request.transport.get_extra_info("peername") if request.transport is not None else None

    def _team_of_call(self, args: dict[str, Any]) -> str | None:
        """The workspace of the user, channel, view or trigger a call names (None when it names none the stand-in knows)."""
        for key in ("user", "user_id"):
            user = self.users.get(args.get(key)) if isinstance(args.get(key), str) else None
            if user is not None and not user["is_bot"]:
                return user["team_id"]
        users = args.get("users")
        if isinstance(users, str) and users.split(",")[0] in self.users:
            return self.users[users.split(",")[0]]["team_id"]
        for key in ("channel", "channel_id"):
            value = args.get(key)
            if isinstance(value, str):
                if value in self.channels:
                    return self.channels[value].get("team_id")
                if value in self.users:
                    return self.users[value]["team_id"]
        view = self.views.get(args.get("view_id")) if isinstance(args.get("view_id"), str) else None
        trigger = self._triggers.get(args.get("trigger_id")) if isinstance(args.get("trigger_id"), str) else None
        owner = (view or {}).get("user") or (trigger or {}).get("user")
        if owner in self.users:
            return self.users[owner]["team_id"]
        return None

    # ------------------------------------------------------------------ Web API methods

    async def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._auth_test_for(self.team_id)

    async def _auth_test_for(self, team_id: str | None) -> dict[str, Any]:
        """auth.test answers for the token's own workspace."""
        ws = self.workspaces[team_id or self.team_id]
        return {
            "url": f"https://{ws['domain']}.slack.com/",
            "team": ws["name"],
            "user": "salesbot",
            "team_id": ws["id"],
            "user_id": ws["bot_user_id"],
            "bot_id": ws["bot_id"],
            "is_enterprise_install": False,
        }

    async def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        """Exchange an install's code (once, within ten minutes) for a bot token of that workspace alone."""
        grant = self._codes.get(args.get("code") or "")
        if grant is None or grant["used"] or time.monotonic() - grant["issued"] > 600:
            raise ApiError("invalid_code")
        grant["used"] = True
        ws = self.workspaces[grant["team_id"]]
        token = f"xoxb-{ws['id']}-{secrets.token_hex(12)}"
        self.tokens[token] = ws["id"]
        return {
            "app_id": self.api_app_id,
            "authed_user": {"id": grant["user"]},
            "scope": grant["scope"],
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": ws["bot_user_id"],
            "team": {"id": ws["id"], "name": ws["name"]},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    async def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(_required(args, "user"))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": self._user_object(user, include_locale=_truthy(args.get("include_locale")))}

    def _user_object(self, user: dict[str, Any], *, include_locale: bool) -> dict[str, Any]:
        now = datetime.now(ZoneInfo(user["tz"]))
        offset = now.utcoffset()
        obj: dict[str, Any] = {
            "id": user["id"],
            "team_id": user.get("team_id", self.team_id),
            "name": user["name"],
            "deleted": False,
            "real_name": user["real_name"],
            "tz": user["tz"],
            "tz_label": now.tzname() or user["tz"],
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_admin": user["is_admin"],
            "is_owner": user["is_owner"],
            "is_primary_owner": user["is_primary_owner"],
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user["is_bot"],
            "is_app_user": False,
            "updated": int(time.time()),
            "profile": {
                "real_name": user["real_name"],
                "real_name_normalized": user["real_name"],
                "display_name": user["name"],
                "display_name_normalized": user["name"],
                "team": user.get("team_id", self.team_id),
            },
        }
        if include_locale:
            obj["locale"] = user["locale"]
        return obj

    async def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            channel = self.channels.get(args["channel"])
            if channel is None:
                raise ApiError("channel_not_found")
            return {"channel": {"id": channel["id"]}}
        users = [u for u in str(_required(args, "users")).split(",") if u]
        if len(users) != 1:
            raise ApiError("invalid_arguments", ["only one-to-one DMs are supported"])
        if users[0] not in self.users:
            raise ApiError("user_not_found")
        already = users[0] in self._dms
        channel_id = self.dm_channel(users[0])
        return {
            "no_op": already,
            "already_open": already,
            "channel": {"id": channel_id, "is_im": True, "user": users[0]},
        }

    async def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(_required(args, "channel"))
        if channel is None:
            raise ApiError("channel_not_found")
        try:
            limit = max(1, min(int(args.get("limit") or 100), 1000))
            start = int(args.get("cursor") or 0)
        except ValueError:
            raise ApiError("invalid_cursor") from None
        members = channel["members"]
        end = start + limit
        return {"members": members[start:end], "response_metadata": {"next_cursor": str(end) if end < len(members) else ""}}

    async def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        _check_message(args)
        message = self._store_message(
            channel=channel,
            text=args.get("text") or "",
            blocks=args.get("blocks"),
            attachments=args.get("attachments"),
            thread_ts=args.get("thread_ts"),
            via="chat.postMessage",
        )
        return {"channel": channel, "ts": message["ts"], "message": self.message_payload(message)}

    async def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        user = _required(args, "user")
        if user not in self.users:
            raise ApiError("user_not_found")
        _check_message(args)
        message = self._store_message(
            channel=channel,
            text=args.get("text") or "",
            blocks=args.get("blocks"),
            attachments=args.get("attachments"),
            thread_ts=args.get("thread_ts"),
            ephemeral_user=user,
            via="chat.postEphemeral",
        )
        return {"message_ts": message["ts"]}

    async def _update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        message = self._message_at(channel, _required(args, "ts"))
        _check_message(args)
        self._rewrite(message, args)
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": self.message_payload(message),
        }

    async def _delete_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        message = self._message_at(channel, _required(args, "ts"))
        self._remove(message)
        return {"channel": channel, "ts": message["ts"]}

    async def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = self._peek_trigger(args)
        view = self._checked_view(args, kind="modal")
        self._check_external_id(view)
        trigger["used"] = True
        record = self._new_view(view, user=trigger["user"], kind="modal")
        self._stacks[record["id"]] = [record["id"]]
        return {"view": record["view"]}

    async def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = self._peek_trigger(args)
        source = self.views.get(trigger["view_id"] or "")
        if source is None or source["type"] != "modal" or not source["open"]:
            raise ApiError(
                "invalid_arguments",
                ["trigger_id does not come from an open modal; use views.open instead"],
            )
        view = self._checked_view(args, kind="modal")
        self._check_external_id(view)
        if len(self.modal_stack(source["id"])) >= MODAL_STACK_DEPTH:
            raise ApiError("push_limit_reached")
        trigger["used"] = True
        return {"view": self._push_view(source, view)["view"]}

    async def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        record = None
        if args.get("view_id"):
            record = self.views.get(args["view_id"])
        elif args.get("external_id"):
            record = next(
                (r for r in self.views.values() if r["external_id"] == args["external_id"]), None
            )
        else:
            raise ApiError("invalid_arguments", ["view_id or external_id is required"])
        if record is None or not record["open"]:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != record["hash"]:
            raise ApiError("hash_conflict")
        view = self._checked_view(args, kind=record["type"])
        self._replace_view(record, view)
        return {"view": record["view"]}

    async def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = _required(args, "user_id")
        if user not in self.users:
            raise ApiError("user_not_found")
        view = self._checked_view(args, kind="home")
        current = self.home(user)
        if current is not None:
            if args.get("hash") and args["hash"] != current["hash"]:
                raise ApiError("hash_conflict")
            self._replace_view(current, view)
            return {"view": current["view"]}
        record = self._new_view(view, user=user, kind="home")
        self._homes[user] = record["id"]
        return {"view": record["view"]}

    async def _get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = _required(args, "filename")
        try:
            length = int(_required(args, "length"))
        except ValueError:
            raise ApiError("invalid_arguments", ["length must be an integer"]) from None
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {
            "id": file_id,
            "filename": filename,
            "title": filename,
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "data": None,
            "completed": False,
            "shares": [],
        }
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = _required(args, "files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments", ["files must be a non-empty JSON array"])
        records = []
        for entry in entries:
            record = self.files.get(entry.get("id", "")) if isinstance(entry, dict) else None
            if record is None or record["data"] is None:
                raise ApiError("file_not_found")
            records.append((record, entry))
        channel_ids = []
        if args.get("channel_id"):
            channel_ids.append(self._resolve_channel(args["channel_id"]))
        for channel in str(args.get("channels") or "").split(","):
            if channel:
                channel_ids.append(self._resolve_channel(channel))
        comment = args.get("initial_comment") or ""
        if len(comment) > limits.MAX_MESSAGE_TEXT:
            raise ApiError("msg_too_long")
        for record, entry in records:
            record["completed"] = True
            record["title"] = entry.get("title") or record["filename"]
        for channel in channel_ids:
            message = self._store_message(
                channel=channel,
                text=comment,
                blocks=None,
                thread_ts=args.get("thread_ts"),
                files=[r["id"] for r, _ in records],
                via="files.completeUploadExternal",
            )
            for record, _ in records:
                record["shares"].append(
                    {
                        "channel": channel,
                        "ts": message["ts"],
                        "thread_ts": args.get("thread_ts"),
                        "initial_comment": comment or None,
                    }
                )
        return {"files": [self._file_object(r) for r, _ in records]}

    def _file_object(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": record["id"],
            "name": record["filename"],
            "title": record["title"],
            "size": len(record["data"] or b""),
            "mimetype": _mimetype(record["filename"]),
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{record['id']}",
            "channels": sorted({s["channel"] for s in record["shares"]}),
        }

    # ------------------------------------------------------------------ other endpoints

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        args = {"file_id": file_id, "length": len(data)}
        injected = self._injected("file_upload")
        if injected is not None:
            self._record(
                "file_upload",
                args,
                status=injected.status,
                response=None,
                error=injected.code,
                path=request.path,
                injected=True,
            )
            return web.Response(status=injected.status, text=injected.code, headers=injected.headers)
        record = self.files.get(file_id)
        if record is None:
            self._record("file_upload", args, status=404, response=None, error="file_not_found", path=request.path)
            return web.Response(status=404, text="file_not_found")
        record["data"] = data
        self._record("file_upload", args, status=200, response=None, path=request.path)
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        try:
            payload = json.loads(await request.text() or "null")
        except ValueError:
            payload = None
        args = payload if isinstance(payload, dict) else {"body": payload}

        def answer(result: dict[str, Any] | ApiError, *, injected: bool = False) -> web.Response:
            return self._answer("response_url", args, request.path, result, injected_failure=injected)

        url = self._response_urls.get(url_id)
        if url is None:
            return answer(ApiError("invalid_url", status=404))
        if time.monotonic() - url["issued"] > self.response_url_ttl:
            return answer(ApiError("expired_url", status=404))
        if url["uses"] >= RESPONSE_URL_USES:
            return answer(ApiError("used_url", status=404))
        injected = self._injected("response_url")
        if injected is not None:
            return answer(injected, injected=True)
        if not isinstance(payload, dict):
            return answer(ApiError("invalid_payload", ["body must be a JSON object"], status=400))
        try:
            self._respond(url, payload)
        except ApiError as exc:
            return answer(exc)
        url["uses"] += 1
        return answer({})

    def _respond(self, url: dict[str, Any], payload: dict[str, Any]) -> None:
        """Apply one response_url payload; raises ApiError (status 400/404) on bad input."""
        target = self._url_target(url)
        if _truthy(payload.get("delete_original")):
            if target is None:
                raise ApiError("message_not_found", status=404)
            self._remove(target)
            return
        try:
            _check_message(payload)
        except ApiError as exc:
            exc.status = 400
            raise
        if _truthy(payload.get("replace_original")) and target is not None:
            self._rewrite(target, payload, replace_all=True)
            return
        in_channel = payload.get("response_type") == "in_channel"
        self._store_message(
            channel=url["channel"],
            text=payload.get("text") or "",
            blocks=payload.get("blocks"),
            attachments=payload.get("attachments"),
            thread_ts=payload.get("thread_ts"),
            ephemeral_user=None if in_channel else url["user"],
            via="response_url",
        )

    def _url_target(self, url: dict[str, Any]) -> dict[str, Any] | None:
        if url["ephemeral_id"]:
            return self.find_message(url["ephemeral_id"])
        if url["message_ts"]:
            return next(
                (
                    m
                    for m in self.messages
                    if not m["ephemeral"]
                    and m["channel"] == url["channel"]
                    and m["ts"] == url["message_ts"]
                ),
                None,
            )
        return None

    def _url_id(self, response_url: str) -> str:
        return response_url.rstrip("/").rsplit("/", 1)[-1]

    # ------------------------------------------------------------------ message store

    def _resolve_channel(self, channel: Any) -> str:
        if not channel:
            raise ApiError("channel_not_found")
        channel = str(channel)
        if channel in self.channels:
            return channel
        if channel in self.users:
            # Posting to a member id lands in the bot's DM with them, as on Slack.
            return self.dm_channel(channel)
        if channel.startswith("#"):
            for known in self.channels.values():
                if known["name"] == channel[1:]:
                    return known["id"]
        raise ApiError("channel_not_found")

    def _message_at(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self.messages:
            if message["channel"] == channel and message["ts"] == ts and not message["ephemeral"]:
                return message
        raise ApiError("message_not_found")

    def _next_ts(self) -> str:
        # Strictly increasing, like Slack's per-channel message timestamps.
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def _store_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None,
        via: str,
        attachments: Any = None,
        ephemeral_user: str | None = None,
        files: list[str] | None = None,
    ) -> dict[str, Any]:
        message_id = f"M{next(self._ids):08d}"
        message = {
            "id": message_id,
            "channel": channel,
            "ts": self._next_ts(),
            "text": text,
            "blocks": _with_ids(blocks, message_id),
            "attachments": copy.deepcopy(attachments),
            "thread_ts": thread_ts,
            "ephemeral": ephemeral_user is not None,
            "user": ephemeral_user,
            "files": files or [],
            "via": via,
            "edited": False,
            "deleted": False,
        }
        self.messages.append(message)
        return message

    def _rewrite(
        self, message: dict[str, Any], args: dict[str, Any], *, replace_all: bool = False
    ) -> None:
        # chat.update keeps fields it is not given; a response_url replacement does not.
        if replace_all or "text" in args:
            message["text"] = args.get("text") or ""
        if replace_all or "blocks" in args:
            message["blocks"] = _with_ids(args.get("blocks"), message["id"] + "e")
        if replace_all or "attachments" in args:
            message["attachments"] = copy.deepcopy(args.get("attachments"))
        message["edited"] = True

    def _remove(self, message: dict[str, Any]) -> None:
        message["deleted"] = True
        self.messages.remove(message)

    def message_payload(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message object Slack includes in API answers and interaction payloads."""
        payload: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": message["text"],
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.api_app_id,
            "team": self.channels.get(message["channel"], {}).get("team_id", self.team_id),
            "ts": message["ts"],
        }
        if message["blocks"] is not None:
            payload["blocks"] = copy.deepcopy(message["blocks"])
        if message["attachments"]:
            payload["attachments"] = copy.deepcopy(message["attachments"])
        if message["thread_ts"]:
            payload["thread_ts"] = message["thread_ts"]
        if message["files"]:
            payload["files"] = [self._file_object(self.files[f]) for f in message["files"]]
        return payload

    # ------------------------------------------------------------------ view store

    def _peek_trigger(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger_id:
            raise ApiError("invalid_arguments", ["trigger_id is required"])
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger["used"]:
            raise ApiError("exchanged_trigger_id")
        if time.monotonic() - trigger["issued"] > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        return trigger

    def _checked_view(self, args: dict[str, Any], *, kind: str) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments", ["view is required and must be a JSON object"])
        if limits.view_size(view) >= limits.MAX_VIEW_BYTES:
            raise ApiError("view_too_large")
        errors = limits.validate_view(view)
        if not errors and view.get("type") != kind:
            errors.append(f"view.type: must be {kind!r} for this method")
        if errors:
            raise ApiError("invalid_arguments", errors)
        return view

    def _check_external_id(self, view: dict[str, Any]) -> None:
        external_id = view.get("external_id")
        if external_id and any(r["external_id"] == external_id for r in self.views.values()):
            raise ApiError("duplicate_external_id")

    def _new_view(
        self,
        view: dict[str, Any],
        *,
        user: str | None,
        kind: str,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> dict[str, Any]:
        view_id = f"V{next(self._ids):08d}"
        root = root_view_id or view_id
        record = {
            "id": view_id,
            "view": {},
            "user": user,
            "type": kind,
            "hash": "",
            "open": True,
            "external_id": view.get("external_id") or "",
            "stack": {"root_view_id": root, "previous_view_id": previous_view_id},
        }
        self.views[view_id] = record
        self._replace_view(record, view)
        return record

    def _replace_view(self, record: dict[str, Any], view: dict[str, Any]) -> None:
        view_hash = f"{int(time.time())}.{secrets.token_hex(4)}"
        team_id = self.users.get(record["user"] or "", {}).get("team_id", self.team_id)  # the owner's workspace
        full = {
            "id": record["id"],
            "team_id": team_id,
            "type": record["type"],
            "title": None,
            "submit": None,
            "close": None,
            "callback_id": "",
            "private_metadata": "",
            "external_id": record["external_id"],
            "clear_on_close": False,
            "notify_on_close": False,
            "state": {"values": {}},
            **copy.deepcopy(view),
        }
        full.update(
            {
                "id": record["id"],
                "hash": view_hash,
                "blocks": _with_ids(view.get("blocks"), record["id"]) or [],
                "root_view_id": record["stack"]["root_view_id"],
                "previous_view_id": record["stack"]["previous_view_id"],
                "app_id": self.api_app_id,
                "app_installed_team_id": team_id,
                "bot_id": self.bot_id,
            }
        )
        record["view"] = full
        record["hash"] = view_hash
        record["external_id"] = full["external_id"] or ""

    def _push_view(self, source: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        root = source["stack"]["root_view_id"]
        stack = self._stacks.setdefault(root, [])
        record = self._new_view(
            view,
            user=source["user"],
            kind="modal",
            root_view_id=root,
            previous_view_id=stack[-1] if stack else source["id"],
        )
        stack.append(record["id"])
        return record


# ---------------------------------------------------------------------- module functions


def _required(args: dict[str, Any], key: str) -> Any:
    value = args.get(key)
    if value in (None, ""):
        raise ApiError("invalid_arguments", [f"{key} is required"])
    return value


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _check_message(args: dict[str, Any]) -> None:
    """Raise the ApiError Slack would give for a message payload, if any."""
    errors = limits.validate_message_args(args)
    if not errors:
        return
    text = args.get("text")
    if isinstance(text, str) and len(text) > limits.MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long", errors)
    if not text:
        raise ApiError("no_text", errors)
    raise ApiError("invalid_blocks", errors)


def _with_ids(blocks: list[dict[str, Any]] | None, seed: str) -> list[dict[str, Any]] | None:
    """Copy blocks, filling in block_id / action_id where missing, as Slack does."""
    if blocks is None:
        return None
    blocks = copy.deepcopy(blocks)
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(f"{seed}:{index}"))
        elements: list[Any] = []
        if block.get("type") == "actions":
            elements = block.get("elements") or []
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            elements = [block["accessory"]]
        elif block.get("type") == "input" and isinstance(block.get("element"), dict):
            elements = [block["element"]]
        for position, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") in _INTERACTIVE:
                element.setdefault("action_id", _short_id(f"{seed}:{index}:{position}"))
    return blocks


def _short_id(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).hexdigest()
    return "".join(c for c in digest if c.isalnum())[:5]


def _mimetype(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "csv": "text/csv",
        "txt": "text/plain",
        "pdf": "application/pdf",
        "json": "application/json",
    }.get(extension, "application/octet-stream")
