"""A believable sample team, used by the demo (and handy for trying the bot by hand)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Activity, ActivityKind, Deal, DealStatus, Expense, Level, Priority, Role, Segment, Stage, Survey, SurveyStatus, TaskEvent,
    TaskEventKind, TaskStatus,
)
from bot.periods import MONTH, WEEK, parse_period, period_containing
from bot.services.deals import record_stage_change
from bot.services import roster, targets, tasks
from bot.services.actors import Actor, SlackProfile, get_member, get_workspace, refresh_profile


@dataclass(frozen=True)
class Person:
    """A member of the sample workspace."""

    user_id: str
    name: str
    tz: str
    locale: str
    role: Role | None
    region: str | None = None
    segment: Segment | None = None
    level: Level = Level.JUNIOR
    is_admin: bool = False


TEAM_NAME = "East China"
PEOPLE = [
    Person("UADMIN", "Alex Chen", "Asia/Shanghai", "en-US", None, is_admin=True),
    Person("UMANAGER", "Mia Zhang", "Asia/Shanghai", "en-US", Role.MANAGER, region="Shanghai"),
    Person("UREP1", "Leo Wang", "Asia/Shanghai", "en-US", Role.REP, "Shanghai", Segment.KEY, Level.SENIOR),
    Person("UREP2", "李娜", "Asia/Shanghai", "zh-CN", Role.REP, "Shanghai", Segment.SMB, Level.JUNIOR),
    Person("UREP3", "Sam Liu", "Asia/Shanghai", "en-US", Role.REP, "Hangzhou", Segment.KEY, Level.EXPERT),
    Person("UREP4", "周杰", "Asia/Shanghai", "zh-CN", Role.REP, "Hangzhou", Segment.SMB, Level.JUNIOR),
]
CUSTOMERS = [
    ("Huaxin Pharma", Segment.KEY, "Shanghai"), ("Orient Logistics", Segment.KEY, "Shanghai"),
    ("Bluewave Retail", Segment.SMB, "Shanghai"), ("Jade Garden Hotels", Segment.KEY, "Hangzhou"),
    ("West Lake Tea Co.", Segment.SMB, "Hangzhou"), ("Qiantang Motors", Segment.KEY, "Hangzhou"),
    ("Lotus Print & Pack", Segment.SMB, "Shanghai"), ("Silkroad Foods", Segment.SMB, "Hangzhou"),
]
TASK_TITLES = [
    "Call back about the renewal", "Send the revised quote", "Book a site visit", "Prepare the needs survey",
    "Draft the proposal deck", "Confirm contract terms with legal", "Follow up on the pilot feedback",
    "Schedule the quarterly review", "Collect the signed order form", "Introduce the after-sales team",
]


def profile_of(person: Person) -> SlackProfile:
    """The Slack profile a person would have."""
    return SlackProfile(name=person.name, tz=person.tz, locale=person.locale, is_admin=person.is_admin)


ZONE = ZoneInfo("Asia/Shanghai")  # the team's zone: its weeks, months and digest days
HISTORY_WEEKS = 18  # won deals reach back this far, so every recent week and month has figures
YEAR_TARGET = 45_000_000 * 100  # minor units; the demo's manager raises it to 50,000,000
# Each rep's share of the month's target.
REP_TARGET_SHARES = {"UREP1": 35, "UREP3": 30, "UREP2": 20, "UREP4": 15}
# Who closes each next won deal, in turn (4 : 4 : 2 : 1), so every month has a similar mix.
WIN_TURNS = ["UREP1", "UREP3", "UREP2", "UREP1", "UREP3", "UREP4", "UREP1", "UREP3", "UREP2", "UREP3", "UREP1"]
PRODUCTS = {"A": 60, "B": 30, "C": 10}
# Won per week in 10,000s (万), newest first: last week beats the week before; older weeks vary.
RECENT_WEEKS = [118, 94, 101]
COMPLAINTS = ["Delivery was two weeks late.", "Installation took longer than promised.", "Invoices had the wrong tax number."]
PRAISE = ["", "", "", "Quick answers from the team.", "The rollout went smoothly."]


class _Clock:
    """Local times of the sample's events, never later than the moment the data is seeded."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(timezone.utc)
        self.today = now.astimezone(ZONE).date()
        self.week_start = self.today - timedelta(days=self.today.weekday())

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A local time on `day`, in UTC."""
        return datetime.combine(day, time(hour, minute), ZONE).astimezone(timezone.utc)

    def past(self, moment: datetime) -> bool:
        """Whether `moment` lies at least an hour before now (nothing in the sample happens later)."""
        return moment <= self.now - timedelta(hours=1)


async def seed_team(session: AsyncSession, *, slack_team_id: str, now: datetime, tasks_per_rep: int = 8, rng_seed: int = 7) -> dict[str, int]:
    """Create the sample roster, customers, tasks, deals, targets and survey answers around `now`; returns counts.

    Everything is dated relative to `now` in the team's zone: deals won in each of the last
    weeks (last week more than the week before), a year's target split by month, week and
    rep, a few stale deals and overdue tasks among many current ones, and customers' answers.
    """
    rng = random.Random(rng_seed)
    clock = _Clock(now)
    workspace = await get_workspace(session, slack_team_id=slack_team_id, name="Acme Sales")
    by_id = {p.user_id: p for p in PEOPLE}

    async def fetch(user_id: str) -> SlackProfile | None:
        return profile_of(by_id[user_id]) if user_id in by_id else None

    admin_member = await get_member(session, workspace=workspace, slack_user_id="UADMIN")
    await refresh_profile(session, member=admin_member, fetch_profile=fetch, force=True)
    admin = Actor(workspace=workspace, member=admin_member, is_admin=True)
    members = {}
    for p in PEOPLE:
        if p.role is None:
            continue
        change = roster.RosterChange(p.user_id, p.role, team=TEAM_NAME, region=p.region, segment=p.segment, level=p.level)
        members[p.user_id] = await roster.add_member(session, actor=admin, change=change, fetch_profile=fetch)
    customers = [await tasks.find_or_create_customer(session, workspace_id=workspace.id, name=n, segment=s, region=r) for n, s, r in CUSTOMERS]
    manager = Actor(workspace=workspace, member=members["UMANAGER"], is_admin=False)
    reps = [p.user_id for p in PEOPLE if p.role == Role.REP]
    made = await _seed_tasks(session, rng, clock, manager=manager, reps=reps, customers=customers, per_rep=tasks_per_rep)
    await _seed_targets(session, clock, manager=manager)
    deals = await _seed_deals(session, rng, clock, workspace_id=workspace.id, members=members, customers=customers)
    return {"members": len(members), "customers": len(customers), "tasks": made, "deals": deals}


async def _seed_tasks(session: AsyncSession, rng: random.Random, clock: _Clock, *, manager: Actor, reps: list[str], customers, per_rep: int) -> int:
    """Each rep's recent work: mostly done on time or still ahead, one late, one overdue, one under way."""
    today = clock.today
    made = 0
    for rep in reps:
        for i in range(per_rep):
            draft = tasks.TaskDraft(
                title=rng.choice(TASK_TITLES),
                assignee_user_ids=[rep] if i % 7 else [rep, rng.choice([r for r in reps if r != rep])],
                customer_id=rng.choice(customers).id,
                stage=rng.choice(list(Stage)),
                priority=rng.choice(list(Priority)),
                difficulty=rng.randint(1, 3),
                due_date=today + timedelta(days=rng.randint(1, 14)),
            )
            row = await tasks.create_task(session, actor=manager, draft=draft, today=today)
            made += 1
            task = row.task
            # The service dates a new task today; a real team's list is a few weeks deep.
            kind = ("done", "done", "late", "overdue", "started")[i] if i < 5 else "open"
            if kind in ("done", "late", "overdue"):
                task.due_date = today - timedelta(days=rng.randint(1, 12) if kind != "overdue" else rng.randint(1, 5))
                finished = clock.at(task.due_date + timedelta(days=2 if kind == "late" else -1), 16)
                if kind != "overdue" and clock.past(finished):
                    task.status, task.completed_at = TaskStatus.DONE, finished
                    session.add(TaskEvent(workspace_id=task.workspace_id, task_id=task.id, actor_id=manager.member.id,
                                          kind=TaskEventKind.DONE, created_at=finished))
            elif kind == "started":
                task.status = TaskStatus.IN_PROGRESS
                task.due_date = today + timedelta(days=rng.randint(0, 4))
            task.created_at = min(clock.now, clock.at(task.due_date - timedelta(days=10), 9))
            session.add(task)
    await session.flush()
    return made


