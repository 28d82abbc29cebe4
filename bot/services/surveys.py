"""Customer satisfaction surveys: scheduled after a won deal or a finished after-sales task,
sent when due, answered once (a second click changes the score), expired after 14 days."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db import upsert
from bot.models import (
    Customer, Member, OutboxMessage, OutboxStatus, Role, SalesTeam, Stage, Survey, SurveyStatus, Task, TaskAssignee, Workspace, utcnow,
)
from bot.services import webhooks
from bot.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed

SURVEY_LIFETIME = timedelta(days=14)
DEFAULT_REMINDER_DAYS = 3  # SalesTeam's default, for a survey whose rep has no team
SCORES = range(1, 6)
LOW_SCORE_MAX = 2  # a score of 1 or 2 alerts the managers
COMMENT_MAX = 3000
SURVEY_ID_MAX = 2**31 - 1  # ids are INTEGER columns
OPEN_STATUSES = (SurveyStatus.SCHEDULED, SurveyStatus.SENT, SurveyStatus.MANUAL)


# (channel id, user id) → whether the user is in the channel; None when Slack could not tell.
MembershipCheck = Callable[[str, str], Awaitable[bool | None]]


class SurveyClosed(ServiceError):
    """The survey expired: the answer is refused politely."""

    key = "survey.error.closed"


async def schedule_survey(
    session: AsyncSession, *, workspace_id: int, customer: Customer, rep_id: int | None, team: SalesTeam | None,
    source: str, source_id: int, now: datetime | None = None,
) -> Survey:
    """Schedule one survey per deal or task (a second call changes nothing).

    A customer with no Slack contact gets a MANUAL survey: the rep is asked to record
    the customer's answer by hand instead.
    """
    now = now or utcnow()
    delay = timedelta(days=team.survey_delay_days if team else 3)
    has_contact = bool(customer.contact_channel_id or customer.contact_user_id)
    values = dict(
        workspace_id=workspace_id, customer_id=customer.id, rep_id=rep_id, source=source, source_id=source_id,
        status=(SurveyStatus.SCHEDULED if has_contact else SurveyStatus.MANUAL).value,
        send_at=now + delay, expires_at=now + delay + SURVEY_LIFETIME, comment="", created_at=now,
    )
    await upsert(session, Survey, values, keys=["workspace_id", "source", "source_id"])
    q = select(Survey).where(Survey.workspace_id == workspace_id, Survey.source == source, Survey.source_id == source_id)
    return (await session.execute(q)).scalar_one()


async def survey_after_task(session: AsyncSession, *, task: Task, actor_member_id: int, now: datetime | None = None) -> Survey | None:
    """Schedule a survey when an after-sales task with a customer is done (once per task).

    The rep is whoever completed it when they are an assignee, else its first assignee.
    """
    if task.stage != Stage.AFTER_SALES or task.customer_id is None:
        return None
    customer = await session.get(Customer, task.customer_id)
    if customer is None or customer.workspace_id != task.workspace_id:
        return None
    q = select(TaskAssignee.member_id).where(TaskAssignee.task_id == task.id).order_by(TaskAssignee.member_id)
    assignees = list((await session.execute(q)).scalars())
    rep_id = actor_member_id if actor_member_id in assignees else (assignees[0] if assignees else None)
    team = await session.get(SalesTeam, task.team_id) if task.team_id else None
    return await schedule_survey(
        session, workspace_id=task.workspace_id, customer=customer, rep_id=rep_id, team=team,
        source="task", source_id=task.id, now=now or task.completed_at,
    )


@dataclass
class SurveyContext:
    """A survey with what its messages need: workspace, customer, rep and the rep's team."""

    survey: Survey
    workspace: Workspace
    customer: Customer
    rep: Member | None
    team: SalesTeam | None

    @property
    def manual(self) -> bool:
        """The customer has no Slack contact: the rep records the answer by hand."""
        return not (self.customer.contact_channel_id or self.customer.contact_user_id)


def _context_query():
    rep = aliased(Member)
    return (
        select(Survey, Workspace, Customer, rep, SalesTeam)
        .join(Workspace, Workspace.id == Survey.workspace_id)
        .join(Customer, Customer.id == Survey.customer_id)
        .outerjoin(rep, rep.id == Survey.rep_id)
        .outerjoin(SalesTeam, SalesTeam.id == rep.team_id)
        # Bulk updates here skip the identity map; read the rows as the database has them.
        .execution_options(populate_existing=True)
    )


