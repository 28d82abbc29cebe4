"""The README gets a newcomer running on its first screen, and every link in it and in docs/ leads somewhere."""

from __future__ import annotations

import re

from bot import PROJECT_ROOT

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", markdown), re.M):
        out.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return out


def pages():
    return [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def test_every_local_link_reaches_a_file_and_heading():
    broken = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for target in LINK.findall(FENCE.sub("", text)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest.read_text(encoding="utf-8"))):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def test_every_doc_is_linked_from_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for doc in sorted((PROJECT_ROOT / "docs").glob("*.md")):
        assert f"(docs/{doc.name}" in readme, f"docs/{doc.name} is not linked from the README"


def test_the_readme_opens_with_the_quick_start_and_stays_short():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 12_000, "move the details to docs/"
    sections = re.findall(r"^## (.+)$", FENCE.sub("", readme), re.M)
    assert sections[0] == "Quick start"
    quick = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert quick == ['pip install -e ".[dev]" && salesbot demo', "python -m pytest -q"]
    contents = readme.split("## Contents", 1)[1].split("\n## ", 1)[0]
    assert any("(#create-the-slack-app)" in line for line in contents.strip().splitlines()[:5]), "near the top of the contents"
