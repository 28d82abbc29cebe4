"""Surveys: scheduling, the composer, one answer per survey, expiry, manual surveys, low-score alerts, the KPI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.blocks.surveys import SurveyRef, build_comment_modal, build_low_score_alert, build_rep_notice, build_survey_answered
from bot.i18n import I18n
from bot.models import Customer, OutboxMessage, Stage, Survey, SurveyStatus
from bot.periods import parse_period
from bot.services import surveys as svc
from bot.services.actors import SlackProfile
from bot.services.roster import managers_of
from bot.services.errors import NotFound, PermissionDenied, ValidationFailed
from bot.services.figures import Figures, period_figures
from bot.services.tasks import complete_task
from bot.standin import limits
from bot.blocks import ids
from jobs import surveys as job
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 2, 0, tzinfo=timezone.utc)
DEPS = SimpleNamespace(settings=SimpleNamespace(slack_bot_token=None), i18n=I18n())


async def customer(session, ws, name="Acme", *, channel=None, user=None) -> Customer:
    c = Customer(workspace_id=ws.id, name=name, contact_channel_id=channel, contact_user_id=user)
    session.add(c)
    await session.flush()
    return c


async def scheduled(session, w, *, channel=None, user=None, source_id=1, name="Acme") -> Survey:
    c = await customer(session, w.ws, name, channel=channel, user=user)
    return await svc.schedule_survey(session, workspace_id=w.ws.id, customer=c, rep_id=w.rep1_m.id, team=w.east, source="deal", source_id=source_id, now=NOW)


async def east_in_march(session, w) -> Figures:
    """Team East's figures for March 2031 (the month holding NOW), as /kpi and the digest read them."""
    return (await period_figures(session, team=w.east, period=parse_period("2031-03"))).total


async def test_schedule_once_per_source_with_the_team_delay(session):
    w = await f.World.build(session)
    w.east.survey_delay_days = 5
    s = await scheduled(session, w, user="UCUST")
    c = await session.get(Customer, s.customer_id)
    again = await svc.schedule_survey(session, workspace_id=w.ws.id, customer=c, rep_id=w.rep1_m.id, team=w.east, source="deal", source_id=1, now=NOW + timedelta(days=1))
    assert again.id == s.id and s.status == SurveyStatus.SCHEDULED
    assert s.send_at == NOW + timedelta(days=5) and s.expires_at == NOW + timedelta(days=19)


async def test_finishing_an_after_sales_task_schedules_a_survey_once(session):
    w = await f.World.build(session)
    c = await customer(session, w.ws, "Globex")  # no contact: a manual survey
    row = await w.task("Install and train", stage=Stage.AFTER_SALES, customer_id=c.id, to=["UREP2"])
    other = await w.task("Quote", stage=Stage.PROPOSAL, customer_id=c.id)
    await complete_task(session, actor=w.rep2, task_id=row.task.id)
    await complete_task(session, actor=w.rep2, task_id=row.task.id)
    await complete_task(session, actor=w.rep1, task_id=other.task.id)
    found = list((await session.execute(select(Survey))).scalars())
    assert [(s.source, s.source_id, s.rep_id, s.status) for s in found] == [("task", row.task.id, w.rep2_m.id, SurveyStatus.MANUAL)]


