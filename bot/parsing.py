"""Parse slash-command text into typed inputs; a ParseError names the message to show."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.models import Level, Role, Segment
from bot.services.errors import ServiceError
from bot.services.roster import RosterChange
from bot.services.tasks import TaskFilter

# Slack sends `<@U123|name>` (escaped) or `<@U123>`; both mean the same user.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class ParseError(ServiceError):
    """The text does not fit the command; `key` is the catalog id of the hint."""



# -- amounts ----------------------------------------------------------------------------

# The largest amount, in minor units (hundredths): one trillion in major units. Over 90,000 of
# them still sum inside a signed 64-bit integer, so no SUM of a team's deals overflows on either
# database (SQLite raises "integer overflow"; PostgreSQL's BIGINT would too).
AMOUNT_MAX = 10**14
AMOUNT_MAX_TEXT = "1,000,000,000,000"  # AMOUNT_MAX in major units, as the messages and the data standard say it

# Multipliers people type after a number: 12万 = 120,000; 1.2亿 = 120,000,000; 15k = 15,000; 1.5m = 1,500,000.
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "万": 10**4, "w": 10**4, "亿": 10**8}
_AMOUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(k|m|万|w|亿)?")
_CURRENCY_MARKS = "¥$€£"


class AmountError(ValueError):
    """Text that is not an amount; `too_large` when it is one, above AMOUNT_MAX."""

    def __init__(self, text: str, *, too_large: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.too_large = too_large


def parse_amount(text: str, *, negative: bool = False) -> int:
    """An amount as typed, in minor units: `50000000`, `50,000,000`, `5000万`, `¥5000万`, `1.5m`, `2k`, `1.2亿`, `99.95`.

    Full-width characters, spaces, a currency mark and a trailing 元 are allowed; the result must
    be whole minor units (so at most two decimals without a multiplier). A leading `-` (a credit)
    only when `negative`. Raises AmountError, with `too_large` above AMOUNT_MAX.
    """
    s = unicodedata.normalize("NFKC", text or "").strip().lower().replace(" ", "")
    sign = 1
    if s[:1] == "-":
        sign, s = -1, s[1:]
    s = s.lstrip(_CURRENCY_MARKS).removesuffix("元")
    if sign == 1 and s[:1] == "-":  # ¥-80 as well as -¥80
        sign, s = -1, s[1:]
    m = _AMOUNT.fullmatch(s)
    if not m or (sign < 0 and not negative):
        raise AmountError(text)
    whole, frac, unit = m.group(1).replace(",", ""), m.group(2) or "", m.group(3) or ""
    try:
        value = Decimal(whole + ("." + frac if frac else "")) * _UNITS[unit] * 100
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
        raise AmountError(text) from None
    if value != value.to_integral_value():
        raise AmountError(text)  # finer than a cent (fen)
    if value > AMOUNT_MAX:
        raise AmountError(text, too_large=True)
    return sign * int(value)


def format_amount(minor: int) -> str:
    """Minor units as plain text that parse_amount reads back exactly: `120000`, `99.95`, `-80.50`."""
    sign = "-" if minor < 0 else ""
    major, cents = divmod(abs(minor), 100)
    return f"{sign}{major}.{cents:02d}" if cents else f"{sign}{major}"


# -- words ------------------------------------------------------------------------------

def positive_amount(text: str, *, bad: str) -> int:
    """A typed amount above zero, or a ParseError: the cap's own message, else the `bad` hint for this command."""
    try:
        amount = parse_amount(text)
    except AmountError as exc:
        if exc.too_large:
            raise ParseError("amount.error.too_large", value=text, max=AMOUNT_MAX_TEXT) from None
        raise ParseError(bad, value=text) from None
    if amount <= 0:
        raise ParseError(bad, value=text)
    return amount


def take_team(words: list[str], *, usage: str) -> tuple[list[str], str | None]:
    """Pull the one `team:NAME` option out of command words (unescaped, trimmed); a second one or an empty name is a ParseError(usage)."""
    rest: list[str] = []
    team = None
    for word in words:
        key, sep, value = word.partition(":")
        if not sep or key.lower() != "team":
            rest.append(word)
            continue
        name = unescape(value).strip()
        if not name or team is not None:
            raise ParseError(usage, value=unescape(word))
        team = name
    return rest, team


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
    words, team = take_team(words, usage="config.error.usage")
    show = False
    for w in words:
        if w.lower() == "show" and not show:
            show = True
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
