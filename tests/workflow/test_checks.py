"""A book and a config are checked together: every problem at once, each with its location;
a book without one of the configured sectors, or of one customer, is a book like any other."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portsim.config import load_config
from portsim.errors import BookError, ConfigError, InputError
from portsim.workflow.api import prepare

SECTORS = ["automotive", "chemicals", "retail"]


def project(folder: Path, sectors: list[str], *, excluded: str = "K0",
            pair: str = "automotive|chemicals", extra: str = "") -> Path:
    """A book with one customer per sector of ``sectors``, and a config naming every sector
    of :data:`SECTORS`, a correlation pair, an insurance policy excluding ``excluded``."""
    pd.DataFrame({
        "customer_id": [f"K{i}" for i in range(len(sectors))],
        "sector": sectors, "country": "DE", "exposure": 1e4, "p_default": 0.02, "lgd": 0.5,
        "annual_sales": 1e5,
    }).to_csv(folder / "book.csv", index=False)
    path = folder / "run.toml"
    path.write_text(textwrap.dedent(f"""
        [book]
        path = "book.csv"
        sectors = {SECTORS!r}

        [model]
        factors = "sector"

        [model.correlation]
        default = 0.4
        pairs = {{ "{pair}" = 0.7 }}

        [timeline]
        as_of = 2026-12-31

        [company]
        opening_cash = 1e6

        [insurance.policies.whole]
        premium_rate = 0.002
        excluded = ["{excluded}"]
        {extra}
    """).lstrip("\n"), encoding="utf-8")
    return path


def problems(path: Path, error: type[InputError] = ConfigError) -> list[str]:
    with pytest.raises(error) as info:
        prepare(load_config(path))
    assert type(info.value) is error
    return [str(p) for p in info.value.problems]


def test_a_one_customer_book_reports_every_problem_once_with_its_line(tmp_path: Path) -> None:
    # the pair names configured sectors the book has no customer in: not a problem
    path = project(tmp_path, ["retail"], excluded="K0x")
    assert problems(path) == [
        f"{path} line 20: insurance.policies.whole.excluded: 'K0x' is not a customer_id of the "
        f"book ({tmp_path / 'book.csv'}); did you mean 'K0'?"
    ]
    book, inputs = prepare(load_config(project(tmp_path, ["retail"])))  # the only fix needed
    assert book.n_customers == 1
    assert inputs.factor_names == ("retail",)


def test_a_book_without_a_configured_sector_leaves_its_pairs_out(tmp_path: Path) -> None:
    _, inputs = prepare(load_config(project(tmp_path, ["chemicals", "retail"])))
    assert inputs.factor_names == ("chemicals", "retail")
    np.testing.assert_array_equal(inputs.corr, [[1.0, 0.4], [0.4, 1.0]])
    _, full = prepare(load_config(project(tmp_path, SECTORS)))
    assert full.corr[0, 1] == 0.7  # the pair applies when both sectors have customers


def test_a_pair_naming_no_sector_is_located_with_a_hint(tmp_path: Path) -> None:
    path = project(tmp_path, ["retail"], pair="automotve|retail")
    assert problems(path) == [
        f"{path} line 10: pairs.'automotve|retail' names 'automotve', which is not a factor of "
        "the model (model.factors = 'sector'); did you mean 'automotive'?"
    ]


def test_book_and_config_problems_come_together(tmp_path: Path) -> None:
    path = project(tmp_path, ["retail", "chemicals"], extra='\n[simulation]\nkernel = "skip"')
    book = pd.read_csv(tmp_path / "book.csv")
    book.loc[1, "p_default"] = 3.5
    book.to_csv(tmp_path / "book.csv", index=False)
    found = problems(path, InputError)
    assert len(found) == 2
    assert found[0].startswith("book.csv row 3 (K1): p_default=3.5 is outside [0, 1]")
    assert found[1].startswith("config [simulation]: kernel='skip' draws defaults only")
    # a bad book alone is still a BookError
    project(tmp_path, ["retail", "chemicals"])
    book.to_csv(tmp_path / "book.csv", index=False)
    assert len(problems(path, BookError)) == 1