async def test_composer_posts_due_surveys_once_to_the_contact_in_their_language(session):
    w = await f.World.build(session)
    dm = await scheduled(session, w, user="UCUST", source_id=1, name="DM Co")
    shared = await scheduled(session, w, channel="CSHARED", source_id=2, name="Shared Co")
    manual = await scheduled(session, w, source_id=3, name="Paper Co")
    assert manual.status == SurveyStatus.MANUAL
    assert await job.compose(DEPS, session, now=NOW + timedelta(days=2)) == [], "not due before the delay"

    async def fetch(user_id):
        return SlackProfile(name="Cust", tz="Asia/Shanghai", locale="zh-CN", is_admin=False) if user_id == "UCUST" else None

    posts = await job.compose(DEPS, session, now=NOW + timedelta(days=3), fetch_profile=fetch)
    by_key = {p.key: p for p in posts}
    assert set(by_key) == {f"survey:{dm.id}", f"survey:{shared.id}", f"survey:{manual.id}"}
    assert (by_key[f"survey:{dm.id}"].channel, by_key[f"survey:{shared.id}"].channel, by_key[f"survey:{manual.id}"].channel) == ("UCUST", "CSHARED", "UREP1")
    p = by_key[f"survey:{dm.id}"]
    assert p.job == "surveys" and p.not_before == dm.send_at and p.expires_at == dm.expires_at
    assert "满意" in p.text, "the customer's Slack locale is Chinese"
    assert "How satisfied" in by_key[f"survey:{shared.id}"].text, "a channel falls back to the rep's language"
    assert "record" in by_key[f"survey:{manual.id}"].text
    for post in posts:
        assert limits.validate_message_args({"channel": post.channel, "text": post.text, "blocks": post.blocks}) == []
        values = [e["value"] for b in post.blocks if b["type"] == "actions" for e in b["elements"]]
        assert [SurveyRef.decode(v).score for v in values] == [1, 2, 3, 4, 5, 0]
    # Once the outbox holds a post, the survey is not composed again.
    session.add(OutboxMessage(workspace_id=w.ws.id, key=p.key, job="surveys", channel=p.channel, payload="{}"))
    await session.flush()
    again = await job.compose(DEPS, session, now=NOW + timedelta(days=4))
    assert {x.key for x in again} == {f"survey:{shared.id}", f"survey:{manual.id}"}


async def test_answer_twice_counts_once_and_moves_the_kpi(session):
    w = await f.World.build(session)
    s = await scheduled(session, w, user="UCUST")
    at = NOW + timedelta(days=4)
    first = await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=5, now=at)
    assert first.changed and first.previous is None and not first.low
    same = await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=5, now=at)
    assert not same.changed
    stats = await east_in_march(session, w)
    assert (stats.answered, stats.satisfied, stats.satisfaction) == (1, 1, 1)
    changed = await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=2, now=at + timedelta(hours=1))
    assert changed.changed and changed.previous == 5 and changed.low
    row = (await session.execute(select(Survey).where(Survey.id == s.id))).scalar_one()
    assert (row.score, row.status, row.answered_at) == (2, SurveyStatus.ANSWERED, at), "the first answer time stays"
    stats = await east_in_march(session, w)
    assert (stats.answered, stats.satisfied) == (1, 0)
    one = await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=1, now=at + timedelta(hours=2))
    assert one.changed and not one.low, "already low: the managers were alerted once"


async def test_answering_after_expiry_is_refused_and_changes_nothing(session):
    w = await f.World.build(session)
    s = await scheduled(session, w, user="UCUST")
    with pytest.raises(svc.SurveyClosed):
        await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=4, now=s.expires_at)
    assert await svc.expire_surveys(session, now=s.expires_at) == 1
    with pytest.raises(svc.SurveyClosed):
        await svc.comment_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", comment="late", now=s.expires_at - timedelta(days=1))
    row = (await session.execute(select(Survey).where(Survey.id == s.id))).scalar_one()
    assert (row.score, row.comment, row.status) == (None, "", SurveyStatus.EXPIRED)


