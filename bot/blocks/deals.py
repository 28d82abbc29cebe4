"""The deal card, the deal and log-activity modals, and the playbook message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from bot.blocks.kit import actions, button, context, fallback_text, header, input_block, modal, option, plain, section
from bot.blocks.modals import stage_options
from bot.blocks.refs import decode_id
from bot.i18n import Localizer
from bot.models import ActivityKind, Deal, DealStatus, Segment, Stage
from bot.parsing import format_amount
from bot.services.actors import safe_zone
from bot.services.deals import DealView, next_stage
from bot.services.playbooks import Checklist
from bot.text import SlackSafe, escape
from bot.blocks import ids

STATUS_KEYS = {DealStatus.OPEN: "deal.status.open", DealStatus.WON: "deal.status.won", DealStatus.LOST: "deal.status.lost"}
KIND_KEYS = {
    ActivityKind.CALL: "deal.kind.call",
    ActivityKind.VISIT: "deal.kind.visit",
    ActivityKind.MEETING: "deal.kind.meeting",
    ActivityKind.MESSAGE: "deal.kind.message",
}
CHECKLIST_SHOWN = 5  # titles listed on a card; the rest are counted


@dataclass(frozen=True)
class DealRef:
    """A deal button's value: the deal and the stage the card showed (so a stale click moves nothing)."""

    deal_id: int
    stage: Stage

    def encode(self) -> str:
        """A short string well under Slack's 2000-character button value."""
        return f"{self.deal_id}|{self.stage.value}"

    @classmethod
    def decode(cls, value: str) -> "DealRef":
        """Parse a value this module encoded; ValueError on anything else."""
        deal_id, stage = value.split("|")
        return cls(decode_id(deal_id), Stage(stage))


def _metadata(data: dict) -> str:
    return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))


def _select(action_id: str, options: list[dict], initial: str | None = None) -> dict:
    el: dict = {"type": "static_select", "action_id": action_id, "options": options}
    if initial is not None:
        el["initial_option"] = next(o for o in options if o["value"] == initial)
    return el


def _text(max_length: int, initial: str | None = None, *, multiline: bool = False, placeholder: str | None = None) -> dict:
    el: dict = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if multiline:
        el["multiline"] = True
    if initial:
        el["initial_value"] = initial[:max_length]
    if placeholder:
        el["placeholder"] = plain(placeholder, 150)
    return el


def deal_label(deal: Deal, customer_name: str) -> str:
    """How a deal is named in pickers and confirmations: `#12 Title · Customer`."""
    name = deal.title or deal.product_line
    return f"#{deal.id} {name} · {customer_name}" if name else f"#{deal.id} {customer_name}"


# --------------------------------------------------------------------------- the card


def deal_buttons(view: DealView, loc: Localizer) -> list[dict]:
    """Next stage (until the last, not on a lost deal), Won / Lost (open deals), Log activity, Edit."""
    deal = view.deal
    value = DealRef(deal.id, deal.stage).encode()
    out = []
    following = next_stage(deal.stage)
    if following is not None and deal.status != DealStatus.LOST:
        out.append(button(loc.t("deal.button.next", stage=loc.t(f"stage.{following.value}")), ids.DEAL_NEXT, value))
    if deal.status == DealStatus.OPEN:
        out.append(button(loc.t("deal.button.won"), ids.DEAL_WON, value, style="primary"))
        out.append(button(loc.t("deal.button.lost"), ids.DEAL_LOST, value, style="danger"))
    out.append(button(loc.t("deal.button.log"), ids.DEAL_LOG, value))
    out.append(button(loc.t("deal.button.edit"), ids.DEAL_EDIT, value))
    return out


