"""Targets: attainment lines, confirmations of set and split, and the split modal."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction


from bot.blocks.kit import SECTION_TEXT_MAX, VIEW_MAX_BLOCKS, Budget, context, fallback_text, header, input_block, modal, plain, section
from bot.i18n import Localizer
from bot.periods import Period, parse_period
from bot.services.targets import DIMENSIONS, SetResult, SplitResult, TargetLine, TargetView
from bot.text import SlackSafe, escape, mention
from bot.blocks import ids

BAR_CELLS = 10
# Keys a split modal can show: one input block each, inside the view's 100 blocks and the
# 3000 characters of private_metadata that carry the keys back on submission.
MODAL_MAX_KEYS = 40

DIM_LABELS = {
    "product": "target.dim.product",
    "region": "target.dim.region",
    "segment": "target.dim.segment",
    "rep": "target.dim.rep",
    "quarter": "target.dim.quarter",
    "month": "target.dim.month",
    "week": "target.dim.week",
}
PACE_LABELS = {"ahead": "target.pace.ahead", "on_track": "target.pace.on_track", "behind": "target.pace.behind"}


def ratio(f: Fraction | None) -> Decimal | None:
    """A Fraction as a Decimal for Babel's percent format."""
    return None if f is None else Decimal(f.numerator) / Decimal(f.denominator)


def bar(f: Fraction | None, cells: int = BAR_CELLS) -> str:
    """A text progress bar, full at 100% (and no further)."""
    filled = 0 if f is None else min(cells, int(f * cells + Fraction(1, 2)))
    return "█" * filled + "░" * (cells - filled)


def dimension_label(loc: Localizer, by: str) -> str:
    """The localized name of a split kind."""
    return loc.t(DIM_LABELS[by])


def key_label(loc: Localizer, by: str | None, key: str) -> SlackSafe:
    """How a line's key reads: a mention for reps, the segment's name, else the escaped key."""
    if by == "rep":
        return mention(key)
    if by == "segment" and key in ("key", "smb"):
        return escape(loc.t(f"segment.{key}"))
    return escape(key or "—")


def _line_name(loc: Localizer, by: str | None, line: TargetLine) -> SlackSafe:
    if by is not None:
        return key_label(loc, by, line.key)
    return escape(loc.period(parse_period(line.key)))


def render_line(loc: Localizer, line: TargetLine, *, name: SlackSafe, currency: str) -> SlackSafe:
    """One target line: figures, a bar and the pace."""
    return loc.render(
        "target_line.j2",
        line_name=name,
        target=loc.money(line.target, currency),
        won=loc.money(line.won, currency),
        pct=loc.percent(ratio(line.attainment), 1),
        bar=bar(line.attainment),
        pace=loc.t(PACE_LABELS[line.pace]),
        elapsed=loc.percent(ratio(line.elapsed)),
        has_target=line.target > 0,
    )


def _chunks(lines: list[str], limit: int = SECTION_TEXT_MAX) -> list[tuple[str, int]]:
    """Lines packed into section-sized texts, each with how many lines it holds."""
    out, cur, n = [], "", 0
    for line in lines:
        if cur and len(cur) + 2 + len(line) > limit:
            out.append((cur, n))
            cur, n = "", 0
        cur = f"{cur}\n\n{line}" if cur else line
        n += 1
    if cur:
        out.append((cur, n))
    return out


def build_target_view(view: TargetView, loc: Localizer) -> tuple[str, list[dict]]:
    """`/target`: the period's total and each line with won amount, attainment, a bar and pace."""
    label, code = loc.period(view.period), view.period.label
    title = loc.t("target.view.title", team=view.team.name, period=label)
    if view.by:
        title = loc.t("target.view.title_by", team=view.team.name, period=label, by=dimension_label(loc, view.by))
    blocks: list[dict] = [header(title)]
    total = view.total
    if total is None or total.target == 0:
        blocks.append(section(loc.md("target.view.no_target", period=label, code=code, won=loc.money(total.won if total else 0, view.currency))))
    else:
        blocks.append(section(render_line(loc, total, name=SlackSafe(f"{escape(label)}"), currency=view.currency)))
    if view.by and not view.lines:
        blocks.append(section(loc.md("target.view.no_split", period=label, code=code, by=dimension_label(loc, view.by))))
    texts = [render_line(loc, line, name=_line_name(loc, view.by, line), currency=view.currency) for line in view.lines]
    closing: list[dict] = []
    if view.by and view.other_won:
        closing.append(context(loc.md("target.view.other_won", won=loc.money(view.other_won, view.currency))))
    if not view.by and view.splits:
        names = ", ".join(dimension_label(loc, d) for d in view.splits)
        closing.append(context(loc.md("target.view.splits", names=names, code=code, by=view.splits[0])))
    budget = Budget.message()
    budget.add(*blocks)
    chunks = _chunks(texts)
    budget.add_while_fits(
        [[section(text)] for text, _ in chunks], counts=[n for _, n in chunks], reserve=closing,
        more=lambda n: context(loc.mdn("target.view.more", n)),
    )
    budget.add(*closing)
    return fallback_text(title), budget.blocks


