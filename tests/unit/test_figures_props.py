"""Property test: for random data, `/kpi @rep` for a week (or a month) equals that rep's row in the digest of that period.

Deals and tasks are booked under either team whoever owns them, reps and teams sit in different
zones, tasks are shared: the one engine and its one scope rule must give every rep the same
figures in both places, and the team's `/kpi` must equal the digest's team figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Customer, Deal, DealStatus, Expense, Role, Stage, Survey, SurveyStatus, Task, TaskAssignee, TaskStatus
from bot.periods import parse_period
from bot.services.analytics import kpi_report
from bot.services.digest import MONTHLY, WEEKLY, build_digest
from tests.unit import factories as f

BASE = datetime(2027, 1, 20, tzinfo=timezone.utc)  # rows fall between here and ~4 months later
SPAN_MINUTES = 120 * 24 * 60
ZONES = ["UTC", "Asia/Shanghai", "America/New_York"]
MEMBERS = 4  # 0, 1: East reps; 2: West rep; 3: East manager
_ws = count(1)
_n = count(1)

minutes = st.integers(0, SPAN_MINUTES)
who = st.integers(0, MEMBERS - 1)
team_index = st.integers(0, 1)  # the team a row is booked under: East or West, whoever owns it
deal_rows = st.lists(st.tuples(who, team_index, st.integers(0, 3), st.integers(0, 10**9), st.sampled_from(list(DealStatus)), minutes), max_size=25)
survey_rows = st.lists(st.tuples(who, st.integers(1, 5), minutes), max_size=12)
expense_rows = st.lists(st.tuples(who, st.integers(1, 10**7), st.integers(0, 119)), max_size=8)
task_rows = st.lists(
    st.tuples(st.sets(who, min_size=1, max_size=2), team_index, st.integers(0, 119), st.one_of(st.none(), st.integers(-3 * 1440, 3 * 1440))),
    max_size=15,
)
periods = st.one_of(
    st.integers(4, 20).map(lambda w: (WEEKLY, f"2027-W{w:02d}")),
    st.integers(2, 5).map(lambda m: (MONTHLY, f"2027-{m:02d}")),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    team_zones=st.tuples(st.sampled_from(ZONES), st.sampled_from(ZONES)), rep_zones=st.lists(st.sampled_from(ZONES), min_size=MEMBERS, max_size=MEMBERS),
    period=periods, deals=deal_rows, surveys=survey_rows, expenses=expense_rows, tasks=task_rows,
)
async def test_kpi_of_a_rep_equals_their_row_in_the_digest(db, team_zones, rep_zones, period, deals, surveys, expenses, tasks):
    kind, label = period
    p = parse_period(label)
    when = lambda m: BASE + timedelta(minutes=m)  # noqa: E731
    async with db.sessionmaker() as session:
        ws = await f.workspace(session, f"TF{next(_ws)}")
        east, west = await f.team(session, ws, "East"), await f.team(session, ws, "West")
        teams = [east, west]
        for t, zone in zip(teams, team_zones):
            t.timezone = zone
            session.add(t)
        homes = [east, east, west, east]
        roles = [Role.REP, Role.REP, Role.REP, Role.MANAGER]
        people = [await f.member(session, ws, f"UF{i}", role=roles[i], team=homes[i], tz=rep_zones[i]) for i in range(MEMBERS)]
        admin = f.actor(ws, await f.member(session, ws, "UFADMIN", is_slack_admin=True))
        customers = []
        for _ in range(4):
            customers.append(Customer(workspace_id=ws.id, name=f"Customer {next(_n)}"))
        session.add_all(customers)
        await session.flush()
        for owner, team_i, cust, amount, status, m in deals:
            session.add(Deal(
                workspace_id=ws.id, team_id=teams[team_i].id, customer_id=customers[cust].id, owner_id=people[owner].id, amount=amount,
                stage=Stage.PROPOSAL, status=status, stage_entered_at=when(m), won_at=when(m) if status == DealStatus.WON else None,
                lost_at=when(m) if status == DealStatus.LOST else None,
            ))
            await session.flush()  # one at a time: ids follow the generated order (first-win ties go to the lower id)
        for rep, score, m in surveys:
            session.add(Survey(workspace_id=ws.id, customer_id=customers[0].id, rep_id=people[rep].id, source="deal", source_id=next(_n),
                               status=SurveyStatus.ANSWERED, score=score, answered_at=when(m)))
        for member_i, amount, d in expenses:
            session.add(Expense(workspace_id=ws.id, member_id=people[member_i].id, amount=amount, category="travel", spent_on=BASE.date() + timedelta(days=d)))
        for assignees, team_i, d, done in tasks:
            due = BASE.date() + timedelta(days=d)
            done_at = None if done is None else datetime.combine(due, datetime.min.time(), timezone.utc) + timedelta(minutes=done)
            task = Task(workspace_id=ws.id, team_id=teams[team_i].id, title=f"task {next(_n)}", due_date=due,
                        status=TaskStatus.DONE if done_at else TaskStatus.OPEN, completed_at=done_at)
            session.add(task)
            await session.flush()
            session.add_all([TaskAssignee(task_id=task.id, member_id=people[a].id) for a in sorted(assignees)])
        await session.flush()

        day = p.end  # the digest that reports the period: the Monday after the week, the 1st after the month
        checked = 0
        for t in teams:
            digest = await build_digest(session, team=t, kind=kind, day=day, now=datetime.combine(day, datetime.min.time(), timezone.utc))
            assert digest.period == p
            team_kpi = await kpi_report(session, actor=admin, now=BASE, period_text=label, team_name=t.name)
            assert team_kpi.values() == digest.totals.values()
            rows = {r.member.slack_user_id: r for r in digest.reps}
            reps = [m for m in people if m.team_id == t.id and m.role == Role.REP]
            assert sorted(rows) == sorted(m.slack_user_id for m in reps)
            for rep in reps:
                kpi = await kpi_report(session, actor=admin, now=BASE, rep_user_id=rep.slack_user_id, period_text=label)
                assert kpi.values() == rows[rep.slack_user_id].values(), rep.slack_user_id
                # The scope rule, straight from the generated rows: the rep's deals booked under the rep's team.
                zone = ZoneInfo(t.timezone)
                i = people.index(rep)
                mine = [(a, when(m)) for o, ti, _c, a, s, m in deals if o == i and teams[ti].id == t.id and s == DealStatus.WON]
                assert kpi.sales == sum(a for a, at in mine if p.contains(at.astimezone(zone).date()))
                checked += 1
        assert checked == 3
