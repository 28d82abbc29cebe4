"""The standup's surfaces: the check-in DM and its modal, each rep's thread reply, the digest's blockers and actions.

Answers may be 3,000 characters each: a thread reply shows the first ANSWER_PREVIEW of each,
with a See all button that opens them whole in a modal (cut into sections of Slack's 3,000).
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.blocks import ids
from bot.blocks.kit import (
    SECTION_TEXT_MAX, Budget, actions, button, context, fallback_text, header, input_block, modal, option, plain, section,
)
from bot.i18n import Localizer
from bot.models import Member
from bot.services.standup import (
    BLOCKER_Q, CONFIDENCE_Q, QUESTIONS, ActionState, AgendaRef, CheckInForm, CheckInRef, RepCheckIn, Standup, StandupSettings,
)
from bot.text import SlackSafe, escape, mention, truncate

ANSWER_PREVIEW = 700  # characters of each answer shown in a thread reply
BLOCKER_PREVIEW = 300  # characters of each blocker at the top of the digest
BLOCKERS_SHOWN = 5  # blockers with buttons in the digest; the rest behind "see all"
MENTIONS_MAX = 30  # reps named in the "not answered" line
ACTIONS_SHOWN = 15  # last meeting's actions listed
STATE_ICONS = {"done": ":white_check_mark:", "open": ":hourglass_flowing_sand:", "overdue": ":warning:", "cancelled": ":heavy_multiplication_x:"}


def question_texts(settings: StandupSettings, loc: Localizer) -> list[str]:
    """The four questions: the manager's texts where given, else the catalog's in the reader's language."""
    custom = settings.questions or ("",) * len(QUESTIONS)
    return [custom[i] or loc.t(f"standup.q.{name}") for i, name in enumerate(QUESTIONS)]


def _deadline(loc: Localizer, closes_at: datetime, tz: str) -> str:
    return loc.datetime(closes_at, tz)


def build_checkin_dm(loc: Localizer, *, ref: CheckInRef, team_name: str, closes_at: datetime, tz: str, reminder: bool = False) -> tuple[str, list[dict]]:
    """The check-in DM (or its one reminder) with the Answer button."""
    key = "standup.remind" if reminder else ("standup.dm.daily" if ref.kind == "daily" else "standup.dm.weekly")
    body = loc.md(key, team=team_name, deadline=_deadline(loc, closes_at, tz))
    blocks = [
        section(body),
        actions([button(loc.t("standup.button.answer"), ids.STANDUP_ANSWER, ref.encode(), style="primary")], block_id="standup-answer"),
    ]
    return fallback_text(body), blocks


def build_checkin_modal(loc: Localizer, form: CheckInForm, *, tz: str, response_url: str | None = None) -> dict:
    """The answer modal, prefilled with the rep's saved answers (editing is answering again)."""
    questions = question_texts(form.settings, loc)
    blocks: list[dict] = [context(loc.md("standup.modal.intro", team=form.team.name, deadline=_deadline(loc, form.closes_at, tz)))]
    for i in range(CONFIDENCE_Q):
        el: dict = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000}
        if form.answers[i]:
            el["initial_value"] = form.answers[i][:3000]
        blocks.append(input_block(f"{ids.STANDUP_Q_PREFIX}{i}", questions[i], el, optional=True,
                                  hint=loc.t("standup.modal.blockers_hint") if i == BLOCKER_Q else None))
    scores = [option(str(n), str(n)) for n in range(1, 6)]
    score_el: dict = {"type": "static_select", "action_id": "value", "options": scores, "placeholder": plain(loc.t("standup.modal.confidence_placeholder"), 150)}
    if form.confidence in range(1, 6):
        score_el["initial_option"] = scores[form.confidence - 1]
    blocks.append(input_block(f"{ids.STANDUP_Q_PREFIX}{CONFIDENCE_Q}", questions[CONFIDENCE_Q], score_el, optional=True))
    return modal(
        callback_id=ids.STANDUP_VIEW, title=loc.t("standup.modal.title"), submit=loc.t("standup.modal.submit"), close=loc.t("common.cancel"),
        blocks=blocks, private_metadata=json.dumps({"ref": form.ref.encode(), "ru": response_url}, separators=(",", ":")),
    )


