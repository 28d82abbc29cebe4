"""The shared helpers: the dialect-switched upsert, get-or-create, the managers of a team, the zone fallback."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import get_or_create, upsert
from bot.models import ProcessedEvent, Role, SalesTeam, utcnow
from bot.services.actors import safe_zone
from bot.services.roster import managers_of
from bot.services.team_settings import TeamSchedule
from tests.unit import factories as f


async def test_upsert_does_nothing_or_updates_the_named_columns(session):
    ws = await f.workspace(session)
    first = await upsert(session, SalesTeam, {"workspace_id": ws.id, "name": "East", "timezone": "UTC"}, keys=["workspace_id", "name"], returning=[SalesTeam.id])
    [team_id] = first.scalars().all()
    again = await upsert(session, SalesTeam, {"workspace_id": ws.id, "name": "East", "timezone": "Asia/Tokyo"}, keys=["workspace_id", "name"], returning=[SalesTeam.id])
    assert again.scalars().all() == []  # nothing inserted, nothing changed
    await upsert(session, SalesTeam, {"workspace_id": ws.id, "name": "East", "timezone": "Asia/Shanghai"}, keys=["workspace_id", "name"], update=["timezone"])
    team = (await session.execute(select(SalesTeam).execution_options(populate_existing=True))).scalar_one()
    assert (team.id, team.timezone, team.digest_time) == (team_id, "Asia/Shanghai", "09:00")


async def test_upsert_without_keys_ignores_any_unique_conflict(session):
    now = utcnow()
    assert (await upsert(session, ProcessedEvent, [{"event_id": "Ev1", "received_at": now}], keys=None)).rowcount == 1
    assert (await upsert(session, ProcessedEvent, {"event_id": "Ev1", "received_at": now}, keys=None)).rowcount == 0


async def test_get_or_create_returns_the_same_row(session):
    ws = await f.workspace(session)
    a = await get_or_create(session, SalesTeam, keys={"workspace_id": ws.id, "name": "West"}, values={"timezone": "Europe/Paris"})
    b = await get_or_create(session, SalesTeam, keys={"workspace_id": ws.id, "name": "West"}, values={"timezone": "UTC"})
    assert a.id == b.id and b.timezone == "Europe/Paris"


async def test_managers_of_teams_and_of_a_workspace(session):
    ws, other = await f.workspace(session, "T1"), await f.workspace(session, "T2")
    east, west, far = await f.team(session, ws, "East"), await f.team(session, ws, "West"), await f.team(session, other, "Far")
    await f.member(session, ws, "UM2", role=Role.MANAGER, team=east)
    await f.member(session, ws, "UM1", role=Role.MANAGER, team=east)
    await f.member(session, ws, "UR1", role=Role.REP, team=east)
    await f.member(session, ws, "UMW", role=Role.MANAGER, team=west)
    await f.member(session, other, "UMF", role=Role.MANAGER, team=far)
    ids = lambda ms: [m.slack_user_id for m in ms]  # noqa: E731
    assert ids(await managers_of(session, workspace_id=ws.id, team_ids=[east.id])) == ["UM1", "UM2"]
    assert ids(await managers_of(session, workspace_id=ws.id, team_ids=[None])) == []
    assert sorted(ids(await managers_of(session, workspace_id=ws.id))) == ["UM1", "UM2", "UMW"]
    assert ids(await managers_of(session, workspace_id=ws.id, team_ids=[far.id])) == []  # another workspace's team
    assert sorted(ids(await managers_of(session, workspace_id=None, team_ids=[west.id, far.id]))) == ["UMF", "UMW"]
    with pytest.raises(ValueError):
        await managers_of(session, workspace_id=None)


def test_one_zone_fallback_for_members_and_teams():
    team = SalesTeam(workspace_id=1, name="X", timezone="Not/AZone")
    assert TeamSchedule.from_team(team).zone == safe_zone("Not/AZone") == ZoneInfo("UTC")
