"""The assign and note modals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from bot.blocks.kit import context, input_block, modal, option, plain, section
from bot.i18n import Localizer
from babel.dates import get_day_names

from bot.models import Priority, RepeatKind, Segment, Stage
from bot.services.matching import MatchResult, Reason
from bot.text import SlackSafe, escape, mention
from bot.blocks import ids

TITLE_MAX = 200


@dataclass
class AssignPrefill:
    """What `/assign @user title` fills in before the modal opens."""

    title: str = ""
    assignees: list[str] = field(default_factory=list)
    # The rest is what the manager already chose, given back when the modal is redrawn in place
    # (views.update): Slack keeps typed values only for unchanged block and action ids, so the
    # builder also sends them as initial values.
    customer: dict | None = None  # the chosen external_select option (text and value)
    new_customer: str = ""
    segment: str | None = None
    stage: str | None = None
    priority: str | None = None
    difficulty: str | None = None
    due: str | None = None  # YYYY-MM-DD
    details: str = ""
    repeat: str | None = None  # a RepeatKind value
    repeat_days: list[str] = field(default_factory=list)  # weekday numbers


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


def build_assign_modal(loc: Localizer, *, prefill: AssignPrefill, metadata: dict, match: MatchResult | None = None) -> dict:
    """The modal a manager fills in to assign a task; `match` adds the suggested reps."""
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
    _apply_choices(prefill, customer_el)
    blocks = [
        input_block(ids.ASSIGN_TITLE, loc.t("assign.title.label"), title_el),
        input_block(ids.ASSIGN_ASSIGNEES, loc.t("assign.assignees.label"), users_el, hint=loc.t("assign.assignees.hint")),
        input_block(ids.ASSIGN_CUSTOMER, loc.t("assign.customer.label"), customer_el, optional=True, dispatch=True),
        input_block(ids.ASSIGN_NEW_CUSTOMER, loc.t("assign.new_customer.label"), _text_el(200, prefill.new_customer), optional=True, hint=loc.t("assign.new_customer.hint")),
        input_block(ids.ASSIGN_SEGMENT, loc.t("assign.segment.label"), _select("value", loc, segments, _known(prefill.segment, segments, Segment.SMB.value)), optional=True),
        input_block(ids.ASSIGN_STAGE, loc.t("assign.stage.label"), _select("value", loc, stage_options(loc), _known(prefill.stage, stage_options(loc)), placeholder=loc.t("assign.stage.placeholder")), optional=True, dispatch=True),
        input_block(ids.ASSIGN_PRIORITY, loc.t("assign.priority.label"), _select("value", loc, priorities, _known(prefill.priority, priorities, str(Priority.MEDIUM.value)))),
        input_block(ids.ASSIGN_DIFFICULTY, loc.t("assign.difficulty.label"), _select("value", loc, difficulties, _known(prefill.difficulty, difficulties, "1")), hint=loc.t("assign.difficulty.hint"), dispatch=True),
        *build_match_blocks(loc, match),
        input_block(ids.ASSIGN_DUE, loc.t("assign.due.label"), _date_el(prefill.due), optional=True),
        *repeat_blocks(loc, prefill),
        input_block(ids.ASSIGN_DETAILS, loc.t("assign.details.label"), _text_el(3000, prefill.details, multiline=True), optional=True),
    ]
    return modal(
        callback_id=ids.ASSIGN_VIEW, title=loc.t("assign.modal.title"), submit=loc.t("assign.modal.submit"),
        close=loc.t("common.cancel"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def repeat_blocks(loc: Localizer, prefill: AssignPrefill) -> list[dict]:
    """Repeat (none, every working day, weekly, monthly, quarterly) and, for weekly, the weekdays."""
    kinds = [option(loc.t(f"assign.repeat.{k.value}"), k.value) for k in RepeatKind]
    kind_el = _select("value", loc, kinds, _known(prefill.repeat, kinds), placeholder=loc.t("assign.repeat.placeholder"))
    names = get_day_names("wide", locale=loc.babel_locale)
    days = [option(names[i], str(i)) for i in range(7)]
    days_el: dict = {"type": "multi_static_select", "action_id": "value", "options": days, "placeholder": plain(loc.t("assign.repeat_days.placeholder"), 150)}
    chosen = [o for o in days if o["value"] in set(prefill.repeat_days)]
    if chosen:
        days_el["initial_options"] = chosen
    return [
        input_block(ids.ASSIGN_REPEAT, loc.t("assign.repeat.label"), kind_el, optional=True, hint=loc.t("assign.repeat.hint")),
        input_block(ids.ASSIGN_REPEAT_DAYS, loc.t("assign.repeat_days.label"), days_el, optional=True),
    ]


def _known(value: str | None, options: list[dict], default: str | None = None) -> str | None:
    """`value` when it is one of the options (Slack refuses any other initial option), else `default`."""
    return value if value is not None and any(o["value"] == value for o in options) else default


def _text_el(max_length: int, initial: str = "", *, multiline: bool = False) -> dict:
    el: dict = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if multiline:
        el["multiline"] = True
    if initial:
        el["initial_value"] = initial[:max_length]
    return el


def _date_el(initial: str | None) -> dict:
    el: dict = {"type": "datepicker", "action_id": "value"}
    if initial:
        try:
            el["initial_date"] = date.fromisoformat(initial).isoformat()
        except ValueError:
            pass  # not a date Slack could have sent: leave the picker empty
    return el


def _apply_choices(prefill: AssignPrefill, customer_el: dict) -> None:
    """Give the chosen customer back to its external select (it holds no options of its own)."""
    chosen = prefill.customer or {}
    if chosen.get("value"):
        text = chosen.get("text")
        text = text.get("text") if isinstance(text, dict) else text
        customer_el["initial_option"] = option(text or str(chosen["value"]), str(chosen["value"]))


def segment_name(loc: Localizer, segment: str) -> str:
    """A segment as a kind of experience: key accounts or SMB."""
    return loc.t("match.segment.key") if segment == Segment.KEY.value else loc.t("match.segment.smb")


def match_reason(loc: Localizer, reason: Reason) -> SlackSafe:
    """One reason of a suggestion as mrkdwn (region names are typed by people, so escaped)."""
    p = reason.params
    if reason.code == "region":
        return loc.md("match.reason.region", region=p["region"])
    if reason.code == "segment":
        if p.get("wins"):
            return loc.md("match.reason.segment_wins", segment=segment_name(loc, p["segment"]), wins=loc.number(p["wins"]))
        return escape(segment_name(loc, p["segment"]))
    if reason.code == "level":
        level = loc.t(f"level.{p['level']}")
        if p["fit"] == "good":
            return loc.md("match.reason.level_good", level=level, difficulty=p["difficulty"])
        if p["fit"] == "ok":
            return loc.md("match.reason.level_ok", level=level, difficulty=p["difficulty"])
        return loc.md("match.reason.level_poor", level=level, difficulty=p["difficulty"])
    if reason.code == "workload":
        if p["open"] == 0:
            return loc.md("match.reason.workload_none")
        return loc.mdn("match.reason.workload", p["open"])
    return escape(reason.code)


def build_match_blocks(loc: Localizer, match: MatchResult | None) -> list[dict]:
    """The suggestions section of the assign modal: a hint, a none-suitable note, or the top reps with reasons."""
    if match is None:
        return [{**context(loc.md("match.hint")), "block_id": ids.MATCH_NOTE}]
    blocks = [section(loc.md("match.title"), block_id=ids.MATCH_SUGGESTIONS)]
    if not match.suggestions:
        blocks.append({**context(loc.md("match.none")), "block_id": ids.MATCH_NOTE})
        return blocks
    for rank, c in enumerate(match.suggestions, start=1):
        reasons = SlackSafe(" · ".join(match_reason(loc, r) for r in c.reasons))
        line = loc.md("match.line", rank=rank, rep=mention(c.member.slack_user_id), reasons=reasons)
        blocks.append(section(line, block_id=f"{ids.MATCH_REP_PREFIX}{rank}"))
    blocks.append({**context(loc.md("match.rules")), "block_id": ids.MATCH_NOTE})
    return blocks


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
