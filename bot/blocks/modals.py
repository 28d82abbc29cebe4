"""The assign and note modals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from bot.blocks.kit import input_block, modal, option, plain, section
from bot.i18n import Localizer
from bot.models import Priority, Segment, Stage
from bot.text import escape
from handlers import ids

TITLE_MAX = 200


@dataclass
class AssignPrefill:
    """What `/assign @user title` fills in before the modal opens."""

    title: str = ""
    assignees: list[str] = field(default_factory=list)


def _select(action_id: str, loc: Localizer, options: list[dict], initial: str | None = None, placeholder: str | None = None) -> dict:
    el: dict = {"type": "static_select", "action_id": action_id, "options": options}
    if initial is not None:
        el["initial_option"] = next(o for o in options if o["value"] == initial)
    if placeholder:
        el["placeholder"] = plain(placeholder, 150)
    return el


def stage_options(loc: Localizer) -> list[dict]:
    """The six pipeline stages in order."""
    return [option(loc.t(f"stage.{s.value}"), s.value) for s in Stage]


def build_assign_modal(loc: Localizer, *, prefill: AssignPrefill, metadata: dict) -> dict:
    """The modal a manager fills in to assign a task."""
    title_el = {"type": "plain_text_input", "action_id": "value", "max_length": TITLE_MAX, "placeholder": plain(loc.t("assign.title.placeholder"), 150)}
    if prefill.title:
        title_el["initial_value"] = prefill.title[:TITLE_MAX]
    users_el = {"type": "multi_users_select", "action_id": "value", "placeholder": plain(loc.t("assign.assignees.placeholder"), 150)}
    if prefill.assignees:
        users_el["initial_users"] = prefill.assignees[:20]
    customer_el = {
        "type": "external_select", "action_id": ids.ASSIGN_CUSTOMER_SEARCH, "min_query_length": 0,
        "placeholder": plain(loc.t("assign.customer.placeholder"), 150),
    }
    priorities = [option(loc.t(f"priority.{p.value}"), str(p.value)) for p in Priority]
    difficulties = [option(loc.t(f"difficulty.{d}"), str(d)) for d in (1, 2, 3)]
    segments = [option(loc.t(f"segment.{s.value}"), s.value) for s in Segment]
    blocks = [
        input_block(ids.ASSIGN_TITLE, loc.t("assign.title.label"), title_el),
        input_block(ids.ASSIGN_ASSIGNEES, loc.t("assign.assignees.label"), users_el, hint=loc.t("assign.assignees.hint")),
        input_block(ids.ASSIGN_CUSTOMER, loc.t("assign.customer.label"), customer_el, optional=True),
        input_block(ids.ASSIGN_NEW_CUSTOMER, loc.t("assign.new_customer.label"), {"type": "plain_text_input", "action_id": "value", "max_length": 200}, optional=True, hint=loc.t("assign.new_customer.hint")),
        input_block(ids.ASSIGN_SEGMENT, loc.t("assign.segment.label"), _select("value", loc, segments, Segment.SMB.value), optional=True),
        input_block(ids.ASSIGN_STAGE, loc.t("assign.stage.label"), _select("value", loc, stage_options(loc), placeholder=loc.t("assign.stage.placeholder")), optional=True),
        input_block(ids.ASSIGN_PRIORITY, loc.t("assign.priority.label"), _select("value", loc, priorities, str(Priority.MEDIUM.value))),
        input_block(ids.ASSIGN_DIFFICULTY, loc.t("assign.difficulty.label"), _select("value", loc, difficulties, "1"), hint=loc.t("assign.difficulty.hint")),
        input_block(ids.ASSIGN_DUE, loc.t("assign.due.label"), {"type": "datepicker", "action_id": "value"}, optional=True),
        input_block(ids.ASSIGN_DETAILS, loc.t("assign.details.label"), {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000}, optional=True),
    ]
    return modal(
        callback_id=ids.ASSIGN_VIEW, title=loc.t("assign.modal.title"), submit=loc.t("assign.modal.submit"),
        close=loc.t("common.cancel"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def customer_options(customers, loc: Localizer) -> list[dict]:
    """Options for the customer search, within Slack's 100-option limit."""
    return [option(f"{c.name} · {loc.t('segment.' + c.segment.value)}", str(c.id)) for c in customers[:100]]


def build_note_modal(loc: Localizer, *, task_title: str, metadata: dict) -> dict:
    """The modal for adding a note to a task."""
    blocks = [
        section(loc.md("note.modal.task", title=escape(task_title))),
        input_block(ids.NOTE_TEXT, loc.t("note.modal.label"), {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000}),
    ]
    return modal(
        callback_id=ids.NOTE_VIEW, title=loc.t("note.modal.title"), submit=loc.t("note.modal.submit"),
        close=loc.t("common.cancel"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def today_iso(d: date) -> str:
    """A date as Slack's datepicker writes it."""
    return d.isoformat()
