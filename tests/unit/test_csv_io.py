"""bot/csvio import and export on a real database: round trips, idempotence, all or nothing, reports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.csvio import KINDS, ImportFailed, export_csv, export_for, import_csv
from bot.csvio.command import format_errors
from bot.csvio.reader import RowError
from bot.models import (
    Customer, Deal, DealStageChange, DealStatus, Member, Priority, Role, SalesTeam, Segment, Stage, Target, Task, TaskAssignee,
    TaskStatus, Workspace,
)
from bot.services.errors import PermissionDenied
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 8, 0, tzinfo=timezone.utc)
T0 = datetime(2031, 2, 1, 1, 30, tzinfo=timezone.utc)
ORDER = ("members", "customers", "deals", "targets", "tasks")  # references point backwards in this order


async def seed(session) -> f.World:
    """Two teams and a row of every kind, with the awkward cases: no external id, formulas, Chinese, credits."""
    w = await f.World.build(session)
    ws = w.ws
    zh = await f.member(session, ws, "UREPZH", role=Role.REP, team=w.east, name="王小明", tz="Asia/Shanghai", region="华东", segment=Segment.KEY)
    zh.locale = "zh-CN"
    acme = Customer(workspace_id=ws.id, name="Acme & Sons", segment=Segment.KEY, region="East", external_id="C-1", contact_channel_id="C0CONNECT")
    shanghai = Customer(workspace_id=ws.id, name="上海示例科技有限公司", segment=Segment.SMB, region="华东")  # made in Slack: no external id
    formula = Customer(workspace_id=ws.id, name="=HYPERLINK(\"http://evil\",\"x\")", external_id="-C-3", region="@risk")
    west = Customer(workspace_id=ws.id, name="Westwind", external_id="C-4")
    session.add_all([acme, shanghai, formula, west])
    await session.flush()
    deals = [
        Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=acme.id, owner_id=w.rep1_m.id, title="200 licences", product_line="A",
             amount=123450, stage=Stage.PROPOSAL, expected_close=date(2031, 6, 30), stage_entered_at=T0, external_id="D-1"),
        Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=shanghai.id, owner_id=zh.id, title="年度维保", product_line="B",
             amount=5_000_000, stage=Stage.NEGOTIATION, status=DealStatus.WON, stage_entered_at=T0, won_at=T0 + timedelta(days=3)),
        Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=acme.id, owner_id=w.rep2_m.id, title="+refund", amount=-8000,
             stage=Stage.AFTER_SALES, status=DealStatus.LOST, stage_entered_at=T0, lost_at=T0 + timedelta(hours=5), external_id="D-3"),
        Deal(workspace_id=ws.id, team_id=w.west.id, customer_id=west.id, owner_id=w.rep_w_m.id, title="West deal", amount=1,
             stage_entered_at=T0.replace(microsecond=123456), external_id="D-4"),
    ]
    session.add_all(deals)
    session.add_all([
        Target(workspace_id=ws.id, team_id=w.east.id, period="2031", period_start=date(2031, 1, 1), period_end=date(2032, 1, 1), amount=5_000_000_000, external_id="T-2031"),
        Target(workspace_id=ws.id, team_id=w.east.id, period="2031-Q1", period_start=date(2031, 1, 1), period_end=date(2031, 4, 1), dimension="product", key="A", amount=75_000_000),
        Target(workspace_id=ws.id, team_id=w.west.id, period="2031-W05", period_start=date(2031, 1, 27), period_end=date(2031, 2, 3), dimension="rep", key="UREPW", amount=99),
    ])
    await session.flush()
    shared = await w.task("Prepare the 年度 review", to=["UREP1", "UREP2"], customer_id=shanghai.id, stage=Stage.PROPOSAL,
                          priority=Priority.HIGH, difficulty=3, due_date=f.TODAY + timedelta(days=3), details="=1+1\nsecond line")
    shared.task.deal_id = deals[0].id
    done = await f.insert_task(session, ws, w.rep_w_m, title="@west call", status=TaskStatus.DONE, completed_at=T0, due=date(2031, 2, 1))
    done.external_id = "K-2"
    await f.insert_task(session, ws, w.rep2_m, title="No due date")
    await session.commit()
    return w


async def export_all(session, ws: Workspace) -> dict[str, bytes]:
    return {kind: (await export_csv(session, workspace=ws, kind=kind))[0] for kind in KINDS}


async def copy_into(session, files: dict[str, bytes], team_id: str = "T2") -> Workspace:
    """Import every file, in dependency order, into a workspace of its own (nothing else in the database is visible to it)."""
    ws = await f.workspace(session, team_id)
    for kind in ORDER:
        await import_csv(session, workspace=ws, kind=kind, data=files[kind], now=NOW)
    await session.commit()
    return ws


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("kind", KINDS)
async def test_round_trip_is_byte_identical(session, kind):
    w = await seed(session)
    first = await export_all(session, w.ws)
    assert len(cells(first[kind])) > 2
    fresh = await copy_into(session, first)
    again = await export_all(session, fresh)
    assert again[kind] == first[kind]


async def test_importing_twice_changes_nothing(session):
    w = await seed(session)
    files = await export_all(session, w.ws)
    ws2 = await copy_into(session, files)
    before = await export_all(session, ws2)
    stamps = sorted((d.external_id, d.updated_at) for d in (await session.execute(select(Deal).where(Deal.workspace_id == ws2.id))).scalars())
    counts = {m.__name__: len((await session.execute(select(m))).all()) for m in (Member, Customer, Deal, Target, Task, TaskAssignee, SalesTeam, DealStageChange)}
    for kind in ORDER:
        result = await import_csv(session, workspace=ws2, kind=kind, data=files[kind], now=NOW + timedelta(days=1))
        assert (result.created, result.updated) == (0, 0), kind
        assert result.unchanged == len(cells(files[kind])) - 1
    await session.commit()
    assert await export_all(session, ws2) == before
    assert {m.__name__: len((await session.execute(select(m))).all()) for m in (Member, Customer, Deal, Target, Task, TaskAssignee, SalesTeam, DealStageChange)} == counts
    assert sorted((d.external_id, d.updated_at) for d in (await session.execute(select(Deal).where(Deal.workspace_id == ws2.id))).scalars()) == stamps


async def test_reimporting_into_the_same_workspace_adopts_rows_made_in_slack(session):
    w = await seed(session)
    files = await export_all(session, w.ws)
    counts = {m.__name__: len((await session.execute(select(m))).all()) for m in (Customer, Deal, Target, Task)}
    for kind in ORDER:
        result = await import_csv(session, workspace=w.ws, kind=kind, data=files[kind], now=NOW)
        assert result.created == 0, kind
    await session.commit()
    assert {m.__name__: len((await session.execute(select(m))).all()) for m in (Customer, Deal, Target, Task)} == counts
    shanghai = (await session.execute(select(Customer).where(Customer.name == "上海示例科技有限公司"))).scalar_one()
    assert shanghai.external_id == f"customer-{shanghai.id}"  # the stand-in name is now its id
    assert await export_all(session, w.ws) == files


async def test_a_customer_made_in_slack_is_matched_by_name(session):
    w = await seed(session)
    data = "external_id,name,segment\nCRM-77,上海示例科技有限公司,key\n".encode()
    result = await import_csv(session, workspace=w.ws, kind="customers", data=data, now=NOW)
    assert (result.created, result.updated) == (0, 1)
    c = (await session.execute(select(Customer).where(Customer.external_id == "CRM-77"))).scalar_one()
    assert (c.name, c.segment) == ("上海示例科技有限公司", Segment.KEY)


async def test_one_bad_row_imports_nothing_and_names_line_and_column(session):
    w = await seed(session)
    lines = ["external_id,customer,owner,amount,stage,status,won_at"]
    lines += [f"N-{i},C-1,UREP1,{i}00.00,lead,open," for i in range(1, 6)]
    lines.insert(6, "N-bad,C-1,UREP1,\"12,3x\",lead,open,")  # file line 7
    data = ("\n".join(lines) + "\n").encode()
    deals_before = len((await session.execute(select(Deal))).all())
    with pytest.raises(ImportFailed) as exc:
        await import_csv(session, workspace=w.ws, kind="deals", data=data, now=NOW)
    await session.rollback()
    assert exc.value.errors == [RowError(7, "amount", "csv.error.amount", {"value": "12,3x"})]
    assert format_errors(exc.value.errors, f.loc()) == ['line 7, column amount: "12,3x" is not an amount (write it like 1234.50 or -80)']
    assert format_errors(exc.value.errors, f.loc("zh_Hans")) == ["第 7 行，amount 列：“12,3x”不是金额（请写成 1234.50 或 -80）"]
    assert len((await session.execute(select(Deal))).all()) == deals_before
    assert (await session.execute(select(Deal).where(Deal.external_id == "N-1"))).scalar_one_or_none() is None


async def test_every_error_of_the_file_is_reported_at_once(session):
    w = await seed(session)
    data = (
        "external_id,customer,owner,amount,stage,status,won_at,expected_close\n"
        "A-1,C-404,UREP1,1.00,lead,open,,\n"
        "A-2,C-1,UNOBODY,1.00,,won,,\n"
        "A-3,C-1,UREP1,1.001,stage9,open,,2031-02-30\n"
        "A-1,C-1,UREP1,,lead,,,\n"
    ).encode()
    with pytest.raises(ImportFailed) as exc:
        await import_csv(session, workspace=w.ws, kind="deals", data=data, now=NOW)
    got = [(e.line, e.column, e.key) for e in exc.value.errors]
    assert got == [
        (2, "customer", "csv.error.unknown_customer"),
        (3, "owner", "csv.error.unknown_member"),
        (3, "won_at", "csv.error.won_at_missing"),
        (4, "amount", "csv.error.amount"),
        (4, "expected_close", "csv.error.date"),
        (4, "stage", "csv.error.choice"),
        (5, "amount", "csv.error.required"),
        (5, "external_id", "csv.error.duplicate"),
    ]
    for lang in ("en", "zh_Hans"):
        assert all("%(" not in line for line in format_errors(exc.value.errors, f.loc(lang)))


@pytest.mark.parametrize("data, expected", [
    (b"external_id,nam,segment\nC-9,x,key\n", [(1, "nam", "csv.error.unknown_column"), (1, "name", "csv.error.missing_column")]),
    (b"external_id,name,name\nC-9,x,y\n", [(1, "name", "csv.error.duplicate_column")]),
    (b"", [(1, None, "csv.error.empty")]),
    ("external_id,name\nC-9,上海\n".encode("gbk"), [(2, None, "csv.error.encoding")]),
    (b"external_id,name\nC-9,x,extra\n", [(2, None, "csv.error.row_length")]),
    (b"external_id,name\nC-9,\"x\n", [(2, None, "csv.error.malformed")]),
])
async def test_file_level_errors(session, data, expected):
    ws = await f.workspace(session)
    with pytest.raises(ImportFailed) as exc:
        await import_csv(session, workspace=ws, kind="customers", data=data, now=NOW)
    assert [(e.line, e.column, e.key) for e in exc.value.errors] == expected


async def test_formula_cells_are_neutralised_and_read_back(session):
    w = await seed(session)
    data, _ = await export_csv(session, workspace=w.ws, kind="customers")
    rows = {r[1]: r for r in cells(data)[1:]}
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in rows
    formula_row = rows["'=HYPERLINK(\"http://evil\",\"x\")"]
    assert formula_row[0] == "'-C-3" and formula_row[3] == "'@risk"
    deals = cells((await export_csv(session, workspace=w.ws, kind="deals"))[0])
    by_id = {r[0]: r for r in deals[1:]}
    assert by_id["D-3"][1] == "'+refund"
    assert by_id["D-3"][6] == "-80.00"  # an amount is a number, written without the quote
    tasks = cells((await export_csv(session, workspace=w.ws, kind="tasks"))[0])
    assert [r for r in tasks[1:] if r[1] == "'@west call"]
    ws2 = await copy_into(session, await export_all(session, w.ws))
    names = set((await session.execute(select(Customer.name).where(Customer.workspace_id == ws2.id))).scalars())
    assert "=HYPERLINK(\"http://evil\",\"x\")" in names
    refund = (await session.execute(select(Deal).where(Deal.workspace_id == ws2.id, Deal.external_id == "D-3"))).scalar_one()
    assert (refund.title, refund.amount) == ("+refund", -8000)
    details = (await session.execute(select(Task.details).where(Task.workspace_id == ws2.id, Task.title == "Prepare the 年度 review"))).scalar_one()
    assert details == "=1+1\nsecond line"


async def test_bom_and_chinese_text(session):
    ws = await f.workspace(session)
    body = "external_id,name,region\nC-1,上海示例科技有限公司,华东\n"
    for data in (body.encode("utf-8"), "\ufeff".encode() + body.encode("utf-8")):
        await import_csv(session, workspace=ws, kind="customers", data=data, now=NOW)
    await session.commit()
    c = (await session.execute(select(Customer))).scalar_one()
    assert (c.name, c.region) == ("上海示例科技有限公司", "华东")
    out, n = await export_csv(session, workspace=ws, kind="customers")
    assert n == 1 and out.startswith("\ufeff".encode())
    assert "上海示例科技有限公司" in out.decode("utf-8-sig")


async def test_a_missing_column_leaves_the_field_alone(session):
    w = await seed(session)
    data = b"slack_user_id,role,team\nUREP2,manager,West\nUNEW1,rep,\n"
    result = await import_csv(session, workspace=w.ws, kind="members", data=data, now=NOW, default_team="North")
    await session.commit()
    assert (result.created, result.updated) == (1, 1)
    rita = (await session.execute(select(Member).where(Member.slack_user_id == "UREP2"))).scalar_one()
    assert (rita.name, rita.role, rita.team_id) == ("Rita", Role.MANAGER, w.west.id)
    new = (await session.execute(select(Member).where(Member.slack_user_id == "UNEW1"))).scalar_one()
    north = (await session.execute(select(SalesTeam).where(SalesTeam.name == "North"))).scalar_one()
    assert (new.role, new.team_id, new.tz, new.level.value) == (Role.REP, north.id, "UTC", "junior")


async def test_targets_rules(session):
    w = await seed(session)
    bad = (
        "external_id,team,period,dimension,key,amount\n"
        "X-1,,2031,total,,1\n"
        "X-2,East,2031-Q2,product,,1\n"
        "X-3,East,2031,total,A,1\n"
        "X-4,East,2031,total,,1\n"  # the line T-2031 already has
        "X-5,East,2031-Q3,segment,mid,1\n"
        "X-6,East,2031-Q3,total,,-5\n"
        "X-7,East,2031-Q3,total,,5\n"
    )
    with pytest.raises(ImportFailed) as exc:
        await import_csv(session, workspace=w.ws, kind="targets", data=bad.encode(), now=NOW)
    assert [(e.line, e.column, e.key) for e in exc.value.errors] == [
        (2, "team", "csv.error.team_required"), (3, "key", "csv.error.key_required"), (4, "key", "csv.error.key_total"),
        (5, "period", "csv.error.target_taken"), (6, "key", "csv.error.choice"), (7, "amount", "csv.error.negative"),
        (8, "period", "csv.error.target_twice"),
    ]
    good = "external_id,period,dimension,key,amount\nX-8,2031-03,segment,key,70.00\n"
    await import_csv(session, workspace=w.ws, kind="targets", data=good.encode(), now=NOW, default_team="West")
    t = (await session.execute(select(Target).where(Target.external_id == "X-8"))).scalar_one()
    assert (t.team_id, t.period, t.period_start, t.period_end, t.amount) == (w.west.id, "2031-03", date(2031, 3, 1), date(2031, 4, 1), 7000)


async def test_deal_import_records_stage_history_once(session):
    w = await seed(session)
    data = b"external_id,customer,owner,amount,stage,status,won_at\nD-1,C-1,UREP1,1234.50,negotiation,won,2031-03-01T10:00:00+08:00\n"
    for _ in range(2):
        await import_csv(session, workspace=w.ws, kind="deals", data=data, now=NOW)
    changes = list((await session.execute(select(DealStageChange))).scalars())
    assert [(c.from_stage, c.to_stage, c.status, c.changed_at) for c in changes] == [
        (Stage.PROPOSAL, Stage.NEGOTIATION, DealStatus.WON, datetime(2031, 3, 1, 2, 0, tzinfo=timezone.utc)),
    ]


async def test_task_assignees_are_replaced(session):
    w = await seed(session)
    data = b"external_id,title,assignees\nK-2,@west call,UREPW UREP1\n"
    result = await import_csv(session, workspace=w.ws, kind="tasks", data=data, now=NOW)
    assert (result.updated, result.unchanged) == (1, 0)
    task = (await session.execute(select(Task).where(Task.external_id == "K-2"))).scalar_one()
    q = select(Member.slack_user_id).join(TaskAssignee, TaskAssignee.member_id == Member.id).where(TaskAssignee.task_id == task.id)
    assert sorted((await session.execute(q)).scalars()) == ["UREP1", "UREPW"]
    data = b"external_id,title,assignees\nK-2,@west call,UREP1\n"
    await import_csv(session, workspace=w.ws, kind="tasks", data=data, now=NOW)
    assert sorted((await session.execute(q)).scalars()) == ["UREP1"]


async def test_slack_export_permissions_and_team_scope(session):
    w = await seed(session)
    everything = await export_for(session, actor=w.admin, kind="deals", today=date(2031, 3, 10))
    assert everything.rows == 4 and everything.filename == "deals-2031-03-10.csv"
    east = await export_for(session, actor=w.mgr, kind="deals", today=date(2031, 3, 10))
    assert [r[0] for r in cells(east.data)[1:]] == ["D-1", cells(everything.data)[2][0], "D-3"]
    west_members = await export_for(session, actor=w.mgr_w, kind="members", today=date(2031, 3, 10))
    assert sorted(r[0] for r in cells(west_members.data)[1:]) == ["UMGRW", "UREPW"]
    west_customers = await export_for(session, actor=w.mgr_w, kind="customers", today=date(2031, 3, 10))
    assert [r[1] for r in cells(west_customers.data)[1:]] == ["Westwind"]
    for who in (w.rep1, w.outsider):
        with pytest.raises(PermissionDenied) as exc:
            await export_for(session, actor=who, kind="deals", today=date(2031, 3, 10))
        assert exc.value.key == "csv.error.export_denied"