def build_set_confirmation(result: SetResult, loc: Localizer, currency: str) -> SlackSafe:
    """What `/target set` answers."""
    amount = loc.money(result.target.amount, currency)
    period = loc.period(parse_period(result.target.period))
    if result.previous is None:
        return loc.md("target.set.created", period=period, amount=amount, team=result.team.name)
    text = loc.md("target.set.updated", period=period, amount=amount, team=result.team.name, previous=loc.money(result.previous, currency))
    if result.rescaled:
        text = SlackSafe(text + " " + loc.mdn("target.set.rescaled", result.rescaled))
    return text


def build_split_confirmation(result: SplitResult, loc: Localizer, currency: str) -> tuple[str, list[dict]]:
    """What a split answers: the parts, which sum to the parent."""
    period = loc.period(parse_period(result.parent.period))
    title = loc.tn("target.split.done", len(result.parts), period=period, by=dimension_label(loc, result.by))
    lines = []
    for part in result.parts:
        name = key_label(loc, result.by, part.key) if result.by in DIMENSIONS else escape(loc.period(parse_period(part.key)))
        lines.append(SlackSafe(f"• {name}: {escape(loc.money(part.amount, currency))}"))
    total = loc.money(sum(p.amount for p in result.parts), currency)
    blocks = [section(loc.md("target.split.summary", period=period, by=dimension_label(loc, result.by), total=total))]
    budget = Budget.message()
    budget.add(*blocks)
    chunks = _chunks(lines)
    budget.add_while_fits(
        [[section(SlackSafe(text.replace("\n\n", "\n")))] for text, _ in chunks], counts=[n for _, n in chunks],
        more=lambda n: context(loc.mdn("target.view.more", n)),
    )
    return fallback_text(title), budget.blocks


def build_split_modal(
    loc: Localizer, *, period: Period, by: str, keys: list[tuple[str, str]], parent_amount: int, currency: str, metadata: dict,
) -> dict:
    """A form with one share field per known key (percentages like `60%`, or amounts)."""
    keys = keys[:MODAL_MAX_KEYS]
    meta = dict(metadata, p=period.label, by=by, keys=[k for k, _ in keys])
    raw = json.dumps(meta, separators=(",", ":"), ensure_ascii=False)
    while len(raw) > 2900 and meta["keys"]:
        meta["keys"] = meta["keys"][:-1]
        raw = json.dumps(meta, separators=(",", ":"), ensure_ascii=False)
    keys = keys[: len(meta["keys"])]
    blocks: list[dict] = [
        section(loc.md("target.modal.intro", period=loc.period(period), amount=loc.money(parent_amount, currency), by=dimension_label(loc, by))),
    ]
    for i, (key, name) in enumerate(keys):
        el = {"type": "plain_text_input", "action_id": "value", "max_length": 40, "placeholder": plain(loc.t("target.modal.placeholder", example="60%"), 150)}
        label = loc.t(f"segment.{key}") if by == "segment" else name
        blocks.append(input_block(f"{ids.TARGET_SHARE_PREFIX}{i}", label, el, optional=True))
    blocks = blocks[:VIEW_MAX_BLOCKS]
    return modal(
        callback_id=ids.TARGET_SPLIT_VIEW, title=loc.t("target.modal.title"), submit=loc.t("target.modal.submit"),
        close=loc.t("common.cancel"), blocks=blocks, private_metadata=raw,
    )
