"""The meeting's three pictures as PNG bytes (matplotlib, Agg backend).

- won per week of the quarter, with the running total against the target's pace line;
- attainment by rep against the share of the month gone (won this month when no rep has a target);
- the pipeline as a funnel: deals that reached each stage, and the conversion between stages.

Pure apart from rendering: words and numbers in (already localized by the builders), bytes out;
no files and no pyplot state. Every text is drawn in Noto Sans CJK SC, shipped by the `mplfonts`
package, which covers Latin and Simplified Chinese, so a Chinese name is never drawn as boxes and
never replaced by a user id. Rendering holds one lock: matplotlib's caches are not meant for
several threads at once, and a picture takes a fraction of a second.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

CHART_REPS_MAX = 40  # bars that stay legible; the title says how many more there are
LABEL_MAX = 24  # characters of a name on an axis
FONT_FILE = "NotoSansCJKsc-Regular.otf"
_RENDER = threading.Lock()
_GREEN, _RED, _BLUE, _GREY, _DARK = "#5cb85c", "#d9534f", "#337ab7", "#9e9e9e", "#333333"


@dataclass(frozen=True)
class WeeklyChart:
    """Won per week of a quarter; amounts in minor units, `None` for weeks still ahead."""

    title: str
    week_labels: list[str]
    won: list[int | None]
    pace: list[int]  # the target's running pace at each week's end; empty without a target
    won_label: str
    total_label: str
    pace_label: str
    money: Callable[[int], str]  # an amount in minor units as the reader writes it (axis ticks)


@dataclass(frozen=True)
class RepBar:
    """One rep's bar: attainment of their own month target in percent, or what they won when no rep has a target."""

    name: str
    value: float  # drawing only: money and ratios stay exact everywhere else
    behind: bool = False


@dataclass(frozen=True)
class AttainmentChart:
    """Attainment by rep against the month's pace."""

    title: str
    reps: list[RepBar]
    pace: float | None  # percent of the month gone; None when the bars are amounts, not attainment
    pace_label: str
    target_label: str
    none: str  # shown when there is nothing to draw
    hidden: int = 0  # reps left out beyond CHART_REPS_MAX
    more: str = ""  # "…and 3 more", already filled in
    money: Callable[[int], str] | None = None  # set when the bars are amounts


@dataclass(frozen=True)
class FunnelChart:
    """Deals that reached each stage in a period, and the conversion from each stage to the next."""

    title: str
    stages: list[tuple[str, int]]  # stage name, deals that entered it
    conversions: list[str] = field(default_factory=list)  # between stage i and i+1, already formatted ("" unknown)
    none: str = ""


@lru_cache(maxsize=1)
def font_path() -> str:
    """The CJK font file every chart is drawn with."""
    return str(resources.files("mplfonts") / "fonts" / FONT_FILE)


@lru_cache(maxsize=1)
def _font_family() -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(font_path())
    return font_manager.FontProperties(fname=font_path()).get_name()


@lru_cache(maxsize=1)
def covered_codepoints() -> frozenset[int]:
    """Every character the chart font can draw."""
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_path()).get_charmap())


def missing_glyphs(text: str) -> set[str]:
    """The characters of `text` the chart font cannot draw (whitespace aside)."""
    covered = covered_codepoints()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in covered}


