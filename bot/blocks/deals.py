"""The deal card, the deal and log-activity modals, and the playbook message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from bot.blocks.kit import Budget, actions, button, context, fallback_text, header, input_block, modal, option, plain, section
from bot.blocks.modals import stage_options
from bot.blocks.refs import decode_count, decode_id
from bot.i18n import Localizer
from bot.models import ActivityKind, Deal, DealStatus, LostReason, Segment, Stage
from bot.parsing import format_amount
from bot.services.actors import safe_zone
from bot.services.deal_list import DealFilter, DealListQuery, DealPage
from bot.services.deals import REASON_NOTE_MAX, DealView, next_stage
from bot.services.playbooks import Checklist
from bot.text import SlackSafe, escape, mention
from bot.blocks import ids

STATUS_KEYS = {DealStatus.OPEN: "deal.status.open", DealStatus.WON: "deal.status.won", DealStatus.LOST: "deal.status.lost"}
KIND_KEYS = {
    ActivityKind.CALL: "deal.kind.call",
    ActivityKind.VISIT: "deal.kind.visit",
    ActivityKind.MEETING: "deal.kind.meeting",
    ActivityKind.MESSAGE: "deal.kind.message",
}
CHECKLIST_SHOWN = 5  # titles listed on a card; the rest are counted
REASON_KEYS = {
    LostReason.PRICE: "deal.lost.reason.price",
    LostReason.COMPETITOR: "deal.lost.reason.competitor",
    LostReason.TIMING: "deal.lost.reason.timing",
    LostReason.NO_BUDGET: "deal.lost.reason.no_budget",
    LostReason.NO_DECISION: "deal.lost.reason.no_decision",
    LostReason.OTHER: "deal.lost.reason.other",
}
LIST_TITLE_KEYS = {
    DealFilter.OPEN: "deal.list.title.open", DealFilter.WON: "deal.list.title.won",
    DealFilter.LOST: "deal.list.title.lost", DealFilter.ALL: "deal.list.title.all",
}


@dataclass(frozen=True)
class DealRef:
    """A deal button's value: the deal and the stage the card showed (so a stale click moves nothing);
    on a `/deal list` page also the list's offset and query, so the click redraws that page."""

    deal_id: int
    stage: Stage
    offset: int = 0
    listing: str = ""  # DealListQuery.encode() of the page the card sits on

    def encode(self) -> str:
        """A short string well under Slack's 2000-character button value."""
        base = f"{self.deal_id}|{self.stage.value}"
        return f"{base}|{self.offset}|{self.listing}" if self.listing else base

    @classmethod
    def decode(cls, value: str) -> "DealRef":
        """Parse a value this module encoded; ValueError on anything else."""
        deal_id, stage, *rest = value.split("|")
        if not rest:
            return cls(decode_id(deal_id), Stage(stage))
        offset, listing = rest
        DealListQuery.decode(listing)
        return cls(decode_id(deal_id), Stage(stage), decode_count(offset), listing)

    @property
    def query(self) -> DealListQuery | None:
        """The list the card sits on, if any."""
        return DealListQuery.decode(self.listing) if self.listing else None


@dataclass(frozen=True)
class DealsPageRef:
    """A Previous / Next button of `/deal list`: the query and the offset to show."""

    query: DealListQuery
    offset: int

    def encode(self) -> str:
        """`offset|query`."""
        return f"{self.offset}|{self.query.encode()}"

    @classmethod
    def decode(cls, value: str) -> "DealsPageRef":
        """Parse what `encode` wrote; ValueError on anything else."""
        offset, query = value.split("|")
        return cls(DealListQuery.decode(query), decode_count(offset))


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


def deal_buttons(view: DealView, loc: Localizer, *, can_reopen: bool = False, offset: int = 0, listing: str = "") -> list[dict]:
    """Next stage (until the last, not on a lost deal), Won / Lost (open deals), Reopen (closed deals, for managers), Log activity, Edit."""
    deal = view.deal
    value = DealRef(deal.id, deal.stage, offset, listing).encode()
    out = []
    following = next_stage(deal.stage)
    if following is not None and deal.status != DealStatus.LOST:
        out.append(button(loc.t("deal.button.next", stage=loc.t(f"stage.{following.value}")), ids.DEAL_NEXT, value))
    if deal.status == DealStatus.OPEN:
        out.append(button(loc.t("deal.button.won"), ids.DEAL_WON, value, style="primary"))
        out.append(button(loc.t("deal.button.lost"), ids.DEAL_LOST, value, style="danger"))
    elif can_reopen:
        out.append(button(loc.t("deal.button.reopen"), ids.DEAL_REOPEN, value))
    out.append(button(loc.t("deal.button.log"), ids.DEAL_LOG, value))
    out.append(button(loc.t("deal.button.edit"), ids.DEAL_EDIT, value))
    return out


def build_deal_card(view: DealView, loc: Localizer, *, tz: str, now: datetime, note: SlackSafe | None = None, can_reopen: bool = False) -> tuple[str, list[dict]]:
    """The deal card (ephemeral or DM) whose buttons move, win, lose, reopen, log on and edit the deal."""
    deal = view.deal
    blocks: list[dict] = []
    if note:
        blocks.append(section(note))
    blocks += deal_card_blocks(view, loc, tz=tz, now=now, can_reopen=can_reopen)
    return fallback_text(loc.md("deal.card.fallback", id=deal.id, name=deal.title or view.customer_name)), blocks


