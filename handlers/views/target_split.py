"""Saving the target split modal."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unit import turn
from bot.blocks.targets import build_split_confirmation
from bot.periods import PeriodError, parse_period
from bot.services import targets
from bot.services.errors import ServiceError
from bot.blocks import ids
from handlers.replies import direct_message, view_error
from handlers.views.state import metadata, text_value


async def handle_target_split_submission(ack, body, view, client, context):
    """Validate the shares typed per key and replace the split; errors show under the first field."""
    deps = context["deps"]
    meta = metadata(view)
    keys = [k for k in meta.get("keys") or [] if isinstance(k, str)]
    first = f"{ids.TARGET_SHARE_PREFIX}0"
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, first)) as t:
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
                errors[f"{ids.TARGET_SHARE_PREFIX}{i}"] = t.loc.t("target.error.bad_share_field", value=value)
                continue
            key = f"<@{keys[i]}>" if meta.get("by") == "rep" else keys[i]
            words.append(f"{key}={value}")
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        if not words:
            raise ServiceError("target.error.form_empty")
        shares, kind = targets.parse_shares(words)
        result = await targets.split_target(
            t.session, actor=t.actor, period=period, by=str(meta.get("by")), shares=shares, share_kind=kind, team_name=meta.get("team"),
        )
        await t.session.commit()
        await ack()
        text, blocks = build_split_confirmation(result, t.loc, t.actor.workspace.currency or "CNY")
        response_url = meta.get("ru")
        if response_url:
            await AsyncWebhookClient(response_url).send(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        else:
            await direct_message(client, t.actor.member.slack_user_id)(blocks[0]["text"]["text"])
