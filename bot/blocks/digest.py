"""The weekly and monthly meeting digest: figures, the per-rep table, answers, suggestions and the agenda.

The per-rep table is preformatted text cut into sections of at most 3000 characters; the
whole message stays within Slack's 50 blocks however large the team ("…and N more").
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from bot.blocks.kit import MESSAGE_MAX_BLOCKS, SECTION_TEXT_MAX, Budget, context, divider, fallback_text, header, section
from bot.blocks.priorities import PACE_KEYS, fraction_decimal
from bot.blocks.standup import agenda_buttons, answered_line, blocker_blocks, build_rep_reply, followup_block, not_answered_block, rep_figures_line
from bot.i18n import Localizer
from bot.services.digest import LIST_MAX, WEEKLY, Digest, RepRow
from bot.services.standup import AgendaRef
from bot.text import SlackSafe, escape, fit, mention

NAME_WIDTH = 16
TITLE_KEYS = {"weekly": "digest.title.weekly", "monthly": "digest.title.monthly"}
KPI_KEYS = {"growth": "digest.kpi.growth", "satisfaction": "digest.kpi.satisfaction"}
FENCE = "```"


def _pct(loc: Localizer):
    def pct(value: Fraction | Decimal | None) -> str:
        return loc.percent(fraction_decimal(value) if isinstance(value, Fraction) else value)

    return pct


def _cell(text: str, width: int) -> str:
    return fit(text, width)


def _right(text: str, width: int) -> str:
    return fit(text, width, right=True)


def rep_table_lines(d: Digest, loc: Localizer) -> list[str]:
    """The table as aligned text lines (escaped): header first, one line per rep."""
    pct = _pct(loc)
    head = "  ".join([
        _cell(loc.t("digest.col.rep"), NAME_WIDTH), _right(loc.t("digest.col.sales"), 14), _right(loc.t("digest.col.attainment"), 8),
        _right(loc.t("digest.col.tasks"), 12), _right(loc.t("digest.col.completion"), 8),
    ])
    lines = [escape(head)]
    for r in d.reps:
        name = r.member.name or r.member.slack_user_id
        att = pct(r.month.attainment) if r.month is not None else "—"
        if r.behind:
            att = "▼" + att
        tasks = f"{loc.number(r.tasks_done)}/{loc.number(r.tasks_overdue)}"
        line = "  ".join([
            _cell(name, NAME_WIDTH), _right(loc.money(r.sales, d.currency), 14), _right(att, 8), _right(tasks, 12), _right(pct(r.completion), 8),
        ])
        lines.append(escape(line))
    return lines


def _chunks(lines: list[str], limit: int) -> list[list[str]]:
    """Lines grouped so each group, fenced as code, fits in `limit` characters."""
    budget = limit - 2 * len(FENCE) - 2
    out: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line[:budget]
        if current and size + len(line) + 1 > budget:
            out.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        out.append(current)
    return out


def build_digest_message(d: Digest, loc: Localizer) -> tuple[str, list[dict]]:
    """The digest message: at most 50 blocks whatever the team's size."""
    pct = _pct(loc)
    title = loc.t(TITLE_KEYS["weekly" if d.kind == WEEKLY else "monthly"], team=d.team.name, period=loc.period(d.period))
    pace = loc.md(PACE_KEYS[d.month_line.pace], elapsed=pct(d.month_line.elapsed)) if d.month_line else ""
    top: list[dict] = [header(title), section(loc.render("digest_summary.j2", d=d, pct=pct, pace=pace)), *standup_top(d, loc)]
    tail: list[dict] = [
        divider(),
        section(loc.render("digest_movement.j2", m=d.movement, funnel=d.funnel, currency=d.currency)),
        section(loc.render("digest_kpis.j2", d=d, kpis=[(KPI_KEYS[name], value, target, met) for name, value, target, met in d.kpis()], pct=pct)),
    ]
    if d.notable:
        tail.append(section(loc.render("digest_answers.j2", answers=d.notable, more=max(0, d.notable_total - len(d.notable)))))
    if d.suggestions:
        shown = d.suggestions[:LIST_MAX]
        tail.append(section(loc.render("digest_suggestions.j2", items=shown, more=len(d.suggestions) - len(shown))))
    tail.append(divider())
    if d.kind == WEEKLY and d.agenda():
        tail.extend(agenda_blocks(d, loc))
    else:
        tail.append(section(loc.render("digest_agenda.j2", lines=agenda_lines(d, loc))))
    tail.append(context(loc.mdn("digest.footer", d.schedule.stale_days)))

    # The table takes whatever the message's budget leaves (blocks and bytes): a title, its sections, and one "…and N more" line.
    budget = Budget.message()
    budget.add(*top)
    budget.add(section(SlackSafe(f"*{escape(loc.t('digest.section.reps'))}* " + loc.md("digest.reps_legend"))))
    if not d.reps:
        budget.add(section(loc.md("digest.no_reps")))
    else:
        lines = rep_table_lines(d, loc)
        head, rows = lines[0], lines[1:]
        chunks = _chunks(rows, SECTION_TEXT_MAX - len(head) - 1)
        budget.add_while_fits(
            [[section(SlackSafe(FENCE + "\n".join([head, *chunk]) + FENCE))] for chunk in chunks],
            counts=[len(c) for c in chunks],
            more=lambda n: context(loc.mdn("digest.and_more", n)),
            reserve=tail,
        )
    budget.add(*tail)
    blocks = budget.blocks
    text = fallback_text(loc.md("digest.fallback", team=d.team.name, period=loc.period(d.period), won=loc.money(d.won, d.currency)))
    return text, blocks[:MESSAGE_MAX_BLOCKS]


