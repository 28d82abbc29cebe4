"""Every user-facing text, in English and Simplified Chinese, chosen by the Slack locale.

Texts live in templates/: short strings in the gettext catalogs (templates/locale/<lang>/
LC_MESSAGES/messages.po, keyed by a stable message id) and longer mrkdwn in Jinja2 templates.
Dates, numbers and money are formatted with Babel.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, format_skeleton, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_currency_symbol
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot import TEMPLATES_DIR
from bot.periods import MONTH, QUARTER, WEEK, YEAR, Period, parse_period
from bot.text import SlackSafe, escape, mention

LANGUAGES = ("en", "zh_Hans")
DEFAULT_LANGUAGE = "en"
# Babel locales for formatting: a region is needed for currency and date patterns.
_BABEL_LOCALE = {"en": "en_US", "zh_Hans": "zh_Hans_CN"}


def language_for(slack_locale: str | None) -> str:
    """Map a Slack locale such as `zh-CN` or `en-GB` to one of our catalogs."""
    if slack_locale and slack_locale.lower().replace("_", "-").startswith("zh"):
        return "zh_Hans"
    return DEFAULT_LANGUAGE


def read_catalogs(directory: Path):
    """Every .po file of one language's LC_MESSAGES folder, as Babel catalogs (one per area)."""
    catalogs = []
    for path in sorted(directory.glob("*.po")):
        with path.open("rb") as fh:
            catalogs.append(read_po(fh))
    return catalogs


def load_catalog(directory: Path) -> Translations:
    """Merge a language's .po files and compile them in memory (the repository holds no .mo files)."""
    return _compiled_catalog(directory.resolve(), _files_signature(directory))


def _files_signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, modification times and sizes of a language's .po files: a changed file is compiled anew."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.po")))


@functools.lru_cache(maxsize=16)
def _compiled_catalog(directory: Path, _signature: tuple) -> Translations:
    """load_catalog's work, once per process and set of files."""
    catalogs = read_catalogs(directory)
    merged = catalogs[0]
    for extra in catalogs[1:]:
        for message in extra:
            if message.id:
                merged[message.id] = message
    buf = io.BytesIO()
    write_mo(buf, merged, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf)


def catalog_ids(directory: Path) -> set[str]:
    """The message ids a language defines with a non-empty text."""
    ids = set()
    for catalog in read_catalogs(directory):
        for m in catalog:
            text = m.string if isinstance(m.string, str) else "".join(m.string or ())
            if m.id and text:
                ids.add(m.id if isinstance(m.id, str) else m.id[0])
    return ids


