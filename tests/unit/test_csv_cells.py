"""bot/csvio cells and columns: money, dates, times, periods, spreadsheet-safe text, the progress bar."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.csvio import cells
from bot.csvio.cells import CellError
from bot.csvio.columns import COLUMNS, KINDS, markdown_tables
from bot.parsing import AMOUNT_MAX
from bot.csvio.progress import ProgressBar


@pytest.mark.parametrize("text, minor", [
    ("1234.50", 123450), ("1234.5", 123450), ("0", 0), ("-80", -8000), ("-0.01", -1), ("'-80.00", -8000),
    ("  12.00 ", 1200), ("50000000.00", 5_000_000_000), ("0.07", 7),
])
def test_money_reads_decimal_text_into_minor_units(text, minor):
    assert cells.parse_money(text) == minor


@pytest.mark.parametrize("text", ["12,3x", "1,234.50", "1.234", "12.", ".5", "1e3", "abc", "--1", "NaN", "¥12", "0.1 0"])
def test_money_rejects_what_is_not_an_amount(text):
    with pytest.raises(CellError) as exc:
        cells.parse_money(text)
    assert exc.value.key == "csv.error.amount"


@given(st.integers(min_value=-AMOUNT_MAX, max_value=AMOUNT_MAX))
def test_money_round_trips_every_amount(minor):
    text = cells.format_money(minor)
    assert cells.parse_money(text) == minor
    assert not text.startswith("'")  # a number is not a text cell: no spreadsheet quote


def test_negative_amount_is_written_as_a_plain_number():
    assert cells.format_money(-123450) == "-1234.50"
    assert cells.format_money(5) == "0.05"


@given(st.text())
def test_safe_text_reads_back_exactly(value):
    assert cells.read_text(cells.safe_text(value)) == value


@pytest.mark.parametrize("value", ["=1+2", "+86 21", "-x", "@SUM(A1)", "\tx", "\rx", "'=already", "''x"])
def test_formula_starts_get_a_quote(value):
    assert cells.safe_text(value) == "'" + value


@pytest.mark.parametrize("value", ["Acme", "王小明", "'quoted by hand", "'", "1=1", ""])
def test_other_text_is_left_alone(value):
    assert cells.safe_text(value) == value
    assert cells.read_text(value) == value


def test_dates_and_times():
    assert cells.parse_date("2027-03-01") == date(2027, 3, 1)
    for bad in ["2027-3-1", "01/03/2027", "2027-02-30", "tomorrow"]:
        with pytest.raises(CellError):
            cells.parse_date(bad)
    t = cells.parse_datetime("2027-03-01T09:30:00+08:00")
    assert t == datetime(2027, 3, 1, 1, 30, tzinfo=timezone.utc)
    assert cells.format_datetime(t) == "2027-03-01T01:30:00+00:00"
    assert cells.parse_datetime("2027-03-01T01:30:00Z") == t
    for bad in ["2027-03-01T09:30:00", "2027-03-01", "yesterday"]:  # a time without an offset is ambiguous
        with pytest.raises(CellError) as exc:
            cells.parse_datetime(bad)
        assert exc.value.key == "csv.error.datetime"


@pytest.mark.parametrize("text, start, end", [
    ("2027", date(2027, 1, 1), date(2028, 1, 1)),
    ("2027-Q1", date(2027, 1, 1), date(2027, 4, 1)),
    ("2027-q4", date(2027, 10, 1), date(2028, 1, 1)),
    ("2027-03", date(2027, 3, 1), date(2027, 4, 1)),
    ("2027-12", date(2027, 12, 1), date(2028, 1, 1)),
    ("2027-W05", date(2027, 2, 1), date(2027, 2, 8)),
])
def test_periods(text, start, end):
    name, s, e = cells.parse_period(text)
    assert (name, s, e) == (text.upper(), start, end)


@pytest.mark.parametrize("text", ["2027-Q5", "2027-13", "2027-W54", "27", "2027-H1"])
def test_bad_periods(text):
    with pytest.raises(CellError):
        cells.parse_period(text)


def test_users_and_time_zones():
    assert cells.parse_users("U1AAA  W2BBB U1AAA") == ["U1AAA", "W2BBB"]
    assert cells.parse_tz("Asia/Shanghai") == "Asia/Shanghai"
    for bad in ["u1aaa", "<@U1AAA>", "bob"]:
        with pytest.raises(CellError):
            cells.parse_user(bad)
    for bad in ["Mars/Base", "../etc", "/UTC"]:
        with pytest.raises(CellError):
            cells.parse_tz(bad)


def test_every_kind_has_a_documented_key_column():
    for kind in KINDS:
        columns = COLUMNS[kind]
        assert columns[0].required and columns[0].meaning and "matched" in columns[0].meaning
        assert len({c.name for c in columns}) == len(columns)
        assert all(c.meaning for c in columns)
    tables = markdown_tables()
    assert tables.count("| column | type | required | example | meaning |") == len(KINDS)
    assert "lead\\|first_contact\\|needs_analysis" in tables


def test_progress_bar_draws_only_when_enabled():
    out = io.StringIO()
    bar = ProgressBar("importing deals", 4, stream=out, enabled=True)
    for _ in range(4):
        bar()
    bar.close()
    assert out.getvalue().endswith("importing deals [" + "#" * 30 + "] 100%  4/4\n")
    quiet = io.StringIO()
    off = ProgressBar("importing deals", 4, stream=quiet, enabled=False)
    off(4)
    off.close()
    assert quiet.getvalue() == ""
    assert ProgressBar("x", 10, stream=quiet, enabled=False).render().startswith("x [......")


def test_docs_document_the_data_standard():
    from bot import PROJECT_ROOT

    doc = (PROJECT_ROOT / "docs" / "data-standard.md").read_text(encoding="utf-8")
    assert "## Columns" in doc
    assert markdown_tables().strip() in doc, "docs/data-standard.md's tables are out of date: paste markdown_tables()"
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/data-standard.md)" in readme, "the README links to the data standard"
