"""Who is acting: the workspace, the member row and whether they are an admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.models import Member, Role, Workspace, utcnow

PROFILE_MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class SlackProfile:
    """What the bot learns about a user from Slack (users.info), without Slack types."""

    name: str
    tz: str
    locale: str
    is_admin: bool


ProfileFetcher = Callable[[str], Awaitable[SlackProfile | None]]


@dataclass
class Actor:
    """The member behind a request or a job, with the admin flag resolved."""

    workspace: Workspace
    member: Member
    is_admin: bool

    @property
    def on_roster(self) -> bool:
        """True when the member has a role on a sales team."""
        return self.member.role is not None

    @property
    def is_manager(self) -> bool:
        """Managers assign work and see their team."""
        return self.member.role == Role.MANAGER

    @property
    def can_assign(self) -> bool:
        """Managers and admins assign tasks."""
        return self.is_admin or self.is_manager

    @property
    def tz(self) -> ZoneInfo:
        """The member's time zone (UTC when Slack gave none we know)."""
        return safe_zone(self.member.tz)

    def today(self, now: datetime | None = None):
        """The member's local date."""
        return (now or utcnow()).astimezone(self.tz).date()


def safe_zone(name: str | None) -> ZoneInfo:
    """A ZoneInfo for an IANA name, falling back to UTC for unknown names."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def get_workspace(session: AsyncSession, *, slack_team_id: str, name: str = "") -> Workspace:
    """The workspace row for a Slack team id, created on first sight (safe under races)."""
    ws = (await session.execute(select(Workspace).where(Workspace.slack_team_id == slack_team_id))).scalar_one_or_none()
    if ws is not None:
        return ws
    await upsert(session, Workspace, {"slack_team_id": slack_team_id, "name": name, "currency": "CNY", "created_at": utcnow()}, keys=["slack_team_id"])
    return (await session.execute(select(Workspace).where(Workspace.slack_team_id == slack_team_id))).scalar_one()


async def get_member(session: AsyncSession, *, workspace: Workspace, slack_user_id: str) -> Member:
    """The member row for a Slack user, created (off the roster) on first sight."""
    q = select(Member).where(Member.workspace_id == workspace.id, Member.slack_user_id == slack_user_id)
    member = (await session.execute(q)).scalar_one_or_none()
    if member is not None:
        return member
    await upsert(session, Member, {
        "workspace_id": workspace.id, "slack_user_id": slack_user_id, "name": "", "tz": "UTC", "locale": "en-US",
        "is_slack_admin": False, "level": "junior", "created_at": utcnow(),
    }, keys=["workspace_id", "slack_user_id"])
    return (await session.execute(q)).scalar_one()


async def resolve_actor(
    session: AsyncSession,
    *,
    slack_team_id: str,
    slack_user_id: str,
    fetch_profile: ProfileFetcher | None,
    admins: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> Actor:
    """Load (or create) the acting member, refreshing their Slack profile once a day."""
    workspace = await get_workspace(session, slack_team_id=slack_team_id)
    member = await get_member(session, workspace=workspace, slack_user_id=slack_user_id)
    await refresh_profile(session, member=member, fetch_profile=fetch_profile, now=now)
    return Actor(workspace=workspace, member=member, is_admin=member.is_slack_admin or slack_user_id in admins)


async def refresh_profile(session: AsyncSession, *, member: Member, fetch_profile: ProfileFetcher | None, now: datetime | None = None, force: bool = False) -> bool:
    """Cache the member's name, time zone, locale and admin flag from Slack when stale; True when refreshed."""
    now = now or utcnow()
    fresh = member.profile_checked_at is not None and now - member.profile_checked_at < PROFILE_MAX_AGE
    if fetch_profile is None or (fresh and not force):
        return False
    profile = await fetch_profile(member.slack_user_id)
    if profile is None:
        return False
    member.name = profile.name[:200]
    member.tz = profile.tz or "UTC"
    member.locale = profile.locale or "en-US"
    member.is_slack_admin = profile.is_admin
    member.profile_checked_at = now
    session.add(member)
    await session.flush()
    return True
