"""The morning priorities DM: the rep's most urgent work with Done / Snooze buttons and a See all."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from bot.blocks.kit import actions, button, context, fallback_text, header, section
from bot.i18n import Localizer
from bot.services.priorities import Priorities, PriorityTask, StaleItem
from handlers import ids


def fraction_decimal(value: Fraction | None) -> Decimal | None:
    """A Fraction as a Decimal for Babel's percent format (None stays None)."""
    if value is None:
        return None
    return Decimal(value.numerator) / Decimal(value.denominator)


def build_priorities(p: Priorities, loc: Localizer) -> tuple[str, list[dict]]:
    """The DM: header, counts, month attainment, up to ten items (tasks with buttons) and See all."""
    r = p.recipient
    today = r.today
    title = loc.t("daily.title", date=loc.date_long(today))
    blocks: list[dict] = [header(title)]
    summary = [loc.md("daily.summary", overdue=loc.number(p.overdue), today=loc.number(p.due_today), open=loc.number(p.open_total))]
    if p.stale_total:
        summary.append(loc.md("daily.summary_stale", n=loc.number(p.stale_total)))
    blocks.append(context(" · ".join(summary)))
    if p.month is not None:
        blocks.append(section(loc.render(
            "daily_month.j2", line=p.month, currency=r.currency,
            pct=loc.percent(fraction_decimal(p.month.attainment)), elapsed=loc.percent(fraction_decimal(p.month.elapsed)),
        )))
    items = p.items()
    if not items:
        blocks.append(section(loc.md("daily.nothing")))
    for item in items:
        if isinstance(item, PriorityTask):
            blocks.append(section(loc.render("daily_task.j2", task=item, today=today)))
            value = str(item.task_id)
            blocks.append(actions([
                button(loc.t("daily.button.done"), ids.DAILY_DONE, value, style="primary"),
                button(loc.t("daily.button.snooze"), ids.DAILY_SNOOZE, value),
            ], block_id=f"daily-task-{item.task_id}"))
        elif isinstance(item, StaleItem):
            blocks.append(section(loc.render("daily_deal.j2", deal=item, currency=r.currency)))
    shown = sum(1 for i in items if isinstance(i, PriorityTask))
    if p.open_total:
        more = [button(loc.t("daily.button.see_all", n=loc.number(p.open_total)), ids.DAILY_SEE_ALL, "open")]
        blocks.append(actions(more, block_id="daily-more"))
        if p.open_total > shown:
            blocks.append(context(loc.md("daily.more", n=loc.number(p.open_total - shown))))
    text = fallback_text(loc.md("daily.fallback", overdue=loc.number(p.overdue), today=loc.number(p.due_today), open=loc.number(p.open_total)))
    return text, blocks
