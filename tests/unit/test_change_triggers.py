"""Every table the API serves keeps its change-numbering triggers at the head migration.

On SQLite a migration that recreates a table (batch mode) drops its triggers, and the API's
pulls would silently stop seeing that table's changes: this fails first.
"""

from __future__ import annotations

from sqlalchemy import text

from bot.services.api_feed import MODELS

TABLES = sorted(m.__tablename__ for m in MODELS.values())


async def test_every_served_table_numbers_inserts_and_updates(db):
    async with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = (await conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))).all()
            have = {(t, n.rsplit("_", 1)[1]) for t, n in rows if n.startswith(f"{t}_change_")}
            assert have == {(t, e) for t in TABLES for e in ("insert", "update")}
        else:
            rows = (await conn.execute(text(
                "SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
                "JOIN pg_proc p ON p.oid = g.tgfoid WHERE p.proname = 'salesbot_change_seq' AND NOT g.tgisinternal"
            ))).scalars().all()
            assert sorted(rows) == TABLES
