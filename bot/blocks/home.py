"""The App Home tab: the member's open tasks and, for a manager, the team's overdue work."""

from __future__ import annotations

from datetime import date

from bot.blocks.board import team_section
from bot.blocks.deals import deal_label
from bot.blocks.kit import Budget, actions, button, context, divider, header, section
from bot.blocks.own_tasks import new_task_button
from bot.blocks.refs import Surface, TaskRef
from bot.blocks import ids
from bot.blocks.tasks import task_blocks
from bot.i18n import Localizer
from bot.services.actors import Actor
from bot.services.board import TeamSummary
from bot.services.deal_list import DealPage
from bot.services.tasks import HomeOverview, TaskFilter


def deal_line(view, loc: Localizer, today: date) -> dict:
    """One open deal on the Home: name, amount, stage and when it should close."""
    close = view.deal.expected_close
    when = loc.md("home.deals.no_close") if close is None else (
        loc.md("home.deals.overdue", date=loc.date(close)) if close < today else loc.md("home.deals.closes", date=loc.date(close)))
    return section(loc.md("home.deals.line", deal=deal_label(view.deal, view.customer_name), amount=loc.money(view.deal.amount, view.currency),
                          stage=loc.t(f"stage.{view.deal.stage.value}"), close=when))


def build_home(overview: HomeOverview, actor: Actor, loc: Localizer, today: date, *, deals: DealPage | None = None, team: TeamSummary | None = None) -> dict:
    """A Home view that always fits Slack's limits: 100 blocks, and a byte budget well under 250 kB."""
    if not actor.on_roster:
        return {"type": "home", "blocks": [header(loc.t("home.title")), section(loc.md("home.not_on_roster"))]}
    budget = Budget.view()
    hint = context(loc.md("home.updated_hint"))
    settings = notices_blocks(actor, loc)
    my = overview.my_tasks
    overdue = sum(1 for r in my.rows if r.is_overdue(today))
    budget.add(header(loc.t("home.my_tasks")), context(loc.md("home.summary", open=loc.number(my.total), overdue=loc.number(overdue))))
    budget.add(actions([new_task_button(loc)], block_id="home-new-task"))
    if not my.rows:
        budget.add(section(loc.md("home.no_tasks")))
    team_top = [divider(), header(loc.t("home.team_overdue"))] if actor.is_manager else []
    deals_top = [divider(), header(loc.t("home.deals.title"))] if deals is not None and deals.views else []
    board_top, board_groups, board_counts = team_section(team, loc) if actor.is_manager and team is not None else ([], [], [])
    board_top = [divider(), *board_top] if board_top else []
    budget.add_while_fits(
        [task_blocks(row, loc, today, TaskRef(row.task.id, Surface.HOME, TaskFilter.OPEN, 0), viewer=actor) for row in my.rows],
        more=lambda n: context(loc.mdn("home.more_tasks", n)),
        reserve=[*deals_top, *board_top, *team_top, *settings, hint],
        hidden=my.total - len(my.rows),
    )
    if deals_top:
        budget.add(*deals_top)
        budget.add_while_fits([[deal_line(v, loc, today)] for v in deals.views], more=lambda n: context(loc.mdn("home.deals.more", n)),
                              reserve=[*board_top, *team_top, *settings, hint], hidden=deals.total - len(deals.views))
    if board_top:
        # Counts per rep, most overdue first; past what fits (or 300 reps) the board has the rest.
        budget.add(*board_top)
        budget.add_while_fits(board_groups, counts=board_counts, more=lambda n: context(loc.mdn("board.home.more", n)),
                              reserve=[*team_top, *settings, hint], hidden=team.reps - len(team.lines))
    if actor.is_manager:
        budget.add(*team_top)
        if not overview.team_overdue:
            budget.add(section(loc.md("home.team_all_clear")))
        # A large team is cut with a count: long titles break the byte budget long before the block count.
        budget.add_while_fits(
            [[section(loc.render("home_rep_overdue.j2", rep=rep, today=today))] for rep in overview.team_overdue],
            more=lambda n: context(loc.mdn("home.more_reps", n)),
            reserve=[*settings, hint],
        )
    budget.add(*settings, hint)
    return {"type": "home", "blocks": budget.blocks}


def notices_blocks(actor: Actor, loc: Localizer) -> list[dict]:
    """The Home's settings: task notices (done, notes in the card's thread) on or off, with the button that flips them."""
    on = actor.member.task_notices
    line = section(loc.md("home.notices.on" if on else "home.notices.off"), block_id="home-notices")
    flip = button(loc.t("home.notices.turn_off" if on else "home.notices.turn_on"), ids.HOME_NOTICES, "off" if on else "on")
    return [divider(), line, actions([flip], block_id="home-notices-actions")]
