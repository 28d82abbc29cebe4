"""Parse slash-command text into typed inputs; a ParseError names the message to show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

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

    action: str  # help | roster | add | remove | config | config_show
    change: RosterChange | None = None
    user_id: str | None = None
    team: str | None = None  # config: the team named with team:NAME
    kind: str | None = None  # export: members | customers | deals | targets | tasks
    start: date | None = None  # leave: the first and last day away
    end: date | None = None


def parse_salesbot(text: str) -> SalesbotCommand:
    """Parse `/salesbot [help | team | team add … | team remove @user]`."""
    words = split_words(text)
    if not words or words[0].lower() == "help":
        return SalesbotCommand("help")
    if words[0].lower() == "config":
        return _parse_config(words[1:])
    if words[0].lower() == "export":
        return SalesbotCommand("export", kind=parse_export_kind(words[1:]))
    if words[0].lower() == "leave":
        return _parse_leave(words[1:])
    if words[0].lower() != "team":
        raise ParseError("salesbot.error.unknown", word=unescape(words[0]))
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
    raise ParseError("salesbot.error.unknown", word=unescape(words[1]))


def _parse_config(words: list[str]) -> SalesbotCommand:
    """`config [show] [team:NAME]`."""
    show, team = False, None
    for w in words:
        key, sep, value = w.partition(":")
        if not sep and key.lower() == "show" and not show:
            show = True
        elif sep and key.lower() == "team" and unescape(value).strip() and team is None:
            team = unescape(value).strip()
        else:
            raise ParseError("config.error.usage", value=unescape(w))
    return SalesbotCommand("config_show" if show else "config", team=team)


def _parse_leave(words: list[str]) -> SalesbotCommand:
    """`leave [@user] FROM [TO]` with ISO dates; one date means a single day."""
    user = mention_id(words[0]) if words else None
    dates = words[1:] if user else words
    if not 1 <= len(dates) <= 2:
        raise ParseError("leave.error.usage")
    parsed = []
    for word in dates:
        try:
            parsed.append(date.fromisoformat(word.strip()))
        except ValueError:
            raise ParseError("leave.error.bad_date", value=unescape(word)) from None
    return SalesbotCommand("leave", user_id=user, start=parsed[0], end=parsed[-1])


def parse_suggest(text: str) -> tuple[str, str]:
    """`/suggest` opens the modal (any text prefills it); `/suggest list` shows the new suggestions."""
    typed = unescape(text).strip()
    if typed.lower() in ("list", "列表"):
        return "list", ""
    return "new", typed


def _parse_add(words: list[str]) -> RosterChange:
    if len(words) < 2 or not mention_id(words[0]):
        raise ParseError("salesbot.error.add_usage")
    user = mention_id(words[0])
    try:
        role = Role(words[1].lower())
    except ValueError:
        raise ParseError("salesbot.error.bad_role", value=unescape(words[1])) from None
    opts: dict[str, str] = {}
    for w in words[2:]:
        key, sep, value = w.partition(":")
        key = key.lower()
        value = unescape(value).strip()  # stored as typed; escaped again wherever it is shown
        if not sep or key not in ("team", "region", "segment", "level") or not value:
            raise ParseError("salesbot.error.bad_option", value=unescape(w))
        opts[key] = value
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


def parse_export_kind(words: list[str]) -> str:
    """The kind of `/salesbot export <kind>`; anything else gets the list of kinds."""
    from bot.csvio.columns import KINDS

    kind = words[0].lower() if len(words) == 1 else ""
    if kind not in KINDS:
        raise ParseError("csv.error.unknown_kind", kinds=", ".join(KINDS))
    return kind


def parse_mytasks(text: str) -> TaskFilter:
    """Parse `/mytasks [open|overdue|done|all]` (Chinese words accepted too)."""
    typed = unescape(text).strip()
    word = typed.lower()
    aliases = {"": "open", "未完成": "open", "逾期": "overdue", "已完成": "done", "完成": "done", "全部": "all"}
    try:
        return TaskFilter(aliases.get(word, word))
    except ValueError:
        raise ParseError("mytasks.error.usage", value=typed) from None


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