def lost_line(view: DealView, loc: Localizer) -> SlackSafe | None:
    """Why a lost deal was lost: the category and the words given."""
    deal = view.deal
    if deal.status != DealStatus.LOST or deal.lost_reason is None:
        return None
    reason = loc.t(REASON_KEYS[deal.lost_reason])
    if deal.lost_note:
        return loc.md("deal.card.lost_reason_note", reason=reason, note=deal.lost_note)
    return loc.md("deal.card.lost_reason", reason=reason)


def deal_card_blocks(view: DealView, loc: Localizer, *, tz: str, now: datetime, can_reopen: bool = False, offset: int = 0, listing: str = "") -> list[dict]:
    """A card's blocks: its text (with the checklist it just made, or why it was lost) and its buttons."""
    deal = view.deal
    zone = safe_zone(tz)
    today = now.astimezone(zone).date()
    since = deal.stage_entered_at.astimezone(zone).date()
    text = loc.render(
        "deal_card.j2", view=view, amount=loc.money(deal.amount, view.currency), status=loc.t(STATUS_KEYS[deal.status]),
        stage=loc.t(f"stage.{deal.stage.value}"), position=list(Stage).index(deal.stage) + 1, stages=len(Stage),
        since=loc.date(since), days=(today - since).days, close=loc.date_long(deal.expected_close) if deal.expected_close else None,
    )
    if (why := lost_line(view, loc)) is not None:
        text = SlackSafe(f"{text}\n{why}")
    blocks: list[dict] = [section(text)]
    if view.checklist:
        blocks.append(context(loc.render("deal_checklist.j2", tasks=view.checklist[:CHECKLIST_SHOWN], more=max(0, len(view.checklist) - CHECKLIST_SHOWN), today=today)))
    blocks.append(actions(deal_buttons(view, loc, can_reopen=can_reopen, offset=offset, listing=listing), block_id=f"deal-{deal.id}"))
    return blocks


def build_deal_list(page: DealPage, loc: Localizer, *, tz: str, now: datetime, can_reopen: bool = False, note: SlackSafe | None = None) -> tuple[str, list[dict]]:
    """One page of `/deal list`: each deal as its card, with Previous / Next."""
    title = loc.tn(LIST_TITLE_KEYS[page.query.status], page.total)
    budget = Budget.message()
    if note:
        budget.add(section(note))
    who = page.query.who
    scope = loc.md("deal.list.scope.team") if who == "team" else loc.md("deal.list.scope.rep", user=mention(page.owner_user_id or who))
    parts = [scope] + ([loc.md("deal.list.scope.stage", stage=loc.t(f"stage.{page.query.stage.value}"))] if page.query.stage else [])
    budget.add(header(title), context(SlackSafe(" · ".join(parts))))
    if not page.views:
        budget.add(section(loc.md("deal.list.empty")))
    listing = page.query.encode()
    cards = [deal_card_blocks(v, loc, tz=tz, now=now, can_reopen=can_reopen, offset=page.offset, listing=listing) for v in page.views]
    closing: list[dict] = []
    if page.has_prev or page.has_next:
        closing.append(context(loc.md("deal.list.page", page=loc.number(page.number), pages=loc.number(page.pages))))
        nav = []
        if page.has_prev:
            nav.append(button(loc.t("deal.list.prev"), ids.DEALS_PREV, DealsPageRef(page.query, page.prev_offset).encode()))
        if page.has_next:
            nav.append(button(loc.t("deal.list.next"), ids.DEALS_NEXT, DealsPageRef(page.query, page.next_offset).encode()))
        closing.append(actions(nav, block_id="deals-nav"))
    closing.append(context(loc.md("deal.list.hint")))
    budget.add_while_fits(cards, more=lambda n: context(loc.mdn("deal.list.cut", n)), reserve=closing)
    budget.add(*closing)
    return fallback_text(title), budget.blocks


def build_lost_modal(view: DealView, loc: Localizer, *, metadata: dict) -> dict:
    """The Lost modal: a reason category (required) and words (required for "other") before the loss is recorded."""
    reasons = [option(loc.t(REASON_KEYS[r]), r.value) for r in LostReason]
    blocks = [
        section(loc.md("deal.lost.modal.deal", deal=deal_label(view.deal, view.customer_name))),
        input_block(ids.LOST_REASON, loc.t("deal.lost.modal.reason"), {"type": "static_select", "action_id": "value", "options": reasons,
                                                                       "placeholder": plain(loc.t("deal.lost.modal.reason_placeholder"), 150)}),
        input_block(ids.LOST_NOTE, loc.t("deal.lost.modal.note"), _text(REASON_NOTE_MAX, multiline=True), optional=True, hint=loc.t("deal.lost.modal.note_hint")),
    ]
    return modal(callback_id=ids.LOST_VIEW, title=loc.t("deal.lost.modal.title"), submit=loc.t("deal.lost.modal.submit"),
                 close=loc.t("common.cancel"), blocks=blocks, private_metadata=_metadata(metadata))


def build_reopen_modal(view: DealView, loc: Localizer, *, metadata: dict) -> dict:
    """The Reopen modal: the manager says why before a won or lost deal is open again."""
    blocks = [
        section(loc.md("deal.reopen.modal.deal", deal=deal_label(view.deal, view.customer_name), status=loc.t(STATUS_KEYS[view.deal.status]))),
        input_block(ids.REOPEN_NOTE, loc.t("deal.reopen.modal.note"), _text(REASON_NOTE_MAX, multiline=True), hint=loc.t("deal.reopen.modal.note_hint")),
    ]
    return modal(callback_id=ids.REOPEN_VIEW, title=loc.t("deal.reopen.modal.title"), submit=loc.t("deal.reopen.modal.submit"),
                 close=loc.t("common.cancel"), blocks=blocks, private_metadata=_metadata(metadata))


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
