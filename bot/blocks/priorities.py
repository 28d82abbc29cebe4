"""The morning priorities DM: the rep's most urgent work with Done / Snooze buttons and a See all.

Thousands of these are built in one tick, so the lines come from catalog strings (not
templates) and the Babel formats are memoized per language in a `Formats` shared by the run.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from bot.blocks.kit import actions, button, context, fallback_text, header, section
from bot.i18n import Localizer
from bot.services.priorities import Priorities, PriorityTask, StaleItem
from bot.text import SlackSafe, escape
from bot.blocks import ids

_PRIORITY_ICON = {1: ":red_circle:", 2: ":large_yellow_circle:", 3: ":white_circle:"}
PACE_KEYS = {"ahead": "daily.pace.ahead", "on_track": "daily.pace.on_track", "behind": "daily.pace.behind"}


def fraction_decimal(value: Fraction | None) -> Decimal | None:
    """A Fraction as a Decimal for Babel's percent format (None stays None)."""
    if value is None:
        return None
    return Decimal(value.numerator) / Decimal(value.denominator)


class Formats:
    """Memoized Babel formats of one localizer: a morning's DMs repeat the same dates, counts and amounts."""

    def __init__(self, loc: Localizer) -> None:
        self.loc = loc
        self._memo: dict[tuple, str] = {}

    def _get(self, key: tuple, make) -> str:
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = make()
        return value

    def number(self, n: int) -> str:
        """loc.number, memoized."""
        return self._get(("n", n), lambda: self.loc.number(n))

    def money(self, amount: int, currency: str) -> str:
        """loc.money, memoized."""
        return self._get(("m", amount, currency), lambda: self.loc.money(amount, currency))

    def due(self, due: date | None, today: date) -> str:
        """loc.due, memoized."""
        return self._get(("d", due, today), lambda: self.loc.due(due, today))

    def percent(self, value: Fraction | None) -> str:
        """loc.percent of a Fraction, memoized."""
        return self._get(("p", value), lambda: self.loc.percent(fraction_decimal(value)))

    def date_long(self, d: date) -> str:
        """loc.date_long, memoized."""
        return self._get(("D", d), lambda: self.loc.date_long(d))

    def md(self, key: str, **kw: str) -> SlackSafe:
        """loc.md, memoized by its (already formatted) values."""
        return self._get(("md", key, *sorted(kw.items())), lambda: self.loc.md(key, **kw))

    def text(self, key: str) -> str:
        """loc.t without placeholders, memoized."""
        return self._get(("t", key), lambda: self.loc.t(key))


def task_line(task: PriorityTask, f: Formats, today: date) -> SlackSafe:
    """A task as two mrkdwn lines: marker and title, then customer · priority · due (· in progress)."""
    bucket = task.bucket(today)
    icon = ":warning:" if bucket == 0 else ":alarm_clock:" if bucket == 1 else _PRIORITY_ICON.get(int(task.priority), ":white_circle:")
    meta = []
    if task.customer:
        meta.append(":office: " + escape(task.customer))
    meta.append(escape(f.text(f"priority.{int(task.priority)}")))
    meta.append(":calendar: " + escape(f.due(task.due_date, today)))
    if task.status.value == "in_progress":
        meta.append(escape(f.text("status.in_progress")))
    return SlackSafe(f"{icon} *{escape(task.title)}*\n" + " · ".join(meta))


def deal_line(deal: StaleItem, f: Formats, currency: str) -> SlackSafe:
    """A stale deal as two mrkdwn lines: title and customer, then stage, days and amount."""
    detail = f.loc.mdn("daily.stale_line", deal.days, stage=f.text(f"stage.{deal.stage.value}"), amount=f.money(deal.amount, currency))
    return SlackSafe(f":hourglass_flowing_sand: *{escape(deal.title or deal.customer)}* · :office: {escape(deal.customer)}\n{detail}")


def build_priorities(p: Priorities, loc: Localizer, formats: Formats | None = None) -> tuple[str, list[dict]]:
    """The DM: header, counts, month attainment, up to ten items (tasks with buttons) and See all."""
    f = formats if formats is not None and formats.loc is loc else Formats(loc)
    r = p.recipient
    today = r.today
    blocks: list[dict] = [header(loc.t("daily.title", date=f.date_long(today)))]
    counts = {"overdue": f.number(p.overdue), "today": f.number(p.due_today), "open": f.number(p.open_total)}
    summary = f.md("daily.summary", **counts)
    if p.stale_total:
        summary = SlackSafe(summary + " · " + loc.mdn("daily.summary_stale", p.stale_total))
    blocks.append(context(summary))
    if p.month is not None:
        m = p.month
        line = loc.md("daily.month", period=loc.period(m.key), won=f.money(m.won, r.currency), target=f.money(m.target, r.currency), pct=f.percent(m.attainment))
        blocks.append(section(SlackSafe(line + " " + loc.md(PACE_KEYS[m.pace], elapsed=f.percent(m.elapsed)))))
    items = p.items()
    if not items:
        blocks.append(section(loc.md("daily.nothing")))
    done, snooze = f.text("daily.button.done"), f.text("daily.button.snooze")
    for item in items:
        if isinstance(item, PriorityTask):
            blocks.append(section(task_line(item, f, today)))
            value = str(item.task_id)
            blocks.append(actions([
                button(done, ids.DAILY_DONE, value, style="primary"),
                button(snooze, ids.DAILY_SNOOZE, value),
            ], block_id=f"daily-task-{item.task_id}"))
        else:
            blocks.append(section(deal_line(item, f, r.currency)))
    shown = sum(1 for i in items if isinstance(i, PriorityTask))
    if p.open_total:
        blocks.append(actions([button(loc.t("daily.button.see_all", n=counts["open"]), ids.DAILY_SEE_ALL, "open")], block_id="daily-more"))
        if p.open_total > shown:
            blocks.append(context(loc.mdn("daily.more", p.open_total - shown)))
    return fallback_text(f.md("daily.fallback", **counts)), blocks