def _answer_sections(label: str, text: str) -> list[dict]:
    """A question and its whole answer, cut into sections within Slack's 3,000 characters."""
    body = escape(text)
    head = f"*{escape(label)}*\n"
    out, first = [], True
    while body or first:
        room = SECTION_TEXT_MAX - (len(head) if first else 0)
        piece, body = body[:room], body[room:]
        out.append(section(SlackSafe((head if first else "") + piece)))
        first = False
    return out


def build_answers_modal(loc: Localizer, *, member: Member, answers: list[str], settings: StandupSettings) -> dict:
    """Every answer of one rep, whole (See all)."""
    questions = question_texts(settings, loc)
    budget = Budget.view()
    budget.add(section(loc.md("standup.all.who", rep=mention(member.slack_user_id))))
    for i, q in enumerate(questions):
        if answers[i]:
            budget.add(*_answer_sections(q, answers[i]))
    return modal(callback_id="standup_answers", title=loc.t("standup.all.title"), blocks=budget.blocks, close=loc.t("standup.button.close"))


def _preview(text: str, limit: int) -> tuple[SlackSafe, bool]:
    cut = len(text) > limit
    return escape(truncate(text, limit)), cut


def build_rep_reply(
    loc: Localizer, *, checkin: RepCheckIn, figures: SlackSafe | None, settings: StandupSettings, repeated: bool, see_all_value: str,
) -> tuple[str, list[dict]]:
    """One rep's thread reply: their figures for the week beside their answers (cut, with See all when long)."""
    questions = question_texts(settings, loc)
    who = loc.md("standup.reply.who", rep=mention(checkin.member.slack_user_id))
    if checkin.edited:
        who = SlackSafe(who + " " + loc.md("standup.reply.edited"))
    blocks: list[dict] = [section(who)]
    if figures:
        blocks.append(context(figures))
    any_cut = False
    for i, q in enumerate(questions):
        answer = checkin.answers[i]
        if not answer:
            continue
        if i == CONFIDENCE_Q:
            blocks.append(section(loc.md("standup.reply.confidence", question=q, score=answer)))
            continue
        shown, cut = _preview(answer, ANSWER_PREVIEW)
        any_cut = any_cut or cut
        flag = " " + loc.md("standup.reply.again") if i == BLOCKER_Q and repeated and checkin.blocker else ""
        blocks.append(section(SlackSafe(f"*{escape(q)}*{flag}\n{shown}")))
    if any_cut:
        blocks.append(actions([button(loc.t("standup.button.see_all"), ids.STANDUP_SEE_ALL, see_all_value)], block_id="standup-see-all"))
    text = fallback_text(loc.md("standup.reply.fallback", name=checkin.member.name or checkin.member.slack_user_id))
    return text, blocks


def rep_figures_line(loc: Localizer, *, won: str, month_won: str | None, month_target: str | None, pace_key: str | None, overdue: int, moved: int) -> SlackSafe:
    """The rep's own figures for the week, as the digest's engine gave them: won, the month against target and pace, tasks, deals."""
    parts = [loc.md("standup.fig.won", won=won)]
    if month_target is not None:
        parts.append(loc.md("standup.fig.month", won=month_won, target=month_target))
    if pace_key:
        parts.append(loc.md(pace_key))
    parts.append(loc.mdn("standup.fig.overdue", overdue))
    parts.append(loc.mdn("standup.fig.moved", moved))
    return SlackSafe(" · ".join(parts))


