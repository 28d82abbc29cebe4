"""The /api/v1 routes on the bot's aiohttp server: bearer tokens, JSON in and out, problem details on error.

Every request names its token; the token's workspace filters every query. Writes need a write
token, take an Idempotency-Key, and are all or nothing. Bodies are read up to MAX_BODY bytes
(the Slack endpoint's smaller cap does not apply here). Nothing here logs a header or a body.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.api.schemas import KINDS, batch_model, openapi, upsert_model
from bot.db import Database
from bot.i18n import I18n
from bot.models import ApiScope, ApiToken, SyncRunKind, SyncRunStatus, Workspace, utcnow
from bot.services import api_feed, api_write, sync_runs
from bot.services.api_tokens import authenticate

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
MAX_BODY = 5 * 1024 * 1024
PROBLEM_JSON = "application/problem+json"
DEFAULT_RATE_PER_MINUTE = 600
# A write that meets a concurrent one on the same rows (a unique key, a deadlock) is tried again from the start.
WRITE_ATTEMPTS = 3


@dataclass
class ApiConfig:
    """What the API needs besides the database: its per-token rate limit, the clock and the catalogs."""

    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    clock: Callable[[], datetime] = utcnow
    i18n: I18n | None = None
    _loc: Any = field(default=None, repr=False)

    def loc(self):
        """English messages (the importer's catalog ids): an integrator's logs read the same everywhere."""
        if self._loc is None:
            if self.i18n is None:
                self.i18n = I18n()
            self._loc = self.i18n.get("en-US")
        return self._loc


class Problem(Exception):
    """An answer in problem details (RFC 9457)."""

    def __init__(self, status: int, title: str, detail: str | None = None, *, kind: str = "about:blank",
                 errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.detail, self.kind, self.errors, self.headers = status, title, detail, kind, errors, headers

    def response(self) -> web.Response:
        body: dict[str, Any] = {"type": self.kind, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors is not None:
            body["errors"] = self.errors
        return web.Response(text=json.dumps(body, ensure_ascii=False), status=self.status, content_type=PROBLEM_JSON, headers=self.headers)


def _problem_type(name: str) -> str:
    return f"urn:salesbot:problem:{name}"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status, content_type="application/json", headers=headers)


@dataclass
class Caller:
    """The token behind a request and its workspace."""

    token: ApiToken
    workspace: Workspace


Handler = Callable[[web.Request, Caller], Awaitable[web.Response]]


def api_routes(db: Database, config: ApiConfig | None = None) -> list[web.RouteDef]:
    """The /api/v1 routes: the OpenAPI document, and list, get and (write tokens) upsert for each kind."""
    config = config or ApiConfig()

    def guarded(handler: Handler, *, write: bool = False) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            try:
                kind = request.match_info.get("kind")
                if kind is not None and kind not in KINDS:
                    raise Problem(404, "Not Found", f"no kind {kind!r}; kinds: {', '.join(KINDS)}")
                caller = await _authorize(request, write=write)
                return await handler(request, caller)
            except Problem as exc:
                return exc.response()
            except IntegrityError:
                # Another request wrote the same row at the same moment; nothing of this one was kept.
                return Problem(409, "Conflict", "a concurrent request changed the same rows; nothing was applied: retry", kind=_problem_type("conflict")).response()
            except DBAPIError:
                log.exception("API request failed on the database: %s %s", request.method, request.path)
                return Problem(503, "Service Unavailable", "the database is busy; nothing was applied: retry", headers={"Retry-After": "1"}).response()
        return serve

    async def _authorize(request: web.Request, *, write: bool) -> Caller:
        given = request.headers.get("Authorization", "")
        scheme, _, secret = given.partition(" ")
        unauthorized = Problem(401, "Unauthorized", "send `Authorization: Bearer <token>` with a token from `/salesbot api token create`",
                               headers={"WWW-Authenticate": 'Bearer realm="salesbot"'})
        if scheme.lower() != "bearer" or not secret.strip():
            raise unauthorized
        now = config.clock()
        async with db.sessionmaker() as session:
            token = await authenticate(session, secret=secret.strip(), now=now)
            if token is None:
                raise unauthorized
            wait = await api_write.count_request(session, token_id=token.id, now=now, per_minute=config.rate_per_minute)
            workspace = await session.get(Workspace, token.workspace_id)
            await session.commit()
        if wait is not None:
            raise Problem(429, "Too Many Requests", f"over {config.rate_per_minute} requests a minute for this token", headers={"Retry-After": str(wait)})
        if write and token.scope != ApiScope.WRITE:
            raise Problem(403, "Forbidden", "this token may only read: create a write token to change data")
        return Caller(token, workspace)

    async def openapi_doc(_request: web.Request) -> web.Response:
        return _json(openapi())

    async def list_kind(request: web.Request, caller: Caller) -> web.Response:
        kind = request.match_info["kind"]
        q = request.query
        try:
            limit = int(q.get("limit", api_feed.DEFAULT_PAGE))
            if not 1 <= limit <= api_feed.MAX_PAGE:
                raise ValueError
        except ValueError:
            raise Problem(400, "Bad Request", f"limit must be an integer from 1 to {api_feed.MAX_PAGE}", errors=[_param("limit", "not an integer in range")]) from None
        since = None
        if q.get("updated_since"):
            try:
                since = datetime.fromisoformat(q["updated_since"].replace(" ", "+"))  # an unencoded `+` arrives as a space
                if since.tzinfo is None:
                    raise ValueError
            except ValueError:
                raise Problem(400, "Bad Request", "updated_since must be an ISO 8601 time with an offset", errors=[_param("updated_since", "not a time with an offset")]) from None
        async with db.sessionmaker() as session:
            try:
                page = await api_feed.list_page(session, workspace_id=caller.workspace.id, kind=kind, cursor=q.get("cursor") or None, updated_since=since, limit=limit)
            except api_feed.BadCursor:
                raise Problem(400, "Bad Request", "cursor is not one this API gave", errors=[_param("cursor", "unknown cursor")]) from None
        return _json({"data": page.rows, "next_cursor": page.next_cursor, "has_more": page.has_more})

    async def get_by_id(request: web.Request, caller: Caller) -> web.Response:
        kind = request.match_info["kind"]
        async with db.sessionmaker() as session:
            row = await api_feed.get_row(session, workspace_id=caller.workspace.id, kind=kind, row_id=int(request.match_info["id"]))
        if row is None:
            raise Problem(404, "Not Found", f"no {kind} row with id {request.match_info['id']}")
        return _json(row)

    async def get_by_key(request: web.Request, caller: Caller) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in api_feed.EXTERNAL_KEY:
            raise Problem(404, "Not Found", f"{kind} have no external id: get them by id")
        async with db.sessionmaker() as session:
            row = await api_feed.get_row(session, workspace_id=caller.workspace.id, kind=kind, key=request.match_info["external_id"])
        if row is None:
            raise Problem(404, "Not Found", f"no {kind} row with external id {request.match_info['external_id']!r}")
        return _json(row)

    async def upsert_one(request: web.Request, caller: Caller) -> web.Response:
        kind = _writable(request)
        key = request.match_info["external_id"]
        raw, data = await _read_json(request)
        body = _validated(upsert_model(kind), data, prefix="")
        row = {name: getattr(body, name) for name in body.model_fields_set}
        if row.get("external_id") not in (None, key):
            raise Problem(422, "Unprocessable Content", "external_id differs from the path's", kind=_problem_type("validation"),
                          errors=[{"row": 0, "field": "external_id", "pointer": "/external_id", "message": "must equal the external id in the path"}])
        row["external_id"] = key

        async def answer(session, result: api_write.BatchResult) -> dict[str, Any]:
            stored = await api_feed.rows_by_key(session, workspace_id=caller.workspace.id, kind=kind, keys=[key])
            return {**_counts(result), "data": stored[key]}

        return await _write(request, caller, kind, raw, [row], answer, pointer=lambda r, f: f"/{f}" if f else "")

    async def upsert_batch(request: web.Request, caller: Caller) -> web.Response:
        kind = _writable(request)
        raw, data = await _read_json(request)
        body = _validated(batch_model(kind), data, prefix="")
        rows = [{name: getattr(r, name) for name in r.model_fields_set} for r in body.rows]

        async def answer(_session, result: api_write.BatchResult) -> dict[str, Any]:
            return {**_counts(result), "external_ids": result.keys}

        return await _write(request, caller, kind, raw, rows, answer, pointer=lambda r, f: f"/rows/{r}" + (f"/{f}" if f else ""))

    async def _write(request, caller: Caller, kind: str, raw: bytes, rows: list[dict[str, Any]], answer, *, pointer) -> web.Response:
        """Apply rows all or nothing; with an Idempotency-Key, a repeat gets the stored answer and changes nothing."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 255):
            raise Problem(400, "Bad Request", "Idempotency-Key must be 1 to 255 characters", errors=[_param("Idempotency-Key", "bad length", where="header")])
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + raw).hexdigest()
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return await _write_once(caller, kind, rows, answer, key=key, fingerprint=fingerprint, pointer=pointer)
            except DBAPIError:  # IntegrityError too: a concurrent request made the same row first, or a deadlock
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _write_once(caller: Caller, kind: str, rows, answer, *, key: str | None, fingerprint: str, pointer) -> web.Response:
        """One attempt in one transaction; a database conflict rolls all of it back (the key's claim too)."""
        now = config.clock()
        async with db.sessionmaker() as session:
            if key is not None:
                try:
                    stored = await api_write.claim_key(session, token_id=caller.token.id, key=key, request_hash=fingerprint, now=now)
                except api_write.KeyReused:
                    await session.rollback()
                    raise Problem(422, "Unprocessable Content", "this Idempotency-Key came with another request: use a new key for new data",
                                  kind=_problem_type("idempotency-key-reused")) from None
                if stored is not None:
                    await session.rollback()
                    return web.Response(text=stored.body, status=stored.status, content_type="application/json", headers={"Idempotent-Replayed": "true"})
            try:
                loc = config.loc()  # loads the catalogs the playbooks read too
                result = await api_write.upsert_rows(session, workspace=caller.workspace, kind=kind, rows=rows, now=now, loc=loc, i18n=config.i18n)
            except api_write.BatchRejected as exc:
                await session.rollback()
                await _record_run(caller, kind, exc.result, now=now)
                errors = [{"row": p.row, "field": p.field, "pointer": pointer(p.row, p.field), "message": p.message} for p in exc.result.errors]
                raise Problem(422, "Unprocessable Content", f"{exc.result.failed} row(s) refused; nothing was applied",
                              kind=_problem_type("validation"), errors=errors) from None
            body = await answer(session, result)
            await _record_run(caller, kind, result, now=now, session=session)
            if key is not None:
                await api_write.store_answer(session, token_id=caller.token.id, key=key, status=200, body=body)
            await session.commit()
        return _json(body)

    async def _record_run(caller: Caller, kind: str, result: api_write.BatchResult, *, now, session=None) -> None:
        """Every API write is a sync run: an applied one in the write's own transaction, a refused one on its own."""
        values = dict(
            workspace_id=caller.workspace.id, kind=SyncRunKind.API_BATCH, source=f"API {kind} · token {caller.token.name}",
            created=result.created, updated=result.updated, unchanged=result.unchanged, failed=result.failed, started_at=now,
        )
        if session is not None:
            await sync_runs.record_run(session, status=SyncRunStatus.OK, **values)
            return
        errors = [sync_runs.RunError(p.row + 1, p.field, p.message) for p in result.errors]  # line 1 is the request's first row
        async with db.sessionmaker() as own:
            await sync_runs.record_run(own, status=SyncRunStatus.FAILED, errors=errors, message=f"{result.failed} row(s) refused", **values)
            await own.commit()

    def _writable(request: web.Request) -> str:
        kind = request.match_info["kind"]
        if kind not in api_feed.WRITABLE:
            raise Problem(405, "Method Not Allowed", f"{kind} are read only", headers={"Allow": "GET"})
        return kind

    async def _read_json(request: web.Request) -> tuple[bytes, Any]:
        too_large = Problem(413, "Content Too Large", f"bodies are limited to {MAX_BODY} bytes; send fewer rows per batch")
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise too_large
        raw = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            raw += chunk
            if len(raw) > MAX_BODY:
                raise too_large
        try:
            return bytes(raw), json.loads(raw)
        except (ValueError, RecursionError):
            raise Problem(400, "Bad Request", "the body is not JSON", kind=_problem_type("malformed")) from None

    def _validated(model: type[BaseModel], data: Any, *, prefix: str) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = []
            for e in exc.errors(include_url=False, include_input=False):
                loc = list(e["loc"])
                row = loc[1] if len(loc) >= 2 and loc[0] == "rows" and isinstance(loc[1], int) else None
                fields = [str(p) for p in (loc[2:] if row is not None else loc) if not isinstance(p, int)]
                errors.append({"row": row, "field": fields[0] if fields else None, "pointer": prefix + "".join(f"/{p}" for p in loc), "message": e["msg"]})
            raise Problem(422, "Unprocessable Content", "the body does not fit the schema; nothing was applied", kind=_problem_type("validation"), errors=errors) from None

    return [
        web.get(f"{PREFIX}/openapi.json", openapi_doc),
        web.post(f"{PREFIX}/{{kind}}/batch", guarded(upsert_batch, write=True)),
        web.get(f"{PREFIX}/{{kind}}/external/{{external_id}}", guarded(get_by_key)),
        web.put(f"{PREFIX}/{{kind}}/external/{{external_id}}", guarded(upsert_one, write=True)),
        web.get(f"{PREFIX}/{{kind}}/{{id:\\d+}}", guarded(get_by_id)),
        web.get(f"{PREFIX}/{{kind}}", guarded(list_kind)),
    ]


def _param(name: str, message: str, *, where: str = "query") -> dict[str, Any]:
    return {"field": name, "pointer": None, "message": f"{where} parameter {name}: {message}"}


def _counts(result: api_write.BatchResult) -> dict[str, int]:
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged, "failed": result.failed}
