"""What the meeting's pictures draw, in the reader's language: the digest's three, `/kpi`'s and `/pipeline`'s.

Pure: the engine's figures and a Localizer in, chart specs (bot.charts) and file entries out. The
same spec feeds the digest's thread and the picture a Chart button sends, so they cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.priorities import fraction_decimal
from bot.charts import CHART_REPS_MAX, AttainmentChart, FunnelChart, RepBar, WeeklyChart, attainment, funnel, weekly_won
from bot.i18n import Localizer
from bot.periods import MONTH, Period, period_containing
from bot.services.analytics import KpiPictures, KpiReport, PipelineReport
from bot.services.digest import Digest, PictureFigures
from bot.services.figures import QuarterWeeks, StageLine
from bot.services.targets import TargetLine


@dataclass(frozen=True)
class RepMonth:
    """A rep's month so far, for the attainment picture: their own line when they have a target, else what they won."""

    name: str
    line: TargetLine | None
    won: int


def weekly_chart(q: QuarterWeeks, loc: Localizer, currency: str, who: str) -> WeeklyChart:
    """Won per week of the quarter for a team or a rep (`who` names it), against the target's pace."""
    return WeeklyChart(
        title=loc.t("chart.weekly.title", who=who, period=loc.period(q.quarter)),
        week_labels=[loc.date(w.start) for w in q.weeks],
        won=[w.won for w in q.weeks],
        pace=q.pace(),
        won_label=loc.t("chart.weekly.won"),
        total_label=loc.t("chart.weekly.total"),
        pace_label=loc.t("chart.weekly.pace") if q.target else "",
        money=lambda minor: loc.money(minor, currency),
    )


def attainment_chart(reps: list[RepMonth], month: Period | str, as_of_elapsed, loc: Localizer, currency: str) -> AttainmentChart:
    """Each rep's attainment of their own month target against the share of the month gone (lowest first);
    what each rep won this month when no rep has a target, so the picture is never empty for lack of targets."""
    with_target = sorted((r for r in reps if r.line is not None and r.line.target), key=lambda r: (r.line.attainment, r.name))
    if with_target:
        bars = [
            RepBar(r.name, float(fraction_decimal(r.line.attainment) * 100), behind=r.line.pace == "behind")
            for r in with_target
        ]
        title, pace, money = loc.t("chart.attainment.title", period=loc.period(month)), float(as_of_elapsed) * 100, None
    else:
        bars = [RepBar(r.name, r.won) for r in sorted(reps, key=lambda r: (r.won, r.name)) if r.won]
        title, pace, money = loc.t("chart.attainment.won_title", period=loc.period(month)), None, (lambda minor: loc.money(minor, currency))
    hidden = max(0, len(bars) - CHART_REPS_MAX)
    return AttainmentChart(
        title=title, reps=bars, pace=pace, pace_label=loc.t("chart.attainment.pace"), target_label=loc.t("chart.attainment.target"),
        none=loc.t("chart.attainment.none"), hidden=hidden, more=loc.tn("chart.more", hidden) if hidden else "", money=money,
    )


def funnel_chart(lines: list[StageLine], period: Period | str, loc: Localizer) -> FunnelChart:
    """Deals that reached each stage in the period and the conversion from each stage to the next."""
    return FunnelChart(
        title=loc.t("chart.funnel.title", period=loc.period(period)),
        stages=[(loc.t(f"stage.{line.stage.value}"), line.entered) for line in lines],
        conversions=[loc.percent(line.conversion) if line.conversion is not None else "" for line in lines[:-1]],
        none=loc.t("chart.funnel.none"),
    )


def picture_file(name: str, title: str, drawn: tuple[bytes, list[str]]) -> dict:
    """A rendered picture as a file entry of a post or an upload."""
    return {"filename": name, "title": title, "content": drawn[0]}


def digest_pictures(d: Digest, p: PictureFigures, loc: Localizer) -> list[dict]:
    """The digest thread's three pictures: won per week of the quarter, attainment by rep, the quarter's funnel."""
    stem = f"{d.kind}-{d.team.id}-{d.period.label}"
    last_day = p.as_of
    reps = [RepMonth(r.member.name or r.member.slack_user_id, r.month, r.month_won) for r in d.reps]
    month = period_containing(MONTH, last_day)
    return [
        picture_file(f"{stem}-weekly.png", loc.t("chart.file.weekly", period=loc.period(p.quarter.quarter)),
                     weekly_won(weekly_chart(p.quarter, loc, d.currency, d.team.name))),
        picture_file(f"{stem}-reps.png", loc.t("chart.file.reps", period=loc.period(month)),
                     attainment(attainment_chart(reps, month, month.elapsed_share(last_day), loc, d.currency))),
        picture_file(f"{stem}-funnel.png", loc.t("chart.file.funnel", period=loc.period(p.quarter.quarter)),
                     funnel(funnel_chart(p.flow, p.quarter.quarter, loc))),
    ]


def kpi_picture_files(report: KpiReport, p: KpiPictures, loc: Localizer) -> list[dict]:
    """`/kpi`'s pictures: won per week of the quarter (team or rep), and for a team the attainment by rep."""
    who = (report.member.name or report.member.slack_user_id) if report.member is not None else report.team.name
    stem = f"kpi-{report.team.id}-{report.member.slack_user_id if report.member is not None else 'team'}-{p.as_of.isoformat()}"
    files = [picture_file(f"{stem}-weekly.png", loc.t("chart.file.weekly", period=loc.period(p.quarter.quarter)),
                          weekly_won(weekly_chart(p.quarter, loc, report.currency, who)))]
    if report.member is None:
        month = period_containing(MONTH, p.as_of)
        reps = [RepMonth(r.member.name or r.member.slack_user_id, r.line, r.won) for r in p.reps]
        files.append(picture_file(f"{stem}-reps.png", loc.t("chart.file.reps", period=loc.period(month)),
                                  attainment(attainment_chart(reps, month, month.elapsed_share(p.as_of), loc, report.currency))))
    return files


def pipeline_picture_files(report: PipelineReport, loc: Localizer) -> list[dict]:
    """`/pipeline`'s picture: the funnel of the report's period."""
    name = f"pipeline-{report.team.id}-{report.period.label}-funnel.png"
    return [picture_file(name, loc.t("chart.file.funnel", period=loc.period(report.period)), funnel(funnel_chart(report.stages, report.period, loc)))]


__all__ = ["RepMonth", "kpi_picture_files", "pipeline_picture_files", "attainment_chart", "digest_pictures", "funnel_chart", "picture_file", "weekly_chart"]
