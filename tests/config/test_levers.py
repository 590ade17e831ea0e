"""The levers file of ``portsim optimise``: the shipped example loads, mistakes are located."""

from __future__ import annotations

from pathlib import Path

import pytest

from portsim.config import load_levers
from portsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_levers_file_loads() -> None:
    lev = load_levers(ROOT / "configs" / "example_levers.toml")
    assert lev.objective.metric == "es"
    assert set(lev.factoring.sectors) == {"construction", "machinery"}
    assert lev.collection.days_removed(0.0) == 0.0
    # half the maximum at the half spend, the maximum approached with more
    assert lev.collection.days_removed(lev.collection.half_spend) == pytest.approx(
        lev.collection.max_days_removed / 2)


@pytest.mark.parametrize(("text", "line", "words"), [
    ('[objective]\nmetric = "weighted"\nweights = { es = 0 }\n', 3, "needs a positive weight"),
    ('[objective]\nmetric = "es"\nweights = { es = 1 }\n', 3, "set metric = 'weighted'"),
    ("[credit_line]\nextra = [0, -5]\n", 2, "is negative"),
    ("[factoring.sectors.retail]\nfee = 0.01\nadvance_rate = 1.5\n", 3, "less than or equal"),
    ('[budget]\ncost_basis = "premium"\n', 2, "'net' or 'gross'"),
])
def test_mistakes_name_file_line_and_rule(tmp_path: Path, text: str, line: int,
                                          words: str) -> None:
    path = tmp_path / "levers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_levers(path)
    assert f"{path} line {line}" in str(err.value)
    assert words in str(err.value)
