"""The team settings modal (`/salesbot config`) and the settings summary (`config show`)."""

from __future__ import annotations

import json

from babel.dates import get_day_names

from bot.blocks.kit import context, fallback_text, header, input_block, modal, option, plain, section
from bot.i18n import Localizer
from bot.models import SalesTeam
from bot.text import SlackSafe
from bot.services.team_settings import TeamSchedule, TeamSettingsDraft, draft_from_team, pct_text
from bot.blocks import ids
from bot.blocks.standup import build_config_blocks as build_standup_config
from bot.services.standup import StandupSettings

# Service field names → the modal's block ids, so an error shows under the right field.
FIELD_BLOCKS = {
    "digest_channel_id": ids.CONFIG_CHANNEL,
    "digest_weekday": ids.CONFIG_DIGEST_DAY,
    "digest_time": ids.CONFIG_DIGEST_TIME,
    "daily_time": ids.CONFIG_DAILY_TIME,
    "working_days": ids.CONFIG_WORKING_DAYS,
    "timezone": ids.CONFIG_TIMEZONE,
    "survey_delay_days": ids.CONFIG_SURVEY_DELAY,
    "growth_target_pct": ids.CONFIG_GROWTH,
    "satisfaction_target_pct": ids.CONFIG_SATISFACTION,
    "stale_days": ids.CONFIG_STALE_DAYS,
    "survey_reminder_days": ids.CONFIG_SURVEY_REMINDER,
    "deal_alert_channel_id": ids.CONFIG_ALERT_CHANNEL,
    "deal_alert_min_amount": ids.CONFIG_ALERT_AMOUNT,
    "reminder_days": ids.CONFIG_REMINDER_DAYS,
    "reminder_time": ids.CONFIG_REMINDER_TIME,
    "escalate_days": ids.CONFIG_ESCALATE_DAYS,
}


def day_names(loc: Localizer) -> list[str]:
    """Monday..Sunday in the viewer's language (Babel's names: no catalog entries needed)."""
    names = get_day_names("wide", locale=loc.babel_locale)
    return [names[i] for i in range(7)]


def zone_option(zone: str) -> dict:
    """A time-zone option: the IANA name is both what is shown and what is sent back."""
    return option(zone, zone)


def zone_options(zones: list[str]) -> list[dict]:
    """Options for the time-zone search, within Slack's 100."""
    return [zone_option(z) for z in zones[:100]]


def _text_input(value: str | None, *, max_length: int = 10, placeholder: str | None = None) -> dict:
    el: dict = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if value:
        el["initial_value"] = value
    if placeholder:
        el["placeholder"] = plain(placeholder, 150)
    return el


