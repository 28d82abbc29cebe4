"""The digest's chart: attainment by rep and the pipeline funnel, as PNG bytes (matplotlib, Agg backend).

Pure apart from rendering: figures in, bytes out, no files and no global pyplot state.
Labels use a CJK font when the machine has one; otherwise names outside the fonts'
coverage fall back to the Slack user id, so no label renders as empty boxes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

CHART_REPS_MAX = 40  # bars that stay legible; the title says how many more there are
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


@dataclass(frozen=True)
class ChartTexts:
    """The chart's words, already in the reader's language."""

    attainment_title: str
    funnel_title: str
    target_line: str
    more: str  # "…and %(n)s more", filled by the chart
    none: str  # shown when no rep has a target


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def _label(name: str, fallback: str) -> str:
    """The name when the fonts can draw it; the fallback (user id) otherwise."""
    if _cjk_font() is not None or all(ord(ch) < 0x0530 for ch in name):
        return name[:24] or fallback
    return fallback


def render_digest_chart(
    reps: list[tuple[str, str, Decimal | None]], funnel: list[tuple[str, int]], texts: ChartTexts,
) -> bytes:
    """Two panels: attainment per rep (name, user id, attainment ratio or None) and open deals per stage."""
    from matplotlib.figure import Figure  # imported here: only the digest needs matplotlib

    font = _cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    import matplotlib

    with matplotlib.rc_context(rc):
        with_target = [(n, u, a) for n, u, a in reps if a is not None]
        with_target.sort(key=lambda r: r[2])  # lowest attainment first: who needs help
        shown = with_target[:CHART_REPS_MAX]
        height = max(3.0, 0.28 * len(shown) + 1.5)
        fig = Figure(figsize=(11, height), dpi=90)
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
        if shown:
            labels = [_label(n, u) for n, u, _ in shown]
            values = [float(a) * 100 for _, _, a in shown]  # float only for drawing, never for money
            colors = ["#d9534f" if v < 100 else "#5cb85c" for v in values]
            ax1.barh(range(len(shown)), values, color=colors)
            ax1.set_yticks(range(len(shown)), labels, fontsize=8)
            ax1.axvline(100, color="#333333", linestyle="--", linewidth=1, label=texts.target_line)
            ax1.invert_yaxis()
            ax1.set_xlabel("%")
            ax1.legend(loc="lower right", fontsize=8)
        else:
            ax1.text(0.5, 0.5, texts.none, ha="center", va="center", transform=ax1.transAxes)
            ax1.set_axis_off()
        title = texts.attainment_title
        if len(with_target) > len(shown):
            title += " " + texts.more % {"n": len(with_target) - len(shown)}
        ax1.set_title(title, fontsize=10)
        stages = [s for s, _ in funnel]
        counts = [n for _, n in funnel]
        ax2.barh(range(len(stages)), counts, color="#337ab7")
        ax2.set_yticks(range(len(stages)), stages, fontsize=8)
        ax2.invert_yaxis()
        for i, n in enumerate(counts):
            ax2.text(n, i, f" {n}", va="center", fontsize=8)
        ax2.set_title(texts.funnel_title, fontsize=10)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def can_draw(language: str) -> bool:
    """True when the chart can be drawn in the language (Chinese needs a CJK font on the machine)."""
    return language == "en" or _cjk_font() is not None
