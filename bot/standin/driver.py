"""Sends the bot the signed HTTP requests Slack would send.

Slash commands, button clicks, modal submissions, option suggestions and Events API
callbacks are built from what the bot actually put on screen (messages and views stored by
:class:`~bot.standin.server.SlackStandIn`), so a test can only click what a member could.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.standin import limits
from bot.standin.server import SlackStandIn

ACK_TIMEOUT = 3.0
VERIFICATION_TOKEN = "standin-verification-token"

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"
_OPTION_SINGLE = frozenset({"static_select", "radio_buttons", "overflow"})
_OPTION_MULTI = frozenset({"multi_static_select", "checkboxes"})
_PICKER_KEYS = {
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}
_EXTERNAL = frozenset({"external_select", "multi_external_select"})
_VALUE_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
# Elements that keep a value in a view's or message's state (buttons and overflows do not).
_STATEFUL = (
    _OPTION_SINGLE - {"overflow"}
    | _OPTION_MULTI
    | set(_PICKER_KEYS)
    | _VALUE_INPUTS
    | {"external_select", "multi_external_select", "rich_text_input", "file_input"}
)


@dataclass
class Reply:
    """The bot's HTTP answer to one request, plus the tokens that request carried."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    response_url: str | None = None
    trigger_id: str | None = None
    slack: SlackStandIn | None = field(default=None, repr=False)

    async def responses(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait for ``count`` POSTs to this request's response_url and return their payloads."""
        if self.response_url is None or self.slack is None:
            raise AssertionError("this request carried no response_url")
        return await self.slack.wait_for_responses(self.response_url, count=count, timeout=timeout)


class SlackDriver:
    """Plays Slack's side of the bot's HTTP endpoint (``POST /slack/events``)."""

    def __init__(
        self,
        *,
        bot_url: str,
        signing_secret: str,
        slack: SlackStandIn,
        ack_timeout: float | None = ACK_TIMEOUT,
        team_id: str | None = None,
    ) -> None:
        self.bot_url = bot_url
        self.slack = slack
        # The workspace this driver's members act in (the stand-in's first one unless told).
        self.team_id = team_id or slack.team_id
        self.workspace = slack.workspaces[self.team_id]
        self.ack_timeout = ack_timeout
        self._verifier = SignatureVerifier(signing_secret)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ signing and sending

    def signed_headers(self, body: bytes | str, *, timestamp: int | None = None) -> dict[str, str]:
        """Headers Slack sends with ``body``: timestamp, v0 signature and content type."""
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self._verifier.generate_signature(timestamp=ts, body=text),
            "Content-Type": _JSON if text.lstrip().startswith("{") else _FORM,
        }

    async def send_raw(self, body: bytes | str, headers: dict[str, str]) -> Reply:
        """POST ``body`` with exactly ``headers`` (for signature and replay tests)."""
        return await self._send(body, headers)

    async def _send(
        self,
        body: bytes | str,
        headers: dict[str, str],
        *,
        response_url: str | None = None,
        trigger_id: str | None = None,
        check_ack: bool = False,
    ) -> Reply:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        data = body.encode("utf-8") if isinstance(body, str) else body
        started = time.monotonic()
        async with self._session.post(self.bot_url, data=data, headers=headers) as res:
            raw = await res.text()
            elapsed = time.monotonic() - started
            reply = Reply(
                status=res.status,
                body=_parse_body(raw, res.content_type),
                headers=dict(res.headers),
                elapsed=elapsed,
                response_url=response_url,
                trigger_id=trigger_id,
                slack=self.slack,
            )
        if check_ack and self.ack_timeout is not None and elapsed > self.ack_timeout:
            raise AssertionError(
                f"the bot answered after {elapsed:.2f}s; Slack gives up after {self.ack_timeout}s "
                "(ack first, then do the slow work)"
            )
        return reply

    async def _send_form(self, fields: dict[str, str], **tokens: Any) -> Reply:
        body = urlencode(fields)
        return await self._send(body, self.signed_headers(body), check_ack=True, **tokens)

    async def _send_payload(self, payload: dict[str, Any], **tokens: Any) -> Reply:
        return await self._send_form({"payload": json.dumps(payload)}, **tokens)

    # ------------------------------------------------------------------ slash commands

    async def slash(
        self, command: str, text: str = "", *, user: str, channel: str = "C0GENERAL"
    ) -> Reply:
        """Run a slash command as ``user`` in ``channel``."""
        member = self.slack.ensure_user(user)
        channel_name = self._channel_name(channel)
        response_url = self.slack.new_response_url(channel=channel, user=user)
        trigger_id = self.slack.new_trigger_id(user=user)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.workspace["domain"],
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": member["name"],
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": self.slack.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        reply = await self._send_form(fields, response_url=response_url, trigger_id=trigger_id)
        if reply.status == 200:
            self.slack.apply_command_reply(response_url, reply.body)
        return reply

    # ------------------------------------------------------------------ block actions

    async def click(
        self,
        source: dict[str, Any],
        action_id: str,
        *,
        user: str,
        value: Any = None,
        block_id: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> Reply:
        """Use the element ``action_id`` in a stored message or view, as ``user``.

        ``value`` picks a button by its value, or chooses the option(s) / user / date of a
        select or picker. ``values`` sets what the member typed into a view's inputs first.
        """
        kind, current = self._resolve_source(source)
        self._check_visible(kind, current, user)
        return await self._click_on(kind, current, action_id, user=user, value=value, block_id=block_id, values=values)

    async def double_click(
        self, source: dict[str, Any], action_id: str, *, user: str, value: Any = None, block_id: str | None = None
    ) -> tuple[Reply, Reply]:
        """Click an element twice before the bot's redraw reaches the member, as a double click does.

        Both clicks carry the message or view as it was before the first one, whenever the
        bot's redraw of the first click lands; so the second click is always sent, and the
        bot must make it harmless.
        """
        kind, current = self._resolve_source(source)
        self._check_visible(kind, current, user)
        shown = copy.deepcopy(current)
        first = await self._click_on(kind, shown, action_id, user=user, value=value, block_id=block_id)
        second = await self._click_on(kind, shown, action_id, user=user, value=value, block_id=block_id)
        return first, second

    async def wait_for_element(
        self, source: dict[str, Any], action_id: str, *, value: Any = None, block_id: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Wait until the current version of a message or view shows the element; return that version.

        For a click on something the bot draws or redraws after its ack (a card posted later,
        a list redrawn through the response_url, a Home republished).
        """

        def shown() -> dict[str, Any] | None:
            kind, current = self._resolve_source(source)
            blocks = current["blocks"] if kind == "message" else current["view"]["blocks"]
            try:
                _find_element(blocks or [], action_id, value=value, block_id=block_id)
            except AssertionError:
                return None
            return current

        where = f" in block {block_id!r}" if block_id else ""
        return await self.slack.wait_until(shown, what=f"an element {action_id!r}{where} in {source.get('id')}", timeout=timeout)

    async def _click_on(
        self,
        kind: str,
        current: dict[str, Any],
        action_id: str,
        *,
        user: str,
        value: Any = None,
        block_id: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> Reply:
        """Send the block_actions payload for a click on ``current`` (a message, or a view record)."""
        member = self.slack.ensure_user(user)
        blocks = current["blocks"] if kind == "message" else current["view"]["blocks"]
        block, element = _find_element(blocks or [], action_id, value=value, block_id=block_id)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise AssertionError(f"input {action_id!r} does not dispatch actions (no dispatch_action)")
        action = _action_payload(block, element, value)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(member),
            "api_app_id": self.slack.api_app_id,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        response_url = None
        if kind == "message":
            channel = current["channel"]
            payload["container"] = {
                "type": "message",
                "message_ts": current["ts"],
                "channel_id": channel,
                "is_ephemeral": current["ephemeral"],
            }
            payload["channel"] = {"id": channel, "name": self._channel_name(channel)}
            if not current["ephemeral"]:
                # Slack leaves the message out of payloads from ephemeral messages.
                payload["message"] = self.slack.message_payload(current)
            payload["state"] = {"values": _state(current["blocks"] or [], values or {})}
            response_url = self.slack.new_response_url(
                channel=channel,
                user=user,
                message_ts=None if current["ephemeral"] else current["ts"],
                ephemeral_id=current["id"] if current["ephemeral"] else None,
            )
            payload["response_url"] = response_url
            trigger_id = self.slack.new_trigger_id(user=user)
        else:
            payload["container"] = {"type": "view", "view_id": current["id"]}
            payload["view"] = self._view_payload(current, values or {})
            trigger_id = self.slack.new_trigger_id(user=user, view_id=current["id"])
        payload["trigger_id"] = trigger_id
        return await self._send_payload(payload, response_url=response_url, trigger_id=trigger_id)

    # ------------------------------------------------------------------ modals

    async def submit_view(
        self, view_id: str, *, user: str, values: dict[str, Any] | None = None
    ) -> Reply:
        """Submit an open modal with ``values`` (block_id -> value) typed by ``user``."""
        values = values or {}
        member = self.slack.ensure_user(user)
        record = self._open_modal(view_id, user)
        blocks = record["view"]["blocks"]
        input_ids = {b["block_id"] for b in blocks if b.get("type") == "input"}
        stray = sorted(set(values) - {b["block_id"] for b in blocks})
        if stray:
            raise AssertionError(f"view {view_id} has no block(s) {stray}; it has {sorted(input_ids)}")
        state = _state(blocks, values)
        _check_required(blocks, state)
        trigger_id = self.slack.new_trigger_id(user=user, view_id=view_id)
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(member),
            "api_app_id": self.slack.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": self._view_payload(record, values, state=state),
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        reply = await self._send_payload(payload, trigger_id=trigger_id)
        if reply.status == 200:
            self.slack.apply_submission_reply(view_id, reply.body)
        return reply

    async def close_view(self, view_id: str, *, user: str) -> Reply | None:
        """Close a modal as ``user``; returns None when Slack would not notify the bot.

        Slack only sends ``view_closed`` for views opened with ``notify_on_close``.
        """
        member = self.slack.ensure_user(user)
        record = self._open_modal(view_id, user)
        clear = bool(record["view"].get("clear_on_close"))
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(member),
            "api_app_id": self.slack.api_app_id,
            "token": VERIFICATION_TOKEN,
            "view": self._view_payload(record, {}),
            "is_cleared": clear,
            "enterprise": None,
            "is_enterprise_install": False,
        }
        notify = bool(record["view"].get("notify_on_close"))
        self.slack.close_modal(view_id, clear=clear)
        if not notify:
            return None
        return await self._send_payload(payload)

    async def suggest(
        self, view_id: str, action_id: str, query: str, *, user: str, block_id: str | None = None
    ) -> Reply:
        """Type ``query`` into an external_select of a view; the bot answers with options."""
        member = self.slack.ensure_user(user)
        record = self.slack.views.get(view_id)
        if record is None or not record["open"]:
            raise AssertionError(f"view {view_id} is not open")
        block, element = _find_element(
            record["view"]["blocks"], action_id, block_id=block_id, kinds=_EXTERNAL
        )
        min_length = element.get("min_query_length", 3)
        if len(query) < min_length:
            raise AssertionError(
                f"Slack only asks for options after {min_length} characters; got {query!r}"
            )
        payload = {
            "type": "block_suggestion",
            "user": self._user(member),
            "container": {"type": "view", "view_id": view_id},
            "api_app_id": self.slack.api_app_id,
            "token": VERIFICATION_TOKEN,
            "action_id": action_id,
            "block_id": block["block_id"],
            "value": query,
            "team": self._team(),
            "view": self._view_payload(record, {}),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        reply = await self._send_payload(payload)
        if reply.status == 200:
            self.slack.record_reply(
                "block_suggestion.response", reply.body, limits.validate_options_response(reply.body)
            )
        return reply

    # ------------------------------------------------------------------ Events API

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Reply:
        """Deliver an Events API callback wrapping ``event``."""
        now = time.time()
        inner = {"event_ts": f"{now:.6f}", **event}
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.slack.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.workspace["bot_user_id"],
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        body = json.dumps(envelope)
        headers = self.signed_headers(body)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        return await self._send(body, headers, check_ack=True)

    async def open_home(self, user: str) -> Reply:
        """``user`` opens the bot's Home tab (``app_home_opened``)."""
        self.slack.ensure_user(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.slack.dm_channel(user),
            "tab": "home",
        }
        home = self.slack.home(user)
        if home is not None:
            event["view"] = self._view_payload(home, {})
        return await self.event(event)

    async def url_verification(self, challenge: str = "standin-challenge") -> Reply:
        """Send the handshake Slack uses when the request URL is configured."""
        body = json.dumps(
            {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        )
        return await self._send(body, self.signed_headers(body), check_ack=True)

    # ------------------------------------------------------------------ payload parts

    def _user(self, member: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": member["id"],
            "username": member["name"],
            "name": member["name"],
            "team_id": self.team_id,
        }

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.workspace["domain"]}

    def _channel_name(self, channel: str) -> str:
        record = self.slack.ensure_channel(channel)
        if record["is_im"] or channel.startswith("D"):
            return "directmessage"
        return record["name"]

    def _resolve_source(self, source: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Return ("message", message) or ("view", view record), current versions."""
        if "ts" in source and "channel" in source and "id" in source:
            current = self.slack.find_message(source["id"])
            if current is None:
                raise AssertionError(f"message {source['id']} ({source.get('text')!r}) is gone")
            return "message", current
        view_id = source.get("id")
        record = self.slack.views.get(view_id) if isinstance(view_id, str) else None
        if record is None:
            raise AssertionError("source is neither a stored message nor a stored view")
        if not record["open"]:
            raise AssertionError(f"view {view_id} is closed")
        if record["type"] == "modal":
            stack = self.slack.modal_stack(view_id)
            if stack and stack[-1] != view_id:
                raise AssertionError(f"view {view_id} is covered by pushed view {stack[-1]}")
        return "view", record

    def _check_visible(self, kind: str, current: dict[str, Any], user: str) -> None:
        """Refuse a click on something ``user`` cannot see."""
        if kind == "message":
            owner = current["user"] if current["ephemeral"] else None
            owner = owner or self.slack.channels.get(current["channel"], {}).get("user")
            where = "ephemeral message" if current["ephemeral"] else "DM"
        else:
            owner = current["user"]
            where = "modal" if current["type"] == "modal" else "Home tab"
        if owner is not None and owner != user:
            raise AssertionError(f"{user} cannot see {owner}'s {where}")

    def _open_modal(self, view_id: str, user: str) -> dict[str, Any]:
        record = self.slack.views.get(view_id)
        if record is None or record["type"] != "modal":
            raise AssertionError(f"no modal {view_id} was opened")
        if not record["open"]:
            raise AssertionError(f"modal {view_id} is closed")
        stack = self.slack.modal_stack(view_id)
        if stack and stack[-1] != view_id:
            raise AssertionError(f"modal {view_id} is covered by pushed view {stack[-1]}")
        if record["user"] not in (None, user):
            raise AssertionError(f"modal {view_id} belongs to {record['user']}, not {user}")
        return record

    def _view_payload(
        self,
        record: dict[str, Any],
        values: dict[str, Any],
        *,
        state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        view = json.loads(json.dumps(record["view"]))
        view["state"] = {"values": state if state is not None else _state(view["blocks"], values)}
        return view


# ---------------------------------------------------------------------- element lookup


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block.get("type")
    if kind == "actions":
        return [e for e in block.get("elements") or [] if isinstance(e, dict)]
    if kind == "section" and isinstance(block.get("accessory"), dict):
        return [block["accessory"]]
    if kind == "input" and isinstance(block.get("element"), dict):
        return [block["element"]]
    return []


def _find_element(
    blocks: list[dict[str, Any]],
    action_id: str,
    *,
    value: Any = None,
    block_id: str | None = None,
    kinds: frozenset[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The single (block, element) with ``action_id`` that ``value``/``block_id`` select."""
    candidates = [
        (block, element)
        for block in blocks
        for element in _elements(block)
        if element.get("action_id") == action_id
        and (block_id is None or block.get("block_id") == block_id)
        and (kinds is None or element.get("type") in kinds)
    ]
    if not candidates:
        available = sorted(
            {str(e.get("action_id")) for b in blocks for e in _elements(b) if e.get("type") != "image"}
        )
        raise AssertionError(
            f"the bot never showed an element {action_id!r}"
            f"{f' in block {block_id!r}' if block_id else ''}; available: {available}"
        )
    if value is not None:
        narrowed = [(b, e) for b, e in candidates if _offers(e, value)]
        if not narrowed:
            raise AssertionError(f"no {action_id!r} element offers value {value!r}")
        candidates = narrowed
    if len(candidates) > 1:
        where = [(b.get("block_id"), e.get("value")) for b, e in candidates]
        raise AssertionError(
            f"{len(candidates)} elements {action_id!r} (block_id, value): {where}; "
            "pass value= or block_id= to choose one"
        )
    return candidates[0]


def _offers(element: dict[str, Any], value: Any) -> bool:
    kind = element.get("type")
    if kind == "button":
        return element.get("value") == value
    if kind in _OPTION_SINGLE or kind in _OPTION_MULTI:
        wanted = value if isinstance(value, list) else [value]
        offered = {o.get("value") for o in _all_options(element)}
        return all(v in offered for v in wanted)
    return True


def _all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in _all_options(element):
        if option.get("value") == value:
            return json.loads(json.dumps(option))
    offered = [o.get("value") for o in _all_options(element)]
    raise AssertionError(
        f"{element.get('action_id')!r} offers no option {value!r}; offered: {offered}"
    )


def _external_option(value: Any) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


# ---------------------------------------------------------------------- payload encoding


def _action_payload(block: dict[str, Any], element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element["type"]
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element["action_id"],
        "block_id": block["block_id"],
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
        return action
    if value is None:
        raise AssertionError(f"pass value= to choose what {element['action_id']!r} selects")
    action.update(_encode(element, value))
    return action


def _encode(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The state/action fields for ``element`` holding ``value`` (None = nothing chosen)."""
    kind = element["type"]
    if kind in _OPTION_SINGLE:
        return {"selected_option": None if value is None else _option(element, value)}
    if kind in _OPTION_MULTI:
        chosen = [] if value is None else _as_list(value)
        return {"selected_options": [_option(element, v) for v in chosen]}
    if kind == "external_select":
        return {"selected_option": None if value is None else _external_option(value)}
    if kind == "multi_external_select":
        chosen = [] if value is None else _as_list(value)
        return {"selected_options": [_external_option(v) for v in chosen]}
    if kind in _PICKER_KEYS:
        key = _PICKER_KEYS[kind][0]
        if kind.startswith("multi_"):
            return {key: [] if value is None else _as_list(value)}
        if isinstance(value, dt.datetime) and kind == "datetimepicker":
            return {key: int(value.timestamp())}
        if isinstance(value, dt.date) and kind == "datepicker":
            return {key: value.strftime("%Y-%m-%d")}
        if kind == "datepicker" and value is not None:
            dt.date.fromisoformat(str(value))  # a malformed date is a test mistake: fail loudly
        if isinstance(value, dt.time) and kind == "timepicker":
            return {key: value.strftime("%H:%M")}
        return {key: value}
    if kind in _VALUE_INPUTS:
        return {"value": None if value is None else str(value)}
    if kind == "rich_text_input":
        return {"rich_text_value": _rich_text(value)}
    if kind == "file_input":
        return {"files": [] if value is None else _as_list(value)}
    raise AssertionError(f"element type {kind!r} holds no value")


def _initial(element: dict[str, Any]) -> Any:
    """The value a fresh element shows before the member changes it."""
    kind = element["type"]
    if kind in _OPTION_SINGLE or kind == "external_select":
        option = element.get("initial_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind in _OPTION_MULTI or kind == "multi_external_select":
        options = element.get("initial_options") or []
        return [o.get("value") for o in options] or None
    if kind in _PICKER_KEYS:
        return element.get(_PICKER_KEYS[kind][1])
    if kind in _VALUE_INPUTS or kind == "rich_text_input":
        return element.get("initial_value")
    return None


def _initial_encoded(element: dict[str, Any]) -> dict[str, Any]:
    kind = element["type"]
    if kind in ("external_select", "multi_external_select"):
        # External options are not in the view; Slack echoes the initial option objects.
        if kind == "external_select":
            return {"selected_option": element.get("initial_option")}
        return {"selected_options": list(element.get("initial_options") or [])}
    if kind == "rich_text_input":
        return {"rich_text_value": element.get("initial_value")}
    return _encode(element, _initial(element))


def _rich_text(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    return {
        "type": "rich_text",
        "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}
        ],
    }


def _state(blocks: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """``state.values`` for ``blocks``: given values where set, initial values elsewhere.

    For an input block the value is the element's value; for an actions or section block
    it is a dict of action_id -> value.
    """
    state: dict[str, dict[str, Any]] = {}
    for block in blocks:
        block_id = block.get("block_id")
        elements = [e for e in _elements(block) if e.get("type") in _STATEFUL]
        if not elements or block_id is None:
            if block_id in values:
                raise AssertionError(f"block {block_id!r} holds no input the member can fill")
            continue
        given = values.get(block_id, _MISSING)
        per_action: dict[str, Any]
        if block.get("type") == "input":
            per_action = {} if given is _MISSING else {elements[0]["action_id"]: given}
        elif given is _MISSING:
            per_action = {}
        elif isinstance(given, dict):
            per_action = given
        else:
            raise AssertionError(f"block {block_id!r} is not an input; give a dict of action_id -> value")
        state[block_id] = {}
        for element in elements:
            action_id = element["action_id"]
            if action_id in per_action:
                fields = _encode(element, per_action[action_id])
            else:
                fields = _initial_encoded(element)
            state[block_id][action_id] = {"type": element["type"], **fields}
    return state


def _check_required(blocks: list[dict[str, Any]], state: dict[str, Any]) -> None:
    """Refuse a submission the Slack client itself would block."""
    for block in blocks:
        if block.get("type") != "input":
            continue
        element = block["element"]
        entry = state.get(block["block_id"], {}).get(element["action_id"], {})
        filled = _filled(entry)
        if not filled and not block.get("optional"):
            raise AssertionError(
                f"input {block['block_id']!r} is required; Slack would not let the member submit"
            )
        value = entry.get("value")
        if isinstance(value, str) and element["type"] == "plain_text_input":
            if "max_length" in element and len(value) > element["max_length"]:
                raise AssertionError(f"input {block['block_id']!r} is longer than max_length")
            if value and "min_length" in element and len(value) < element["min_length"]:
                raise AssertionError(f"input {block['block_id']!r} is shorter than min_length")
        if isinstance(value, str) and value and element["type"] == "number_input":
            _check_number(block["block_id"], element, value)


def _check_number(block_id: str, element: dict[str, Any], value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        raise AssertionError(f"input {block_id!r} needs a number, got {value!r}") from None
    if not element.get("is_decimal_allowed") and not number.is_integer():
        raise AssertionError(f"input {block_id!r} does not allow decimals")
    for key, bad in (("min_value", number < float(element.get("min_value", number))),
                     ("max_value", number > float(element.get("max_value", number)))):
        if bad:
            raise AssertionError(f"input {block_id!r} is outside {key} {element[key]}")


def _filled(entry: dict[str, Any]) -> bool:
    for key, value in entry.items():
        if key != "type" and value not in (None, "", [], {}):
            return True
    return False


def _parse_body(raw: str, content_type: str) -> Any:
    if not raw:
        return None
    if content_type == _JSON or raw.lstrip().startswith(("{", "[")):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class _Missing:
    pass


_MISSING: Any = _Missing()
