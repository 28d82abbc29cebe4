"""Alembic environment: runs on a connection handed in by bot.db, or builds its own."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.settings import DEFAULT_DATABASE_URL, normalize_database_url

target_metadata = SQLModel.metadata
config = context.config


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = normalize_database_url(config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_configure_and_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=normalize_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (conn := config.attributes.get("connection")) is not None:
    _configure_and_run(conn)
else:
    asyncio.run(_run_online())
