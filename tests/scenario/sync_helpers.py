"""Loopback HTTP peers for the sync scenarios: a webhook receiver and a file server, both real aiohttp servers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.blocks import ids
from bot.models import OutboxMessage
from jobs.outbox import Sender, SenderConfig, make_sender_client
from tests.scenario.conftest import REP1, settle

DOCS = Path(__file__).resolve().parents[2] / "docs"


@dataclass
class Delivery:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on loopback: answers the scripted statuses in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    always: int | None = None
    got: list[Delivery] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        self.got.append(Delivery(headers=dict(request.headers), body=await request.read()))
        status = self.always or (self.statuses.pop(0) if self.statuses else 200)
        return web.Response(status=status, text="ok" if status < 300 else "nope")

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class FileServer:
    """Serves one file at /data.<ext> with an ETag, answering 304 to a matching If-None-Match."""

    content: bytes = b""
    content_type: str = "text/csv"
    name: str = "data.csv"
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    honour_etag: bool = True  # False: a server that always sends the whole file
    _runner: web.AppRunner | None = None

    async def _get(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        etag = '"' + hashlib.sha256(self.content).hexdigest()[:16] + '"'
        if self.honour_etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.content, headers={"ETag": etag, "Content-Type": self.content_type})

    async def start(self) -> FileServer:
        app = web.Application()
        app.router.add_get(f"/{self.name}", self._get)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/{self.name}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def documented_verify():
    """The verification snippet of docs/webhooks.md, run verbatim; returns its `verify` function."""
    text = (DOCS / "webhooks.md").read_text(encoding="utf-8")
    [snippet] = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - the documented code itself
    return namespace["verify"]


def sender_for(deps, **config: Any) -> Sender:
    """An outbox sender like the clock's, on the real clock, pointed at the stand-in."""
    cfg = SenderConfig(poll_seconds=0.05, **config)
    return Sender(deps.db, make_sender_client(deps.settings, cfg), config=cfg, i18n=deps.i18n, admins=deps.settings.admins, metrics=deps.metrics)


async def outbox_rows(db, job: str) -> list[OutboxMessage]:
    """Outbox rows of one job, oldest first."""
    async with db.session() as s:
        return list((await s.execute(select(OutboxMessage).where(OutboxMessage.job == job).order_by(OutboxMessage.id))).scalars())


async def win_a_deal(driver, slack, *, title: str = "Globex rollout") -> dict:
    """REP1 creates a deal with the /deal modal and clicks Won on the card the bot sent; returns the card."""
    reply = await driver.slash("/deal", "", user=REP1)
    assert reply.status == 200, reply
    [call] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id)
    modal = call.response["view"]
    saved = await driver.submit_view(modal["id"], user=REP1, values={
        ids.DEAL_NEW_CUSTOMER: f"{title} Inc", ids.DEAL_PRODUCT: "A", ids.DEAL_TITLE: title, ids.DEAL_AMOUNT: "120000",
    })
    assert saved.status == 200 and not saved.body, saved.body
    await settle()
    await reply.responses()
    card = slack.ephemerals_for(REP1)[-1]
    reply = await driver.click(card, ids.DEAL_WON, user=REP1)
    assert reply.status == 200, reply
    await settle()
    return card