def _years(clock: _Clock) -> list[int]:
    """The years the sample's history and next weeks touch."""
    first = (clock.week_start - timedelta(weeks=HISTORY_WEEKS + 10)).year
    return list(range(first, clock.today.year + 1))


async def _seed_targets(session: AsyncSession, clock: _Clock, *, manager: Actor) -> None:
    """The year's target, split by month; the recent months split by week and by rep."""
    shares = [(f"<@{user}>", Decimal(pct)) for user, pct in REP_TARGET_SHARES.items()]
    first_month = period_containing(MONTH, clock.week_start - timedelta(weeks=HISTORY_WEEKS))
    for year in _years(clock):
        period = parse_period(str(year))
        await targets.set_target(session, actor=manager, period=period, amount=YEAR_TARGET)
        await targets.split_target(session, actor=manager, period=period, by=MONTH, shares=None)
        for month in period.sub_periods(MONTH):
            if month.end <= first_month.start or month.start > clock.today + timedelta(days=31):
                continue
            await targets.split_target(session, actor=manager, period=month, by=WEEK, shares=None)
            await targets.split_target(session, actor=manager, period=month, by="rep", shares=shares, share_kind="percent")


def _weekly_amounts(rng: random.Random) -> list[int]:
    """Won per week in 10,000s, newest full week first."""
    return RECENT_WEEKS + [rng.randint(72, 125) for _ in range(HISTORY_WEEKS - len(RECENT_WEEKS))]


