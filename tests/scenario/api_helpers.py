"""Steps the API scenarios share: a token made through `/salesbot api token create`, and a client whose every answer is checked against the OpenAPI document."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from jsonschema import Draft202012Validator

from bot.api.schemas import openapi
from bot.standin import SlackDriver
from tests.scenario.conftest import ADMIN
from tests.scenario.helpers import salesbot

SECRET = re.compile(r"sbk_[A-Za-z0-9_-]{20,}")


async def make_token(driver: SlackDriver, name: str, scope: str = "read", *, user: str = ADMIN) -> str:
    """An admin creates a token in Slack; the secret is read from the ephemeral reply, as the admin would copy it."""
    response = await salesbot(driver, f"api token create {name} {scope}", user=user)
    assert response.get("response_type") == "ephemeral", response
    found = SECRET.search(response["text"]) or SECRET.search(str(response["blocks"]))
    assert found, response
    return found.group(0)


def _path_template(path: str, method: str) -> str:
    """The OpenAPI path a concrete path answers to."""
    for template, item in openapi()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$"
        if method.lower() in item and re.match(pattern, path):
            return template
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def check_answer(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """Fail unless the document lists this status for the operation and the body fits its schema."""
    doc = openapi()
    op = doc["paths"][_path_template(path, method)][method.lower()]
    assert str(status) in op["responses"], f"{method} {path} answered {status}, not in the document"
    spec = op["responses"][str(status)]
    if "$ref" in spec:
        spec = doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
    [(media, content)] = spec["content"].items()
    assert content_type == media, (content_type, media)
    schema = {**content["schema"], "components": doc["components"]}
    Draft202012Validator(schema).validate(body)


class ApiClient:
    """JSON over HTTP to the bot's real server with one token; every answer is checked against the document."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str | None) -> None:
        self.http, self.base, self.token = http, base, token

    async def call(self, method: str, path: str, *, json: Any = None, data: bytes | None = None, headers: dict[str, str] | None = None,
                   params: dict[str, Any] | None = None) -> tuple[int, Any, dict[str, str]]:
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        async with self.http.request(method, self.base + path, json=json, data=data, headers=h, params=params) as resp:
            body = await resp.json(content_type=None)
            check_answer(method, path, resp.status, resp.content_type, body)
            return resp.status, body, dict(resp.headers)

    async def get(self, path: str, **kw):
        return await self.call("GET", path, **kw)

    async def batch(self, kind: str, rows: list[dict[str, Any]], *, key: str | None = None):
        return await self.call("POST", f"/api/v1/{kind}/batch", json={"rows": rows}, headers={"Idempotency-Key": key} if key else None)

    async def pull_until(self, kind: str, done, cursor: str | None = None, *, limit: int = 100, timeout: float = 30.0) -> tuple[list[dict[str, Any]], str]:
        """Pull from `cursor` until `done(rows)` holds: on PostgreSQL a transaction running anywhere on the server
        (another test's, say) holds the feed back until it ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        rows: list[dict[str, Any]] = []
        while True:
            more, cursor = await self.pull(kind, cursor, limit=limit)
            rows += more
            if done(rows) or loop.time() > deadline:
                return rows, cursor
            await asyncio.sleep(0.05)

    async def pull(self, kind: str, cursor: str | None = None, *, limit: int = 100) -> tuple[list[dict[str, Any]], str]:
        """Every page ready now after `cursor`; the rows and the cursor to poll with next."""
        rows: list[dict[str, Any]] = []
        while True:
            params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            status, body, _ = await self.get(f"/api/v1/{kind}", params=params)
            assert status == 200, body
            rows += body["data"]
            cursor = body["next_cursor"]
            if not body["has_more"]:
                return rows, cursor
