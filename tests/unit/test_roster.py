"""services/roster: who may change the roster, teams, updates, removal and order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Level, Member, Role, SalesTeam, Segment
from bot.services import roster
from bot.services.errors import NotFound, PermissionDenied
from bot.services.roster import DEFAULT_TEAM, RosterChange
from tests.unit import factories as f


@pytest.fixture
async def ws(session):
    return await f.workspace(session)


@pytest.fixture
async def admin(session, ws):
    return f.actor(ws, await f.member(session, ws, "UADMIN"), admin=True)


async def test_only_admins_add_and_remove(session, ws, admin):
    t = await f.team(session, ws, "East")
    manager = f.actor(ws, await f.member(session, ws, "UMGR", role=Role.MANAGER, team=t))
    rep = f.actor(ws, await f.member(session, ws, "UREP", role=Role.REP, team=t))
    outsider = f.actor(ws, await f.member(session, ws, "UOUT"))
    for who in (manager, rep, outsider):
        with pytest.raises(PermissionDenied) as exc:
            await roster.add_member(session, actor=who, change=RosterChange("UNEW", Role.REP))
        assert exc.value.key == "error.admin_only"
        with pytest.raises(PermissionDenied) as exc:
            await roster.remove_member(session, actor=who, slack_user_id="UREP")
        assert exc.value.key == "error.admin_only"
    assert (await session.execute(select(Member).where(Member.slack_user_id == "UNEW"))).scalar_one_or_none() is None
    assert (await session.get(Member, rep.member.id)).role == Role.REP


async def test_add_puts_member_on_default_team(session, ws, admin):
    m = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP))
    team = await roster.team_of(session, workspace=ws, team_id=m.team_id)
    assert team.name == DEFAULT_TEAM == "Sales"
    assert m.role == Role.REP and m.level == Level.JUNIOR and m.region is None and m.segment is None
    m2 = await roster.add_member(session, actor=admin, change=RosterChange("U2", Role.MANAGER))
    assert m2.team_id == m.team_id
    teams = (await session.execute(select(SalesTeam).where(SalesTeam.workspace_id == ws.id))).scalars().all()
    assert [t.name for t in teams] == ["Sales"]


async def test_add_with_named_team_and_options(session, ws, admin):
    change = RosterChange("U1", Role.REP, team="East China", region="Shanghai", segment=Segment.KEY, level=Level.EXPERT)
    m = await roster.add_member(session, actor=admin, change=change)
    team = await roster.team_of(session, workspace=ws, team_id=m.team_id)
    assert team.name == "East China"
    assert (m.role, m.region, m.segment, m.level) == (Role.REP, "Shanghai", Segment.KEY, Level.EXPERT)


async def test_adding_twice_updates_the_entry(session, ws, admin):
    first = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP, team="East", region="Shanghai", segment=Segment.SMB))
    second = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.MANAGER, segment=Segment.KEY, level=Level.SENIOR))
    assert second.id == first.id
    await session.commit()
    row = (await session.execute(select(Member).where(Member.workspace_id == ws.id, Member.slack_user_id == "U1"))).scalar_one()
    team = await roster.team_of(session, workspace=ws, team_id=row.team_id)
    assert team.name == "East", "no team given keeps the current team"
    assert row.region == "Shanghai", "no region given keeps the region"
    assert (row.role, row.segment, row.level) == (Role.MANAGER, Segment.KEY, Level.SENIOR)
    third = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP, team="West", region="Beijing"))
    assert (await roster.team_of(session, workspace=ws, team_id=third.team_id)).name == "West"
    assert third.region == "Beijing" and third.role == Role.REP


async def test_add_refreshes_profile_when_given_a_fetcher(session, ws, admin):
    from bot.services.actors import SlackProfile

    async def fetch(user_id):
        return SlackProfile(name="Wang", tz="Asia/Shanghai", locale="zh-CN", is_admin=False)

    m = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP, team="East"), fetch_profile=fetch)
    assert (m.name, m.tz, m.locale) == ("Wang", "Asia/Shanghai", "zh-CN")
    team = await roster.team_of(session, workspace=ws, team_id=m.team_id)
    assert team.timezone == "Asia/Shanghai", "a new team takes the first member's time zone"


async def test_remove_keeps_the_member_row(session, ws, admin):
    added = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP, team="East"))
    removed = await roster.remove_member(session, actor=admin, slack_user_id="U1")
    await session.commit()
    assert removed.id == added.id
    row = await session.get(Member, added.id, populate_existing=True)
    assert row is not None and row.role is None and row.team_id is None
    assert await roster.list_roster(session, workspace=ws) == []
    with pytest.raises(NotFound) as exc:
        await roster.remove_member(session, actor=admin, slack_user_id="U1")
    assert exc.value.key == "error.not_on_roster_other" and exc.value.params == {"user": "U1"}
    # Coming back puts them on the default team again.
    back = await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP))
    assert back.id == added.id
    assert (await roster.team_of(session, workspace=ws, team_id=back.team_id)).name == DEFAULT_TEAM


async def test_remove_unknown_user_is_not_found(session, ws, admin):
    with pytest.raises(NotFound):
        await roster.remove_member(session, actor=admin, slack_user_id="UNEVER")
    await f.member(session, ws, "UMET")  # met, but never on the roster
    with pytest.raises(NotFound):
        await roster.remove_member(session, actor=admin, slack_user_id="UMET")


async def test_roster_is_per_workspace(session, ws, admin):
    await roster.add_member(session, actor=admin, change=RosterChange("U1", Role.REP, team="East"))
    ws2 = await f.workspace(session, "T2")
    admin2 = f.actor(ws2, await f.member(session, ws2, "UADMIN"), admin=True)
    with pytest.raises(NotFound):
        await roster.remove_member(session, actor=admin2, slack_user_id="U1")
    await roster.add_member(session, actor=admin2, change=RosterChange("U1", Role.MANAGER, team="East"))
    one = await roster.list_roster(session, workspace=ws)
    two = await roster.list_roster(session, workspace=ws2)
    assert [(e.member.slack_user_id, e.member.role) for e in one] == [("U1", Role.REP)]
    assert [(e.member.slack_user_id, e.member.role) for e in two] == [("U1", Role.MANAGER)]
    assert one[0].member.team_id != two[0].member.team_id


async def test_list_roster_order(session, ws, admin):
    people = [
        ("U5", "Zoe", Role.REP, "West"),
        ("U1", "Bob", Role.SERVICE, "East"),
        ("U2", "Amy", Role.REP, "East"),
        ("U3", "Carl", Role.MANAGER, "East"),
        ("U4", "Adam", Role.REP, "East"),
        ("U6", "Xia", Role.MANAGER, "West"),
        ("U7", "Adam", Role.REP, "East"),  # same name: Slack id breaks the tie
    ]
    for uid, name, role, team in reversed(people):
        m = await roster.add_member(session, actor=admin, change=RosterChange(uid, role, team=team))
        m.name = name
    await f.member(session, ws, "UOFF", name="Aaron")  # off the roster
    await session.flush()
    entries = await roster.list_roster(session, workspace=ws)
    assert [(e.team_name, e.member.name, e.member.slack_user_id) for e in entries] == [
        ("East", "Carl", "U3"),
        ("East", "Adam", "U4"),
        ("East", "Adam", "U7"),
        ("East", "Amy", "U2"),
        ("East", "Bob", "U1"),
        ("West", "Xia", "U6"),
        ("West", "Zoe", "U5"),
    ]
