"""The /suggest modal, the managers' list with decision buttons, and the author's notice."""

from __future__ import annotations

import json

from bot.blocks.kit import Budget, actions, button, context, fallback_text, header, input_block, modal, option, plain, section
from bot.i18n import Localizer
from bot.models import SuggestionStatus
from bot.services.suggestions import TEXT_MAX, SuggestionRow
from bot.text import mention
from bot.blocks import ids

# What each decision button sets, and the catalog texts that go with it.
DECISION_BUTTONS = (
    (ids.SUGGEST_PLANNED, SuggestionStatus.PLANNED, "suggest.button.planned"),
    (ids.SUGGEST_DONE, SuggestionStatus.DONE, "suggest.button.done"),
    (ids.SUGGEST_DECLINED, SuggestionStatus.DECLINED, "suggest.button.declined"),
)
STATUS_KEYS = {
    SuggestionStatus.NEW: "suggest.status.new",
    SuggestionStatus.PLANNED: "suggest.status.planned",
    SuggestionStatus.DONE: "suggest.status.done",
    SuggestionStatus.DECLINED: "suggest.status.declined",
}
ACTION_STATUS = {action_id: status for action_id, status, _key in DECISION_BUTTONS}


def build_suggest_modal(loc: Localizer, *, text: str = "", metadata: dict) -> dict:
    """The modal an employee fills in: the suggestion and whether to stay anonymous."""
    text_el: dict = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": TEXT_MAX,
                     "placeholder": plain(loc.t("suggest.text.placeholder"), 150)}
    if text:
        text_el["initial_value"] = text[:TEXT_MAX]
    anon_el = {"type": "checkboxes", "action_id": "value", "options": [option(loc.t("suggest.anonymous.option"), "anonymous")]}
    blocks = [
        input_block(ids.SUGGEST_TEXT, loc.t("suggest.text.label"), text_el),
        input_block(ids.SUGGEST_ANONYMOUS, loc.t("suggest.anonymous.label"), anon_el, optional=True, hint=loc.t("suggest.anonymous.hint")),
    ]
    return modal(
        callback_id=ids.SUGGEST_VIEW, title=loc.t("suggest.modal.title"), submit=loc.t("suggest.modal.submit"),
        close=loc.t("suggest.modal.close"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def suggestion_text(row: SuggestionRow, loc: Localizer, tz: str) -> str:
    """A suggestion as mrkdwn: its text, then who, which team and when."""
    return loc.render("suggestion.j2", row=row, when=loc.datetime(row.suggestion.created_at, tz), status=loc.t(STATUS_KEYS[row.suggestion.status]))


def build_suggestion_list(rows: list[SuggestionRow], total: int, loc: Localizer, *, tz: str) -> tuple[str, list[dict]]:
    """`/suggest list`: undecided suggestions with planned / done / declined buttons."""
    title = loc.t("suggest.list.title", n=loc.number(total))
    blocks: list[dict] = [header(title)]
    if not rows:
        blocks.append(section(loc.md("suggest.list.empty")))
        return fallback_text(title), blocks
    groups = []
    for row in rows:
        value = str(row.suggestion.id)
        buttons = [button(loc.t(key), action_id, value, style="primary" if status == SuggestionStatus.PLANNED else None)
                   for action_id, status, key in DECISION_BUTTONS]
        groups.append([section(suggestion_text(row, loc, tz)), actions(buttons, block_id=f"suggestion-{row.suggestion.id}")])
    budget = Budget.message()
    budget.add(*blocks)
    budget.add_while_fits(groups, hidden=total - len(rows), more=lambda n: context(loc.md("suggest.list.more", n=loc.number(n))))
    return fallback_text(title), budget.blocks


def build_decision_notice(row: SuggestionRow, loc: Localizer, *, decided_by: str) -> tuple[str, list[dict]]:
    """The DM that tells the author what became of their suggestion."""
    status = loc.t(STATUS_KEYS[row.suggestion.status])
    text = loc.render("suggestion_decided.j2", row=row, status=status, by=mention(decided_by))
    return fallback_text(loc.md("suggest.decided.fallback", status=status)), [section(text)]