def build_deal_card(view: DealView, loc: Localizer, *, tz: str, now: datetime, note: SlackSafe | None = None) -> tuple[str, list[dict]]:
    """The deal card (ephemeral or DM) whose buttons move, win, lose, log on and edit the deal."""
    deal = view.deal
    zone = safe_zone(tz)
    today = now.astimezone(zone).date()
    since = deal.stage_entered_at.astimezone(zone).date()
    text = loc.render(
        "deal_card.j2", view=view, amount=loc.money(deal.amount, view.currency), status=loc.t(STATUS_KEYS[deal.status]),
        stage=loc.t(f"stage.{deal.stage.value}"), position=list(Stage).index(deal.stage) + 1, stages=len(Stage),
        since=loc.date(since), days=(today - since).days, close=loc.date_long(deal.expected_close) if deal.expected_close else None,
    )
    blocks: list[dict] = []
    if note:
        blocks.append(section(note))
    blocks.append(section(text))
    if view.checklist:
        blocks.append(context(loc.render("deal_checklist.j2", tasks=view.checklist[:CHECKLIST_SHOWN], more=max(0, len(view.checklist) - CHECKLIST_SHOWN), today=today)))
    blocks.append(actions(deal_buttons(view, loc), block_id=f"deal-{deal.id}"))
    return fallback_text(loc.md("deal.card.fallback", id=deal.id, name=deal.title or view.customer_name)), blocks


# --------------------------------------------------------------------------- the deal modal


def build_deal_modal(loc: Localizer, *, owner_user_id: str, metadata: dict, view: DealView | None = None, contact: str | None = None) -> dict:
    """The modal that creates a deal, or (given `view`) updates it."""
    deal = view.deal if view else None
    customer_el: dict = {
        "type": "external_select", "action_id": ids.DEAL_CUSTOMER_SEARCH, "min_query_length": 0,
        "placeholder": plain(loc.t("deal.modal.customer.placeholder"), 150),
    }
    if view is not None:
        customer_el["initial_option"] = option(view.customer_name, str(deal.customer_id))
    segments = [option(loc.t(f"segment.{s.value}"), s.value) for s in Segment]
    statuses = [option(loc.t(STATUS_KEYS[s]), s.value) for s in DealStatus]
    close_el: dict = {"type": "datepicker", "action_id": "value"}
    if deal is not None and deal.expected_close:
        close_el["initial_date"] = deal.expected_close.isoformat()
    amount = format_amount(deal.amount) if deal is not None else None  # read back exactly on submit, credits too
    blocks = [
        input_block(ids.DEAL_CUSTOMER, loc.t("deal.modal.customer.label"), customer_el, optional=True),
        input_block(ids.DEAL_NEW_CUSTOMER, loc.t("deal.modal.new_customer.label"), _text(200), optional=True, hint=loc.t("deal.modal.new_customer.hint")),
        input_block(ids.DEAL_SEGMENT, loc.t("deal.modal.segment.label"), _select("value", segments, Segment.SMB.value), optional=True),
        input_block(ids.DEAL_REGION, loc.t("deal.modal.region.label"), _text(80), optional=True),
        input_block(ids.DEAL_CONTACT, loc.t("deal.modal.contact.label"), _text(32, contact), optional=True, hint=loc.t("deal.modal.contact.hint")),
        input_block(ids.DEAL_PRODUCT, loc.t("deal.modal.product.label"), _text(80, deal.product_line if deal else None)),
        input_block(ids.DEAL_TITLE, loc.t("deal.modal.title.label"), _text(200, deal.title if deal else None), optional=True),
        input_block(ids.DEAL_AMOUNT, loc.t("deal.modal.amount.label"), _text(40, amount, placeholder=loc.t("deal.modal.amount.placeholder")), hint=loc.t("deal.modal.amount.hint")),
        input_block(ids.DEAL_STAGE, loc.t("deal.modal.stage.label"), _select("value", stage_options(loc), (deal.stage if deal else Stage.LEAD).value)),
        input_block(ids.DEAL_STATUS, loc.t("deal.modal.status.label"), _select("value", statuses, (deal.status if deal else DealStatus.OPEN).value)),
        input_block(ids.DEAL_CLOSE, loc.t("deal.modal.close.label"), close_el, optional=True),
        input_block(ids.DEAL_OWNER, loc.t("deal.modal.owner.label"), {"type": "users_select", "action_id": "value", "initial_user": owner_user_id}),
    ]
    title = loc.t("deal.modal.title_edit", id=deal.id) if deal else loc.t("deal.modal.title_new")
    return modal(
        callback_id=ids.DEAL_VIEW, title=title, submit=loc.t("deal.modal.submit"), close=loc.t("common.cancel"),
        blocks=blocks, private_metadata=_metadata(metadata),
    )


