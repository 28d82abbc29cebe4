"""The `salesbot` command: run, clock, db upgrade, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger("salesbot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="salesbot", description="A Slack bot for a sales team's targets, pipeline, tasks and KPIs.")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (HTTP, or Socket Mode when SLACK_APP_TOKEN is set)")
    run.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")
    sub.add_parser("clock", help="run the scheduler and outbox sender alone")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply migrations up to the newest")
    demo = sub.add_parser("demo", help="play the offline demo on a fresh SQLite file and the local Slack stand-in")
    demo.add_argument("--db", default=None, help="SQLite file to use (default: a new temporary file)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; configuration errors end with one line and exit status 2."""
    args = _parser().parse_args(argv)
    # The demo prints its own story; its logs would only get in the way unless asked for.
    quiet_logs = args.command == "demo" and not args.verbose
    level = logging.DEBUG if args.verbose else logging.WARNING if quiet_logs else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo(db_path=args.db, quiet=args.quiet))
        settings = load_settings()
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "run":
            settings.require_for_run()
            return asyncio.run(_run(settings, scheduler=not args.no_scheduler))
        if args.command == "clock":
            return asyncio.run(_clock(settings))
    except ConfigError as exc:
        print(f"salesbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


async def _db_upgrade(settings: Settings) -> int:
    """Apply migrations (the Procfile's release step)."""
    from bot.db import Database

    db = Database(settings.database_url)
    try:
        await db.upgrade()
    except Exception as exc:  # surface a connection or migration problem as one line
        raise ConfigError(f"database upgrade failed for DATABASE_URL: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        await db.dispose()
    print("database is up to date")
    return 0


async def _prepare_db(settings: Settings):
    """Open the database; the embedded SQLite default upgrades itself, PostgreSQL must be upgraded first."""
    from bot.db import Database, is_at_head

    db = Database(settings.database_url)
    try:
        if settings.is_sqlite:
            await db.upgrade()
        elif not await is_at_head(db):
            raise ConfigError("the database schema is not up to date: run `salesbot db upgrade` (the release step) first.")
    except ConfigError:
        await db.dispose()
        raise
    except Exception as exc:
        await db.dispose()
        raise ConfigError(f"cannot open DATABASE_URL: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    return db


async def _run(settings: Settings, *, scheduler: bool) -> int:
    """Serve Slack until interrupted."""
    from bot.app import Deps, build_app
    from bot.server import BotServer, build_web_app

    db = await _prepare_db(settings)
    deps = Deps(settings=settings, db=db)
    app = build_app(deps)
    if scheduler:
        log.info("no scheduled jobs yet")
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            log.info("starting in Socket Mode")
            await AsyncSocketModeHandler(app, settings.slack_app_token).start_async()
        else:
            server = BotServer(build_web_app(app, db), port=settings.port)
            await server.start()
            await asyncio.Event().wait()
    finally:
        await db.dispose()
    return 0


async def _clock(settings: Settings) -> int:
    """The scheduler process; it has nothing to run until scheduled posts exist."""
    print("salesbot clock: no jobs yet")
    return 0