async def expire_surveys(session: AsyncSession, *, now: datetime) -> int:
    """Mark unanswered surveys past their 14 days as expired; returns how many."""
    result = await session.execute(
        update(Survey).where(Survey.status.in_(OPEN_STATUSES), Survey.expires_at <= now)
        .values(status=SurveyStatus.EXPIRED).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def outbox_key(survey_id: int) -> str:
    """The survey post's exactly-once key."""
    return f"survey:{survey_id}"


async def due_surveys(session: AsyncSession, *, now: datetime, limit: int = 1000) -> list[SurveyContext]:
    """Unanswered surveys whose moment has come and that have no outbox post yet, in one query."""
    key = sa.literal("survey:") + sa.cast(Survey.id, sa.String)
    posted = select(OutboxMessage.id).where(OutboxMessage.key == key).exists()
    q = (
        _context_query()
        .where(Survey.status.in_((SurveyStatus.SCHEDULED, SurveyStatus.MANUAL)), Survey.send_at <= now, Survey.expires_at > now, ~posted)
        .order_by(Survey.send_at, Survey.id).limit(limit)
    )
    return [SurveyContext(*row) for row in (await session.execute(q)).all()]


def reminder_key(survey_id: int) -> str:
    """The survey reminder's exactly-once key."""
    return f"survey-reminder:{survey_id}"


async def due_survey_reminders(session: AsyncSession, *, now: datetime, limit: int = 1000) -> list[SurveyContext]:
    """Surveys delivered to a customer, due at least their team's reminder days ago, still unanswered and open, with no
    reminder queued yet: one query (the days are per team, so the last cut is made here).

    A manual survey (no Slack contact) has no customer to remind; a team with 0 days sends none.
    """
    sent = aliased(OutboxMessage)
    reminded = select(OutboxMessage.id).where(OutboxMessage.key == sa.literal("survey-reminder:") + sa.cast(Survey.id, sa.String)).exists()
    q = (
        _context_query()
        .join(sent, sent.key == sa.literal("survey:") + sa.cast(Survey.id, sa.String))
        .where(Survey.status == SurveyStatus.SCHEDULED, Survey.score.is_(None), Survey.expires_at > now,
               sent.status == OutboxStatus.SENT, Survey.send_at <= now - timedelta(days=1), ~reminded)
        .order_by(Survey.send_at, Survey.id).limit(limit)
    )
    due = []
    for row in (await session.execute(q)).all():
        ctx = SurveyContext(*row)
        days = ctx.team.survey_reminder_days if ctx.team is not None else DEFAULT_REMINDER_DAYS
        if days and ctx.survey.send_at + timedelta(days=days) <= now:
            due.append(ctx)
    return due


async def load_survey(session: AsyncSession, *, slack_team_id: str, survey_id: int) -> SurveyContext:
    """One survey of the workspace that posted it."""
    if not 0 < survey_id <= SURVEY_ID_MAX:  # a forged id the database could not even compare
        raise NotFound("survey.error.not_found")
    q = _context_query().where(Survey.id == survey_id, Workspace.slack_team_id == slack_team_id)
    row = (await session.execute(q)).first()
    if row is None:
        raise NotFound("survey.error.not_found")
    return SurveyContext(*row)


async def _check_responder(
    session: AsyncSession, ctx: SurveyContext, responder_user_id: str, now: datetime, channel_id: str | None, is_member: MembershipCheck | None,
) -> None:
    """Who may answer: only the survey's recipient, once it was sent and until it expires.

    The recipient is the customer's contact user, or anyone but the team's own people in the
    customer's shared channel when the answer comes from that channel; for a manual survey
    (sent to the rep) the rep or a manager of the rep's team, recording the customer's answer.
    """
    if ctx.survey.status == SurveyStatus.EXPIRED or now >= ctx.survey.expires_at:
        raise SurveyClosed()
    if ctx.survey.status in (SurveyStatus.SCHEDULED, SurveyStatus.MANUAL) and now < ctx.survey.send_at:
        raise NotFound("survey.error.not_found")  # not sent yet: nobody could have seen it
    q = select(Member).where(Member.workspace_id == ctx.workspace.id, Member.slack_user_id == responder_user_id)
    member = (await session.execute(q)).scalar_one_or_none()
    if ctx.manual:
        if member is not None and ctx.rep is not None and (
            member.id == ctx.rep.id or (member.role == Role.MANAGER and member.team_id is not None and member.team_id == ctx.rep.team_id)
        ):
            return
        raise PermissionDenied("survey.error.not_yours")
    if ctx.customer.contact_user_id and responder_user_id == ctx.customer.contact_user_id:
        return
    channel = ctx.customer.contact_channel_id
    if channel and channel_id == channel and (member is None or member.role is None):
        # The click came from the shared channel; Slack's member list confirms the responder is in it
        # (None: Slack could not tell, and the channel the click came from stands).
        if is_member is None or await is_member(channel, responder_user_id) is not False:
            return
    raise PermissionDenied("survey.error.not_yours")


@dataclass
class SurveyAnswer:
    """What one click did: the survey, whether the score changed, the score before, whether to alert."""

    ctx: SurveyContext
    changed: bool
    previous: int | None

    @property
    def low(self) -> bool:
        """A new low score (1–2) that was not low before: the managers are alerted once."""
        score = self.ctx.survey.score
        return self.changed and score is not None and score <= LOW_SCORE_MAX and (self.previous is None or self.previous > LOW_SCORE_MAX)


async def answer_survey(
    session: AsyncSession, *, slack_team_id: str, survey_id: int, responder_user_id: str, score: int, now: datetime | None = None,
    channel_id: str | None = None, is_member: MembershipCheck | None = None,
) -> SurveyAnswer:
    """Record a 1–5 score; a second click changes the score, never adds an answer."""
    now = now or utcnow()
    if score not in SCORES:
        raise ValidationFailed({"score": ("survey.error.score", {})})
    ctx = await load_survey(session, slack_team_id=slack_team_id, survey_id=survey_id)
    await _check_responder(session, ctx, responder_user_id, now, channel_id, is_member)
    previous = ctx.survey.score
    # One row per survey, changed in place: the KPI can never count an answer twice. The
    # conditions make a repeated click a no-op and refuse a click that raced the expiry.
    result = await session.execute(
        update(Survey)
        .where(Survey.id == survey_id, Survey.workspace_id == ctx.workspace.id, Survey.status != SurveyStatus.EXPIRED,
               Survey.expires_at > now, sa.or_(Survey.score.is_(None), Survey.score != score))
        .values(score=score, status=SurveyStatus.ANSWERED, answered_at=ctx.survey.answered_at or now)
        .execution_options(synchronize_session=False)
    )
    ctx.survey = await session.get(Survey, survey_id, populate_existing=True)
    if result.rowcount == 1:
        await webhooks.emit_survey_answered(session, survey=ctx.survey, at=now)
    return SurveyAnswer(ctx=ctx, changed=result.rowcount == 1, previous=previous)


async def comment_survey(
    session: AsyncSession, *, slack_team_id: str, survey_id: int, responder_user_id: str, comment: str, now: datetime | None = None,
    channel_id: str | None = None, is_member: MembershipCheck | None = None,
) -> SurveyContext:
    """Save the survey's comment (a new one replaces the old)."""
    now = now or utcnow()
    text = (comment or "").strip()
    if not text:
        raise ValidationFailed({"comment": ("survey.error.comment_empty", {})})
    if len(text) > COMMENT_MAX:
        raise ValidationFailed({"comment": ("survey.error.comment_too_long", {"max": COMMENT_MAX})})
    ctx = await load_survey(session, slack_team_id=slack_team_id, survey_id=survey_id)
    await _check_responder(session, ctx, responder_user_id, now, channel_id, is_member)
    await session.execute(
        update(Survey).where(Survey.id == survey_id, Survey.workspace_id == ctx.workspace.id).values(comment=text)
        .execution_options(synchronize_session=False)
    )
    ctx.survey = await session.get(Survey, survey_id, populate_existing=True)
    return ctx


async def check_can_answer(
    session: AsyncSession, *, slack_team_id: str, survey_id: int, responder_user_id: str, now: datetime | None = None, channel_id: str | None = None,
    is_member: MembershipCheck | None = None,
) -> SurveyContext:
    """The survey, when the responder may still answer it (before opening the comment modal)."""
    ctx = await load_survey(session, slack_team_id=slack_team_id, survey_id=survey_id)
    await _check_responder(session, ctx, responder_user_id, now or utcnow(), channel_id, is_member)
    return ctx


