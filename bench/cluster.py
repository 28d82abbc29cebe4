"""Benchmark (not a test): a local cluster on one PostgreSQL delivers a morning within one shared send budget.

    python bench/cluster.py --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/sb_bench
    python bench/cluster.py --database-url ... --reps 1000 --budget 100      # a smaller morning
    python bench/cluster.py --database-url ... --housekeeping-rows 1000000   # the retention figure only

Starts the Slack stand-in in this process, two `salesbot run --no-scheduler` web processes and
two `salesbot clock` processes on the database; seeds a team of `--reps` reps (one task each)
whose morning DM is due now, and a desk team that is assigned tasks during the morning (their
task cards are DMs sent by the web processes, in the same budget). While the clocks deliver,
signed traffic (clicks on the morning DMs, /mytasks, Home tabs, /assign) goes to both web
processes alternately. Halfway through, the clock holding the tick lock is killed (SIGKILL);
reps added then are only composed by the clock that takes over. Prints: DMs per rep (lost,
doubled), requests per wall-clock second against the budget (the stand-in's recorded times),
the delivery rate, the takeover time, the web requests' outcomes, and the tick queries' plans.

With --housekeeping-rows N it also fills the outbox with N settled rows of two months ago
and runs the housekeeping pass, printing how long it took and what is left.
The database's public schema is dropped and recreated: use a throwaway database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bot.blocks import ids  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.models import Member, OutboxMessage, OutboxStatus, Role, SalesTeam, Task, TaskAssignee, Workspace  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402
from bot.standin import SlackDriver, SlackStandIn  # noqa: E402

BOT_TOKEN = "xoxb-cluster"
SIGNING_SECRET = "cluster-signing-secret"
MANAGER = "UMGR0001"
HOLDS = "holds it"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zone_at_noon(now: datetime) -> str:
    """A fixed-offset zone where it is around noon now, so the morning DM is due and its day does not end mid-run."""
    offset = (12 - now.hour + 12) % 24 - 12  # -12..11 hours from UTC
    return f"Etc/GMT{-offset:+d}"  # the Etc zones' signs are inverted (Etc/GMT-8 is UTC+8)


@dataclass
class Process:
    """One `salesbot` subprocess and where its output goes."""

    label: str
    proc: asyncio.subprocess.Process
    log: Path
    url: str | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Figures:
    """What one cluster run measured."""

    reps: int = 0
    late_reps: int = 0
    budget: float = 0.0
    delivered: int = 0
    lost: int = 0  # reps without their DM and without a row held for review
    doubled: int = 0
    unknown: int = 0  # rows held for review: in flight when their clock was killed, never resent
    unknown_missing: int = 0  # of those, the ones whose request never reached Slack (an operator marks them pending)
    posts_total: int = 0  # every chat.postMessage the stand-in answered (morning DMs and the web's task cards)
    web_posts: int = 0
    max_per_second: int = 0
    seconds_over_budget: int = 0
    max_sliding_second: int = 0
    over_seconds: list = field(default_factory=list)  # (requests, of them task cards from the web) for each second over budget
    send_seconds: float = 0.0
    rate: float = 0.0  # morning DMs per second, first to last
    takeover_seconds: float | None = None
    web_requests: Counter = field(default_factory=Counter)
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0

    @property
    def rate_of_budget(self) -> float:
        return self.rate / self.budget if self.budget else 0.0

    def lines(self) -> list[str]:
        """The figures as printed."""
        out = [
            f"reps {self.reps:,} (+{self.late_reps} added after the kill); budget {self.budget:g} messages/s per workspace",
            f"morning DMs: {self.delivered:,} delivered, {self.lost} lost, {self.doubled} doubled; {self.unknown} held for review as unknown "
            f"(in flight at the kill; {self.unknown - self.unknown_missing} had arrived, {self.unknown_missing} had not; none resent)",
            f"chat.postMessage: {self.posts_total:,} in all ({self.web_posts} task cards from the web processes); "
            f"busiest wall-clock second {self.max_per_second}, seconds over budget {self.seconds_over_budget}"
            + "".join(f" ({n} requests, {web} from the web)" for n, web in self.over_seconds)
            + f"; busiest sliding second {self.max_sliding_second}",
            f"delivery: {self.send_seconds:.1f} s first to last, {self.rate:.1f} DMs/s = {100 * self.rate_of_budget:.1f}% of budget",
            f"failover: the waiting clock held the tick lock {self.takeover_seconds:.1f} s after the kill" if self.takeover_seconds is not None else "failover: not measured",
            "web requests: " + ", ".join(f"{k} {v}" for k, v in sorted(self.web_requests.items())),
            "exit codes after SIGTERM: " + ", ".join(f"{k} {v}" for k, v in self.exit_codes.items()),
            f"wall time {self.wall_seconds:.0f} s",
        ]
        out += [f"plan of the tick's {name} query:\n    " + plan.replace("\n", "\n    ") for name, plan in self.plans.items()]
        return out


async def seed(db: Database, slack: SlackStandIn, *, reps: int, desk: int, now: datetime) -> tuple[list[str], list[str], int]:
    """The Morning team (due now, one task each), a Desk team (no morning during the run) and its manager; returns (reps, desk, team id)."""
    zone = zone_at_noon(now)
    local = now.astimezone(ZoneInfo(zone))
    daily = (local - timedelta(minutes=2)).strftime("%H:%M")
    rep_ids = [f"U{i:07d}" for i in range(reps)]
    desk_ids = [f"UD{i:06d}" for i in range(desk)]
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id=slack.team_id, name="Cluster", currency="CNY", created_at=now).returning(Workspace.id))).scalar_one()
        team_cols = dict(workspace_id=ws, timezone=zone, growth_target_bp=1000, satisfaction_target_bp=9000, stale_days=14, digest_weekday=0,
                         digest_time="09:00", working_days="0,1,2,3,4,5,6", survey_delay_days=3, daily_skip_empty=False, created_at=now)
        morning = (await conn.execute(insert(SalesTeam).values(name="Morning", daily_time=daily, **team_cols).returning(SalesTeam.id))).scalar_one()
        desk_team = (await conn.execute(insert(SalesTeam).values(name="Desk", daily_time="23:59", **team_cols).returning(SalesTeam.id))).scalar_one()
        common = dict(workspace_id=ws, level="junior", tz=zone, locale="en-US", is_slack_admin=False, created_at=now)
        await _bulk(conn, Member.__table__, [{"slack_user_id": uid, "name": f"Rep {uid}", "role": "rep", "team_id": morning, **common} for uid in rep_ids]
                    + [{"slack_user_id": uid, "name": f"Desk {uid}", "role": "rep", "team_id": desk_team, **common} for uid in desk_ids]
                    + [{"slack_user_id": MANAGER, "name": "Mia Manager", "role": "manager", "team_id": desk_team, **common}])
        members = (await conn.execute(text("SELECT id, team_id FROM member WHERE team_id = :t ORDER BY id"), {"t": morning})).all()
        first = (await conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM task"))).scalar_one() + 1
        today = local.date()
        await _bulk(conn, Task.__table__, [
            {"id": first + i, "workspace_id": ws, "team_id": morning, "title": f"Call customer {i}", "details": "", "priority": 1 + i % 3, "difficulty": 1,
             "due_date": today + timedelta(days=i % 5), "status": "open", "created_at": now, "updated_at": now}
            for i in range(len(members))
        ])
        await _bulk(conn, TaskAssignee.__table__, [{"task_id": first + i, "member_id": m_id} for i, (m_id, _) in enumerate(members)])
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('task', 'id'), (SELECT MAX(id) FROM task))"))
            await conn.execute(text("ANALYZE"))
    for uid in rep_ids + desk_ids:
        slack.add_user(uid, name=uid.lower(), tz=zone)
    slack.add_user(MANAGER, name="mia", tz=zone)
    return rep_ids, desk_ids, morning


async def add_late_reps(db: Database, slack: SlackStandIn, team_id: int, ids_: list[str]) -> None:
    """Reps who join mid-morning: only a clock that ticks after this composes their DM."""
    async with db.sessionmaker() as s:
        team = await s.get(SalesTeam, team_id)
        s.add_all(Member(workspace_id=team.workspace_id, slack_user_id=uid, name=f"Late {uid}", role=Role.REP, team_id=team.id, tz=team.timezone) for uid in ids_)
        await s.commit()
    for uid in ids_:
        slack.add_user(uid, name=uid.lower())


async def _bulk(conn, table, rows: list[dict], chunk: int = 5000) -> None:
    for i in range(0, len(rows), chunk):
        await conn.execute(insert(table), rows[i:i + chunk])


async def start(label: str, args: list[str], env: dict[str, str], workdir: Path) -> Process:
    """Start `python -m bot ARGS` with its output in a file (a full pipe nobody reads would stall it)."""
    log = workdir / f"{label}.log"
    out = open(log, "wb")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, cwd=ROOT, env=env, stdout=out, stderr=out)
    return Process(label=label, proc=proc, log=log)


async def wait_for(condition, what: str, processes: list[Process], timeout: float) -> None:
    """Poll `condition` until true; fail with the processes' output when one exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        for p in processes:
            if p.proc.returncode is not None:
                raise RuntimeError(f"{p.label} exited with {p.proc.returncode} while waiting for {what}:\n{p.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}:\n" + "\n".join(f"--- {p.label}\n{p.output()[-2000:]}" for p in processes))
        await asyncio.sleep(0.05)


