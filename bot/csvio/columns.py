"""The data standard: the columns of each kind of CSV file, defined once.

The importer reads, the exporter writes and docs/data-standard.md documents exactly these columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.csvio import cells
from bot.models import DealStatus, Level, Priority, Role, Segment, Stage, TaskStatus

KINDS = ("members", "customers", "deals", "targets", "tasks")

PRIORITY_WORDS = {"high": Priority.HIGH, "medium": Priority.MEDIUM, "low": Priority.LOW}
PRIORITY_NAMES = {v: k for k, v in PRIORITY_WORDS.items()}
DIMENSIONS = ("total", "product", "region", "segment", "rep")


@dataclass(frozen=True)
class Column:
    """One column: its header, type, whether it must be filled, an example and what it means."""

    name: str
    type: str  # text, id, user, users, team, ref, choice, money, date, datetime, int, tz, period
    meaning: str
    example: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    max_len: int = 0
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, cell: str) -> Any:
        """The typed value of a cell (None when empty); raises CellError."""
        text = cells.read_text(cell) if self.type in _TEXT_TYPES else cell.strip()
        if not text.strip():
            if self.required:
                raise cells.CellError("csv.error.required")
            return None
        return _PARSERS[self.type](self, text)

    @property
    def type_label(self) -> str:
        """How docs/data-standard.md names the type."""
        if self.type == "choice":
            return "|".join(self.choices)
        if self.type == "int":
            return f"integer {self.minimum}–{self.maximum}"
        if self.max_len:
            return f"{self.type} (≤ {self.max_len})"
        return self.type


_TEXT_TYPES = {"text", "id", "team", "ref"}


def _text(col: Column, text: str) -> str:
    if col.max_len and len(text) > col.max_len:
        raise cells.CellError("csv.error.too_long", value=cells.shown(text), max=col.max_len)
    return text


def _choice(col: Column, text: str) -> str:
    word = text.strip().lower()
    if word not in col.choices:
        raise cells.CellError("csv.error.choice", value=cells.shown(text), choices="|".join(col.choices))
    return word


def _integer(col: Column, text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or (col.minimum is not None and n < col.minimum) or (col.maximum is not None and n > col.maximum):
        raise cells.CellError("csv.error.integer", value=cells.shown(text), min=col.minimum, max=col.maximum)
    return n


def _money(col: Column, text: str) -> int:
    value = cells.parse_money(text)
    if col.minimum is not None and value < col.minimum:
        raise cells.CellError("csv.error.negative", value=cells.shown(text))
    return value


_PARSERS: dict[str, Callable[[Column, str], Any]] = {
    "text": _text,
    "id": _text,
    "team": _text,
    "ref": _text,
    "choice": _choice,
    "int": _integer,
    "money": _money,
    "user": lambda c, t: cells.parse_user(t),
    "users": lambda c, t: cells.parse_users(t),
    "date": lambda c, t: cells.parse_date(t),
    "datetime": lambda c, t: cells.parse_datetime(t),
    "tz": lambda c, t: cells.parse_tz(t),
    "period": lambda c, t: cells.parse_period(t),
}


def _values(enum_cls) -> tuple[str, ...]:
    return tuple(m.value for m in enum_cls)


_TEAM = Column("team", "team", "sales team name, created when new; empty: the `--team` of the import, else none", "East", max_len=80)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "members": (
        Column("slack_user_id", "user", "Slack user id; rows are matched by it", "U024BE7LH", required=True),
        Column("name", "text", "display name (Slack's profile name replaces it once a day)", "王小明", max_len=200),
        _TEAM,
        Column("role", "choice", "job on the team; empty: not on the roster", "rep", choices=_values(Role)),
        Column("region", "text", "sales region", "East China", max_len=80),
        Column("segment", "choice", "customer segment the rep works: key accounts or SMB", "key", choices=_values(Segment)),
        Column("level", "choice", "seniority, matched against task difficulty; empty: junior", "senior", choices=_values(Level)),
        Column("tz", "tz", "IANA time zone; empty: UTC", "Asia/Shanghai"),
        Column("locale", "text", "Slack locale, chooses English or Chinese; empty: en-US", "zh-CN", max_len=16),
    ),
    "customers": (
        Column("external_id", "id", "the customer's id in your own records; rows are matched by it", "C-1001", required=True, max_len=100),
        Column("name", "text", "customer name, unique in the workspace", "上海示例科技有限公司", required=True, max_len=200),
        Column("segment", "choice", "key account or small/medium business; empty: smb", "key", choices=_values(Segment)),
        Column("region", "text", "sales region", "East China", max_len=80),
        Column("contact_channel_id", "text", "Slack Connect channel for satisfaction surveys", "C0123ABCD", max_len=32),
        Column("contact_user_id", "text", "external Slack user id for satisfaction surveys", "U0456EFGH", max_len=32),
    ),
    "deals": (
        Column("external_id", "id", "the deal's id in your own records; rows are matched by it", "D-2027-001", required=True, max_len=100),
        Column("title", "text", "what is being sold", "200 licences", max_len=200),
        Column("customer", "ref", "the customer's external_id", "C-1001", required=True, max_len=100),
        Column("owner", "user", "Slack user id of the rep who owns the deal", "U024BE7LH", required=True),
        _TEAM,
        Column("product_line", "text", "product line", "A", max_len=80),
        Column("amount", "money", "deal value in major units, two decimals at most, at most 1,000,000,000,000 either way; negative for a credit", "1234.50", required=True),
        Column("stage", "choice", "pipeline stage; empty: lead", "proposal", choices=_values(Stage)),
        Column("status", "choice", "open, won or lost; empty: open", "won", choices=_values(DealStatus)),
        Column("expected_close", "date", "expected close date", "2027-06-30"),
        Column("stage_entered_at", "datetime", "when the deal entered its stage; empty: kept, or the import time for a new deal", "2027-03-01T09:30:00+08:00"),
        Column("won_at", "datetime", "when it was won (required when status is won)", "2027-05-20T15:00:00+08:00"),
        Column("lost_at", "datetime", "when it was lost (required when status is lost)", ""),
    ),
    "targets": (
        Column("external_id", "id", "the target line's id; rows are matched by it", "T-2027", required=True, max_len=100),
        _TEAM,
        Column("period", "period", "a year, quarter, month or ISO week", "2027-Q1", required=True),
        Column("dimension", "choice", "total, or the split the line belongs to; empty: total", "product", choices=DIMENSIONS),
        Column("key", "text", "the line's key: product line, region, `key|smb`, or the rep's Slack user id; empty for total", "A", max_len=80),
        Column("amount", "money", "target in major units, two decimals at most, not negative, at most 1,000,000,000,000", "50000000.00", required=True, minimum=0),
    ),
    "tasks": (
        Column("external_id", "id", "the task's id; rows are matched by it", "TASK-17", required=True, max_len=100),
        Column("title", "text", "what to do", "Send the quote", required=True, max_len=200),
        _TEAM,
        Column("assignees", "users", "Slack user ids separated by spaces; several make a shared task", "U024BE7LH U0G9QF9C6"),
        Column("customer", "ref", "the customer's external_id", "C-1001", max_len=100),
        Column("deal", "ref", "the deal's external_id", "D-2027-001", max_len=100),
        Column("stage", "choice", "pipeline stage the task belongs to", "proposal", choices=_values(Stage)),
        Column("priority", "choice", "empty: medium", "high", choices=tuple(PRIORITY_WORDS)),
        Column("difficulty", "int", "1 (easy) to 3 (hard); empty: 1", "2", minimum=1, maximum=3),
        Column("due_date", "date", "due date", "2027-03-31"),
        Column("status", "choice", "empty: open", "in_progress", choices=_values(TaskStatus)),
        Column("completed_at", "datetime", "when it was done", "2027-03-30T18:00:00+08:00"),
        Column("details", "text", "details", "Include the discount agreed on the call", max_len=3000),
    ),
}

# The key column of each kind: the value a row is matched by.
KEY_COLUMN = {"members": "slack_user_id", "customers": "external_id", "deals": "external_id", "targets": "external_id", "tasks": "external_id"}


def header(kind: str) -> list[str]:
    """The column names of a kind, in export order."""
    return [c.name for c in COLUMNS[kind]]


def markdown_tables() -> str:
    """The data standard as Markdown tables, one per kind (docs/data-standard.md's copy is made from this)."""
    out = []
    for kind in KINDS:
        out.append(f"**{kind}**\n\n| column | type | required | example | meaning |\n|---|---|---|---|---|")
        for c in COLUMNS[kind]:
            example = f"`{c.example}`" if c.example else ""
            type_label, meaning = (s.replace("|", "\\|") for s in (c.type_label, c.meaning))
            out.append(f"| `{c.name}` | {type_label} | {'yes' if c.required else ''} | {example} | {meaning} |")
        out.append("")
    return "\n".join(out)


# Rows made in Slack have no external id; the export names them `deal-17` (kind and row id), and
# the importer matches such a name to that row when it still has no external id of its own.
ROW_PREFIX = {"customers": "customer", "deals": "deal", "targets": "target", "tasks": "task"}


def row_key(kind: str, pk: int, external_id: str | None) -> str:
    """The key a row is exported under: its external id, or the stand-in name of a row made in Slack."""
    return external_id if external_id else f"{ROW_PREFIX[kind]}-{pk}"
