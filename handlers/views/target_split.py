"""Saving the target split modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.targets import build_split_confirmation
from bot.periods import PeriodError, parse_period
from bot.services import standup, targets
from bot.services.errors import ServiceError, ValidationFailed
from handlers.views.form import Form, save_form
from handlers.views.state import metadata, text_value

FIRST = f"{ids.TARGET_SHARE_PREFIX}0"
FORM = Form(fallback=FIRST)


async def handle_target_split_submission(ack, body, view, client, context):
    """Validate the shares typed per key and replace the split; errors show under their fields."""
    meta = metadata(view)
    keys = [k for k in meta.get("keys") or [] if isinstance(k, str)]

    async def save(t):
        try:
            period = parse_period(str(meta.get("p", "")))
        except PeriodError:
            raise ServiceError("target.error.form_expired") from None
        typed = {i: text_value(view, f"{ids.TARGET_SHARE_PREFIX}{i}").strip() for i in range(len(keys))}
        words, errors = [], {}
        for i, value in typed.items():
            if not value:
                continue
            try:
                targets.parse_share(value)
            except ValueError:
                errors[f"{ids.TARGET_SHARE_PREFIX}{i}"] = ("target.error.bad_share_field", {"value": value})
                continue
            key = f"<@{keys[i]}>" if meta.get("by") == "rep" else keys[i]
            words.append(f"{key}={value}")
        if errors:
            raise ValidationFailed(errors)
        if not words:
            raise ServiceError("target.error.form_empty")
        shares, kind = targets.parse_shares(words)
        result = await targets.split_target(
            t.session, actor=t.actor, period=period, by=str(meta.get("by")), shares=shares, share_kind=kind, team_name=team if isinstance(team := meta.get("team"), str) else None,
        )
        if isinstance(agenda := meta.get("ag"), str):  # opened from the digest's Adjust target: the meeting's action
            await standup.record_target_action(t.session, actor=t.actor, ref_text=agenda, what=f"{period.label} · {meta.get('by')}", now=t.now)
        return result

    async def after(t, result, confirm):
        text, blocks = build_split_confirmation(result, t.loc, t.actor.workspace.currency or "CNY")
        await confirm.message(text, blocks, dm=blocks[0]["text"]["text"])

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
