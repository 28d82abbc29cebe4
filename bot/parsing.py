"""Parse slash-command text into typed inputs; a ParseError names the message to show."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import Level, Role, Segment
from bot.services.errors import ServiceError
from bot.services.roster import RosterChange
from bot.services.tasks import TaskFilter

# Slack sends `<@U123|name>` (escaped) or `<@U123>`; both mean the same user.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class ParseError(ServiceError):
    """The text does not fit the command; `key` is the catalog id of the hint."""



def mention_id(token: str) -> str | None:
    """The user id of a token that is exactly one mention, else None."""
    m = MENTION.fullmatch(token.strip())
    return m.group(1) if m else None


def split_words(text: str) -> list[str]:
    """Split on whitespace, keeping `key:"two words"` values together."""
    return [w.replace('"', "") for w in re.findall(r'(?:[^\s"]+|"[^"]*")+', text.strip())]


@dataclass(frozen=True)
class SalesbotCommand:
    """What `/salesbot ...` asks for."""

    action: str  # help | roster | add | remove
    change: RosterChange | None = None
    user_id: str | None = None


def parse_salesbot(text: str) -> SalesbotCommand:
    """Parse `/salesbot [help | team | team add … | team remove @user]`."""
    words = split_words(text)
    if not words or words[0].lower() == "help":
        return SalesbotCommand("help")
    if words[0].lower() != "team":
        raise ParseError("salesbot.error.unknown", word=words[0])
    if len(words) == 1:
        return SalesbotCommand("roster")
    sub = words[1].lower()
    if sub == "remove":
        user = mention_id(words[2]) if len(words) == 3 else None
        if not user:
            raise ParseError("salesbot.error.remove_usage")
        return SalesbotCommand("remove", user_id=user)
    if sub == "add":
        return SalesbotCommand("add", change=_parse_add(words[2:]))
    raise ParseError("salesbot.error.unknown", word=words[1])


def _parse_add(words: list[str]) -> RosterChange:
    if len(words) < 2 or not mention_id(words[0]):
        raise ParseError("salesbot.error.add_usage")
    user = mention_id(words[0])
    try:
        role = Role(words[1].lower())
    except ValueError:
        raise ParseError("salesbot.error.bad_role", value=words[1]) from None
    opts: dict[str, str] = {}
    for w in words[2:]:
        key, sep, value = w.partition(":")
        key = key.lower()
        if not sep or key not in ("team", "region", "segment", "level") or not value.strip():
            raise ParseError("salesbot.error.bad_option", value=w)
        opts[key] = value.strip()
    segment = level = None
    if "segment" in opts:
        try:
            segment = Segment(opts["segment"].lower())
        except ValueError:
            raise ParseError("salesbot.error.bad_segment", value=opts["segment"]) from None
    if "level" in opts:
        try:
            level = Level(opts["level"].lower())
        except ValueError:
            raise ParseError("salesbot.error.bad_level", value=opts["level"]) from None
    if len(opts.get("team", "")) > 80 or len(opts.get("region", "")) > 80:
        raise ParseError("salesbot.error.too_long", max=80)
    return RosterChange(slack_user_id=user, role=role, team=opts.get("team"), region=opts.get("region"), segment=segment, level=level)


def parse_mytasks(text: str) -> TaskFilter:
    """Parse `/mytasks [open|overdue|done|all]` (Chinese words accepted too)."""
    word = text.strip().lower()
    aliases = {"": "open", "未完成": "open", "逾期": "overdue", "已完成": "done", "完成": "done", "全部": "all"}
    try:
        return TaskFilter(aliases.get(word, word))
    except ValueError:
        raise ParseError("mytasks.error.usage", value=text.strip()) from None


@dataclass(frozen=True)
class AssignCommand:
    """What `/assign [@user …] [title]` prefills."""

    assignees: list[str]
    title: str


def parse_assign(text: str) -> AssignCommand:
    """Leading mentions are assignees, the rest is the title."""
    rest = text.strip()
    users: list[str] = []
    while m := MENTION.match(rest):
        users.append(m.group(1))
        rest = rest[m.end():].lstrip()
    return AssignCommand(assignees=list(dict.fromkeys(users)), title=unescape(rest))


def unescape(text: str) -> str:
    """Undo Slack's escaping of typed text (we store what the user typed and escape on output)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
