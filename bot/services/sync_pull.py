"""Scheduled sync: per workspace and kind, a CSV or JSON file pulled from a URL and imported all or nothing.

The clock (jobs.sync_pull) fetches each due source over HTTP and hands the bytes here. A file
identical to the last one imported (same ETag, or same SHA-256) is skipped; JSON rows are
turned into the data standard's CSV, so both go through the CSV importer's one parser and its
rules. Every pull is a sync run; a failed one keeps its line, field and message per error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.csvio.columns import COLUMNS, KINDS
from bot.csvio.importer import import_csv
from bot.csvio.reader import ImportFailed, RowError
from bot.i18n import Localizer
from bot.models import SyncRun, SyncRunKind, SyncRunStatus, SyncSource, Workspace
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.sync_runs import RunError, record_run, require_admin
from bot.services.webhooks import check_url

MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_EVERY_MINUTES = 60
MIN_EVERY_MINUTES = 5


# ---------------------------------------------------------------------------- configuration


def check_header(header: str | None) -> str | None:
    """An auth header as `Name: value` (e.g. `Authorization: Bearer abc`), or None."""
    if header is None or not header.strip():
        return None
    name, sep, value = header.strip().partition(":")
    if not sep or not name.strip() or not value.strip() or any(c in header for c in "\r\n") or not name.strip().replace("-", "").isalnum():
        raise ServiceError("sync.error.header")
    return f"{name.strip()}: {value.strip()}"


async def set_source(
    session: AsyncSession, *, actor: Actor | None, workspace_id: int, url: str, kind: str, header: str | None = None,
    every_minutes: int = DEFAULT_EVERY_MINUTES, now: datetime,
) -> SyncSource:
    """Configure (or replace) the workspace's source for one kind; the first pull is due at once.

    `actor` None is the operator's CLI, which needs no admin check.
    """
    if actor is not None:
        require_admin(actor)
    if kind not in KINDS:
        raise ServiceError("sync.error.kind", kind=kind, kinds=", ".join(KINDS))
    if every_minutes < MIN_EVERY_MINUTES or every_minutes > 7 * 24 * 60:
        raise ServiceError("sync.error.every", min=MIN_EVERY_MINUTES)
    url = check_url(url)
    header = check_header(header)
    source = (await session.execute(select(SyncSource).where(SyncSource.workspace_id == workspace_id, SyncSource.kind == kind))).scalar_one_or_none()
    if source is None:
        source = SyncSource(workspace_id=workspace_id, kind=kind, url=url)
    source.url, source.auth_header, source.every_minutes = url, header, every_minutes
    # A new address or header is a new file: forget what was seen at the old one.
    source.etag = source.content_hash = source.failing_since = None
    source.next_due_at = now
    session.add(source)
    await session.flush()
    return source


async def remove_source(session: AsyncSession, *, actor: Actor, kind: str) -> None:
    """Stop pulling a kind (admins)."""
    require_admin(actor)
    result = await session.execute(delete(SyncSource).where(SyncSource.workspace_id == actor.workspace.id, SyncSource.kind == kind))
    if result.rowcount != 1:
        raise ServiceError("sync.error.no_source", kind=kind)


async def sources_of(session: AsyncSession, *, workspace_id: int) -> list[SyncSource]:
    """A workspace's sources, by kind."""
    return list((await session.execute(select(SyncSource).where(SyncSource.workspace_id == workspace_id).order_by(SyncSource.kind))).scalars())


