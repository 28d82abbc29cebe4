"""Saving a repeat rule's edit modal."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.own_tasks import rule_saved_text
from bot.models import Priority, RepeatKind
from bot.services.errors import NotFound
from bot.services.repeats import RepeatSpec, RuleEdit, edit_rule
from handlers.views.assign_submit import _level
from handlers.views.form import Form, save_form
from handlers.views.state import BadField, choice, metadata, metadata_id, selected_users, selected_values, text_value

RULE_FORM = Form(fallback=ids.RULE_TITLE, fields={
    "title": ids.RULE_TITLE, "details": ids.RULE_DETAILS, "assignees": ids.RULE_ASSIGNEES, "priority": ids.RULE_PRIORITY,
    "kind": ids.RULE_KIND, "repeat_days": ids.RULE_DAYS, "month_day": ids.RULE_MONTH_DAY,
})


def _has(view: dict, block_id: str) -> bool:
    return any(isinstance(b, dict) and b.get("block_id") == block_id for b in view.get("blocks") or [])


def rule_edit_from_view(view: dict) -> RuleEdit:
    """The submitted fields as a rule edit; a value the modal could not have sent is refused at its field."""
    kind = choice(view, ids.RULE_KIND, RepeatKind, None)
    if kind is None:
        raise BadField(ids.RULE_KIND, "form.error.bad_choice")
    days = frozenset(int(d) for d in selected_values(view, ids.RULE_DAYS))
    typed = text_value(view, ids.RULE_MONTH_DAY).strip()
    if typed and not typed.isdigit():
        raise BadField(ids.RULE_MONTH_DAY, "repeat.error.month_day")
    return RuleEdit(
        title=text_value(view, ids.RULE_TITLE),
        spec=RepeatSpec(kind, days, int(typed) if typed else None),
        priority=Priority(_level(view, ids.RULE_PRIORITY, {"1", "2", "3"}, Priority.MEDIUM.value)),
        details=text_value(view, ids.RULE_DETAILS) if _has(view, ids.RULE_DETAILS) else None,
        assignee_user_ids=selected_users(view, ids.RULE_ASSIGNEES) if _has(view, ids.RULE_ASSIGNEES) else None,
    )


async def handle_rule_edit_submission(ack, body, view, client, context):
    """Save the rule's new fields for its future dates (once per submitted view) and say what it is now."""
    meta = metadata(view)

    async def save(t):
        rule_id = metadata_id(meta, "id")
        if rule_id is None:
            raise NotFound("repeat.error.not_found")
        return await edit_rule(t.session, actor=t.actor, rule_id=rule_id, edit=rule_edit_from_view(view), now=t.now)

    async def after(t, result, confirm):
        rule, changed = result
        await confirm.notice(rule_saved_text(t.loc, rule, changed=changed))

    await save_form(ack, body, view, client, context, form=RULE_FORM, save=save, after=after)
