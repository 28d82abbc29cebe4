"""CSV imports and get-or-creates running at once on separate connections: nothing named twice is created twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlalchemy import func, select

from bot.csvio import import_csv
from bot.models import Customer, Member, SalesTeam, Workspace
from bot.periods import PeriodError, parse_period
from bot.services.roster import get_or_create_team
from bot.services.tasks import find_or_create_customer
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)
N = 20


async def count(db, model, *where) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_twenty_imports_naming_the_same_new_customers_and_team(db):
    async with db.session() as s:
        ws = await f.workspace(s)
    customers = b"external_id,name,segment\nC-1,Acme,key\nC-2,Globex,smb\n"

    async def run(i: int):
        async with db.session() as s:
            members = f"slack_user_id,team,role\nUIMP{i:03d},North,rep\n".encode()
            a = await import_csv(s, workspace=ws, kind="customers", data=customers, now=NOW)
            b = await import_csv(s, workspace=ws, kind="members", data=members, now=NOW)
            return a, b

    results = await asyncio.gather(*(run(i) for i in range(N)))
    assert sum(a.created for a, _ in results) == 2  # each customer created once, matched by the others
    assert all(a.total == 2 for a, _ in results) and all(b.created == 1 for _, b in results)
    assert await count(db, Customer) == 2 and await count(db, SalesTeam) == 1
    async with db.session() as s:
        north = (await s.execute(select(SalesTeam))).scalar_one()
        acme = (await s.execute(select(Customer).where(Customer.external_id == "C-1"))).scalar_one()
    assert north.name == "North" and acme.name == "Acme" and acme.segment.value == "key"
    assert await count(db, Member, Member.team_id == north.id) == N


async def test_twenty_get_or_creates_of_one_customer_and_one_team(db):
    async with db.session() as s:
        ws = await f.workspace(s)

    async def run():
        async with db.session() as s:
            c = await find_or_create_customer(s, workspace_id=ws.id, name="Same Co")
            t = await get_or_create_team(s, workspace=ws, name="Same Team", tz="Asia/Shanghai")
            return c.id, t.id, t.timezone, t.digest_time

    got = await asyncio.gather(*(run() for _ in range(N)))
    assert len(set(got)) == 1, got
    assert got[0][2:] == ("Asia/Shanghai", "09:00")  # the model's defaults apply to rows the upsert inserts
    assert await count(db, Customer) == 1 and await count(db, SalesTeam) == 1 and await count(db, Workspace) == 1


def test_parse_period_refuses_periods_whose_neighbours_are_out_of_range():
    for text in ("1970", "1970-Q1", "1970-01", "1970-W01", "2999", "2999-Q4", "2999-12", "2999-W52", "3000", "1969-12"):
        try:
            parse_period(text)
        except PeriodError:
            continue
        raise AssertionError(f"{text} was accepted")
    for text, previous, following in [("1970-02", "1970-01", "1970-03"), ("1971", "1970", "1972"), ("2999-11", "2999-10", "2999-12"), ("2999-Q3", "2999-Q2", "2999-Q4")]:
        p = parse_period(text)
        assert (p.previous().label, p.next().label) == (previous, following)
    # The last periods of the range still know where they end.
    assert str(parse_period("2999-11").next().end) == "3000-01-01"
