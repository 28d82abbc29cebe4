"""Saving the /suggest modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.services.suggestions import create_suggestion
from handlers.views.form import Form, save_form
from handlers.views.state import selected_values, text_value

FORM = Form(fallback=ids.SUGGEST_TEXT, fields={"text": ids.SUGGEST_TEXT})


async def handle_suggest_submission(ack, body, view, client, context):
    """Store the suggestion (without its author when anonymous) and thank the author."""

    async def save(t):
        anonymous = "anonymous" in selected_values(view, ids.SUGGEST_ANONYMOUS)
        await create_suggestion(t.session, actor=t.actor, text=text_value(view, ids.SUGGEST_TEXT), anonymous=anonymous, now=t.now)
        return anonymous

    async def after(t, anonymous, confirm):
        # Nothing here logs who wrote an anonymous suggestion.
        await confirm.notice(t.loc.md("suggest.saved.anonymous" if anonymous else "suggest.saved"))

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
