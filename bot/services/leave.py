"""Leave: days a member is away, on which the morning DM is not sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Leave, Member
from bot.services.actors import Actor
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ServiceError

LEAVE_MAX_DAYS = 366


@dataclass(frozen=True)
class LeaveResult:
    """The leave recorded (or found already recorded) for a member."""

    member: Member
    start: date
    end: date
    created: bool

    @property
    def days(self) -> int:
        """Calendar days covered, both ends included."""
        return (self.end - self.start).days + 1


def check_range(start: date, end: date) -> None:
    """FROM must not be after TO, and one leave spans at most a year."""
    if end < start:
        raise ServiceError("leave.error.order")
    if (end - start).days + 1 > LEAVE_MAX_DAYS:
        raise ServiceError("leave.error.too_long", max=LEAVE_MAX_DAYS)


async def record_leave(session: AsyncSession, *, actor: Actor, start: date, end: date, user_id: str | None = None) -> LeaveResult:
    """Record leave for the actor, or (managers for their team, admins for anyone) for another member; once per range."""
    check_range(start, end)
    ws = actor.workspace.id
    if user_id is None or user_id == actor.member.slack_user_id:
        if not actor.on_roster:
            raise NotOnRoster()
        member = actor.member
    else:
        if not (actor.is_admin or actor.is_manager):
            if not actor.on_roster:
                raise NotOnRoster()
            raise PermissionDenied("leave.error.permission")
        member = (await session.execute(select(Member).where(Member.workspace_id == ws, Member.slack_user_id == user_id))).scalar_one_or_none()
        if member is None or member.role is None:
            raise NotFound("leave.error.not_on_team", user=user_id)
        if not actor.is_admin and (actor.member.team_id is None or member.team_id != actor.member.team_id):
            raise PermissionDenied("leave.error.permission")
    q = select(Leave).where(Leave.workspace_id == ws, Leave.member_id == member.id, Leave.start == start, Leave.end == end)
    if (await session.execute(q)).scalar_one_or_none() is not None:
        return LeaveResult(member, start, end, created=False)
    session.add(Leave(workspace_id=ws, member_id=member.id, start=start, end=end))
    await session.flush()
    return LeaveResult(member, start, end, created=True)


async def on_leave(session: AsyncSession, *, workspace_id: int, member_id: int, day: date) -> bool:
    """True when the member has leave covering the local date."""
    q = select(Leave.id).where(Leave.workspace_id == workspace_id, Leave.member_id == member_id, Leave.start <= day, Leave.end >= day).limit(1)
    return (await session.execute(q)).first() is not None
