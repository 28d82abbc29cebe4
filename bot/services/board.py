"""The team board (`/tasks`) and the manager's team counts on the App Home.

A board page is a slice of (rep, task) pairs: a task shared by two reps shows under each. Every
page costs the same few statements whatever the team's size: one count, one page of pairs, the
page's customers and assignees (bot.services.tasks), and one grouped query for the page's reps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Customer, Member, Task, TaskAssignee, TaskStatus
from bot.parsing import ParseError, mention_id, split_words, unescape
from bot.services.actors import Actor
from bot.services.errors import NotOnRoster, PermissionDenied
from bot.services.tasks import ASSIGNABLE_ROLES, TaskRow, _rows
from bot.services.paging import Paged

PAGE_SIZE = 10  # 10 tasks at 2 blocks, plus up to 10 rep lines, stay under 50 blocks and the byte budget
CUSTOMER_FILTER_MAX = 100  # the filter travels in every button's value (2000 characters)
TEAM_SUMMARY_MAX = 300  # reps on a manager's Home; the board shows the rest
OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class BoardStatus(str, Enum):
    """Which tasks the board lists."""

    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"
    ALL = "all"


class BoardDue(str, Enum):
    """A due-date window, in the viewer's weeks (Monday to Sunday)."""

    THIS_WEEK = "this-week"
    NEXT_WEEK = "next-week"


@dataclass(frozen=True)
class BoardQuery:
    """What `/tasks` asked for; encoded into the board's buttons so a click redraws the same board."""

    status: BoardStatus = BoardStatus.OPEN
    rep: str | None = None  # a Slack user id
    customer: str | None = None  # part of a customer's name, any case
    due: BoardDue | None = None

    def encode(self) -> str:
        """A short string; the customer goes last since it may hold any character."""
        return f"{self.status.value};{self.due.value if self.due else ''};{self.rep or ''};{self.customer or ''}"

    @classmethod
    def decode(cls, text: str) -> "BoardQuery":
        """Parse what `encode` wrote; ValueError on anything else."""
        status, due, rep, customer = text.split(";", 3)
        if rep and mention_id(f"<@{rep}>") != rep or len(customer) > CUSTOMER_FILTER_MAX:
            raise ValueError("not a board query")
        return cls(BoardStatus(status), rep or None, customer or None, BoardDue(due) if due else None)


_STATUS_WORDS = {
    **{s.value: s for s in BoardStatus},
    "未完成": BoardStatus.OPEN, "逾期": BoardStatus.OVERDUE, "已完成": BoardStatus.DONE, "完成": BoardStatus.DONE,
    "已取消": BoardStatus.CANCELLED, "取消": BoardStatus.CANCELLED, "全部": BoardStatus.ALL,
}
_DUE_WORDS = {**{d.value: d for d in BoardDue}, "本周": BoardDue.THIS_WEEK, "下周": BoardDue.NEXT_WEEK}


def parse_board(text: str) -> BoardQuery:
    """Parse `/tasks [@rep] [open|overdue|done|cancelled|all] [customer:NAME] [due:this-week|next-week]`."""
    status = rep = customer = due = None
    for word in split_words(text or ""):
        key, sep, value = word.partition(":")
        if (user := mention_id(word)) and rep is None:
            rep = user
        elif word.lower() in _STATUS_WORDS and status is None:
            status = _STATUS_WORDS[word.lower()]
        elif sep and key.lower() in ("customer", "客户") and customer is None and 0 < len(unescape(value).strip()) <= CUSTOMER_FILTER_MAX:
            customer = unescape(value).strip()
        elif sep and key.lower() in ("due", "截止") and due is None and value.lower() in _DUE_WORDS:
            due = _DUE_WORDS[value.lower()]
        else:
            raise ParseError("board.error.usage", value=unescape(word)[:100])
    return BoardQuery(status or BoardStatus.OPEN, rep, customer, due)


def week_start(today: date) -> date:
    """The Monday of today's week."""
    return today - timedelta(days=today.weekday())


@dataclass
class RepCounts:
    """One rep's task counts: open, overdue, due this week, and those the board's filter matches."""

    open: int = 0
    overdue: int = 0
    due_week: int = 0
    matching: int = 0


