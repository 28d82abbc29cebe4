"""Changing a task: the edit, cancel and history modals, the hand-over DM and the one-line notices."""

from __future__ import annotations

import json
from datetime import date

from bot.blocks import ids
from bot.blocks.kit import Budget, context, fallback_text, input_block, modal, option, plain, section
from bot.blocks.modals import AssignPrefill, _date_el, _known, _select, _text_el, stage_options
from bot.blocks.modals import TITLE_MAX
from bot.i18n import Localizer
from bot.models import Deal, Member, Priority, Segment, TaskEventKind
from bot.services.actors import safe_zone
from bot.services.task_changes import Change, Handover, HistoryEntry
from bot.services.tasks import TaskRow
from bot.text import SlackSafe, escape, mention, truncate

# Catalog ids spelled out, so every one the code can use is found in the catalogs.
FIELD_NAMES = {
    "title": "task.field.title", "details": "task.field.details", "assignees": "task.field.assignees", "customer": "task.field.customer",
    "deal": "task.field.deal", "stage": "task.field.stage", "priority": "task.field.priority", "difficulty": "task.field.difficulty",
    "due_date": "task.field.due_date",
}
HISTORY_KINDS = {
    TaskEventKind.CREATED: "task.history.created", TaskEventKind.STARTED: "task.history.started", TaskEventKind.DONE: "task.history.done",
    TaskEventKind.NOTE: "task.history.note", TaskEventKind.EDITED: "task.history.edited", TaskEventKind.CANCELLED: "task.history.cancelled",
    TaskEventKind.REOPENED: "task.history.reopened",
}
HISTORY_WITH_TEXT = {TaskEventKind.NOTE: "task.history.note_with", TaskEventKind.CANCELLED: "task.history.cancelled_with"}
HISTORY_MAX_BLOCKS = 95  # under the modal's 100, leaving room for the title block and the count of older entries


def _meta(metadata: dict) -> str:
    return json.dumps(metadata, separators=(",", ":"))


def edit_prefill(row: TaskRow, customer_option: dict | None) -> AssignPrefill:
    """The assign modal's fields as the task has them now."""
    t = row.task
    return AssignPrefill(
        title=t.title, assignees=list(row.assignees), customer=customer_option, stage=t.stage.value if t.stage else None,
        priority=str(int(t.priority)), difficulty=str(t.difficulty), due=t.due_date.isoformat() if t.due_date else None, details=t.details,
    )


def deal_options(deals: list[Deal], loc: Localizer) -> list[dict]:
    """A task's possible deals (its customer's), within Slack's 100 options."""
    out = []
    for d in deals[:100]:
        label = d.title or loc.t("task.edit.deal_untitled", id=d.id)
        out.append(option(f"{label} · {loc.t('stage.' + d.stage.value)}", str(d.id)))
    return out


def build_edit_modal(loc: Localizer, *, row: TaskRow, full: bool, metadata: dict, customer_option: dict | None = None, deals: list[Deal] = ()) -> dict:
    """The task's modal prefilled; a rep editing a task they gave themselves sees only the due date and priority."""
    p = edit_prefill(row, customer_option)
    priorities = [option(loc.t(f"priority.{x.value}"), str(x.value)) for x in Priority]
    priority = input_block(ids.ASSIGN_PRIORITY, loc.t("assign.priority.label"), _select("value", loc, priorities, _known(p.priority, priorities, "2")))
    due = input_block(ids.ASSIGN_DUE, loc.t("assign.due.label"), _date_el(p.due), optional=True)
    if not full:
        blocks = [section(loc.md("task.edit.own_only", title=row.task.title)), priority, due]
    else:
        title_el = {"type": "plain_text_input", "action_id": "value", "max_length": TITLE_MAX, "initial_value": p.title[:TITLE_MAX]}
        users_el = {"type": "multi_users_select", "action_id": "value", "initial_users": p.assignees[:20], "placeholder": plain(loc.t("assign.assignees.placeholder"), 150)}
        customer_el: dict = {"type": "external_select", "action_id": ids.ASSIGN_CUSTOMER_SEARCH, "min_query_length": 0, "placeholder": plain(loc.t("assign.customer.placeholder"), 150)}
        if p.customer:
            customer_el["initial_option"] = p.customer
        segments = [option(loc.t(f"segment.{s.value}"), s.value) for s in Segment]
        difficulties = [option(loc.t(f"difficulty.{d}"), str(d)) for d in (1, 2, 3)]
        blocks = [
            input_block(ids.ASSIGN_TITLE, loc.t("assign.title.label"), title_el),
            input_block(ids.ASSIGN_ASSIGNEES, loc.t("assign.assignees.label"), users_el, hint=loc.t("task.edit.assignees_hint")),
            input_block(ids.ASSIGN_CUSTOMER, loc.t("assign.customer.label"), customer_el, optional=True),
            input_block(ids.ASSIGN_NEW_CUSTOMER, loc.t("assign.new_customer.label"), _text_el(200), optional=True, hint=loc.t("assign.new_customer.hint")),
            input_block(ids.ASSIGN_SEGMENT, loc.t("assign.segment.label"), _select("value", loc, segments, Segment.SMB.value), optional=True),
        ]
        options = deal_options(list(deals), loc)
        if options:
            current = str(row.task.deal_id) if row.task.deal_id else None
            blocks.append(input_block(ids.TASK_EDIT_DEAL, loc.t("task.edit.deal_label"), _select("value", loc, options, _known(current, options), placeholder=loc.t("task.edit.deal_placeholder")), optional=True))
        blocks += [
            input_block(ids.ASSIGN_STAGE, loc.t("assign.stage.label"), _select("value", loc, stage_options(loc), _known(p.stage, stage_options(loc)), placeholder=loc.t("assign.stage.placeholder")), optional=True),
            priority,
            input_block(ids.ASSIGN_DIFFICULTY, loc.t("assign.difficulty.label"), _select("value", loc, difficulties, _known(p.difficulty, difficulties, "1")), hint=loc.t("assign.difficulty.hint")),
            due,
            input_block(ids.ASSIGN_DETAILS, loc.t("assign.details.label"), _text_el(3000, p.details, multiline=True), optional=True),
        ]
    return modal(callback_id=ids.TASK_EDIT_VIEW, title=loc.t("task.edit.title"), submit=loc.t("task.edit.submit"), close=loc.t("common.cancel"), blocks=blocks, private_metadata=_meta(metadata))


