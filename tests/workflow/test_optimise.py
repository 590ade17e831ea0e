"""``portsim optimise`` end to end on a small book: the frontier's shape, the independent seed,
the folder (overlay, report, workbook) and the command line; the shipped example (slow)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from portsim.budget import Mix, Variant, cost, measures, path_set
from portsim.cli import app
from portsim.config import ScenarioConfig, load_config, load_levers, load_scenario
from portsim.errors import ConfigError
from portsim.workflow.api import load_book, run_with
from portsim.workflow.folders import write_workbook
from portsim.workflow.optimise import (
    economics,
    optimise_budget,
    overlay_scenario,
    write_optimise,
)
from portsim.workflow.options import RunOptions

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
name = "small"
[book]
path = "book.csv"
[simulation]
paths = 3000
seed = 5
chunk_paths = 1024
kernel = "grouped"
[timeline]
as_of = 2026-12-31
horizon_months = 12
[delays]
mean_days = 10
sd_days = 4
noise_days = 5
factor_sensitivity_days = 4
[company]
opening_cash = 300_000
credit_line = 400_000
min_cash_buffer = 100_000
fixed_outflows_monthly = 250_000
cogs_share = 0.6
[insurance.policies.cover]
insured_percentage = 0.9
premium_rate = 0.003
settlement_lag_days = 30
"""

LEVERS = """
[budget]
default_share = 0.005
grid_multiple = 2.0
grid_points = 9
[objective]
metric = "es"
level = 0.99
[factoring.sectors.construction]
fee = 0.01
advance_rate = 0.8
[credit_line]
extra = [0, 100_000]
commitment_fee = 0.005
[collection]
spend = [0, 20_000]
max_days_removed = 5
half_spend = 20_000
"""


