"""Saving the assign modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.tasks import build_assigned_confirmation
from bot.blocks.own_tasks import build_own_created
from bot.models import Priority, RepeatKind, Segment, Stage, TaskRule
from bot.services import standup, tasks
from bot.services.repeats import RepeatSpec, create_assigned_rule
from bot.surfaces import publish_homes, send_task_cards
from handlers.views.form import Form, save_form
from handlers.views.state import BadField, choice, metadata, selected_date, selected_id, selected_users, selected_value, selected_values, text_value

# Service field names → the modal's block ids, so an error shows under the right field.
FORM = Form(fallback=ids.ASSIGN_TITLE, fields={
    "title": ids.ASSIGN_TITLE,
    "details": ids.ASSIGN_DETAILS,
    "assignees": ids.ASSIGN_ASSIGNEES,
    "customer": ids.ASSIGN_CUSTOMER,
    "new_customer": ids.ASSIGN_NEW_CUSTOMER,
    "stage": ids.ASSIGN_STAGE,
    "priority": ids.ASSIGN_PRIORITY,
    "difficulty": ids.ASSIGN_DIFFICULTY,
    "due_date": ids.ASSIGN_DUE,
    "repeat": ids.ASSIGN_REPEAT,
})


def _level(view: dict, block_id: str, allowed: set[str], default):
    value = selected_value(view, block_id)
    if value is None:
        return default
    if value not in allowed:
        raise BadField(block_id, "form.error.bad_choice")
    return int(value)


def draft_from_view(view: dict) -> tasks.TaskDraft:
    """Turn the submitted state into a TaskDraft; a value the form could not have sent is refused at its field."""
    return tasks.TaskDraft(
        title=text_value(view, ids.ASSIGN_TITLE),
        details=text_value(view, ids.ASSIGN_DETAILS),
        assignee_user_ids=selected_users(view, ids.ASSIGN_ASSIGNEES),
        customer_id=selected_id(view, ids.ASSIGN_CUSTOMER),
        new_customer_name=text_value(view, ids.ASSIGN_NEW_CUSTOMER) or None,
        new_customer_segment=choice(view, ids.ASSIGN_SEGMENT, Segment, Segment.SMB),
        stage=choice(view, ids.ASSIGN_STAGE, Stage, None),
        priority=Priority(_level(view, ids.ASSIGN_PRIORITY, {"1", "2", "3"}, Priority.MEDIUM.value)),
        difficulty=_level(view, ids.ASSIGN_DIFFICULTY, {"1", "2", "3"}, 0),
        due_date=selected_date(view, ids.ASSIGN_DUE),
    )


def repeat_from_view(view: dict) -> RepeatSpec | None:
    """The repeat rule picked, if any (weekdays only for weekly; none picked means the due date's weekday)."""
    kind = choice(view, ids.ASSIGN_REPEAT, RepeatKind, None)
    if kind is None:
        return None
    days = frozenset(int(d) for d in selected_values(view, ids.ASSIGN_REPEAT_DAYS) if d in {str(i) for i in range(7)})
    return RepeatSpec(kind, days if kind == RepeatKind.WEEKLY else frozenset())


async def handle_assign_submission(ack, body, view, client, context):
    """Validate and save the task, then DM each assignee a card and confirm to the manager."""
    deps = context["deps"]

    agenda = metadata(view).get("ag")

    async def save(t):
        spec = repeat_from_view(view)
        if spec is not None:  # a repeating task: the clock makes each one on its date
            return await create_assigned_rule(t.session, actor=t.actor, draft=draft_from_view(view), spec=spec, today=t.today)
        row = await tasks.create_task(t.session, actor=t.actor, draft=draft_from_view(view), today=t.today)
        if isinstance(agenda, str):  # opened from the digest's Create task: the meeting's action
            await standup.record_task_action(t.session, actor=t.actor, ref_text=agenda, task=row.task, assignees=row.assignees, now=t.now)
        return row

    async def after(t, row, confirm):
        if isinstance(row, TaskRule):
            text, blocks = build_own_created(t.loc, t.today, rule=row)
            await confirm.message(text, blocks, dm=blocks[0]["text"]["text"])
            return
        members = await tasks.members_by_slack_ids(t.session, workspace_id=t.actor.workspace.id, user_ids=row.assignees)
        unreached = await send_task_cards(client, t.session, row=row, members=members, assigned_by=t.actor.member.slack_user_id, i18n=deps.i18n, now=t.now)
        text, blocks = build_assigned_confirmation(row, t.loc, t.today, queued=unreached.queued, unsure=unreached.unsure, viewer=t.actor)
        await confirm.message(text, blocks, dm=blocks[0]["text"]["text"])
        await publish_homes(client, t.session, members=members, actor=t.actor, admins=deps.settings.admins, i18n=deps.i18n, now=t.now)

    await save_form(ack, body, view, client, context, form=FORM, save=save, after=after)