def build_cancel_modal(loc: Localizer, *, row: TaskRow, metadata: dict) -> dict:
    """Asks why a task is cancelled before it is."""
    blocks = [
        section(loc.md("task.cancel.modal.task", title=row.task.title)),
        input_block(ids.CANCEL_REASON, loc.t("task.cancel.modal.label"), {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 500}),
    ]
    return modal(callback_id=ids.CANCEL_VIEW, title=loc.t("task.cancel.modal.title"), submit=loc.t("task.cancel.modal.submit"), close=loc.t("common.cancel"), blocks=blocks, private_metadata=_meta(metadata))


# --------------------------------------------------------------------------- showing changes

def change_value(loc: Localizer, c_field: str, value: str | None, today: date | None = None) -> SlackSafe:
    """One stored value of a change as the viewer reads it."""
    if value is None or value == "":
        return SlackSafe(loc.t("common.na"))
    if c_field == "due_date":
        try:
            return escape(loc.date(date.fromisoformat(value)))
        except ValueError:
            return escape(value)
    if c_field == "priority" and value in {"1", "2", "3"}:
        return escape(loc.t(f"priority.{value}"))
    if c_field == "difficulty" and value in {"1", "2", "3"}:
        return escape(loc.t(f"difficulty.{value}"))
    if c_field == "stage":
        return escape(loc.t(f"stage.{value}"))
    if c_field == "assignees":
        return SlackSafe(", ".join(mention(u) for u in value.split(",") if u))
    if c_field == "deal":
        return escape(loc.t("task.edit.deal_untitled", id=value))
    return escape(truncate(value, 200))


def change_line(loc: Localizer, c: Change) -> SlackSafe:
    """`Due date: Mar 12 → Mar 14`, in the viewer's language."""
    name = loc.t(FIELD_NAMES[c.field])
    if c.field == "details":
        return loc.md("task.change.details", field=name)
    return loc.md("task.change.line", field=name, old=change_value(loc, c.field, c.old), new=change_value(loc, c.field, c.new))


def history_line(loc: Localizer, entry: HistoryEntry, tz: str) -> SlackSafe:
    """One history entry: when (viewer's zone), who, what."""
    who = mention(entry.actor_user_id) if entry.actor_user_id else SlackSafe(loc.t("task.history.someone"))
    when = escape(loc.datetime(entry.at, str(safe_zone(tz))))
    if entry.kind == TaskEventKind.EDITED and entry.change is not None:
        what = change_line(loc, entry.change)
    elif entry.kind in HISTORY_WITH_TEXT and entry.note:
        what = loc.md(HISTORY_WITH_TEXT[entry.kind], text=truncate(entry.note, 1500))
    else:
        what = escape(loc.t(HISTORY_KINDS.get(entry.kind, "task.history.edited")))
    return loc.md("task.history.line", when=when, who=who, what=what)


