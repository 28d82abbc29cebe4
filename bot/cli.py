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
    workspace = sub.add_parser("workspace", help="workspaces that installed the app")
    workspace_sub = workspace.add_subparsers(dest="workspace_command", required=True)
    wdelete = workspace_sub.add_parser("delete", help="delete every row of a workspace, in every table, in one transaction")
    wdelete.add_argument("team_id", help="the workspace's Slack team id (T…)")
    wdelete.add_argument("--force", action="store_true", help="delete even though the app is still installed there")
    sync = sub.add_parser("sync", help="sync runs (API batches, webhook deliveries, scheduled pulls) and pull sources")
    sync_sub = sync.add_subparsers(dest="sync_command", required=True)
    sync_runs = sync_sub.add_parser("runs", help="the last sync runs with their errors")
    sync_runs.add_argument("--workspace", action="append", default=None, help="only this Slack team id (repeatable)")
    sync_runs.add_argument("--limit", type=int, default=20)
    sync_retry = sync_sub.add_parser("retry", help="pull a failed run's source again, or re-queue a dead webhook delivery")
    sync_retry.add_argument("run_id", type=int)
    sync_source = sync_sub.add_parser("source", help="set the file a workspace's kind is pulled from on a schedule")
    sync_source.add_argument("action", choices=["set"])
    sync_source.add_argument("url", help="https URL (http only for localhost) serving CSV or JSON in the data standard")
    sync_source.add_argument("kind", help="members, customers, deals, targets or tasks")
    sync_source.add_argument("--header", default=None, help="an auth header sent with each pull: 'Authorization: Bearer …'")
    sync_source.add_argument("--every", type=int, default=60, help="minutes between pulls (default 60)")
    sync_source.add_argument("--workspace", default=None, help="Slack team id (needed when the database holds several workspaces)")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply migrations up to the newest")
    demo = sub.add_parser("demo", help="play the offline demo on a fresh SQLite file and the local Slack stand-in")
    demo.add_argument("--db", default=None, help="SQLite file to use (default: a new temporary file)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument("--force", action="store_true", help="replace the --db file if it exists")
    api = sub.add_parser("api", help="the HTTP API: tokens")
    api_sub = api.add_subparsers(dest="api_command", required=True)
    token = api_sub.add_parser("token", help="API tokens of a workspace (shown once when created; only a hash is stored)")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="make a token and print it once")
    create.add_argument("name")
    create.add_argument("scope", nargs="?", default="read", choices=["read", "write"])
    token_sub.add_parser("list", help="the workspace's tokens (never their secrets)")
    revoke = token_sub.add_parser("revoke", help="delete a token: requests with it are refused at once")
    revoke.add_argument("name")
    for command in token_sub.choices.values():
        command.add_argument("--workspace", default=None, help="Slack team id (needed when the database holds several workspaces)")
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
    quiet_logs = args.command in ("demo", "import", "export", "api") and not args.verbose
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
        if args.command == "workspace":
            return asyncio.run(_workspace_delete(settings, team_id=args.team_id.strip(), force=args.force))
        if args.command == "sync":
            return asyncio.run(_sync(settings, args))
        if args.command == "api":
            return asyncio.run(_api_tokens(settings, args))
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
            from bot.api.routes import ApiConfig

            api = ApiConfig(rate_per_minute=settings.api_rate_per_minute, clock=deps.clock, i18n=deps.i18n)
            web_app = build_web_app(app, db, signing_secret=settings.slack_signing_secret or "", metrics=deps.metrics, metrics_token=settings.metrics_token, api=api)
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

    if settings.oauth_enabled:
        return  # each workspace's token is its installation's, read from the database
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


async def _workspace_delete(settings: Settings, *, team_id: str, force: bool) -> int:
    """`salesbot workspace delete T…`: every row of the workspace, in every table, gone in one transaction."""
    from sqlalchemy import select

    from bot.models import SlackInstallation, Workspace
    from bot.services.workspaces import delete_workspace

    db = await open_database(settings)
    try:
        async with db.session() as session:
            installed = await session.execute(
                select(SlackInstallation.id).join(Workspace, Workspace.id == SlackInstallation.workspace_id).where(Workspace.slack_team_id == team_id)
            )
            if installed.first() is not None and not force:
                raise ConfigError(f"workspace {team_id} still has the app installed: uninstall it there first (or pass --force)")
            counts = await delete_workspace(session, slack_team_id=team_id)
            if counts is None:
                raise ConfigError(f"no workspace has the team id {team_id!r}")
            await session.commit()
    finally:
        await db.dispose()
    for table, n in sorted(counts.items()):
        if n:
            print(f"{table:<20} {n}")
    print(f"workspace {team_id} deleted: {sum(counts.values())} rows")
    return 0


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


