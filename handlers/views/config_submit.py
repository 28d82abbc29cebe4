"""Saving the team settings modal."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unit import turn
from bot.blocks.tasks import build_notice
from bot.blocks.team_settings import FIELD_BLOCKS, build_config_show
from bot.services.errors import NotFound, ValidationFailed
from bot.services.team_settings import TeamSettingsDraft, update_team_settings
from bot.blocks import ids
from handlers.replies import direct_message, view_error
from handlers.views.state import element, metadata, selected_value, text_value


def draft_from_view(view: dict) -> TeamSettingsDraft:
    """The submitted settings, as the strings Slack sent."""
    working = [o.get("value") for o in element(view, ids.CONFIG_WORKING_DAYS).get("selected_options") or []]
    return TeamSettingsDraft(
        digest_channel_id=element(view, ids.CONFIG_CHANNEL).get("selected_conversation"),
        digest_weekday=selected_value(view, ids.CONFIG_DIGEST_DAY),
        digest_time=text_value(view, ids.CONFIG_DIGEST_TIME),
        daily_time=text_value(view, ids.CONFIG_DAILY_TIME),
        working_days=[w for w in working if w is not None],
        timezone=selected_value(view, ids.CONFIG_TIMEZONE),
        survey_delay_days=text_value(view, ids.CONFIG_SURVEY_DELAY),
        growth_target_pct=text_value(view, ids.CONFIG_GROWTH),
        satisfaction_target_pct=text_value(view, ids.CONFIG_SATISFACTION),
        stale_days=text_value(view, ids.CONFIG_STALE_DAYS),
    )


async def handle_config_submission(ack, body, view, client, context):
    """Validate and save a team's settings; a wrong field is marked and nothing is saved."""
    deps = context["deps"]
    meta = metadata(view)
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, ids.CONFIG_DIGEST_TIME)) as t:
        team_id = meta.get("team")
        if not isinstance(team_id, int):
            raise NotFound("config.error.which_team")
        try:
            team = await update_team_settings(t.session, actor=t.actor, team_id=team_id, draft=draft_from_view(view))
        except ValidationFailed as exc:
            errors = {FIELD_BLOCKS.get(f, ids.CONFIG_DIGEST_TIME): t.loc.t(key, **params) for f, (key, params) in exc.errors.items()}
            await ack(response_action="errors", errors=errors)
            return
        await t.session.commit()
        await ack()
        text, blocks = build_config_show(team, t.loc)
        saved_text, saved_blocks = build_notice(t.loc.md("config.saved", team=team.name))
        if meta.get("ru"):
            await AsyncWebhookClient(meta["ru"]).send(text=saved_text, blocks=saved_blocks + blocks[1:], response_type="ephemeral", replace_original=False)
        else:
            await direct_message(client, t.actor.member.slack_user_id)(t.loc.md("config.saved", team=team.name))
