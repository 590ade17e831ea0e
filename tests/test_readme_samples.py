"""The samples of output in the README and the guide, and the report screenshot's figures, are
those of a fresh run.

Every block of ``tools/readme_samples.py`` is rendered from a fresh run of the shipped example
(run once for the module) and compared as text with what README.md or the pages of docs/
hold, wherever the block is; the scenario batch and the reverse stress tests take minutes, so
their blocks are checked in the slow tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAST = ["example-run", "insurance-value", "ecl-matrix", "report-figures", "warn-flow",
        "backtest", "creditriskplus-mc"]
SLOW = ["scenario-batch", "supplier-risk", "warning-value", "reverse-stress", "optimise"]
FIX = "stale: run python tools/readme_samples.py --write"


@pytest.fixture(scope="module")
def tool(load_tool: Callable[[str], ModuleType]) -> ModuleType:
    return load_tool("readme_samples")


@pytest.fixture(scope="module")
def samples(tool: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The runs behind the samples, each made on first use and kept for the module."""
    return tool.Samples(tmp_path_factory.mktemp("samples"))


def _check(tool: ModuleType, samples: Any, name: str) -> None:
    (b,) = [b for b in tool.BLOCKS if b.name == name]
    diffs = tool.stale([b], samples, tool.read_pages())
    assert not diffs, f"{diffs[name]}\n{FIX}"


def test_every_block_is_checked_here(tool: ModuleType) -> None:
    assert [b.name for b in tool.BLOCKS if not b.slow] == FAST
    assert [b.name for b in tool.BLOCKS if b.slow] == SLOW


def test_every_block_is_in_exactly_one_page(tool: ModuleType) -> None:
    """Each block between markers is found in one page, with its end marker after it."""
    texts = tool.read_pages()
    for b in tool.BLOCKS:
        if b.file is None:
            page = tool.locate(texts, b.name)
            assert tool.block(texts[page], b.name).strip(), (b.name, page)


@pytest.mark.parametrize("name", FAST)
def test_sample_matches_a_fresh_run(tool: ModuleType, samples: Any, name: str) -> None:
    _check(tool, samples, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_slow_sample_matches_a_fresh_run(tool: ModuleType, samples: Any, name: str) -> None:
    _check(tool, samples, name)


def test_screenshot_shows_the_fresh_runs_headline(tool: ModuleType, samples: Any) -> None:
    """The figures listed for the screenshot are in the fresh run's report, and the PNG is a
    screenshot of the size the tool takes."""
    from matplotlib.image import imread

    html = samples.report.read_text(encoding="utf-8")
    figures = tool.report_figures(html)
    assert [r[0] for r in figures[:2]] == ["Total exposure", "Expected loss"]
    held = (ROOT / "docs" / "report-example.json").read_text(encoding="utf-8")
    for metric, value, error in figures:
        assert f'["{metric}", "{value}", "{error}"]' in held, (metric, FIX)
    width, height = tool.SHOT_SIZE
    assert imread(ROOT / "docs" / "report-example.png").shape[:2] == (height, width)


def test_ecl_matrix_covers_the_runs_open_invoices(tool: ModuleType, samples: Any) -> None:
    """The matrix's gross total is the run's total exposure: both are the open invoices."""
    total = samples.metrics["total_exposure"]
    assert f"| total | {total:,.0f} |" in tool.render_ecl(samples)


# --------------------------------------------------------------- the tool's parts, no runs

def test_normalise_stamps_and_trailing_spaces(tool: ModuleType) -> None:
    raw = "\n  title   \nrun folder: runs/example-baseline-20261206-031455\n\n"
    assert tool.normalise(raw) == (
        "  title\nrun folder: runs/example-baseline-YYYYMMDD-HHMMSS\n")
    assert tool.normalise("seed 20261128, 5,000 paths") == "seed 20261128, 5,000 paths\n"


def test_block_and_replace(tool: ModuleType) -> None:
    start = "<!-- x:start (tools/readme_samples.py) -->"
    text = f"a\n{start}\nold\n<!-- x:end -->\nb\n"
    assert tool.block(text, "x") == "old"
    new = tool.replace(text, "x", "new 1\nnew 2")
    assert new == f"a\n{start}\nnew 1\nnew 2\n<!-- x:end -->\nb\n"
    assert tool.block(new, "x") == "new 1\nnew 2"
    with pytest.raises(ValueError, match="lacks the markers"):
        tool.block(text, "y")
    with pytest.raises(ValueError, match="lacks the markers"):
        tool.replace(text.replace("<!-- x:end -->", ""), "x", "new")


def test_pages_are_the_readme_and_the_docs_markdown(tool: ModuleType, tmp_path: Path) -> None:
    for name in ("README.md", "docs/design.md", "docs/guide/b.md", "docs/guide/a.md",
                 "docs/_build/html/_sources/x.md", "docs/conf.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in tool.pages(tmp_path)] == [
        "README.md", "docs/design.md", "docs/guide/a.md", "docs/guide/b.md"]


def test_locate_finds_the_one_page_with_the_block(tool: ModuleType) -> None:
    start = "<!-- x:start (tools/readme_samples.py) -->"
    texts = {Path("README.md"): "tour\n",
             Path("docs/guide/x.md"): f"{start}\n1\n<!-- x:end -->\n"}
    assert tool.locate(texts, "x") == Path("docs/guide/x.md")
    with pytest.raises(ValueError, match="found in no page"):
        tool.locate(texts, "y")
    texts[Path("README.md")] = texts[Path("docs/guide/x.md")]
    with pytest.raises(ValueError, match=re.escape("found in README.md, docs/guide/x.md")):
        tool.locate(texts, "x")


def test_stale_reports_a_changed_number(tool: ModuleType) -> None:
    texts = {Path("README.md"): "tour\n",
             Path("docs/guide/n.md"): "<!-- n:start (tools/readme_samples.py) -->\nEL 430.5k\n"
                                      "<!-- n:end -->\n"}
    same = tool.Block("n", lambda s: "EL 430.5k")
    drifted = tool.Block("n", lambda s: "EL 431.0k")
    assert tool.stale([same], None, texts) == {}
    diff = tool.stale([drifted], None, texts)["n"]
    assert "-EL 430.5k" in diff
    assert "+EL 431.0k" in diff


def test_report_figures_reads_the_headline_table(tool: ModuleType) -> None:
    page = ('<section id="loss"><table><tr><td>x</td></tr></table></section>'
            '<section id="headline"><h2>Headline</h2><table><thead><tr><th>Metric</th>'
            '<th>Value</th></tr></thead><tbody><tr><td>P(a &amp; b)</td>'
            '<td class="num">4.06%</td><td class="num">± 0.14% (s.e.)</td><td>p</td></tr>'
            "</tbody></table></section>")
    assert tool.report_figures(page) == [["P(a & b)", "4.06%", "± 0.14% (s.e.)"]]
    with pytest.raises(ValueError, match="no headline"):
        tool.report_figures("<html></html>")
