"""Counted messages use gettext plural forms: English singular and plural, Chinese one form."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot import TEMPLATES_DIR
from bot.i18n import LANGUAGES
from tests.unit import factories as f

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HEADERS = {"en": "nplurals=2; plural=(n != 1);", "zh_Hans": "nplurals=1; plural=0;"}


def messages(lang: str):
    """Every message of a language with the file that holds it."""
    for path in sorted((TEMPLATES_DIR / "locale" / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for m in catalog:
            if m.id:
                yield path, catalog, m


def plural_ids(lang: str) -> dict[str, tuple[str, ...]]:
    return {m.id[0]: tuple(m.string) for _, _, m in messages(lang) if m.pluralizable}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalog_file_declares_its_plural_forms(lang):
    for path in sorted((TEMPLATES_DIR / "locale" / lang / "LC_MESSAGES").glob("*.po")):
        assert f'"Plural-Forms: {HEADERS[lang]}\\n"' in path.read_text(encoding="utf-8"), path.name


def test_plural_entries_pair_up():
    en, zh = plural_ids("en"), plural_ids("zh_Hans")
    assert len(en) >= 30 and set(en) == set(zh)
    for key, forms in en.items():
        assert len(forms) == 2 and all(forms), key
        assert len(zh[key]) == 1 and zh[key][0], key
        for form in forms:
            assert "%(n)s" in form, key  # the count is always `n`
            assert sorted(set(PLACEHOLDER.findall(form))) == sorted(set(PLACEHOLDER.findall(zh[key][0]))), key
    for _, _, m in messages("en"):
        if m.pluralizable:
            assert m.id[1] == m.id[0] + ".plural"  # the Localizer's plural call asks for `key.plural`


def test_no_english_count_is_left_without_plural_forms():
    """A count (`%(n)s`, `%(count)s`, `%(rows)s`) followed by an English plural noun must be a plural entry."""
    flat = sorted(m.id for _, _, m in messages("en") if not m.pluralizable and re.search(r"%\((?:n|count|rows)\)s (?:[a-z-]+ )?[a-z]+s\b", m.string or ""))
    assert flat == []
    assert len(plural_ids("en")) >= 35


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_counted_message_renders_with_one_and_two(lang):
    loc = f.loc(lang)
    for key, forms in plural_ids(lang).items():
        others = {p: f"<{p}>" for p in set(PLACEHOLDER.findall(" ".join(forms))) if p != "n"}
        one, two = loc.mdn(key, 1, **others), loc.mdn(key, 2, **others)
        assert "%(" not in one and "%(" not in two, key
        assert re.search(r"(?<![\d,])1(?![\d,])", one) and re.search(r"(?<![\d,])2(?![\d,])", two), (key, one, two)
        assert all(f"&lt;{p}&gt;" in one for p in others), key  # the other placeholders are escaped as in md
        if lang == "en":
            assert one == forms[0] % {"n": "1", **{p: f"&lt;{p}&gt;" for p in others}}, key
            assert two == forms[1] % {"n": "2", **{p: f"&lt;{p}&gt;" for p in others}}, key
        else:
            assert one.replace("1", "2", 1) == two or one.count("1") > 1, key
        assert loc.tn(key, 2, **others) == two.replace("&lt;", "<").replace("&gt;", ">"), key


@pytest.mark.parametrize("key, one, two", [
    ("digest.movement.new", "1 new deal", "2 new deals"),
    ("kpi.pipeline.open", "Open: 1 deal · <value>", "Open: 2 deals · <value>"),
    ("digest.agenda.overdue", "1 overdue task to reassign or close.", "2 overdue tasks to reassign or close."),
    ("roster.more", "…and 1 more person.", "…and 2 more people."),
    ("csv.report.more", "… and 1 more error", "… and 2 more errors"),
])
def test_english_singular_and_plural(key, one, two):
    loc = f.loc("en")
    assert loc.tn(key, 1, value="<value>") == one and loc.tn(key, 2, value="<value>") == two
    assert loc.tn(key, 1_234, value="<value>").startswith(two.split("2")[0] + "1,234")


def test_chinese_has_one_form():
    zh = f.loc("zh_Hans")
    assert zh.tn("digest.movement.new", 1) == "新商机 1 个" and zh.tn("digest.movement.new", 2) == "新商机 2 个"
