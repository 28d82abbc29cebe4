"""A pulled file as large as PostgreSQL's parameter limit would refuse in one statement still imports."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from bot.csvio.importer import import_csv
from bot.models import Customer
from tests.unit.factories import workspace

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)


async def test_nine_thousand_new_customers_import_in_one_go(session):
    ws = await workspace(session)
    # 9,000 rows x 4 values is over PostgreSQL's 32,767 parameters for one statement.
    data = ("external_id,name\n" + "".join(f"C-{i},Customer {i}\n" for i in range(9000))).encode()
    result = await import_csv(session, workspace=ws, kind="customers", data=data, now=NOW)
    await session.commit()
    assert (result.created, result.updated) == (9000, 0)
    assert (await session.execute(select(func.count()).select_from(Customer))).scalar_one() == 9000
