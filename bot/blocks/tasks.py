"""Task card, task list and their buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.blocks.kit import actions, button, context, divider, fallback_text, header, section
from bot.blocks.refs import Surface, TaskRef
from bot.i18n import Localizer
from bot.models import OPEN_TASK_STATUSES, Member, TaskStatus
from bot.services.actors import Actor
from bot.services.task_changes import shows_edit, shows_manage
from bot.services.tasks import TaskFilter, TaskPage, TaskRow
from bot.text import SlackSafe
from bot.blocks import ids

PAGE_SIZE = 10  # 2 blocks a task keeps a page far below the 50-block message limit


def task_line(row: TaskRow, loc: Localizer, today: date) -> SlackSafe:
    """A task as two mrkdwn lines: title with markers, then customer, stage, due date."""
    return loc.render("task_line.j2", row=row, today=today, overdue=row.is_overdue(today))


def task_buttons(row: TaskRow, loc: Localizer, ref: TaskRef, *, viewer: Actor | None = None) -> list[dict]:
    """Start / Done / Add note, as the task's status allows; with a viewer, also what they may change (Edit, Cancel or Reopen, History)."""
    value = ref.encode()
    out = []
    if row.task.status == TaskStatus.OPEN:
        out.append(button(loc.t("task.button.start"), ids.TASK_START, value))
    if row.task.status in OPEN_TASK_STATUSES:
        out.append(button(loc.t("task.button.done"), ids.TASK_DONE, value, style="primary"))
    if row.task.status != TaskStatus.CANCELLED:
        out.append(button(loc.t("task.button.note"), ids.TASK_NOTE, value))
    if viewer is None:
        return out
    if shows_edit(row, viewer):
        out.append(button(loc.t("task.button.edit"), ids.TASK_EDIT, str(row.task.id)))
    if shows_manage(row, viewer):
        if row.task.status in OPEN_TASK_STATUSES:
            out.append(button(loc.t("task.button.cancel"), ids.TASK_CANCEL, value, style="danger"))
        else:
            out.append(button(loc.t("task.button.reopen"), ids.TASK_REOPEN, value))
    # History only opens a modal: the task id is enough, and keeps a board row's bytes down.
    out.append(button(loc.t("task.button.history"), ids.TASK_HISTORY, str(row.task.id)))
    return out


def task_blocks(row: TaskRow, loc: Localizer, today: date, ref: TaskRef, *, viewer: Actor | None = None) -> list[dict]:
    """The two blocks a task takes in a list: its lines and its buttons."""
    return [section(task_line(row, loc, today)), actions(task_buttons(row, loc, ref, viewer=viewer), block_id=f"task-{row.task.id}")]


def build_task_card(row: TaskRow, loc: Localizer, today: date, *, assigned_by: str | None = None, viewer: Actor | None = None) -> tuple[str, list[dict]]:
    """The message a rep gets for one task (and that its buttons redraw)."""
    ref = TaskRef(row.task.id, Surface.CARD)
    blocks: list[dict] = [section(loc.render("task_card.j2", row=row, today=today, overdue=row.is_overdue(today), assigned_by=assigned_by))]
    blocks.append(actions(task_buttons(row, loc, ref, viewer=viewer), block_id=f"task-{row.task.id}"))
    return fallback_text(loc.md("task.card.fallback", title=row.task.title)), blocks


def build_task_list(page: TaskPage, which: TaskFilter, loc: Localizer, today: date, *, viewer: Actor | None = None) -> tuple[str, list[dict]]:
    """The /mytasks list: one page of tasks with Previous / Next."""
    title = loc.t(f"mytasks.title.{which.value}", n=loc.number(page.total))
    blocks: list[dict] = [header(title)]
    if not page.rows:
        blocks.append(section(loc.md(f"mytasks.empty.{which.value}")))
        return fallback_text(title), blocks
    for row in page.rows:
        blocks.extend(task_blocks(row, loc, today, TaskRef(row.task.id, Surface.LIST, which, page.offset), viewer=viewer))
    if page.has_prev or page.has_next:
        blocks.append(context(loc.md("mytasks.page", page=loc.number(page.number), pages=loc.number(page.pages))))
        nav = []
        if page.has_prev:
            nav.append(button(loc.t("mytasks.prev"), ids.TASKS_PREV, TaskRef(0, Surface.LIST, which, page.prev_offset).encode()))
        if page.has_next:
            nav.append(button(loc.t("mytasks.next"), ids.TASKS_NEXT, TaskRef(0, Surface.LIST, which, page.next_offset).encode()))
        blocks.append(actions(nav, block_id="tasks-nav"))
    blocks.append(context(loc.md("mytasks.hint")))
    return fallback_text(title), blocks


def build_assigned_confirmation(row: TaskRow, loc: Localizer, today: date, *, queued: Sequence[Member] = (), unsure: Sequence[Member] = (), viewer: Actor | None = None) -> tuple[str, list[dict]]:
    """What the manager sees after assigning, naming the assignees whose card has not arrived yet; with a viewer, Edit / Cancel / History."""
    lines = [loc.render("assigned_confirmation.j2", row=row, today=today)]
    lines += [loc.md("assign.card_queued", name=m.name or m.slack_user_id) for m in queued]
    lines += [loc.md("assign.card_unsure", name=m.name or m.slack_user_id) for m in unsure]
    blocks = [section(SlackSafe("\n".join(lines)))]
    if viewer is not None:
        # Only what changes the task: Start and Done are the assignees' to click.
        manage = [b for b in task_buttons(row, loc, TaskRef(row.task.id, Surface.CARD), viewer=viewer) if b["action_id"] in ids.TASK_CHANGES]
        if manage:
            blocks.append(actions(manage, block_id=f"task-{row.task.id}"))
    return fallback_text(loc.md("assign.confirm.fallback", title=row.task.title)), blocks


def build_notice(text: SlackSafe) -> tuple[str, list[dict]]:
    """A one-section message (hints, errors, confirmations)."""
    return fallback_text(text), [section(text)]



