"""The "sync" job: pull each due source (CSV or JSON over HTTPS) and import it all or nothing.

Each tick fetches the sources whose next pull is due, one by one, with no database write
open during the request (on SQLite a write would hold the file's lock for its length). The
import and its sync run commit per source; a pull that fails tells the admins once per
outage (the posts this composer returns, keyed by source and outage).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks.sync import build_pull_failed_notice
from bot.models import SyncSource, utcnow
from bot.services.outbox import Post
from bot.services.sync_pull import MAX_FILE_BYTES, PullOutcome, due_sources, import_pulled, record_fetch_failure, record_not_modified
from bot.services.sync_runs import admin_recipients
from bot.text import truncate
from jobs.webhooks import NOTICE_JOB

log = logging.getLogger(__name__)

JOB = "sync"
FETCH_TIMEOUT = 60.0


@dataclass
class Fetched:
    """A source's answer: its bytes and validators, or 304, or what went wrong."""

    data: bytes = b""
    etag: str | None = None
    content_type: str | None = None
    not_modified: bool = False
    error: str | None = None


async def fetch(source: SyncSource, *, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_FILE_BYTES) -> Fetched:
    """GET the source's file (conditional on its ETag), capped at `max_bytes`; never raises."""
    headers = {"User-Agent": "salesbot-sync/1", "Accept": "text/csv, application/json"}
    if source.etag and source.content_hash:
        headers["If-None-Match"] = source.etag
    if source.auth_header:
        name, _, value = source.auth_header.partition(":")
        headers[name.strip()] = value.strip()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.get(source.url, headers=headers, allow_redirects=False) as resp:
                if resp.status == 304:
                    return Fetched(not_modified=True)
                if not 200 <= resp.status < 300:
                    return Fetched(error=f"HTTP {resp.status}")
                if (resp.content_length or 0) > max_bytes:
                    return Fetched(error=f"file over the {max_bytes:,}-byte limit")
                # read(n) may return less than n: gather every chunk, stopping as soon as the cap is passed.
                chunks, size = [], 0
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        return Fetched(error=f"file over the {max_bytes:,}-byte limit")
                    chunks.append(chunk)
                return Fetched(data=b"".join(chunks), etag=resp.headers.get("ETag"), content_type=resp.headers.get("Content-Type"))
    except asyncio.TimeoutError:
        return Fetched(error=f"no answer within {timeout:g}s")
    except aiohttp.ClientError as exc:
        # Names the host only; the auth header is never part of the message.
        return Fetched(error=truncate(f"{type(exc).__name__}: {exc}", 300))


async def pull_source(deps, session: AsyncSession, source: SyncSource, *, now: datetime, force: bool = False) -> PullOutcome:
    """Fetch one source and import it; commits its run. `force` imports even an unchanged file."""
    await session.commit()  # nothing pending while the request is out, and nothing mixed into the import
    started = utcnow()
    got = await fetch(source)
    loc = deps.i18n.get("en-US")  # runs are read by operators and admins alike; messages stored in English
    if got.error:
        outcome = await record_fetch_failure(session, source_id=source.id, message=got.error, now=now, started=started)
    elif got.not_modified and not force:
        outcome = await record_not_modified(session, source_id=source.id, now=now, started=started)
    else:
        outcome = await import_pulled(session, source_id=source.id, data=got.data, content_type=got.content_type, etag=got.etag, now=now, started=started, loc=loc, force=force)
    await session.commit()
    log.info("sync: pulled %s for workspace %s: %s", source.kind, source.workspace_id, outcome.run.status.value)
    return outcome


async def failure_notices(deps, session: AsyncSession, source: SyncSource, outcome: PullOutcome, *, now: datetime) -> list[Post]:
    """One DM per admin about a source that started failing, keyed by source and outage: sent once."""
    posts = []
    for uid, locale in await admin_recipients(session, workspace_id=source.workspace_id, admins=deps.settings.admins):
        errors = [(e.line, e.field, e.message) for e in outcome.errors]
        text, blocks = build_pull_failed_notice(deps.i18n.get(locale), run_id=outcome.run.id, kind=source.kind, url=source.url, errors=errors, total=len(errors))
        key = f"{NOTICE_JOB}:pull:{source.id}:{int(outcome.run.finished_at.timestamp())}:{uid}"
        posts.append(Post(workspace_id=source.workspace_id, key=truncate(key, 255), job=NOTICE_JOB, channel=uid, text=text, blocks=blocks, not_before=now))
    return posts


async def compose(deps, session: AsyncSession, *, now: datetime) -> list[Post]:
    """Pull every due source; the posts are the admins' notices of sources that just started failing."""
    posts: list[Post] = []
    due = await due_sources(session, now=now)
    if session.info.get("dry_run"):
        # A pull commits as it goes; a dry run only says what would be pulled.
        for source in due:
            log.info("sync (dry run): would pull %s for workspace %s from %s", source.kind, source.workspace_id, source.url)
        return []
    for source in due:
        outcome = await pull_source(deps, session, source, now=now)
        if outcome.newly_failing:
            posts += await failure_notices(deps, session, source, outcome, now=now)
    return posts


async def retry(deps, run_id: int) -> str:
    """`salesbot sync retry ID`: pull a failed run's source again now, or re-queue a dead webhook delivery."""
    from bot.models import OutboxStatus, SyncRunKind, SyncRunStatus
    from bot.services.sync_runs import get_run
    from jobs.outbox import resolve_for_review

    async with deps.db.sessionmaker() as session:
        run = await get_run(session, run_id=run_id)
        if run.status != SyncRunStatus.FAILED:
            raise LookupError(f"run #{run_id} did not fail: nothing to retry")
        if run.kind == SyncRunKind.WEBHOOK and run.ref:
            if not await resolve_for_review(session, key=run.ref, to=OutboxStatus.PENDING):
                raise LookupError(f"run #{run_id}'s delivery is no longer dead (already re-queued or sent)")
            await session.commit()
            return f"run #{run_id}: delivery {run.ref} queued again; the clock's sender sends it"
        if run.kind == SyncRunKind.PULL and run.ref and run.ref.startswith("source:"):
            source = await session.get(SyncSource, int(run.ref.split(":", 1)[1]))
            if source is None:
                raise LookupError(f"run #{run_id}'s source was removed")
            now = deps.clock()
            outcome = await pull_source(deps, session, source, now=now, force=True)
            if outcome.newly_failing:
                from bot.services.outbox import enqueue

                await enqueue(session, await failure_notices(deps, session, source, outcome, now=now))
                await session.commit()
            r = outcome.run
            return f"run #{r.id}: {r.status.value}, {r.created} created, {r.updated} updated, {r.unchanged} unchanged, {r.failed} failed"
        raise LookupError(f"run #{run_id} cannot be retried from here (an API batch is retried by its client)")
