"""Sales periods: a year `2027`, a quarter `2027-Q1`, a month `2027-03` or an ISO week `2027-W05`.

A period is a half-open range of local dates [start, end). Targets, attainment and growth use
the same arithmetic: sub-periods for time splits, the share of a period elapsed on a date, and
the previous period of equal kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

YEAR, QUARTER, MONTH, WEEK = "year", "quarter", "month", "week"
KINDS = (YEAR, QUARTER, MONTH, WEEK)
# Finer kinds a period can be split into by time.
FINER = {YEAR: (QUARTER, MONTH, WEEK), QUARTER: (MONTH, WEEK), MONTH: (WEEK,), WEEK: ()}

MIN_YEAR, MAX_YEAR = 1970, 2999  # a Period may lie anywhere in these years; a typed one must have its neighbours inside too

_PATTERNS = [
    (YEAR, re.compile(r"(\d{4})")),
    (QUARTER, re.compile(r"(\d{4})-?[Qq]([1-4])")),
    (MONTH, re.compile(r"(\d{4})-(\d{1,2})")),
    (WEEK, re.compile(r"(\d{4})-?[Ww](\d{1,2})")),
]


class PeriodError(ValueError):
    """The text is not a period we know."""


def iso_weeks_in(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar()[1]


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period; `index` is the quarter, month or ISO week number (1 for a year)."""

    year: int
    kind: str
    index: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PeriodError(self.kind)
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(f"year {self.year}")
        top = {YEAR: 1, QUARTER: 4, MONTH: 12, WEEK: iso_weeks_in(self.year)}[self.kind]
        if not 1 <= self.index <= top:
            raise PeriodError(f"{self.kind} {self.index}")

    # -- naming ----------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The canonical text: 2027, 2027-Q1, 2027-03, 2027-W05."""
        if self.kind == YEAR:
            return f"{self.year:04d}"
        if self.kind == QUARTER:
            return f"{self.year:04d}-Q{self.index}"
        if self.kind == MONTH:
            return f"{self.year:04d}-{self.index:02d}"
        return f"{self.year:04d}-W{self.index:02d}"

    @property
    def short(self) -> str:
        """The label without its year where that is unambiguous inside a year: Q1, 03, W05."""
        return self.label if self.kind == YEAR else self.label[5:]

    def __str__(self) -> str:
        return self.label

    # -- dates -----------------------------------------------------------------------
    @property
    def start(self) -> date:
        """The first day."""
        if self.kind == YEAR:
            return date(self.year, 1, 1)
        if self.kind == QUARTER:
            return date(self.year, 3 * self.index - 2, 1)
        if self.kind == MONTH:
            return date(self.year, self.index, 1)
        return date.fromisocalendar(self.year, self.index, 1)

    @property
    def end(self) -> date:
        """The day after the last day (exclusive end)."""
        if self.kind == WEEK:
            return self.start + timedelta(days=7)
        # Plain date arithmetic: the next Period may lie past MAX_YEAR, the date never does.
        months = {YEAR: 12, QUARTER: 3, MONTH: 1}[self.kind]
        k = self.start.year * 12 + self.start.month - 1 + months
        return date(k // 12, k % 12 + 1, 1)

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days

    def contains(self, d: date) -> bool:
        """True when the date lies inside the period."""
        return self.start <= d < self.end

    def utc_range(self, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
        """The period's bounds as UTC instants, for local midnights in the given time zone."""
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        return (
            datetime.combine(self.start, time(0), zone).astimezone(timezone.utc),
            datetime.combine(self.end, time(0), zone).astimezone(timezone.utc),
        )

    # -- arithmetic ------------------------------------------------------------------
    def next(self) -> Period:
        """The following period of the same kind."""
        return self.shift(1)

    def previous(self) -> Period:
        """The previous period of equal kind (2027-Q1 → 2026-Q4; 2027-W01 → 2026-W53 when it exists)."""
        return self.shift(-1)

    def shift(self, n: int) -> Period:
        """The period `n` steps away, of the same kind."""
        if self.kind == YEAR:
            return Period(self.year + n, YEAR)
        if self.kind in (QUARTER, MONTH):
            per_year = 4 if self.kind == QUARTER else 12
            k = self.year * per_year + (self.index - 1) + n
            return Period(k // per_year, self.kind, k % per_year + 1)
        monday = self.start + timedelta(weeks=n)
        iso = monday.isocalendar()
        return Period(iso[0], WEEK, iso[1])

    def sub_periods(self, kind: str) -> list[Period]:
        """The periods of a finer kind that overlap this one, in order (weeks may stick out at the ends)."""
        if kind not in FINER[self.kind]:
            raise PeriodError(f"cannot split a {self.kind} by {kind}")
        first = period_containing(kind, self.start)
        out = []
        p = first
        while p.start < self.end:
            out.append(p)
            p = p.next()
        return out

    def overlap_days(self, other: Period) -> int:
        """Days the two periods share."""
        return max(0, (min(self.end, other.end) - max(self.start, other.start)).days)

    def elapsed_share(self, today: date) -> Fraction:
        """The share of the period already behind us on the local date `today` (0 before it, 1 after it).

        A day counts once it has begun, so on the last day of a 10-day period the share is 1.
        """
        if today < self.start:
            return Fraction(0)
        if today >= self.end:
            return Fraction(1)
        return Fraction((today - self.start).days + 1, self.days)


def period_containing(kind: str, d: date) -> Period:
    """The period of a kind that contains a date."""
    if kind == YEAR:
        return Period(d.year, YEAR)
    if kind == QUARTER:
        return Period(d.year, QUARTER, (d.month - 1) // 3 + 1)
    if kind == MONTH:
        return Period(d.year, MONTH, d.month)
    if kind == WEEK:
        iso = d.isocalendar()
        return Period(iso[0], WEEK, iso[1])
    raise PeriodError(kind)


def parse_period(text: str) -> Period:
    """Read `2027`, `2027-Q1` (or `2027Q1`), `2027-03` (or `2027-3`), `2027-W05` (or `2027W5`).

    A period whose previous or next one falls outside MIN_YEAR..MAX_YEAR (`1970`, `1970-01`,
    `2999-Q4`, `2999-12`) is refused like any text that is not a period: growth compares with the
    previous period and reports look at the next, so every command on it would otherwise fail.
    """
    s = (text or "").strip()
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            year = int(m.group(1))
            index = int(m.group(2)) if kind != YEAR else 1
            period = Period(year, kind, index)
            period.previous(), period.next()  # raise PeriodError at the edge of the range
            return period
    raise PeriodError(s)


def time_split_weights(parent: Period, kind: str) -> list[tuple[Period, int]]:
    """Sub-periods of `parent` with the weight of an even split.

    Quarters and months weigh the same each. Weeks weigh their days inside the parent, so a
    week that straddles two months counts 3 days in one and 4 in the other.
    """
    subs = parent.sub_periods(kind)
    if kind == WEEK:
        return [(p, parent.overlap_days(p)) for p in subs]
    return [(p, 1) for p in subs]
