"""Property tests: each KPI equals a plain Python recomputation over random rows in the real database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import DealStatus, Role
from bot.periods import parse_period
from bot.services.analytics import kpi_report
from tests.unit import factories as f
from tests.unit.test_analytics import Rows

BASE = datetime(2027, 1, 20, tzinfo=timezone.utc)  # rows fall between here and ~4 months later
SPAN_MINUTES = 120 * 24 * 60
_ws = count(1)

minutes = st.integers(0, SPAN_MINUTES)
deal_rows = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 10**9), st.sampled_from(list(DealStatus)), minutes), max_size=25)
survey_rows = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5), minutes), max_size=15)
expense_rows = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 10**7), st.integers(0, 119)), max_size=10)
task_rows = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 119), st.one_of(st.none(), st.integers(-3 * 1440, 3 * 1440))), max_size=15)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    tz=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"]),
    period=st.sampled_from(["2027-02", "2027-03", "2027-Q1", "2027-W10", "2027"]),
    deals=deal_rows, surveys=survey_rows, expenses=expense_rows, tasks=task_rows, rep_index=st.integers(-1, 2),
)
async def test_kpis_match_a_plain_recomputation(db, tz, period, deals, surveys, expenses, tasks, rep_index):
    async with db.sessionmaker() as session:
        ws = await f.workspace(session, f"TP{next(_ws)}")
        team = await f.team(session, ws, "East")
        team.timezone = tz
        other = await f.team(session, ws, "West")
        mgr = await f.member(session, ws, "UMGR", role=Role.MANAGER, team=team)
        reps = [await f.member(session, ws, f"UR{i}", role=Role.REP, team=team if i < 2 else other, tz=tz) for i in range(3)]
        rows = Rows(session, ws)
        customers = [await rows.customer() for _ in range(4)]
        when = lambda m: BASE + timedelta(minutes=m)  # noqa: E731
        for owner, cust, amount, status, m in deals:
            await rows.deal(reps[owner], customers[cust], amount=amount, status=status, won_at=when(m) if status == DealStatus.WON else None)
        for rep, score, m in surveys:
            await rows.survey(reps[rep], customers[0], score, when(m))
        for rep, amount, d in expenses:
            await rows.expense(reps[rep], amount, BASE.date() + timedelta(days=d))
        for rep, d, done in tasks:
            due = BASE.date() + timedelta(days=d)
            done_at = None if done is None else datetime.combine(due, datetime.min.time(), timezone.utc) + timedelta(minutes=done)
            await rows.task(reps[rep], due, done_at=done_at)

        rep = reps[rep_index] if rep_index in (0, 1) else None
        report = await kpi_report(session, actor=f.actor(ws, mgr), now=BASE, rep_user_id=rep.slack_user_id if rep else None, period_text=period)

    # The same figures, straight from the generated tuples.
    zone = ZoneInfo(tz)
    p = parse_period(period)
    local = lambda dt: dt.astimezone(zone).date()  # noqa: E731
    in_scope = lambda i: (i == rep_index) if rep else i in (0, 1)  # noqa: E731
    won = [(o, c, a, when(m)) for o, c, a, s, m in deals if s == DealStatus.WON]
    sales = sum(a for o, _c, a, t in won if in_scope(o) and p.contains(local(t)))
    prev = p.previous()
    previous = sum(a for o, _c, a, t in won if in_scope(o) and prev.contains(local(t)))
    answers = [s for r, s, m in surveys if in_scope(r) and p.contains(local(when(m)))]
    first_win = {}
    for i, (o, c, _a, t) in enumerate(won):  # insertion order is id order: ties go to the first row
        if c not in first_win or t < first_win[c][0]:
            first_win[c] = (t, o)
    new = sum(1 for t, o in first_win.values() if in_scope(o) and p.contains(local(t)))
    cost = sum(a for r, a, d in expenses if in_scope(r) and p.contains(BASE.date() + timedelta(days=d)))
    task_zone = ZoneInfo(rep.tz) if rep else zone
    due = [(BASE.date() + timedelta(days=d), done) for r, d, done in tasks if in_scope(r) and p.contains(BASE.date() + timedelta(days=d))]
    on_time = sum(
        1 for d, done in due
        if done is not None and (datetime.combine(d, datetime.min.time(), timezone.utc) + timedelta(minutes=done)).astimezone(task_zone).date() <= d
    )

    assert (report.sales, report.previous_sales) == (sales, previous)
    assert report.growth == (None if previous == 0 else Decimal(sales - previous) / Decimal(previous))
    assert report.satisfaction == (None if not answers else Decimal(sum(1 for s in answers if s >= 4)) / Decimal(len(answers)))
    assert report.new_customers == new
    assert report.cost == cost
    assert report.cost_ratio == (None if sales == 0 else Decimal(cost) / Decimal(sales))
    assert (report.tasks_due, report.tasks_on_time) == (len(due), on_time)
    assert report.completion == (None if not due else Decimal(on_time) / Decimal(len(due)))
    if report.growth is not None:
        assert report.verdict("growth") == (report.growth >= Decimal("0.1"))
