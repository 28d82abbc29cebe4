"""Stage playbooks: the checklist tasks a deal's owner gets when the deal enters a stage.

Each stage has a default checklist drawn from what the stage is for; a team may replace it
with its own items (PlaybookItem rows). A PlaybookRun row, keyed by (deal, stage) and
inserted with conflict-do-nothing, makes the checklist happen once per deal and stage, even
when the deal moves away and back or two clicks race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import upsert
from bot.i18n import I18n
from bot.models import Deal, Member, PlaybookItem, PlaybookRun, Priority, Stage, Task, TaskStatus
from bot.services.actors import Actor, safe_zone
from bot.services.errors import NotOnRoster, PermissionDenied, ServiceError
from bot.services.tasks import insert_tasks

ITEM_MAX = 200
ITEMS_MAX = 10
DUE_IN_DAYS = 3

# The default checklist of each stage, as catalog ids (the text is stored in the owner's language).
DEFAULT_ITEMS: dict[Stage, list[str]] = {
    Stage.LEAD: ["deal.playbook.default.lead"],
    Stage.FIRST_CONTACT: ["deal.playbook.default.first_contact"],
    Stage.NEEDS_ANALYSIS: ["deal.playbook.default.needs_analysis"],
    Stage.PROPOSAL: ["deal.playbook.default.proposal"],
    Stage.NEGOTIATION: ["deal.playbook.default.negotiation"],
    Stage.AFTER_SALES: ["deal.playbook.default.after_sales"],
}


@dataclass
class Checklist:
    """A team's checklist for one stage; `custom` is False when the defaults apply."""

    stage: Stage
    titles: list[str]
    custom: bool


async def team_items(session: AsyncSession, *, workspace_id: int, team_id: int | None, stage: Stage) -> list[str]:
    """A team's own checklist titles for a stage, in order (empty when it uses the defaults)."""
    if team_id is None:
        return []
    q = (
        select(PlaybookItem.title)
        .where(PlaybookItem.workspace_id == workspace_id, PlaybookItem.team_id == team_id, PlaybookItem.stage == stage)
        .order_by(PlaybookItem.position, PlaybookItem.id)
    )
    return list((await session.execute(q)).scalars())


async def checklist_for(session: AsyncSession, *, workspace_id: int, team_id: int | None, stage: Stage, i18n: I18n, locale: str) -> Checklist:
    """The titles a deal entering `stage` gets: the team's own, or the defaults in `locale`'s language."""
    own = await team_items(session, workspace_id=workspace_id, team_id=team_id, stage=stage)
    if own:
        return Checklist(stage, own, True)
    loc = i18n.get(locale)
    return Checklist(stage, [loc.t(key) for key in DEFAULT_ITEMS[stage]], False)


async def run_playbook(session: AsyncSession, *, actor: Actor, deal: Deal, stage: Stage, owner: Member, now: datetime, i18n: I18n) -> list[Task]:
    """Create the stage's checklist tasks for the deal's owner, unless this deal already had them for this stage."""
    claimed = await upsert(session, PlaybookRun, {"deal_id": deal.id, "stage": stage.value, "created_at": now}, keys=["deal_id", "stage"], returning=[PlaybookRun.deal_id])
    if claimed.first() is None:
        return []
    checklist = await checklist_for(session, workspace_id=deal.workspace_id, team_id=deal.team_id, stage=stage, i18n=i18n, locale=owner.locale)
    due = now.astimezone(safe_zone(owner.tz)).date() + timedelta(days=DUE_IN_DAYS)
    # The same rows the assign modal writes (task, assignee, "created" event), so the tasks
    # show in /mytasks and on the Home like any other.
    tasks = [
        Task(
            workspace_id=deal.workspace_id, team_id=deal.team_id, title=title[:ITEM_MAX], customer_id=deal.customer_id,
            deal_id=deal.id, stage=stage, priority=Priority.MEDIUM, difficulty=1, due_date=due, status=TaskStatus.OPEN,
            created_by_id=actor.member.id, created_at=now, updated_at=now,
        )
        for title in checklist.titles
    ]
    return await insert_tasks(session, tasks=tasks, assignee_ids=[owner.id], actor_id=actor.member.id, now=now)


def _team_id(actor: Actor) -> int:
    if actor.member.team_id is None:
        raise NotOnRoster() if not actor.is_admin else PermissionDenied("deal.playbook.error.no_team")
    return actor.member.team_id


async def show_playbook(session: AsyncSession, *, actor: Actor, stage: Stage, i18n: I18n) -> Checklist:
    """The actor's team checklist for a stage (anyone on the team may look)."""
    team_id = _team_id(actor)
    return await checklist_for(session, workspace_id=actor.workspace.id, team_id=team_id, stage=stage, i18n=i18n, locale=actor.member.locale)


async def set_playbook(session: AsyncSession, *, actor: Actor, stage: Stage, titles: list[str], i18n: I18n) -> Checklist:
    """Replace the team's checklist for a stage (managers and admins); no titles restores the defaults."""
    if not (actor.is_admin or actor.is_manager):
        if not actor.on_roster:
            raise NotOnRoster()
        raise PermissionDenied("deal.playbook.error.managers_only")
    team_id = _team_id(actor)
    clean = [t.strip() for t in titles if t.strip()]
    if len(clean) > ITEMS_MAX:
        raise ServiceError("deal.playbook.error.too_many", max=ITEMS_MAX)
    if any(len(t) > ITEM_MAX for t in clean):
        raise ServiceError("deal.playbook.error.too_long", max=ITEM_MAX)
    await session.execute(
        delete(PlaybookItem).where(PlaybookItem.workspace_id == actor.workspace.id, PlaybookItem.team_id == team_id, PlaybookItem.stage == stage)
    )
    session.add_all([PlaybookItem(workspace_id=actor.workspace.id, team_id=team_id, stage=stage, position=i, title=t) for i, t in enumerate(clean)])
    await session.flush()
    return await checklist_for(session, workspace_id=actor.workspace.id, team_id=team_id, stage=stage, i18n=i18n, locale=actor.member.locale)
