"""The HTTP server: Slack's requests on POST /slack/events, health on GET /healthz."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.db import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a larger body is not Slack and is refused before parsing.
MAX_BODY = 1024 * 1024


def build_web_app(app: AsyncApp, db: Database) -> web.Application:
    """The aiohttp application serving Bolt and the health check."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    async def healthz(_request: web.Request) -> web.Response:
        ok = await db.ping()
        return web.json_response({"ok": ok, "database": "up" if ok else "down"}, status=200 if ok else 503)

    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.add_routes([web.post(EVENTS_PATH, slack_events), web.get(HEALTH_PATH, healthz)])
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

    async def stop(self) -> None:
        """Let listeners finish their work, then stop serving and close connections."""
        await settle_listeners()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