def build_config_modal(team: SalesTeam, loc: Localizer, *, metadata: dict, draft: TeamSettingsDraft | None = None) -> dict:
    """The settings of one team, prefilled with what is saved."""
    d = draft or draft_from_team(team)
    days = day_names(loc)
    day_opts = [option(name, str(i)) for i, name in enumerate(days)]
    weekday_el = {"type": "static_select", "action_id": "value", "options": day_opts}
    if d.digest_weekday in {str(i) for i in range(7)}:
        weekday_el["initial_option"] = day_opts[int(d.digest_weekday)]
    working_el: dict = {"type": "checkboxes", "action_id": "value", "options": day_opts}
    chosen = [day_opts[int(x)] for x in d.working_days or [] if str(x) in {str(i) for i in range(7)}]
    if chosen:
        working_el["initial_options"] = chosen
    channel_el: dict = {
        "type": "conversations_select", "action_id": "value",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        "placeholder": plain(loc.t("config.channel.placeholder"), 150),
    }
    if d.digest_channel_id:
        channel_el["initial_conversation"] = d.digest_channel_id
    alert_channel_el = {**channel_el, "placeholder": plain(loc.t("config.alert_channel.placeholder"), 150)}
    alert_channel_el.pop("initial_conversation", None)
    if d.deal_alert_channel_id:
        alert_channel_el["initial_conversation"] = d.deal_alert_channel_id
    # Several hundred zones: a static select holds 100 at most, so the zone is searched.
    zone_el: dict = {"type": "external_select", "action_id": ids.CONFIG_TZ_SEARCH, "min_query_length": 2,
                     "placeholder": plain(loc.t("config.timezone.placeholder"), 150)}
    if d.timezone:
        zone_el["initial_option"] = zone_option(d.timezone)
    hhmm = loc.t("config.time.placeholder")
    blocks = [
        section(loc.md("config.modal.intro", team=team.name)),
        input_block(ids.CONFIG_CHANNEL, loc.t("config.channel.label"), channel_el, optional=True, hint=loc.t("config.channel.hint")),
        input_block(ids.CONFIG_DIGEST_DAY, loc.t("config.digest_day.label"), weekday_el),
        input_block(ids.CONFIG_DIGEST_TIME, loc.t("config.digest_time.label"), _text_input(d.digest_time, max_length=5, placeholder=hhmm)),
        input_block(ids.CONFIG_DAILY_TIME, loc.t("config.daily_time.label"), _text_input(d.daily_time, max_length=5, placeholder=hhmm), hint=loc.t("config.daily_time.hint")),
        input_block(ids.CONFIG_WORKING_DAYS, loc.t("config.working_days.label"), working_el, optional=True),
        input_block(ids.CONFIG_TIMEZONE, loc.t("config.timezone.label"), zone_el, hint=loc.t("config.timezone.hint")),
        input_block(ids.CONFIG_SURVEY_DELAY, loc.t("config.survey_delay.label"), _text_input(d.survey_delay_days, max_length=3), hint=loc.t("config.survey_delay.hint")),
        input_block(ids.CONFIG_SURVEY_REMINDER, loc.t("config.survey_reminder.label"), _text_input(d.survey_reminder_days, max_length=2),
                    hint=loc.t("config.survey_reminder.hint")),
        input_block(ids.CONFIG_ALERT_AMOUNT, loc.t("config.alert_amount.label"), _text_input(d.deal_alert_min_amount, max_length=20),
                    optional=True, hint=loc.t("config.alert_amount.hint")),
        input_block(ids.CONFIG_ALERT_CHANNEL, loc.t("config.alert_channel.label"), alert_channel_el, optional=True,
                    hint=loc.t("config.alert_channel.hint")),
        input_block(ids.CONFIG_GROWTH, loc.t("config.growth.label"), _text_input(d.growth_target_pct, max_length=7)),
        input_block(ids.CONFIG_SATISFACTION, loc.t("config.satisfaction.label"), _text_input(d.satisfaction_target_pct, max_length=7), hint=loc.t("config.satisfaction.hint")),
        input_block(ids.CONFIG_STALE_DAYS, loc.t("config.stale_days.label"), _text_input(d.stale_days, max_length=3), hint=loc.t("config.stale_days.hint")),
        input_block(ids.CONFIG_REMINDER_DAYS, loc.t("config.reminder_days.label"), _text_input(d.reminder_days, max_length=2), hint=loc.t("config.reminder_days.hint")),
        input_block(ids.CONFIG_REMINDER_TIME, loc.t("config.reminder_time.label"), _text_input(d.reminder_time, max_length=5, placeholder=hhmm)),
        input_block(ids.CONFIG_ESCALATE_DAYS, loc.t("config.escalate_days.label"), _text_input(d.escalate_days, max_length=2)),
        *build_standup_config(loc, StandupSettings.from_team(team)),
    ]
    return modal(
        callback_id=ids.CONFIG_VIEW, title=loc.t("config.modal.title"), submit=loc.t("config.modal.submit"),
        close=loc.t("config.modal.close"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def build_config_show(team: SalesTeam, loc: Localizer, currency: str = "CNY") -> tuple[str, list[dict]]:
    """`/salesbot config show`: every setting of a team, as saved (defaults included)."""
    s = TeamSchedule.from_team(team)
    days = day_names(loc)
    text = loc.render(
        "config_show.j2", team=team, schedule=s, digest_day=days[s.digest_weekday],
        working=", ".join(days[d] for d in sorted(s.working_days)),
        growth=pct_text(team.growth_target_bp), satisfaction=pct_text(team.satisfaction_target_bp),
        channel=SlackSafe(f"<#{s.digest_channel_id}>") if s.digest_channel_id else None,
        alert_channel=SlackSafe(f"<#{s.deal_alert_channel_id}>") if s.deal_alert_channel_id else None,
        alert_amount=loc.money(s.deal_alert_min_amount, currency) if s.deal_alert_min_amount is not None else None,
        standup=StandupSettings.from_team(team),
    )
    title = loc.t("config.show.title", team=team.name)
    # The header is plain text; the top-level text is mrkdwn (notifications), so it is escaped.
    return fallback_text(loc.md("config.show.title", team=team.name)), [header(title), section(text), context(loc.md("config.show.hint"))]
