"""The API's writes: upserts by external id through the CSV importer, idempotency keys and the rate limit.

One code path: a JSON row becomes the cells of a CSV line and goes through bot.csvio's
importer, so the API accepts, refuses and words its refusals exactly as an imported file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.csvio.importer import import_records
from bot.csvio.reader import ImportFailed
from bot.db import dialect_insert
from bot.i18n import Localizer
from bot.models import ApiIdempotency, ApiRateWindow, Customer, DealStatus, Member, SalesTeam, Workspace
from bot.services import playbooks
from bot.services.actors import Actor
from bot.services.surveys import schedule_survey

MAX_BATCH = 1000
IDEMPOTENCY_TTL = timedelta(hours=24)
RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of a request: its index, the field (None: the whole row) and a message."""

    row: int
    field: str | None
    message: str


@dataclass
class BatchResult:
    """What an upsert did: the counts a sync run records, the rows' keys in request order, and the problems."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


class BatchRejected(Exception):
    """A row was wrong: nothing was written (the caller rolls back); the result lists every problem."""

    def __init__(self, result: BatchResult) -> None:
        super().__init__(f"{result.failed} row(s) refused")
        self.result = result


def to_cells(row: dict[str, Any]) -> dict[str, str]:
    """A JSON row's values as the text a CSV cell would hold (null: an empty cell; a list of users: space-separated)."""
    cells: dict[str, str] = {}
    for name, value in row.items():
        if value is None:
            cells[name] = ""
        elif isinstance(value, list):
            cells[name] = " ".join(str(v) for v in value)
        else:
            cells[name] = str(value)
    return cells


async def upsert_rows(
    session: AsyncSession, *, workspace: Workspace, kind: str, rows: list[dict[str, Any]], now: datetime, loc: Localizer, i18n: Any,
) -> BatchResult:
    """Create or update rows by external id, all or nothing; raises BatchRejected naming each bad row and field.

    A deal the rows move to another stage gets that stage's checklist, and a deal they win gets
    its satisfaction survey, as in Slack. New deals arriving from another system are records,
    not moves: they get neither (as with a CSV import), so a first sync floods nobody.
    """
    keys = [str(r.get("external_id") or "") for r in rows]
    try:
        imported = await import_records(session, workspace=workspace, kind=kind, records=[to_cells(r) for r in rows], now=now)
    except ImportFailed as exc:
        problems = [RowProblem(e.line, e.column, loc.t(e.key, **e.params)) for e in exc.errors]
        raise BatchRejected(BatchResult(kind, failed=len({p.row for p in problems}), errors=problems, keys=keys)) from None
    if kind == "deals":
        await _after_deal_moves(session, workspace=workspace, moved=imported.moved, now=now, i18n=i18n)
    return BatchResult(kind, created=imported.created, updated=imported.updated, unchanged=imported.unchanged, keys=keys)


async def _after_deal_moves(session: AsyncSession, *, workspace: Workspace, moved: list, now: datetime, i18n: Any) -> None:
    """Checklists for deals moved to a new stage and surveys for deals won, as the Slack paths make them."""
    moves = [(d, stage, status) for d, stage, status in moved if status is not None]
    if not moves:
        return
    owners = {m.id: m for m in (await session.execute(select(Member).where(Member.id.in_({d.owner_id for d, _, _ in moves})))).scalars()}
    for deal, from_stage, from_status in moves:
        owner = owners[deal.owner_id]
        actor = Actor(workspace=workspace, member=owner, is_admin=False)
        if deal.status == DealStatus.OPEN and deal.stage != from_stage:
            await playbooks.run_playbook(session, actor=actor, deal=deal, stage=deal.stage, owner=owner, now=now, i18n=i18n)
        if deal.status == DealStatus.WON and from_status != DealStatus.WON:
            customer = await session.get(Customer, deal.customer_id)
            team = await session.get(SalesTeam, deal.team_id) if deal.team_id else None
            await schedule_survey(session, workspace_id=workspace.id, customer=customer, rep_id=deal.owner_id, team=team, source="deal", source_id=deal.id, now=now)


# -- idempotency keys ---------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    """The response a request with this key already got."""

    status: int
    body: str


class KeyReused(Exception):
    """The key came with a different request before."""


async def claim_key(session: AsyncSession, *, token_id: int, key: str, request_hash: str, now: datetime) -> Stored | None:
    """Claim `key` for this request inside the caller's transaction; the stored answer when it was used before.

    Two requests with one key at once: the database makes the second wait for the first's commit,
    then finds its answer. Raises KeyReused when the key came with another body.
    """
    await session.execute(delete(ApiIdempotency).where(ApiIdempotency.token_id == token_id, ApiIdempotency.expires_at < now))
    stmt = dialect_insert(session)(ApiIdempotency).values(
        token_id=token_id, key=key, request_hash=request_hash, status=0, body="", created_at=now, expires_at=now + IDEMPOTENCY_TTL,
    ).on_conflict_do_nothing(index_elements=["token_id", "key"]).returning(ApiIdempotency.key)
    if (await session.execute(stmt)).first() is not None:
        return None
    row = (await session.execute(
        select(ApiIdempotency).where(ApiIdempotency.token_id == token_id, ApiIdempotency.key == key).execution_options(populate_existing=True)
    )).scalar_one()
    if row.request_hash != request_hash:
        raise KeyReused(key)
    return Stored(row.status, row.body)


async def store_answer(session: AsyncSession, *, token_id: int, key: str, status: int, body: dict[str, Any]) -> str:
    """Keep the answer with its key (committed with the write it describes); returns the body's text."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    row = await session.get(ApiIdempotency, (token_id, key))
    row.status = status
    row.body = text
    session.add(row)
    await session.flush()
    return text


# -- rate limit ----------------------------------------------------------------------------

async def count_request(session: AsyncSession, *, token_id: int, now: datetime, per_minute: int) -> int | None:
    """Count a request in the token's current minute (one row, shared by every process); seconds to wait when over."""
    epoch = int(now.timestamp())
    window = epoch - epoch % RATE_WINDOW_SECONDS
    stmt = dialect_insert(session)(ApiRateWindow).values(token_id=token_id, window=window, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["token_id", "window"], set_={"count": ApiRateWindow.count + 1}).returning(ApiRateWindow.count)
    count = (await session.execute(stmt)).scalar_one()
    if count == 1:  # a new window: the token's older ones are done with
        await session.execute(delete(ApiRateWindow).where(ApiRateWindow.token_id == token_id, ApiRateWindow.window < window))
    if count > per_minute:
        return max(1, window + RATE_WINDOW_SECONDS - epoch)
    return None
