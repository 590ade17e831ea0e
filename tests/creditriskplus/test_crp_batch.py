"""The CreditRisk+ figures of every scenario of a batch (``[creditriskplus] compare = true``)
beside the run's: summary.json's ``batch.creditriskplus`` and the command line's table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from portsim.cli.summary import print_creditriskplus_batch
from portsim.config import ScenarioConfig, apply_scenario
from portsim.data import Book
from portsim.results.comparison import creditriskplus_by_scenario
from portsim.results.estimators import Z95
from portsim.workflow.api import creditriskplus
from portsim.workflow.options import RunOptions
from portsim.workflow.runner import run_batch_folder


def test_figures_by_scenario_from_the_summaries() -> None:
    run = {"expected_loss": {"value": 10.0, "se": 1.0}, "loss_sd": {"value": 5.0, "se": 0.5},
           "var": {"0.99": {"value": 30.0, "ci_low": 28.0, "ci_high": 32.0, "se": 9.0}},
           "es": {"0.99": {"value": 40.0, "se": 2.0}}}
    crp = {"expected_loss": 11.0, "loss_sd": 6.0, "var": {"0.99": 31.0}, "es": {"0.99": 42.0}}
    got = creditriskplus_by_scenario({"base": {**run, "creditriskplus": crp},
                                      "without": run})
    assert list(got) == ["base"]  # a summary without CreditRisk+ figures is left out
    assert got["base"]["expected_loss"] == {"run": 10.0, "run_se": 1.0, "creditriskplus": 11.0}
    assert got["base"]["loss_sd"] == {"run": 5.0, "run_se": 0.5, "creditriskplus": 6.0}
    # the VaR's s.e. from its 95 % confidence interval
    assert got["base"]["var"]["0.99"] == {"run": 30.0, "run_se": pytest.approx(2.0 / Z95),
                                          "creditriskplus": 31.0}
    assert got["base"]["es"]["0.99"] == {"run": 40.0, "run_se": 2.0, "creditriskplus": 42.0}
    assert creditriskplus_by_scenario({"without": run}) == {}


def test_a_batch_shows_every_scenarios_creditriskplus_figures(
        make_book: Any, make_config: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    i = np.arange(24)
    book: Book = make_book(sector=np.array(["a", "b"])[i % 2], exposure=100.0 * (1 + i % 5),
                           lgd=0.5, p_default=0.01 + 0.01 * (i % 4))
    cfg = make_config(creditriskplus={"compare": True, "variance": 0.8},
                      risk={"levels": [0.99]})
    doubled = ScenarioConfig.model_validate({"name": "doubled",
                                             "pd_multiplier": {"global": 2.0}})
    res = run_batch_folder(cfg, [doubled], tmp_path / "batch", book=book,
                           options=RunOptions(paths=2048))
    summary = json.loads((tmp_path / "batch" / "summary.json").read_text(encoding="utf-8"))
    crp = summary["batch"]["creditriskplus"]
    assert list(crp) == ["baseline", "doubled"]
    for name, sub in (("baseline", cfg), ("doubled", apply_scenario(cfg, doubled))):
        exact = creditriskplus(sub, book)  # the book under the scenario's PDs
        assert crp[name]["expected_loss"]["creditriskplus"] == pytest.approx(
            exact.expected_loss, rel=1e-12)
        assert crp[name]["es"]["0.99"]["creditriskplus"] == pytest.approx(exact.es[0],
                                                                          rel=1e-12)
        assert crp[name]["es"]["0.99"]["run"] == res.metrics[name]["es"]["0.99"]["value"]
    # twice the PDs, twice the intensities: twice the CreditRisk+ expected loss
    assert crp["doubled"]["expected_loss"]["creditriskplus"] == pytest.approx(
        2 * crp["baseline"]["expected_loss"]["creditriskplus"], rel=1e-9)
    print_creditriskplus_batch(res.metrics)
    out = capsys.readouterr().out
    assert "CreditRisk+ of the same book under each scenario" in out
    assert "doubled" in out
    assert "CR+" in out


def test_a_batch_of_the_creditriskplus_family_runs_on_common_random_numbers(
        make_book: Any, make_config: Any, tmp_path: Path) -> None:
    i = np.arange(24)
    book: Book = make_book(sector=np.array(["a", "b"])[i % 2], exposure=100.0 * (1 + i % 5),
                           lgd=0.5, p_default=0.01 + 0.01 * (i % 4))
    cfg = make_config(model={"family": "creditriskplus"}, risk={"levels": [0.99]})
    doubled = ScenarioConfig.model_validate({"name": "doubled",
                                             "pd_multiplier": {"global": 2.0}})
    res = run_batch_folder(cfg, [doubled], tmp_path / "batch", book=book,
                           options=RunOptions(paths=2048))
    info = json.loads((tmp_path / "batch" / "batch.json").read_text(encoding="utf-8"))
    assert info["kernel"] == "auto"  # the config's: the family has one kernel
    el = res.comparison.set_index(["scenario", "metric"]).loc[("doubled", "expected_loss")]
    assert el["diff"] > 4 * el["diff_se"] > 0  # twice the PDs: more loss, paired error
