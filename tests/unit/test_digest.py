"""The weekly and monthly digest: figures, the agenda, the builder's limits and the composer's schedule and keys."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.blocks.digest import build_digest_message, rep_table_lines
from bot.blocks.kit import MESSAGE_MAX_BLOCKS, SECTION_TEXT_MAX
from bot.i18n import I18n
from bot.models import (
    Customer, Deal, DealStageChange, DealStatus, Stage, Suggestion, Survey, SurveyStatus, Target, TaskStatus,
)
from bot.services.digest import MONTHLY, WEEKLY, Answer, Digest, RepRow, build_digest, digest_due, first_working_day, reported_period
from bot.services.team_settings import TeamSchedule
from jobs.digest import compose_monthly, compose_weekly
from tests.unit.factories import World, insert_task, loc

SH = "Asia/Shanghai"
# Monday 1 March 2027, 09:00 in Shanghai: the weekly digest of ISO week 2027-W08 (22–28 February).
MONDAY = datetime(2027, 3, 1, 1, 0, tzinfo=timezone.utc)


class FakeDeps:
    i18n = I18n()


def at(d: int, hour: int = 12, month: int = 2) -> datetime:
    return datetime(2027, month, d, hour, 0, tzinfo=timezone.utc)


async def _seed(session):
    w = await World.build(session)
    ws = w.ws
    w.east.timezone = SH
    session.add(w.east)
    for m in (w.mgr_m, w.rep1_m, w.rep2_m):
        m.tz = SH
        session.add(m)
    cust = Customer(workspace_id=ws.id, name="Huaxin & <Co>")
    session.add(cust)
    await session.flush()

    def deal(owner, amount, status=DealStatus.OPEN, stage=Stage.PROPOSAL, won_at=None, lost_at=None, entered=None, title="d"):
        d = Deal(workspace_id=ws.id, team_id=w.east.id, customer_id=cust.id, owner_id=owner.id, amount=amount, status=status, stage=stage,
                 won_at=won_at, lost_at=lost_at, stage_entered_at=entered or at(20), title=title)
        session.add(d)
        return d

    deal(w.rep1_m, 300_000, DealStatus.WON, won_at=at(23))  # last week
    deal(w.rep2_m, 100_000, DealStatus.WON, won_at=at(26))  # last week
    deal(w.rep1_m, 50_000, DealStatus.WON, won_at=at(17))  # the week before
    deal(w.rep1_m, 999_999, DealStatus.WON, won_at=at(2, month=3))  # this week: not in the report
    deal(w.rep2_m, 70_000, DealStatus.LOST, lost_at=at(24))
    deal(w.rep_w_m, 5_000_000, DealStatus.WON, won_at=at(23)).team_id = w.west.id  # another team
    stale = deal(w.rep2_m, 80_000, entered=at(1), title="Old <deal>")
    fresh = deal(w.rep1_m, 20_000, stage=Stage.LEAD, entered=at(25))
    await session.flush()
    # Stage changes carry the deal's team, as record_stage_change writes them: the team's movement counts them.
    session.add(DealStageChange(workspace_id=ws.id, team_id=w.east.id, deal_id=fresh.id, from_stage=None, to_stage=Stage.LEAD, changed_at=at(25)))
    session.add(DealStageChange(workspace_id=ws.id, team_id=w.east.id, deal_id=stale.id, from_stage=Stage.LEAD, to_stage=Stage.PROPOSAL, changed_at=at(22, 3)))
    session.add(DealStageChange(workspace_id=ws.id, team_id=w.east.id, deal_id=stale.id, from_stage=Stage.PROPOSAL, to_stage=Stage.LEAD, changed_at=at(22, 4)))
    for period, start, end, amount in (("2027-W08", date(2027, 2, 22), date(2027, 3, 1), 500_000), ("2027-02", date(2027, 2, 1), date(2027, 3, 1), 2_000_000)):
        session.add(Target(workspace_id=ws.id, team_id=w.east.id, period=period, period_start=start, period_end=end, amount=amount))
    session.add(Target(workspace_id=ws.id, team_id=w.east.id, period="2027-02", period_start=date(2027, 2, 1), period_end=date(2027, 3, 1),
                       dimension="rep", key="UREP1", amount=300_000))
    session.add(Target(workspace_id=ws.id, team_id=w.east.id, period="2027-02", period_start=date(2027, 2, 1), period_end=date(2027, 3, 1),
                       dimension="rep", key="UREP2", amount=1_000_000))
    await insert_task(session, ws, w.rep1_m, due=date(2027, 2, 24), status=TaskStatus.DONE, completed_at=at(24, 2))  # on time
    await insert_task(session, ws, w.rep1_m, due=date(2027, 2, 23), status=TaskStatus.DONE, completed_at=at(25, 2))  # late
    await insert_task(session, ws, w.rep2_m, due=date(2027, 2, 20))  # overdue
    for score, comment, when in ((1, "Too slow <!channel>", at(24)), (5, "", at(25)), (4, "Nice", at(26)), (2, "", at(10))):
        session.add(Survey(workspace_id=ws.id, customer_id=cust.id, rep_id=w.rep1_m.id, source="deal", source_id=score, status=SurveyStatus.ANSWERED,
                           score=score, comment=comment, answered_at=when))
    session.add(Suggestion(workspace_id=ws.id, team_id=w.east.id, author_id=w.rep2_m.id, text="Share <@U1> demo scripts", created_at=at(24)))
    session.add(Suggestion(workspace_id=ws.id, team_id=w.east.id, author_id=None, text="Old one", created_at=at(1)))
    await session.commit()
    return w


async def test_weekly_figures_and_agenda(session):
    w = await _seed(session)
    d = await build_digest(session, team=w.east, kind=WEEKLY, day=date(2027, 3, 1), now=MONDAY)
    assert d.period.label == "2027-W08" and d.month_label == "2027-02"
    assert (d.won, d.previous_won) == (400_000, 50_000)
    assert (d.period_line.target, d.period_line.won) == (500_000, 400_000)
    assert (d.month_line.target, d.month_line.won) == (2_000_000, 450_000)
    assert d.month_line.pace == "behind"
    reps = {r.member.slack_user_id: r for r in d.reps}
    assert set(reps) == {"UREP1", "UREP2"}
    assert (reps["UREP1"].sales, reps["UREP1"].month.won, reps["UREP1"].month.pace) == (300_000, 350_000, "ahead")
    assert reps["UREP2"].behind and not reps["UREP1"].behind
    assert (reps["UREP1"].tasks_done, reps["UREP1"].tasks_due, reps["UREP1"].tasks_on_time) == (2, 2, 1)
    assert reps["UREP2"].tasks_overdue == 1
    m = d.movement
    assert (m.new_deals, m.advances, m.won, m.won_amount, m.lost, m.lost_amount) == (1, 1, 2, 400_000, 1, 70_000)
    assert dict((s, n) for s, n, _ in d.funnel)[Stage.PROPOSAL] == 1 and d.stale_total == 1
    assert (d.answers, d.satisfied) == (3, 2)
    assert [(a.score, a.comment) for a in d.notable] == [(1, "Too slow <!channel>"), (4, "Nice")]
    assert d.low_total == 1
    assert [s.text for s, _ in d.suggestions] == ["Share <@U1> demo scripts"]
    keys = [k for k, _ in d.agenda()]
    assert keys == [
        "digest.agenda.target", "digest.agenda.month_behind", "digest.agenda.kpi.satisfaction", "digest.agenda.reps_behind",
        "digest.agenda.stale", "digest.agenda.overdue", "digest.agenda.low_scores", "digest.agenda.suggestions",
    ]
    for language in ("en", "zh_Hans"):
        text, blocks = build_digest_message(d, loc(language))
        shown = str(blocks)
        assert "<!channel>" not in shown and "Too slow &lt;!channel&gt;" in shown
        assert "<@U1>" not in shown and "Old &lt;deal&gt;" in shown
        assert "<@UREP2>" in shown  # reps behind are named in the agenda
        assert len(blocks) <= MESSAGE_MAX_BLOCKS


async def test_monthly_reports_the_last_month(session):
    w = await _seed(session)
    d = await build_digest(session, team=w.east, kind=MONTHLY, day=date(2027, 3, 1), now=MONDAY)
    assert d.period.label == "2027-02" and d.won == 450_000 and d.month_line is None
    assert (d.period_line.target, d.period_line.won) == (2_000_000, 450_000)


def test_three_hundred_reps_fit_fifty_blocks_and_section_limits():
    from bot.models import SalesTeam
    from tests.unit.factories import fake_member

    team = SalesTeam(id=1, workspace_id=1, name="Big & <team>")
    d = Digest(team=team, schedule=TeamSchedule.from_team(team), currency="CNY", kind=WEEKLY, day=date(2027, 3, 1),
               period=reported_period(WEEKLY, date(2027, 3, 1)), month_label="2027-02")
    d.reps = [RepRow(member=fake_member(f"U{i:04d}", name=f"Rep <{i}> with a long name"), sales=i * 1000, tasks_done=i % 7,
                      tasks_overdue=i % 3, tasks_due=5, tasks_on_time=i % 6)
              for i in range(1000)]
    d.notable = [Answer("Cust", "U1", 1, "x" * 3000) for _ in range(10)]
    d.notable_total = 40
    d.suggestions = [(Suggestion(workspace_id=1, text="y" * 3000), None) for _ in range(30)]
    for language in ("en", "zh_Hans"):
        text, blocks = build_digest_message(d, loc(language))
        assert len(blocks) <= MESSAGE_MAX_BLOCKS
        for b in blocks:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= SECTION_TEXT_MAX
        shown = str(blocks)
        assert "…and" in shown or "另有" in shown
        assert "<4>" not in shown and "&lt;4&gt;" in shown
    assert len(rep_table_lines(d, loc())) == 1001


def test_schedule_weekly_and_first_working_day():
    from bot.models import SalesTeam

    s = TeamSchedule.from_team(SalesTeam(id=1, workspace_id=1, name="T", timezone=SH))
    assert digest_due(WEEKLY, s, MONDAY) == date(2027, 3, 1)
    assert digest_due(WEEKLY, s, MONDAY - timedelta(minutes=1)) is None
    assert digest_due(WEEKLY, s, datetime(2027, 3, 1, 15, 59, tzinfo=timezone.utc)) == date(2027, 3, 1)
    assert digest_due(WEEKLY, s, datetime(2027, 3, 1, 16, 0, tzinfo=timezone.utc)) is None  # local midnight
    # May 2027 starts on a Saturday: the first working day is Monday the 3rd
    assert first_working_day(s, date(2027, 5, 1)) == date(2027, 5, 3)
    assert digest_due(MONTHLY, s, datetime(2027, 5, 3, 1, 0, tzinfo=timezone.utc)) == date(2027, 5, 3)
    assert digest_due(MONTHLY, s, datetime(2027, 5, 1, 1, 0, tzinfo=timezone.utc)) is None
    assert reported_period(MONTHLY, date(2027, 1, 4)).label == "2026-12"


async def test_compose_to_channel_or_managers_once_with_a_chart(session):
    w = await _seed(session)
    posts = await compose_weekly(FakeDeps(), session, now=MONDAY)
    assert [p.key for p in posts] == [f"weekly:{w.east.id}:2027-W09:UMGR"]  # no channel: the manager's DM
    assert posts[0].channel == "UMGR" and posts[0].files[0]["content"][:8] == b"\x89PNG\r\n\x1a\n"
    w.east.digest_channel_id = "C0SALES"
    session.add(w.east)
    await session.commit()
    [post] = await compose_weekly(FakeDeps(), session, now=MONDAY + timedelta(hours=2))
    assert post.key == f"weekly:{w.east.id}:2027-W09" and post.channel == "C0SALES"
    assert post.not_before == MONDAY and post.expires_at == datetime(2027, 3, 1, 16, 0, tzinfo=timezone.utc)
    from jobs.outbox import enqueue

    await enqueue(session, [post])
    await session.commit()
    assert await compose_weekly(FakeDeps(), session, now=MONDAY + timedelta(hours=3)) == []
    [monthly] = await compose_monthly(FakeDeps(), session, now=MONDAY)
    assert monthly.key == f"monthly:{w.east.id}:2027-03"
    assert await compose_weekly(FakeDeps(), session, now=MONDAY + timedelta(days=1)) == []
