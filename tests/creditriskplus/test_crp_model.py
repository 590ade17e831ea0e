"""The ``[creditriskplus]`` table, its checks against the book, and the lattice model built
from the book's inputs (sector weights, variances, loss unit, expected loss kept)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from portsim.config import CreditRiskPlusConfig, load_config
from portsim.creditriskplus.model import AUTO_UNIT_STEPS, build_model
from portsim.data import Book
from portsim.errors import ConfigError
from portsim.inputs.model import build_inputs
from portsim.workflow.api import creditriskplus
from portsim.workflow.checks import check_run


def two_sector_book(make_book: Any) -> Book:
    return make_book(sector=["retail", "construction", "retail", "energy"],
                     exposure=[1000.0, 2500.0, 40.0, 777.0], lgd=[0.5, 0.4, 1.0, 0.6],
                     p_default=[0.02, 0.05, 0.01, 0.03])


def test_default_model_puts_each_customer_in_its_own_sector(
        make_book: Any, make_config: Any) -> None:
    book = two_sector_book(make_book)
    inputs = build_inputs(book, make_config())
    model = build_model(inputs, CreditRiskPlusConfig(idiosyncratic_weight=0.25, variance=0.7,
                                                     sector_variances={"energy": 2.0}))
    names = list(model.sector_names)
    own = np.array([names.index(s) for s in ["retail", "construction", "retail", "energy"]])
    want = np.zeros((4, 3))
    want[np.arange(4), own] = 0.75
    np.testing.assert_array_equal(model.weights, want)
    np.testing.assert_allclose(model.idiosyncratic, 0.25)
    np.testing.assert_array_equal(model.variance, [0.7 if s != "energy" else 2.0
                                                   for s in names])
    # the largest loss given default, 2500 × 0.4, is AUTO_UNIT_STEPS units
    assert model.unit == pytest.approx(1000.0 / AUTO_UNIT_STEPS)
    np.testing.assert_array_equal(model.units, [250, 500, 20, 233])


def test_rounding_to_units_keeps_every_expected_loss(
        make_book: Any, make_config: Any) -> None:
    inputs = build_inputs(two_sector_book(make_book), make_config())
    model = build_model(inputs, CreditRiskPlusConfig(loss_unit=300.0))
    np.testing.assert_array_equal(model.units, [2, 3, 1, 2])  # 40 rounds up to one unit
    np.testing.assert_allclose(model.intensity * model.units * model.unit,
                               inputs.p_horizon * inputs.exposure * inputs.lgd_mean)


def test_weights_spread_a_sector_over_several_variables(
        make_book: Any, make_config: Any) -> None:
    inputs = build_inputs(two_sector_book(make_book), make_config())
    crp = CreditRiskPlusConfig(weights={"retail": {"retail": 0.6, "energy": 0.3}})
    model = build_model(inputs, crp)
    names = list(model.sector_names)
    np.testing.assert_allclose(model.weights[0, [names.index("retail"), names.index("energy")]],
                               [0.6, 0.3])
    np.testing.assert_allclose(model.idiosyncratic, [0.1, 0.0, 0.1, 0.0], atol=1e-15)


def write(folder: Path, text: str) -> Path:
    path = folder / "run.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_weights_above_one_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        name = "x"

        [creditriskplus]
        weights = { retail = { retail = 0.8, energy = 0.4 } }
    """)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{path} line 4: ")
    assert "sum to 1.2 > 1" in str(problem)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_a_variance_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        CreditRiskPlusConfig(variance=bad)


def test_sectors_not_in_the_book_are_problems(
        make_book: Any, make_config: Any) -> None:
    config = make_config(creditriskplus={
        "sector_variances": {"retial": 1.0},
        "weights": {"energy": {"energy": 0.5, "mining": 0.2}}})
    problems = [str(p) for p in check_run(config, two_sector_book(make_book))]
    assert problems == [
        "config [creditriskplus]: sector_variances.retial is not a sector of the book; "
        "did you mean 'retail'?",
        "config [creditriskplus]: weights.energy.mining is not a sector of the book; "
        "sectors: construction, energy, retail",
    ]


def test_the_python_api_gives_the_figures_of_the_configs_book(
        make_book: Any, make_config: Any) -> None:
    book = two_sector_book(make_book)
    config = make_config(risk={"levels": [0.9, 0.99]})
    res = creditriskplus(config, book)
    inputs = build_inputs(book, config)
    assert res.levels == (0.9, 0.99)
    assert res.expected_loss == pytest.approx(
        float(inputs.p_horizon @ (inputs.exposure * inputs.lgd_mean)), rel=1e-9)
    assert 0.0 < res.var[0] <= res.var[1] <= res.es[1]
