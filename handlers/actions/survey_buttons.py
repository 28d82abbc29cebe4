"""The 1–5 score buttons and Add a comment on a satisfaction survey."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slackapi import dm_channel, profile_fetcher
from bot.unit import turn
from bot.blocks.surveys import SurveyRef, build_comment_modal, build_low_score_alert, build_rep_notice, build_survey_answered, build_survey_closed
from bot.services import roster, surveys
from bot.services.errors import NotFound
from handlers.replies import open_modal, reply_to_click

log = logging.getLogger(__name__)


def survey_ref(value: str) -> SurveyRef | None:
    """The survey a button (or a comment modal) refers to, or None for a value the bot never sent."""
    try:
        return SurveyRef.decode(value)
    except (ValueError, TypeError):
        return None


def _clicked_in(body: dict) -> str | None:
    """The channel the clicked message is in (the survey's shared channel, or a DM)."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return channel if isinstance(channel, str) else None


def channel_membership(client) -> surveys.MembershipCheck:
    """Whether a user is in a channel, from Slack's member list (None when Slack cannot tell)."""

    async def is_member(channel: str, user_id: str) -> bool | None:
        cursor = None
        try:
            while True:
                page = await client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                if user_id in (page.get("members") or []):
                    return True
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return False
        except SlackApiError as exc:
            log.warning("conversations.members failed: %s", exc.response.get("error"))
            return None

    return is_member


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
    ref = survey_ref(action.get("value", ""))
    team_id = ref.team if ref else body["team"]["id"]
    async with turn(deps, client, team_id=team_id, user_id=user_id, reply=reply_to_click(body, client, respond)) as t:
        if ref is None:
            raise NotFound("survey.error.not_found")
        try:
            answer = await surveys.answer_survey(
                t.session, slack_team_id=ref.team, survey_id=ref.survey_id, responder_user_id=user_id, score=ref.score, now=t.now,
                channel_id=_clicked_in(body), is_member=channel_membership(client),
            )
        except surveys.SurveyClosed:
            await t.session.rollback()
            ctx = await surveys.load_survey(t.session, slack_team_id=ref.team, survey_id=ref.survey_id)
            loc, tz = await responder_language(client, deps, user_id, ctx)
            text, blocks = build_survey_closed(ctx, loc, tz=tz)
            await respond(text=text, blocks=blocks, replace_original=True)
            return
        await t.session.commit()
        loc, tz = await responder_language(client, deps, user_id, answer.ctx)
        text, blocks = build_survey_answered(answer.ctx, loc, tz=tz)
        await respond(text=text, blocks=blocks, replace_original=True)
        if answer.changed:
            await notify_answer(client, t.session, deps, answer.ctx, responder=user_id, previous=answer.previous, low=answer.low)


async def handle_survey_comment(ack, body, action, client, respond, context):
    """Open the comment modal of a survey the clicker may still answer."""
    await ack()
    deps = context["deps"]
    user_id = body["user"]["id"]
    ref = survey_ref(action.get("value", ""))
    team_id = ref.team if ref else body["team"]["id"]
    async with turn(deps, client, team_id=team_id, user_id=user_id, reply=reply_to_click(body, client, respond)) as t:
        if ref is None:
            raise NotFound("survey.error.not_found")
        channel = _clicked_in(body)
        ctx = await surveys.check_can_answer(
            t.session, slack_team_id=ref.team, survey_id=ref.survey_id, responder_user_id=user_id, now=t.now, channel_id=channel, is_member=channel_membership(client),
        )
        loc, _tz = await responder_language(client, deps, user_id, ctx)
        # The response_url lets the submission redraw the survey message with the comment.
        metadata = {"ref": ref.encode(), "ru": body.get("response_url"), "ch": channel}
        await open_modal(client, body["trigger_id"], build_comment_modal(ctx, loc, metadata=metadata))
