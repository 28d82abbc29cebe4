"""services/actors: workspace and member rows, profile caching, admins, time zones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.models import Member, Workspace
from bot.services.actors import PROFILE_MAX_AGE, SlackProfile, get_member, get_workspace, resolve_actor, safe_zone
from tests.unit import factories as f

NOW = datetime(2031, 3, 10, 9, 0, tzinfo=timezone.utc)


class FakeSlack:
    """An async users.info stand-in that counts calls."""

    def __init__(self, profile: SlackProfile | None) -> None:
        self.profile = profile
        self.calls: list[str] = []

    async def __call__(self, user_id: str) -> SlackProfile | None:
        self.calls.append(user_id)
        return self.profile


async def test_get_workspace_creates_once(session):
    first = await get_workspace(session, slack_team_id="T1", name="Acme")
    second = await get_workspace(session, slack_team_id="T1", name="Other")
    await session.commit()
    assert first.id == second.id
    assert first.name == "Acme"
    assert await f.count_rows(session, Workspace) == 1
    other = await get_workspace(session, slack_team_id="T2")
    assert other.id != first.id
    assert await f.count_rows(session, Workspace) == 2


async def test_get_member_creates_once_per_workspace(session):
    ws1 = await get_workspace(session, slack_team_id="T1")
    ws2 = await get_workspace(session, slack_team_id="T2")
    a = await get_member(session, workspace=ws1, slack_user_id="U1")
    b = await get_member(session, workspace=ws1, slack_user_id="U1")
    c = await get_member(session, workspace=ws2, slack_user_id="U1")
    await session.commit()
    assert a.id == b.id
    assert c.id != a.id
    assert a.role is None and a.tz == "UTC" and a.locale == "en-US" and not a.is_slack_admin
    assert await f.count_rows(session, Member) == 2


async def test_resolve_actor_caches_profile_for_a_day(session):
    slack = FakeSlack(SlackProfile(name="Ray Rep", tz="Asia/Shanghai", locale="zh-CN", is_admin=False))
    a1 = await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW)
    assert slack.calls == ["U1"]
    assert (a1.member.name, a1.member.tz, a1.member.locale) == ("Ray Rep", "Asia/Shanghai", "zh-CN")
    assert a1.member.profile_checked_at == NOW
    assert not a1.is_admin

    slack.profile = SlackProfile(name="Renamed", tz="UTC", locale="en-US", is_admin=True)
    a2 = await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW + PROFILE_MAX_AGE - timedelta(seconds=1))
    assert slack.calls == ["U1"], "a profile checked less than 24 h ago is not fetched again"
    assert a2.member.id == a1.member.id and a2.member.name == "Ray Rep" and not a2.is_admin

    a3 = await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW + PROFILE_MAX_AGE + timedelta(minutes=1))
    assert slack.calls == ["U1", "U1"]
    assert a3.member.name == "Renamed" and a3.member.tz == "UTC"
    assert a3.is_admin, "a Slack admin or owner is an admin"


async def test_resolve_actor_keeps_profile_when_slack_gives_none(session):
    slack = FakeSlack(None)
    a = await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW)
    assert slack.calls == ["U1"]
    assert a.member.profile_checked_at is None  # tried again next time
    await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW)
    assert slack.calls == ["U1", "U1"]


async def test_resolve_actor_cache_survives_a_new_session(db):
    slack = FakeSlack(SlackProfile(name="Ray", tz="Asia/Shanghai", locale="en-US", is_admin=False))
    async with db.sessionmaker() as s:
        await resolve_actor(s, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW)
        await s.commit()
    async with db.sessionmaker() as s:
        a = await resolve_actor(s, slack_team_id="T1", slack_user_id="U1", fetch_profile=slack, now=NOW + timedelta(hours=23))
        assert a.member.tz == "Asia/Shanghai"
    assert slack.calls == ["U1"], "the check time is read back from the database as an aware UTC time"


async def test_configured_admin_ids_make_an_admin(session):
    plain = await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=None)
    assert not plain.is_admin
    boss = await resolve_actor(session, slack_team_id="T1", slack_user_id="U1", fetch_profile=None, admins=frozenset({"U1", "U9"}))
    assert boss.is_admin
    other = await resolve_actor(session, slack_team_id="T1", slack_user_id="U2", fetch_profile=None, admins=frozenset({"U1"}))
    assert not other.is_admin


def test_safe_zone_falls_back_to_utc():
    assert safe_zone("Asia/Shanghai") == ZoneInfo("Asia/Shanghai")
    for bad in ("Mars/Olympus", "", None, "../../etc/passwd", "not a zone"):
        assert safe_zone(bad) == ZoneInfo("UTC"), bad


def test_actor_today_depends_on_time_zone():
    ws = f.fake_workspace()
    shanghai = f.Actor(workspace=ws, member=Member(slack_user_id="U1", workspace_id=1, tz="Asia/Shanghai"), is_admin=False)
    new_york = f.Actor(workspace=ws, member=Member(slack_user_id="U2", workspace_id=1, tz="America/New_York"), is_admin=False)
    utc = f.Actor(workspace=ws, member=Member(slack_user_id="U3", workspace_id=1, tz="Nowhere/Unknown"), is_admin=False)

    before_midnight = datetime(2031, 3, 9, 23, 30, tzinfo=timezone.utc)
    assert shanghai.today(before_midnight).isoformat() == "2031-03-10"  # 07:30 next morning
    assert new_york.today(before_midnight).isoformat() == "2031-03-09"  # 19:30 the same evening (EDT)
    assert utc.today(before_midnight).isoformat() == "2031-03-09"

    after_midnight = datetime(2031, 3, 10, 0, 30, tzinfo=timezone.utc)
    assert shanghai.today(after_midnight).isoformat() == "2031-03-10"
    assert new_york.today(after_midnight).isoformat() == "2031-03-09"
    assert utc.today(after_midnight).isoformat() == "2031-03-10"

    # New York's day starts at 04:00 UTC in summer and 05:00 UTC in winter.
    assert new_york.today(datetime(2031, 7, 1, 4, 30, tzinfo=timezone.utc)).isoformat() == "2031-07-01"
    assert new_york.today(datetime(2031, 1, 15, 4, 30, tzinfo=timezone.utc)).isoformat() == "2031-01-14"
