"""Team settings: validation at the field, permissions, the pure TeamSchedule accessor, the builders."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.team_settings import build_config_modal, build_config_show
from bot.models import SalesTeam
from bot.parsing import ParseError, parse_salesbot
from bot.services.errors import NotFound, PermissionDenied, ValidationFailed
from bot.services.team_settings import (
    TeamSchedule, TeamSettingsDraft, search_zones, team_for_config, update_team_settings, validate_settings,
)
from bot.standin import limits
from bot.blocks import ids
from tests.unit import factories as f


def good(**kw) -> TeamSettingsDraft:
    values = dict(digest_channel_id="C0DIGEST", digest_weekday="4", digest_time="16:30", daily_time="8:05",
                  working_days=["0", "1", "2", "3", "4", "5"], timezone="Asia/Shanghai", survey_delay_days="5",
                  growth_target_pct="12.5", satisfaction_target_pct="95%", stale_days="21")
    values.update(kw)
    return TeamSettingsDraft(**values)


def test_defaults_of_a_new_team_read_as_the_documented_schedule():
    s = TeamSchedule.from_team(SalesTeam(id=1, workspace_id=1, name="East"))
    assert s.zone == ZoneInfo("UTC") and s.working_days == frozenset({0, 1, 2, 3, 4})
    assert (s.daily_time, s.digest_weekday, s.digest_time) == (time(8, 30), 0, time(9, 0))
    assert s.digest_channel_id is None and s.survey_delay_days == 3 and s.stale_days == 14
    assert (s.growth_target, s.satisfaction_target) == (Decimal("0.1"), Decimal("0.9"))
    assert s.is_working_day(date(2027, 3, 5)) and not s.is_working_day(date(2027, 3, 6))  # Friday, Saturday


def test_damaged_stored_values_fall_back_to_defaults():
    team = SalesTeam(id=1, workspace_id=1, name="East", timezone="Mars/Base", working_days="9,x", daily_time="25:00", digest_time="")
    s = TeamSchedule.from_team(team)
    assert s.zone == ZoneInfo("UTC") and s.working_days == frozenset(range(5)) and s.daily_time == time(8, 30) and s.digest_time == time(9)


def test_valid_settings_become_column_values():
    errors, values = validate_settings(good())
    assert errors == {}
    assert values == {
        "digest_channel_id": "C0DIGEST", "digest_weekday": 4, "digest_time": "16:30", "daily_time": "08:05",
        "working_days": "0,1,2,3,4,5", "timezone": "Asia/Shanghai", "survey_delay_days": 5, "stale_days": 21,
        "growth_target_bp": 1250, "satisfaction_target_bp": 9500,
        "survey_reminder_days": 3, "deal_alert_channel_id": None, "deal_alert_min_amount": 10_000_000,
        "reminder_days": 1, "reminder_time": "09:00", "escalate_days": 2,
    }
    _, values = validate_settings(good(deal_alert_min_amount="50万", deal_alert_channel_id="C0ALERTS", survey_reminder_days="0"))
    assert (values["deal_alert_min_amount"], values["deal_alert_channel_id"], values["survey_reminder_days"]) == (50_000_000, "C0ALERTS", 0)
    _, values = validate_settings(good(deal_alert_min_amount="  "))
    assert values["deal_alert_min_amount"] is None  # empty: no deal alerts


@pytest.mark.parametrize("field, value, key", [
    ("digest_time", "25:00", "config.error.time"),
    ("digest_time", "9am", "config.error.time"),
    ("daily_time", "", "config.error.time"),
    ("daily_time", "08:60", "config.error.time"),
    ("timezone", "Asia/Peking", "config.error.timezone"),
    ("timezone", "", "config.error.timezone"),
    ("working_days", [], "config.error.working_days"),
    ("growth_target_pct", "101", "config.error.percent"),
    ("growth_target_pct", "-5", "config.error.percent"),
    ("satisfaction_target_pct", "abc", "config.error.percent"),
    ("survey_delay_days", "61", "config.error.days"),
    ("stale_days", "0", "config.error.days"),
    ("digest_weekday", "7", "config.error.weekday"),
    ("survey_reminder_days", "14", "config.error.days"),  # the survey has closed by then
    ("survey_reminder_days", "x", "config.error.days"),
    ("deal_alert_min_amount", "lots", "config.error.amount"),
    ("deal_alert_min_amount", "-5", "config.error.amount"),
    ("deal_alert_min_amount", "99999999999999", "amount.error.too_large"),
])
def test_each_bad_field_is_named(field, value, key):
    errors, _values = validate_settings(good(**{field: value}))
    assert list(errors) == [field] and errors[field][0] == key


async def test_saving_checks_permissions_and_saves_nothing_on_error(session):
    w = await f.World.build(session)
    with pytest.raises(ValidationFailed) as exc:
        await update_team_settings(session, actor=w.mgr, team_id=w.east.id, draft=good(daily_time="24:00"))
    assert set(exc.value.errors) == {"daily_time"}
    await session.refresh(w.east)
    assert w.east.daily_time == "08:30" and w.east.timezone == "UTC"
    with pytest.raises(PermissionDenied):
        await update_team_settings(session, actor=w.mgr, team_id=w.west.id, draft=good())
    with pytest.raises(PermissionDenied):
        await update_team_settings(session, actor=w.rep1, team_id=w.east.id, draft=good())
    team = await update_team_settings(session, actor=w.mgr, team_id=w.east.id, draft=good())
    assert (team.timezone, team.daily_time, team.working_days, team.growth_target_bp) == ("Asia/Shanghai", "08:05", "0,1,2,3,4,5", 1250)
    west = await update_team_settings(session, actor=w.admin, team_id=w.west.id, draft=good(timezone="America/New_York"))
    assert west.timezone == "America/New_York"


async def test_which_team_is_configured(session):
    w = await f.World.build(session)
    assert (await team_for_config(session, actor=w.mgr)).id == w.east.id
    assert (await team_for_config(session, actor=w.admin, team_name="West")).id == w.west.id
    with pytest.raises(NotFound):
        await team_for_config(session, actor=w.admin)  # two teams and none of their own: say which
    with pytest.raises(NotFound):
        await team_for_config(session, actor=w.admin, team_name="Nowhere")
    with pytest.raises(PermissionDenied):
        await team_for_config(session, actor=w.mgr, team_name="West")


def test_zone_search_stays_within_slack_limits():
    assert "Asia/Shanghai" in search_zones("shang")
    assert "America/New_York" in search_zones("new york")
    assert len(search_zones("")) == 100 and len(search_zones("a")) <= 100


def test_parse_config_commands():
    assert parse_salesbot("config").action == "config"
    cmd = parse_salesbot('config show team:"Key Accounts"')
    assert (cmd.action, cmd.team) == ("config_show", "Key Accounts")
    with pytest.raises(ParseError):
        parse_salesbot("config nonsense")


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_builders_fit_slack(lang):
    team = SalesTeam(id=3, workspace_id=1, name="East <!here>", digest_channel_id="C1", timezone="Asia/Shanghai")
    view = build_config_modal(team, f.loc(lang), metadata={"team": 3})
    assert limits.validate_view(view) == []
    assert limits.validate_message_args({"channel": "C1", "text": text_of(team, lang), "blocks": build_config_show(team, f.loc(lang))[1]}) == []
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids.CONFIG_TIMEZONE in inputs and ids.CONFIG_WORKING_DAYS in inputs and len([i for i in inputs if not i.startswith("standup_")]) == 16
    assert {ids.CONFIG_STANDUP, ids.CONFIG_STANDUP_TIME, ids.CONFIG_STANDUP_DAILY_TIME, f"{ids.CONFIG_STANDUP_Q_PREFIX}3"} <= set(inputs)
    text, blocks = build_config_show(team, f.loc(lang))
    shown = str(blocks[1:]) + text
    assert "<#C1>" in shown and "Asia/Shanghai" in shown and "08:30" in shown and "<!here>" not in shown


def text_of(team, lang):
    return build_config_show(team, f.loc(lang))[0]


@pytest.mark.parametrize("lang, off, weekly, daily", [
    ("en", "Standup check-ins: off", "Weekly check-in: 16:30", "the report at 10:15"),
    ("zh_Hans", "站会工作汇报：关闭", "各销售所在时区 16:30", "10:15（团队时区）发布报告"),
])
def test_config_show_lists_the_standup_and_the_alerts(lang, off, weekly, daily):
    team = SalesTeam(id=3, workspace_id=1, name="East", timezone="Asia/Shanghai", deal_alert_min_amount=None, survey_reminder_days=0)
    shown = build_config_show(team, f.loc(lang))[1][1]["text"]["text"]
    assert off in shown
    team.standup_enabled, team.standup_time, team.standup_daily, team.standup_daily_time = True, "16:30", True, "10:15"
    team.deal_alert_min_amount, team.deal_alert_channel_id = 50_000_000, "C0ALERT"
    shown = build_config_show(team, f.loc(lang), "CNY")[1][1]["text"]["text"]
    assert weekly in shown and daily in shown and off not in shown and "<#C0ALERT>" in shown
    assert ("¥500,000" if lang == "en" else "¥50万") in shown
