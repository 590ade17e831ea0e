"""Every relative link of README.md and of the Markdown pages under docs/ points to a file that
exists, and a link to a section of a Markdown page (``page.md#some-heading``) to a heading of
that page, with the section ids GitHub (and myst-parser's ``myst_heading_anchors``) give.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_pages(root: Path) -> list[Path]:
    """README.md and every ``docs/**/*.md`` (a docs build under ``docs/_build`` left out)."""
    docs = sorted(p for p in (root / "docs").rglob("*.md")
                  if "_build" not in p.relative_to(root / "docs").parts)
    return [root / "README.md", *docs]


def _prose(text: str) -> list[tuple[int, str]]:
    """The lines of a Markdown text outside fenced code blocks, with their numbers."""
    lines, fence = [], ""
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.match(r"^\s*(`{3,}|~{3,})", line)
        if marker and (not fence or marker.group(1).startswith(fence)):
            fence = "" if fence else marker.group(1)
            continue
        if not fence:
            lines.append((number, line))
    return lines


def links(text: str) -> list[tuple[int, str]]:
    """The link and image targets of a Markdown text with their line numbers (not those in
    code)."""
    return [(number, target) for number, line in _prose(text)
            for target in LINK.findall(CODE_SPAN.sub("code", line))]


def slug(heading: str) -> str:
    """A heading's section id as GitHub writes it: lower case, punctuation dropped (``-`` and
    ``_`` kept), each space a ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The section ids of a Markdown text's headings; a repeated id gets ``-1``, ``-2`` …"""
    seen: dict[str, int] = {}
    out = set()
    for _, line in _prose(text):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` whose file, or whose section of a Markdown file, is
    missing; each as ``line N: target (why)``."""
    out = []
    for number, target in links(page.read_text(encoding="utf-8")):
        if SCHEME.match(target):
            continue  # a web address, not checked here
        path, _, anchor = unquote(target).partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            out.append(f"line {number}: {target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(
                file.read_text(encoding="utf-8")):
            out.append(f"line {number}: {target} (no such section)")
    return out


@pytest.mark.parametrize("page", [p.relative_to(ROOT).as_posix() for p in markdown_pages(ROOT)])
def test_every_relative_link_resolves(page: str) -> None:
    assert broken_links(ROOT / page) == []


def test_the_readme_links_to_every_guide_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = {target for _, target in links(readme)}
    guide = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs" / "guide").glob("*.md")}
    assert guide, "docs/guide/ holds the user guide"
    assert guide <= targets


def test_broken_links_finds_missing_files_and_sections(tmp_path: Path) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "book.md").write_text(
        "# The book\n\n## CSV dialects\n\n```toml\n# not a heading\n```\n\n## Notes\n\n## Notes\n",
        encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "# Tour\n\n"
        "See [dialects](guide/book.md#csv-dialects), [notes](guide/book.md#notes-1),\n"
        "[the tour](#tour), ![shot](guide/book.md) and [site](https://example.org/x.md).\n"
        "Broken: [a](guide/nothing.md), [b](guide/book.md#not-a-heading),\n"
        "[c](#no-section) and [d](<guide/book.md#notes-2>).\n"
        "`[not a link](nowhere.md)` is code.\n\n"
        "```\n[nor this](nowhere.md)\n```\n",
        encoding="utf-8")
    assert broken_links(page) == [
        "line 5: guide/nothing.md (no such file)",
        "line 5: guide/book.md#not-a-heading (no such section)",
        "line 6: #no-section (no such section)",
        "line 6: guide/book.md#notes-2 (no such section)",
    ]


@pytest.mark.parametrize(("heading", "expected"), [
    ("Loss allowance: IFRS 9 expected credit loss", "loss-allowance-ifrs-9-expected-credit-loss"),
    ("Score, then simulate", "score-then-simulate"),
    ("CreditRisk+ as a second opinion", "creditrisk-as-a-second-opinion"),
    ("Batch runs on Dask", "batch-runs-on-dask"),
    ("The `[warn]` rules", "the-warn-rules"),
])
def test_slug_is_githubs_section_id(heading: str, expected: str) -> None:
    assert slug(heading) == expected