def _short(name: str) -> str:
    return name if len(name) <= LABEL_MAX else name[: LABEL_MAX - 1] + "…"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # imported here: only the charts need matplotlib

    return Figure(figsize=(width, height), dpi=90)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _draw(build: Callable[[], object]) -> tuple[bytes, list[str]]:
    """Build a figure in the chart font and render it; also returns every text drawn (for the font check)."""
    import matplotlib
    from matplotlib.text import Text

    with _RENDER, matplotlib.rc_context({"font.family": [_font_family()], "axes.unicode_minus": False}):
        fig = build()
        fig.tight_layout()
        png = _png(fig)
        texts = [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    return png, texts


def _money_axis(ax, money: Callable[[int], str], axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda v, _pos: money(int(round(v))))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def weekly_won(chart: WeeklyChart) -> tuple[bytes, list[str]]:
    """Bars of won per week, the running total, and the target's pace line."""

    def build():
        fig = _figure(9, 4)
        ax = fig.subplots()
        xs = list(range(len(chart.week_labels)))
        done = [(x, w) for x, w in zip(xs, chart.won) if w is not None]
        ax.bar([x for x, _ in done], [w for _, w in done], color=_BLUE, label=chart.won_label)
        running, total = [], 0
        for _, w in done:
            total += w
            running.append(total)
        if done:
            ax.plot([x for x, _ in done], running, color=_GREEN, marker="o", linewidth=2, label=chart.total_label)
        if chart.pace:
            ax.plot(xs, chart.pace, color=_DARK, linestyle="--", linewidth=1, label=chart.pace_label)
        ax.set_xticks(xs, chart.week_labels, fontsize=7, rotation=45, ha="right")
        _money_axis(ax, chart.money)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylim(bottom=0)
        ax.set_title(chart.title, fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        return fig

    return _draw(build)


def attainment(chart: AttainmentChart) -> tuple[bytes, list[str]]:
    """A bar per rep, lowest first (who needs help), against the month's pace and the target."""

    def build():
        shown = chart.reps[:CHART_REPS_MAX]
        fig = _figure(9, max(3.0, 0.3 * len(shown) + 1.5))
        ax = fig.subplots()
        title = chart.title + (" " + chart.more if chart.hidden else "")
        ax.set_title(title, fontsize=10)
        if not shown:
            ax.text(0.5, 0.5, chart.none, ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return fig
        ys = range(len(shown))
        if chart.pace is None:
            ax.barh(ys, [r.value for r in shown], color=_BLUE)
            if chart.money is not None:
                _money_axis(ax, chart.money, axis="x")
        else:
            ax.barh(ys, [r.value for r in shown], color=[_RED if r.behind else _GREEN for r in shown])
            ax.axvline(chart.pace, color=_DARK, linestyle="--", linewidth=1, label=chart.pace_label)
            ax.axvline(100, color=_GREY, linestyle=":", linewidth=1, label=chart.target_label)
            ax.set_xlabel("%")
            ax.legend(loc="best", fontsize=8)
        ax.set_yticks(list(ys), [_short(r.name) for r in shown], fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.invert_yaxis()
        return fig

    return _draw(build)


def funnel(chart: FunnelChart) -> tuple[bytes, list[str]]:
    """Centred bars as wide as the deals that reached each stage, the conversion written between them."""

    def build():
        fig = _figure(9, 4.2)
        ax = fig.subplots()
        ax.set_title(chart.title, fontsize=10)
        ax.set_axis_off()
        widest = max((n for _, n in chart.stages), default=0)
        if not widest:
            ax.text(0.5, 0.5, chart.none, ha="center", va="center", transform=ax.transAxes)
            return fig
        count = len(chart.stages)
        for i, (name, n) in enumerate(chart.stages):
            y = count - 1 - i
            width = max(n / widest, 0.02)
            ax.barh(y, width, left=-width / 2, height=0.62, color=_BLUE)
            ax.text(-0.56, y, _short(name), ha="right", va="center", fontsize=9)
            ax.text(0, y, str(n), ha="center", va="center", fontsize=9, color="white" if width > 0.12 else _DARK)
            if i < len(chart.conversions) and chart.conversions[i]:
                ax.text(0.56, y - 0.5, "↓ " + chart.conversions[i], ha="left", va="center", fontsize=8, color=_DARK)
        ax.set_xlim(-1.25, 1.0)
        ax.set_ylim(-0.6, count - 0.4)
        return fig

    return _draw(build)


__all__ = [
    "AttainmentChart", "CHART_REPS_MAX", "FunnelChart", "RepBar", "WeeklyChart", "attainment", "covered_codepoints", "font_path",
    "funnel", "missing_glyphs", "weekly_won",
]
