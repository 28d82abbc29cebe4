"""A believable sample team, used by the demo (and handy for trying the bot by hand)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Activity, ActivityKind, Deal, DealStatus, Expense, Level, Priority, Role, Segment, Stage, TaskStatus, utcnow,
)
from bot.services.deals import record_stage_change
from bot.services import roster, tasks
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


async def seed_team(session: AsyncSession, *, slack_team_id: str, today: date, tasks_per_rep: int = 8, rng_seed: int = 7) -> dict[str, int]:
    """Create the sample roster, customers and tasks; returns counts of what was made."""
    rng = random.Random(rng_seed)
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
    made = 0
    for rep in reps:
        for i in range(tasks_per_rep):
            draft = tasks.TaskDraft(
                title=rng.choice(TASK_TITLES),
                assignee_user_ids=[rep] if i % 7 else [rep, rng.choice([r for r in reps if r != rep])],
                customer_id=rng.choice(customers).id,
                stage=rng.choice(list(Stage)),
                priority=rng.choice(list(Priority)),
                difficulty=rng.randint(1, 3),
                due_date=today + timedelta(days=rng.randint(1, 20)),
            )
            row = await tasks.create_task(session, actor=manager, draft=draft, today=today)
            made += 1
            # Some work is already under way, finished, or late: a real team's week.
            roll = rng.random()
            if roll < 0.2:
                row.task.due_date = today - timedelta(days=rng.randint(1, 6))
            elif roll < 0.35:
                row.task.status = TaskStatus.IN_PROGRESS
            elif roll < 0.5:
                row.task.status = TaskStatus.DONE
                row.task.completed_at = utcnow()
            session.add(row.task)
    await session.flush()
    deals = await _seed_deals(session, rng, workspace_id=workspace.id, reps=[members[r] for r in reps], customers=customers, today=today)
    return {"members": len(members), "customers": len(customers), "tasks": made, "deals": deals}


PRODUCTS = ["A", "B", "C"]


async def _seed_deals(session: AsyncSession, rng: random.Random, *, workspace_id: int, reps, customers, today: date, count: int = 40) -> int:
    """Deals of the last four months moved through the stages (some won, some lost), with their history."""
    stages = list(Stage)
    now = datetime.combine(today, time(2, 0), tzinfo=timezone.utc)
    for i in range(count):
        owner, customer = rng.choice(reps), rng.choice(customers)
        at = now - timedelta(days=rng.randint(15, 120), hours=rng.randint(0, 23))
        product = rng.choice(PRODUCTS)
        deal = Deal(
            workspace_id=workspace_id, team_id=owner.team_id, customer_id=customer.id, owner_id=owner.id,
            title=f"{product} {rng.choice(['pilot', 'rollout', 'renewal', 'upgrade'])}", product_line=product, amount=rng.randint(5, 150) * 10_000 * 100,
            stage=Stage.LEAD, status=DealStatus.OPEN, stage_entered_at=at, created_at=at, updated_at=at,
        )
        session.add(deal)
        await session.flush()
        await record_stage_change(session, workspace_id=workspace_id, deal_id=deal.id, team_id=deal.team_id, from_stage=None,
                                  to_stage=Stage.LEAD, status=DealStatus.OPEN, actor_id=owner.id, at=at)
        for step in range(rng.randint(0, 4)):
            nxt = at + timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 8))
            if nxt >= now:
                break
            at = nxt
            await record_stage_change(session, workspace_id=workspace_id, deal_id=deal.id, team_id=deal.team_id, from_stage=stages[step],
                                      to_stage=stages[step + 1], status=DealStatus.OPEN, actor_id=owner.id, at=at)
            deal.stage, deal.stage_entered_at = stages[step + 1], at
        close = at + timedelta(days=rng.randint(1, 10))
        if close < now and stages.index(deal.stage) >= 3 and rng.random() < 0.6:
            deal.status, deal.won_at = DealStatus.WON, close
        elif close < now and rng.random() < 0.15:
            deal.status, deal.lost_at = DealStatus.LOST, close
        if deal.status != DealStatus.OPEN:
            await record_stage_change(session, workspace_id=workspace_id, deal_id=deal.id, team_id=deal.team_id, from_stage=deal.stage,
                                      to_stage=deal.stage, status=deal.status, actor_id=owner.id, at=close)
        session.add(deal)
        if rng.random() < 0.7:
            session.add(Activity(workspace_id=workspace_id, member_id=owner.id, customer_id=customer.id, deal_id=deal.id,
                                 kind=rng.choice(list(ActivityKind)), effective=rng.random() < 0.7, occurred_at=at))
        if rng.random() < 0.3:
            session.add(Expense(workspace_id=workspace_id, member_id=owner.id, deal_id=deal.id, amount=rng.randint(200, 3000) * 100,
                                category="travel", spent_on=at.date()))
    await session.flush()
    return count
