"""Who should do it: rank the reps a manager may assign for one task.

The candidates are exactly the members the manager may assign
(:func:`bot.services.tasks.assignable_members`: the reps and customer service of a manager's
team, everyone's for an admin). Each gets points from four rules, then the list is sorted:

1. **Region.** The rep's region equals the customer's region (compared without case or
   surrounding spaces): +30. No points when either region is unknown.
2. **Segment experience.** The rep's segment (key accounts or SMB) equals the customer's
   segment: +20; plus +2 for each deal the rep has won with customers of that segment, at
   most +10 (five wins). A customer typed as new counts with the segment picked for it.
3. **Level against difficulty.** Difficulty 3: expert +30 (best), senior +15 (can do it),
   junior 0 (a stretch). Difficulty 2: senior or expert +25 (good), junior +5 (a stretch).
   Difficulty 1: junior +25, senior +15, expert +10 — anyone can do it, and juniors take it
   to keep the seniors free for harder work.
4. **Open workload.** −3 for each task assigned to the rep that is not done (open or in
   progress), at most −30 (ten tasks); fewer is better.

Ties are broken by fewer open tasks, then by name (case-insensitive), then by Slack user id,
so the same data always gives the same order. The top three are returned, each with its
reasons: `region` (the region), `segment` (the segment and the number of wins), `level` (the
level, the difficulty and the fit: good, ok or poor) and `workload` (the number of open
tasks). Region and segment appear only when they match; level and workload always.

A ranking costs at most four queries whatever the team's size: the customer (when one is
chosen), the candidates, one aggregate of open tasks per candidate and one aggregate of won
deals per candidate in the customer's segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OPEN_TASK_STATUSES, Customer, Deal, DealStatus, Level, Member, Segment, Task, TaskAssignee
from bot.services.actors import Actor
from bot.services.tasks import assignable_members, require_assigner

TOP = 3

REGION_POINTS = 30
SEGMENT_POINTS = 20
WIN_POINTS = 2
WIN_POINTS_MAX = 10
WORKLOAD_POINTS = 3  # taken off per open task
WORKLOAD_POINTS_MAX = 30

# (points, fit) for each difficulty and level.
LEVEL_FIT: dict[int, dict[Level, tuple[int, str]]] = {
    3: {Level.EXPERT: (30, "good"), Level.SENIOR: (15, "ok"), Level.JUNIOR: (0, "poor")},
    2: {Level.EXPERT: (25, "good"), Level.SENIOR: (25, "good"), Level.JUNIOR: (5, "poor")},
    1: {Level.JUNIOR: (25, "good"), Level.SENIOR: (15, "ok"), Level.EXPERT: (10, "ok")},
}


@dataclass
class Reason:
    """Why a rep suits the task: a code and the numbers or names that go with it."""

    code: str  # "region", "segment", "level" or "workload"
    params: dict = field(default_factory=dict)


@dataclass
class Candidate:
    """One rep with their score and the reasons behind it."""

    member: Member
    score: int
    open_tasks: int
    segment_wins: int
    reasons: list[Reason]


@dataclass
class MatchResult:
    """The best-suited reps (at most three) and how many reps were considered."""

    suggestions: list[Candidate]
    candidates: int
    customer: Customer | None = None
    segment: Segment | None = None
    region: str | None = None
    difficulty: int = 1


def _same_region(a: str | None, b: str | None) -> bool:
    """Both regions known and equal, ignoring case and surrounding spaces."""
    return bool(a and b and a.strip().casefold() == b.strip().casefold())


def score_member(member: Member, *, region: str | None, segment: Segment | None, difficulty: int, open_tasks: int, segment_wins: int) -> Candidate:
    """Apply the four rules to one rep (pure: no database)."""
    score = 0
    reasons: list[Reason] = []
    if _same_region(member.region, region):
        score += REGION_POINTS
        reasons.append(Reason("region", {"region": member.region.strip()}))
    if segment is not None and member.segment == segment:
        score += SEGMENT_POINTS + min(segment_wins * WIN_POINTS, WIN_POINTS_MAX)
        reasons.append(Reason("segment", {"segment": segment.value, "wins": segment_wins}))
    level = member.level or Level.JUNIOR
    points, fit = LEVEL_FIT.get(difficulty, LEVEL_FIT[1])[level]
    score += points
    reasons.append(Reason("level", {"level": level.value, "difficulty": difficulty if difficulty in LEVEL_FIT else 1, "fit": fit}))
    score -= min(open_tasks * WORKLOAD_POINTS, WORKLOAD_POINTS_MAX)
    reasons.append(Reason("workload", {"open": open_tasks}))
    return Candidate(member=member, score=score, open_tasks=open_tasks, segment_wins=segment_wins, reasons=reasons)


def rank(candidates: list[Candidate], limit: int = TOP) -> list[Candidate]:
    """Best first: score, then fewer open tasks, then name, then Slack user id."""
    ordered = sorted(candidates, key=lambda c: (-c.score, c.open_tasks, (c.member.name or "").casefold(), c.member.slack_user_id))
    return ordered[:limit]


async def open_task_counts(session: AsyncSession, *, workspace_id: int, member_ids: list[int]) -> dict[int, int]:
    """Tasks not done per member, in one aggregate query."""
    if not member_ids:
        return {}
    q = (
        select(TaskAssignee.member_id, func.count())
        .join(Task, Task.id == TaskAssignee.task_id)
        .where(Task.workspace_id == workspace_id, Task.status.in_(OPEN_TASK_STATUSES), TaskAssignee.member_id.in_(member_ids))
        .group_by(TaskAssignee.member_id)
    )
    return {member_id: n for member_id, n in (await session.execute(q)).all()}


async def segment_win_counts(session: AsyncSession, *, workspace_id: int, member_ids: list[int], segment: Segment) -> dict[int, int]:
    """Won deals with customers of `segment` per owner, in one aggregate query."""
    if not member_ids:
        return {}
    q = (
        select(Deal.owner_id, func.count())
        .join(Customer, Customer.id == Deal.customer_id)
        .where(
            Deal.workspace_id == workspace_id, Customer.workspace_id == workspace_id, Deal.status == DealStatus.WON,
            Customer.segment == segment, Deal.owner_id.in_(member_ids),
        )
        .group_by(Deal.owner_id)
    )
    return {owner_id: n for owner_id, n in (await session.execute(q)).all()}


async def suggest_assignees(
    session: AsyncSession,
    *,
    actor: Actor,
    customer_id: int | None = None,
    new_customer_segment: Segment | None = None,
    difficulty: int = 1,
    limit: int = TOP,
) -> MatchResult:
    """The reps best suited to a task for this customer and difficulty, with their reasons (managers and admins only)."""
    require_assigner(actor)
    ws_id = actor.workspace.id
    customer = None
    if customer_id is not None:
        customer = await session.get(Customer, customer_id)
        if customer is not None and customer.workspace_id != ws_id:
            customer = None  # another workspace's customer: rank as if none was chosen
    segment = customer.segment if customer is not None else new_customer_segment
    region = customer.region if customer is not None else None
    difficulty = difficulty if difficulty in LEVEL_FIT else 1

    members = await assignable_members(session, actor=actor)
    ids = [m.id for m in members]
    workloads = await open_task_counts(session, workspace_id=ws_id, member_ids=ids)
    wins = await segment_win_counts(session, workspace_id=ws_id, member_ids=ids, segment=segment) if segment is not None else {}
    scored = [
        score_member(m, region=region, segment=segment, difficulty=difficulty, open_tasks=workloads.get(m.id, 0), segment_wins=wins.get(m.id, 0))
        for m in members
    ]
    return MatchResult(
        suggestions=rank(scored, limit), candidates=len(members), customer=customer, segment=segment, region=region, difficulty=difficulty,
    )
