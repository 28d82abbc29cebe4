"""CSV in and out: the data standard (columns per kind), the importer, the exporter and their helpers."""

from bot.csvio.columns import COLUMNS, KINDS
from bot.csvio.exporter import ExportFile, export_csv, export_for
from bot.csvio.importer import ImportResult, import_csv
from bot.csvio.reader import ImportFailed, RowError

__all__ = ["COLUMNS", "KINDS", "ExportFile", "ImportFailed", "ImportResult", "RowError", "export_csv", "export_for", "import_csv"]
