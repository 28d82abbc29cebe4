"""Saving a survey's comment."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.surveys import SurveyRef, build_survey_answered
from bot.services import surveys
from bot.services.errors import NotFound
from handlers.actions.survey_buttons import channel_membership, notify_answer, responder_language, survey_ref
from handlers.views.form import Form, save_form
from handlers.views.state import metadata, text_value

FORM = Form(fallback=ids.SURVEY_COMMENT_TEXT, fields={"comment": ids.SURVEY_COMMENT_TEXT})


async def handle_survey_comment_submission(ack, body, view, client, context):
    """Save the comment (a wrong one is marked at the field), redraw the survey and tell the rep."""
    deps = context["deps"]
    user_id = body["user"]["id"]
    meta = metadata(view)
    ref: SurveyRef | None = survey_ref(str(meta.get("ref", "")))

    async def save(t):
        if ref is None:
            raise NotFound("survey.error.not_found")
        return await surveys.comment_survey(
            t.session, slack_team_id=ref.team, survey_id=ref.survey_id, responder_user_id=user_id,
            comment=text_value(view, ids.SURVEY_COMMENT_TEXT), now=t.now, channel_id=ch if isinstance(ch := meta.get("ch"), str) else None, is_member=channel_membership(client),
        )

    async def after(t, ctx, confirm):
        loc, tz = await responder_language(client, deps, user_id, ctx)
        if confirm.response_url:  # the survey message the comment was added from
            text, blocks = build_survey_answered(ctx, loc, tz=tz)
            await confirm.message(text, blocks, replace=True)
        await notify_answer(client, t.session, deps, ctx, responder=user_id, comment_only=True)

    # The survey's workspace comes from its button, not the click: a customer in a Slack
    # Connect channel belongs to another workspace.
    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after, team_id=ref.team if ref else None)
