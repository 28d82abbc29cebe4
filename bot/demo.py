"""`salesbot demo`: the bot's real HTTP server and the Slack stand-in, playing a short story offline."""

from __future__ import annotations

import io
import re
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time as clock_time, timedelta
from pathlib import Path

from bot.api.routes import ApiConfig
from bot.deps import Deps
from bot.app import build_app
from bot.db import Database
from bot.models import utcnow
from bot.seed import PEOPLE, ZONE, seed_team
from bot.services.actors import resolve_actor
from bot.services.tasks import task_events
from bot.server import BotServer, build_web_app, settle_listeners
from bot.settings import ConfigError, load_settings
from bot.standin import SlackDriver, SlackStandIn, blocks_to_text, view_to_text
from bot.blocks import ids
from jobs.outbox import SenderConfig
from jobs.runner import run_job

TEAM_ID = "T0DEMO"
BOT_TOKEN = "xoxb-demo"
MANAGER, REP, REP_ZH, ADMIN = "UMANAGER", "UREP1", "UREP2", "UADMIN"
# How long the story waits for the bot's work after an ack before calling the step failed: the
# waits end as soon as the awaited post or redraw arrives, so a busy machine only makes them longer.
WAIT = 30.0


class Story:
    """Prints each step and each Slack surface as readable text."""

    def __init__(self, slack: SlackStandIn, quiet: bool) -> None:
        self.slack = slack
        self.quiet = quiet
        self.names = {p.user_id: p.name for p in PEOPLE}
        self.step = 0

    def say(self, text: str) -> None:
        """Announce a step of the story."""
        self.step += 1
        if not self.quiet:
            bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
            print(f"\n{bold}{self.step}. {text}{plain}")

    def show(self, title: str, text: str) -> None:
        """Print a surface with mentions shown as names."""
        if self.quiet:
            return
        text = re.sub(r"<@?([UW][A-Z0-9]+)>", lambda m: "@" + self.names.get(m.group(1), m.group(1)), text)
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        print(f"   ┌─ {title}")
        for line in text.splitlines():
            print(f"   │ {line}")
        print("   └─")


async def run_demo(
    *,
    db_path: str | None = None,
    quiet: bool = False,
    force: bool = False,
    clock: Callable[[], datetime] | None = None,
    slack: SlackStandIn | None = None,
) -> int:
    """Seed a team, start the stand-in and the bot, play the story; 0 when every step worked.

    With ``db_path`` the data stays in that SQLite file (an existing file only with ``force``);
    without it, a temporary folder holds the database and is removed at the end. ``clock``
    and ``slack`` (a stand-in not yet started, to inspect afterwards) are for tests.
    """
    started = time.monotonic()
    if db_path is not None:
        path = Path(db_path)
        if path.is_dir() or not path.parent.is_dir():
            raise ConfigError(f"--db {db_path}: give a file in an existing folder")
        if path.exists() and not force:
            raise ConfigError(f"{db_path} already exists; choose another file, or pass --force to replace it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        workdir = None
    else:
        workdir = Path(tempfile.mkdtemp(prefix="salesbot-demo-"))
        path = workdir / "salesbot-demo.db"
    try:
        slack = slack or make_stand_in()
        ok = await _run(slack, path, quiet=quiet, clock=clock)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    rejected = slack.rejected_calls()
    print(f"\nsalesbot demo: {len(slack.calls)} Slack API calls, {len(rejected)} rejected, {time.monotonic() - started:.1f}s")
    for call in rejected:
        print(f"  rejected: {call.method}: {call.error} {call.response}")
    ok = ok and not rejected
    if ok and not quiet:
        print(try_next(db_path, (clock or utcnow)()))
    return 0 if ok else 1


def make_stand_in() -> SlackStandIn:
    """The demo workspace's Slack stand-in, not yet started."""
    return SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM_ID, team_name="Acme Sales")


