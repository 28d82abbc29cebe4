"""Help and roster messages."""

from __future__ import annotations

from itertools import groupby

from bot.blocks.kit import SECTION_TEXT_MAX, Budget, context, fallback_text, header, section
from bot.i18n import Localizer
from bot.services.actors import Actor
from bot.services.roster import RosterEntry
from bot.text import SlackSafe


def build_help(actor: Actor, loc: Localizer) -> tuple[str, list[dict]]:
    """/salesbot help for the caller's role."""
    text = loc.render("help.j2", actor=actor)
    return fallback_text(loc.t("help.title")), [header(loc.t("help.title")), section(text)]


def _chunks(lines: list[SlackSafe], limit: int = SECTION_TEXT_MAX) -> list[tuple[str, int]]:
    """Pack lines into section texts under Slack's 3000 characters, with each text's line count."""
    out: list[tuple[str, int]] = []
    cur, count = "", 0
    for line in lines:
        if cur and len(cur) + 1 + len(line) > limit:
            out.append((cur, count))
            cur, count = "", 0
        cur, count = (f"{cur}\n{line}" if cur else line), count + 1
    if cur:
        out.append((cur, count))
    return out


def build_roster(entries: list[RosterEntry], loc: Localizer) -> tuple[str, list[dict]]:
    """The roster by team; a very large roster is cut with a count rather than rejected."""
    title = loc.t("roster.title")
    blocks: list[dict] = [header(title)]
    if not entries:
        blocks.append(section(loc.md("roster.empty")))
        return fallback_text(title), blocks
    budget = Budget.message()
    budget.add(*blocks)
    groups: list[list[dict]] = []
    counts: list[int] = []
    for team_name, group in groupby(entries, key=lambda e: e.team_name):
        members = list(group)
        team_line = loc.md("roster.team", team=team_name, n=loc.number(len(members)))
        lines = [team_line] + [loc.render("roster_line.j2", m=e.member) for e in members]
        for i, (text, count) in enumerate(_chunks(lines)):
            groups.append([section(text)])
            counts.append(count - (1 if i == 0 else 0))  # the first chunk starts with the team's name
    # A very large roster breaks the byte budget before the 50 blocks: cut with a count either way.
    budget.add_while_fits(groups, counts=counts, more=lambda n: context(loc.mdn("roster.more", n)))
    return fallback_text(title), budget.blocks