@dataclass
class RepGroup:
    """One rep's tasks on a board page, with the rep's counts; `continued` when the rep began on an earlier page."""

    member: Member
    counts: RepCounts
    rows: list[TaskRow] = field(default_factory=list)
    continued: bool = False


@dataclass
class BoardPage(Paged):
    """One page of the team board."""

    query: BoardQuery
    groups: list[RepGroup]
    total: int
    offset: int
    limit: int

    @property
    def rows(self) -> list[TaskRow]:
        """The page's tasks in order (a shared task once per rep)."""
        return [r for g in self.groups for r in g.rows]


def require_board(actor: Actor) -> None:
    """Only managers (of a team) and admins see a team board."""
    if actor.is_admin:
        return
    if not actor.on_roster:
        raise NotOnRoster()
    if not actor.is_manager or actor.member.team_id is None:
        raise PermissionDenied("board.error.managers_only")


def _scope(actor: Actor):
    """The members whose work the actor may see: a manager's team; everyone for an admin."""
    cond = [Member.workspace_id == actor.workspace.id]
    if not actor.is_admin:
        cond.append(Member.team_id == actor.member.team_id)
    return cond


def _open():
    return Task.status.in_(OPEN_STATUSES)


def _filter(query: BoardQuery, today: date) -> list:
    """The conditions on Task (and Customer) of the board's status and due filters."""
    cond: list = []
    if query.status == BoardStatus.OPEN:
        cond.append(_open())
    elif query.status == BoardStatus.OVERDUE:
        cond += [_open(), Task.due_date < today]
    elif query.status == BoardStatus.DONE:
        cond.append(Task.status == TaskStatus.DONE)
    elif query.status == BoardStatus.CANCELLED:
        cond.append(Task.status == TaskStatus.CANCELLED)
    if query.due is not None:
        start = week_start(today) + timedelta(days=7 if query.due == BoardDue.NEXT_WEEK else 0)
        cond += [Task.due_date >= start, Task.due_date < start + timedelta(days=7)]
    if query.customer:
        cond.append(func.lower(Customer.name).contains(query.customer.lower(), autoescape=True))
    return cond


def _pairs(actor: Actor, query: BoardQuery, today: date, *columns):
    """SELECT columns FROM the (rep, task) pairs the actor may see and the query matches."""
    q = (
        select(*columns)
        .select_from(TaskAssignee)
        .join(Member, Member.id == TaskAssignee.member_id)
        .join(Task, Task.id == TaskAssignee.task_id)
        .where(Task.workspace_id == actor.workspace.id, *_scope(actor), *_filter(query, today))
    )
    if query.customer:
        q = q.join(Customer, Customer.id == Task.customer_id)
    if query.rep:
        q = q.where(Member.slack_user_id == query.rep)
    return q


