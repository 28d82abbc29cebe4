"""Scheduled sync end to end: the clock pulls a file from a loopback server, imports it, skips it unchanged, records failures."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from sqlalchemy import select

from bot.models import Customer, SyncError, SyncRun, SyncRunKind, SyncRunStatus, SyncSource
from jobs.runner import run_job
from jobs.scheduler import build_clockwork
from jobs.sync_pull import compose, fetch
from jobs.webhooks import NOTICE_JOB
from tests.scenario.conftest import ADMIN, REP1, TEAM
from tests.scenario.helpers import both_teams, dm_cards, salesbot, shown_text
from tests.scenario.sync_helpers import FileServer, outbox_rows, sender_for

GOOD = b"external_id,name,segment,region\nC-1,Globex,key,East\nC-2,Initech,smb,West\n"
# Line 3 names a segment that does not exist; line 4 has no name; line 2 alone would be fine.
BROKEN = b"external_id,name,segment,region\nC-3,Umbrella,key,East\nC-4,Hooli,huge,East\nC-5,,smb,West\n"


@pytest.fixture
async def files():
    server = await FileServer(content=GOOD, name="customers.csv").start()
    try:
        yield server
    finally:
        await server.stop()


async def runs(db) -> list[SyncRun]:
    async with db.session() as s:
        return list((await s.execute(select(SyncRun).order_by(SyncRun.id))).scalars())


async def customers(db) -> dict[str, str]:
    async with db.session() as s:
        return {c.external_id: c.name for c in (await s.execute(select(Customer))).scalars()}


async def test_a_scheduled_pull_imports_skips_unchanged_files_and_records_a_broken_one(driver, slack, db, deps, clock, files, salesbot_cli, caplog):
    caplog.set_level(logging.INFO)  # the level production logs at
    await both_teams(driver)
    refused = await salesbot(driver, "sync source set http://files.example.com/customers.csv customers", user=ADMIN)
    assert "must use https" in refused["text"]
    rep = await salesbot(driver, f"sync source set {files.url} customers", user=REP1)
    assert "Only workspace admins" in rep["text"]
    saved = await salesbot(driver, f"sync source set {files.url} customers Authorization: Bearer s3cret", user=ADMIN)
    assert files.url in shown_text(saved["blocks"]) and "s3cret" not in json.dumps(saved)

    clockwork = build_clockwork(deps, jobs={"sync": compose})
    assert await clockwork.tick("sync") == 0
    assert files.requests[-1]["Authorization"] == "Bearer s3cret"
    assert await customers(db) == {"C-1": "Globex", "C-2": "Initech"}
    [first] = await runs(db)
    assert (first.kind, first.status, first.created, first.updated, first.unchanged, first.failed) == (SyncRunKind.PULL, SyncRunStatus.OK, 2, 0, 0, 0)

    # Not due again before the hour is up: no request at all.
    await clockwork.tick("sync")
    assert len(files.requests) == 1
    # An hour later the server answers 304 to the ETag; a server that ignores it sends the same bytes, skipped by hash.
    clock.advance(minutes=61)
    await clockwork.tick("sync")
    files.honour_etag = False
    clock.advance(minutes=61)
    await clockwork.tick("sync")
    assert len(files.requests) == 3 and files.requests[1]["If-None-Match"]
    assert [r.status for r in await runs(db)] == [SyncRunStatus.OK, SyncRunStatus.UNCHANGED, SyncRunStatus.UNCHANGED]

    # A broken file: nothing of it applies (not even its good line), the run names each line and field.
    files.content = BROKEN
    clock.advance(minutes=61)
    assert await clockwork.tick("sync") == 1  # the admin's notice
    assert await customers(db) == {"C-1": "Globex", "C-2": "Initech"}
    failed = (await runs(db))[-1]
    assert (failed.status, failed.failed, failed.created) == (SyncRunStatus.FAILED, 2, 0)
    async with db.session() as s:
        errors = [(e.line, e.field) for e in (await s.execute(select(SyncError).where(SyncError.run_id == failed.id).order_by(SyncError.line))).scalars()]
    assert errors == [(3, "segment"), (4, "name")]

    # The admin hears once, even though the next pull fails too.
    clock.advance(minutes=61)
    assert await clockwork.tick("sync") == 0
    assert [r.status for r in await runs(db)][-2:] == [SyncRunStatus.FAILED, SyncRunStatus.FAILED]
    notices = await outbox_rows(db, NOTICE_JOB)
    assert [n.channel for n in notices] == [ADMIN]
    await sender_for(deps).deliver([n.key for n in notices])
    [dm] = dm_cards(slack, ADMIN)
    assert "line 3, field `segment`" in shown_text(dm["blocks"])

    # /salesbot sync and the CLI show the failure with its lines and fields.
    shown = shown_text((await salesbot(driver, "sync", user=ADMIN))["blocks"])
    assert f"#{failed.id}" in shown and "line 3, field `segment`" in shown and "line 4, field `name`" in shown and files.url in shown
    listed = await asyncio.to_thread(salesbot_cli, "sync", "runs", "--workspace", TEAM, env={"DATABASE_URL": db.url})
    assert listed.returncode == 0 and "line 3, field segment" in listed.stdout and f"#{failed.id}" in listed.stdout

    # Fixed at the source, the operator re-runs the failed pull: it imports, and the outage ends.
    files.content = BROKEN.replace(b"huge", b"smb").replace(b"C-5,,", b"C-5,Pied Piper,")
    retried = await asyncio.to_thread(salesbot_cli, "sync", "retry", str(failed.id), env={"DATABASE_URL": db.url})
    assert retried.returncode == 0 and "ok, 3 created" in retried.stdout, retried.stderr
    assert set(await customers(db)) == {"C-1", "C-2", "C-3", "C-4", "C-5"}
    assert "s3cret" not in caplog.text and "sync: pulled customers" in caplog.text


async def test_a_file_over_the_cap_is_refused_without_reading_it_all(files):
    files.content = b"external_id,name\n" + b"".join(b"C-%d,Acme %d\n" % (i, i) for i in range(50_000))  # many network chunks
    source = SyncSource(id=1, workspace_id=1, kind="customers", url=files.url)
    got = await fetch(source, max_bytes=1024)
    assert got.error == "file over the 1,024-byte limit" and got.data == b""
    assert (await fetch(source)).data == files.content  # all of it, not the first chunk


async def test_a_json_source_goes_through_the_same_rules(driver, slack, db, deps, files):
    await both_teams(driver)
    files.name, files.content_type = "customers.csv", "application/json"
    files.content = json.dumps([{"external_id": "C-9", "name": "Acme", "segment": "key"}, {"external_id": "C-10", "segment": "mega"}]).encode()
    await salesbot(driver, f"sync source set {files.url} customers", user=ADMIN)
    clockwork = build_clockwork(deps, jobs={"sync": compose})
    await clockwork.tick("sync")
    [run] = await runs(db)
    assert run.status == SyncRunStatus.FAILED and await customers(db) == {}
    async with db.session() as s:
        errors = sorted((e.line, e.field) for e in (await s.execute(select(SyncError))).scalars())
    assert errors == [(2, "name"), (2, "segment")]  # the second object of the list


async def test_a_dry_run_of_the_sync_job_pulls_nothing(driver, slack, db, deps, clock, files):
    await both_teams(driver)
    await salesbot(driver, f"sync source set {files.url} customers", user=ADMIN)
    out = io.StringIO()
    assert await run_job(deps, "sync", at=clock.now, dry_run=True, out=out) == 0
    assert files.requests == [] and await runs(db) == [] and "0 posts (dry run" in out.getvalue()
