"""Retention: what the tables that only grow may forget, deleted in bounded batches.

Every delete takes at most `batch` rows per transaction, chosen through an index (the
outbox's (status, created_at), the others' time columns), so a million old rows never hold
one long lock or one huge transaction: the senders and listeners keep running meanwhile.

- processed events: older than a day (Slack's retries end within minutes);
- request signatures: past their expiry (Slack's 5-minute replay window);
- saved modal submissions: older than a day;
- outbox rows sent, cancelled or skipped longer ago than the workspace's retention
  (the largest `retention_days` of its teams; 30 days when it has none);
- chart files no post still needs (see OutboxBlob.last_used_at);
- shared send-budget rows untouched for a day (one per DM channel ever posted to).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.models import OutboxBlob, OutboxMessage, OutboxStatus, ProcessedEvent, RequestSignature, SalesTeam, SavedSubmission, SendBudget, Workspace
from bot.services.events import EVENT_MEMORY
from bot.services.forms import SUBMISSION_KEEP
from bot.services.reminders import ESCALATE, MARKER_KEEP_DAYS, REMIND

DEFAULT_RETENTION_DAYS = 30
RETENTION_MAX_DAYS = 3650
BATCH = 5000
PRUNABLE = (OutboxStatus.SENT, OutboxStatus.CANCELLED, OutboxStatus.SKIPPED)
# Rows that may still be sent or reviewed: the files they name are kept whatever their age.
LIVE = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNKNOWN, OutboxStatus.DEAD)
BUDGET_MEMORY = timedelta(days=1)


@dataclass
class Pruned:
    """How many rows each kind lost in one housekeeping run."""

    events: int = 0
    signatures: int = 0
    submissions: int = 0
    outbox: int = 0
    blobs: int = 0
    budgets: int = 0

    def total(self) -> int:
        """Every row deleted."""
        return sum(getattr(self, f.name) for f in fields(self))


async def _delete_in_batches(db: Database, column, *conditions, batch: int) -> int:
    """DELETE the rows whose key `column` matches, `batch` at a time, each batch its own transaction."""
    table = column.table
    total = 0
    while True:
        chosen = select(column).where(*conditions).limit(batch).scalar_subquery()
        async with db.sessionmaker() as session:
            # The conditions again outside: a key shared by a row that must stay (a blob's digest in
            # another workspace, a view's newer submission) is not deleted with the chosen ones.
            result = await session.execute(delete(table).where(column.in_(chosen), *conditions).execution_options(synchronize_session=False))
            await session.commit()
        n = result.rowcount or 0
        total += n
        if n < batch:
            return total


async def retention_by_workspace(session: AsyncSession) -> dict[int, int]:
    """Each workspace's outbox retention in days: the longest its teams ask for, else the default."""
    q = (
        select(Workspace.id, func.max(SalesTeam.retention_days))
        .select_from(Workspace)
        .outerjoin(SalesTeam, SalesTeam.workspace_id == Workspace.id)
        .group_by(Workspace.id)
    )
    return {ws: max(1, days) if days is not None else DEFAULT_RETENTION_DAYS for ws, days in (await session.execute(q)).all()}


async def prune_outbox(db: Database, *, now: datetime, batch: int = BATCH) -> tuple[int, int]:
    """Settled posts past their workspace's retention, then the files no remaining post names; returns (rows, files)."""
    t, b = OutboxMessage, OutboxBlob
    async with db.sessionmaker() as session:
        retention = await retention_by_workspace(session)
    rows = files = 0
    markers = or_(*(t.key.startswith(f"{kind}:") for kind in (REMIND, ESCALATE)))
    for ws, days in sorted(retention.items()):
        cutoff = now - timedelta(days=days)
        # Reminder and escalation markers stay past the retention until their look-back is over.
        kept = and_(markers, t.created_at >= now - timedelta(days=MARKER_KEEP_DAYS))
        rows += await _delete_in_batches(db, t.id, t.status.in_(PRUNABLE), t.created_at < cutoff, t.workspace_id == ws, ~kept, batch=batch)
        async with db.sessionmaker() as session:
            oldest_live = (await session.execute(select(func.min(t.created_at)).where(t.status.in_(LIVE), t.workspace_id == ws))).scalar()
        # A post names a file no later than the file's last use: files last used before every
        # remaining post of the workspace was created are named by none of them.
        keep_from = min(cutoff, oldest_live) if oldest_live is not None else cutoff
        files += await _delete_in_batches(db, b.digest, b.workspace_id == ws, b.last_used_at < keep_from, batch=batch)
    return rows, files


async def housekeep(db: Database, *, now: datetime, batch: int = BATCH) -> Pruned:
    """One retention pass over every growing table (safe to repeat; each batch commits on its own)."""
    pruned = Pruned()
    pruned.events = await _delete_in_batches(db, ProcessedEvent.event_id, ProcessedEvent.received_at < now - EVENT_MEMORY, batch=batch)
    pruned.signatures = await _delete_in_batches(db, RequestSignature.signature, RequestSignature.expires_at < now, batch=batch)
    pruned.submissions = await _delete_in_batches(db, SavedSubmission.view_id, SavedSubmission.saved_at < now - SUBMISSION_KEEP, batch=batch)
    pruned.outbox, pruned.blobs = await prune_outbox(db, now=now, batch=batch)
    pruned.budgets = await _delete_in_batches(db, SendBudget.scope, SendBudget.updated_at < now - BUDGET_MEMORY, batch=batch)
    return pruned
