"""Engine, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot import MIGRATIONS_DIR
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)


def make_engine(url: str, *, busy_ms: int = 30000, **kw) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, a busy timeout (`busy_ms`) and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": busy_ms / 1000}, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # WAL lets readers run beside the writer; busy_timeout waits instead of failing
            # when the scheduler and a request write at the same moment.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kw)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy loads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_insert(bind: Any):
    """The INSERT construct of a session's or connection's dialect: both have ON CONFLICT, spelled alike."""
    get_bind = getattr(bind, "get_bind", None)  # a session; a connection has its dialect itself
    dialect = (get_bind() if get_bind is not None else bind).dialect
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


async def upsert(
    session: Any,
    table: Any,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str] | None,
    update: Sequence[str] = (),
    returning: Sequence[Any] = (),
):
    """INSERT … ON CONFLICT (keys) DO NOTHING, or DO UPDATE SET the `update` columns to the new row's values.

    The one way to write a row that a concurrent request may be writing too: the database settles
    the race (a plain INSERT would fail one of them with a unique violation).
    """
    stmt = dialect_insert(session)(table).values(values if isinstance(values, Mapping) else list(values))
    if update:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})
    else:  # keys None: whichever unique constraint the row hits
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys) if keys is not None else None)
    if returning:
        stmt = stmt.returning(*returning)
    return await session.execute(stmt)


async def get_or_create(session: Any, model: Any, *, keys: Mapping[str, Any], values: Mapping[str, Any] | None = None):
    """The row whose unique `keys` match, inserted with `values` first when missing; safe when two requests create it at once."""
    q = select(model).filter_by(**keys)
    row = (await session.execute(q)).scalar_one_or_none()
    if row is None:
        await upsert(session, model, {**keys, **(values or {})}, keys=list(keys))
        row = (await session.execute(q)).scalar_one()
    return row


class Database:
    """The engine and session factory, built once and passed down."""

    # The request edge must answer within Slack's 3 s: on SQLite its short writes wait this long
    # for a lock at most, on connections of their own (a pooled connection must never carry a
    # shorter timeout into ordinary work).
    EDGE_BUSY_MS = 1000
    EDGE_POOL = 4  # PostgreSQL connections kept for the edge (as many again at a burst)

    def __init__(self, url: str, **engine_kw) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kw)
        self.sessionmaker = make_sessionmaker(self.engine)
        self._edge_engine: AsyncEngine | None = None
        self._edge_sessionmaker: async_sessionmaker[AsyncSession] | None = None

    def edge_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for the request edge's own bookkeeping, on connections of their own.

        On SQLite they give up on a lock after EDGE_BUSY_MS. On PostgreSQL they come from a small
        pool of the edge's own, so a burst of listeners holding every pooled connection (saves,
        send-budget slots) never makes the edge wait for one and answer as if the database were down.
        """
        if self._edge_sessionmaker is None:
            if self.url.startswith("sqlite"):
                self._edge_engine = make_engine(self.url, busy_ms=self.EDGE_BUSY_MS)
            else:
                self._edge_engine = make_engine(self.url, pool_size=self.EDGE_POOL, max_overflow=self.EDGE_POOL)
            self._edge_sessionmaker = make_sessionmaker(self._edge_engine)
        return self._edge_sessionmaker

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not healthy"
            log.exception("database ping failed")
            return False

    async def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to `revision` over this engine."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_sync, revision)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._edge_engine is not None:
            await self._edge_engine.dispose()


def alembic_config(connection=None) -> Config:
    """An Alembic config pointing at migrations/, optionally bound to an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade_sync(connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def is_at_head(db: Database) -> bool:
    """True when the database's Alembic revision is the newest one."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with db.engine.connect() as conn:
        current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    return current == head


async def open_database(settings: Settings) -> Database:
    """Open the database; the embedded SQLite default upgrades itself, PostgreSQL must be upgraded first."""
    db = Database(settings.database_url)
    try:
        if settings.is_sqlite:
            await db.upgrade()
        elif not await is_at_head(db):
            raise ConfigError("the database schema is not up to date: run `salesbot db upgrade` (the release step) first.")
    except ConfigError:
        await db.dispose()
        raise
    except Exception as exc:
        await db.dispose()
        raise ConfigError(f"cannot open DATABASE_URL: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    return db
