"""Read a CSV file of one kind: decode it, check the header, type every cell, collect every error."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.csvio.cells import CellError, shown
from bot.csvio.columns import COLUMNS, KEY_COLUMN


@dataclass(frozen=True)
class RowError:
    """What is wrong, where: a file line, a column (None for the whole line) and a catalog id."""

    line: int
    column: str | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    """One data line with its typed values (None for empty cells of the columns the file has)."""

    line: int
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


class ImportFailed(Exception):
    """The file has errors; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = sorted(errors, key=lambda e: (e.line, e.column or ""))


def decode(data: bytes) -> str:
    """UTF-8 text, with or without the byte order mark Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([RowError(line, None, "csv.error.encoding")]) from None


def read_rows(kind: str, data: bytes, *, progress: Callable[[int], None] | None = None, errors: list[RowError] | None = None) -> list[Row]:
    """Every data line of the file, typed; raises ImportFailed listing every bad cell.

    With `errors`, bad cells are added to that list instead (their values are None), so the
    caller can check the rest of the file against the database and report everything at once;
    a file whose header or encoding is wrong still raises at once.
    """
    collect = errors

    text = decode(data)
    columns = {c.name: c for c in COLUMNS[kind]}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors = []
    names: list[str] | None = None
    rows: list[Row] = []
    seen_keys: dict[Any, int] = {}
    key_column = KEY_COLUMN[kind]
    last_line = 0
    try:
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if names is None:
                names = _check_header(record, columns, line, errors)
                if errors:
                    raise ImportFailed(errors)
                continue
            if len(record) > len(names) and any(c.strip() for c in record[len(names):]):
                errors.append(RowError(line, None, "csv.error.row_length", {"cells": len(record), "columns": len(names)}))
                continue
            cells = zip(names, record + [""] * (len(names) - len(record)))
            rows.append(_typed_row(line, cells, columns, key_column, seen_keys, errors))
            if progress:
                progress(1)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, None, "csv.error.malformed", {"reason": str(exc)}))
    if names is None:
        errors.append(RowError(1, None, "csv.error.empty"))
    if errors and (collect is None or names is None):
        raise ImportFailed(errors)
    if collect is not None:
        collect += errors
    return rows


def _typed_row(line: int, cells, columns: dict, key_column: str, seen_keys: dict[Any, int], errors: list[RowError]) -> Row:
    """One line's cells, typed by their columns; bad cells and a key seen before are added to `errors`."""
    values: dict[str, Any] = {}
    for name, cell in cells:
        try:
            values[name] = columns[name].parse(cell)
        except CellError as exc:
            errors.append(RowError(line, name, exc.key, exc.params))
            values[name] = None
    key = values.get(key_column)
    if key is not None:
        if key in seen_keys:
            errors.append(RowError(line, key_column, "csv.error.duplicate", {"value": shown(str(key)), "other": seen_keys[key]}))
        else:
            seen_keys[key] = line
    return Row(line, values)


def read_records(kind: str, records: list[dict[str, str]], *, errors: list[RowError], first_line: int = 0) -> list[Row]:
    """Rows given as cells by column name (the API's rows), typed exactly as a file's lines; numbered from `first_line`."""
    columns = {c.name: c for c in COLUMNS[kind]}
    seen_keys: dict[Any, int] = {}
    return [
        _typed_row(first_line + i, record.items(), columns, KEY_COLUMN[kind], seen_keys, errors)
        for i, record in enumerate(records)
    ]


def _check_header(record: list[str], columns: dict, line: int, errors: list[RowError]) -> list[str]:
    names = [cell.strip().lower() for cell in record]
    known = ", ".join(columns)
    for i, name in enumerate(names):
        if name not in columns:
            errors.append(RowError(line, shown(record[i].strip()) or f"#{i + 1}", "csv.error.unknown_column", {"columns": known}))
        elif name in names[:i]:
            errors.append(RowError(line, name, "csv.error.duplicate_column"))
    for name, col in columns.items():
        if col.required and name not in names:
            errors.append(RowError(line, name, "csv.error.missing_column"))
    return names


def count_lines(data: bytes) -> int:
    """A quick upper bound of the data lines, for a progress bar's total."""
    return max(0, data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1)
