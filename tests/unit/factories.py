"""Small builders for unit tests: workspaces, teams, members with roles, tasks, and in-memory rows."""

from __future__ import annotations

from datetime import date, datetime, timezone
from itertools import count

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import I18n
from bot.models import Level, Member, Priority, Role, SalesTeam, Segment, Stage, Task, TaskStatus, Workspace
from bot.services.actors import Actor, get_member, get_workspace
from bot.services.roster import get_or_create_team
from bot.services.tasks import TaskDraft, TaskRow, create_task

# A fixed "today" far enough ahead that due dates around it are never in the real past.
TODAY = date(2031, 3, 10)

_ids = count(1)
_i18n = I18n()


def loc(language: str = "en"):
    """The localizer for `en` or `zh_Hans` (catalogs are parsed once per test run)."""
    return _i18n.get("zh-CN" if language == "zh_Hans" else "en-US")


async def workspace(session: AsyncSession, team_id: str = "T1") -> Workspace:
    """A workspace row."""
    return await get_workspace(session, slack_team_id=team_id)


async def team(session: AsyncSession, ws: Workspace, name: str = "Sales") -> SalesTeam:
    """A sales team of the workspace."""
    return await get_or_create_team(session, workspace=ws, name=name)


async def member(
    session: AsyncSession,
    ws: Workspace,
    user_id: str,
    *,
    role: Role | None = None,
    team: SalesTeam | None = None,
    name: str | None = None,
    level: Level = Level.JUNIOR,
    region: str | None = None,
    segment: Segment | None = None,
    tz: str = "UTC",
    is_slack_admin: bool = False,
) -> Member:
    """A member row, on the roster when `role` is given."""
    m = await get_member(session, workspace=ws, slack_user_id=user_id)
    m.name = name if name is not None else user_id
    m.role = role
    m.team_id = team.id if team else None
    m.level = level
    m.region = region
    m.segment = segment
    m.tz = tz
    m.is_slack_admin = is_slack_admin
    session.add(m)
    await session.flush()
    return m


def actor(ws: Workspace, m: Member, *, admin: bool = False) -> Actor:
    """The acting member."""
    return Actor(workspace=ws, member=m, is_admin=admin or m.is_slack_admin)


class World:
    """One workspace with two teams: East (manager + two reps) and West (manager + one rep), and an admin."""

    def __init__(self, session: AsyncSession, ws: Workspace) -> None:
        self.session = session
        self.ws = ws

    @classmethod
    async def build(cls, session: AsyncSession, team_id: str = "T1") -> "World":
        w = cls(session, await workspace(session, team_id))
        ws = w.ws
        w.east = await team(session, ws, "East")
        w.west = await team(session, ws, "West")
        w.admin_m = await member(session, ws, "UADMIN", is_slack_admin=True, name="Ada")
        w.mgr_m = await member(session, ws, "UMGR", role=Role.MANAGER, team=w.east, name="Mia")
        w.rep1_m = await member(session, ws, "UREP1", role=Role.REP, team=w.east, name="Ray")
        w.rep2_m = await member(session, ws, "UREP2", role=Role.REP, team=w.east, name="Rita")
        w.mgr_w_m = await member(session, ws, "UMGRW", role=Role.MANAGER, team=w.west, name="Will")
        w.rep_w_m = await member(session, ws, "UREPW", role=Role.REP, team=w.west, name="Wes")
        w.outsider_m = await member(session, ws, "UOUT", name="Otto")
        w.admin = actor(ws, w.admin_m)
        w.mgr = actor(ws, w.mgr_m)
        w.rep1 = actor(ws, w.rep1_m)
        w.rep2 = actor(ws, w.rep2_m)
        w.mgr_w = actor(ws, w.mgr_w_m)
        w.rep_w = actor(ws, w.rep_w_m)
        w.outsider = actor(ws, w.outsider_m)
        return w

    async def task(self, title: str = "Call the customer", *, by: Actor | None = None, to: list[str] | None = None, today: date = TODAY, **kw) -> TaskRow:
        """A task created through the service (so every rule applies)."""
        draft = TaskDraft(title=title, assignee_user_ids=to or ["UREP1"], **kw)
        return await create_task(self.session, actor=by or self.mgr, draft=draft, today=today)


async def insert_task(
    session: AsyncSession,
    ws: Workspace,
    assignee: Member,
    *,
    title: str | None = None,
    due: date | None = None,
    priority: Priority = Priority.MEDIUM,
    status: TaskStatus = TaskStatus.OPEN,
    team_id: int | None = None,
    completed_at: datetime | None = None,
) -> Task:
    """A task row written directly (for lists with past due dates the service would refuse)."""
    from bot.models import TaskAssignee

    t = Task(
        workspace_id=ws.id, team_id=team_id if team_id is not None else assignee.team_id, title=title or f"task {next(_ids)}",
        priority=priority, due_date=due, status=status, completed_at=completed_at,
    )
    session.add(t)
    await session.flush()
    session.add(TaskAssignee(task_id=t.id, member_id=assignee.id))
    await session.flush()
    return t


async def count_rows(session: AsyncSession, model) -> int:
    """How many rows a table holds."""
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


# -- in-memory objects for the builders (no database) ----------------------------------

def fake_workspace() -> Workspace:
    return Workspace(id=1, slack_team_id="T1", name="Acme")


def fake_member(user_id: str = "UREP1", *, role: Role | None = Role.REP, name: str | None = None, team_id: int | None = 1, locale: str = "en-US", pk: int | None = None) -> Member:
    return Member(
        id=pk if pk is not None else next(_ids), workspace_id=1, slack_user_id=user_id, name=name or user_id, role=role,
        team_id=team_id, level=Level.SENIOR, region="East China", segment=Segment.KEY, locale=locale,
    )


def fake_actor(role: Role | None = Role.REP, *, admin: bool = False, user_id: str = "UME") -> Actor:
    return Actor(workspace=fake_workspace(), member=fake_member(user_id, role=role), is_admin=admin)


def fake_row(
    task_id: int | None = None,
    *,
    title: str = "Send the quote",
    status: TaskStatus = TaskStatus.OPEN,
    due: date | None = TODAY,
    priority: Priority = Priority.HIGH,
    assignees: list[str] | None = None,
    customer: str | None = "Acme & Sons",
    details: str = "",
    stage: Stage | None = Stage.PROPOSAL,
) -> TaskRow:
    tid = task_id if task_id is not None else next(_ids)
    now = datetime(2031, 3, 1, tzinfo=timezone.utc)
    task = Task(
        id=tid, workspace_id=1, team_id=1, title=title, details=details, stage=stage, priority=priority, difficulty=2,
        due_date=due, status=status, created_at=now, updated_at=now,
    )
    return TaskRow(task=task, customer_name=customer, assignees=assignees or ["UREP1"])
