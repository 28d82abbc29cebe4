"""Sync runs: every API batch, webhook delivery and scheduled pull, with its counts and its errors.

`record_run` is the one writer; the API batch, the webhook sender and the scheduled pull all
call it, in the same transaction as the work they report (or, for a rejected batch, after its
rollback: a rejected row never half-applies, and the run says why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import SyncError, SyncRun, SyncRunKind, SyncRunStatus, Workspace, utcnow
from bot.services.actors import Actor
from bot.services.errors import NotFound, PermissionDenied
from bot.text import truncate

MAX_ERRORS_KEPT = 1000  # per run: a file wrong on every line still has a readable record


@dataclass(frozen=True)
class RunError:
    """One rejected row or field: the line (0 for the run as a whole), the field, and what is wrong."""

    line: int
    field: str | None
    message: str


@dataclass
class RunView:
    """A run with the first of its errors and how many there are in all."""

    run: SyncRun
    errors: list[SyncError] = field(default_factory=list)
    error_count: int = 0


async def record_run(
    session: AsyncSession,
    *,
    workspace_id: int,
    kind: SyncRunKind,
    status: SyncRunStatus,
    source: str = "",
    ref: str | None = None,
    created: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    failed: int = 0,
    errors: Iterable[RunError] = (),
    message: str = "",
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> SyncRun:
    """Store one finished sync run and its errors in the caller's transaction."""
    finished_at = finished_at or utcnow()
    run = SyncRun(
        workspace_id=workspace_id, kind=kind, status=status, source=truncate(source, 500), ref=ref,
        created=created, updated=updated, unchanged=unchanged, failed=failed, message=truncate(message, 500),
        started_at=started_at or finished_at, finished_at=finished_at,
    )
    session.add(run)
    await session.flush()
    rows = [
        SyncError(run_id=run.id, line=e.line, field=truncate(e.field, 100) if e.field else None, message=truncate(e.message, 500))
        for e in list(errors)[:MAX_ERRORS_KEPT]
    ]
    if rows:
        session.add_all(rows)
        await session.flush()
    return run


async def recent_runs(session: AsyncSession, *, workspace_id: int | None, limit: int = 20, errors_per_run: int = 5) -> list[RunView]:
    """The newest runs (of one workspace, or all), each with its first errors, in two queries."""
    q = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(limit)
    if workspace_id is not None:
        q = q.where(SyncRun.workspace_id == workspace_id)
    runs = list((await session.execute(q)).scalars())
    views = {r.id: RunView(run=r) for r in runs}
    if views:
        found = await session.execute(select(SyncError).where(SyncError.run_id.in_(list(views))).order_by(SyncError.run_id, SyncError.line, SyncError.id))
        for e in found.scalars():
            view = views[e.run_id]
            view.error_count += 1
            if len(view.errors) < errors_per_run:
                view.errors.append(e)
    return [views[r.id] for r in runs]


async def get_run(session: AsyncSession, *, run_id: int) -> SyncRun:
    """One run by id (the operator's CLI; no workspace filter, the operator sees every one)."""
    run = await session.get(SyncRun, run_id)
    if run is None:
        raise NotFound()
    return run


def require_admin(actor: Actor) -> None:
    """Sync settings and their records are for workspace admins only."""
    if not actor.is_admin:
        raise PermissionDenied("sync.error.admins_only")


async def runs_for_admin(session: AsyncSession, *, actor: Actor, limit: int = 10) -> list[RunView]:
    """What `/salesbot sync` shows: the workspace's last runs and their failures (admins only)."""
    require_admin(actor)
    return await recent_runs(session, workspace_id=actor.workspace.id, limit=limit)


async def workspace_ids(session: AsyncSession, slack_team_ids: Sequence[str]) -> list[int]:
    """Database ids of the named workspaces (unknown ones are left out)."""
    if not slack_team_ids:
        return []
    return list((await session.execute(select(Workspace.id).where(Workspace.slack_team_id.in_(list(slack_team_ids))))).scalars())


async def admin_recipients(session: AsyncSession, *, workspace_id: int, admins: frozenset[str] | Sequence[str] = ()) -> list[tuple[str, str]]:
    """Who hears about a failed pull or a dead webhook: the workspace's admins, else its managers.

    Returns (Slack user id, locale) pairs.
    """
    from sqlalchemy import or_

    from bot.models import Member
    from bot.services.roster import managers_of

    found = await session.execute(
        select(Member.slack_user_id, Member.locale).where(
            Member.workspace_id == workspace_id, or_(Member.is_slack_admin.is_(True), Member.slack_user_id.in_(list(admins) or [""]))
        )
    )
    people = {uid: locale for uid, locale in found.all()}
    if not people:
        people = {m.slack_user_id: m.locale for m in await managers_of(session, workspace_id=workspace_id)}
    return sorted(people.items())
