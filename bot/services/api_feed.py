"""The API's reads: each kind as JSON rows in the data standard, a page at a time in change order.

A page is ordered by (change_seq, id), the database-assigned change sequence (see
bot.models.change_seq_field), and the cursor is the last (change_seq, id) served, so a pull
that keeps its cursor sees every change once: a row written again later comes back with its
new state, and a row written by a transaction still running is held back until it commits.
On PostgreSQL a page stops below the oldest transaction of this database still running; that
transaction's rows (and anything after them) wait for the next pull instead of being skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.csvio.cells import format_date, format_datetime, format_money
from bot.csvio.columns import COLUMNS, PRIORITY_NAMES, row_key
from bot.models import (
    Activity, Customer, Deal, Expense, Member, Priority, SalesTeam, Survey, SurveyStatus, Target, Task, TaskAssignee,
)

# The kinds the API serves: table, and whether a write token may upsert them (through the CSV importer).
MODELS: dict[str, Any] = {
    "members": Member, "customers": Customer, "deals": Deal, "tasks": Task, "targets": Target,
    "activities": Activity, "expenses": Expense, "survey_answers": Survey,
}
WRITABLE = ("customers", "deals", "tasks", "targets")
# The column a row is found by besides its id; the kinds without one are found by id only.
EXTERNAL_KEY = {"members": "slack_user_id", "customers": "external_id", "deals": "external_id", "tasks": "external_id", "targets": "external_id"}
MAX_PAGE = 1000
DEFAULT_PAGE = 100

# Fields of the read-only kinds outside the data standard, with their JSON types (for the OpenAPI document).
EXTRA_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "activities": (
        ("member", "user", "Slack user id of the rep who logged it"),
        ("customer", "ref", "the customer's external_id"),
        ("deal", "ref", "the deal's external_id"),
        ("kind", "choice", "call, visit, meeting or message"),
        ("effective", "bool", "whether the touch moved things on"),
        ("note", "text", "what was said"),
        ("occurred_at", "datetime", "when it happened"),
    ),
    "expenses": (
        ("member", "user", "Slack user id of the rep who spent it"),
        ("deal", "ref", "the deal's external_id"),
        ("amount", "money", "amount in major units"),
        ("category", "text", "what it was for"),
        ("spent_on", "date", "the day it was spent"),
    ),
    "survey_answers": (
        ("customer", "ref", "the customer's external_id"),
        ("rep", "user", "Slack user id of the rep the answer is about"),
        ("source", "text", "deal or task"),
        ("deal", "ref", "the deal's external_id when the survey followed a won deal"),
        ("score", "int", "1 to 5; 4 and 5 count as satisfied"),
        ("satisfied", "bool", "score is 4 or 5"),
        ("comment", "text", "the customer's words"),
        ("answered_at", "datetime", "when the customer answered"),
    ),
}


class BadCursor(ValueError):
    """A cursor this API did not make."""


@dataclass(frozen=True)
class Page:
    """Rows of one kind in change order, and where the next pull starts."""

    rows: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def encode_cursor(seq: int, row_id: int) -> str:
    """An opaque cursor for the position after (seq, id)."""
    return base64.urlsafe_b64encode(json.dumps([seq, row_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The (seq, id) a cursor holds; raises BadCursor."""
    try:
        seq, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(seq, int) and isinstance(row_id, int)):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor(cursor) from None
    return seq, row_id


# The lowest transaction id whose rows this statement's snapshot may not show yet: the oldest one it
# saw running, or its xmax. Transactions seen running in another database of the server (they
# cannot write here) are left out, so a long one there does not hold the feed back; one that
# ended before pg_stat_activity was read cannot be placed and counts, which only delays a page.
_HORIZON = """LEAST(
  pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
  (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
   WHERE x::text::bigint % 4294967296 NOT IN (
     SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE datname <> current_database() AND backend_xid IS NOT NULL)))"""


