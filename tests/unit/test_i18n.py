"""bot/i18n: language choice, catalogs complete and consistent, escaping in texts, formats."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import PROJECT_ROOT, TEMPLATES_DIR
from bot.i18n import LANGUAGES, I18n, language_for
from bot.models import Level, Priority, RepeatKind, Role, Segment, Stage, TaskStatus
from bot.services.tasks import TaskFilter
from bot.text import SlackSafe
from tests.unit import factories as f

I18N = I18n()
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalog_files(lang: str) -> list[Path]:
    """A language's .po files (one or several, one per area of the bot)."""
    files = sorted((TEMPLATES_DIR / "locale" / lang / "LC_MESSAGES").glob("*.po"))
    assert files, f"no catalog for {lang}"
    return files


def read_catalog(lang: str) -> dict[str, str]:
    """Every message id of a language with its text (plural forms joined)."""
    out: dict[str, str] = {}
    for path in catalog_files(lang):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for m in catalog:
            if m.id:
                key = m.id if isinstance(m.id, str) else m.id[0]
                out[key] = m.string if isinstance(m.string, str) else " ".join(m.string or ())
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_id_is_defined_in_two_files(lang):
    seen: dict[str, str] = {}
    twice = []
    for path in catalog_files(lang):
        with path.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    key = m.id if isinstance(m.id, str) else m.id[0]
                    if key in seen:
                        twice.append((key, seen[key], path.name))
                    seen[key] = path.name
    assert twice == []


@pytest.mark.parametrize(
    "slack_locale, language",
    [
        ("zh-CN", "zh_Hans"), ("zh-TW", "zh_Hans"), ("zh", "zh_Hans"), ("zh_CN", "zh_Hans"), ("ZH-cn", "zh_Hans"),
        ("en-US", "en"), ("en-GB", "en"), ("ja-JP", "en"), ("fr-FR", "en"), ("", "en"), (None, "en"),
    ],
)
def test_language_for(slack_locale, language):
    assert language_for(slack_locale) == language
    assert I18N.get(slack_locale).language == language


# -- the catalogs ------------------------------------------------------------------

def test_both_catalogs_define_the_same_non_empty_ids():
    en, zh = read_catalog("en"), read_catalog("zh_Hans")
    assert len(en) > 50
    assert sorted(set(en) - set(zh)) == [], "ids missing from zh_Hans"
    assert sorted(set(zh) - set(en)) == [], "ids missing from en"
    assert [k for k, v in en.items() if not (v or "").strip()] == []
    assert [k for k, v in zh.items() if not (v or "").strip()] == []


def test_translations_differ_from_english():
    en, zh = read_catalog("en"), read_catalog("zh_Hans")
    # Ids whose text is the same in both languages on purpose.
    same_ok = {"home.title", "mytasks.hint"}
    assert sorted(k for k in en if en[k] == zh[k] and k not in same_ok) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_localizer_returns_each_catalog_text(lang):
    """Every id, whichever file of the language holds it, reaches the Localizer."""
    loc = f.loc(lang)
    for key, text in read_catalog(lang).items():
        if not PLACEHOLDER.search(text) and "%%" not in text:
            assert loc.t(key) == text, key
    assert loc.t("no.such.key") == "no.such.key"


def test_placeholders_match_in_each_pair():
    en, zh = read_catalog("en"), read_catalog("zh_Hans")
    # Plural forms are joined: each English form repeats the placeholders of the one Chinese form.
    wrong = {k: (PLACEHOLDER.findall(en[k]), PLACEHOLDER.findall(zh[k])) for k in en if sorted(set(PLACEHOLDER.findall(en[k]))) != sorted(set(PLACEHOLDER.findall(zh.get(k, ""))))}
    assert wrong == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_stray_percent_signs(lang):
    # t() and md() apply `%` formatting: any other % would raise at runtime.
    for key, text in read_catalog(lang).items():
        assert "%" not in PLACEHOLDER.sub("", text).replace("%%", ""), (lang, key, text)


