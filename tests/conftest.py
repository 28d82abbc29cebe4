"""Shared fixtures: a real database (SQLite file or PostgreSQL), the stand-in, the running bot."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.db import Database
from bot.settings import normalize_database_url

# Set TEST_DATABASE_URL to run the whole suite on PostgreSQL instead of SQLite files.
BASE_PG_URL = os.environ.get("TEST_DATABASE_URL")
# Tests run in parallel processes (pytest-xdist workers gw0, gw1, ...): each worker has a
# database of its own on the same server, named after it (created when missing), and its own
# SQLite template under its own temporary directory.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _worker_url(url: str | None, worker: str | None) -> str | None:
    if not url or not worker:
        return url
    parsed = make_url(normalize_database_url(url))
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


PG_URL = _worker_url(BASE_PG_URL, WORKER)


def pytest_report_header(config):
    if not BASE_PG_URL:
        return "database: SQLite files"
    return f"database: PostgreSQL {BASE_PG_URL}" + (" (one database per worker: <name>_gw0, <name>_gw1, ...)" if config.getoption("numprocesses", None) else "")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path | None:
    """One migrated SQLite file, copied for each test (migrating is the slow part)."""
    if PG_URL:
        return None
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build():
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        await db.dispose()

    asyncio.run(build())
    return path


async def _create_worker_database() -> None:
    """Create this worker's database beside TEST_DATABASE_URL's, unless it exists."""
    import asyncpg

    base = make_url(normalize_database_url(BASE_PG_URL)).set(drivername="postgresql")
    name = make_url(PG_URL).database
    conn = await asyncpg.connect(base.render_as_string(hide_password=False))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # created meanwhile by a run started at the same time
    finally:
        await conn.close()


@functools.cache
def _pg_reset() -> str:
    """Empty every table between tests: DELETE (children first) and restart the sequences.

    Several times faster than TRUNCATE on tables this small; one statement, one round trip.
    """
    import bot.models  # noqa: F401  (the tables)

    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables))
    sequences = (
        "PERFORM setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
    )
    return f"DO $$ BEGIN {deletes}; {sequences}; END $$"


@pytest.fixture(scope="session")
def _pg_migrated() -> bool:
    """Upgrade the PostgreSQL test database once per run."""
    if not PG_URL:
        return False
    import asyncio

    async def build():
        if WORKER:
            await _create_worker_database()
        db = Database(normalize_database_url(PG_URL))
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await db.upgrade()
        await db.dispose()

    asyncio.run(build())
    return True


@pytest.fixture
async def db(tmp_path, _sqlite_template, _pg_migrated):
    """A migrated, empty database for one test."""
    if PG_URL:
        database = Database(normalize_database_url(PG_URL))
        async with database.engine.begin() as conn:
            await conn.exec_driver_sql(_pg_reset())
    else:
        path = tmp_path / "salesbot.db"
        shutil.copy(_sqlite_template, path)
        database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def session(db):
    """A session on the test database, committed by the test as needed."""
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture
def salesbot_cli(monkeypatch, capsys):
    """Runs the `salesbot` command in this process: `bot.cli.main(ARGS)` with the environment given.

    Returns a CompletedProcess (text output), as a subprocess would, without the second or so
    each new interpreter spends importing the bot. Only SLACK_*, SALESBOT_* and DATABASE_URL
    variables that the test passes are seen. Async tests call it through asyncio.to_thread
    (the command runs its own event loop).
    """
    from bot.cli import main

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        alembic = logging.getLogger("alembic")
        level = alembic.level
        with monkeypatch.context() as m:
            for name in list(os.environ):
                if name.startswith(("SLACK_", "SALESBOT_")) or name == "DATABASE_URL":
                    m.delenv(name)
            for name, value in (env or {}).items():
                m.setenv(name, value)
            if cwd is not None:
                m.chdir(cwd)
            capsys.readouterr()
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's usage errors, as `python -m bot` exits
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            finally:
                alembic.setLevel(level)
            out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["salesbot", *args], code, out, err)

    return run
