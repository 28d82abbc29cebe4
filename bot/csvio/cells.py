"""Cell values in the data standard: readable text in, typed values out, and back again.

Every parser raises CellError (a catalog id and its parameters) for a value it cannot read;
every formatter writes exactly what the parser reads back, so an export re-imports unchanged.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import periods
from bot.parsing import AMOUNT_MAX, AMOUNT_MAX_TEXT

# A text cell starting with one of these is a formula (or turns into one) in a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
MINOR_PER_MAJOR = 100  # amounts are held in minor units: cents, fen

_MONEY = re.compile(r"-?\d{1,16}(?:\.\d{1,2})?")
_USER = re.compile(r"[UW][A-Z0-9]{2,31}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CellError(ValueError):
    """A value that does not fit its column: `key` is the catalog id, `params` fill it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def shown(value: str, limit: int = 40) -> str:
    """A cell value cut short enough to quote in an error report."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


# -- text -----------------------------------------------------------------------------

def safe_text(value: str | None) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets a `'` before it.

    A value that already looks like a quoted one (`'=x`, `''x`) gets one too, so the importer
    can always tell the added quote from a typed one.
    """
    if not value:
        return ""
    return QUOTE + value if value.startswith(FORMULA_START) or read_text(value) != value else value


def read_text(cell: str) -> str:
    """The text a cell holds: the quote `safe_text` added is taken off again."""
    if cell.startswith(QUOTE) and cell[1:].startswith(FORMULA_START + (QUOTE,)):
        return cell[1:]
    return cell


# -- money ----------------------------------------------------------------------------

def parse_money(cell: str) -> int:
    """Decimal text in major units (`1234.50`, `-80`) to integer minor units, never via float; at most AMOUNT_MAX either way."""
    text = cell.strip()
    if text.startswith(QUOTE):  # a spreadsheet may keep a quote typed before a negative number
        text = text[1:]
    if not _MONEY.fullmatch(text):
        raise CellError("csv.error.amount", value=shown(cell))
    try:
        amount = int(Decimal(text) * MINOR_PER_MAJOR)
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
        raise CellError("csv.error.amount", value=shown(cell)) from None
    if abs(amount) > AMOUNT_MAX:  # the cap the slash commands and forms apply too, so sums never overflow
        raise CellError("csv.error.amount_too_large", value=shown(cell), max=AMOUNT_MAX_TEXT)
    return amount


def format_money(minor: int) -> str:
    """Integer minor units as decimal text with two places; negative amounts keep a plain `-`."""
    sign = "-" if minor < 0 else ""
    major, cents = divmod(abs(minor), MINOR_PER_MAJOR)
    return f"{sign}{major}.{cents:02d}"


# -- dates and times --------------------------------------------------------------------

def parse_date(cell: str) -> date:
    """An ISO date `YYYY-MM-DD`."""
    text = cell.strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise CellError("csv.error.date", value=shown(cell)) from None


def format_date(d: date | None) -> str:
    """An ISO date, or an empty cell."""
    return d.isoformat() if d else ""


def parse_datetime(cell: str) -> datetime:
    """An ISO 8601 time with an offset (`2027-03-01T09:30:00+08:00` or `…Z`), returned in UTC."""
    text = cell.strip()
    try:
        if "T" not in text and " " not in text:
            raise ValueError
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CellError("csv.error.datetime", value=shown(cell)) from None
    if value.tzinfo is None:
        raise CellError("csv.error.datetime", value=shown(cell))
    return value.astimezone(timezone.utc)


def format_datetime(dt: datetime | None) -> str:
    """A stored (UTC) time in ISO 8601 with its offset, or an empty cell."""
    return dt.astimezone(timezone.utc).isoformat() if dt else ""


# -- identifiers ------------------------------------------------------------------------

def parse_user(cell: str) -> str:
    """A Slack user id such as `U024BE7LH`."""
    text = cell.strip()
    if not _USER.fullmatch(text):
        raise CellError("csv.error.user", value=shown(cell))
    return text


def parse_users(cell: str) -> list[str]:
    """Slack user ids separated by spaces, in the order given, without repeats."""
    return list(dict.fromkeys(parse_user(word) for word in cell.split()))


def parse_tz(cell: str) -> str:
    """An IANA time zone name."""
    text = cell.strip()
    try:
        if not text or text != text.strip("/") or ".." in text:
            raise ValueError
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError("csv.error.tz", value=shown(cell)) from None
    return text


# -- periods ----------------------------------------------------------------------------

def parse_period(cell: str) -> tuple[str, date, date]:
    """A target period (`2027`, `2027-Q1`, `2027-03`, `2027-W05`), read as the slash commands read it: its name, first day and end (exclusive)."""
    try:
        period = periods.parse_period(cell.strip().upper())
    except ValueError:
        raise CellError("csv.error.period", value=shown(cell)) from None
    return period.label, period.start, period.end
