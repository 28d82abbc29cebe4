"""bot/services/figures: the scope rule by hand, and the morning DM's attainment batched over teams and zones."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import event

from bot.models import DealStatus, Role, Target
from bot.periods import parse_period
from bot.services.analytics import kpi_report
from bot.services.digest import WEEKLY, build_digest
from bot.services.figures import SATISFIED_MIN_SCORE, RepKey, period_figures, rep_month_lines
from tests.unit import factories as f
from tests.unit.test_analytics import Rows

UTC = timezone.utc


def at(m: int, d: int, h: int = 4, minute: int = 0) -> datetime:
    return datetime(2027, m, d, h, minute, tzinfo=UTC)


async def test_a_reps_figures_are_their_share_of_their_teams(session):
    """A rep who moved from West to East: what they booked under West stays West's, in /kpi and in the digest alike."""
    w = await f.World.build(session)
    rows = Rows(session, w.ws)
    acme, globex = await rows.customer("Acme"), await rows.customer("Globex")
    ray = w.rep1_m  # on East now
    week = parse_period("2027-W10")  # 8–14 March
    await rows.deal(ray, acme, amount=1_000, status=DealStatus.WON, won_at=at(3, 9))  # booked under East
    await rows.deal(ray, globex, amount=50_000, status=DealStatus.WON, won_at=at(3, 10), team_id=w.west.id)  # under West, before the move
    await rows.deal(w.mgr_m, globex, amount=300, status=DealStatus.WON, won_at=at(3, 11))  # the manager's: East's, no rep's
    await rows.task(ray, date(2027, 3, 9), done_at=at(3, 9))  # an East task, on time
    await rows.task(ray, date(2027, 3, 10), team_id=w.west.id)  # a West task: not East's
    await rows.survey(ray, acme, SATISFIED_MIN_SCORE, at(3, 12))  # answers follow the member's current team
    await rows.survey(ray, globex, SATISFIED_MIN_SCORE - 1, at(3, 12))
    await rows.expense(ray, 700, date(2027, 3, 9))

    kpi = await kpi_report(session, actor=w.mgr, now=at(3, 20), rep_user_id="UREP1", period_text=week.label)
    assert (kpi.sales, kpi.deals_won, kpi.new_customers) == (1_000, 1, 1)  # Globex's first win was West's
    assert (kpi.tasks_due, kpi.tasks_on_time) == (1, 1)
    assert (kpi.answered, kpi.satisfied, kpi.cost) == (2, 1, 700)
    digest = await build_digest(session, team=w.east, kind=WEEKLY, day=week.end, now=at(3, 15))
    [row] = [r for r in digest.reps if r.member.id == ray.id]
    assert row.values() == kpi.values()
    assert (digest.won, digest.totals.new_customers) == (1_300, 1)  # with the manager's deal; Globex was not new to East

    west = await kpi_report(session, actor=w.admin, now=at(3, 20), team_name="West", period_text=week.label)
    assert (west.sales, west.new_customers, west.tasks_due) == (50_000, 1, 1)
    assert (west.answered, west.cost) == (0, 0)  # Ray is not on West any more


async def test_asking_for_one_rep_reads_only_that_rep(session):
    w = await f.World.build(session)
    rows = Rows(session, w.ws)
    c = await rows.customer()
    await rows.deal(w.rep1_m, c, amount=10, status=DealStatus.WON, won_at=at(3, 2))
    await rows.deal(w.rep2_m, c, amount=20, status=DealStatus.WON, won_at=at(3, 3))
    march = parse_period("2027-03")
    both = await period_figures(session, team=w.east, period=march)
    one = await period_figures(session, team=w.east, period=march, rep_ids=[w.rep2_m.id])
    assert one.total is None and set(one.reps) == {w.rep2_m.id}
    assert one.rep(w.rep2_m.id) == both.rep(w.rep2_m.id) and both.total.sales == 30
    assert one.rep(w.rep1_m.id).sales == 0


