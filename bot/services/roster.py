"""The roster: who is on which sales team, in which role, region, segment and level."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Level, Member, Role, SalesTeam, Segment, Workspace
from bot.db import get_or_create
from bot.services.actors import Actor, ProfileFetcher, get_member, refresh_profile
from bot.services.errors import NotFound, PermissionDenied

DEFAULT_TEAM = "Sales"


@dataclass(frozen=True)
class RosterChange:
    """What `/salesbot team add` asks for; None leaves a field as it was."""

    slack_user_id: str
    role: Role
    team: str | None = None
    region: str | None = None
    segment: Segment | None = None
    level: Level | None = None


async def get_or_create_team(session: AsyncSession, *, workspace: Workspace, name: str, tz: str = "UTC") -> SalesTeam:
    """The named team of the workspace, created when new (two requests naming a new team at once get the same row)."""
    return await get_or_create(session, SalesTeam, keys={"workspace_id": workspace.id, "name": name}, values={"timezone": tz})


async def managers_of(session: AsyncSession, *, workspace_id: int | None, team_ids: Iterable[int | None] | None = None) -> list[Member]:
    """The managers of some teams (all of a workspace's managers when `team_ids` is None), by team and Slack id.

    `workspace_id` None is for jobs that span workspaces: team ids are unique across them.
    """
    q = select(Member).where(Member.role == Role.MANAGER)
    if workspace_id is not None:
        q = q.where(Member.workspace_id == workspace_id)
    elif team_ids is None:
        raise ValueError("managers of every workspace: name the teams")
    if team_ids is not None:
        ids = [t for t in team_ids if t is not None]
        if not ids:
            return []
        q = q.where(Member.team_id.in_(ids))
    return list((await session.execute(q.order_by(Member.team_id, Member.slack_user_id))).scalars())


async def add_member(session: AsyncSession, *, actor: Actor, change: RosterChange, fetch_profile: ProfileFetcher | None = None) -> Member:
    """Put a user on a team with a role (admins only); a second add updates the entry."""
    if not actor.is_admin:
        raise PermissionDenied("error.admin_only")
    member = await get_member(session, workspace=actor.workspace, slack_user_id=change.slack_user_id)
    await refresh_profile(session, member=member, fetch_profile=fetch_profile)
    team_name = change.team or (None if member.team_id else DEFAULT_TEAM)
    if team_name:
        team = await get_or_create_team(session, workspace=actor.workspace, name=team_name, tz=member.tz or actor.member.tz)
        member.team_id = team.id
    member.role = change.role
    if change.region is not None:
        member.region = change.region
    if change.segment is not None:
        member.segment = change.segment
    if change.level is not None:
        member.level = change.level
    session.add(member)
    await session.flush()
    return member


async def remove_member(session: AsyncSession, *, actor: Actor, slack_user_id: str) -> Member:
    """Take a user off the roster (admins only); their task history stays."""
    if not actor.is_admin:
        raise PermissionDenied("error.admin_only")
    q = select(Member).where(Member.workspace_id == actor.workspace.id, Member.slack_user_id == slack_user_id, Member.role.is_not(None))
    member = (await session.execute(q)).scalar_one_or_none()
    if member is None:
        raise NotFound("error.not_on_roster_other", user=slack_user_id)
    member.role = None
    member.team_id = None
    session.add(member)
    await session.flush()
    return member


@dataclass(frozen=True)
class RosterEntry:
    """One line of the roster."""

    member: Member
    team_name: str


async def list_roster(session: AsyncSession, *, workspace: Workspace) -> list[RosterEntry]:
    """Everyone on a team, by team, role and name."""
    q = (
        select(Member, SalesTeam.name)
        .join(SalesTeam, SalesTeam.id == Member.team_id)
        .where(Member.workspace_id == workspace.id, Member.role.is_not(None))
        .order_by(SalesTeam.name, Member.role, Member.name, Member.slack_user_id)
    )
    return [RosterEntry(m, name) for m, name in (await session.execute(q)).all()]


async def team_of(session: AsyncSession, *, workspace: Workspace, team_id: int | None) -> SalesTeam | None:
    """A team by id within the workspace."""
    if team_id is None:
        return None
    q = select(SalesTeam).where(SalesTeam.workspace_id == workspace.id, SalesTeam.id == team_id)
    return (await session.execute(q)).scalar_one_or_none()