async def _run(slack: SlackStandIn, path: Path, *, quiet: bool, clock: Callable[[], datetime] | None) -> bool:
    """The bot, the stand-in and the database of one run, started and stopped around the story."""
    secret = secrets.token_hex(16)
    for p in PEOPLE:
        slack.add_user(p.user_id, name=p.name, tz=p.tz, locale=p.locale, is_admin=p.is_admin)
    await slack.start()
    settings = load_settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=secret, SLACK_API_URL=slack.api_url, DATABASE_URL=f"sqlite+aiosqlite:///{path}")
    db = Database(settings.database_url)
    server = None
    try:
        await db.upgrade()
        deps = Deps(settings=settings, db=db, clock=clock) if clock is not None else Deps(settings=settings, db=db)
        async with db.session() as session:
            counts = await seed_team(session, slack_team_id=TEAM_ID, now=deps.clock())
        api = ApiConfig(clock=deps.clock, i18n=deps.i18n)
        server = BotServer(build_web_app(build_app(deps), db, signing_secret=secret, api=api), host="127.0.0.1", port=0)
        await server.start()
        story = Story(slack, quiet)
        if not quiet:
            print(f"salesbot demo: bot on {server.url}, Slack stand-in on {slack.base_url}, database {path}")
            print(f"seeded {counts['members']} people, {counts['customers']} customers, {counts['tasks']} tasks, {counts['deals']} deals")
        async with SlackDriver(bot_url=server.url, signing_secret=secret, slack=slack) as driver:
            ok = await _play(story, slack, driver, deps) and await _play_api(story, driver, f"http://127.0.0.1:{server.port}")
        ok = await settle_listeners(WAIT) and ok
    finally:
        if server is not None:
            await server.stop()
        await slack.stop()
        await db.dispose()
    return ok