def build_history_modal(loc: Localizer, *, row: TaskRow, entries: list[HistoryEntry], older: int, tz: str) -> dict:
    """Who did what when, oldest first, in the viewer's zone and language; the oldest are left out past Slack's limits."""
    budget = Budget.view()
    head = [section(loc.md("task.history.task", title=row.task.title))]
    if older:
        head.append(context(loc.mdn("task.history.older", older)))
    budget.add(*head)
    budget.add_while_fits([[section(history_line(loc, e, tz))] for e in entries[-HISTORY_MAX_BLOCKS:]], more=lambda n: context(loc.mdn("task.history.older", n)))
    return modal(callback_id=ids.HISTORY_VIEW, title=loc.t("task.history.title"), close=loc.t("task.history.close"), blocks=budget.blocks)


# --------------------------------------------------------------------------- notices

def edit_notice(loc: Localizer, *, row: TaskRow, changes: list[Change], by: str) -> SlackSafe | None:
    """The line remaining assignees get: what changed of the due date and priority (None when neither did)."""
    parts = [change_line(loc, c) for c in changes if c.field in ("due_date", "priority")]
    if not parts:
        return None
    return loc.md("task.notice.edited", title=row.task.title, by=mention(by), changes=SlackSafe("; ".join(parts)))


def removed_notice(loc: Localizer, *, row: TaskRow, by: str) -> SlackSafe:
    """The line a removed assignee gets."""
    return loc.md("task.notice.removed", title=row.task.title, by=mention(by))


def done_notice(loc: Localizer, *, row: TaskRow, by: str) -> SlackSafe:
    """The line a task's creator gets when someone else finished it."""
    return loc.md("task.notice.done", title=row.task.title, by=mention(by))


def note_notice(loc: Localizer, *, row: TaskRow, by: str, note: str) -> SlackSafe:
    """A note as a reply in the thread of the reader's card."""
    return loc.md("task.notice.note", title=row.task.title, by=mention(by), note=truncate(note, 2500))


def status_notice(loc: Localizer, *, row: TaskRow, by: str, cancelled: bool, reason: str = "") -> SlackSafe:
    """The line assignees get when their task is cancelled or reopened."""
    if cancelled:
        return loc.md("task.notice.cancelled", title=row.task.title, by=mention(by), reason=truncate(reason, 500))
    return loc.md("task.notice.reopened", title=row.task.title, by=mention(by))


def moved_card(loc: Localizer, *, row: TaskRow, by: str) -> tuple[str, list[dict]]:
    """What a removed assignee's card becomes: no buttons left to click."""
    text = removed_notice(loc, row=row, by=by)
    return fallback_text(text), [section(text)]


# --------------------------------------------------------------------------- hand-over on leave

def handover_block_id(task_id: int, member_id: int) -> str:
    """The picker's block: which task, and which assignee (the rep on leave) it moves."""
    return f"handover-{task_id}-{member_id}"


def parse_handover_block(block_id: str) -> tuple[int, int] | None:
    """(task id, member id) from a picker's block id, None for anything else."""
    parts = (block_id or "").split("-")
    if len(parts) != 3 or parts[0] != "handover" or not (parts[1].isdigit() and parts[2].isdigit()) or len(parts[1]) > 10 or len(parts[2]) > 10:
        return None
    return int(parts[1]), int(parts[2])


def build_handover(loc: Localizer, h: Handover, today: date) -> tuple[str, list[dict]]:
    """The manager's DM: the rep's open tasks due during the leave, each with a Reassign picker."""
    title = loc.mdn("handover.title", h.total, rep=mention(h.member.slack_user_id), start=loc.date(h.start), end=loc.date(h.end))
    blocks = [section(title)]
    for row in h.rows:
        picker = {"type": "users_select", "action_id": ids.TASK_REASSIGN, "placeholder": plain(loc.t("handover.pick"), 150)}
        line = loc.render("task_line.j2", row=row, today=today, overdue=row.is_overdue(today))
        blocks.append(section(line, block_id=handover_block_id(row.task.id, h.member.id), accessory=picker))
    if h.total > len(h.rows):
        blocks.append(context(loc.mdn("handover.more", h.total - len(h.rows))))
    return fallback_text(loc.md("handover.fallback", rep=mention(h.member.slack_user_id))), blocks


def handover_moved(blocks: list[dict], block_id: str, line: SlackSafe) -> list[dict]:
    """The hand-over DM with one task's picker replaced by where it went."""
    return [section(line, block_id=block_id) if b.get("block_id") == block_id else b for b in blocks]


def moved_line(loc: Localizer, *, row: TaskRow, to: Member) -> SlackSafe:
    """`✓ Call Acme → @rita`."""
    return loc.md("handover.moved", title=row.task.title, to=mention(to.slack_user_id))