def agenda_buttons(loc: Localizer, ref: AgendaRef, *, target: bool, block_id: str) -> dict:
    """Create task, Adjust target (for target lines) and Mark discussed, for managers."""
    value = ref.encode()
    elements = [button(loc.t("standup.button.task"), ids.AGENDA_TASK, value)]
    if target:
        elements.append(button(loc.t("standup.button.target"), ids.AGENDA_TARGET, value))
    elements.append(button(loc.t("standup.button.discussed"), ids.AGENDA_DISCUSSED, value))
    return actions(elements, block_id=block_id)


def blocker_blocks(loc: Localizer, s: Standup, *, team_id: int) -> list[dict]:
    """The blockers gathered at the top of the digest, who raised them, each with the managers' buttons."""
    blockers = s.blockers
    if not blockers:
        return []
    blocks: list[dict] = [section(loc.mdn("standup.blockers.title", len(blockers)))]
    for c in blockers[:BLOCKERS_SHOWN]:
        text, _ = _preview(c.blocker, BLOCKER_PREVIEW)
        again = " " + loc.md("standup.reply.again") if c.member.id in s.repeated else ""
        blocks.append(section(SlackSafe(f"{mention(c.member.slack_user_id)}{again}: {text}")))
        ref = AgendaRef(team_id, s.period, f"blocker:{c.checkin_id}")
        blocks.append(agenda_buttons(loc, ref, target=False, block_id=f"blocker-{c.checkin_id}"))
    if len(blockers) > BLOCKERS_SHOWN:
        more = len(blockers) - BLOCKERS_SHOWN
        blocks.append(actions([button(loc.tn("standup.blockers.more", more), ids.STANDUP_BLOCKERS_ALL, f"{team_id}|{s.period}")], block_id="blockers-more"))
    return blocks


def not_answered_block(loc: Localizer, s: Standup) -> dict | None:
    """Who did not answer the check-in (reps on leave are not listed)."""
    if not s.not_answered:
        return None
    names = ", ".join(mention(m.slack_user_id) for m in s.not_answered[:MENTIONS_MAX])
    if len(s.not_answered) > MENTIONS_MAX:
        names += " " + loc.mdn("digest.and_more", len(s.not_answered) - MENTIONS_MAX)
    return context(loc.mdn("standup.not_answered", len(s.not_answered), users=SlackSafe(names)))


def answered_line(loc: Localizer, s: Standup, total: int) -> SlackSafe:
    """How many reps answered."""
    return loc.md("standup.answered", n=loc.number(len(s.checkins)), total=loc.number(total))


def followup_block(loc: Localizer, actions_: list[ActionState]) -> dict | None:
    """Last meeting's actions and where each stands now."""
    if not actions_:
        return None
    lines = [f"*{escape(loc.t('standup.followup.title'))}*"]
    for a in actions_[:ACTIONS_SHOWN]:
        what = escape(truncate(a.task_title or a.action.what or "", 150))
        who = f" · {mention(a.who)}" if a.who else ""
        due = f" · {escape(loc.date(a.action.due_date))}" if a.action.due_date else ""
        kind = escape(loc.t(f"standup.action.{a.action.kind}"))
        state = escape(loc.t(f"standup.state.{a.state}"))
        lines.append(f"{STATE_ICONS.get(a.state, '')} {kind}: {what}{who}{due} — {state}")
    if len(actions_) > ACTIONS_SHOWN:
        lines.append(loc.mdn("digest.and_more", len(actions_) - ACTIONS_SHOWN))
    return section(SlackSafe("\n".join(lines)))


def build_blockers_modal(loc: Localizer, s: Standup) -> dict:
    """Every blocker of the period, whole, with who raised it (the digest's "see all")."""
    budget = Budget.view()
    budget.add(section(loc.mdn("standup.blockers.title", len(s.blockers))))
    groups = []
    for c in s.blockers:
        again = " " + loc.md("standup.reply.again") if c.member.id in s.repeated else ""
        groups.append(_answer_sections(c.member.name or c.member.slack_user_id, c.blocker) + [context(SlackSafe(mention(c.member.slack_user_id) + again))])
    budget.add_while_fits(groups, more=lambda n: context(loc.mdn("digest.and_more", n)))
    return modal(callback_id="standup_blockers", title=loc.t("standup.blockers.modal_title"), blocks=budget.blocks, close=loc.t("standup.button.close"))


