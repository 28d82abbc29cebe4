"""Saving the /suggest modal."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unit import turn
from bot.blocks.tasks import build_notice
from bot.services.errors import ValidationFailed
from bot.services.suggestions import create_suggestion
from bot.blocks import ids
from handlers.replies import direct_message, view_error
from handlers.views.state import element, metadata, text_value


async def handle_suggest_submission(ack, body, view, client, context):
    """Store the suggestion (without its author when anonymous) and thank the author."""
    deps = context["deps"]
    meta = metadata(view)
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, ids.SUGGEST_TEXT)) as t:
        chosen = element(view, ids.SUGGEST_ANONYMOUS).get("selected_options") or []
        anonymous = any(o.get("value") == "anonymous" for o in chosen)
        try:
            await create_suggestion(t.session, actor=t.actor, text=text_value(view, ids.SUGGEST_TEXT), anonymous=anonymous, now=t.now)
        except ValidationFailed as exc:
            key, params = exc.errors["text"]
            await ack(response_action="errors", errors={ids.SUGGEST_TEXT: t.loc.t(key, **params)})
            return
        await t.session.commit()
        await ack()
        # Nothing here logs who wrote an anonymous suggestion.
        thanks = t.loc.md("suggest.saved.anonymous" if anonymous else "suggest.saved")
        if meta.get("ru"):
            text, blocks = build_notice(thanks)
            await AsyncWebhookClient(meta["ru"]).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        else:
            await direct_message(client, t.actor.member.slack_user_id)(thanks)
