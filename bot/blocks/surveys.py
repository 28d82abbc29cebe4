"""Survey messages: the 1–5 question (to the customer, or to the rep recording it by hand),
the answered and closed states, the comment modal, and the notices to the rep and managers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.blocks.kit import actions, button, context, fallback_text, input_block, modal, section
from bot.blocks.refs import decode_id
from bot.i18n import Localizer
from bot.services.surveys import COMMENT_MAX, SCORES, SurveyContext
from bot.text import mention
from bot.blocks import ids


@dataclass(frozen=True)
class SurveyRef:
    """A survey button's value: the workspace that posted it, the survey, and the score (0 on Comment).

    The workspace comes from the value, not from the click: in a Slack Connect channel the
    customer who clicks belongs to another workspace.
    """

    team: str
    survey_id: int
    score: int = 0

    def encode(self) -> str:
        """A short string well under Slack's 2000-character button value."""
        return f"{self.team}|{self.survey_id}|{self.score}"

    @classmethod
    def decode(cls, value: str) -> "SurveyRef":
        """Parse a value this module encoded; ValueError on anything else."""
        team, survey_id, score = value.split("|")
        if not team:
            raise ValueError("no team")
        return cls(team, decode_id(survey_id), int(score))


def _until(ctx: SurveyContext, loc: Localizer, tz: str) -> str:
    return loc.datetime(ctx.survey.expires_at, tz)


def _about(ctx: SurveyContext, loc: Localizer, *, to_rep: bool = False) -> str:
    # The rep records the answer by hand: "your recent purchase" would address the rep as the buyer.
    prefix = "survey.manual.about." if to_rep else "survey.about."
    return loc.t(prefix + ("task" if ctx.survey.source == "task" else "deal"))


def score_buttons(ctx: SurveyContext, loc: Localizer) -> dict:
    """Five score buttons (the chosen one highlighted) and Add a comment, in one actions block."""
    team = ctx.workspace.slack_team_id
    elements = []
    for n, action_id in zip(SCORES, ids.SURVEY_SCORES):
        style = "primary" if ctx.survey.score == n else None
        elements.append(button(str(n), action_id, SurveyRef(team, ctx.survey.id, n).encode(), style=style))
    label = loc.t("survey.button.edit_comment") if ctx.survey.comment else loc.t("survey.button.comment")
    elements.append(button(label, ids.SURVEY_COMMENT, SurveyRef(team, ctx.survey.id).encode()))
    return actions(elements, block_id=f"survey-{ctx.survey.id}")


def build_survey_request(ctx: SurveyContext, loc: Localizer, *, tz: str, reminder: bool = False) -> tuple[str, list[dict]]:
    """The question as first posted (to the customer's contact, or to the rep for a manual survey), or as its one reminder."""
    rep = mention(ctx.rep.slack_user_id) if ctx.rep else None
    if ctx.manual:
        text = loc.render("survey_manual.j2", customer=ctx.customer.name, about=_about(ctx, loc, to_rep=True))
        fallback = loc.md("survey.manual.fallback", customer=ctx.customer.name)
    else:
        text = loc.render("survey_request.j2", customer=ctx.customer.name, about=_about(ctx, loc), rep=rep, reminder=reminder)
        fallback = loc.md("survey.reminder.fallback" if reminder else "survey.request.fallback")
    blocks = [section(text), score_buttons(ctx, loc), context(loc.md("survey.scale"), loc.md("survey.until", when=_until(ctx, loc, tz)))]
    return fallback_text(fallback), blocks


def build_survey_answered(ctx: SurveyContext, loc: Localizer, *, tz: str) -> tuple[str, list[dict]]:
    """The question after an answer: thanks, the score, and the buttons to change it until it closes."""
    text = loc.render("survey_answered.j2", ctx=ctx, manual=ctx.manual)
    blocks = [section(text), score_buttons(ctx, loc), context(loc.md("survey.change_until", when=_until(ctx, loc, tz)))]
    return fallback_text(loc.md("survey.answered.fallback", score=ctx.survey.score or "–")), blocks


def build_survey_closed(ctx: SurveyContext, loc: Localizer, *, tz: str) -> tuple[str, list[dict]]:
    """The question once it expired: a polite note, no buttons."""
    text = loc.md("survey.closed", when=_until(ctx, loc, tz))
    return fallback_text(text), [section(text)]


def build_comment_modal(ctx: SurveyContext, loc: Localizer, *, metadata: dict) -> dict:
    """The optional comment, prefilled with the one already given."""
    el: dict = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": COMMENT_MAX}
    if ctx.survey.comment:
        el["initial_value"] = ctx.survey.comment
    blocks = [input_block(ids.SURVEY_COMMENT_TEXT, loc.t("survey.comment.label"), el)]
    return modal(
        callback_id=ids.SURVEY_COMMENT_VIEW, title=loc.t("survey.comment.title"), submit=loc.t("survey.comment.submit"),
        close=loc.t("survey.comment.close"), blocks=blocks, private_metadata=json.dumps(metadata, separators=(",", ":")),
    )


def build_rep_notice(ctx: SurveyContext, loc: Localizer, *, previous: int | None = None, comment_only: bool = False) -> tuple[str, list[dict]]:
    """The DM that tells the rep how the customer answered (or changed the answer, or commented)."""
    text = loc.render("survey_rep_notice.j2", ctx=ctx, previous=previous, comment_only=comment_only)
    return fallback_text(loc.md("survey.rep.fallback", customer=ctx.customer.name)), [section(text)]


def build_low_score_alert(ctx: SurveyContext, loc: Localizer) -> tuple[str, list[dict]]:
    """The DM that alerts a manager to a score of 1 or 2."""
    rep = mention(ctx.rep.slack_user_id) if ctx.rep else "—"
    text = loc.render("survey_low_alert.j2", ctx=ctx, rep=rep)
    return fallback_text(loc.md("survey.low.fallback", customer=ctx.customer.name, score=ctx.survey.score)), [section(text)]


__all__ = ["SurveyRef", "build_survey_request", "build_survey_answered", "build_survey_closed", "build_comment_modal",
           "build_rep_notice", "build_low_score_alert"]
