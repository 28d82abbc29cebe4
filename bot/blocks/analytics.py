"""The /pipeline and /kpi messages: pure builders from reports to Block Kit."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from bot.blocks import ids
from bot.blocks.deals import REASON_KEYS
from bot.blocks.kit import MESSAGE_MAX_BLOCKS, actions, button, context, divider, fallback_text, header, section
from bot.i18n import Localizer
from bot.services.analytics import KpiReport, PipelineReport
from bot.text import SlackSafe, mention


def _days(loc: Localizer, value: Decimal | None) -> str:
    """Days with one decimal, or n/a."""
    if value is None:
        return loc.t("common.na")
    return loc.number(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _period_dates(loc: Localizer, period) -> dict:
    """First and last day of a period (its end is exclusive), formatted."""
    from datetime import timedelta

    return {"start": loc.date_long(period.start), "end": loc.date_long(period.end - timedelta(days=1))}


def build_pipeline(report: PipelineReport, loc: Localizer) -> tuple[str, list[dict]]:
    """The pipeline report: a section per stage, the stage metrics and the stale deals (≤ 50 blocks)."""
    def money(minor: int) -> str:
        return loc.money(minor, report.currency)

    title = loc.t("kpi.pipeline.title", team=report.team.name, period=loc.period(report.period))
    blocks: list[dict] = [
        header(title),
        context(loc.mdn("kpi.pipeline.summary", report.open_count, value=money(report.open_value), **_period_dates(loc, report.period))),
    ]
    for line in report.stages:
        blocks.append(section(loc.render("pipeline_stage.j2", line=line, money=money, days=lambda v: _days(loc, v))))
    metrics = "\n".join([
        f"*{loc.md('kpi.pipeline.metrics_title')}*",
        "• " + loc.md("kpi.pipeline.leads_found", n=loc.number(report.leads_found)),
        "• " + loc.md("kpi.pipeline.effective", n=loc.number(report.effective_communications)),
        "• " + loc.md("kpi.pipeline.needs", n=loc.number(report.needs_analysed)),
    ])
    blocks += [divider(), section(SlackSafe(metrics))]
    if report.lost_reasons:
        blocks.append(section(lost_reasons_text(report, loc)))
    blocks.append(divider())
    if report.stale_total:
        blocks.append(section(loc.render("pipeline_stale.j2", report=report, money=money)))
    else:
        blocks.append(section(loc.md("kpi.pipeline.stale_none")))
    blocks.append(context(loc.md("kpi.pipeline.footnote")))
    chart = actions([button(loc.t("chart.button"), ids.CHART_PIPELINE, chart_value(report.team.name, report.period.label, None))])
    return fallback_text(title), blocks[: MESSAGE_MAX_BLOCKS - 1] + [chart]


def lost_reasons_text(report: PipelineReport, loc: Localizer) -> SlackSafe:
    """Deals lost in the period, counted per reason (most first)."""
    lines = [f"*{loc.md('kpi.pipeline.lost_title', n=loc.number(sum(report.lost_reasons.values())))}*"]
    for reason, n in sorted(report.lost_reasons.items(), key=lambda kv: (-kv[1], kv[0].value if kv[0] else "~")):
        name = loc.t(REASON_KEYS[reason]) if reason is not None else loc.t("kpi.pipeline.lost_unspecified")
        lines.append("• " + loc.md("kpi.pipeline.lost_line", reason=name, n=loc.number(n)))
    return SlackSafe("\n".join(lines))


def _verdict(loc: Localizer, met: bool | None) -> SlackSafe:
    if met is None:
        return loc.md("kpi.no_data")
    return loc.md("kpi.met" if met else "kpi.missed")


def build_kpi(report: KpiReport, loc: Localizer) -> tuple[str, list[dict]]:
    """The KPI report of a rep or a team: one section per KPI, each against its target."""
    def money(minor: int) -> str:
        return loc.money(minor, report.currency)

    def pct(value: Decimal | None) -> str:
        return loc.percent(value, 1)

    r = report
    if r.member is not None:
        title = loc.t("kpi.title.rep", name=r.member.name or r.member.slack_user_id, period=loc.period(r.period))
    else:
        title = loc.t("kpi.title.team", team=r.team.name, period=loc.period(r.period))
    subtitle = [loc.md("kpi.subtitle", previous=loc.period(r.period.previous()), **_period_dates(loc, r.period))]
    if r.member is not None:
        subtitle.insert(0, loc.md("kpi.subtitle.rep", user=mention(r.member.slack_user_id), team=r.team.name))

    if r.sales_target is not None:
        sales_target = loc.md("kpi.sales.target", target=money(r.sales_target)) + " · " + _verdict(loc, r.verdict("sales"))
    else:
        sales_target = loc.md("kpi.sales.no_target", period=loc.period(r.period))
    lines = [
        loc.md("kpi.sales", value=money(r.sales)) + "\n" + sales_target,
        loc.md("kpi.growth", value=pct(r.growth), previous=money(r.previous_sales)) + "\n"
        + loc.md("kpi.growth.target", target=pct(r.growth_target)) + " · " + _verdict(loc, r.verdict("growth")),
        loc.mdn("kpi.satisfaction", r.answered, value=pct(r.satisfaction), satisfied=loc.number(r.satisfied)) + "\n"
        + loc.md("kpi.satisfaction.target", target=pct(r.satisfaction_target)) + " · " + _verdict(loc, r.verdict("satisfaction")),
        loc.md("kpi.new_customers", n=loc.number(r.new_customers)),
        loc.md("kpi.cost", cost=money(r.cost), ratio=pct(r.cost_ratio)),
        loc.mdn("kpi.completion", r.tasks_due, value=pct(r.completion), done=loc.number(r.tasks_on_time)),
    ]
    rep = r.member.slack_user_id if r.member is not None else None
    chart = actions([button(loc.t("chart.button"), ids.CHART_KPI, chart_value(r.team.name, r.period.label, rep))])
    blocks = [header(title), context(*subtitle)] + [section(SlackSafe(x)) for x in lines] + [context(loc.md("kpi.footnote")), chart]
    return fallback_text(title), blocks


def chart_value(team: str, period: str, rep: str | None) -> str:
    """What a report's Chart button carries: the team, the period and the rep the report was about."""
    return json.dumps({"team": team, "period": period, "rep": rep}, ensure_ascii=False)


def read_chart_value(value: str) -> tuple[str | None, str | None, str | None]:
    """(team name, period label, rep user id) from a Chart button's value; Nones when it does not parse."""
    try:
        data = json.loads(value)
        return data.get("team"), data.get("period"), data.get("rep")
    except (ValueError, AttributeError):
        return None, None, None
