"""docs/glossary.md: no catalog uses a banned variant of a glossary term, in either language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import PROJECT_ROOT, TEMPLATES_DIR

GLOSSARY = PROJECT_ROOT / "docs" / "glossary.md"
CJK = re.compile(r"[\u3400-\u9fff]")
# What the user types (commands, codes, column names) and placeholders are not running text.
CODE = re.compile(r"`[^`]*`|%\(\w+\)s")

# Variants whose bare word also has a meaning the glossary keeps, matched more narrowly (why in each comment).
NARROW = {
    # 完成 is the word for a task done (完成/逾期, 已完成); only attainment phrased as 完成 is banned.
    "完成": r"目标完成|完成 ?%\(pct\)s",
    # 完成率 stays for tasks (任务完成率, 按时完成率).
    "完成率": r"(?<!任务)(?<!按时)完成率",
    # "key" is also the segment code and "key accounts".
    "key": r"(?i)\bkeys?\b(?! accounts?)",
    # "Late" as a column or status; "later" and "too late" in other senses stay.
    "Late": r"\bLate\b",
    # 键 in 关键 ("key" as in important) is not the split line.
    "键": r"(?<!关)键",
}
# Messages read by customers, the only ones that say 您.
CUSTOMER_IDS = re.compile(
    r"^survey\.(about|answered\.(comment_only|fallback|thanks)|closed|comment|error\.(closed|comment|score|not_found)|request|reminder|scale|until|change_until|button)"
)


def banned_variants(text: str) -> list[tuple[str, str, str]]:
    """(concept, variant, regex) for every entry of the glossary table's `not` column."""
    out = []
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("concept", "") or set(cells[0]) <= {"-"}:
            continue
        concept, _en, _zh, banned = cells
        for raw in re.sub(r"\([^)]*\)", "", banned).split(","):
            variant = raw.strip()
            alone = variant.endswith(" alone")
            variant = variant.removesuffix(" alone").removesuffix(" in running text").strip()
            if not variant:
                continue
            if variant in NARROW:
                rx = NARROW[variant]
            elif alone and CJK.search(variant):
                # 简报 alone: banned unless part of the term itself (周会简报)
                rx = rf"(?<!{re.escape(_zh.split('/')[0].strip()[:-len(variant)] or '^')}){re.escape(variant)}"
            elif alone:
                # Growth alone: banned unless followed by the rest of the term (growth rate)
                rest = _en.split(";")[0].strip()[len(variant):]
                rx = rf"(?i)\b{re.escape(variant)}\b(?!{re.escape(rest)})"
            elif CJK.search(variant):
                rx = re.escape(variant)
            else:
                rx = rf"\b{re.escape(variant)}\b"
            out.append((concept, variant, rx))
    return out


def catalog_texts(lang: str) -> list[tuple[str, str]]:
    """(id, text) for every message of a language; a plural message gives one text per form."""
    out = []
    for path in sorted((TEMPLATES_DIR / "locale" / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    key = m.id if isinstance(m.id, str) else m.id[0]
                    forms = [m.string] if isinstance(m.string, str) else list(m.string)
                    out += [(key, t) for t in forms]
    return out


def offences(variants, texts, *, chinese: bool) -> list[tuple[str, str, str]]:
    """(id, variant, text) for each text that uses a banned variant of its language."""
    found = []
    for key, text in texts:
        prose = CODE.sub("", text)
        for concept, variant, rx in variants:
            if bool(CJK.search(variant)) != chinese:
                continue
            if variant == "您" and CUSTOMER_IDS.match(key):
                continue
            if re.search(rx, prose):
                found.append((key, variant, text))
    return found


VARIANTS = banned_variants(GLOSSARY.read_text(encoding="utf-8"))


def test_the_glossary_yields_its_banned_variants():
    names = {v for _, v, _ in VARIANTS}
    assert {"代表", "销售代表", "潜在客户", "周报", "简报", "未结", "过期", "问卷", "推进率", "期间", "您", "moved on", "Late", "touch", "Growth", "key"} <= names
    assert len(VARIANTS) >= 30


def test_the_checker_catches_each_kind_of_variant():
    sample = [
        ("a", "销售代表 张三"), ("b", "本期周报"), ("c", "周会简报"), ("d", "本月简报"), ("e", "Growth 5%"), ("f", "Growth rate 5%"),
        ("g", "Done/Late"), ("h", "key accounts"), ("i", "Each key once"), ("j", "任务完成率"), ("k", "目标完成率"), ("l", "`/kpi [期间]`"),
        ("survey.request.title", "您对我们满意吗？"), ("suggest.saved", "您的建议"),
    ]
    zh = {k for k, _, _ in offences(VARIANTS, sample, chinese=True)}
    en = {k for k, _, _ in offences(VARIANTS, sample, chinese=False)}
    assert zh == {"a", "b", "d", "k", "suggest.saved"}
    assert en == {"e", "g", "i"}


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_no_catalog_uses_a_banned_variant(lang):
    found = offences(VARIANTS, catalog_texts(lang), chinese=lang == "zh_Hans")
    assert found == []


def test_the_glossary_is_linked_from_the_readme():
    assert "(docs/glossary.md)" in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