@pytest.fixture
def small(tmp_path: Path, make_trade_book: Any) -> tuple[Path, Path]:
    rng = np.random.default_rng(2)
    n = 120
    book = make_trade_book(n, seed=4)
    frame = pd.DataFrame({
        "customer_id": book.customer_id, "sector": book.sector, "country": "DE",
        "exposure": book.exposure, "p_default": rng.uniform(0.005, 0.06, n), "lgd": 0.6,
        "payment_terms_days": book.payment_terms_days, "annual_sales": book.annual_sales,
        "insured_limit": book.exposure * 2})
    frame.to_csv(tmp_path / "book.csv", index=False)
    (tmp_path / "small.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "levers.toml").write_text(LEVERS, encoding="utf-8")
    return tmp_path / "small.toml", tmp_path / "levers.toml"


def test_frontier_shape_and_independent_seed(small: tuple[Path, Path], tmp_path: Path) -> None:
    cfg, lev = load_config(small[0]), load_levers(small[1])
    res = optimise_budget(cfg, lev, options=RunOptions(threads=1), config_file=small[0],
                          scenarios=[ROOT / "scenarios" / "mild_recession.toml"],
                          stress_paths=1500)
    f = res.frontier
    assert len(f) == 9
    assert f["budget"].iloc[0] == 0.0
    assert (f["cost"] <= f["budget"] * (1 + 1e-7) + 1e-6).all()
    # the in-sample frontier never rises; out of sample by no more than 2 standard errors
    for a, b in itertools.pairwise(f.itertuples()):
        assert b.objective_in <= a.objective_in * (1 + 1e-9)
        assert b.objective_out <= a.objective_out + 2 * np.hypot(a.objective_out_se,
                                                                 b.objective_out_se)
    d = f[f["is_default"]].iloc[0]
    assert abs(d.objective_out - d.objective_in) <= 2 * np.hypot(d.objective_in_se,
                                                                 d.objective_out_se)
    assert d.objective_in < f["objective_in"].iloc[0]  # the budget buys something
    assert res.stress is not None
    s = res.stress.iloc[0]
    assert s["scenario"] == "mild_recession"
    assert s["regret"] >= 0
    folder = write_optimise(res, cfg, tmp_path / "out")
    overlay = load_config(folder / "chosen_mix.toml")
    assert overlay.company.credit_line == cfg.company.credit_line + d.line_extra
    want = [] if d.policy == "none" else [d.policy]
    assert overlay.scenario.policies == want
    assert "Risk budget" in (folder / "report.html").read_text(encoding="utf-8")
    book = write_workbook(folder)
    assert book.name == "optimise.xlsx"
    sheet = pd.read_excel(book, sheet_name="frontier")
    pd.testing.assert_frame_equal(sheet, pd.read_csv(folder / "frontier.csv"),
                                  check_dtype=False)
    with pd.ExcelFile(book) as xlsx:
        assert "stress" in xlsx.sheet_names


def test_unknown_sector_and_variant_are_located(small: tuple[Path, Path]) -> None:
    small[1].write_text(LEVERS.replace("construction", "constrution")
                        + '[insurance]\nvariants = ["none", "covr"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        optimise_budget(load_config(small[0]), load_levers(small[1]),
                        options=RunOptions(paths=100))
    text = str(err.value)
    assert "levers.toml line 9" in text
    assert "did you mean 'construction'" in text.lower()
    assert "'covr'" in text


def test_cli_prints_the_recommendation(small: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["optimise", str(small[0]), "--levers", str(small[1]),
                                      "--paths", "1000", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("With a budget of ")
    assert (out / "frontier.csv").exists()


@pytest.mark.slow
def test_shipped_example_frontier() -> None:
    """The README's example, its whole frontier: 9 budgets, 8 simulated variants (no action
    and the three action policies × two collection spends) on 20,000 paths, and the variants
    the chosen mixes use again on an independent seed, within 5 minutes on 2 cores. (The
    README adds the regret under 9 stress scenarios of 10,000 paths: about 1.5 minutes more.)"""
    cfg = load_config(ROOT / "configs" / "example_actions.toml")
    lev = load_levers(ROOT / "configs" / "example_levers.toml")
    start = time.perf_counter()
    res = optimise_budget(cfg, lev)
    assert time.perf_counter() - start < 300
    assert res.summary["simulated_variants"] == 8
    f = res.frontier
    assert len(f) >= 8
    assert set(f["action"]) > {"none"}  # an action policy is bought somewhere
    for a, b in itertools.pairwise(f.itertuples()):
        assert b.objective_out <= a.objective_out + 2 * np.hypot(a.objective_out_se,
                                                                 b.objective_out_se)
    d = f[f["is_default"]].iloc[0]
    assert abs(d.objective_out - d.objective_in) <= 2 * np.hypot(d.objective_in_se,
                                                                 d.objective_out_se)


def test_action_overlay_merges_onto_the_scenario() -> None:
    base = ScenarioConfig.model_validate({"name": "b", "delays": {"shift_days": 5.0},
                                          "pd_multiplier": {"global": 1.5}})
    action = ScenarioConfig.model_validate({"name": "a", "pd_multiplier": {"sector":
                                                                           {"retail": 2.0}}})
    got = overlay_scenario(base, action, 3.0)
    assert got.name == "b"
    assert got.pd_multiplier.global_ == 1.5  # kept: the action does not set it
    assert got.pd_multiplier.sector == {"retail": 2.0}
    assert got.delays.shift_days == 2.0
    assert overlay_scenario(base, None, 0.0) is base


ACTION = """
name = "act"
[actions]
interest_collection_rate = 0.5
[[actions.levels]]
name = "green"
[[actions.levels]]
name = "amber"
collection_cost_per_invoice = 40
late_interest_rate = 0.1015
sales_retention = 0.9
[[actions.levels]]
name = "red"
stop_shipping = true
collection_cost_per_customer = 500
late_interest_rate = 0.1015
[[actions.rules]]
name = "slow"
level = "amber"
when = ["dbt > 12"]
[[actions.rules]]
name = "overdue"
level = "red"
when = ["oldest_overdue_days > 45"]
"""


def test_without_actions_the_action_cost_is_zero(small: tuple[Path, Path]) -> None:
    import portsim

    ds = portsim.run(load_config(small[0]), paths=300, threads=1, contributions=False)
    assert "collection_cost" not in ds
    plain = path_set(ds, ["cover"])
    np.testing.assert_array_equal(plain.lost_margin, 0.0)
    np.testing.assert_array_equal(plain.action_cost, 0.0)


def test_the_cost_of_an_action_policy_is_the_simulated_one(small: tuple[Path, Path]) -> None:
    """On a real run with an action policy (6-month horizon): the yearly cost the optimiser
    charges is (mean lost margin + mean collection cost − mean late-payment interest
    collected) / 0.5 years + the fixed cost, each term non-zero."""
    small[0].write_text(CONFIG.replace("horizon_months = 12", "horizon_months = 6"),
                        encoding="utf-8")
    (small[0].parent / "act.toml").write_text(ACTION, encoding="utf-8")
    small[1].write_text(LEVERS + '[[action]]\nname = "act"\nfile = "act.toml"\ncost = 1000\n',
                        encoding="utf-8")
    cfg, lev = load_config(small[0]), load_levers(small[1])
    act = load_scenario(lev.action_path(lev.action[0]), cfg.book.sectors)
    cfg = cfg.model_copy(update={"scenario": overlay_scenario(cfg.scenario, act, 0.0)})
    ds = run_with(cfg, RunOptions(paths=2000, threads=1, contributions=False))
    means = {v: float(ds[v].mean()) for v in ("lost_margin", "collection_cost",
                                              "late_interest")}
    assert all(m > 0 for m in means.values()), means
    ps = path_set(ds, ["cover"])
    assert ps.years == 0.5
    econ = economics(lev, load_book(cfg))
    mix = Mix(policy="none", variant=Variant("act"), shares=(0.0,))
    want = (means["lost_margin"] + means["collection_cost"] - means["late_interest"]) / 0.5
    assert cost(ps, econ, mix) == pytest.approx(want + 1000, rel=1e-12)
    m = measures(ps, econ, mix, 0.99)
    assert m["action_cost"] == pytest.approx(want, rel=1e-12)
    assert m["lost_margin"] == pytest.approx(means["lost_margin"] / 0.5, rel=1e-12)


def test_action_policies_are_simulated_levers(small: tuple[Path, Path]) -> None:
    folder = small[1].parent
    (folder / "faster.toml").write_text('name = "faster"\n[delays]\nterms_days = 15\n',
                                        encoding="utf-8")
    small[1].write_text(LEVERS + '[[action]]\nname = "short_terms"\nfile = "faster.toml"\n'
                        'cost = 1000\n', encoding="utf-8")
    lev = load_levers(small[1])
    res = optimise_budget(load_config(small[0]), lev,
                          options=RunOptions(paths=600, threads=1))
    assert res.summary["simulated_variants"] == 4  # 2 actions × 2 collection spends
    assert set(res.frontier["action"]) <= {"none", "short_terms"}
    assert res.frontier["action"].iloc[0] == "none"  # its fixed cost is not free
