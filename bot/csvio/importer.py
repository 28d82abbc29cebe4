"""Import a CSV file of one kind: validate every row, then write them all in one transaction.

Rows are matched by their key (members by Slack user id, the rest by external id), so the
same file imported twice changes nothing the second time. A field changes only when the file
holds a different value; a column the file leaves out leaves that field as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.csvio.cells import CellError, parse_user, shown
from bot.csvio.columns import COLUMNS, KINDS, PRIORITY_WORDS, ROW_PREFIX
from bot.csvio.reader import ImportFailed, Row, RowError, read_records, read_rows
from bot.db import upsert
from bot.services.deals import StageMove, record_stage_changes
from bot.models import (
    Customer, Deal, DealStatus, Level, Member, Role, SalesTeam, Segment, Stage, Target, Task,
    TaskAssignee, TaskStatus, Workspace,
)

CHUNK = 500  # ids per IN (...) list: well under every driver's parameter limit

Progress = Callable[[int], None]


@dataclass
class ImportResult:
    """How many rows the import created, changed and found already as in the file."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Deals whose stage or status the import changed, with the stage and status they had (None: new).
    moved: list[tuple[Deal, Stage | None, DealStatus | None]] = field(default_factory=list, repr=False)

    @property
    def total(self) -> int:
        """Rows in the file."""
        return self.created + self.updated + self.unchanged


