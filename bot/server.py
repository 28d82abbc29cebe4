"""The HTTP server: Slack's requests on POST /slack/events; /healthz, /readyz and /metrics for operators.

The edge checks what Bolt would otherwise trip over: the signature is verified on the raw
bytes before anything is parsed (unsigned: 401), a signed body that is not what Slack sends
is refused (400), and control characters are stripped from every text of the parsed body
(PostgreSQL refuses NUL bytes) before Bolt sees it. None of these leave a traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.api.routes import ApiConfig, api_routes
from bot.db import Database, is_at_head
from bot.metrics import CONTENT_TYPE, Metrics, request_kind
from bot.unit import AFTER_ACK

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
# The parsed request, kept on aiohttp's request for the count (typed keys since aiohttp 3.12).
BOLT_REQUEST = web.RequestKey("bolt_request", AsyncBoltRequest) if hasattr(web, "RequestKey") else "salesbot.bolt_request"
# A readiness probe that hangs is worse than one that says no.
READY_TIMEOUT = 5.0
# Slack's payloads are small; a larger body is not Slack and is refused before parsing.
MAX_BODY = 1024 * 1024
# Slack refuses to sign for longer than this; older requests are replays.
MAX_AGE_SECONDS = 5 * 60
# C0 controls but tab and newline, DEL, and lone surrogates (JSON can escape them; no database stores them).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


class Malformed(ValueError):
    """A signed body that is not one Slack sends."""


def signature_ok(secret: str, raw: bytes, timestamp: str | None, signature: str | None, *, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, made within the last five minutes."""
    if not secret or not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v0=" + expected, signature)


def parse_body(text: str, content_type: str | None) -> dict[str, Any]:
    """Slack's body as a dict: JSON (events), a form with a JSON `payload` (interactivity), or a form (commands)."""
    if not text:
        raise Malformed("empty body")
    try:
        if content_type == "application/json" or text.startswith("{"):
            body = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            body = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting no Slack payload has
        raise Malformed(str(exc)) from None
    if not isinstance(body, dict):
        raise Malformed(f"a JSON {type(body).__name__}, not an object")
    return body


