"""The 1–5 score buttons and Add a comment on a satisfaction survey."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slackapi import dm_channel, profile_fetcher
from bot.blocks.surveys import SurveyRef, build_comment_modal, build_low_score_alert, build_rep_notice, build_survey_answered, build_survey_closed
from bot.blocks.tasks import build_notice
from bot.services import roster, surveys
from bot.services.errors import NotFound, ServiceError

log = logging.getLogger(__name__)


def _ref(action) -> SurveyRef | None:
    try:
        return SurveyRef.decode(action.get("value", ""))
    except (ValueError, TypeError):
        return None


async def responder_language(client, deps, user_id: str, ctx: surveys.SurveyContext | None):
    """The clicker's localizer and time zone: from Slack (users.info), else the rep's."""
    profile = await profile_fetcher(client)(user_id)
    if profile is not None:
        return deps.i18n.get(profile.locale), profile.tz
    rep = ctx.rep if ctx else None
    return deps.i18n.get(rep.locale if rep else None), rep.tz if rep else "UTC"


async def _dm(client, session, member, text, blocks) -> None:
    try:
        await client.chat_postMessage(channel=await dm_channel(client, session, member), text=text, blocks=blocks)
    except SlackApiError as exc:  # one failed DM must not stop the others
        log.warning("survey notice DM failed: %s", exc.response.get("error"))


async def notify_answer(client, session, deps, ctx: surveys.SurveyContext, *, responder: str, previous: int | None = None, comment_only: bool = False, low: bool = False) -> None:
    """DM the rep the answer (unless they recorded it), and the team's managers a low score."""
    if ctx.rep is not None and ctx.rep.slack_user_id != responder:
        text, blocks = build_rep_notice(ctx, deps.i18n.get(ctx.rep.locale), previous=previous, comment_only=comment_only)
        await _dm(client, session, ctx.rep, text, blocks)
    if low:
        managers = await roster.managers_of(session, workspace_id=ctx.workspace.id, team_ids=[ctx.rep.team_id if ctx.rep else None])
        for manager in managers:
            if manager.slack_user_id != responder:
                text, blocks = build_low_score_alert(ctx, deps.i18n.get(manager.locale))
                await _dm(client, session, manager, text, blocks)
    await session.commit()  # DM channel ids cached by dm_channel


async def handle_survey_score(ack, body, action, client, respond, context):
    """Record the clicked score once (a second click changes it), redraw the survey, tell the rep."""
    await ack()
    deps = context["deps"]
    user_id = body["user"]["id"]
    ref = _ref(action)
    async with deps.db.sessionmaker() as session:
        ctx = None
        try:
            if ref is None:
                raise NotFound("survey.error.not_found")
            answer = await surveys.answer_survey(session, slack_team_id=ref.team, survey_id=ref.survey_id, responder_user_id=user_id, score=ref.score, now=deps.clock())
            await session.commit()
        except surveys.SurveyClosed:
            await session.rollback()
            ctx = await surveys.load_survey(session, slack_team_id=ref.team, survey_id=ref.survey_id)
            loc, tz = await responder_language(client, deps, user_id, ctx)
            text, blocks = build_survey_closed(ctx, loc, tz=tz)
            await respond(text=text, blocks=blocks, replace_original=True)
            return
        except ServiceError as exc:
            await session.rollback()
            loc, _tz = await responder_language(client, deps, user_id, ctx)
            text, blocks = build_notice(loc.md(exc.key, **exc.params))
            await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        loc, tz = await responder_language(client, deps, user_id, answer.ctx)
        text, blocks = build_survey_answered(answer.ctx, loc, tz=tz)
        await respond(text=text, blocks=blocks, replace_original=True)
        if answer.changed:
            await notify_answer(client, session, deps, answer.ctx, responder=user_id, previous=answer.previous, low=answer.low)


async def handle_survey_comment(ack, body, action, client, respond, context):
    """Open the comment modal of a survey the clicker may still answer."""
    await ack()
    deps = context["deps"]
    user_id = body["user"]["id"]
    ref = _ref(action)
    async with deps.db.sessionmaker() as session:
        try:
            if ref is None:
                raise NotFound("survey.error.not_found")
            ctx = await surveys.check_can_answer(session, slack_team_id=ref.team, survey_id=ref.survey_id, responder_user_id=user_id, now=deps.clock())
        except ServiceError as exc:
            loc, _tz = await responder_language(client, deps, user_id, None)
            text, blocks = build_notice(loc.md(exc.key, **exc.params))
            await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
    loc, _tz = await responder_language(client, deps, user_id, ctx)
    # The response_url lets the submission redraw the survey message with the comment.
    metadata = {"ref": ref.encode(), "ru": body.get("response_url")}
    await client.views_open(trigger_id=body["trigger_id"], view=build_comment_modal(ctx, loc, metadata=metadata))
