"""The App Home tab: the member's open tasks and, for a manager, the team's overdue work."""

from __future__ import annotations

from datetime import date

from bot.blocks.kit import VIEW_MAX_BLOCKS, context, divider, header, section
from bot.blocks.refs import Surface, TaskRef
from bot.blocks.tasks import task_blocks
from bot.i18n import Localizer
from bot.services.actors import Actor
from bot.services.tasks import HomeOverview, TaskFilter


def build_home(overview: HomeOverview, actor: Actor, loc: Localizer, today: date) -> dict:
    """A Home view that always fits Slack's 100-block limit."""
    blocks: list[dict] = []
    if not actor.on_roster:
        blocks += [header(loc.t("home.title")), section(loc.md("home.not_on_roster"))]
        return {"type": "home", "blocks": blocks}
    my = overview.my_tasks
    overdue = sum(1 for r in my.rows if r.is_overdue(today))
    blocks.append(header(loc.t("home.my_tasks")))
    blocks.append(context(loc.md("home.summary", open=loc.number(my.total), overdue=loc.number(overdue))))
    if not my.rows:
        blocks.append(section(loc.md("home.no_tasks")))
    for row in my.rows:
        blocks.extend(task_blocks(row, loc, today, TaskRef(row.task.id, Surface.HOME, TaskFilter.OPEN, 0)))
    if my.total > len(my.rows):
        blocks.append(context(loc.md("home.more_tasks", n=loc.number(my.total - len(my.rows)))))
    if actor.is_manager:
        blocks += [divider(), header(loc.t("home.team_overdue"))]
        if not overview.team_overdue:
            blocks.append(section(loc.md("home.team_all_clear")))
        # Leave room for the two closing context lines (how many more reps, the hint); a large team is cut with a count.
        room = VIEW_MAX_BLOCKS - len(blocks) - 2
        shown = overview.team_overdue[:room]
        for rep in shown:
            blocks.append(section(loc.render("home_rep_overdue.j2", rep=rep, today=today)))
        if len(overview.team_overdue) > len(shown):
            blocks.append(context(loc.md("home.more_reps", n=loc.number(len(overview.team_overdue) - len(shown)))))
    blocks.append(context(loc.md("home.updated_hint")))
    return {"type": "home", "blocks": blocks[:VIEW_MAX_BLOCKS]}