# Every catalog id the code asks for. Literal ids are found in the source; ids built at run time
# from a prefix are listed here with every value they can take.
DYNAMIC_FAMILIES: dict[str, list[str]] = {
    "stage.": [s.value for s in Stage],
    "priority.": [str(p.value) for p in Priority],
    "status.": [s.value for s in TaskStatus],
    "role.": [r.value for r in Role],
    "segment.": [s.value for s in Segment],
    "level.": [lv.value for lv in Level],
    "difficulty.": ["1", "2", "3"],
    "mytasks.title.": [w.value for w in TaskFilter],
    "mytasks.empty.": [w.value for w in TaskFilter],
    "standup.q.": ["progress", "next", "blockers", "confidence"],
    "standup.action.": ["task", "target", "discussed"],
    "standup.state.": ["done", "open", "overdue", "cancelled"],
    "assign.repeat.": [k.value for k in RepeatKind],
}

SOURCE_DIRS = ["bot", "handlers", "jobs"]
_Q = r"""["']"""
_KEY = r"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.?)"
# t("…"), md("…"), tn("…"), _("…"), also with an f-string whose literal part is a prefix.
CALL_RE = re.compile(r"(?<![\w])(?:t|md|tn|mdn|_|_n)\(\s*f?" + _Q + _KEY + r"(?:[\"'{])")
ERROR_RE = re.compile(r"\b(?:ServiceError|PermissionDenied|NotFound|NotOnRoster|ParseError|ValidationFailed)\(\s*f?" + _Q + _KEY + r"(?:[\"'{])")
TUPLE_RE = re.compile(r"\(\s*" + _Q + _KEY + _Q + r"\s*,\s*\{")
CLASS_KEY_RE = re.compile(r"^\s+key\s*=\s*" + _Q + _KEY + _Q, re.M)
# Ids held in a variable first, e.g. `key = "due.in" if days > 0 else "due.overdue"`.
KEY_ASSIGN_RE = re.compile(r"^[^#\n]*\b\w*key\b\s*[:=]\s*(.+)$", re.M | re.I)
LITERAL_RE = re.compile(_Q + r"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\.?)" + _Q)
NOT_KEYS = re.compile(r"\.(j2|po|py|mako|ini|json|csv|txt|id)$")


def _source_files() -> list[Path]:
    files = []
    for d in SOURCE_DIRS:
        root = PROJECT_ROOT / d
        if root.is_dir():
            files += [p for p in root.rglob("*.py") if "standin" not in p.relative_to(PROJECT_ROOT).parts]
    files += sorted((PROJECT_ROOT / "templates" / "messages").glob("*.j2"))
    return files


def keys_in(text: str, prefixes: set[str]) -> list[str]:
    """Catalog ids (and id prefixes ending in '.') a source or template text asks for."""
    found = [m.group(1) for rx in (CALL_RE, ERROR_RE, TUPLE_RE, CLASS_KEY_RE) for m in rx.finditer(text)]
    for assignment in KEY_ASSIGN_RE.finditer(text):
        found += [k for k in (m.group(1) for m in LITERAL_RE.finditer(assignment.group(1))) if k.split(".")[0] in prefixes and not NOT_KEYS.search(k)]
    return [k for k in found if "." in k]  # t("value") and such are not catalog ids