async def settled(db: Database, expected: int) -> bool:
    """Every morning row is in the outbox and none is still to send."""
    async with db.sessionmaker() as s:
        q = select(OutboxMessage.status, func.count()).where(OutboxMessage.job == "daily").group_by(OutboxMessage.status)
        counts = dict((await s.execute(q)).all())
    live = counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0)
    return sum(counts.values()) >= expected and live == 0


class Traffic:
    """A morning's signed requests, sent to the web processes in turn."""

    def __init__(self, drivers: list[SlackDriver], slack: SlackStandIn, reps: list[str], desk: list[str], rng: random.Random) -> None:
        self.drivers = drivers
        self.reps = reps
        self.slack = slack
        self.desk = desk
        self.rng = rng
        self.outcomes: Counter = Counter()
        self.cards = 0
        self._seen = 0
        self._turn = 0
        self._stop = asyncio.Event()

    def _next(self) -> SlackDriver:
        self._turn += 1
        return self.drivers[self._turn % len(self.drivers)]

    def _count(self, kind: str, status: int) -> None:
        self.outcomes[f"{kind} {status}"] += 1

    async def _click_morning(self) -> None:
        """A rep marks the first task of their morning DM done (the newest DM not clicked yet)."""
        messages = self.slack.messages
        while self._seen < len(messages):
            m = messages[self._seen]
            self._seen += 1
            if m["channel"].startswith("D") and any(e.get("action_id") == ids.DAILY_DONE for b in m.get("blocks") or [] for e in b.get("elements") or []):
                user = self.slack.channels[m["channel"]]["user"]
                reply = await self._next().click(m, ids.DAILY_DONE, user=user)
                self._count("click", reply.status)
                return

    async def _assign(self) -> None:
        """The manager assigns a desk rep a task: the card is a DM the web process sends, in the shared budget."""
        driver = self._next()
        reply = await driver.slash("/assign", "", user=MANAGER)
        self._count("command", reply.status)
        [call] = await self.slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id, timeout=10)
        assignee = self.rng.choice(self.desk)
        submitted = await driver.submit_view(call.response["view"]["id"], user=MANAGER, values={ids.ASSIGN_TITLE: f"Visit {assignee}", ids.ASSIGN_ASSIGNEES: [assignee]})
        self._count("view", submitted.status)
        self.cards += 1

    async def run(self) -> None:
        """Until stopped: every 50 ms a click, a /mytasks, or a Home tab; every second an /assign."""
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                if n % 20 == 0:
                    await self._assign()
                elif n % 3 == 0:
                    user = self.rng.choice(self.reps)
                    reply = await self._next().slash("/mytasks", "", user=user)
                    self._count("command", reply.status)
                elif n % 5 == 0:
                    reply = await self._next().open_home(self.rng.choice(self.desk))
                    self._count("event", reply.status)
                else:
                    await self._click_morning()
            except Exception as exc:  # a failed request is a figure, not the end of the benchmark
                self.outcomes[f"failed {type(exc).__name__}"] += 1
            try:
                await asyncio.wait_for(self._stop.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()


def per_second(times: list[float]) -> tuple[Counter, int]:
    """Requests per wall-clock second, and the most in any sliding one-second window."""
    bins = Counter(int(t) for t in times)
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return bins, best


async def run_cluster(
    db: Database,
    *,
    reps: int,
    budget: float,
    workdir: Path,
    desk: int = 50,
    late: int = 10,
    kill_at: float = 0.5,
    kill_signal: int = signal.SIGKILL,
    concurrency: int = 8,
    timeout: float = 900,
    say=print,
) -> Figures:
    """Run the cluster on a migrated, empty database; returns the figures (asserts nothing)."""
    from jobs.outbox import explain, tick_queries

    started = time.monotonic()
    wall_offset = time.time() - time.monotonic()  # the stand-in records monotonic times; budgets are wall-clock windows
    figures = Figures(reps=reps, budget=budget, late_reps=late)
    rng = random.Random(11)
    slack = SlackStandIn(bot_token=BOT_TOKEN)
    await slack.start()
    processes: list[Process] = []
    drivers: list[SlackDriver] = []
    traffic_task: asyncio.Task | None = None
    try:
        now = datetime.now(timezone.utc)
        rep_ids, desk_ids, morning = await seed(db, slack, reps=reps, desk=desk, now=now)
        say(f"seeded {reps:,} reps and {desk} desk reps in {time.monotonic() - started:.1f} s")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db.url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SALESBOT_JOBS": "daily",
            "SALESBOT_TICK_SECONDS": "1",
            "SALESBOT_LOCK_RETRY_SECONDS": "1",
            "SALESBOT_SEND_PER_MIN": str(budget * 60),
            "SALESBOT_SEND_BURST": "1",
            "SALESBOT_SEND_PER_CHANNEL_PER_SEC": "1",
            "SALESBOT_SEND_CONCURRENCY": str(concurrency),
            "SALESBOT_SEND_BATCH": str(2 * concurrency),
            # Under a loaded machine a short lease would judge a slow but live request abandoned.
            "SALESBOT_SEND_LEASE": "30",
            "SALESBOT_SEND_TIMEOUT": "10",
            "SALESBOT_SEND_POLL": "0.2",
        }
        for name in ("SALESBOT_EXTRA_JOBS", "SLACK_APP_TOKEN"):
            env.pop(name, None)
        for label in ("web1", "web2"):
            port = free_port()
            p = await start(label, ["run", "--no-scheduler"], {**env, "PORT": str(port)}, workdir)
            p.url = f"http://127.0.0.1:{port}/slack/events"
            processes.append(p)
        clocks = {label: await start(label, ["clock"], env, workdir) for label in ("clock1", "clock2")}
        processes += list(clocks.values())
        await wait_for(lambda: all("listening on" in p.output() for p in processes if p.url), "the web processes", processes, 60)
        await wait_for(lambda: sum(HOLDS in c.output() for c in clocks.values()) == 1, "one clock holding the tick lock", processes, 60)
        holder = next(label for label, c in clocks.items() if HOLDS in c.output())
        other = next(label for label in clocks if label != holder)
        say(f"cluster up in {time.monotonic() - started:.1f} s: web1, web2, {holder} ticks, {other} waits")

        drivers = [SlackDriver(bot_url=p.url, signing_secret=SIGNING_SECRET, slack=slack, ack_timeout=None) for p in processes if p.url]
        traffic = Traffic(drivers, slack, rep_ids, desk_ids, rng)
        traffic_task = asyncio.create_task(traffic.run())

        seen = {"calls": 0, "posts": 0}

        def morning_posts() -> int:
            """Posts answered so far, less the web's task cards (counted as the calls arrive, not rescanned)."""
            calls = slack.calls
            for c in calls[seen["calls"]:]:
                seen["posts"] += c.method == "chat.postMessage" and c.ok
            seen["calls"] = len(calls)
            return seen["posts"] - traffic.cards

        await wait_for(lambda: morning_posts() >= kill_at * reps, "half the morning", processes, timeout)
        clocks[holder].proc.send_signal(kill_signal)
        killed_at = time.monotonic()
        await clocks[holder].proc.wait()
        figures.exit_codes[f"{holder} ({signal.Signals(kill_signal).name})"] = clocks[holder].proc.returncode
        processes.remove(clocks[holder])
        say(f"sent {signal.Signals(kill_signal).name} to {holder} (the lock holder) after {morning_posts():,} posts")
        late_ids = [f"UL{i:06d}" for i in range(late)]
        await add_late_reps(db, slack, morning, late_ids)
        await wait_for(lambda: HOLDS in clocks[other].output(), f"{other} to take the tick lock", processes, 120)
        figures.takeover_seconds = time.monotonic() - killed_at
        say(f"{other} took over after {figures.takeover_seconds:.1f} s")

        deadline = time.monotonic() + timeout
        while not await settled(db, reps + late):
            for p in processes:
                if p.proc.returncode is not None:
                    raise RuntimeError(f"{p.label} exited with {p.proc.returncode}:\n{p.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the morning did not settle in time:\n" + clocks[other].output()[-3000:])
            await asyncio.sleep(0.25)
        traffic.stop()
        await traffic_task
        traffic_task = None
        figures.web_requests = traffic.outcomes
        for p in processes:
            p.proc.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                figures.exit_codes[p.label] = await asyncio.wait_for(p.proc.wait(), 15)
            except asyncio.TimeoutError:
                figures.exit_codes[p.label] = None
        processes = []

        # The figures, from what the stand-in recorded.
        dm_user = {ch["id"]: ch["user"] for ch in slack.channels.values() if ch.get("is_im")}
        posts = [c for c in slack.calls if c.method == "chat.postMessage"]
        figures.posts_total = len(posts)
        everyone = rep_ids + late_ids
        per_rep = Counter(dm_user.get(c.args.get("channel")) for c in posts if c.ok)
        figures.delivered = sum(min(1, per_rep[u]) for u in everyone)
        async with db.sessionmaker() as s:
            held = set((await s.execute(select(OutboxMessage.channel).where(OutboxMessage.status == OutboxStatus.UNKNOWN))).scalars())
        figures.unknown = len(held)
        figures.unknown_missing = sum(1 for u in held if per_rep[u] == 0)
        figures.lost = sum(1 for u in everyone if per_rep[u] == 0 and u not in held)
        figures.doubled = sum(1 for u in everyone if per_rep[u] > 1)
        figures.web_posts = sum(per_rep[u] for u in desk_ids)
        bins, figures.max_sliding_second = per_second([c.at + wall_offset for c in posts])
        figures.max_per_second = max(bins.values(), default=0)
        figures.seconds_over_budget = sum(1 for n in bins.values() if n > budget)
        desk_set = set(desk_ids)
        web_bins = Counter(int(c.at + wall_offset) for c in posts if dm_user.get(c.args.get("channel")) in desk_set)
        figures.over_seconds = [(n, web_bins[sec]) for sec, n in sorted(bins.items()) if n > budget]
        morning_times = sorted(c.at for c in posts if c.ok and dm_user.get(c.args.get("channel")) in set(everyone))
        if len(morning_times) > 1:
            figures.send_seconds = morning_times[-1] - morning_times[0]
            figures.rate = (len(morning_times) - 1) / figures.send_seconds
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE outbox"))  # the statistics autovacuum keeps: the plans a live clock gets
        figures.plans = {name: await explain(db, q) for name, q in tick_queries(datetime.now(timezone.utc)).items()}
    finally:
        if traffic_task is not None:
            traffic_task.cancel()
            await asyncio.gather(traffic_task, return_exceptions=True)
        for p in processes:
            if p.proc.returncode is None:
                p.proc.kill()
                await p.proc.wait()
        for d in drivers:
            await d.aclose()
        await slack.stop()
    figures.wall_seconds = time.monotonic() - started
    return figures