async def _zoned_world(session):
    """Teams in Shanghai (two), New York and Tokyo, a rep each with a March target, wins around the month's edges."""
    ws = await f.workspace(session, "TZ1")
    rows = Rows(session, ws)
    c = await rows.customer()
    out = []
    for name, zone in (("SH1", "Asia/Shanghai"), ("SH2", "Asia/Shanghai"), ("NY", "America/New_York"), ("TK", "Asia/Tokyo")):
        team = await f.team(session, ws, name)
        team.timezone = zone
        rep = await f.member(session, ws, f"U{name}", role=Role.REP, team=team, tz=zone)
        session.add(Target(workspace_id=ws.id, team_id=team.id, period="2027-03", period_start=date(2027, 3, 1), period_end=date(2027, 4, 1),
                           dimension="rep", key=rep.slack_user_id, amount=1_000))
        out.append((team, rep))
    (sh1, r1), (sh2, r2), (ny, r3), (tk, r4) = out
    # 28 Feb 17:00 UTC is 1 March in Shanghai and Tokyo, still February in New York.
    for rep, team in ((r1, sh1), (r2, sh2), (r3, ny), (r4, tk)):
        await rows.deal(rep, c, amount=100, status=DealStatus.WON, won_at=datetime(2027, 2, 28, 17, tzinfo=UTC))
        await rows.deal(rep, c, amount=10, status=DealStatus.WON, won_at=at(3, 10))
    await rows.deal(r1, c, amount=5_000, status=DealStatus.WON, won_at=at(3, 10), team_id=ny.id)  # booked under NY: not r1's line
    await rows.deal(r4, c, amount=1, status=DealStatus.WON, won_at=at(3, 11))  # after Tokyo's as-of date below
    await session.flush()
    return out


def _count(session, statements):
    event.listen(session.bind.sync_engine if hasattr(session.bind, "sync_engine") else session.bind, "before_cursor_execute",
                 lambda *a, **k: statements.append(1))


async def test_rep_month_lines_batch_many_teams_and_zones_in_two_statements(session):
    (sh1, r1), (sh2, r2), (ny, r3), (tk, r4) = await _zoned_world(session)
    statements: list[int] = []
    _count(session, statements)
    as_of = {sh1.id: date(2027, 3, 10), sh2.id: date(2027, 3, 10), ny.id: date(2027, 3, 10), tk.id: date(2027, 3, 10)}
    lines = await rep_month_lines(session, reps=[RepKey(r.id, r.slack_user_id, t) for t, r in ((sh1, r1), (sh2, r2), (ny, r3), (tk, r4))], as_of=as_of)
    assert len(statements) == 2  # the targets, then one sum over every team's own month window
    assert {m: (line.won, line.target) for m, line in lines.items()} == {r1.id: (110, 1_000), r2.id: (110, 1_000), r3.id: (10, 1_000), r4.id: (110, 1_000)}
    assert lines[r1.id].elapsed == lines[r3.id].elapsed and lines[r1.id].key == "2027-03"


async def test_rep_month_lines_when_teams_of_one_zone_run_to_different_dates(session):
    (sh1, r1), (sh2, r2), (ny, r3), (tk, r4) = await _zoned_world(session)
    as_of = {sh1.id: date(2027, 3, 1), sh2.id: date(2027, 3, 10), tk.id: date(2027, 3, 10)}
    reps = [RepKey(r.id, r.slack_user_id, t) for t, r in ((sh1, r1), (sh2, r2), (tk, r4))]
    lines = await rep_month_lines(session, reps=reps, as_of=as_of)
    assert {m: line.won for m, line in lines.items()} == {r1.id: 100, r2.id: 110, r4.id: 110}
    assert lines[r1.id].elapsed < lines[r2.id].elapsed


async def test_no_target_no_line_and_one_statement(session):
    w = await f.World.build(session)
    statements: list[int] = []
    _count(session, statements)
    assert await rep_month_lines(session, reps=[RepKey(w.rep1_m.id, "UREP1", w.east)], as_of={w.east.id: date(2027, 3, 10)}) == {}
    assert len(statements) == 1