async def _sync(settings: Settings, args: argparse.Namespace) -> int:
    """`salesbot sync runs|retry ID|source set`: what was synced or failed, re-running a failure, configuring a pull."""
    from bot.deps import Deps
    from bot.services.errors import NotFound, ServiceError
    from bot.services.sync_runs import recent_runs, workspace_ids

    db = await open_database(settings)
    deps = Deps(settings=settings, db=db)
    try:
        if args.sync_command == "retry":
            from jobs.sync_pull import retry

            try:
                print(await retry(deps, args.run_id))
            except NotFound:
                raise ConfigError(f"there is no sync run #{args.run_id}") from None
            except LookupError as exc:
                raise ConfigError(str(exc)) from None
            return 0
        if args.sync_command == "source":
            from bot.csvio.command import choose_workspace
            from bot.services.sync_pull import set_source

            async with db.session() as session:
                ws = await choose_workspace(session, slack_team_id=args.workspace, create=False)
                try:
                    source = await set_source(session, actor=None, workspace_id=ws.id, url=args.url, kind=args.kind, header=args.header, every_minutes=args.every, now=deps.clock())
                except ServiceError as exc:
                    raise ConfigError(deps.i18n.get("en-US").t(exc.key, **exc.params)) from None
                await session.commit()
            print(f"{ws.slack_team_id}: {source.kind} pulled from {source.url} every {source.every_minutes} min")
            return 0
        async with db.session() as session:
            ws_ids = None
            if args.workspace:
                ws_ids = await workspace_ids(session, args.workspace)
                if not ws_ids:
                    raise ConfigError(f"the database holds no workspace {', '.join(args.workspace)}")
            views = []
            for ws_id in ws_ids or [None]:
                views += await recent_runs(session, workspace_id=ws_id, limit=args.limit)
        views.sort(key=lambda v: (v.run.started_at, v.run.id), reverse=True)
        for v in views[: args.limit]:
            r = v.run
            print(f"#{r.id:<6} {r.started_at.isoformat()}  {r.kind.value:<9} {r.status.value:<9} "
                  f"created {r.created} updated {r.updated} unchanged {r.unchanged} failed {r.failed}  {r.source}")
            if r.message:
                print(f"        {r.message}")
            for e in v.errors:
                where = f"line {e.line}" + (f", field {e.field}" if e.field else "") if e.line or e.field else "run"
                print(f"        {where}: {e.message}")
            if v.error_count > len(v.errors):
                print(f"        … {v.error_count - len(v.errors)} more error(s)")
        print(f"{len(views[: args.limit])} run(s)")
        return 0
    finally:
        await db.dispose()


async def _api_tokens(settings: Settings, args: argparse.Namespace) -> int:
    """`salesbot api token create|list|revoke`: the operator's side of `/salesbot api token`."""
    from bot.csvio.command import choose_workspace
    from bot.models import ApiScope
    from bot.services import api_tokens
    from bot.services.errors import ServiceError

    db = await open_database(settings)
    loc = None
    try:
        async with db.session() as session:
            ws = await choose_workspace(session, slack_team_id=args.workspace, create=False)
            try:
                if args.token_command == "create":
                    new = await api_tokens.create_token(session, workspace=ws, name=args.name, scope=ApiScope(args.scope))
                    print(f"{new.token.name} ({new.token.scope.value}) for {ws.slack_team_id}; shown only this once:", file=sys.stderr)
                    print(new.secret)
                elif args.token_command == "list":
                    for t in await api_tokens.list_tokens(session, workspace=ws):
                        used = t.last_used_at.isoformat() if t.last_used_at else "never"
                        print(f"{t.name:<24} {t.scope.value:<5} {t.hint}…  created {t.created_at.isoformat()}  last used {used}")
                else:
                    await api_tokens.revoke_token(session, workspace=ws, name=args.name)
                    print(f"{args.name}: revoked")
            except ServiceError as exc:
                from bot.i18n import I18n

                loc = loc or I18n().get("en-US")
                raise ConfigError(loc.t(exc.key, **exc.params).replace("*", "")) from None
        return 0
    finally:
        await db.dispose()
