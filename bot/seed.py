"""A believable sample team, used by the demo (and handy for trying the bot by hand)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Level, Priority, Role, Segment, Stage, TaskStatus, utcnow
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
    return {"members": len(members), "customers": len(customers), "tasks": made}