class Localizer:
    """Texts and formats for one language."""

    def __init__(self, language: str, translations: Translations, env: Environment) -> None:
        self.language = language
        self.babel_locale = Locale.parse(_BABEL_LOCALE[language])
        self._tr = translations
        self._env = env

    def t(self, key: str, **kw: object) -> str:
        """A plain text (button, header, label): placeholders are filled as given."""
        text = self._tr.gettext(key)
        return text % kw if kw else text

    def tn(self, key: str, n: int, **kw: object) -> str:
        """A plain text that depends on a count, in the language's plural form (`%(n)s` is the count)."""
        text = self._tr.ngettext(key, key + ".plural", n)
        return text % {"n": self.number(n), **kw}

    def mdn(self, key: str, n: int, **kw: object) -> SlackSafe:
        """A mrkdwn text that depends on a count (`%(n)s`), its other placeholders escaped as in md."""
        text = self._tr.ngettext(key, key + ".plural", n)
        return SlackSafe(text % {"n": self.number(n), **{k: escape(v) for k, v in kw.items()}})

    def md(self, key: str, **kw: object) -> SlackSafe:
        """A mrkdwn text: every placeholder value is escaped unless it is SlackSafe."""
        text = self._tr.gettext(key)
        return SlackSafe(text % {k: escape(v) for k, v in kw.items()} if kw else text)

    def render(self, name: str, **ctx: object) -> SlackSafe:
        """Render a Jinja2 mrkdwn template in this language, escaping every value."""
        template = self._env.get_template(name)
        return SlackSafe(template.render(loc=self, **ctx).strip())

    # -- Babel formatting -------------------------------------------------------------
    def number(self, n: int | Decimal | float) -> str:
        """A number with the locale's grouping."""
        return format_decimal(n, locale=self.babel_locale)

    def percent(self, ratio: Decimal | float | None, digits: int = 0) -> str:
        """A ratio as a percentage; None (no data) shows as n/a."""
        if ratio is None:
            return self.t("common.na")
        fmt = "#,##0%" if digits == 0 else "#,##0." + "0" * digits + "%"
        return format_percent(ratio, format=fmt, locale=self.babel_locale)

    def money(self, minor_units: int, currency: str) -> str:
        """The one money format of each language, on every surface (docs/glossary.md).

        Chinese: a large round amount in 万 or 亿 (`¥2,307万`, `¥1.2亿`), any other amount exact
        (`¥1,234.50`). English: whole amounts without decimals (`¥50,000,000`), others with cents.
        """
        sign = "-" if minor_units < 0 else ""
        minor = abs(minor_units)
        symbol = "¥" if currency in ("CNY", "RMB") else get_currency_symbol(currency, locale=self.babel_locale)
        major = Decimal(minor) / 100
        if self.language == "zh_Hans" and minor % 100 == 0 and major >= 10_000 and major % 100 == 0:
            unit, size = ("亿", Decimal(100_000_000)) if major >= 100_000_000 and major % 1_000_000 == 0 else ("万", Decimal(10_000))
            return f"{sign}{symbol}{format_decimal(major / size, format='#,##0.##', locale=self.babel_locale)}{unit}"
        fmt = "#,##0" if minor % 100 == 0 else "#,##0.00"
        return f"{sign}{symbol}{format_decimal(major, format=fmt, locale=self.babel_locale)}"

    def period(self, p: Period | str) -> str:
        """A period as people write it in a sentence: `Week 49 (Nov 30 – Dec 6)`, `Q1 2027`, `2027年3月`."""
        p = parse_period(p) if isinstance(p, str) else p
        zh = self.language == "zh_Hans"
        if p.kind == YEAR:
            return f"{p.year}年" if zh else str(p.year)
        if p.kind == QUARTER:
            return f"{p.year}年第{'一二三四'[p.index - 1]}季度" if zh else f"Q{p.index} {p.year}"
        if p.kind == MONTH:
            return format_skeleton("yMMMM", p.start, locale=self.babel_locale)
        assert p.kind == WEEK
        last = p.end.fromordinal(p.end.toordinal() - 1)
        span = format_interval(p.start, last, "MMMd", locale=self.babel_locale)
        if zh:
            return f"{p.year}年第{p.index}周（{span.replace('至', '–')}）"
        return f"Week {p.index} ({span.replace(chr(0x2009), ' ')})"

    def date(self, d: date) -> str:
        """A short date such as `Mar 5` or `3月5日`."""
        return format_skeleton("MMMd", d, locale=self.babel_locale)

    def date_long(self, d: date) -> str:
        """A date with the year."""
        return format_date(d, format="medium", locale=self.babel_locale)

    def datetime(self, dt: datetime, tz: str) -> str:
        """A moment in the viewer's time zone."""
        return format_datetime(dt, format="short", tzinfo=tz, locale=self.babel_locale)

    def due(self, due: date | None, today: date) -> str:
        """A due date relative to the viewer's today: today, tomorrow, in 3 days, 2 days overdue."""
        if due is None:
            return self.t("due.none")
        days = (due - today).days
        if days == 0:
            return self.t("due.today")
        if days == 1:
            return self.t("due.tomorrow")
        # threshold 2: days stay days up to two weeks ("in 11 days", not "in 2 weeks")
        span = format_timedelta(abs(days) * 86400, granularity="day", threshold=2.0, locale=self.babel_locale)
        key = "due.in" if days > 0 else "due.overdue"
        return self.t(key, span=span, date=self.date(due))


def _slack_finalize(value: object) -> Markup:
    """Escape a template value for mrkdwn; macro output and SlackSafe text pass unchanged."""
    if isinstance(value, Markup | SlackSafe):
        return Markup(str(value))
    return Markup(escape(value))


# Localizers (compiled catalogs and template environments) by templates folder and catalog
# files, shared by every I18n of the process: one Deps per test would otherwise compile them again.
_LOCALIZERS: dict[tuple, dict[str, Localizer]] = {}


class I18n:
    """Catalogs and template environments for every language, loaded once."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.templates_dir = templates_dir

    def catalog_dir(self, language: str) -> Path:
        """Where a language's catalogs live (one .po file per area of the bot)."""
        return self.templates_dir / "locale" / language / "LC_MESSAGES"

    @cached_property
    def _localizers(self) -> dict[str, Localizer]:
        key = (self.templates_dir.resolve(), tuple(_files_signature(self.catalog_dir(lang)) for lang in LANGUAGES))
        if key not in _LOCALIZERS:
            _LOCALIZERS[key] = self._build_localizers()
        return _LOCALIZERS[key]

    def _build_localizers(self) -> dict[str, Localizer]:
        out = {}
        for lang in LANGUAGES:
            tr = load_catalog(self.catalog_dir(lang))
            env = Environment(
                loader=FileSystemLoader(str(self.templates_dir / "messages")),
                # Jinja's own escaping is HTML's (it would turn ' into &#39;). `finalize` escapes
                # every value for mrkdwn and marks it safe, so only Slack's escaping applies.
                autoescape=True,
                finalize=_slack_finalize,
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=False,
            )
            loc = Localizer(lang, tr, env)
            env.globals.update(_=loc.md, _n=loc.mdn, mention=mention)
            env.filters.update(mention=mention, split_lines=lambda s: s.splitlines()[:20], due=lambda d, today, _l=loc: _l.due(d, today), date=loc.date, period=loc.period)
            out[lang] = loc
        return out

    def get(self, slack_locale: str | None) -> Localizer:
        """The localizer for a Slack user's locale."""
        return self._localizers[language_for(slack_locale)]