def build_daily_report(loc: Localizer, s: Standup, *, team_name: str, day_label: str, total: int) -> tuple[str, list[dict]]:
    """The daily standup's short report in the channel: who answered, the blockers, who did not; answers in the thread."""
    title = loc.t("standup.daily.title", team=team_name, day=day_label)
    blocks: list[dict] = [header(title), section(answered_line(loc, s, total))]
    blockers = s.blockers
    if blockers:
        lines = [f"*{escape(loc.tn('standup.blockers.title', len(blockers)))}*"]
        for c in blockers[:BLOCKERS_SHOWN * 2]:
            text, _ = _preview(c.blocker, BLOCKER_PREVIEW)
            lines.append(f"• {mention(c.member.slack_user_id)}: {text}")
        if len(blockers) > BLOCKERS_SHOWN * 2:
            lines.append(loc.mdn("digest.and_more", len(blockers) - BLOCKERS_SHOWN * 2))
        blocks.append(section(SlackSafe("\n".join(lines))))
    missing = not_answered_block(loc, s)
    if missing:
        blocks.append(missing)
    return fallback_text(loc.md("standup.daily.fallback", team=team_name, day=day_label)), blocks


def build_config_blocks(loc: Localizer, settings: StandupSettings) -> list[dict]:
    """The standup section of the team settings modal: on/off, the times, the questions (empty keeps the default)."""
    weekly = option(loc.t("config.standup.weekly"), "weekly")
    daily = option(loc.t("config.standup.daily"), "daily")
    on_el: dict = {"type": "checkboxes", "action_id": "value", "options": [weekly, daily]}
    chosen = [o for o, on in ((weekly, settings.enabled), (daily, settings.daily)) if on]
    if chosen:
        on_el["initial_options"] = chosen
    hhmm = loc.t("config.time.placeholder")

    def text_el(value: str, max_length: int) -> dict:
        el: dict = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
        if value:
            el["initial_value"] = value
        return el

    blocks = [
        section(loc.md("config.standup.intro")),
        input_block(ids.CONFIG_STANDUP, loc.t("config.standup.label"), on_el, optional=True),
        input_block(ids.CONFIG_STANDUP_TIME, loc.t("config.standup.time"), {**text_el(settings.time.strftime("%H:%M"), 5), "placeholder": plain(hhmm, 150)},
                    hint=loc.t("config.standup.time_hint")),
        input_block(ids.CONFIG_STANDUP_DAILY_TIME, loc.t("config.standup.daily_time"),
                    {**text_el(settings.daily_time.strftime("%H:%M"), 5), "placeholder": plain(hhmm, 150)}, hint=loc.t("config.standup.daily_time_hint")),
    ]
    custom = settings.questions or ("",) * len(QUESTIONS)
    for i, name in enumerate(QUESTIONS):
        el = text_el(custom[i], 150)
        el["placeholder"] = plain(loc.t(f"standup.q.{name}"), 150)
        blocks.append(input_block(f"{ids.CONFIG_STANDUP_Q_PREFIX}{i}", loc.t("config.standup.question", n=i + 1), el, optional=True))
    return blocks


__all__ = [
    "ANSWER_PREVIEW", "agenda_buttons", "answered_line", "blocker_blocks", "build_answers_modal", "build_blockers_modal", "build_checkin_dm",
    "build_checkin_modal", "build_config_blocks", "build_daily_report", "build_rep_reply", "followup_block", "not_answered_block",
    "question_texts", "rep_figures_line",
]
