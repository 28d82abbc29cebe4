"""Parse slash-command text into typed inputs; a ParseError names the message to show."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from bot.models import Level, Priority, RepeatKind, Role, Segment
from bot.services.errors import ServiceError
from bot.services.own_tasks import OwnTaskDraft
from bot.services.repeats import RepeatSpec
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


# -- dates ------------------------------------------------------------------------------

_WEEKDAYS_EN = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3,
    "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_RELATIVE = {"today": 0, "tod": 0, "今天": 0, "今日": 0, "tomorrow": 1, "tmr": 1, "tmrw": 1, "明天": 1, "明日": 1, "后天": 2}
_ZH_WEEKDAY = re.compile(r"(下下|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天])")
_ZH_MONTH_DAY = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?")
_ISO_LIKE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


class DateError(ValueError):
    """Text that is not a date this parser knows."""


def parse_date(text: str, *, today: date | None = None) -> date:
    """A date as people type it, resolved against `today` (the typist's own local date).

    `2027-03-05` (also `2027/3/5`), `today` `tomorrow` `今天` `明天` `后天`, a weekday (`fri`,
    `friday`, `周五`, `星期五`): the next one after today, never today itself; `下周一`: Monday
    of next week; `本周五`/`这周五`: this week's; `3月5日` (`2027年3月5日`): the next 5 March
    from today on. Without `today` only full dates are read. Raises DateError.
    """
    s = unicodedata.normalize("NFKC", text or "").strip().lower()
    m = _ISO_LIKE.fullmatch(s)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    m = _ZH_MONTH_DAY.fullmatch(s)
    if m and m.group(1):
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    if m and today is not None:
        month, day = int(m.group(2)), int(m.group(3))
        for year in range(today.year, today.year + 9):  # 2月29日 waits for the next leap year
            try:
                d = date(year, month, day)
            except ValueError:
                continue
            if d >= today:
                return d
        raise DateError(text)
    if today is None:
        raise DateError(text)
    if s in _RELATIVE:
        return today + timedelta(days=_RELATIVE[s])
    if s in _WEEKDAYS_EN:
        return _next_weekday(today, _WEEKDAYS_EN[s])
    m = _ZH_WEEKDAY.fullmatch(s)
    if m:
        weekday = _WEEKDAYS_ZH[m.group(2)]
        monday = today - timedelta(days=today.weekday())
        weeks = {"下下": 2, "下": 1, "这": 0, "本": 0}.get(m.group(1) or "")
        if weeks is None:  # a bare 周五, like `fri`
            return _next_weekday(today, weekday)
        return monday + timedelta(weeks=weeks, days=weekday)
    raise DateError(text)


def _next_weekday(today: date, weekday: int) -> date:
    """The first date after today that falls on `weekday` (today excluded: today is `today`)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _make_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(text) from None


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
            parsed.append(parse_date(word))
        except DateError:
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


# `/mytasks add` options, English and Chinese keys (a full-width colon is read as `:` too).
_ADD_KEYS = {"due": "due", "截止": "due", "到期": "due", "priority": "priority", "优先级": "priority",
             "customer": "customer", "客户": "customer", "repeat": "repeat", "重复": "repeat"}
_PRIORITIES = {"high": Priority.HIGH, "h": Priority.HIGH, "高": Priority.HIGH, "medium": Priority.MEDIUM, "m": Priority.MEDIUM,
               "med": Priority.MEDIUM, "中": Priority.MEDIUM, "low": Priority.LOW, "l": Priority.LOW, "低": Priority.LOW,
               "1": Priority.HIGH, "2": Priority.MEDIUM, "3": Priority.LOW}
_ADD_WORDS = ("add", "new", "添加", "新建", "新增")


def is_mytasks_repeats(text: str) -> bool:
    """True when `/mytasks` text asks for the running repeat rules (`repeats`, `重复`)."""
    return unescape(text).strip().lower() in ("repeats", "repeat", "重复", "重复任务")


def is_mytasks_add(text: str) -> bool:
    """True when `/mytasks` text asks to add a task (`add …`, `添加 …`)."""
    first = unescape(text).strip().split(maxsplit=1)
    return bool(first) and first[0].lower() in _ADD_WORDS


def parse_mytasks_add(text: str, *, today: date) -> OwnTaskDraft:
    """`/mytasks add <title> [due:DATE] [priority:high|medium|low] [customer:NAME] [repeat:RULE]`; dates resolved against `today`.

    Words with a known key are options; the rest, in order, is the title. A ParseError names
    the part that is wrong.
    """
    words = split_words(unescape(text))
    if words and words[0].lower() in _ADD_WORDS:
        words = words[1:]
    title: list[str] = []
    opts: dict[str, str] = {}
    for word in words:
        key, sep, value = word.replace("：", ":", 1).partition(":")  # the title keeps its own full-width marks
        name = _ADD_KEYS.get(key.lower()) if sep else None
        if name is None:
            title.append(word)
            continue
        if not value.strip() or name in opts:
            raise ParseError("own.error.bad_option", value=word)
        opts[name] = value.strip()
    if not title:
        raise ParseError("own.error.usage")
    due = None
    if "due" in opts:
        try:
            due = parse_date(opts["due"], today=today)
        except DateError:
            raise ParseError("own.error.bad_date", value=opts["due"]) from None
    priority = Priority.MEDIUM
    if "priority" in opts:
        priority = _PRIORITIES.get(opts["priority"].lower())
        if priority is None:
            raise ParseError("own.error.bad_priority", value=opts["priority"])
    repeat = parse_repeat(opts["repeat"]) if "repeat" in opts else None
    return OwnTaskDraft(title=" ".join(title), due_date=due, priority=priority, customer_name=opts.get("customer"), repeat=repeat)


_REPEAT_WORKDAYS = {"daily", "workdays", "weekdays", "workday", "每天", "每日", "工作日", "每个工作日", "每工作日"}
_ZH_WEEK_PREFIX = re.compile(r"每(?:个)?(?:周|星期|礼拜)")
_EN_REPEAT = re.compile(r"(weekly|monthly|quarterly)(?::(.+))?")
_ZH_MONTHLY = re.compile(r"每(?:个)?(月|季度|季)(?:(\d{1,2})[日号]?)?")


def parse_repeat(text: str) -> RepeatSpec:
    """A repeat rule: `daily`/`workdays` (每天, 工作日), `weekly[:mon,thu]` (每周一、四), `monthly[:15]` (每月15日),
    `quarterly[:15]` (每季度15日). Without a weekday or day, the first date's is used. ParseError names the text."""
    s = unicodedata.normalize("NFKC", text or "").strip().lower()
    bad = ParseError("own.error.bad_repeat", value=text)
    if s in _REPEAT_WORKDAYS:
        return RepeatSpec(RepeatKind.WORKDAYS)
    m = _ZH_WEEK_PREFIX.match(s)
    if m:
        rest = re.sub(r"周|星期|礼拜|和|及|、|,|\s", "", s[m.end():])
        if any(ch not in _WEEKDAYS_ZH for ch in rest):
            raise bad
        return RepeatSpec(RepeatKind.WEEKLY, frozenset(_WEEKDAYS_ZH[ch] for ch in rest))
    m = _ZH_MONTHLY.fullmatch(s)
    if m:
        return _monthly(RepeatKind.MONTHLY if m.group(1) == "月" else RepeatKind.QUARTERLY, m.group(2), bad)
    m = _EN_REPEAT.fullmatch(s)
    if not m:
        raise bad
    if m.group(1) == "weekly":
        days = [d for d in re.split(r"[,+/]", m.group(2) or "") if d]
        if any(d not in _WEEKDAYS_EN for d in days):
            raise bad
        return RepeatSpec(RepeatKind.WEEKLY, frozenset(_WEEKDAYS_EN[d] for d in days))
    return _monthly(RepeatKind.MONTHLY if m.group(1) == "monthly" else RepeatKind.QUARTERLY, m.group(2), bad)


def _monthly(kind: RepeatKind, day: str | None, bad: ParseError) -> RepeatSpec:
    if day is None:
        return RepeatSpec(kind)
    if not day.isdigit() or not 1 <= int(day) <= 31:
        raise bad
    return RepeatSpec(kind, month_day=int(day))


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