def used_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(literal ids, dynamic prefixes), each with the files that use them."""
    en_prefixes = {k.split(".")[0] for k in read_catalog("en")}
    literal: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for path in _source_files():
        where = str(path.relative_to(PROJECT_ROOT))
        for key in keys_in(path.read_text(encoding="utf-8"), en_prefixes):
            target = prefixes if key.endswith(".") else literal
            target.setdefault(key, set()).add(where)
    return literal, prefixes


def test_the_key_scanner_on_every_style():
    sample = '''
        loc.t("a.one") + t.loc.md('a.two', x=1) + loc.tn("a.three", n) + _select("value", loc)
        {{ _("a.four") }} {{ loc.t("a.five." ~ x) }} loc.t(f"a.six.{x.value}") loc.t('a.seven.' + y)
        raise PermissionDenied("a.eight")
        raise ParseError("a.nine", word=w)
        errors["f"] = ("a.ten", {"max": 3})
        key = "a.eleven" if x else "a.twelve"
        JOB = "a.not_a_key"
        print("a.not_either")
        template = "a.file.j2"
    '''
    assert set(keys_in(sample, {"a"})) == {
        "a.one", "a.two", "a.three", "a.four", "a.five.", "a.six.", "a.seven.", "a.eight", "a.nine", "a.ten", "a.eleven", "a.twelve",
    }


def test_the_key_scan_finds_the_code():
    literal, prefixes = used_keys()
    # Sanity: the scan really sees the code (a broken pattern would make the next test pass vacuously).
    for key in ("assign.modal.title", "error.managers_only", "assign.error.title_required", "salesbot.error.bad_role",
                "error.not_on_roster", "help.admin", "home.rep_overdue", "due.in", "due.overdue", "note.error.empty"):
        assert key in literal, key
    assert {"stage.", "priority.", "status.", "role.", "segment.", "level.", "difficulty.", "mytasks.title.", "mytasks.empty."} <= set(prefixes)
    assert len(literal) > 80


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_code_uses_is_in_the_catalog(lang):
    ids = {k for k, v in read_catalog(lang).items() if v.strip()}
    literal, prefixes = used_keys()
    missing = {k: sorted(v) for k, v in literal.items() if k not in ids}
    assert missing == {}, f"{lang}: ids used in code but missing from the catalog"
    unknown_families = {p: sorted(v) for p, v in prefixes.items() if p not in DYNAMIC_FAMILIES}
    assert unknown_families == {}, "a new id family built at run time: list its values in DYNAMIC_FAMILIES"
    family_missing = [p + v for p, values in DYNAMIC_FAMILIES.items() for v in values if p + v not in ids]
    assert family_missing == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_errors_render_with_their_params(lang):
    """Each ServiceError the parsers and services raise renders in both languages without a missing placeholder."""
    from bot.parsing import ParseError, parse_mytasks, parse_salesbot

    loc = f.loc(lang)
    inputs = ["nope", "team x", "team add", "team add <@U1> boss", "team add <@U1> rep segment:x", "team add <@U1> rep level:x",
              "team add <@U1> rep x:y", "team add <@U1> rep team:" + "x" * 81, "team remove"]
    for text in inputs:
        with pytest.raises(ParseError) as exc:
            parse_salesbot(text)
        out = loc.md(exc.value.key, **exc.value.params)
        assert out and out != exc.value.key
    with pytest.raises(ParseError) as exc:
        parse_mytasks("<!here>")
    out = loc.md(exc.value.key, **exc.value.params)
    assert "&lt;!here&gt;" in out and "<!here>" not in out
    assert "U7" in loc.md("error.not_on_roster_other", user="U7")
    assert "200" in loc.t("assign.error.title_too_long", max=200)


# -- escaping in texts and templates --------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_md_escapes_values_but_not_slack_safe_ones(lang):
    loc = f.loc(lang)
    out = loc.md("note.saved", title="<!channel> & <@U1> 'it's'")
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt; 'it's'" in out
    assert "<!channel>" not in out and "&#39;" not in out
    assert isinstance(out, SlackSafe)
    added = loc.md("roster.added", user=SlackSafe("<@U9>"), role="rep", team="R&D <East>")
    assert "<@U9>" in added and "R&amp;D &lt;East&gt;" in added


@pytest.mark.parametrize("lang", LANGUAGES)
def test_template_values_are_escaped_for_slack(lang):
    loc = f.loc(lang)
    row = f.fake_row(title="<!channel> & <@U1> \"quoted\" it's", customer="<https://evil.example|Acme>", details="> <!here>\nline two &")
    out = loc.render("task_card.j2", row=row, today=f.TODAY, overdue=False, assigned_by="UMGR")
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt; \"quoted\" it's" in out
    assert "&lt;https://evil.example|Acme&gt;" in out
    assert ">&gt; &lt;!here&gt;" in out and ">line two &amp;" in out
    assert "<!channel>" not in out and "<!here>" not in out and "<https:" not in out and "<@U1>" not in out
    assert "&#39;" not in out and "&quot;" not in out, "Jinja's HTML escaping must not apply"
    assert "<@UMGR>" in out, "mentions the bot builds stay live"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_roster_line_escapes_region(lang):
    loc = f.loc(lang)
    m = f.fake_member("U5", role=Role.REP)
    m.region = "<!everyone> & co"
    out = loc.render("roster_line.j2", m=m)
    assert "&lt;!everyone&gt; &amp; co" in out and "<@U5>" in out and "<!everyone>" not in out


# -- formats -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "lang, offset, expected",
    [
        ("en", 0, "due today"),
        ("en", 1, "due tomorrow"),
        ("en", 3, "due Mar 13 (in 3 days)"),
        ("en", 6, "due Mar 16 (in 6 days)"),
        ("en", -1, "overdue by 1 day (Mar 9)"),
        ("en", -2, "overdue by 2 days (Mar 8)"),
        ("zh_Hans", 0, "今天到期"),
        ("zh_Hans", 1, "明天到期"),
        ("zh_Hans", 3, "3月13日 到期（还有 3天）"),
        ("zh_Hans", -2, "已逾期 2天（3月8日）"),
    ],
)
def test_due(lang, offset, expected):
    assert f.loc(lang).due(f.TODAY + timedelta(days=offset), f.TODAY) == expected


@pytest.mark.parametrize("lang, expected", [("en", "no due date"), ("zh_Hans", "无截止日期")])
def test_due_none(lang, expected):
    assert f.loc(lang).due(None, f.TODAY) == expected


def test_money_from_minor_units():
    en, zh = f.loc("en"), f.loc("zh_Hans")
    # One rule per language (docs/glossary.md): whole amounts without cents; Chinese large round ones in 万 and 亿.
    assert en.money(5_000_000_00, "CNY") == "¥5,000,000"
    assert zh.money(5_000_000_00, "CNY") == "¥500万"
    assert zh.money(2_307_000_000, "CNY") == "¥2,307万"
    assert zh.money(12_000_000_000, "CNY") == "¥1.2亿"
    assert zh.money(1_234_567_890, "CNY") == "¥12,345,678.90"
    assert zh.money(123_450, "CNY") == "¥1,234.50"
    assert en.money(5, "CNY") == "¥0.05"
    assert en.money(-150, "USD") == "-$1.50"
    # Beyond 2**53 a float would lose the last cent; the amount must come out exact.
    assert en.money(12_345_678_901_234_567, "CNY") == "¥123,456,789,012,345.67"
    assert zh.money(12_345_678_901_234_567, "CNY") == "¥123,456,789,012,345.67"
    assert zh.money(10, "CNY") == "¥0.10"


def test_numbers_and_percent():
    en, zh = f.loc("en"), f.loc("zh_Hans")
    assert en.number(1234567) == "1,234,567"
    assert en.number(Decimal("1234.5")) == "1,234.5"
    assert en.percent(Decimal("0.905"), 1) == "90.5%"
    assert en.percent(None) == "n/a"
    assert zh.percent(None) == "无数据"
    assert en.date(date(2031, 3, 5)) == "Mar 5"
    assert zh.date(date(2031, 3, 5)) == "3月5日"
