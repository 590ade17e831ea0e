"""The README's provision matrix is the one a fresh run of the shipped example gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_matrix_matches_a_fresh_run(load_tool: Callable[[str], ModuleType]) -> None:
    tool = load_tool("ecl_readme")
    text = README.read_text(encoding="utf-8")
    fresh = tool.render()
    assert tool.replace(text, fresh) == text, "run python tools/ecl_readme.py --write"
    assert "| total | 48,365,735 |" in fresh  # the example's open invoices at 2026-12-31
