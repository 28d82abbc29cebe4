"""Own tasks, repeat rules, reminders and escalations: the replies, the New task modal and the DMs (pure)."""

from __future__ import annotations

import json
from datetime import date

from babel.dates import get_day_names

from bot.blocks import ids
from bot.blocks.kit import actions, button, context, fallback_text, header, input_block, modal, option, plain, section
from bot.blocks.refs import Surface, TaskRef
from bot.blocks.tasks import task_blocks, task_line
from bot.i18n import Localizer
from bot.models import Priority, RepeatKind, TaskRule
from bot.services.repeats import RepeatSpec, spec_of
from bot.services.tasks import TaskRow
from bot.text import SlackSafe, mention


def describe_repeat(spec: RepeatSpec, loc: Localizer) -> str:
    """A rule in words: every working day; every Monday, Thursday; every month on day 15; every quarter on day 15."""
    if spec.kind == RepeatKind.WORKDAYS:
        return loc.t("repeat.workdays")
    if spec.kind == RepeatKind.WEEKLY:
        names = get_day_names("wide", locale=loc.babel_locale)
        return loc.t("repeat.weekly", days=loc.t("repeat.separator").join(names[d] for d in sorted(spec.weekdays)))
    key = "repeat.monthly" if spec.kind == RepeatKind.MONTHLY else "repeat.quarterly"
    return loc.t(key, day=spec.month_day)


def stop_button(rule_id: int, loc: Localizer) -> dict:
    """The button that stops a repeat rule (its value: the rule id)."""
    return button(loc.t("repeat.button.stop"), ids.REPEAT_STOP, str(rule_id))


def edit_rule_button(rule_id: int, loc: Localizer) -> dict:
    """The button that opens a repeat rule's edit modal (its value: the rule id)."""
    return button(loc.t("repeat.button.edit"), ids.REPEAT_EDIT, str(rule_id))


def build_own_created(loc: Localizer, today: date, *, row: TaskRow | None = None, rule: TaskRule | None = None) -> tuple[str, list[dict]]:
    """The reply to `/mytasks add` (or the Home's New task): the task with its buttons, or the rule and its first date."""
    if row is not None:
        head = loc.md("own.created", title=row.task.title)
        return fallback_text(head), [section(head), *task_blocks(row, loc, today, TaskRef(row.task.id, Surface.CARD))]
    assert rule is not None
    first = loc.date_long(rule.next_on) if rule.next_on else loc.t("due.none")
    head = loc.md("own.rule_created", title=rule.title, rule=describe_repeat(spec_of(rule), loc), first=first)
    blocks = [section(head), context(loc.md("own.rule_hint")), actions([edit_rule_button(rule.id, loc), stop_button(rule.id, loc)], block_id=f"rule-{rule.id}")]
    return fallback_text(head), blocks


def build_rule_list(rules: list[TaskRule], total: int, loc: Localizer) -> tuple[str, list[dict]]:
    """`/mytasks repeats`: each running rule with its next date, and Edit and Stop buttons."""
    title = loc.t("repeat.list.title", n=loc.number(total))
    blocks: list[dict] = [header(title)]
    if not rules:
        blocks.append(section(loc.md("repeat.list.empty")))
    for rule in rules:
        line = loc.md("repeat.list.line", title=rule.title, rule=describe_repeat(spec_of(rule), loc),
                      next=loc.date_long(rule.next_on) if rule.next_on else loc.t("due.none"))
        blocks.append(section(line))
        blocks.append(actions([edit_rule_button(rule.id, loc), stop_button(rule.id, loc)], block_id=f"rule-{rule.id}"))
    if total > len(rules):
        blocks.append(context(loc.mdn("repeat.list.more", total - len(rules))))
    return fallback_text(title), blocks


def rule_stopped_text(loc: Localizer, rule: TaskRule, *, changed: bool) -> SlackSafe:
    """The answer to Stop repeating: stopped now, or already."""
    return loc.md("repeat.stopped" if changed else "repeat.already_stopped", title=rule.title, rule=describe_repeat(spec_of(rule), loc))