def scrub(value: Any) -> Any:
    """The same JSON value with control characters removed from every string (tab and newline kept)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def bolt_request(raw: str, body: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    """A Bolt request carrying the raw text (Bolt checks the signature again) and the clean body."""
    req = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    req.raw_body = raw
    req.body = body
    try:
        req.context = build_async_context(AsyncBoltContext(), body)
    except (AttributeError, TypeError, KeyError, IndexError) as exc:  # ids of the wrong shape
        raise Malformed(f"unexpected shape: {exc}") from None
    return req


def ops_routes(db: Database, metrics: Metrics, *, metrics_token: str | None = None) -> list[web.RouteDef]:
    """GET /healthz (the process and its database answer), /readyz (and migrations are at head), /metrics."""

    async def healthz(_request: web.Request) -> web.Response:
        ok = await db.ping()
        return web.json_response({"ok": ok, "database": "up" if ok else "down"}, status=200 if ok else 503)

    async def readyz(_request: web.Request) -> web.Response:
        try:
            at_head = await asyncio.wait_for(is_at_head(db), READY_TIMEOUT)
        except Exception as exc:  # unreachable, refused, timed out: not ready, whatever the driver says
            log.warning("not ready: the database does not answer: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return web.json_response({"ok": False, "reason": "database unreachable"}, status=503)
        if not at_head:
            return web.json_response({"ok": False, "reason": "migrations not at head: run `salesbot db upgrade`"}, status=503)
        return web.json_response({"ok": True}, status=200)

    async def metrics_page(request: web.Request) -> web.Response:
        if metrics_token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {metrics_token}".encode()):
                return web.json_response({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
        return web.Response(body=await metrics.scrape(db), headers={"Content-Type": CONTENT_TYPE})

    return [web.get(HEALTH_PATH, healthz), web.get(READY_PATH, readyz), web.get(METRICS_PATH, metrics_page)]


def build_web_app(
    app: AsyncApp, db: Database, *, signing_secret: str, metrics: Metrics | None = None, metrics_token: str | None = None,
    api: ApiConfig | None = None,
) -> web.Application:
    """The aiohttp application serving Bolt, the health and readiness checks, the metrics and the API (/api/v1).

    Pass the Deps' metrics, so the counters the listeners and jobs move are the ones served.
    """
    metrics = metrics if metrics is not None else Metrics()

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        if not signature_ok(signing_secret, raw, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            text = raw.decode("utf-8")
            req = bolt_request(text, scrub(parse_body(text, request.content_type)), request)
        except (Malformed, UnicodeDecodeError, RecursionError) as exc:
            log.warning("refused a signed request that is not Slack's: %s", exc)
            return web.json_response({"error": "malformed request"}, status=400)
        request[BOLT_REQUEST] = req
        return await to_aiohttp_response(await app.async_dispatch(req))

    @web.middleware
    async def count_requests(request: web.Request, handler) -> web.StreamResponse:
        """Count each Slack request by kind and outcome, and time its answer."""
        if request.path != EVENTS_PATH:
            return await handler(request)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # a body over the limit, say
            status = exc.status
            raise
        finally:
            req = request.get(BOLT_REQUEST)
            kind = request_kind(req.body) if req is not None else "unknown"
            # The middleware names the requests it answered itself (a replay, the database down).
            outcome = req.context.get("outcome") if req is not None else None
            if outcome is None:
                outcome = _outcome(status, parsed=req is not None)
            metrics.request(kind, outcome, time.perf_counter() - started)

    web_app = web.Application(client_max_size=MAX_BODY, middlewares=[count_requests])
    web_app.cleanup_ctx.append(slack_connections(app))
    web_app.add_routes([web.post(EVENTS_PATH, slack_events), *ops_routes(db, metrics, metrics_token=metrics_token), *api_routes(db, api)])
    if app.oauth_flow is not None:
        web_app.add_routes(install_routes(app))
    return web_app


def slack_connections(app: AsyncApp):
    """While the server runs, the listeners' Web API calls share kept-alive connections.

    Bolt gives each request a client with the app client's session; without one, slack_sdk
    opens a connection (a TLS handshake, to Slack) per call, out of the 3 s a trigger_id lasts.
    """

    async def keep_alive(_web_app: web.Application):
        client = app.client
        if client.session is not None:
            yield
            return
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout)) as http:
            client.session = http
            try:
                yield
            finally:
                client.session = None

    return keep_alive


def install_routes(app: AsyncApp) -> list[web.RouteDef]:
    """GET the install page (Add to Slack, a new state) and the redirect Slack sends back with a code (OAuth mode)."""
    flow = app.oauth_flow
    assert flow is not None

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def redirect(request: web.Request) -> web.Response:
        # The flow refuses a state that is forged, replayed or from another browser before using the code.
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    return [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, redirect)]


def _outcome(status: int, *, parsed: bool) -> str:
    """A request's outcome from its HTTP status: ok, unauthorized, malformed, refused or error."""
    if status == 401:
        return "unauthorized"
    if status == 400 and not parsed:
        return "malformed"
    return "ok" if status < 400 else "refused" if status < 500 else "error"


def build_ops_app(db: Database, metrics: Metrics, *, metrics_token: str | None = None) -> web.Application:
    """Health, readiness and metrics alone: what a clock process serves on SALESBOT_METRICS_PORT."""
    web_app = web.Application()
    web_app.add_routes(ops_routes(db, metrics, metrics_token=metrics_token))
    return web_app


async def settle_listeners(timeout: float = 10.0) -> bool:
    """Wait for the work listeners do after their ack; True when all of it has finished.

    Bolt runs each listener in a background task and answers Slack as soon as it acks, so
    a shutdown (or a test) must let those tasks finish before the database closes.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    me = asyncio.current_task()
    while True:
        pending = [t for t in asyncio.all_tasks() if t is not me and not t.done() and _is_listener_task(t)]
        if not pending:
            return True
        if loop.time() >= deadline:
            log.warning("%d listener task(s) still running at shutdown", len(pending))
            return False
        await asyncio.sleep(0.02)


def _is_listener_task(task: asyncio.Task) -> bool:
    if task.get_name() == AFTER_ACK:
        return True
    coro = task.get_coro()
    return getattr(coro, "__qualname__", "").endswith("run_ack_function_asynchronously")


class BotServer:
    """Runs the web app on a host and port until stopped (used by `run`, the demo and tests)."""

    def __init__(self, web_app: web.Application, *, host: str = "0.0.0.0", port: int = 3000) -> None:
        self.web_app = web_app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and serve; with port 0 a free port is chosen and stored in `port`."""
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # the port the OS picked
        log.info("listening on http://%s:%s%s", self.host, self.port, EVENTS_PATH)

    @property
    def url(self) -> str:
        """The events URL on loopback."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}{EVENTS_PATH}"

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Stop accepting requests, let listeners finish their work (up to `timeout`), then close connections."""
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()  # the listening socket closes; requests already read go on
        await settle_listeners(timeout)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