def standup_top(d: Digest, loc: Localizer) -> list[dict]:
    """What opens a weekly digest: last meeting's actions, then the check-ins' blockers and who did not answer."""
    s = d.standup
    if s is None:
        return []
    out: list[dict] = []
    followup = followup_block(loc, s.last_actions)
    if followup is not None:
        out.append(followup)
    if d.standup_settings is not None and d.standup_settings.enabled:
        out.append(context(answered_line(loc, s, len(d.reps))))
        out.extend(blocker_blocks(loc, s, team_id=d.team.id))
        missing = not_answered_block(loc, s)
        if missing is not None:
            out.append(missing)
    return out


TARGET_ITEMS = {"digest.agenda.target", "digest.agenda.month_behind", "digest.agenda.reps_behind"}


def agenda_source(d: Digest, key: str) -> str:
    """An agenda item's stable name for its buttons: `agenda:<item>` (a stale-deal item names its oldest deal)."""
    name = key.removeprefix("digest.agenda.")
    if key == "digest.agenda.stale" and d.stale:
        name = f"stale:{d.stale[0].deal_id}"
    return f"agenda:{name}"


def agenda_blocks(d: Digest, loc: Localizer) -> list[dict]:
    """The weekly agenda, each item with the managers' buttons (Create task, Adjust target, Mark discussed)."""
    blocks = [section(SlackSafe(f"*{escape(loc.t('digest.section.agenda'))}*"))]
    for i, ((key, _params), line) in enumerate(zip(d.agenda(), agenda_lines(d, loc)), start=1):
        blocks.append(section(SlackSafe(f"{i}. {line}"), block_id=f"agenda-{i}"))
        ref = AgendaRef(d.team.id, d.meeting, agenda_source(d, key))
        blocks.append(agenda_buttons(loc, ref, target=key in TARGET_ITEMS, block_id=f"agenda-actions-{i}"))
    return blocks


def agenda_lines(d: Digest, loc: Localizer) -> list[SlackSafe]:
    """Each agenda item as one escaped mrkdwn line; a calm line when nothing is behind."""
    pct = _pct(loc)
    out: list[SlackSafe] = []
    for key, params in d.agenda():
        kw: dict = {}
        if key == "digest.agenda.target":
            kw = {"short": loc.money(params["short"], d.currency), "period": loc.period(d.period)}
        elif key.startswith("digest.agenda.kpi."):
            kw = {"value": pct(params["value"]), "target": pct(params["target"])}
        elif key == "digest.agenda.reps_behind":
            users = SlackSafe(", ".join(mention(u) for u in params["users"]))
            if params["n"] > len(params["users"]):
                users = SlackSafe(users + " " + loc.mdn("digest.and_more", params["n"] - len(params["users"])))
            kw = {"n": params["n"], "users": users}
        elif key == "digest.agenda.stale":
            oldest = d.stale[0] if d.stale else None
            kw = {"n": params["n"], "days": loc.number(params["days"])}
            if oldest is not None:
                key = "digest.agenda.stale_oldest"
                kw.update(title=oldest.title or oldest.customer, owner=mention(oldest.owner_user_id), age=loc.number(oldest.days))
        elif "n" in params:
            kw = {"n": params["n"]}
        out.append(loc.mdn(key, **kw) if "n" in kw else loc.md(key, **kw))
    if not out:
        out.append(loc.md("digest.agenda.none"))
    return out


def standup_replies(d: Digest, loc: Localizer) -> list[tuple[str, str, list[dict]]]:
    """One thread reply per rep who answered: (user id, text, blocks), their answers beside their own figures."""
    s, settings = d.standup, d.standup_settings
    if s is None or settings is None or not settings.enabled:
        return []
    rows = {r.member.id: r for r in d.reps}
    out = []
    for c in s.checkins:
        r = rows.get(c.member.id)
        figures = None
        if r is not None:
            month = r.month
            figures = rep_figures_line(
                loc, won=loc.money(r.sales, d.currency),
                month_won=loc.money(month.won, d.currency) if month else None, month_target=loc.money(month.target, d.currency) if month else None,
                pace_key=STANDUP_PACE_KEYS.get(month.pace) if month else None, overdue=r.tasks_overdue, moved=r.deals_moved,
            )
        text, blocks = build_rep_reply(loc, checkin=c, figures=figures, settings=settings, repeated=c.member.id in s.repeated,
                                       see_all_value=str(c.checkin_id))
        out.append((c.member.slack_user_id, text, blocks))
    return out


STANDUP_PACE_KEYS = {"ahead": "standup.fig.ahead", "on_track": "standup.fig.on_track", "behind": "standup.fig.behind"}


__all__ = ["RepRow", "agenda_blocks", "agenda_lines", "build_digest_message", "rep_table_lines", "standup_replies", "standup_top"]