def _visible(session: AsyncSession, model):
    """The condition that keeps rows of transactions that may still be running out of a page (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return None  # SQLite: one writer at a time, numbered in commit order
    horizon = select(literal_column(_HORIZON)).scalar_subquery()
    return model.change_seq < horizon


def _base(kind: str, workspace_id: int):
    model = MODELS[kind]
    # Plain rows, not ORM objects: building a model instance costs more than serializing it.
    q = select(model.__table__).where(model.workspace_id == workspace_id)
    if kind == "survey_answers":
        q = q.where(Survey.status == SurveyStatus.ANSWERED)
    return q


async def list_page(
    session: AsyncSession, *, workspace_id: int, kind: str, cursor: str | None = None, updated_since: datetime | None = None, limit: int = DEFAULT_PAGE,
) -> Page:
    """One page of a kind after `cursor` (and changed at or after `updated_since`), oldest change first."""
    model = MODELS[kind]
    limit = max(1, min(limit, MAX_PAGE))
    q = _base(kind, workspace_id).where(model.change_seq.is_not(None))
    visible = _visible(session, model)
    if visible is not None:
        q = q.where(visible)
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        q = q.where(tuple_(model.change_seq, model.id) > tuple_(*after))
    if updated_since is not None:
        q = q.where(model.updated_at >= updated_since)
    rows = list((await session.execute(q.order_by(model.change_seq, model.id).limit(limit + 1))).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        next_cursor = encode_cursor(rows[-1].change_seq, rows[-1].id)
    else:
        next_cursor = cursor or encode_cursor(0, 0)
    return Page(await serialize(session, kind=kind, rows=rows), next_cursor, has_more)


async def get_row(session: AsyncSession, *, workspace_id: int, kind: str, row_id: int | None = None, key: str | None = None) -> dict[str, Any] | None:
    """One row of a kind by id, or by its external id (members: Slack user id); None when the workspace has none."""
    model = MODELS[kind]
    q = _base(kind, workspace_id)
    if row_id is not None:
        q = q.where(model.id == row_id)
    else:
        column = EXTERNAL_KEY.get(kind)
        if column is None:
            return None
        q = q.where(getattr(model, column) == key)
    row = (await session.execute(q)).first()
    if row is None:
        return None
    return (await serialize(session, kind=kind, rows=[row]))[0]


async def rows_by_key(session: AsyncSession, *, workspace_id: int, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Rows of a writable kind by external id, serialized (the answer to an upsert)."""
    model = MODELS[kind]
    found: list[Any] = []
    keys = list(dict.fromkeys(keys))
    for i in range(0, len(keys), 500):
        q = _base(kind, workspace_id).where(model.external_id.in_(keys[i:i + 500]))
        found += list((await session.execute(q)).all())
    return {r["external_id"]: r for r in await serialize(session, kind=kind, rows=found)}


# -- serialization: one query per lookup for the whole page, never one per row ------------

async def _names(session: AsyncSession, model, column, ids: set[int]) -> dict[int, Any]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    q = select(model.id, column).where(model.id.in_(ids))
    return dict((await session.execute(q)).all())


def _v(value: Any) -> Any:
    return None if value is None else getattr(value, "value", value)


def _meta(row: Any) -> dict[str, Any]:
    return {"id": row.id, "updated_at": format_datetime(row.updated_at) or None}


