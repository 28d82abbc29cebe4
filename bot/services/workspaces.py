"""A workspace's life after install: uninstalled (nothing more is posted, data kept) and deleted (every row gone)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.models import OutboxMessage, OutboxStatus, SendBudget, SlackInstallation, Workspace
from bot.services.sendbudget import channel_scope, workspace_scope

log = logging.getLogger(__name__)

# Tables that hold no workspace's data: request bookkeeping that names no workspace and expires
# by itself. Every other table must lead to a workspace (a workspace_id column, or a foreign key
# to a table that does), or `deletion_plan` refuses to run, so a new table cannot be forgotten.
NOT_WORKSPACE_DATA = {
    "processed_event": "Events API ids, pruned after a day",
    "request_signature": "signatures of accepted requests, pruned after five minutes",
    "saved_submission": "digests of saved modal submissions, no workspace named",
    "oauth_state": "install attempts not finished yet, expire in ten minutes",
}


class UnclassifiedTable(RuntimeError):
    """A table neither belongs to a workspace nor is declared as holding no workspace's data."""


@dataclass(frozen=True)
class Uninstalled:
    """What uninstalling changed."""

    workspace_id: int | None
    cancelled: int


async def uninstall_workspace(session: AsyncSession, *, slack_team_id: str, now: datetime) -> Uninstalled:
    """The app was uninstalled (or its bot token revoked): forget the token, cancel pending posts, keep the data."""
    ws = (await session.execute(select(Workspace).where(Workspace.slack_team_id == slack_team_id))).scalar_one_or_none()
    if ws is None:
        return Uninstalled(workspace_id=None, cancelled=0)
    await session.execute(update(Workspace).where(Workspace.id == ws.id).values(uninstalled_at=now))
    await session.execute(delete(SlackInstallation).where(SlackInstallation.workspace_id == ws.id))
    # Rows already in `sending` finish (or fail) on their own; the rest will never be sent.
    res = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.workspace_id == ws.id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, last_error="the app was uninstalled from the workspace")
    )
    log.info("workspace %s uninstalled: %d pending posts cancelled, data kept", slack_team_id, res.rowcount)
    return Uninstalled(workspace_id=ws.id, cancelled=res.rowcount)


async def uninstalled_among(session: AsyncSession, workspace_ids: set[int]) -> set[int]:
    """Which of these workspaces uninstalled the app."""
    if not workspace_ids:
        return set()
    found = await session.execute(select(Workspace.id).where(Workspace.id.in_(workspace_ids), Workspace.uninstalled_at.is_not(None)))
    return set(found.scalars())


def _owned(table: sa.Table, workspace_id: int, plans: dict[str, sa.ColumnElement | None]) -> sa.ColumnElement | None:
    """The condition selecting a table's rows of one workspace, from its own column or its parents'."""
    if table.name == Workspace.__tablename__:
        return table.c.id == workspace_id
    if "workspace_id" in table.c:
        return table.c.workspace_id == workspace_id
    if table.name == SendBudget.__tablename__:  # keyed by scope: the workspace's own, and each of its channels'
        return sa.or_(table.c.scope == workspace_scope(workspace_id), table.c.scope.startswith(channel_scope(workspace_id, "")))
    via = []
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        parent = fk.column.table
        cond = plans.get(parent.name)
        if cond is not None:
            via.append(fk.parent.in_(select(fk.column).where(cond)))
    return sa.or_(*via) if via else None


def deletion_plan(workspace_id: int, metadata: sa.MetaData | None = None) -> list[tuple[sa.Table, sa.ColumnElement]]:
    """For each table holding workspace data, children first, the condition of the workspace's rows."""
    metadata = metadata or SQLModel.metadata
    plans: dict[str, sa.ColumnElement | None] = {}
    unclassified = []
    for table in metadata.sorted_tables:  # parents first, so a child can go through its parent
        if table.name in NOT_WORKSPACE_DATA:
            continue
        plans[table.name] = _owned(table, workspace_id, plans)
        if plans[table.name] is None:
            unclassified.append(table.name)
    if unclassified:
        raise UnclassifiedTable(f"tables with no path to a workspace: {', '.join(unclassified)} (add workspace_id, or declare them in NOT_WORKSPACE_DATA)")
    return [(t, plans[t.name]) for t in reversed(metadata.sorted_tables) if t.name in plans]  # type: ignore[misc]


async def delete_workspace(session: AsyncSession, *, slack_team_id: str) -> dict[str, int] | None:
    """Delete every row of a workspace in every table (the caller commits once); None when there is no such workspace."""
    ws_id = (await session.execute(select(Workspace.id).where(Workspace.slack_team_id == slack_team_id))).scalar_one_or_none()
    if ws_id is None:
        return None
    counts: dict[str, int] = {}
    for table, cond in deletion_plan(ws_id):
        res = await session.execute(delete(table).where(cond))
        counts[table.name] = res.rowcount
    log.info("workspace %s deleted: %d rows", slack_team_id, sum(counts.values()))
    return counts