async def due_sources(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[SyncSource]:
    """Sources whose next pull is due, oldest first."""
    q = select(SyncSource).where(or_(SyncSource.next_due_at.is_(None), SyncSource.next_due_at <= now)).order_by(SyncSource.next_due_at, SyncSource.id).limit(limit)
    return list((await session.execute(q)).scalars())


# ---------------------------------------------------------------------------- JSON to the data standard


class JsonRejected(Exception):
    """The JSON file cannot be read as rows of the kind (its error is for the whole file)."""


def json_to_csv(kind: str, data: bytes) -> bytes:
    """JSON rows (a list of objects, or {"rows": [...]}) as the data standard's CSV, columns in standard order.

    Values are written as their CSV cells would be typed (numbers as digits, lists space-separated),
    so the CSV reader types and checks them: one parser, one set of messages.
    """
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonRejected(f"not valid JSON: {exc}") from None
    rows = doc.get("rows", doc.get(kind)) if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise JsonRejected('expected a list of objects, or {"rows": [...]}')
    order = [c.name for c in COLUMNS[kind]]
    names: list[str] = [n for n in order if any(n in r for r in rows)]
    names += sorted({k for r in rows for k in r if k not in order})  # unknown keys: the header check names them
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for r in rows:
        writer.writerow([_cell(r.get(n)) for n in names])
    return out.getvalue().encode("utf-8")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    if isinstance(value, (dict,)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def is_json(url: str, content_type: str | None, data: bytes) -> bool:
    """JSON by its content type, its name, or its first character; CSV otherwise."""
    if content_type and "json" in content_type.lower():
        return True
    if url.split("?", 1)[0].lower().endswith(".json"):
        return True
    return data.lstrip()[:1] in (b"[", b"{")


# ---------------------------------------------------------------------------- one pull


@dataclass
class PullOutcome:
    """What a pull did: its run, and whether the admins should now hear of a failure."""

    run: SyncRun
    newly_failing: bool = False
    errors: list[RunError] = field(default_factory=list)


def _row_errors(errors: list[RowError], loc: Localizer, *, json_rows: bool) -> list[RunError]:
    out = []
    for e in errors:
        # JSON has no lines: the CSV made from it has a header line, so data line n is row n - 1.
        line = max(0, e.line - 1) if json_rows else e.line
        out.append(RunError(line=line, field=e.column, message=loc.t(e.key, **e.params)))
    return out


async def _finish(
    session: AsyncSession, source_id: int, *, status: SyncRunStatus, now: datetime, started: datetime, errors: list[RunError] = (),
    counts: dict[str, int] | None = None, message: str = "", etag: str | None = None, content_hash: str | None = None,
) -> PullOutcome:
    source = await session.get(SyncSource, source_id, populate_existing=True)
    source.next_due_at = now + timedelta(minutes=source.every_minutes)
    newly_failing = False
    if status == SyncRunStatus.FAILED:
        newly_failing = source.failing_since is None
        source.failing_since = source.failing_since or now
    else:
        source.failing_since = None
        if content_hash is not None:
            source.content_hash, source.etag = content_hash, etag
    session.add(source)
    run = await record_run(
        session, workspace_id=source.workspace_id, kind=SyncRunKind.PULL, status=status, source=f"{source.kind} {source.url}",
        ref=f"source:{source.id}", errors=errors, failed=len({e.line for e in errors}) if errors else 0, message=message,
        started_at=started, finished_at=now, **(counts or {}),
    )
    return PullOutcome(run=run, newly_failing=newly_failing, errors=list(errors))


async def record_fetch_failure(session: AsyncSession, *, source_id: int, message: str, now: datetime, started: datetime) -> PullOutcome:
    """The file could not be fetched (connection, HTTP status, size): a failed run with that message."""
    return await _finish(session, source_id, status=SyncRunStatus.FAILED, now=now, started=started, errors=[RunError(0, None, message)], message=message)


async def record_not_modified(session: AsyncSession, *, source_id: int, now: datetime, started: datetime) -> PullOutcome:
    """The server answered 304 to our ETag: nothing to import."""
    return await _finish(session, source_id, status=SyncRunStatus.UNCHANGED, now=now, started=started)


async def import_pulled(
    session: AsyncSession, *, source_id: int, data: bytes, content_type: str | None, etag: str | None, now: datetime, started: datetime,
    loc: Localizer, force: bool = False,
) -> PullOutcome:
    """Import one fetched file all or nothing, and record the run; the caller commits.

    The session must hold no pending changes: a rejected file is rolled back as a whole and
    only the failed run is written after it.
    """
    source = await session.get(SyncSource, source_id)
    digest = hashlib.sha256(data).hexdigest()
    if digest == source.content_hash and not force:
        return await _finish(session, source_id, status=SyncRunStatus.UNCHANGED, now=now, started=started, etag=etag, content_hash=digest)
    kind, url, workspace_id = source.kind, source.url, source.workspace_id
    json_rows = is_json(url, content_type, data)
    try:
        csv_bytes = json_to_csv(kind, data) if json_rows else data
    except JsonRejected as exc:
        return await _finish(session, source_id, status=SyncRunStatus.FAILED, now=now, started=started, errors=[RunError(0, None, str(exc))], message=str(exc))
    workspace = await session.get(Workspace, workspace_id)
    try:
        result = await import_csv(session, workspace=workspace, kind=kind, data=csv_bytes, now=now)
    except ImportFailed as exc:
        await session.rollback()
        errors = _row_errors(exc.errors, loc, json_rows=json_rows)
        message = loc.tn("sync.pull.rejected", len(errors))
        return await _finish(session, source_id, status=SyncRunStatus.FAILED, now=now, started=started, errors=errors, message=message)
    except (IntegrityError, DBAPIError) as exc:
        await session.rollback()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        message = loc.t("csv.error.database", reason=reason)
        return await _finish(session, source_id, status=SyncRunStatus.FAILED, now=now, started=started, errors=[RunError(0, None, message)], message=message)
    counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    return await _finish(session, source_id, status=SyncRunStatus.OK, now=now, started=started, counts=counts, etag=etag, content_hash=digest)
