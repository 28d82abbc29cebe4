"""Employee suggestions: anyone on a team suggests, managers and admins decide, the author is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, SalesTeam, Suggestion, SuggestionStatus, utcnow
from bot.services.actors import Actor
from bot.services.errors import NotFound, NotOnRoster, PermissionDenied, ValidationFailed

TEXT_MAX = 3000
LIST_LIMIT = 20  # 2 blocks each keeps a list far below Slack's 50 blocks per message
DECISIONS = (SuggestionStatus.PLANNED, SuggestionStatus.DONE, SuggestionStatus.DECLINED)


@dataclass
class SuggestionRow:
    """A suggestion with what its views show: the team name and the author's Slack id (None when anonymous)."""

    suggestion: Suggestion
    team_name: str | None
    author_user_id: str | None


async def create_suggestion(session: AsyncSession, *, actor: Actor, text: str, anonymous: bool, now: datetime | None = None) -> Suggestion:
    """Store a suggestion for the author's team; an anonymous one keeps no trace of its author."""
    if not actor.on_roster and not actor.is_admin:
        raise NotOnRoster()
    body = (text or "").strip()
    if not body:
        raise ValidationFailed({"text": ("suggest.error.empty", {})})
    if len(body) > TEXT_MAX:
        raise ValidationFailed({"text": ("suggest.error.too_long", {"max": TEXT_MAX})})
    suggestion = Suggestion(
        workspace_id=actor.workspace.id, team_id=actor.member.team_id,
        author_id=None if anonymous else actor.member.id, text=body,
        status=SuggestionStatus.NEW, created_at=now or utcnow(),
    )
    session.add(suggestion)
    await session.flush()
    return suggestion


def _require_decider(actor: Actor) -> None:
    if actor.is_admin or actor.is_manager:
        return
    if not actor.on_roster:
        raise NotOnRoster()
    raise PermissionDenied("suggest.error.managers_only")


async def _rows(session: AsyncSession, suggestions: list[Suggestion]) -> list[SuggestionRow]:
    """Team names and authors for suggestions, in two queries whatever their number."""
    team_ids = {s.team_id for s in suggestions if s.team_id}
    author_ids = {s.author_id for s in suggestions if s.author_id}
    teams = dict((await session.execute(select(SalesTeam.id, SalesTeam.name).where(SalesTeam.id.in_(team_ids)))).all()) if team_ids else {}
    authors = dict((await session.execute(select(Member.id, Member.slack_user_id).where(Member.id.in_(author_ids)))).all()) if author_ids else {}
    return [SuggestionRow(s, teams.get(s.team_id), authors.get(s.author_id)) for s in suggestions]


async def list_new_suggestions(session: AsyncSession, *, actor: Actor, limit: int = LIST_LIMIT) -> tuple[list[SuggestionRow], int]:
    """Undecided suggestions the actor may decide (a manager's team, or all for an admin), oldest first, and their total."""
    _require_decider(actor)
    where = [Suggestion.workspace_id == actor.workspace.id, Suggestion.status == SuggestionStatus.NEW]
    if not actor.is_admin:
        where.append(Suggestion.team_id == actor.member.team_id)
    found = list((await session.execute(select(Suggestion).where(*where).order_by(Suggestion.created_at, Suggestion.id))).scalars())
    return await _rows(session, found[:limit]), len(found)


async def decide_suggestion(
    session: AsyncSession, *, actor: Actor, suggestion_id: int, status: SuggestionStatus, now: datetime | None = None,
) -> tuple[SuggestionRow, bool]:
    """Mark a suggestion planned, done or declined; returns it and whether anything changed."""
    _require_decider(actor)
    if status not in DECISIONS:
        raise NotFound("suggest.error.not_found")
    suggestion = await session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.workspace_id != actor.workspace.id:
        raise NotFound("suggest.error.not_found")
    if not actor.is_admin and suggestion.team_id != actor.member.team_id:
        raise PermissionDenied("suggest.error.not_your_team")
    # Conditional: a double click (or two managers at once) records one decision change.
    result = await session.execute(
        update(Suggestion).where(Suggestion.id == suggestion_id, Suggestion.workspace_id == actor.workspace.id, Suggestion.status != status)
        .values(status=status, decided_at=now or utcnow()).execution_options(synchronize_session=False)
    )
    suggestion = await session.get(Suggestion, suggestion_id, populate_existing=True)
    return (await _rows(session, [suggestion]))[0], result.rowcount == 1


async def author_of(session: AsyncSession, *, suggestion: Suggestion) -> Member | None:
    """The author, when the suggestion was not anonymous."""
    if suggestion.author_id is None:
        return None
    return await session.get(Member, suggestion.author_id)


async def new_suggestions(session: AsyncSession, *, team_id: int, since: datetime) -> list[Suggestion]:
    """A team's suggestions made since a moment, oldest first (for the weekly digest).

    The team id is a primary key, so it already fixes the workspace.
    """
    q = select(Suggestion).where(Suggestion.team_id == team_id, Suggestion.created_at >= since).order_by(Suggestion.created_at, Suggestion.id)
    return list((await session.execute(q)).scalars())
