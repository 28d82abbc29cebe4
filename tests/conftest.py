"""Shared fixtures: a real database (SQLite file or PostgreSQL), the stand-in, the running bot."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.db import Database
from bot.settings import normalize_database_url

# Set TEST_DATABASE_URL to run the whole suite on PostgreSQL instead of SQLite files.
PG_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite files'}"


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


@pytest.fixture(scope="session")
def _pg_migrated() -> bool:
    """Upgrade the PostgreSQL test database once per run."""
    if not PG_URL:
        return False
    import asyncio

    async def build():
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
        tables = ", ".join(f'"{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables))
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
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
