"""Saving a survey's comment."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.surveys import SurveyRef, build_survey_answered
from bot.services import surveys
from bot.services.errors import ServiceError, ValidationFailed
from bot.blocks import ids
from handlers.actions.survey_buttons import notify_answer, responder_language
from handlers.views.state import metadata, text_value


async def handle_survey_comment_submission(ack, body, view, client, context):
    """Save the comment (a wrong one is marked at the field), redraw the survey and tell the rep."""
    deps = context["deps"]
    user_id = body["user"]["id"]
    meta = metadata(view)
    async with deps.db.sessionmaker() as session:
        try:
            ref = SurveyRef.decode(str(meta.get("ref", "")))
            ctx = await surveys.comment_survey(session, slack_team_id=ref.team, survey_id=ref.survey_id, responder_user_id=user_id, comment=text_value(view, ids.SURVEY_COMMENT_TEXT), now=deps.clock())
        except ValueError:
            ref = None
            ctx = None
            error = ("survey.error.not_found", {})
        except ValidationFailed as exc:
            ctx, error = None, exc.errors["comment"]
        except ServiceError as exc:
            ctx, error = None, (exc.key, exc.params)
        if ctx is None:
            await session.rollback()
            loc, _tz = await responder_language(client, deps, user_id, None)
            await ack(response_action="errors", errors={ids.SURVEY_COMMENT_TEXT: loc.t(error[0], **error[1])[:150]})
            return
        await session.commit()
        await ack()
        loc, tz = await responder_language(client, deps, user_id, ctx)
        if meta.get("ru"):
            text, blocks = build_survey_answered(ctx, loc, tz=tz)
            await AsyncWebhookClient(meta["ru"]).send(text=text, blocks=blocks, replace_original=True)
        await notify_answer(client, session, deps, ctx, responder=user_id, comment_only=True)