def build_occurrence_card(row: TaskRow, loc: Localizer, today: date, *, rule_id: int, rule_text: str, editable: bool = False) -> tuple[str, list[dict]]:
    """An occurrence's DM: the task card and a line saying it repeats, with Stop (and Edit on a rule of one's own tasks)."""
    ref = TaskRef(row.task.id, Surface.CARD)
    rule_buttons = [edit_rule_button(rule_id, loc)] if editable else []
    blocks = [
        section(task_line(row, loc, today)),
        actions([*task_blocks(row, loc, today, ref)[1]["elements"], *rule_buttons, stop_button(rule_id, loc)], block_id=f"task-{row.task.id}"),
        context(loc.md("repeat.card_line", rule=rule_text)),
    ]
    return fallback_text(loc.md("task.card.fallback", title=row.task.title)), blocks


NUDGE_TASKS_MAX = 20  # two blocks a task keeps a reminder inside a message's 50 blocks


def build_reminder(rows: list[TaskRow], loc: Localizer, today: date, *, total: int | None = None) -> tuple[str, list[dict]]:
    """The reminder DM before due dates: one task with its card buttons, or several (of `total`), each with its buttons."""
    total = len(rows) if total is None else total
    if total == 1 and rows:
        row = rows[0]
        head = loc.md("remind.text", title=row.task.title, due=loc.due(row.task.due_date, today))
        return fallback_text(head), [section(head), *task_blocks(row, loc, today, TaskRef(row.task.id, Surface.CARD))]
    head = loc.mdn("remind.many", total)
    blocks = [section(head)]
    shown = rows[:NUDGE_TASKS_MAX]
    for row in shown:
        # A click redraws the rep's open list in place of this message (it lists these tasks too).
        blocks += task_blocks(row, loc, today, TaskRef(row.task.id, Surface.LIST))
    if total > len(shown):
        blocks.append(context(loc.mdn("home.more_tasks", total - len(shown))))
    return fallback_text(head), blocks


ESCALATIONS_SHOWN = 40  # one section a task, inside a message's 50 blocks


def build_escalation(rows: list[TaskRow], loc: Localizer, today: date, *, reps: dict[int, list[str]], days: dict[int, int],
                     total: int | None = None) -> tuple[str, list[dict]]:
    """The manager's DM about their reps' tasks (`total` of them) that became overdue by the team's number of working days."""
    total = len(rows) if total is None else total
    head = loc.mdn("escalate.title", total)
    blocks = [section(head)]
    shown = rows[:ESCALATIONS_SHOWN]
    for row in shown:
        who = SlackSafe(", ".join(mention(u) for u in reps.get(row.task.id, [])))
        line = loc.mdn("escalate.text", days.get(row.task.id, 0), reps=who, title=row.task.title, due=loc.date_long(row.task.due_date))
        blocks.append(section(line, block_id=f"escalate-{row.task.id}"))
    if total > len(shown):
        blocks.append(context(loc.mdn("escalate.more", total - len(shown))))
    return fallback_text(head), blocks


