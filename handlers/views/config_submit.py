"""Saving the team settings modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.tasks import build_notice
from bot.blocks.team_settings import FIELD_BLOCKS, build_config_show
from bot.services.errors import NotFound
from bot.services.standup import QUESTIONS, StandupDraft, update_standup_settings
from bot.services.team_settings import TeamSettingsDraft, update_team_settings
from handlers.views.form import Form, save_form
from handlers.views.state import metadata, metadata_id, selected_conversation, selected_value, selected_values, text_value

FORM = Form(fallback=ids.CONFIG_DIGEST_TIME, fields=FIELD_BLOCKS)


def draft_from_view(view: dict) -> TeamSettingsDraft:
    """The submitted settings, as the strings Slack sent."""
    return TeamSettingsDraft(
        digest_channel_id=selected_conversation(view, ids.CONFIG_CHANNEL),
        digest_weekday=selected_value(view, ids.CONFIG_DIGEST_DAY),
        digest_time=text_value(view, ids.CONFIG_DIGEST_TIME),
        daily_time=text_value(view, ids.CONFIG_DAILY_TIME),
        working_days=selected_values(view, ids.CONFIG_WORKING_DAYS),
        timezone=selected_value(view, ids.CONFIG_TIMEZONE),
        survey_delay_days=text_value(view, ids.CONFIG_SURVEY_DELAY),
        growth_target_pct=text_value(view, ids.CONFIG_GROWTH),
        satisfaction_target_pct=text_value(view, ids.CONFIG_SATISFACTION),
        stale_days=text_value(view, ids.CONFIG_STALE_DAYS),
        survey_reminder_days=text_value(view, ids.CONFIG_SURVEY_REMINDER),
        deal_alert_channel_id=selected_conversation(view, ids.CONFIG_ALERT_CHANNEL),
        deal_alert_min_amount=text_value(view, ids.CONFIG_ALERT_AMOUNT),
        reminder_days=text_value(view, ids.CONFIG_REMINDER_DAYS),
        reminder_time=text_value(view, ids.CONFIG_REMINDER_TIME),
        escalate_days=text_value(view, ids.CONFIG_ESCALATE_DAYS),
    )


STANDUP_FIELDS = {"time": ids.CONFIG_STANDUP_TIME, "daily_time": ids.CONFIG_STANDUP_DAILY_TIME, "question": ids.CONFIG_STANDUP_Q_PREFIX}


def standup_from_view(view: dict) -> StandupDraft:
    """The submitted standup section, as the strings Slack sent."""
    return StandupDraft(
        on=selected_values(view, ids.CONFIG_STANDUP),
        time=text_value(view, ids.CONFIG_STANDUP_TIME),
        daily_time=text_value(view, ids.CONFIG_STANDUP_DAILY_TIME),
        questions=[text_value(view, f"{ids.CONFIG_STANDUP_Q_PREFIX}{i}") for i in range(len(QUESTIONS))],
    )


async def handle_config_submission(ack, body, view, client, context):
    """Validate and save a team's settings; a wrong field is marked and nothing is saved."""

    async def save(t):
        team_id = metadata_id(metadata(view), "team")
        if team_id is None:
            raise NotFound("config.error.which_team")
        team = await update_team_settings(t.session, actor=t.actor, team_id=team_id, draft=draft_from_view(view))
        if any(b.get("block_id") == ids.CONFIG_STANDUP_TIME for b in view.get("blocks") or []):
            await update_standup_settings(t.session, actor=t.actor, team_id=team_id, draft=standup_from_view(view), fields=STANDUP_FIELDS)
        return team

    async def after(t, team, confirm):
        text, blocks = build_config_show(team, t.loc, t.actor.workspace.currency)
        saved_text, saved_blocks = build_notice(t.loc.md("config.saved", team=team.name))
        await confirm.message(saved_text, saved_blocks + blocks[1:], dm=t.loc.md("config.saved", team=team.name))

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
