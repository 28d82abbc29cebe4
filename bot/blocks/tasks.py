"""Task card, task list and their buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.blocks.kit import actions, button, context, divider, fallback_text, header, section
from bot.blocks.refs import Surface, TaskRef
from bot.i18n import Localizer
from bot.models import Member, TaskStatus
from bot.services.tasks import TaskFilter, TaskPage, TaskRow
from bot.text import SlackSafe
from bot.blocks import ids

PAGE_SIZE = 10  # 2 blocks a task keeps a page far below the 50-block message limit


def task_line(row: TaskRow, loc: Localizer, today: date) -> SlackSafe:
    """A task as two mrkdwn lines: title with markers, then customer, stage, due date."""
    return loc.render("task_line.j2", row=row, today=today, overdue=row.is_overdue(today))


def task_buttons(row: TaskRow, loc: Localizer, ref: TaskRef) -> list[dict]:
    """Start / Done / Add note, as the task's status allows."""
    value = ref.encode()
    out = []
    if row.task.status == TaskStatus.OPEN:
        out.append(button(loc.t("task.button.start"), ids.TASK_START, value))
    if row.task.status != TaskStatus.DONE:
        out.append(button(loc.t("task.button.done"), ids.TASK_DONE, value, style="primary"))
    out.append(button(loc.t("task.button.note"), ids.TASK_NOTE, value))
    return out


def task_blocks(row: TaskRow, loc: Localizer, today: date, ref: TaskRef) -> list[dict]:
    """The two blocks a task takes in a list: its lines and its buttons."""
    return [section(task_line(row, loc, today)), actions(task_buttons(row, loc, ref), block_id=f"task-{row.task.id}")]


def build_task_card(row: TaskRow, loc: Localizer, today: date, *, assigned_by: str | None = None) -> tuple[str, list[dict]]:
    """The message a rep gets for one task (and that its buttons redraw)."""
    ref = TaskRef(row.task.id, Surface.CARD)
    blocks: list[dict] = [section(loc.render("task_card.j2", row=row, today=today, overdue=row.is_overdue(today), assigned_by=assigned_by))]
    blocks.append(actions(task_buttons(row, loc, ref), block_id=f"task-{row.task.id}"))
    return fallback_text(loc.md("task.card.fallback", title=row.task.title)), blocks


def build_task_list(page: TaskPage, which: TaskFilter, loc: Localizer, today: date) -> tuple[str, list[dict]]:
    """The /mytasks list: one page of tasks with Previous / Next."""
    title = loc.t(f"mytasks.title.{which.value}", n=loc.number(page.total))
    blocks: list[dict] = [header(title)]
    if not page.rows:
        blocks.append(section(loc.md(f"mytasks.empty.{which.value}")))
        return fallback_text(title), blocks
    for row in page.rows:
        blocks.extend(task_blocks(row, loc, today, TaskRef(row.task.id, Surface.LIST, which, page.offset)))
    if page.has_prev or page.has_next:
        pages = (page.total + page.limit - 1) // page.limit
        blocks.append(context(loc.md("mytasks.page", page=page.offset // page.limit + 1, pages=pages)))
        nav = []
        if page.has_prev:
            nav.append(button(loc.t("mytasks.prev"), ids.TASKS_PREV, TaskRef(0, Surface.LIST, which, page.offset - page.limit).encode()))
        if page.has_next:
            nav.append(button(loc.t("mytasks.next"), ids.TASKS_NEXT, TaskRef(0, Surface.LIST, which, page.offset + page.limit).encode()))
        blocks.append(actions(nav, block_id="tasks-nav"))
    blocks.append(context(loc.md("mytasks.hint")))
    return fallback_text(title), blocks


def build_assigned_confirmation(row: TaskRow, loc: Localizer, today: date, *, queued: Sequence[Member] = (), unsure: Sequence[Member] = ()) -> tuple[str, list[dict]]:
    """What the manager sees after assigning, naming the assignees whose card has not arrived yet."""
    lines = [loc.render("assigned_confirmation.j2", row=row, today=today)]
    lines += [loc.md("assign.card_queued", name=m.name or m.slack_user_id) for m in queued]
    lines += [loc.md("assign.card_unsure", name=m.name or m.slack_user_id) for m in unsure]
    return fallback_text(loc.md("assign.confirm.fallback", title=row.task.title)), [section(SlackSafe("\n".join(lines)))]


def build_notice(text: SlackSafe) -> tuple[str, list[dict]]:
    """A one-section message (hints, errors, confirmations)."""
    return fallback_text(text), [section(text)]