def _parts(rng: random.Random, total: int) -> list[int]:
    """A week's total as two or three deals."""
    n = 2 if total < 100 else 3
    cuts = sorted(rng.sample(range(10, total - 10), n - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


async def _seed_deals(session: AsyncSession, rng: random.Random, clock: _Clock, *, workspace_id: int, members: dict, customers) -> int:
    """Won deals in every recent week, a few lost, and an open pipeline that mostly moves (a few deals stale)."""
    stages = list(Stage)
    reps = list(REP_TARGET_SHARES)
    made = 0

    async def deal(*, owner_id: str, path: list[tuple[Stage, datetime]], amount: int, status: DealStatus, closed: datetime | None) -> Deal:
        owner, customer = members[owner_id], rng.choice(customers)
        product = rng.choices(list(PRODUCTS), weights=list(PRODUCTS.values()))[0]
        created = path[0][1]
        row = Deal(
            workspace_id=workspace_id, team_id=owner.team_id, customer_id=customer.id, owner_id=owner.id,
            title=f"{product} {rng.choice(['pilot', 'rollout', 'renewal', 'upgrade'])}", product_line=product, amount=amount * 10_000 * 100,
            stage=path[-1][0], status=DealStatus.OPEN, stage_entered_at=path[-1][1], created_at=created, updated_at=closed or path[-1][1],
        )
        session.add(row)
        await session.flush()
        previous = None
        for stage, at in path:
            await record_stage_change(session, workspace_id=workspace_id, deal_id=row.id, team_id=row.team_id, from_stage=previous,
                                      to_stage=stage, status=DealStatus.OPEN, actor_id=owner.id, at=at)
            if rng.random() < 0.6:
                session.add(Activity(workspace_id=workspace_id, member_id=owner.id, customer_id=customer.id, deal_id=row.id,
                                     kind=rng.choice(list(ActivityKind)), effective=rng.random() < 0.7, occurred_at=at))
            previous = stage
        if status != DealStatus.OPEN:
            row.status = status
            if status == DealStatus.WON:
                row.won_at = closed
            else:
                row.lost_at = closed
            await record_stage_change(session, workspace_id=workspace_id, deal_id=row.id, team_id=row.team_id, from_stage=row.stage,
                                      to_stage=row.stage, status=status, actor_id=owner.id, at=closed)
        if rng.random() < 0.3:
            session.add(Expense(workspace_id=workspace_id, member_id=owner.id, deal_id=row.id, amount=rng.randint(200, 3000) * 100,
                                category="travel", spent_on=created.astimezone(ZONE).date()))
        session.add(row)
        return row

    def path_to(stage: Stage, entered: datetime) -> list[tuple[Stage, datetime]]:
        """The stage changes that brought a deal to `stage` at `entered`, a few days apart."""
        out = [(stage, entered)]
        at = entered
        for earlier in reversed(stages[:stages.index(stage)]):
            at -= timedelta(days=rng.randint(3, 9), hours=rng.randint(0, 6))
            out.insert(0, (earlier, at))
        return out

    # Won: every week back to HISTORY_WEEKS, and this week so far.
    won: list[Deal] = []
    weeks = [(clock.week_start, [rng.randint(30, 60) for _ in range(2)])]
    weeks += [(clock.week_start - timedelta(weeks=k + 1), _parts(rng, total)) for k, total in enumerate(_weekly_amounts(rng))]
    for monday, amounts in weeks:
        for amount in amounts:
            closed = clock.at(monday + timedelta(days=rng.randint(0, 4)), rng.randint(10, 17), rng.choice([0, 15, 30, 45]))
            if not clock.past(closed):
                continue
            owner = WIN_TURNS[len(won) % len(WIN_TURNS)]
            path = path_to(Stage.NEGOTIATION, closed - timedelta(days=rng.randint(2, 8)))
            won.append(await deal(owner_id=owner, path=path, amount=amount, status=DealStatus.WON, closed=closed))
            made += 1
    # Lost: a few over the last two months.
    for _ in range(5):
        closed = clock.now - timedelta(days=rng.randint(2, 60), hours=rng.randint(1, 9))
        stage = rng.choice(stages[1:5])
        await deal(owner_id=rng.choice(reps), path=path_to(stage, closed - timedelta(days=rng.randint(3, 10))), amount=rng.randint(8, 90),
                   status=DealStatus.LOST, closed=closed)
        made += 1
    # Open: most moved in the last days; four stale for weeks.
    mix = [Stage.LEAD] * 5 + [Stage.FIRST_CONTACT] * 5 + [Stage.NEEDS_ANALYSIS] * 5 + [Stage.PROPOSAL] * 4 + [Stage.NEGOTIATION] * 3
    for i, stage in enumerate(mix):
        age = timedelta(days=rng.randint(20, 50)) if i % 6 == 3 else timedelta(days=rng.randint(0, 11), hours=rng.randint(2, 20))
        await deal(owner_id=rng.choice(reps), path=path_to(stage, clock.now - age - timedelta(hours=1)), amount=rng.randint(8, 150),
                   status=DealStatus.OPEN, closed=None)
        made += 1
    await session.flush()
    _seed_answers(session, rng, clock, won)
    await session.flush()
    return made


def _seed_answers(session: AsyncSession, rng: random.Random, clock: _Clock, won: list[Deal]) -> None:
    """Customers' satisfaction answers a week after each win; the latest wins still await theirs."""
    for i, row in enumerate(won):
        sent = row.won_at + timedelta(days=3)
        answered = row.won_at + timedelta(days=7, hours=rng.randint(0, 3))
        survey = Survey(workspace_id=row.workspace_id, customer_id=row.customer_id, rep_id=row.owner_id, source="deal", source_id=row.id,
                        status=SurveyStatus.MANUAL, send_at=sent, expires_at=sent + timedelta(days=14), created_at=row.won_at)
        if clock.past(answered) and i % 8 != 5:
            # The last weeks' customers are happy; the odd complaint sits further back, where a monthly review finds it.
            recent = row.won_at >= clock.at(clock.week_start - timedelta(weeks=3), 0)
            score = rng.choice([5, 4, 5]) if recent else rng.choices([5, 4, 3, 2], weights=[50, 32, 9, 9])[0]
            survey.status, survey.score, survey.answered_at = SurveyStatus.ANSWERED, score, answered
            survey.comment = rng.choice(COMPLAINTS) if score <= 2 else rng.choice(PRAISE)
        session.add(survey)