async def fill_settled_outbox(db: Database, *, rows: int, retained: int, now: datetime) -> None:
    """`rows` sent posts of two months ago and `retained` of last week, bulk-inserted."""
    async with db.engine.begin() as conn:
        ws = (await conn.execute(insert(Workspace).values(slack_team_id="THOUSE", name="House", currency="CNY", created_at=now).returning(Workspace.id))).scalar_one()
        chunk = 20_000
        for start in range(0, rows + retained, chunk):
            batch = []
            for i in range(start, min(rows + retained, start + chunk)):
                age = timedelta(days=60) if i < rows else timedelta(days=7)
                batch.append({"workspace_id": ws, "key": f"house:{i}", "job": "daily", "channel": f"U{i % 10000:07d}", "payload": '{"text": "morning", "blocks": [], "files": []}',
                              "attempts": 0, "status": "sent", "not_before": now - age, "created_at": now - age, "sent_at": now - age})
            await conn.execute(insert(OutboxMessage.__table__), batch)
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE outbox"))


async def bench_housekeeping(db: Database, *, rows: int, retained: int = 10_000, say=print) -> None:
    """Housekeeping over `rows` old outbox rows: time, rows left, and a tick's plan afterwards."""
    from bot.services.housekeeping import housekeep
    from jobs.outbox import explain, tick_queries

    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    await fill_settled_outbox(db, rows=rows, retained=retained, now=now)
    say(f"housekeeping: {rows:,} sent rows of 60 days ago and {retained:,} of 7 days ago inserted in {time.perf_counter() - t0:.0f} s")
    async with db.sessionmaker() as s:
        before = (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    t0 = time.perf_counter()
    pruned = await housekeep(db, now=now)
    elapsed = time.perf_counter() - t0
    async with db.sessionmaker() as s:
        after = (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    say(f"housekeeping: {before:,} rows before, {pruned.outbox:,} deleted in {elapsed:.1f} s ({pruned.outbox / max(elapsed, 1e-9):,.0f} rows/s, batches of 5,000), {after:,} left")
    say("plan of the tick's claim query afterwards:\n    " + (await explain(db, tick_queries(now)["claim"])).replace("\n", "\n    "))


async def fresh(url: str) -> Database:
    db = Database(normalize_database_url(url))
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    return db


async def main_async(args) -> int:
    import tempfile

    if args.reps:
        db = await fresh(args.database_url)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                figures = await run_cluster(db, reps=args.reps, budget=args.budget, workdir=Path(tmp), concurrency=args.concurrency,
                                            kill_signal=getattr(signal, f"SIG{args.kill_signal}"))
        finally:
            await db.dispose()
        print("== cluster: 2 web, 2 clocks, one PostgreSQL, the stand-in")
        for line in figures.lines():
            print("   " + line)
    if args.housekeeping_rows:
        db = await fresh(args.database_url)
        try:
            print("== housekeeping")
            await bench_housekeeping(db, rows=args.housekeeping_rows, say=lambda s: print("   " + s))
        finally:
            await db.dispose()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL (its public schema is dropped)")
    parser.add_argument("--reps", type=int, default=10_000, help="reps in the morning (0: skip the cluster run)")
    parser.add_argument("--budget", type=float, default=50.0, help="messages per second per workspace")
    parser.add_argument("--kill-signal", choices=["KILL", "TERM"], default="KILL", help="how the lock holder is stopped mid-morning")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per clock (SALESBOT_SEND_CONCURRENCY; keep it under the connection pool's 15)")
    parser.add_argument("--housekeeping-rows", type=int, default=0, help="old outbox rows for the housekeeping figure (e.g. 1000000)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