def _sum(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _count_columns(today: date):
    """Per-rep counts as SUMs over the rep's tasks: open, overdue, due this week."""
    start = week_start(today)
    return (
        _sum(_open()),
        _sum(and_(_open(), Task.due_date < today)),
        _sum(and_(_open(), Task.due_date >= start, Task.due_date < start + timedelta(days=7))),
    )


async def _check_rep(session: AsyncSession, *, actor: Actor, user_id: str) -> None:
    """A named rep must be one the actor may see (the same answer whether they exist or not)."""
    q = select(Member.id).where(*_scope(actor), Member.slack_user_id == user_id).limit(1)
    if (await session.execute(q)).first() is None:
        raise PermissionDenied("board.error.not_your_rep", user=user_id)


async def team_board(session: AsyncSession, *, actor: Actor, query: BoardQuery, today: date, offset: int = 0, limit: int = PAGE_SIZE) -> BoardPage:
    """One page of the team's tasks grouped by rep (by name), each rep with counts, in a fixed number of statements.

    The grouped counts per rep come first; from them the page's few reps and the offset inside the
    first one follow, so the page query sorts only those reps' tasks (any page costs the same).
    """
    require_board(actor)
    if query.rep:
        await _check_rep(session, actor=actor, user_id=query.rep)
    table = await _rep_table(session, actor=actor, query=query, today=today)
    total = sum(c.matching for _, c in table)
    offset = max(0, min(offset, max(0, total - 1) // limit * limit))
    page_reps: list[tuple[Member, RepCounts]] = []
    seen = skip = 0
    for member, counts in table:
        if seen + counts.matching > offset and seen < offset + limit:
            if not page_reps:
                skip = offset - seen  # the first rep's tasks shown on earlier pages
            page_reps.append((member, counts))
        seen += counts.matching
    if not page_reps:
        return BoardPage(query, [], total, offset, limit)
    if query.status == BoardStatus.DONE:
        within = (Task.completed_at.desc(), Task.id.desc())
    else:
        overdue_first = case((and_(_open(), Task.due_date < today), 0), else_=1)
        within = (overdue_first, Task.status.in_((TaskStatus.DONE, TaskStatus.CANCELLED)), Task.priority, Task.due_date.is_(None), Task.due_date, Task.id)
    order = {m.id: i for i, (m, _) in enumerate(page_reps)}
    rep_order = case(order, value=TaskAssignee.member_id)
    page_q = (
        _pairs(actor, query, today, TaskAssignee.member_id, Task)
        .where(TaskAssignee.member_id.in_(list(order)))
        .order_by(rep_order, *within)
        .offset(skip)
        .limit(limit)
    )
    pairs = (await session.execute(page_q)).all()
    rows = {r.task.id: r for r in await _rows(session, list({t.id: t for _, t in pairs}.values()))}
    members = {m.id: (m, c) for m, c in page_reps}
    groups: list[RepGroup] = []
    for member_id, task in pairs:
        if not groups or groups[-1].member.id != member_id:
            member, counts = members[member_id]
            groups.append(RepGroup(member, counts, continued=not groups and skip > 0))
        groups[-1].rows.append(rows[task.id])
    return BoardPage(query, groups, total, offset, limit)


async def _rep_table(session: AsyncSession, *, actor: Actor, query: BoardQuery, today: date) -> list[tuple[Member, RepCounts]]:
    """Every rep in scope with tasks the board matches, by name, with their counts: one grouped query."""
    filt = _filter(query, today)
    matching = _sum(and_(*filt)) if filt else func.count()
    # Only rows that count somewhere are read: matching ones, and open ones for the open/overdue/week counts.
    relevant = or_(and_(*filt), _open()) if filt else true()
    q = (
        select(Member, *_count_columns(today), matching)
        .select_from(TaskAssignee)
        .join(Member, Member.id == TaskAssignee.member_id)
        .join(Task, Task.id == TaskAssignee.task_id)
        .where(Task.workspace_id == actor.workspace.id, *_scope(actor), relevant)
        .group_by(Member.id)
        .order_by(Member.name, Member.slack_user_id, Member.id)
    )
    if query.customer:
        q = q.outerjoin(Customer, Customer.id == Task.customer_id)
    if query.rep:
        q = q.where(Member.slack_user_id == query.rep)
    out = [(m, RepCounts(int(o), int(od), int(w), int(n))) for m, o, od, w, n in (await session.execute(q)).all()]
    return [(m, c) for m, c in out if c.matching]


@dataclass
class TeamLine:
    """One rep on a manager's Home: open, overdue and due this week."""

    member: Member
    counts: RepCounts


@dataclass
class TeamSummary:
    """The manager's team at a glance: the reps most in need first, and how many were left out."""

    lines: list[TeamLine]
    reps: int


async def team_summary(session: AsyncSession, *, actor: Actor, today: date, limit: int = TEAM_SUMMARY_MAX) -> TeamSummary:
    """Per rep of the manager's team: open, overdue and due this week, in one grouped query (most overdue first)."""
    if not actor.is_manager or actor.member.team_id is None:
        return TeamSummary([], 0)
    counts = _count_columns(today)
    q = (
        select(Member, *counts, func.count().over())
        .select_from(Member)
        .outerjoin(TaskAssignee, TaskAssignee.member_id == Member.id)
        .outerjoin(Task, and_(Task.id == TaskAssignee.task_id, Task.workspace_id == actor.workspace.id, _open()))
        .where(Member.workspace_id == actor.workspace.id, Member.team_id == actor.member.team_id, Member.role.in_(ASSIGNABLE_ROLES))
        .group_by(Member.id)
        .order_by(counts[1].desc(), counts[0].desc(), Member.name, Member.id)
        .limit(limit)
    )
    rows = (await session.execute(q)).all()
    lines = [TeamLine(m, RepCounts(int(o), int(od), int(w), int(o))) for m, o, od, w, _ in rows]
    return TeamSummary(lines, int(rows[0][-1]) if rows else 0)