def build_new_task_modal(loc: Localizer, *, metadata: dict) -> dict:
    """The Home's New task modal: title, due date, priority and customer; the task is the member's own."""
    priorities = [option(loc.t(f"priority.{p.value}"), str(p.value)) for p in Priority]
    blocks = [
        input_block(ids.OWN_TITLE, loc.t("assign.title.label"), {"type": "plain_text_input", "action_id": "value", "max_length": 200}),
        input_block(ids.OWN_DUE, loc.t("assign.due.label"), {"type": "datepicker", "action_id": "value"}, optional=True),
        input_block(ids.OWN_PRIORITY, loc.t("assign.priority.label"),
                    {"type": "static_select", "action_id": "value", "options": priorities, "initial_option": priorities[1]}),
        input_block(ids.OWN_CUSTOMER, loc.t("own.customer.label"), {"type": "plain_text_input", "action_id": "value", "max_length": 200},
                    optional=True, hint=loc.t("own.customer.hint")),
    ]
    return modal(
        callback_id=ids.OWN_VIEW, title=loc.t("own.modal.title"), submit=loc.t("own.modal.submit"), close=loc.t("common.cancel"),
        blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def new_task_button(loc: Localizer) -> dict:
    """The Home's New task button."""
    return button(loc.t("own.button.new"), ids.HOME_NEW_TASK, "new", style="primary")


def build_rule_edit_modal(loc: Localizer, *, rule: TaskRule, assignees: list[str] | None, metadata: dict) -> dict:
    """A repeat rule's edit modal, prefilled: title, details (when it has them, or for a manager), priority, the repeat,
    and the assignees when `assignees` is given (managers and admins)."""
    priorities = [option(loc.t(f"priority.{p.value}"), str(p.value)) for p in Priority]
    kinds = [option(loc.t(f"assign.repeat.{k.value}"), k.value) for k in RepeatKind]
    names = get_day_names("wide", locale=loc.babel_locale)
    days = [option(names[i], str(i)) for i in range(7)]
    spec = spec_of(rule)
    title_el = {"type": "plain_text_input", "action_id": "value", "max_length": 200, "initial_value": rule.title[:200]}
    days_el: dict = {"type": "multi_static_select", "action_id": "value", "options": days,
                     "placeholder": plain(loc.t("assign.repeat_days.placeholder"), 150)}
    chosen = [o for o in days if int(o["value"]) in spec.weekdays]
    if chosen:
        days_el["initial_options"] = chosen
    day_el: dict = {"type": "number_input", "action_id": "value", "is_decimal_allowed": False, "min_value": "1", "max_value": "31"}
    if spec.month_day is not None:
        day_el["initial_value"] = str(spec.month_day)
    priority = next((o for o in priorities if o["value"] == str(int(rule.priority))), priorities[1])
    kind = next(o for o in kinds if o["value"] == spec.kind.value)
    blocks = [input_block(ids.RULE_TITLE, loc.t("assign.title.label"), title_el)]
    if rule.details or assignees is not None:
        details_el = {"type": "plain_text_input", "action_id": "value", "max_length": 3000, "multiline": True}
        if rule.details:
            details_el["initial_value"] = rule.details[:3000]
        blocks.append(input_block(ids.RULE_DETAILS, loc.t("assign.details.label"), details_el, optional=True))
    if assignees is not None:
        users_el = {"type": "multi_users_select", "action_id": "value", "initial_users": assignees[:20],
                    "placeholder": plain(loc.t("assign.assignees.placeholder"), 150)}
        blocks.append(input_block(ids.RULE_ASSIGNEES, loc.t("assign.assignees.label"), users_el))
    blocks += [
        input_block(ids.RULE_PRIORITY, loc.t("assign.priority.label"),
                    {"type": "static_select", "action_id": "value", "options": priorities, "initial_option": priority}),
        input_block(ids.RULE_KIND, loc.t("assign.repeat.label"), {"type": "static_select", "action_id": "value", "options": kinds, "initial_option": kind}),
        input_block(ids.RULE_DAYS, loc.t("assign.repeat_days.label"), days_el, optional=True),
        input_block(ids.RULE_MONTH_DAY, loc.t("repeat.edit.month_day.label"), day_el, optional=True, hint=loc.t("repeat.edit.month_day.hint")),
        context(loc.md("repeat.edit.hint")),
    ]
    return modal(
        callback_id=ids.RULE_EDIT_VIEW, title=loc.t("repeat.edit.title"), submit=loc.t("repeat.edit.submit"), close=loc.t("common.cancel"),
        blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def rule_saved_text(loc: Localizer, rule: TaskRule, *, changed: bool) -> SlackSafe:
    """The answer to a saved rule edit: what it is now and its next date, or that nothing changed."""
    if not changed:
        return loc.md("repeat.edit.unchanged", title=rule.title)
    first = loc.date_long(rule.next_on) if rule.next_on else loc.t("due.none")
    return loc.md("repeat.edit.saved", title=rule.title, rule=describe_repeat(spec_of(rule), loc), next=first)
