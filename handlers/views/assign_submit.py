"""Saving the assign modal."""

from __future__ import annotations

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unit import turn
from bot.blocks.tasks import build_assigned_confirmation
from bot.models import Priority, Segment, Stage
from bot.services import tasks
from bot.services.errors import ValidationFailed
from bot.surfaces import publish_homes, send_task_cards
from bot.blocks import ids
from handlers.replies import direct_message, view_error
from handlers.views.state import enum_or, metadata, selected_date, selected_users, selected_value, text_value

# Service field names → the modal's block ids, so an error shows under the right field.
FIELD_BLOCKS = {
    "title": ids.ASSIGN_TITLE,
    "details": ids.ASSIGN_DETAILS,
    "assignees": ids.ASSIGN_ASSIGNEES,
    "customer": ids.ASSIGN_CUSTOMER,
    "new_customer": ids.ASSIGN_NEW_CUSTOMER,
    "stage": ids.ASSIGN_STAGE,
    "priority": ids.ASSIGN_PRIORITY,
    "difficulty": ids.ASSIGN_DIFFICULTY,
    "due_date": ids.ASSIGN_DUE,
}


def draft_from_view(view: dict) -> tasks.TaskDraft:
    """Turn the submitted state into a TaskDraft (values Slack could not have sent fall back to defaults)."""
    customer = selected_value(view, ids.ASSIGN_CUSTOMER)
    stage = selected_value(view, ids.ASSIGN_STAGE)
    priority = selected_value(view, ids.ASSIGN_PRIORITY)
    difficulty = selected_value(view, ids.ASSIGN_DIFFICULTY)
    segment = selected_value(view, ids.ASSIGN_SEGMENT)
    return tasks.TaskDraft(
        title=text_value(view, ids.ASSIGN_TITLE),
        details=text_value(view, ids.ASSIGN_DETAILS),
        assignee_user_ids=selected_users(view, ids.ASSIGN_ASSIGNEES),
        customer_id=int(customer) if customer and customer.isdigit() else None,
        new_customer_name=text_value(view, ids.ASSIGN_NEW_CUSTOMER) or None,
        new_customer_segment=enum_or(Segment, segment, Segment.SMB),
        stage=enum_or(Stage, stage, None),
        priority=Priority(int(priority)) if priority in {"1", "2", "3"} else Priority.MEDIUM,
        difficulty=int(difficulty) if difficulty in {"1", "2", "3"} else 0,
        due_date=selected_date(view, ids.ASSIGN_DUE),
    )


async def handle_assign_submission(ack, body, view, client, context):
    """Validate and save the task, then DM each assignee a card and confirm to the manager."""
    deps = context["deps"]
    async with turn(deps, client, team_id=body["team"]["id"], user_id=body["user"]["id"], reply=view_error(ack, ids.ASSIGN_TITLE)) as t:
        draft = draft_from_view(view)
        try:
            row = await tasks.create_task(t.session, actor=t.actor, draft=draft, today=t.today)
        except ValidationFailed as exc:
            errors = {FIELD_BLOCKS.get(f, ids.ASSIGN_TITLE): t.loc.t(key, **params) for f, (key, params) in exc.errors.items()}
            await ack(response_action="errors", errors=errors)
            return
        await t.session.commit()
        await ack()
        members = await tasks.members_by_slack_ids(t.session, workspace_id=t.actor.workspace.id, user_ids=row.assignees)
        unreached = await send_task_cards(client, t.session, row=row, members=members, assigned_by=t.actor.member.slack_user_id, i18n=deps.i18n, now=t.now)
        text, blocks = build_assigned_confirmation(row, t.loc, t.today, queued=unreached.queued, unsure=unreached.unsure)
        response_url = metadata(view).get("ru")
        if response_url:
            await AsyncWebhookClient(response_url).send(text=text, blocks=blocks, response_type="ephemeral")
        else:
            await direct_message(client, t.actor.member.slack_user_id)(blocks[0]["text"]["text"])
        await publish_homes(client, t.session, members=members, actor=t.actor, admins=deps.settings.admins, i18n=deps.i18n, now=t.now)