async def serialize(session: AsyncSession, *, kind: str, rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as JSON objects in the data standard (the cells an upsert takes back unchanged), plus id and updated_at."""
    if not rows:
        return []
    teams = await _names(session, SalesTeam, SalesTeam.name, {getattr(r, "team_id", None) for r in rows})
    out: list[dict[str, Any]] = []
    if kind == "members":
        for m in rows:
            out.append({**_meta(m), "slack_user_id": m.slack_user_id, "name": m.name, "team": teams.get(m.team_id), "role": _v(m.role),
                        "region": m.region, "segment": _v(m.segment), "level": _v(m.level), "tz": m.tz, "locale": m.locale})
        return out
    if kind == "customers":
        for c in rows:
            out.append({**_meta(c), "external_id": row_key(kind, c.id, c.external_id), "name": c.name, "segment": _v(c.segment),
                        "region": c.region, "contact_channel_id": c.contact_channel_id, "contact_user_id": c.contact_user_id})
        return out
    customers = await _names(session, Customer, Customer.external_id, {getattr(r, "customer_id", None) for r in rows})
    cust = lambda cid: row_key("customers", cid, customers.get(cid)) if cid else None  # noqa: E731
    deal_ids = {getattr(r, "deal_id", None) for r in rows}
    if kind == "survey_answers":
        deal_ids = {s.source_id for s in rows if s.source == "deal"}
    deals = await _names(session, Deal, Deal.external_id, deal_ids)
    deal = lambda did: row_key("deals", did, deals.get(did)) if did else None  # noqa: E731
    people = await _names(session, Member, Member.slack_user_id, {
        getattr(r, attr, None) for r in rows for attr in ("owner_id", "member_id", "rep_id")
    })
    if kind == "deals":
        for d in rows:
            out.append({**_meta(d), "external_id": row_key(kind, d.id, d.external_id), "title": d.title, "customer": cust(d.customer_id),
                        "owner": people.get(d.owner_id), "team": teams.get(d.team_id), "product_line": d.product_line,
                        "amount": format_money(d.amount), "stage": _v(d.stage), "status": _v(d.status),
                        "expected_close": format_date(d.expected_close) or None, "stage_entered_at": format_datetime(d.stage_entered_at) or None,
                        "won_at": format_datetime(d.won_at) or None, "lost_at": format_datetime(d.lost_at) or None})
        return out
    if kind == "targets":
        for t in rows:
            out.append({**_meta(t), "external_id": row_key(kind, t.id, t.external_id), "team": teams.get(t.team_id), "period": t.period,
                        "dimension": t.dimension, "key": t.key or None, "amount": format_money(t.amount)})
        return out
    if kind == "tasks":
        assignees: dict[int, list[str]] = {}
        q = (select(TaskAssignee.task_id, Member.slack_user_id).join(Member, Member.id == TaskAssignee.member_id)
             .where(TaskAssignee.task_id.in_([t.id for t in rows])))
        for task_id, user_id in (await session.execute(q)).all():
            assignees.setdefault(task_id, []).append(user_id)
        for t in rows:
            out.append({**_meta(t), "external_id": row_key(kind, t.id, t.external_id), "title": t.title, "team": teams.get(t.team_id),
                        "assignees": sorted(assignees.get(t.id, [])), "customer": cust(t.customer_id), "deal": deal(t.deal_id),
                        "stage": _v(t.stage), "priority": PRIORITY_NAMES[Priority(t.priority)], "difficulty": t.difficulty,
                        "due_date": format_date(t.due_date) or None, "status": _v(t.status),
                        "completed_at": format_datetime(t.completed_at) or None, "details": t.details})
        return out
    if kind == "activities":
        for a in rows:
            out.append({**_meta(a), "member": people.get(a.member_id), "customer": cust(a.customer_id), "deal": deal(a.deal_id),
                        "kind": _v(a.kind), "effective": a.effective, "note": a.note, "occurred_at": format_datetime(a.occurred_at)})
        return out
    if kind == "expenses":
        for e in rows:
            out.append({**_meta(e), "member": people.get(e.member_id), "deal": deal(e.deal_id), "amount": format_money(e.amount),
                        "category": e.category, "spent_on": format_date(e.spent_on)})
        return out
    for s in rows:  # survey answers
        out.append({**_meta(s), "customer": cust(s.customer_id), "rep": people.get(s.rep_id), "source": s.source,
                    "deal": deal(s.source_id) if s.source == "deal" else None, "score": s.score,
                    "satisfied": s.score is not None and s.score >= 4, "comment": s.comment, "answered_at": format_datetime(s.answered_at) or None})
    return out


def output_fields(kind: str) -> list[tuple[str, str, str]]:
    """(name, type, meaning) of a kind's JSON fields besides id and updated_at (the OpenAPI document's source)."""
    if kind in EXTRA_FIELDS:
        return list(EXTRA_FIELDS[kind])
    return [(c.name, c.type, c.meaning) for c in COLUMNS[kind]]
