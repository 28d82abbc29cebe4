"""Export one kind as CSV in the data standard: the importer reads back exactly what this writes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.csvio.cells import format_date, format_datetime, format_money, safe_text
from bot.csvio.columns import COLUMNS, KINDS, PRIORITY_NAMES, header, row_key
from bot.models import Customer, Deal, Member, Priority, SalesTeam, Target, Task, TaskAssignee, Workspace
from bot.services.actors import Actor
from bot.services.errors import PermissionDenied

BOM = "\ufeff"  # Excel needs it to open UTF-8 (Chinese names) correctly; the importer accepts both

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ExportFile:
    """A finished export: file name, bytes and how many rows it holds."""

    kind: str
    filename: str
    data: bytes
    rows: int


def _v(value) -> str:
    """An enum's readable value, or the empty cell."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


async def _team_names(session: AsyncSession, workspace: Workspace) -> dict[int, str]:
    q = select(SalesTeam.id, SalesTeam.name).where(SalesTeam.workspace_id == workspace.id)
    return dict((await session.execute(q)).all())


async def export_rows(session: AsyncSession, *, workspace: Workspace, kind: str, team_id: int | None = None) -> list[list[str]]:
    """The data lines of a kind (values typed for the data standard, before spreadsheet quoting).

    With `team_id`, only that team's rows: its members, deals, targets and tasks, and the
    customers of its deals and tasks.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    teams = await _team_names(session, workspace)
    team = lambda tid: teams.get(tid, "") if tid else ""  # noqa: E731
    ws = workspace.id
    if kind == "members":
        q = select(Member).where(Member.workspace_id == ws).order_by(Member.id)
        if team_id is not None:
            q = q.where(Member.team_id == team_id)
        return [
            [m.slack_user_id, m.name, team(m.team_id), _v(m.role), m.region or "", _v(m.segment), _v(m.level), m.tz, m.locale]
            for m in (await session.execute(q)).scalars()
        ]
    if kind == "customers":
        q = select(Customer).where(Customer.workspace_id == ws).order_by(Customer.id)
        if team_id is not None:
            of_deals = select(Deal.customer_id).where(Deal.workspace_id == ws, Deal.team_id == team_id)
            of_tasks = select(Task.customer_id).where(Task.workspace_id == ws, Task.team_id == team_id)
            q = q.where(or_(Customer.id.in_(of_deals), Customer.id.in_(of_tasks)))
        return [
            [row_key(kind, c.id, c.external_id), c.name, _v(c.segment), c.region or "", c.contact_channel_id or "", c.contact_user_id or ""]
            for c in (await session.execute(q)).scalars()
        ]
    if kind == "deals":
        q = (
            select(Deal, Customer.id, Customer.external_id, Member.slack_user_id)
            .join(Customer, Customer.id == Deal.customer_id)
            .join(Member, Member.id == Deal.owner_id)
            .where(Deal.workspace_id == ws)
            .order_by(Deal.id)
        )
        if team_id is not None:
            q = q.where(Deal.team_id == team_id)
        return [
            [
                row_key(kind, d.id, d.external_id), d.title, row_key("customers", cid, cext), owner, team(d.team_id), d.product_line,
                format_money(d.amount), _v(d.stage), _v(d.status), format_date(d.expected_close),
                format_datetime(d.stage_entered_at), format_datetime(d.won_at), format_datetime(d.lost_at),
            ]
            for d, cid, cext, owner in (await session.execute(q)).all()
        ]
    if kind == "targets":
        q = select(Target).where(Target.workspace_id == ws).order_by(Target.id)
        if team_id is not None:
            q = q.where(Target.team_id == team_id)
        return [
            [row_key(kind, t.id, t.external_id), team(t.team_id), t.period, t.dimension, t.key, format_money(t.amount)]
            for t in (await session.execute(q)).scalars()
        ]
    # tasks: one query for the tasks with their customer and deal keys, one for every assignee
    q = (
        select(Task, Customer.external_id, Deal.external_id)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .outerjoin(Deal, Deal.id == Task.deal_id)
        .where(Task.workspace_id == ws)
        .order_by(Task.id)
    )
    if team_id is not None:
        q = q.where(Task.team_id == team_id)
    tasks = (await session.execute(q)).all()
    aq = (
        select(TaskAssignee.task_id, Member.slack_user_id)
        .join(Member, Member.id == TaskAssignee.member_id)
        .join(Task, Task.id == TaskAssignee.task_id)
        .where(Task.workspace_id == ws)
    )
    if team_id is not None:
        aq = aq.where(Task.team_id == team_id)
    people: dict[int, list[str]] = {}
    for task_id, user_id in (await session.execute(aq)).all():
        people.setdefault(task_id, []).append(user_id)
    return [
        [
            row_key(kind, t.id, t.external_id), t.title, team(t.team_id), " ".join(sorted(people.get(t.id, []))),
            row_key("customers", t.customer_id, cext) if t.customer_id else "", row_key("deals", t.deal_id, dext) if t.deal_id else "",
            _v(t.stage), PRIORITY_NAMES[Priority(t.priority)], str(t.difficulty), format_date(t.due_date), _v(t.status),
            format_datetime(t.completed_at), t.details,
        ]
        for t, cext, dext in tasks
    ]


# Cells of these types are numbers, dates or fixed words: written as they are, never quoted.
_PLAIN_TYPES = {"money", "int", "date", "datetime", "choice", "period", "user", "users", "tz"}


def to_csv(kind: str, rows: list[list[str]], *, progress: Progress | None = None) -> bytes:
    """The file's bytes: a BOM, the header and the rows, text cells made safe for spreadsheets."""
    plain = [c.type in _PLAIN_TYPES for c in COLUMNS[kind]]
    buf = io.StringIO()
    buf.write(BOM)
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header(kind))
    for row in rows:
        writer.writerow([cell if is_plain else safe_text(cell) for cell, is_plain in zip(row, plain)])
        if progress:
            progress(1)
    return buf.getvalue().encode("utf-8")


async def export_csv(session: AsyncSession, *, workspace: Workspace, kind: str, team_id: int | None = None, progress: Progress | None = None) -> tuple[bytes, int]:
    """A kind as CSV bytes, with its row count."""
    rows = await export_rows(session, workspace=workspace, kind=kind, team_id=team_id)
    return to_csv(kind, rows, progress=progress), len(rows)


async def export_for(session: AsyncSession, *, actor: Actor, kind: str, today: date) -> ExportFile:
    """An export for a person in Slack: admins get the workspace, managers their team's rows, others nothing."""
    if actor.is_admin:
        team_id = None
    elif actor.is_manager and actor.member.team_id is not None:
        team_id = actor.member.team_id
    else:
        raise PermissionDenied("csv.error.export_denied")
    data, count = await export_csv(session, workspace=actor.workspace, kind=kind, team_id=team_id)
    return ExportFile(kind=kind, filename=f"{kind}-{today.isoformat()}.csv", data=data, rows=count)