async def _play(story: Story, slack: SlackStandIn, driver: SlackDriver, deps: Deps) -> bool:
    """The story itself; returns False if the bot did not answer as expected."""
    story.say("Mia (manager) types `/assign @Leo Prepare the proposal for Huaxin`")
    reply = await driver.slash("/assign", f"<@{REP}|leo> Prepare the proposal for Huaxin", user=MANAGER)
    [opened] = await slack.wait_for("views.open", timeout=WAIT)
    view_id = opened.response["view"]["id"]
    story.show("modal", view_to_text(slack.views[view_id]))

    story.say("Mia picks the customer, stage, priority and due date, and submits")
    [found] = (await driver.suggest(view_id, ids.ASSIGN_CUSTOMER_SEARCH, "Huaxin", user=MANAGER)).body["options"]
    due = (deps.clock() + timedelta(days=2)).date().isoformat()
    submitted = await driver.submit_view(view_id, user=MANAGER, values={
        ids.ASSIGN_CUSTOMER: found["value"], ids.ASSIGN_STAGE: "proposal", ids.ASSIGN_PRIORITY: "1",
        ids.ASSIGN_DIFFICULTY: "2", ids.ASSIGN_DUE: due, ids.ASSIGN_DETAILS: "Pricing for 3 sites; <b>bold</b> ideas & all.",
    })
    if submitted.body:
        print(f"unexpected modal answer: {submitted.body}")
        return False
    [confirmation] = await reply.responses(timeout=WAIT)
    # The card is posted after the ack: wait until it is in Leo's DM.
    card = await slack.wait_for_message(
        lambda m: not m["ephemeral"] and "Prepare the proposal for Huaxin" in m["text"],
        channel=slack.dm_channel(REP), what="the task card", timeout=WAIT,
    )
    story.show("DM to Leo", blocks_to_text(card["blocks"]))
    story.show("ephemeral to Mia", blocks_to_text(confirmation["blocks"]))

    story.say("Leo types `/mytasks`")
    listing = await driver.slash("/mytasks", "", user=REP)
    [shown] = await listing.responses(timeout=WAIT)
    story.show("ephemeral to Leo", blocks_to_text(shown["blocks"]))

    story.say("Leo clicks Start on the new task, then Done on its card (twice, as people do)")
    latest = slack.ephemerals_for(REP)[-1]
    task_value = next(e["value"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.TASK_START)
    task_id = task_value.split("|")[0]
    started = await driver.click(latest, ids.TASK_START, user=REP, block_id=f"task-{task_id}")
    await started.responses(timeout=WAIT)  # the list is redrawn in place through the click's response_url
    story.show("the same message, updated in place", blocks_to_text(slack.find_message(latest["id"])["blocks"]))
    # A double click: both clicks leave before the first redraw arrives, and each is answered with one.
    clicks = await driver.double_click(card, ids.TASK_DONE, user=REP)
    for click in clicks:
        await click.responses(timeout=WAIT)
    story.show("the DM card after Done", blocks_to_text(slack.find_message(card["id"])["blocks"]))
    async with deps.db.session() as session:
        actor = await resolve_actor(session, slack_team_id=TEAM_ID, slack_user_id=REP, fetch_profile=None)
        history = [e.kind.value for e in await task_events(session, actor=actor, task_id=int(task_id))]
    story.show("the task's history", " → ".join(history))
    if history.count("done") != 1:
        print("Done was recorded more than once")
        return False

    story.say("Leo opens the App Home (it was refreshed after each change)")
    await _open_home(slack, driver, REP)
    story.show("Leo's Home", view_to_text(slack.home(REP)))

    story.say("Mia opens her App Home: her team's overdue tasks per rep")
    await _open_home(slack, driver, MANAGER)
    story.show("Mia's Home", view_to_text(slack.home(MANAGER)))

    story.say("李娜 (Chinese locale) types `/mytasks overdue`")
    zh = await driver.slash("/mytasks", "overdue", user=REP_ZH)
    [zh_list] = await zh.responses(timeout=WAIT)
    story.show("ephemeral to 李娜", blocks_to_text(zh_list["blocks"]))

    story.say("Leo tries `/assign`: only managers assign")
    refused = await driver.slash("/assign", "", user=REP)
    [hint] = await refused.responses(timeout=WAIT)
    story.show("ephemeral to Leo", blocks_to_text(hint["blocks"]))
    if not await _play_numbers(story, slack, driver, deps):
        return False
    if not await _play_webhook(story, slack, driver, deps):
        return False
    return await _play_scheduled(story, slack, deps)


async def _open_home(slack: SlackStandIn, driver: SlackDriver, user: str) -> None:
    """Open a member's Home tab and wait for the bot to publish it."""
    # Refreshes of the Home started by earlier clicks finish first, so the one awaited below
    # is the bot's answer to this visit.
    if not await settle_listeners(WAIT):
        raise AssertionError("the bot's work after earlier clicks did not finish")
    mark = slack.mark()
    reply = await driver.open_home(user)
    if reply.status != 200:
        raise AssertionError(f"app_home_opened answered {reply.status}")
    await slack.wait_for("views.publish", lambda c: c.args.get("user_id") == user, since=mark, timeout=WAIT)


async def _play_numbers(story: Story, slack: SlackStandIn, driver: SlackDriver, deps: Deps) -> bool:
    """The manager sets and splits the year's target, then reads attainment, the pipeline and the KPIs."""
    year = deps.clock().astimezone(ZONE).year
    for text in (f"set {year} 50000000", f"split {year} by quarter", f"split {year} by product A=60% B=30% C=10%"):
        story.say(f"Mia types `/target {text}`")
        [answer] = await (await driver.slash("/target", text, user=MANAGER)).responses(timeout=WAIT)
        story.show("ephemeral to Mia", blocks_to_text(answer["blocks"]))
    for command, text, title in (
        ("/target", f"{year} by product", "attainment by product line, with pace"),
        ("/pipeline", "", "this quarter's pipeline"),
        ("/kpi", "", "the team's KPIs this month"),
    ):
        typed = f"{command} {text}".strip()
        story.say(f"Mia types `{typed}`: {title}")
        [answer] = await (await driver.slash(command, text, user=MANAGER)).responses(timeout=WAIT)
        story.show("ephemeral to Mia", blocks_to_text(answer["blocks"]))
    story.say("Leo types `/kpi @李娜`: reps see only their own KPIs")
    [refused] = await (await driver.slash("/kpi", f"<@{REP_ZH}>", user=REP)).responses(timeout=WAIT)
    story.show("ephemeral to Leo", blocks_to_text(refused["blocks"]))

    story.say("Mia switches her Slack language to 中文 and types `/kpi` again: the same figures in Chinese")
    await _set_locale(slack, deps, MANAGER, "zh-CN")
    [zh_kpi] = await (await driver.slash("/kpi", "", user=MANAGER)).responses(timeout=WAIT)
    story.show("ephemeral to Mia (中文)", blocks_to_text(zh_kpi["blocks"]))
    await _set_locale(slack, deps, MANAGER, "en-US")
    return True


async def _play_webhook(story: Story, slack: SlackStandIn, driver: SlackDriver, deps: Deps) -> bool:
    """A CRM's receiver on this machine gets the signed webhook of a deal Leo wins in Slack."""
    import hmac
    import json

    from aiohttp import web

    from bot.services.webhooks import sign
    from jobs.outbox import Sender, make_sender_client

    received: list[tuple[dict, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/crm/hooks", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/crm/hooks"
        story.say(f"Alex (admin) registers the CRM's webhook: `/salesbot api webhook add {url} deal.won`")
        [added] = await (await driver.slash("/salesbot", f"api webhook add {url} deal.won", user=ADMIN)).responses(timeout=WAIT)
        story.show("ephemeral to Alex", blocks_to_text(added["blocks"]))
        found = re.search(r"whsec_[A-Za-z0-9_-]+", blocks_to_text(added["blocks"]))
        if not found:
            return False

        story.say("Leo records a deal with `/deal` and clicks Won on its card")
        reply = await driver.slash("/deal", "", user=REP)
        [opened] = await slack.wait_for("views.open", lambda c: c.args.get("trigger_id") == reply.trigger_id, timeout=WAIT)
        saved = await driver.submit_view(opened.response["view"]["id"], user=REP, values={
            ids.DEAL_NEW_CUSTOMER: "Jinhai Logistics", ids.DEAL_PRODUCT: "A", ids.DEAL_TITLE: "Jinhai fleet licences", ids.DEAL_AMOUNT: "86000",
        })
        if saved.body:
            print(f"unexpected modal answer: {saved.body}")
            return False
        await reply.responses(timeout=WAIT)
        if not await settle_listeners(WAIT):  # the card and the checklist are written before Leo clicks
            return False
        card = slack.ephemerals_for(REP)[-1]
        won = await driver.click(card, ids.DEAL_WON, user=REP)
        await won.responses(timeout=WAIT)
        if not await settle_listeners(WAIT):
            return False

        story.say("The clock's outbox sender delivers the event to the CRM, signed with the webhook's secret")
        fast = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)
        sender = Sender(deps.db, make_sender_client(deps.settings, fast), config=fast, clock=deps.clock, i18n=deps.i18n)
        from sqlalchemy import select

        from bot.models import OutboxMessage

        async with deps.db.session() as session:
            keys = list((await session.execute(select(OutboxMessage.key).where(OutboxMessage.job == "webhook"))).scalars())
        await sender.deliver(keys)
        if len(received) != 1:
            return False
        headers, body = received[0]
        expected = sign(found.group(0), headers["X-Salesbot-Timestamp"], body)
        verified = hmac.compare_digest(expected, headers["X-Salesbot-Signature"])
        event = json.loads(body)
        summary = {k: event["data"][k] for k in ("title", "amount", "currency", "status", "owner")}
        story.show("POST received by the CRM", f"{headers['X-Salesbot-Event']} {headers['X-Salesbot-Event-Id']}\n"
                   f"signature {'verified' if verified else 'WRONG'}\n{json.dumps(summary, ensure_ascii=False)}")
        return verified and event["type"] == "deal.won"
    finally:
        await runner.cleanup()


async def _set_locale(slack: SlackStandIn, deps: Deps, user_id: str, locale: str) -> None:
    """A member changes their Slack language; the bot's cached profile follows (as its daily refresh would)."""
    from sqlalchemy import update

    from bot.models import Member

    slack.users[user_id]["locale"] = locale
    async with deps.db.session() as session:
        await session.execute(update(Member).where(Member.slack_user_id == user_id).values(locale=locale))
        await session.commit()


async def _play_scheduled(story: Story, slack: SlackStandIn, deps: Deps) -> bool:
    """The scheduled posts: a morning's priorities DM and last week's digest, delivered through the outbox."""
    fast = SenderConfig(per_channel_per_sec=100, workspace_per_min=60000, workspace_burst=50, poll_seconds=0.05)
    dates = DemoDates.at(deps.clock())
    story.say(f"{dates.morning.isoformat()}, 08:30 in Shanghai: the `daily` job sends each rep their priorities")
    if await run_job(deps, "daily", at=dates.daily_at(dates.morning), config=fast, out=io.StringIO()) != 0:
        return False
    dms = [m for m in slack.messages_in(slack.dm_channel(REP)) if any(b.get("block_id") == "daily-more" for b in m["blocks"] or [])]
    if not dms:
        return False
    story.show("DM to Leo", blocks_to_text(dms[-1]["blocks"]))

    story.say(f"Monday {dates.digest_day.isoformat()}, 09:00: the `weekly` job sends last week's meeting digest "
              "(no channel set: to Mia), chart in its thread")
    if await run_job(deps, "weekly", at=dates.digest_at(dates.digest_day), config=fast, out=io.StringIO()) != 0:
        return False
    posts = [m for m in slack.messages_in(slack.dm_channel(MANAGER)) if (m["blocks"] or [{}])[0].get("type") == "header"]
    if not posts or not slack.calls_to("files.completeUploadExternal"):
        return False
    story.show("DM to Mia", blocks_to_text(posts[-1]["blocks"]))

    story.say("The same digest as a manager whose Slack is in 中文 receives it (the job writes each manager's DM in their language)")
    story.show("DM to a Chinese-locale manager", blocks_to_text(await _digest_blocks(deps, dates, "zh-CN")))
    return True


async def _play_api(story: Story, driver: SlackDriver, base: str) -> bool:
    """A CRM pushes customers and deals through the HTTP API with a token the admin made in Slack, then pulls the changes."""
    import json

    import aiohttp

    story.say("Alex (admin) types `/salesbot api token create crm write`: the token is shown to Alex once")
    [made] = await (await driver.slash("/salesbot", "api token create crm write", user="UADMIN")).responses(timeout=WAIT)
    found = re.search(r"sbk_[A-Za-z0-9_-]+", made["text"])
    if not found:
        return False
    story.show("ephemeral to Alex", blocks_to_text(made["blocks"]).replace(found.group(0), found.group(0)[:8] + "…"))
    headers = {"Authorization": f"Bearer {found.group(0)}"}
    customers = [{"external_id": f"CRM-C{i}", "name": name, "segment": seg, "region": "Shanghai"}
                 for i, (name, seg) in enumerate((("Jinling Logistics", "key"), ("Pudong Print Co.", "smb"), ("Xuhui Dental", "smb")), 1)]
    deals = [{"external_id": f"CRM-D{i}", "title": title, "customer": f"CRM-C{(i - 1) % 3 + 1}", "owner": owner, "amount": amount, "stage": stage}
             for i, (title, owner, amount, stage) in enumerate((
                 ("Fleet tracking, 40 trucks", REP, "186000.00", "proposal"), ("Print MIS upgrade", REP_ZH, "42500.50", "needs_analysis"),
                 ("Clinic suite, 3 sites", REP, "96000.00", "negotiation"), ("Warehouse scanners", REP_ZH, "23800.00", "first_contact")), 1)]
    async with aiohttp.ClientSession(base, headers=headers) as http:
        story.say(f"The CRM sends `POST /api/v1/customers/batch` ({len(customers)} rows) and `POST /api/v1/deals/batch` ({len(deals)} rows) with an Idempotency-Key")
        for kind, rows in (("customers", customers), ("deals", deals)):
            async with http.post(f"/api/v1/{kind}/batch", json={"rows": rows}, headers={"Idempotency-Key": f"demo-{kind}"}) as resp:
                answer = await resp.json()
            if resp.status != 200 or answer["failed"]:
                return False
            story.show(f"{resp.status} to the CRM ({kind})", json.dumps({k: answer[k] for k in ("created", "updated", "unchanged", "failed")}))
        story.say("The CRM's retry of the same deals (same key) is answered from the first reply and changes nothing")
        async with http.post("/api/v1/deals/batch", json={"rows": deals}, headers={"Idempotency-Key": "demo-deals"}) as resp:
            replay = resp.headers.get("Idempotent-Replayed")
        story.show(f"{resp.status} to the CRM", f"Idempotent-Replayed: {replay}")
        story.say("A row with a bad amount: the whole batch is refused, naming the row and the field (RFC 9457 problem details)")
        bad = [dict(deals[0], amount="186,000"), deals[1]]
        async with http.post("/api/v1/deals/batch", json={"rows": bad}) as resp:
            problem = await resp.json(content_type=None)
        if resp.status != 422:
            return False
        story.show(f"{resp.status} {resp.content_type}", "\n".join(f"{e['pointer']}: {e['message']}" for e in problem["errors"]))
        story.say("The CRM pulls every deal (`GET /api/v1/deals?limit=50`, following next_cursor); kept, the last cursor later gives only what changed")
        pulled, cursor = [], None
        while True:
            async with http.get("/api/v1/deals", params={"limit": 50} | ({"cursor": cursor} if cursor else {})) as resp:
                page = await resp.json()
            pulled += page["data"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        async with http.get("/api/v1/deals", params={"cursor": cursor}) as resp:
            since = (await resp.json())["data"]
        mine = [d for d in pulled if d["external_id"].startswith("CRM-")]
        story.show(f"{len(pulled)} deals pulled", "\n".join(f"{d['external_id']}  {d['stage']:<15} {d['amount']:>10}  {d['owner']}" for d in mine))
    return replay == "true" and len(mine) == len(deals) and since == []


async def _digest_blocks(deps: Deps, dates: DemoDates, locale: str) -> list[dict]:
    """Last week's digest of the demo team, built for a reader of `locale` as the weekly job builds it."""
    from sqlalchemy import select

    from bot.blocks.digest import build_digest_message
    from bot.models import SalesTeam
    from bot.seed import TEAM_NAME
    from bot.services.digest import WEEKLY, build_digest

    async with deps.db.session() as session:
        team = (await session.execute(select(SalesTeam).where(SalesTeam.name == TEAM_NAME))).scalar_one()
        now = dates.digest_at(dates.digest_day)
        digest = await build_digest(session, team=team, kind=WEEKLY, day=dates.digest_day, now=now)
    return build_digest_message(digest, deps.i18n.get(locale))[1]


@dataclass(frozen=True)
class DemoDates:
    """The days the story and the commands after it use, in the team's zone (Shanghai), from the demo's clock."""

    today: date
    morning: date  # the story's daily: the next working day
    next_morning: date  # the working day after that, for trying the daily job by hand
    digest_day: date  # this week's Monday: the story's weekly digest reports last week
    month_digest_day: date  # the first working day of this month: the monthly digest reports last month

    @classmethod
    def at(cls, now: datetime) -> DemoDates:
        """The dates seen from `now`."""
        today = now.astimezone(ZONE).date()
        morning = _next_working_day(today)
        first = today.replace(day=1)
        while first.weekday() >= 5:
            first += timedelta(days=1)
        return cls(today, morning, _next_working_day(morning), today - timedelta(days=today.weekday()), first)

    @staticmethod
    def daily_at(day: date) -> datetime:
        """The daily job's time on a day (the team's default 08:30)."""
        return datetime.combine(day, clock_time(8, 30), ZONE)

    @staticmethod
    def digest_at(day: date) -> datetime:
        """The digests' time on a day (the team's default 09:00)."""
        return datetime.combine(day, clock_time(9, 0), ZONE)


def _next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def try_next(db_path: str | None, now: datetime) -> str:
    """What to type after the story, on the demo's database, with dates that fit its data."""
    dates = DemoDates.at(now)
    url = shlex.quote(f"DATABASE_URL=sqlite:///{db_path or 'demo.db'}")
    lines = ["", "Try next:"]
    if db_path is None:
        lines.append("   (this run's database was temporary: run `salesbot demo --db demo.db` first to keep the data)")
    commands = [
        (f"{url} salesbot jobs run daily --at {dates.daily_at(dates.next_morning).isoformat()} --dry-run",
         f"the reps' priorities on the morning of {dates.next_morning.isoformat()}"),
        (f"{url} salesbot jobs run weekly --at {dates.digest_at(dates.digest_day - timedelta(days=7)).isoformat()} --dry-run",
         "the meeting digest of the week before (its three pictures are written to files)"),
        (f"{url} salesbot jobs run monthly --at {dates.digest_at(dates.month_digest_day).isoformat()} --dry-run",
         "last month's digest"),
        (f"{url} salesbot export deals", "every deal as CSV, in the data standard"),
    ]
    for command, what in commands:
        lines.append(f"   # {what}")
        lines.append(f"   $ {command}")
    return "\n".join(lines)
