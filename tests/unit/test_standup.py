"""The standup's pure parts: when each rep is asked and reminded, what counts as a blocker, refs, and the reply's limits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from bot.blocks.standup import ANSWER_PREVIEW, build_checkin_dm, build_rep_reply
from bot.i18n import I18n
from bot.models import Member, SalesTeam
from bot.services.errors import NotFound
from bot.services.standup import (
    AgendaRef, CheckInRef, RepCheckIn, StandupSettings, action_state, checkin_day, closes_at, daily_checkin_window, is_blocker,
    parse_questions, reminder_window, weekly_checkin_window,
)
from bot.services.team_settings import TeamSchedule
from bot.standin.limits import validate_message_args

I18N = I18n()


def team(**kw) -> SalesTeam:
    values = {"id": 1, "workspace_id": 1, "name": "East", "timezone": "Asia/Shanghai", "standup_enabled": True, **kw}
    return SalesTeam(**values)


def setup(**kw) -> tuple[TeamSchedule, StandupSettings]:
    t = team(**kw)
    return TeamSchedule.from_team(t), StandupSettings.from_team(t)


def test_the_check_in_day_is_the_last_working_day_before_the_digest():
    schedule, _ = setup()
    assert checkin_day(schedule, date(2026, 3, 16)) == date(2026, 3, 13)  # Monday's digest: Friday
    wed, _ = setup(digest_weekday=2)
    assert checkin_day(wed, date(2026, 3, 18)) == date(2026, 3, 17)
    sun_to_thu, _ = setup(digest_weekday=6, working_days="6,0,1,2,3")
    assert checkin_day(sun_to_thu, date(2026, 3, 15)) == date(2026, 3, 12)  # Sunday's digest: Thursday


@pytest.mark.parametrize("zone, utc", [("Asia/Shanghai", datetime(2026, 3, 13, 8, 0)), ("America/New_York", datetime(2026, 3, 13, 20, 0))])
def test_each_rep_is_asked_at_16_00_in_their_own_zone(zone, utc):
    schedule, standup = setup()
    at = utc.replace(tzinfo=timezone.utc)
    assert weekly_checkin_window(schedule, standup, zone, at - timedelta(minutes=1)) is None
    w = weekly_checkin_window(schedule, standup, zone, at)
    assert w is not None and w.period == "2026-W12" and w.day == date(2026, 3, 13) and w.not_before == at
    assert w.expires_at == datetime.combine(date(2026, 3, 14), time(0), ZoneInfo(zone)).astimezone(timezone.utc)
    assert weekly_checkin_window(schedule, standup, zone, at + timedelta(days=1)) is None


def test_the_one_reminder_falls_in_the_two_hours_before_the_digest_and_answers_close_with_it():
    schedule, standup = setup()
    digest = datetime(2026, 3, 16, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
    assert reminder_window(schedule, digest - timedelta(hours=2, seconds=1)) is None
    r = reminder_window(schedule, digest - timedelta(hours=2))
    assert r is not None and r.period == "2026-W12" and r.expires_at == digest
    assert reminder_window(schedule, digest) is None
    assert closes_at(schedule, standup, "weekly", "2026-W12") == digest


def test_daily_check_ins_run_from_the_morning_until_the_report():
    schedule, standup = setup(standup_daily=True)
    tuesday = datetime(2026, 3, 17, 0, 30, tzinfo=timezone.utc)  # 08:30 in Shanghai
    w = daily_checkin_window(schedule, standup, tuesday)
    assert w is not None and w.period == "2026-03-17" and w.expires_at == datetime(2026, 3, 17, 2, 0, tzinfo=timezone.utc)
    assert daily_checkin_window(schedule, standup, datetime(2026, 3, 21, 1, 0, tzinfo=timezone.utc)) is None  # Saturday


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)), st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London"]))
def test_a_rep_is_asked_at_most_once_per_meeting(naive, zone):
    schedule, standup = setup()
    now = naive.replace(tzinfo=timezone.utc)
    w = weekly_checkin_window(schedule, standup, zone, now)
    if w is not None:
        assert w.not_before <= now < w.expires_at
        assert w.day.weekday() == 4  # Friday, the working day before Monday's digest
        assert (w.expires_at - w.not_before) <= timedelta(hours=8, minutes=1)


def test_blockers_and_refs():
    assert not is_blocker("") and not is_blocker("None.") and not is_blocker("无") and is_blocker("Legal review")
    assert CheckInRef.decode(CheckInRef("weekly", 3, "2026-W12").encode()) == CheckInRef("weekly", 3, "2026-W12")
    assert AgendaRef.decode("3|2026-W12|blocker:9") == AgendaRef(3, "2026-W12", "blocker:9")
    for junk in ("", "x|y|z", "weekly|a|2026-W12", "3|2026-W12|drop table"):
        with pytest.raises(NotFound):
            (CheckInRef if junk.startswith("weekly") or junk == "" else AgendaRef).decode(junk)
    assert parse_questions('["", "Next?", "", ""]') == ("", "Next?", "", "") and parse_questions("[1]") is None
    assert action_state("task", "done", None, date(2026, 3, 23)) == "done"
    assert action_state("task", "open", date(2026, 3, 18), date(2026, 3, 23)) == "overdue"
    assert action_state("task", "open", date(2026, 3, 30), date(2026, 3, 23)) == "open"
    assert action_state("discussed", None, None, date(2026, 3, 23)) == "done"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_reply_with_long_answers_is_cut_with_see_all_and_escaped(locale):
    loc = I18N.get(locale)
    long = "<!channel> 进展 & " * 300
    member = Member(id=5, workspace_id=1, slack_user_id="U5", name="王小明")
    c = RepCheckIn(9, member, [long, "next", long, "4"], long, 4, datetime(2026, 3, 13, tzinfo=timezone.utc), False)
    text, blocks = build_rep_reply(loc, checkin=c, figures=None, settings=StandupSettings.from_team(team()), repeated=True, see_all_value="9")
    assert validate_message_args({"text": text, "blocks": blocks}) == []
    assert "<!channel>" not in str(blocks)
    assert blocks[-1]["elements"][0]["value"] == "9"
    # Each answer is cut to its preview (escaping may lengthen what is kept), far below the whole answer.
    assert all(len(b["text"]["text"]) < 2 * ANSWER_PREVIEW + 200 < len(long) for b in blocks if b["type"] == "section")
    text, blocks = build_checkin_dm(loc, ref=CheckInRef("weekly", 1, "2026-W12"), team_name="East <!here>", closes_at=datetime(2026, 3, 16, 1, tzinfo=timezone.utc), tz="Asia/Shanghai")
    assert validate_message_args({"text": text, "blocks": blocks}) == [] and "<!here>" not in str(blocks)
