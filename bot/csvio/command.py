"""`salesbot import` and `salesbot export`: the CSV commands on one workspace of the database."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.db import open_database
from bot.csvio.exporter import export_rows, to_csv
from bot.csvio.importer import import_csv
from bot.csvio.progress import ProgressBar
from bot.csvio.reader import ImportFailed, RowError, count_lines
from bot.i18n import I18n, Localizer
from bot.models import Workspace, utcnow
from bot.services.actors import get_workspace
from bot.settings import ConfigError, Settings

MAX_REPORTED = 100  # a file wrong on every line still gets a readable report


def format_errors(errors: list[RowError], loc: Localizer, limit: int = MAX_REPORTED) -> list[str]:
    """One line per error: `line 7, column amount: "12,3x" is not an amount …`."""
    lines = []
    for e in errors[:limit]:
        message = loc.t(e.key, **e.params)
        if e.column:
            lines.append(loc.t("csv.report.cell", line=e.line, column=e.column, message=message))
        else:
            lines.append(loc.t("csv.report.line", line=e.line, message=message))
    if len(errors) > limit:
        lines.append(loc.tn("csv.report.more", len(errors) - limit))
    return lines


async def choose_workspace(session, *, slack_team_id: str | None, create: bool) -> Workspace:
    """The workspace the command works on: the one named, or the only one the database holds."""
    if slack_team_id:
        ws = (await session.execute(select(Workspace).where(Workspace.slack_team_id == slack_team_id))).scalar_one_or_none()
        if ws is not None:
            return ws
        if create:
            return await get_workspace(session, slack_team_id=slack_team_id)
        raise ConfigError(f"the database holds no workspace {slack_team_id}.")
    found = list((await session.execute(select(Workspace).order_by(Workspace.id).limit(2))).scalars())
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConfigError("the database holds no workspace yet: name it with --workspace T123 (the Slack team id).")
    raise ConfigError("the database holds several workspaces: choose one with --workspace T123.")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}.") from None


async def run_import(settings: Settings, *, kind: str, path: str, workspace: str | None, team: str | None) -> int:
    """Import FILE; 0 when written, 1 with a report naming each bad line and column (nothing written)."""
    data = _read(path)
    loc = I18n().get("en-US")
    db = await open_database(settings)
    bar = ProgressBar(f"importing {kind}", 2 * count_lines(data))
    try:
        async with db.sessionmaker() as session:
            try:
                ws = await choose_workspace(session, slack_team_id=workspace, create=True)
                result = await import_csv(session, workspace=ws, kind=kind, data=data, now=utcnow(), default_team=team, progress=bar)
                await session.commit()
            except ImportFailed as exc:
                await session.rollback()
                bar.close()
                print(loc.t("csv.report.failed", path=path), file=sys.stderr)
                for line in format_errors(exc.errors, loc):
                    print(line, file=sys.stderr)
                return 1
            except (IntegrityError, DBAPIError) as exc:
                await session.rollback()
                bar.close()
                reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                print(loc.t("csv.report.failed", path=path), file=sys.stderr)
                print(loc.t("csv.error.database", reason=reason), file=sys.stderr)
                return 1
            except BaseException:
                await session.rollback()
                raise
    finally:
        bar.close()
        await db.dispose()
    print(f"{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged ({path})")
    return 0


async def run_export(settings: Settings, *, kind: str, out: str | None, workspace: str | None) -> int:
    """Write a kind as CSV to --out, or to stdout."""
    db = await open_database(settings)
    try:
        async with db.sessionmaker() as session:
            ws = await choose_workspace(session, slack_team_id=workspace, create=False)
            rows = await export_rows(session, workspace=ws, kind=kind)
    finally:
        await db.dispose()
    # The bar shares the terminal with the CSV when it goes to stdout: only draw it for --out.
    bar = ProgressBar(f"exporting {kind}", len(rows), enabled=bool(out) and sys.stdout.isatty())
    try:
        data = to_csv(kind, rows, progress=bar)
    finally:
        bar.close()
    if out:
        try:
            Path(out).write_bytes(data)
        except OSError as exc:
            raise ConfigError(f"cannot write {out}: {exc.strerror or exc}.") from None
        print(f"{kind}: {len(rows)} rows written to {out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