async def import_csv(
    session: AsyncSession,
    *,
    workspace: Workspace,
    kind: str,
    data: bytes,
    now: datetime,
    default_team: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate the whole file, then write it; raises ImportFailed (and writes nothing) on any error.

    The caller owns the transaction: it commits after this returns and rolls back otherwise.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    errors: list[RowError] = []
    rows = read_rows(kind, data, progress=progress, errors=errors)
    job = _Import(session, workspace, rows, now=now, default_team=default_team, progress=progress)
    job.errors = errors  # bad cells, and next whatever the database says about the rest
    result = await getattr(job, f"{kind}_kind")()
    await session.flush()
    return result


async def import_records(
    session: AsyncSession,
    *,
    workspace: Workspace,
    kind: str,
    records: list[dict[str, str]],
    now: datetime,
    default_team: str | None = None,
) -> ImportResult:
    """Rows given as cells by column name (the API's rows, numbered from 0) imported by the file's rules, all or nothing.

    A column a row leaves out leaves that field as it is, as a column a file leaves out does.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    errors: list[RowError] = []
    rows = read_records(kind, records, errors=errors)
    job = _Import(session, workspace, rows, now=now, default_team=default_team, progress=None)
    job.errors = errors
    result = await getattr(job, f"{kind}_kind")()
    job.check()
    await session.flush()
    return result


def _chunks(values: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


class _Import:
    """One import run: the rows, lookups shared by the kinds, and the error list."""

    def __init__(self, session: AsyncSession, workspace: Workspace, rows: list[Row], *, now: datetime, default_team: str | None, progress: Progress | None) -> None:
        self.session = session
        self.ws = workspace
        self.rows = rows
        self.now = now
        self.default_team = default_team.strip() if default_team else None
        self.progress = progress
        self.errors: list[RowError] = []
        self.inserted: set[str] = set()  # external ids of the customers this run created

    # -- helpers ---------------------------------------------------------------------

    def error(self, row: Row, column: str, key: str, **params: Any) -> None:
        self.errors.append(RowError(row.line, column, key, params))

    def check(self) -> None:
        """Stop before writing anything when a row is wrong."""
        if self.errors:
            raise ImportFailed(self.errors)

    def tick(self) -> None:
        if self.progress:
            self.progress(1)

    def has(self, row: Row, column: str) -> bool:
        """True when the file has this column (a missing column leaves the field alone)."""
        return column in row.values

    def team_name(self, row: Row) -> str | None:
        if self.has(row, "team") and row["team"]:
            return row["team"].strip()
        return self.default_team

    async def _select_in(self, query, column, values: Iterable[Any]) -> list[Any]:
        out = []
        for chunk in _chunks(set(values)):
            out += list((await self.session.execute(query.where(column.in_(chunk)))).scalars())
        return out

    async def by_key(self, model, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        """Rows of `model` by external id; a stand-in name (`deal-17`) finds a row that has none."""
        keys = {k for k in keys if k}
        base = select(model).where(model.workspace_id == self.ws.id)
        found = {r.external_id: r for r in await self._select_in(base, model.external_id, keys)}
        pattern = re.compile(re.escape(ROW_PREFIX[kind]) + r"-(\d+)")
        by_pk = {int(m.group(1)): k for k in keys - found.keys() if (m := pattern.fullmatch(k))}
        if by_pk:
            for r in await self._select_in(base.where(model.external_id.is_(None)), model.id, by_pk):
                found[by_pk[r.id]] = r
        return found

    async def members(self, user_ids: Iterable[str]) -> dict[str, Member]:
        """Members of the workspace by Slack user id."""
        base = select(Member).where(Member.workspace_id == self.ws.id)
        return {m.slack_user_id: m for m in await self._select_in(base, Member.slack_user_id, user_ids)}

    async def teams(self, names: Iterable[str | None]) -> dict[str, SalesTeam]:
        """The named teams, created when new (called only once the file is known to be good)."""
        wanted = {n for n in names if n}
        base = select(SalesTeam).where(SalesTeam.workspace_id == self.ws.id)
        teams = {t.name: t for t in await self._select_in(base, SalesTeam.name, wanted)}
        new = sorted(wanted - teams.keys())
        if new:
            # Another import or a `/salesbot team add` may be creating the same team right now.
            await upsert(self.session, SalesTeam, [{"workspace_id": self.ws.id, "name": n, "created_at": self.now} for n in new], keys=["workspace_id", "name"])
            teams.update({t.name: t for t in await self._select_in(base, SalesTeam.name, new)})
        return teams

    def _effective(self, row: Row, old: Any, column: str, stored: Callable[[Any], Any]) -> Any:
        """The value a field will have after the import: the file's, or the stored one when the column is missing."""
        if self.has(row, column):
            return row[column]
        return stored(old) if old is not None else None

    def _apply(self, obj: Any, values: dict[str, Any]) -> bool:
        changed = False
        for name, value in values.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        return changed

    def _save(self, result: ImportResult, obj: Any, values: dict[str, Any], *, new: Callable[[], Any], touch: bool = False) -> Any:
        """Update a matched row where the file differs, or add a new one."""
        if obj is None:
            obj = new()
            self._apply(obj, values)
            self.session.add(obj)
            result.created += 1
        elif self._apply(obj, values):
            if touch:
                obj.updated_at = self.now
            result.updated += 1
        else:
            result.unchanged += 1
        self.tick()
        return obj

    @staticmethod
    def _picked(row: Row, mapping: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
        """Field values for the columns the file has, converted for the model."""
        return {field: convert(row[column]) for column, (field, convert) in mapping.items() if column in row.values}

    # -- members ---------------------------------------------------------------------

    async def members_kind(self) -> ImportResult:
        result = ImportResult("members")
        existing = await self.members(r["slack_user_id"] for r in self.rows)
        self.check()
        teams = await self.teams(self.team_name(r) for r in self.rows)
        for row in self.rows:
            values = self._picked(row, {
                "name": ("name", lambda v: v or ""),
                "role": ("role", lambda v: Role(v) if v else None),
                "region": ("region", lambda v: v),
                "segment": ("segment", lambda v: Segment(v) if v else None),
                "level": ("level", lambda v: Level(v or "junior")),
                "tz": ("tz", lambda v: v or "UTC"),
                "locale": ("locale", lambda v: v or "en-US"),
            })
            if self.has(row, "team") or self.default_team:
                name = self.team_name(row)
                values["team_id"] = teams[name].id if name else None
            user_id = row["slack_user_id"]
            self._save(result, existing.get(user_id), values, new=lambda: Member(workspace_id=self.ws.id, slack_user_id=user_id, created_at=self.now))
        return result

    # -- customers -------------------------------------------------------------------

    async def customers_kind(self) -> ImportResult:
        result = ImportResult("customers")
        matched = await self.by_key(Customer, "customers", (r["external_id"] for r in self.rows))
        names = {r["name"] for r in self.rows if r["name"]}
        base = select(Customer).where(Customer.workspace_id == self.ws.id)
        by_name = {c.name: c for c in await self._select_in(base, Customer.name, names)}
        first_line: dict[str, int] = {}
        for row in self.rows:
            name, key = row["name"], row["external_id"]
            if name is None or key is None:
                continue
            if name in first_line:
                self.error(row, "name", "csv.error.duplicate", value=shown(name), other=first_line[name])
                continue
            first_line[name] = row.line
            holder, mine = by_name.get(name), matched.get(key)
            if holder is None or holder is mine:
                continue
            if mine is None and holder.external_id in (None, key):
                # Made in Slack before (the file's id is given to it), or created by a concurrent
                # import between our two reads (it already carries this id): the same customer.
                matched[key] = holder
            else:
                self.error(row, "name", "csv.error.name_taken", value=shown(name), other=holder.external_id or f"customer-{holder.id}")
        self.check()
        created = await self._create_customers([r for r in self.rows if r["external_id"] not in matched])
        for row in self.rows:
            values = self._picked(row, {
                "name": ("name", lambda v: v),
                "segment": ("segment", lambda v: Segment(v or "smb")),
                "region": ("region", lambda v: v),
                "contact_channel_id": ("contact_channel_id", lambda v: v.strip() if v else None),
                "contact_user_id": ("contact_user_id", lambda v: v.strip() if v else None),
            })
            values["external_id"] = row["external_id"]
            key = row["external_id"]
            if key in self.inserted:
                self._apply(created[key], values)
                result.created += 1
                self.tick()
            else:
                self._save(result, matched.get(key) or created[key], values, new=lambda: None)
        return result

    async def _create_customers(self, rows: list[Row]) -> dict[str, Customer]:
        """Insert the file's new customers; one another import or a form created meanwhile is taken over, not duplicated."""
        if not rows:
            return {}
        self.inserted = set()
        for chunk in _chunks(rows):  # PostgreSQL takes at most 32,767 parameters per statement
            inserted = await upsert(self.session, Customer, [
                {"workspace_id": self.ws.id, "external_id": r["external_id"], "name": r["name"], "created_at": self.now} for r in chunk
            ], keys=None, returning=[Customer.external_id])
            self.inserted |= set(inserted.scalars())
        base = select(Customer).where(Customer.workspace_id == self.ws.id)
        by_key = {c.external_id: c for c in await self._select_in(base, Customer.external_id, [r["external_id"] for r in rows])}
        for r in rows:
            if r["external_id"] not in by_key:  # the name went to another customer in the meantime
                self.error(r, "name", "csv.error.name_taken", value=shown(r["name"]), other="?")
        self.check()
        return by_key

    # -- deals -----------------------------------------------------------------------

    async def deals_kind(self) -> ImportResult:
        result = ImportResult("deals")
        matched = await self.by_key(Deal, "deals", (r["external_id"] for r in self.rows))
        customers = await self.by_key(Customer, "customers", (r["customer"] for r in self.rows))
        owners = await self.members(r["owner"] for r in self.rows if r["owner"])
        for row in self.rows:
            if row["customer"] and row["customer"] not in customers:
                self.error(row, "customer", "csv.error.unknown_customer", value=shown(row["customer"]))
            if row["owner"] and row["owner"] not in owners:
                self.error(row, "owner", "csv.error.unknown_member", value=row["owner"])
            old = matched.get(row["external_id"])
            status = self._effective(row, old, "status", lambda d: d.status.value) or "open"
            if status == "won" and not self._effective(row, old, "won_at", lambda d: d.won_at):
                self.error(row, "won_at", "csv.error.won_at_missing")
            if status == "lost" and not self._effective(row, old, "lost_at", lambda d: d.lost_at):
                self.error(row, "lost_at", "csv.error.lost_at_missing")
        self.check()
        teams = await self.teams(self.team_name(r) for r in self.rows)
        moved: list[tuple[Deal, Stage | None, DealStatus | None]] = []
        for row in self.rows:
            values = self._picked(row, {
                "title": ("title", lambda v: v or ""),
                "product_line": ("product_line", lambda v: v or ""),
                "amount": ("amount", lambda v: v),
                "stage": ("stage", lambda v: Stage(v or "lead")),
                "status": ("status", lambda v: DealStatus(v or "open")),
                "expected_close": ("expected_close", lambda v: v),
                "won_at": ("won_at", lambda v: v),
                "lost_at": ("lost_at", lambda v: v),
            })
            values["customer_id"] = customers[row["customer"]].id
            values["owner_id"] = owners[row["owner"]].id
            if row["stage_entered_at"]:
                values["stage_entered_at"] = row["stage_entered_at"]
            if self.has(row, "team") or self.default_team:
                name = self.team_name(row)
                values["team_id"] = teams[name].id if name else None
            deal = matched.get(row["external_id"])
            before = (deal.stage, deal.status) if deal is not None else None
            values["external_id"] = row["external_id"]
            deal = self._save(result, deal, values, touch=True, new=lambda: Deal(
                workspace_id=self.ws.id, stage_entered_at=self.now, created_at=self.now, updated_at=self.now,
            ))
            if before != (deal.stage, deal.status):
                moved.append((deal, *(before or (None, None))))
        await self.session.flush()  # one batch of inserts gives the new deals their ids
        result.moved = moved
        # The pipeline reads stage history: a new deal, or a stage or status the file changed, is recorded.
        await record_stage_changes(self.session, workspace_id=self.ws.id, actor_id=None, moves=[
            StageMove(deal.id, deal.team_id, from_stage, deal.stage, deal.status,
                      {DealStatus.WON: deal.won_at, DealStatus.LOST: deal.lost_at}.get(deal.status) or deal.stage_entered_at)
            for deal, from_stage, _status in moved
        ])
        return result

    # -- targets ---------------------------------------------------------------------

    async def targets_kind(self) -> ImportResult:
        result = ImportResult("targets")
        matched = await self.by_key(Target, "targets", (r["external_id"] for r in self.rows))
        base = select(SalesTeam).where(SalesTeam.workspace_id == self.ws.id)
        known_teams = {t.name: t for t in await self._select_in(base, SalesTeam.name, {self.team_name(r) for r in self.rows} - {None})}
        periods = {r["period"][0] for r in self.rows if r["period"]}
        base = select(Target).where(Target.workspace_id == self.ws.id, Target.team_id.in_([t.id for t in known_teams.values()] or [0]))
        natural = {(t.team_id, t.period, t.dimension, t.key): t for t in await self._select_in(base, Target.period, periods)}
        first_line: dict[tuple, int] = {}
        for row in self.rows:
            team = self.team_name(row)
            if not team:
                self.error(row, "team", "csv.error.team_required")
            dimension = row["dimension"] or "total"
            key = (row["key"] or "").strip()
            if dimension == "total" and key:
                self.error(row, "key", "csv.error.key_total")
            elif dimension != "total" and not key:
                self.error(row, "key", "csv.error.key_required", dimension=dimension)
            elif dimension == "segment" and key not in ("key", "smb"):
                self.error(row, "key", "csv.error.choice", value=shown(key), choices="key|smb")
            elif dimension == "rep":
                try:
                    parse_user(key)
                except CellError as exc:
                    self.error(row, "key", exc.key, **exc.params)
            if not team or not row["period"] or not row["external_id"]:
                continue
            ident = (team, row["period"][0], dimension, key)
            if ident in first_line:
                self.error(row, "period", "csv.error.target_twice", other=first_line[ident])
                continue
            first_line[ident] = row.line
            holder = natural.get((known_teams[team].id, *ident[1:])) if team in known_teams else None
            mine = matched.get(row["external_id"])
            if holder is None or holder is mine:
                continue
            if mine is None and holder.external_id in (None, row["external_id"]):  # as for customers: a concurrent import may have made it
                matched[row["external_id"]] = holder
            else:
                self.error(row, "period", "csv.error.target_taken", other=holder.external_id or f"target-{holder.id}")
        self.check()
        teams = await self.teams(self.team_name(r) for r in self.rows)
        for row in self.rows:
            period, start, end = row["period"]
            values = {
                "external_id": row["external_id"], "team_id": teams[self.team_name(row)].id, "period": period,
                "period_start": start, "period_end": end, "dimension": row["dimension"] or "total",
                "key": (row["key"] or "").strip(), "amount": row["amount"],
            }
            self._save(result, matched.get(row["external_id"]), values, touch=True, new=lambda: Target(
                workspace_id=self.ws.id, created_at=self.now, updated_at=self.now,
            ))
        return result

    # -- tasks -----------------------------------------------------------------------

    async def tasks_kind(self) -> ImportResult:
        result = ImportResult("tasks")
        matched = await self.by_key(Task, "tasks", (r["external_id"] for r in self.rows))
        customers = await self.by_key(Customer, "customers", (r["customer"] for r in self.rows if r["customer"]))
        deals = await self.by_key(Deal, "deals", (r["deal"] for r in self.rows if r["deal"]))
        people = await self.members(u for r in self.rows for u in (r["assignees"] or ()))
        for row in self.rows:
            unknown = [u for u in row["assignees"] or () if u not in people]
            if unknown:
                self.error(row, "assignees", "csv.error.unknown_member", value=unknown[0])
            if row["customer"] and row["customer"] not in customers:
                self.error(row, "customer", "csv.error.unknown_customer", value=shown(row["customer"]))
            if row["deal"] and row["deal"] not in deals:
                self.error(row, "deal", "csv.error.unknown_deal", value=shown(row["deal"]))
        self.check()
        teams = await self.teams(self.team_name(r) for r in self.rows)
        current = await self._assignees([t.id for t in matched.values()])
        staffing: list[tuple[Task, set[int], bool]] = []
        for row in self.rows:
            values = self._picked(row, {
                "title": ("title", lambda v: v),
                "customer": ("customer_id", lambda v: customers[v].id if v else None),
                "deal": ("deal_id", lambda v: deals[v].id if v else None),
                "stage": ("stage", lambda v: Stage(v) if v else None),
                "priority": ("priority", lambda v: PRIORITY_WORDS[v or "medium"]),
                "difficulty": ("difficulty", lambda v: v or 1),
                "due_date": ("due_date", lambda v: v),
                "status": ("status", lambda v: TaskStatus(v or "open")),
                "completed_at": ("completed_at", lambda v: v),
                "details": ("details", lambda v: v or ""),
            })
            values["external_id"] = row["external_id"]
            if self.has(row, "team") or self.default_team:
                name = self.team_name(row)
                values["team_id"] = teams[name].id if name else None
            task = matched.get(row["external_id"])
            counts = (result.created, result.updated)
            task = self._save(result, task, values, touch=True, new=lambda: Task(workspace_id=self.ws.id, created_at=self.now, updated_at=self.now))
            if self.has(row, "assignees"):
                staffing.append((task, {people[u].id for u in row["assignees"] or ()}, counts == (result.created, result.updated)))
        await self.session.flush()  # one batch of inserts gives the new tasks their ids
        gone: list[tuple[int, int]] = []
        for task, wanted, unchanged in staffing:
            have = current.get(task.id, set())
            if wanted == have:
                continue
            self.session.add_all(TaskAssignee(task_id=task.id, member_id=m) for m in sorted(wanted - have))
            gone += [(task.id, m) for m in have - wanted]
            if unchanged:  # only the assignees differ
                result.unchanged -= 1
                result.updated += 1
                task.updated_at = self.now
        for chunk in _chunks(gone):
            await self.session.execute(delete(TaskAssignee).where(tuple_(TaskAssignee.task_id, TaskAssignee.member_id).in_(chunk)))
        return result

    async def _assignees(self, task_ids: Sequence[int]) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for chunk in _chunks(task_ids):
            rows = await self.session.execute(select(TaskAssignee.task_id, TaskAssignee.member_id).where(TaskAssignee.task_id.in_(chunk)))
            for task_id, member_id in rows:
                out.setdefault(task_id, set()).add(member_id)
        return out
