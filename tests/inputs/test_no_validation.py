"""The checks come before the build: ``check_run`` reports a config that does not fit the
book, and ``build_inputs`` trusts what it is given (nothing in ``portsim.inputs`` validates)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from portsim.config import RunConfig, ScenarioConfig
from portsim.errors import ConfigError
from portsim.inputs.model import build_inputs
from portsim.workflow.checks import check_run, require_valid

INPUTS = Path(__file__).resolve().parents[2] / "src" / "portsim" / "inputs"


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            | {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               for a in n.names})


@pytest.mark.parametrize("path", sorted(INPUTS.glob("*.py")), ids=lambda p: p.name)
def test_inputs_modules_never_name_a_problem(path: Path) -> None:
    used = _names_used(path)
    assert not used & {"ConfigError", "Problem", "InputError", "BookError",
                       "did_you_mean", "key_location"}


def test_build_trusts_a_book_the_checks_refuse(make_book: Any, make_config: Any) -> None:
    """An insurance policy excluding an id that is not in the book: the checks name it with
    the closest id; the build ignores it and covers the book as without the exclusion."""
    book = make_book(n=3, p_default=0.02, annual_sales=120.0, insured_limit=50.0)
    base = {"timeline": {"as_of": "2026-12-31", "horizon_months": 12},
            "simulation": {"kernel": "grouped"}}
    policy = {"premium_rate": 0.01}
    cfg = make_config(**base, insurance={"policies": {"p": {**policy, "excluded": ["C0001"]}}})
    clean = make_config(**base, insurance={"policies": {"p": policy}})
    (problem,) = check_run(cfg, book)
    assert problem.what == "insurance.policies.p.excluded: 'C0001'"
    assert problem.rule.startswith("is not a customer_id of the book")
    assert problem.fix == "did you mean 'C001'?"
    with pytest.raises(ConfigError):
        require_valid(cfg, book)
    assert check_run(clean, book) == []
    built, expected = build_inputs(book, cfg), build_inputs(book, clean)
    assert built.insurance is not None
    assert expected.insurance is not None
    np.testing.assert_array_equal(built.insurance.cover_limit, expected.insurance.cover_limit)
    np.testing.assert_array_equal(built.insurance.cover_limit[1], [50.0, 50.0, 50.0])


def test_build_trusts_a_scenario_the_checks_refuse(make_book: Any, make_config: Any) -> None:
    """A PD multiplier on a sector the book lacks: reported by the checks (with the closest
    sector); the build multiplies no customer's PD by it."""
    book = make_book(sector=["retail", "retail", "energy"], p_default=0.02)
    cfg: RunConfig = make_config()
    stressed = cfg.model_copy(update={"scenario": ScenarioConfig.model_validate(
        {"name": "s", "pd_multiplier": {"sector": {"retial": 3.0}}})})
    (problem,) = check_run(stressed, book)
    assert str(problem).startswith("scenario 's'")
    assert "pd_multiplier.sector.retial is not a sector of the book" in str(problem)
    assert problem.fix == "did you mean 'retail'?"
    np.testing.assert_array_equal(build_inputs(book, stressed).p_default,
                                  build_inputs(book, cfg).p_default)