# --------------------------------------------------------------------------- the log modal


def build_log_modal(loc: Localizer, *, metadata: dict, deal: DealView | None = None, deals: list[tuple[Deal, str]] = ()) -> dict:
    """The modal that logs a customer touch: on the given deal, or on a customer or one of the actor's deals."""
    blocks: list[dict] = []
    if deal is not None:
        blocks.append(section(loc.md("deal.log.modal.on_deal", deal=deal_label(deal.deal, deal.customer_name))))
    else:
        customer_el = {
            "type": "external_select", "action_id": ids.DEAL_CUSTOMER_SEARCH, "min_query_length": 0,
            "placeholder": plain(loc.t("deal.modal.customer.placeholder"), 150),
        }
        blocks.append(input_block(ids.LOG_CUSTOMER, loc.t("deal.log.modal.customer.label"), customer_el, optional=True))
        if deals:
            options = [option(deal_label(d, name), str(d.id)) for d, name in list(deals)[:100]]
            el = {"type": "static_select", "action_id": "value", "options": options, "placeholder": plain(loc.t("deal.log.modal.deal.placeholder"), 150)}
            blocks.append(input_block(ids.LOG_DEAL, loc.t("deal.log.modal.deal.label"), el, optional=True, hint=loc.t("deal.log.modal.deal.hint")))
    kinds = [option(loc.t(KIND_KEYS[k]), k.value) for k in ActivityKind]
    effective = [option(loc.t("deal.log.effective.yes"), "yes"), option(loc.t("deal.log.effective.no"), "no")]
    blocks += [
        input_block(ids.LOG_KIND, loc.t("deal.log.modal.kind.label"), _select("value", kinds, ActivityKind.CALL.value)),
        input_block(ids.LOG_EFFECTIVE, loc.t("deal.log.modal.effective.label"), _select("value", effective, "yes"), hint=loc.t("deal.log.modal.effective.hint")),
        input_block(ids.LOG_NOTE, loc.t("deal.log.modal.note.label"), _text(3000, multiline=True), optional=True),
    ]
    return modal(
        callback_id=ids.LOG_VIEW, title=loc.t("deal.log.modal.title"), submit=loc.t("deal.log.modal.submit"), close=loc.t("common.cancel"),
        blocks=blocks, private_metadata=_metadata(metadata),
    )


# --------------------------------------------------------------------------- short replies


def build_playbook(checklist: Checklist, loc: Localizer) -> tuple[str, list[dict]]:
    """A team's checklist for a stage, and how to change it."""
    title = loc.t("deal.playbook.title", stage=loc.t(f"stage.{checklist.stage.value}"))
    lines = "\n".join(f"{i}. {escape(t)}" for i, t in enumerate(checklist.titles, 1))
    origin = loc.md("deal.playbook.custom" if checklist.custom else "deal.playbook.default_note")
    blocks = [header(title), section(SlackSafe(lines) if lines else loc.md("deal.playbook.empty")), context(origin, loc.md("deal.playbook.hint", stage=checklist.stage.value))]
    return fallback_text(escape(title)), blocks


def activity_saved(loc: Localizer, *, kind: ActivityKind, effective: bool, customer_name: str, deal: Deal | None) -> SlackSafe:
    """The confirmation after /log."""
    key = "deal.log.saved_effective" if effective else "deal.log.saved_not_effective"
    text = loc.md(key, kind=loc.t(KIND_KEYS[kind]), customer=customer_name)
    if deal is not None:
        text = SlackSafe(f"{text} {loc.md('deal.log.saved_on_deal', deal=deal_label(deal, customer_name))}")
    return text


def expense_saved(loc: Localizer, *, amount: int, currency: str, category: str, spent_on: date, deal: Deal | None, customer_name: str | None = None) -> SlackSafe:
    """The confirmation after /expense."""
    text = loc.md("deal.expense.saved", amount=loc.money(amount, currency), category=category, date=loc.date(spent_on))
    if deal is not None:
        text = SlackSafe(f"{text} {loc.md('deal.log.saved_on_deal', deal=deal_label(deal, customer_name or ''))}")
    return text
