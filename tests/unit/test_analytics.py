"""bot/services/analytics and bot/blocks/analytics: pipeline and KPI figures against hand computations."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import event

from bot.blocks.analytics import build_kpi, build_pipeline
from bot.services.deals import record_stage_change
from bot.models import (
    Activity, ActivityKind, Customer, Deal, DealStageChange, DealStatus, Expense, Member, SalesTeam, Stage, Survey,
    SurveyStatus, Target, Task, TaskAssignee, TaskStatus, Workspace,
)
from bot.services.analytics import PeriodError, kpi_report, pipeline_report
from bot.services.errors import NotOnRoster, PermissionDenied
from handlers.commands.kpi import parse_kpi
from handlers.commands.pipeline import parse_pipeline
from bot.parsing import ParseError
from tests.unit import factories as f

UTC = timezone.utc
_n = count(1)


def at(y: int, m: int, d: int, h: int = 2, minute: int = 0) -> datetime:
    """A UTC instant (02:00 UTC is 10:00 in Shanghai)."""
    return datetime(y, m, d, h, minute, tzinfo=UTC)


class Rows:
    """Direct inserts of the rows the deal, log and expense commands would write."""

    def __init__(self, session, ws: Workspace) -> None:
        self.session = session
        self.ws = ws

    async def add(self, *rows):
        for r in rows:
            self.session.add(r)
        await self.session.flush()
        return rows[0] if len(rows) == 1 else rows

    async def customer(self, name: str | None = None) -> Customer:
        return await self.add(Customer(workspace_id=self.ws.id, name=name or f"Customer {next(_n)}"))

    async def deal(self, owner: Member, customer: Customer, *, amount: int = 0, stage: Stage = Stage.LEAD,
                   status: DealStatus = DealStatus.OPEN, won_at: datetime | None = None, entered: datetime | None = None,
                   title: str = "", team_id: int | None = None) -> Deal:
        created = entered or won_at or at(2027, 1, 1)
        return await self.add(Deal(
            workspace_id=self.ws.id, team_id=team_id if team_id is not None else owner.team_id, customer_id=customer.id,
            owner_id=owner.id, title=title, amount=amount, stage=stage, status=status, won_at=won_at,
            stage_entered_at=entered or created, created_at=created, updated_at=created,
        ))

    async def moves(self, deal: Deal, *steps: tuple) -> None:
        """Stage changes: (from, to, when[, status])."""
        for step in steps:
            frm, to, when, *rest = step
            status = rest[0] if rest else DealStatus.OPEN
            # through the one writer of stage history, which also closes the previous stay
            await record_stage_change(self.session, workspace_id=self.ws.id, deal_id=deal.id, team_id=deal.team_id, from_stage=frm, to_stage=to, status=status, actor_id=None, at=when)

    async def survey(self, rep: Member | None, customer: Customer, score: int | None, answered: datetime | None) -> Survey:
        n = next(_n)
        return await self.add(Survey(
            workspace_id=self.ws.id, customer_id=customer.id, rep_id=rep.id if rep else None, source="deal", source_id=n,
            status=SurveyStatus.ANSWERED if score else SurveyStatus.SENT, score=score, answered_at=answered,
        ))

    async def expense(self, member: Member, amount: int, on: date) -> Expense:
        return await self.add(Expense(workspace_id=self.ws.id, member_id=member.id, amount=amount, category="travel", spent_on=on))

    async def activity(self, member: Member, when: datetime, effective: bool = True) -> Activity:
        return await self.add(Activity(workspace_id=self.ws.id, member_id=member.id, kind=ActivityKind.CALL, effective=effective, occurred_at=when))

    async def task(self, assignee: Member, due: date, *, done_at: datetime | None = None, team_id: int | None = None) -> Task:
        t = await self.add(Task(
            workspace_id=self.ws.id, team_id=team_id if team_id is not None else assignee.team_id, title=f"task {next(_n)}",
            due_date=due, status=TaskStatus.DONE if done_at else TaskStatus.OPEN, completed_at=done_at,
        ))
        await self.add(TaskAssignee(task_id=t.id, member_id=assignee.id))
        return t


@pytest.fixture
async def world(session):
    w = await f.World.build(session)
    w.east.timezone = "Asia/Shanghai"
    w.rep1_m.tz = "Asia/Shanghai"
    session.add_all([w.east, w.rep1_m])
    await session.flush()
    w.rows = Rows(session, w.ws)
    return w


NOW = at(2027, 3, 20, 4)


# --------------------------------------------------------------------------- KPIs

async def kpi_data(w):
    """March 2027 in Shanghai for team East, with rows just outside it to prove the bounds."""
    r = w.rows
    c1, c2, c3 = await r.customer("C1"), await r.customer("C2"), await r.customer("C3")
    await r.deal(w.rep1_m, c1, amount=100_000, status=DealStatus.WON, won_at=at(2027, 3, 5))
    await r.deal(w.rep2_m, c2, amount=50_000, status=DealStatus.WON, won_at=datetime(2027, 3, 31, 15, 30, tzinfo=UTC))  # 23:30 local
    await r.deal(w.rep1_m, c1, amount=60_000, status=DealStatus.WON, won_at=at(2027, 2, 10))  # previous month; C1 not new in March
    await r.deal(w.rep1_m, c3, amount=999, status=DealStatus.WON, won_at=datetime(2027, 3, 31, 16, 30, tzinfo=UTC))  # 1 April local
    await r.deal(w.rep2_m, c3, amount=40_000, status=DealStatus.WON, won_at=datetime(2027, 2, 28, 16, 10, tzinfo=UTC))  # 1 March local
    await r.deal(w.rep_w_m, c2, amount=1, status=DealStatus.WON, won_at=at(2027, 1, 15))  # West won C2 first
    await r.deal(w.rep1_m, c2, amount=7_777, status=DealStatus.LOST)
    await r.deal(w.rep1_m, c2, amount=8_888)

    await r.survey(w.rep1_m, c1, 5, at(2027, 3, 3))
    await r.survey(w.rep2_m, c2, 3, at(2027, 3, 10))
    await r.survey(w.rep1_m, c1, 4, at(2027, 3, 20))
    await r.survey(w.rep1_m, c1, 2, at(2027, 2, 20))
    await r.survey(w.rep_w_m, c2, 5, at(2027, 3, 5))
    await r.survey(w.rep1_m, c3, None, None)

    await r.expense(w.rep1_m, 5_000, date(2027, 3, 2))
    await r.expense(w.rep2_m, 2_500, date(2027, 3, 31))
    await r.expense(w.rep1_m, 9_999, date(2027, 4, 1))
    await r.expense(w.rep_w_m, 100, date(2027, 3, 5))

    await r.task(w.rep1_m, date(2027, 3, 10), done_at=datetime(2027, 3, 10, 15, tzinfo=UTC))  # 23:00 local: on time
    await r.task(w.rep1_m, date(2027, 3, 10), done_at=datetime(2027, 3, 10, 17, tzinfo=UTC))  # 01:00 next day local: late
    await r.task(w.rep2_m, date(2027, 3, 20))  # still open
    await r.task(w.rep2_m, date(2027, 2, 28), done_at=at(2027, 2, 27))  # due last month
    await r.task(w.rep1_m, date(2027, 3, 25), done_at=at(2027, 3, 20))
    await r.task(w.rep_w_m, date(2027, 3, 25))  # West

    await r.add(Target(workspace_id=w.ws.id, team_id=w.east.id, period="2027-03", period_start=date(2027, 3, 1),
                       period_end=date(2027, 4, 1), amount=150_000))


async def test_team_kpis_match_a_hand_computation(session, world):
    w = world
    await kpi_data(w)
    r = await kpi_report(session, actor=w.mgr, now=NOW)
    assert r.member is None and r.period.label == "2027-03"
    assert (r.sales, r.previous_sales) == (190_000, 60_000)
    assert r.growth == Decimal(130_000) / Decimal(60_000)
    assert (r.satisfied, r.answered) == (2, 3) and r.satisfaction == Decimal(2) / Decimal(3)
    assert r.new_customers == 1  # C3; C1 was first won in February, C2 by West in January
    assert r.cost == 7_500 and r.cost_ratio == Decimal(7_500) / Decimal(190_000)
    assert (r.tasks_on_time, r.tasks_due) == (2, 4) and r.completion == Decimal("0.5")
    assert r.sales_target == 150_000
    assert (r.verdict("sales"), r.verdict("growth"), r.verdict("satisfaction")) == (True, True, False)


async def test_rep_kpis_match_a_hand_computation(session, world):
    w = world
    await kpi_data(w)
    r = await kpi_report(session, actor=w.mgr, now=NOW, rep_user_id="UREP1")
    assert r.member.id == w.rep1_m.id
    assert (r.sales, r.previous_sales) == (100_000, 60_000)
    assert r.growth == Decimal(40_000) / Decimal(60_000)
    assert (r.satisfied, r.answered) == (2, 2) and r.verdict("satisfaction") is True
    assert r.new_customers == 0
    assert r.cost == 5_000
    assert (r.tasks_on_time, r.tasks_due) == (2, 3)
    assert r.sales_target is None and r.verdict("sales") is None
    r2 = await kpi_report(session, actor=w.rep2, now=NOW)  # a rep's own /kpi
    assert r2.member.id == w.rep2_m.id and r2.new_customers == 1 and r2.sales == 90_000


async def test_growth_is_na_when_the_previous_period_sold_nothing(session, world):
    w = world
    await kpi_data(w)
    r = await kpi_report(session, actor=w.mgr, now=NOW, period_text="2027-01")
    assert r.previous_sales == 0 and r.growth is None and r.verdict("growth") is None
    assert r.answered == 0 and r.satisfaction is None and r.tasks_due == 0 and r.completion is None
    assert r.sales == 0 and r.cost_ratio is None


async def test_kpi_periods_quarter_year_and_week(session, world):
    w = world
    await kpi_data(w)
    q = await kpi_report(session, actor=w.mgr, now=NOW, period_text="2027-Q1")
    assert q.sales == 250_000 and q.previous_sales == 0
    y = await kpi_report(session, actor=w.mgr, now=NOW, period_text="2027")
    assert y.sales == 250_999
    wk = await kpi_report(session, actor=w.mgr, now=NOW, period_text="2027-W09")  # 1–7 March
    assert wk.sales == 140_000 and wk.previous_sales == 0
    with pytest.raises(PeriodError):
        await kpi_report(session, actor=w.mgr, now=NOW, period_text="2027-13")


async def test_kpi_permissions(session, world):
    w = world
    await kpi_data(w)
    with pytest.raises(PermissionDenied) as exc:
        await kpi_report(session, actor=w.rep1, now=NOW, rep_user_id="UREP2")
    assert exc.value.key == "kpi.error.own_only"
    assert (await kpi_report(session, actor=w.rep1, now=NOW, rep_user_id="UREP1")).member.id == w.rep1_m.id
    with pytest.raises(PermissionDenied):
        await kpi_report(session, actor=w.mgr_w, now=NOW, rep_user_id="UREP1")
    with pytest.raises(PermissionDenied):
        await kpi_report(session, actor=w.mgr_w, now=NOW, team_name="East")
    with pytest.raises(PermissionDenied):
        await kpi_report(session, actor=w.rep1, now=NOW, team_name="West")
    with pytest.raises(NotOnRoster):
        await kpi_report(session, actor=w.outsider, now=NOW)
    west = await kpi_report(session, actor=w.mgr_w, now=NOW)
    assert west.team.id == w.west.id and west.sales == 0 and west.cost == 100
    admin_team = await kpi_report(session, actor=w.admin, now=NOW, team_name="East")
    assert admin_team.sales == 190_000
    assert (await kpi_report(session, actor=w.admin, now=NOW, rep_user_id="UREPW")).member.id == w.rep_w_m.id


async def test_kpi_default_period_is_the_current_month_in_the_team_zone(session, world):
    w = world
    # 31 March 17:00 UTC is already 1 April in Shanghai.
    r = await kpi_report(session, actor=w.mgr, now=datetime(2027, 3, 31, 17, tzinfo=UTC))
    assert r.period.label == "2027-04"


# --------------------------------------------------------------------------- pipeline

async def pipeline_data(w):
    """Q1 2027 for East (Shanghai): five deals moving through the stages, one West deal."""
    r = w.rows
    acme = await r.customer("<!channel> & Acme")
    other = await r.customer("Other")
    a = await r.deal(w.rep1_m, acme, amount=100_000, stage=Stage.PROPOSAL, entered=at(2027, 2, 1), title="Big <deal>")
    await r.moves(a, (None, Stage.LEAD, at(2027, 1, 5)), (Stage.LEAD, Stage.FIRST_CONTACT, at(2027, 1, 10)),
                  (Stage.FIRST_CONTACT, Stage.NEEDS_ANALYSIS, at(2027, 1, 20)), (Stage.NEEDS_ANALYSIS, Stage.PROPOSAL, at(2027, 2, 1)))
    b = await r.deal(w.rep2_m, other, amount=20_000, stage=Stage.FIRST_CONTACT, entered=at(2027, 2, 3), title="B")
    await r.moves(b, (None, Stage.LEAD, at(2027, 2, 1)), (Stage.LEAD, Stage.FIRST_CONTACT, at(2027, 2, 3)))
    c = await r.deal(w.rep1_m, other, amount=70_000, stage=Stage.FIRST_CONTACT, status=DealStatus.WON, won_at=at(2027, 1, 12), entered=at(2027, 1, 2))
    await r.moves(c, (None, Stage.LEAD, at(2026, 12, 20)), (Stage.LEAD, Stage.FIRST_CONTACT, at(2027, 1, 2)),
                  (Stage.FIRST_CONTACT, Stage.FIRST_CONTACT, at(2027, 1, 12), DealStatus.WON))
    d = await r.deal(w.rep1_m, other, amount=30_000, stage=Stage.LEAD, entered=at(2027, 3, 15), title="D")
    await r.moves(d, (None, Stage.LEAD, at(2027, 3, 15)))
    e = await r.deal(w.rep2_m, other, amount=5_000, stage=Stage.LEAD, status=DealStatus.LOST, entered=at(2027, 3, 18))
    await r.moves(e, (None, Stage.LEAD, at(2027, 3, 18)), (Stage.LEAD, Stage.LEAD, at(2027, 3, 19), DealStatus.LOST))
    west = await r.deal(w.rep_w_m, other, amount=1, stage=Stage.NEEDS_ANALYSIS, entered=at(2027, 1, 1))
    await r.moves(west, (None, Stage.LEAD, at(2027, 1, 1)), (Stage.LEAD, Stage.NEEDS_ANALYSIS, at(2027, 1, 3)))

    await r.activity(w.rep1_m, at(2027, 3, 1))
    await r.activity(w.rep2_m, at(2027, 1, 15))
    await r.activity(w.rep1_m, at(2027, 2, 2), effective=False)
    await r.activity(w.rep1_m, datetime(2026, 12, 31, 16, 30, tzinfo=UTC))  # 1 January local
    await r.activity(w.rep1_m, datetime(2027, 3, 31, 16, 30, tzinfo=UTC))  # 1 April local
    await r.activity(w.rep_w_m, at(2027, 2, 1))
    return a, b


async def test_pipeline_matches_a_hand_computation(session, world):
    w = world
    a, b = await pipeline_data(w)
    p = await pipeline_report(session, actor=w.mgr, now=NOW, period_text="2027-Q1")
    lines = {line.stage: line for line in p.stages}
    assert [(s, lines[s].open_count, lines[s].open_value, lines[s].stale_count) for s in Stage] == [
        (Stage.LEAD, 1, 30_000, 0), (Stage.FIRST_CONTACT, 1, 20_000, 1), (Stage.NEEDS_ANALYSIS, 0, 0, 0),
        (Stage.PROPOSAL, 1, 100_000, 1), (Stage.NEGOTIATION, 0, 0, 0), (Stage.AFTER_SALES, 0, 0, 0),
    ]
    assert [(lines[s].entered, lines[s].advanced) for s in Stage] == [(4, 2), (3, 2), (1, 1), (1, 0), (0, 0), (0, 0)]
    assert lines[Stage.LEAD].conversion == Decimal("0.5") and lines[Stage.NEGOTIATION].conversion is None
    # Lead stays ending in Q1: A 5 days, B 2, C 13 (from December), E 1 (lost) → 21 / 4.
    assert lines[Stage.LEAD].avg_days == Decimal("5.25")
    assert lines[Stage.FIRST_CONTACT].avg_days == Decimal(10)  # A 10 days, C 10 days until won
    assert lines[Stage.NEEDS_ANALYSIS].avg_days == Decimal(12)
    assert lines[Stage.PROPOSAL].avg_days is None
    assert [(s.deal_id, s.days) for s in p.stale] == [(a.id, 47), (b.id, 45)]
    assert p.stale_total == 2 and p.stale_days == 14
    assert (p.leads_found, p.effective_communications, p.needs_analysed) == (4, 3, 1)


async def test_pipeline_stale_days_follow_the_team_setting(session, world):
    w = world
    await pipeline_data(w)
    w.east.stale_days = 46
    session.add(w.east)
    await session.flush()
    p = await pipeline_report(session, actor=w.rep1, now=NOW, period_text="2027-Q1")
    assert p.stale_total == 1 and p.stale[0].days == 47


async def test_pipeline_permissions_and_default_period(session, world):
    w = world
    await pipeline_data(w)
    p = await pipeline_report(session, actor=w.rep2, now=NOW)
    assert p.period.label == "2027-Q1" and p.team.id == w.east.id
    with pytest.raises(PermissionDenied):
        await pipeline_report(session, actor=w.mgr_w, now=NOW, team_name="East")
    with pytest.raises(NotOnRoster):
        await pipeline_report(session, actor=w.outsider, now=NOW)
    west = await pipeline_report(session, actor=w.admin, now=NOW, team_name="West")
    assert west.open_count == 1 and west.line(Stage.LEAD).entered == 1


async def count_statements(db, fn):
    """Run `fn` and count the SQL statements it sends."""
    n = 0

    def listener(*_args, **_kw):
        nonlocal n
        n += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        await fn()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    return n


async def test_statement_count_does_not_grow_with_data(db, session, world):
    w = world
    await session.commit()

    async def run():
        async with db.sessionmaker() as s:
            await pipeline_report(s, actor=w.mgr, now=NOW, period_text="2027-Q1")
            await kpi_report(s, actor=w.mgr, now=NOW)
            await kpi_report(s, actor=w.mgr, now=NOW, rep_user_id="UREP1")

    empty = await count_statements(db, run)
    await kpi_data(w)
    await pipeline_data(w)
    for i in range(30):
        await w.rows.deal(w.rep2_m, await w.rows.customer(), amount=i, status=DealStatus.WON, won_at=at(2027, 3, 1 + i % 28))
    await session.commit()
    assert await count_statements(db, run) == empty <= 24  # about 7 statements a report


# --------------------------------------------------------------------------- builders and parsing

@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
async def test_pipeline_message(session, world, lang):
    w = world
    await pipeline_data(w)
    p = await pipeline_report(session, actor=w.mgr, now=NOW, period_text="2027-Q1")
    text, blocks = build_pipeline(p, f.loc(lang))
    assert len(blocks) <= 50 and text
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "&lt;!channel&gt; &amp; Acme" in body and "Big &lt;deal&gt;" in body and "<!channel>" not in body
    assert "<@UREP1>" in body
    if lang == "en":
        assert "Entered in period: 4 · converted: 2 (50.0%)" in body
        assert "Average days in stage: 5.3" in body  # 5.25 rounded half up
        assert "¥1,000 ·" in body and "CN¥" not in body
        assert "New leads: 4" in body and "Effective activities: 3" in body and "Needs analysed: 1" in body
        assert "47 days in Proposal" in body
    else:
        assert "本期进入：4 · 转化：2（转化率 50.0%）" in body and "新增线索：4" in body


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
async def test_kpi_message(session, world, lang):
    w = world
    await kpi_data(w)
    r = await kpi_report(session, actor=w.mgr, now=NOW)
    text, blocks = build_kpi(r, f.loc(lang))
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert len(blocks) <= 50
    if lang == "en":
        assert text == "KPIs · team East · March 2027"
        assert "*Growth rate*: 216.7%" in body and "target ≥ 10.0% · :white_check_mark: met" in body
        assert "*Customer satisfaction*: 66.7% (2 of 3 answers scored 4–5)" in body and ":x: missed" in body
        assert "*New customers*: 1" in body and "*Task completion*: 50.0% (2 of 4" in body
    else:
        assert "*增长率*：216.7%" in body and "达成" in body and "未达成" in body
    r = await kpi_report(session, actor=w.mgr, now=NOW, period_text="2027-01")
    _text, blocks = build_kpi(r, f.loc(lang))
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert f.loc(lang).t("common.na") in body


def test_parse_kpi_and_pipeline_arguments():
    assert parse_kpi("") == (None, None, None)
    assert parse_kpi("<@UREP1|ray> 2027-03") == ("UREP1", "2027-03", None)
    assert parse_kpi("2027-Q1 team:East <@UREP2>") == ("UREP2", "2027-Q1", "East")
    assert parse_pipeline("2027-Q1") == ("2027-Q1", None)
    assert parse_pipeline('team:"R&amp;D West"') == (None, "R&D West")
    for bad in ("<@U1> <@U2>", "2027 2028", "team:"):
        with pytest.raises(ParseError):
            parse_kpi(bad)
    with pytest.raises(ParseError):
        parse_pipeline("2027 2028")