async def test_who_may_answer(session):
    w = await f.World.build(session)
    dm = await scheduled(session, w, user="UCUST", source_id=1)
    shared = await scheduled(session, w, channel="CSHARED", source_id=2, name="Shared")
    manual = await scheduled(session, w, source_id=3, name="Paper")
    at = NOW + timedelta(days=3)
    with pytest.raises(PermissionDenied):
        await svc.answer_survey(session, slack_team_id="T1", survey_id=dm.id, responder_user_id="USTRANGER", score=5, now=at)
    with pytest.raises(PermissionDenied):
        await svc.answer_survey(session, slack_team_id="T1", survey_id=shared.id, responder_user_id="UREP2", score=5, now=at, channel_id="CSHARED")
    with pytest.raises(PermissionDenied):  # a guest of the shared channel answers from that channel only
        await svc.answer_survey(session, slack_team_id="T1", survey_id=shared.id, responder_user_id="UGUEST", score=4, now=at, channel_id="CGENERAL")
    with pytest.raises(NotFound):
        await svc.answer_survey(session, slack_team_id="T2", survey_id=dm.id, responder_user_id="UCUST", score=5, now=at)
    assert (await svc.answer_survey(session, slack_team_id="T1", survey_id=shared.id, responder_user_id="UGUEST", score=4, now=at, channel_id="CSHARED")).changed
    assert (await svc.answer_survey(session, slack_team_id="T1", survey_id=manual.id, responder_user_id="UREP1", score=3, now=at)).changed
    assert (await svc.answer_survey(session, slack_team_id="T1", survey_id=manual.id, responder_user_id="UMGR", score=4, now=at)).changed
    with pytest.raises(PermissionDenied):
        await svc.answer_survey(session, slack_team_id="T1", survey_id=manual.id, responder_user_id="UMGRW", score=1, now=at)


async def test_low_score_alert_goes_to_the_reps_team_managers(session):
    w = await f.World.build(session)
    s = await scheduled(session, w, user="UCUST")
    answer = await svc.answer_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", score=1, now=NOW + timedelta(days=3))
    assert answer.low
    managers = await managers_of(session, workspace_id=w.ws.id, team_ids=[answer.ctx.rep.team_id])
    assert [m.slack_user_id for m in managers] == ["UMGR"]
    text, blocks = build_low_score_alert(answer.ctx, f.loc("en"))
    assert "1" in text and "<@UREP1>" in str(blocks)


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
async def test_survey_builders_fit_slack_and_escape(session, lang):
    w = await f.World.build(session)
    s = await scheduled(session, w, user="UCUST", name="<!channel> & Co")
    ctx = await svc.comment_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", comment="<!here> " + "z" * 2990, now=NOW + timedelta(days=3))
    loc = f.loc(lang)
    assert limits.validate_view(build_comment_modal(ctx, loc, metadata={"ref": "T1|1|0"})) == []
    for text, blocks in (build_survey_answered(ctx, loc, tz="UTC"), build_rep_notice(ctx, loc, comment_only=True), build_low_score_alert(ctx, loc)):
        assert limits.validate_message_args({"channel": "C1", "text": text, "blocks": blocks}) == []
        assert "<!here>" not in str(blocks) + text and "<!channel>" not in str(blocks) + text
    ids_shown = [e["action_id"] for b in build_survey_answered(ctx, loc, tz="UTC")[1] if b["type"] == "actions" for e in b["elements"]]
    assert ids_shown == [*ids.SURVEY_SCORES, ids.SURVEY_COMMENT]


async def test_comment_is_optional_but_bounded_and_replaces_the_old_one(session):
    w = await f.World.build(session)
    s = await scheduled(session, w, user="UCUST")
    at = NOW + timedelta(days=3)
    for text in ("", "  ", "x" * 3001):
        with pytest.raises(ValidationFailed):
            await svc.comment_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", comment=text, now=at)
    await svc.comment_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", comment="first", now=at)
    ctx = await svc.comment_survey(session, slack_team_id="T1", survey_id=s.id, responder_user_id="UCUST", comment=" second ", now=at)
    assert (ctx.survey.comment, ctx.survey.score, ctx.survey.status) == ("second", None, SurveyStatus.SCHEDULED)
    stats = await east_in_march(session, w)
    assert stats.answered == 0 and stats.satisfaction is None, "a comment alone is not an answer"
