"""The /tasks team board and the manager's team section of the App Home: pure builders."""

from __future__ import annotations

from datetime import date

from bot.blocks import ids
from bot.blocks.kit import Budget, actions, button, context, fallback_text, header, section
from bot.blocks.refs import Surface, TaskRef
from bot.blocks.tasks import task_blocks
from bot.i18n import Localizer
from bot.services.actors import Actor
from bot.services.board import BoardDue, BoardPage, BoardQuery, BoardStatus, RepCounts, TeamSummary
from bot.text import SlackSafe, mention

FILTER_KEYS = {
    BoardStatus.OPEN: "board.filter.open", BoardStatus.OVERDUE: "board.filter.overdue", BoardStatus.DONE: "board.filter.done",
    BoardStatus.CANCELLED: "board.filter.cancelled", BoardStatus.ALL: "board.filter.all",
}
DUE_KEYS = {BoardDue.THIS_WEEK: "board.filter.due.this-week", BoardDue.NEXT_WEEK: "board.filter.due.next-week"}
TEAM_LINES_PER_SECTION = 10  # reps per context block (its limit) on the Home: 300 reps in 30 blocks, far below the byte budget


def counts_line(loc: Localizer, counts: RepCounts) -> SlackSafe:
    """`12 open · 3 overdue · 2 due this week`."""
    return loc.md("board.counts", open=loc.number(counts.open), overdue=loc.number(counts.overdue), week=loc.number(counts.due_week))


def filter_line(query: BoardQuery, loc: Localizer) -> SlackSafe:
    """What the board shows, in words: status, and the rep, customer and due filters when given."""
    parts = [loc.md(FILTER_KEYS[query.status])]
    if query.rep:
        parts.append(loc.md("board.filter.rep", user=mention(query.rep)))
    if query.customer:
        parts.append(loc.md("board.filter.customer", name=query.customer))
    if query.due:
        parts.append(loc.md(DUE_KEYS[query.due]))
    return SlackSafe(" · ".join(parts))


def build_board(page: BoardPage, loc: Localizer, today: date, *, viewer: Actor | None = None) -> tuple[str, list[dict]]:
    """One page of the team board: a line per rep with their counts, then their tasks with the usual buttons."""
    title = loc.tn("board.title", page.total)
    budget = Budget.message()
    budget.add(header(title), context(filter_line(page.query, loc)))
    board = page.query.encode()
    groups: list[list[dict]] = []
    for group in page.groups:
        key = "board.rep_continued" if group.continued else "board.rep"
        head = section(loc.md(key, user=mention(group.member.slack_user_id), counts=counts_line(loc, group.counts), n=loc.number(group.counts.matching)))
        tasks = [task_blocks(row, loc, today, TaskRef(row.task.id, Surface.BOARD, offset=page.offset, board=board), viewer=viewer)
                 for row in group.rows]
        groups.append([head, *tasks[0]])
        groups += tasks[1:]
    closing: list[dict] = []
    if page.has_prev or page.has_next:
        closing.append(context(loc.md("board.page", page=loc.number(page.number), pages=loc.number(page.pages))))
        nav = []
        if page.has_prev:
            nav.append(button(loc.t("board.prev"), ids.TASKS_PREV, TaskRef(0, Surface.BOARD, offset=page.prev_offset, board=board).encode()))
        if page.has_next:
            nav.append(button(loc.t("board.next"), ids.TASKS_NEXT, TaskRef(0, Surface.BOARD, offset=page.next_offset, board=board).encode()))
        closing.append(actions(nav, block_id="tasks-nav"))
    closing.append(context(loc.md("board.hint")))
    if not page.groups:
        budget.add(section(loc.md("board.empty")))
    # A page is sized to fit; the budget only guards against what sizing cannot foresee.
    budget.add_while_fits(groups, more=lambda n: context(loc.mdn("board.cut", n)), reserve=closing)
    budget.add(*closing)
    return fallback_text(title), budget.blocks


def team_section(summary: TeamSummary, loc: Localizer) -> tuple[list[dict], list[list[dict]], list[int]]:
    """The manager's Home team section: (fixed blocks, groups of rep lines, reps per group), for a Budget to place."""
    top = [header(loc.t("board.home.title")), context(loc.md("board.home.hint"))]
    if not summary.lines:
        return [*top, section(loc.md("board.home.empty"))], [], []
    lines = [
        loc.md("board.home.line", user=mention(line.member.slack_user_id), counts=counts_line(loc, line.counts))
        for line in summary.lines
    ]
    chunks = [lines[i:i + TEAM_LINES_PER_SECTION] for i in range(0, len(lines), TEAM_LINES_PER_SECTION)]
    # A context block holds ten short lines in small print: the compact form of a team of 300.
    return top, [[context(*chunk)] for chunk in chunks], [len(c) for c in chunks]
