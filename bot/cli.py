"""The `salesbot` command: run, clock, jobs run, db upgrade, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.db import open_database
from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger("salesbot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="salesbot", description="A Slack bot for a sales team's targets, pipeline, tasks and KPIs.")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (HTTP, or Socket Mode when SLACK_APP_TOKEN is set)")
    run.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")
    sub.add_parser("clock", help="run the scheduler and outbox sender alone")
    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_run = jobs_sub.add_parser("run", help="run one job as if the clock said --at; deliver through the outbox")
    jobs_run.add_argument("name", help="the job (daily, weekly, monthly, surveys, ...)")
    jobs_run.add_argument("--at", default=None, help="the clock's time, with its offset: 2027-03-01T08:30+08:00 (default: now)")
    jobs_run.add_argument("--dry-run", action="store_true", help="print the posts as text and send nothing")
    outbox = sub.add_parser("outbox", help="review scheduled posts whose outcome is unknown, or that are dead")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    review = outbox_sub.add_parser("list", help="list the posts to review (unknown and dead by default)")
    review.add_argument("--status", action="append", choices=["unknown", "dead", "pending", "skipped"], help="only these statuses (repeatable)")
    mark = outbox_sub.add_parser("mark", help="settle a post: sent (it did arrive) or pending (send it again)")
    mark.add_argument("key", help="the post's key, as `outbox list` shows it")
    mark.add_argument("to", choices=["sent", "pending"])
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply migrations up to the newest")
    demo = sub.add_parser("demo", help="play the offline demo on a fresh SQLite file and the local Slack stand-in")
    demo.add_argument("--db", default=None, help="SQLite file to use (default: a new temporary file)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument("--force", action="store_true", help="replace the --db file if it exists")
    from bot.csvio.columns import KINDS

    imp = sub.add_parser("import", help="import a CSV file (all or nothing; rows matched by external id)")
    imp.add_argument("kind", choices=KINDS)
    imp.add_argument("file", help="UTF-8 CSV in the data standard (see README)")
    imp.add_argument("--team", default=None, help="team for rows whose team cell is empty")
    imp.add_argument("--workspace", default=None, help="Slack team id (needed when the database holds no or several workspaces)")
    exp = sub.add_parser("export", help="export a kind as CSV in the data standard")
    exp.add_argument("kind", choices=KINDS)
    exp.add_argument("--out", default=None, help="file to write (default: stdout)")
    exp.add_argument("--workspace", default=None, help="Slack team id (needed when the database holds several workspaces)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; configuration errors end with one line and exit status 2."""
    args = _parser().parse_args(argv)
    # The demo prints its own story; its logs would only get in the way unless asked for.
    quiet_logs = args.command in ("demo", "import", "export") and not args.verbose
    level = logging.DEBUG if args.verbose else logging.WARNING if quiet_logs else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-plugin lines say nothing to an operator
    try:
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo(db_path=args.db, quiet=args.quiet, force=args.force))
        settings = load_settings()
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "run":
            settings.require_for_run()
            return asyncio.run(_run(settings, scheduler=not args.no_scheduler))
        if args.command == "clock":
            _require_bot_token(settings)
            return asyncio.run(_clock(settings))
        if args.command == "jobs":
            return asyncio.run(_jobs_run(settings, name=args.name, at=args.at, dry_run=args.dry_run))
        if args.command == "outbox":
            return asyncio.run(_outbox(settings, args))
        if args.command == "import":
            from bot.csvio.command import run_import

            return asyncio.run(run_import(settings, kind=args.kind, path=args.file, workspace=args.workspace, team=args.team))
        if args.command == "export":
            from bot.csvio.command import run_export

            return asyncio.run(run_export(settings, kind=args.kind, out=args.out, workspace=args.workspace))
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


async def _run(settings: Settings, *, scheduler: bool) -> int:
    """Serve Slack until SIGTERM or SIGINT, then stop cleanly: exit 0."""
    from bot.deps import Deps
    from bot.app import build_app
    from bot.server import BotServer, build_web_app, settle_listeners

    from jobs.outbox import SenderConfig, shared_budget_for

    db = await open_database(settings)
    stop = _stop_on_signals()
    deps = Deps(settings=settings, db=db)
    # On PostgreSQL the listeners' posts take slots of the budget the clocks share.
    deps.send_budget = shared_budget_for(db, _configured(SenderConfig.from_env), metrics=deps.metrics)
    app = build_app(deps)
    clockwork = None
    try:
        if scheduler:
            from jobs.scheduler import build_clockwork

            clockwork = _configured(build_clockwork, deps)
            clockwork.start()
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            log.info("starting in Socket Mode")
            handler = AsyncSocketModeHandler(app, settings.slack_app_token)
            await handler.connect_async()
            try:
                await stop.wait()
            finally:
                log.info("stopping: closing the Socket Mode connection")
                await handler.close_async()
                await settle_listeners()
        else:
            web_app = build_web_app(app, db, signing_secret=settings.slack_signing_secret or "", metrics=deps.metrics, metrics_token=settings.metrics_token)
            server = BotServer(web_app, port=settings.port)
            await server.start()
            try:
                await stop.wait()
            finally:
                log.info("stopping: no new requests; finishing the ones in flight")
                await server.stop()
    finally:
        if clockwork is not None:
            await clockwork.stop()
        await db.dispose()
        _default_signals()
    log.info("stopped")
    return 0


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, so that `run` and `clock` stop cleanly and exit 0."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _default_signals() -> None:
    """Give SIGTERM and SIGINT back their default handling once the process has stopped."""
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)


