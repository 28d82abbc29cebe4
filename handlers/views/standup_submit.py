"""Saving a rep's check-in answers."""

from __future__ import annotations

from bot.blocks import ids
from bot.services import standup
from handlers.views.form import Form, save_form
from handlers.views.state import metadata, selected_value, text_value

FORM = Form(fallback=f"{ids.STANDUP_Q_PREFIX}0", fields={name: f"{ids.STANDUP_Q_PREFIX}{i}" for i, name in enumerate(standup.QUESTIONS)})


async def handle_checkin_submission(ack, body, view, client, context):
    """Store the rep's answers once (a resubmitted view saves nothing more); editing replaces them until the digest."""
    ref_text = metadata(view).get("ref")

    async def save(t):
        ref = standup.CheckInRef.decode(ref_text if isinstance(ref_text, str) else "")
        answers = [text_value(view, f"{ids.STANDUP_Q_PREFIX}{i}") for i in range(standup.CONFIDENCE_Q)]
        confidence = selected_value(view, f"{ids.STANDUP_Q_PREFIX}{standup.CONFIDENCE_Q}")
        return await standup.save_checkin(t.session, actor=t.actor, ref=ref, answers=answers + [""], confidence=confidence, now=t.now)

    async def after(t, result, confirm):
        edited, deadline = result
        if edited:
            await confirm.notice(t.loc.md("standup.updated"))
        else:
            await confirm.notice(t.loc.md("standup.saved", deadline=t.loc.datetime(deadline, t.actor.member.tz)))

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