def _require_bot_token(settings: Settings) -> None:
    """The scheduler and sender post to Slack: they need the bot token (and nothing else)."""
    from bot.settings import is_placeholder

    if is_placeholder(settings.slack_bot_token):
        raise ConfigError("SLACK_BOT_TOKEN is not set (or is still a placeholder): set it to the app's bot token (xoxb-...).")


def _configured(build, *args, **kw):
    """Build scheduler or sender parts, turning a bad SALESBOT_* value or job module into one line."""
    try:
        return build(*args, **kw)
    except (ValueError, LookupError, ImportError, AttributeError) as exc:
        raise ConfigError(f"invalid scheduler configuration: {exc}") from None


async def _clock(settings: Settings) -> int:
    """The scheduler and outbox sender alone (the Procfile's `clock`), until SIGTERM or SIGINT."""
    from bot.deps import Deps
    from jobs.scheduler import build_clockwork

    db = await open_database(settings)
    stop = _stop_on_signals()
    ops = None
    try:
        deps = Deps(settings=settings, db=db)
        clockwork = _configured(build_clockwork, deps)
        ops = await _serve_ops(settings, deps)
        clockwork.start()
        try:
            await stop.wait()
        finally:
            # Requests in flight finish and are recorded; claimed rows not yet sent go back.
            log.info("stopping: finishing the posts in flight, handing back the rest")
            await clockwork.stop()
    finally:
        if ops is not None:
            await ops.stop()
        await db.dispose()
        _default_signals()
    log.info("stopped")
    return 0


async def _serve_ops(settings: Settings, deps):
    """With SALESBOT_METRICS_PORT set, serve /metrics, /healthz and /readyz on it (the clock has no other HTTP server)."""
    if not settings.metrics_port:
        return None
    from bot.server import BotServer, build_ops_app

    server = BotServer(build_ops_app(deps.db, deps.metrics, metrics_token=settings.metrics_token), port=settings.metrics_port)
    try:
        await server.start()
    except OSError as exc:
        await server.stop()
        raise ConfigError(f"SALESBOT_METRICS_PORT {settings.metrics_port} cannot be used: {exc.strerror or exc}") from None
    log.info("metrics on port %s at /metrics", settings.metrics_port)
    return server


async def _jobs_run(settings: Settings, *, name: str, at: str | None, dry_run: bool) -> int:
    """`salesbot jobs run NAME`: one job at --at, printed (--dry-run) or delivered through the outbox."""
    from bot.deps import Deps
    from bot.models import utcnow
    from jobs.outbox import SenderConfig
    from jobs.registry import UnknownJob, load_jobs
    from jobs.runner import parse_at, run_job

    try:
        jobs = load_jobs([name])  # only this job's module is imported
        when = parse_at(at) if at else utcnow()
    except (UnknownJob, ValueError) as exc:
        raise ConfigError(str(exc).strip("\"'")) from None
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"job {name!r} cannot be loaded: {exc}") from None
    if dry_run and getattr(jobs[name], "acts_when_composed", False):
        raise ConfigError(f"job {name!r} changes the data as it runs: it has no --dry-run")
    if not dry_run:
        _require_bot_token(settings)
    config = None if dry_run else _configured(SenderConfig.from_env)
    db = await open_database(settings)
    try:
        return await run_job(Deps(settings=settings, db=db), name, at=when, dry_run=dry_run, jobs=jobs, config=config)
    finally:
        await db.dispose()


async def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    """`salesbot outbox list|mark`: what needs an operator, and settling it."""
    from bot.models import OutboxStatus
    from jobs.outbox import REVIEWABLE, resolve_for_review, rows_for_review

    db = await open_database(settings)
    try:
        async with db.session() as session:
            if args.outbox_command == "mark":
                if not await resolve_for_review(session, key=args.key, to=OutboxStatus(args.to)):
                    raise ConfigError(f"no unknown or dead post has the key {args.key!r}")
                print(f"{args.key}: {args.to}")
                return 0
            statuses = [OutboxStatus(s) for s in args.status] if args.status else list(REVIEWABLE)
            rows = await rows_for_review(session, statuses=statuses)
            for row in rows:
                print(f"{row.status.value:<8} {row.key}  to {row.channel}  attempts {row.attempts}  due {row.not_before.isoformat()}  {row.last_error or ''}".rstrip())
            print(f"{len(rows)} post(s) to review")
            return 0
    finally:
        await db.dispose()
