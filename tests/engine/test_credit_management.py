"""Credit management through the engine: identities on every path, the summary, common
random numbers against the run without actions, and the scenario's [actions]."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import portsim
from portsim.inputs.model import build_inputs
from portsim.results.metrics import risk_metrics

ACTIONS = {
    "levels": [{"name": "green"},
               {"name": "amber", "terms_days": 20, "prepaid_share": 0.2,
                "sales_retention": 0.9, "collection_shift_days": 5,
                "collection_cost_per_customer": 50, "late_interest_rate": 0.1015},
               {"name": "red", "stop_shipping": True}],
    "rules": [{"name": "slow", "level": "amber", "when": ["dbt > 10"]},
              {"name": "late", "level": "red", "when": ["oldest_overdue_days > 45"]}],
    "interest_collection_rate": 0.5,
}


def _run(make_trade_book: Any, make_timeline_config: Any, **sections: Any) -> Any:
    book = make_trade_book(n=60, p_default=0.1, credit_limit=20_000.0)
    cfg = make_timeline_config(
        delays={"mean_days": 12, "sd_days": 10, "noise_days": 10, "factor_sensitivity_days": 5},
        simulation={"paths": 600, "seed": 5, "chunk_paths": 256},
        timeline={"as_of": "2026-12-31", "delay_credit_link": 0.5,
                  "predefault_drift_days": 40}, **sections)
    return portsim.run(cfg, book), build_inputs(book, cfg), cfg


def test_actions_keep_the_accounting_identity_and_the_defaults(
        make_trade_book: Any, make_timeline_config: Any) -> None:
    plain, x, _ = _run(make_trade_book, make_timeline_config)
    acted, _, cfg = _run(make_trade_book, make_timeline_config, actions=ACTIONS)
    tl = x.timeline
    assert tl is not None
    # the same customers default on the same paths (common random numbers)
    np.testing.assert_array_equal(plain["n_defaults"].values, acted["n_defaults"].values)
    assert not plain["lost_sales"].any()
    assert "n_alerts" not in plain
    # planned = invoiced + lost to credit management + not issued after a default; what is
    # invoiced is collected (prepayments included), written off or still open
    lhs = tl.opening_ar + acted["invoiced"].values
    rhs = (acted["collected"].values + acted["written_off"].values
           + acted["still_open"].values)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    assert np.all(acted["invoiced"].values + acted["lost_sales"].values
                  <= tl.planned_issued.sum() + 1e-6)
    np.testing.assert_allclose(acted["lost_margin"].values,
                               acted["lost_sales"].values * (1 - 0.6), rtol=1e-12)
    assert float(acted["lost_sales"].mean()) > 0
    assert float(acted["late_interest"].mean()) > 0
    np.testing.assert_array_equal(acted["n_alerts"].values, acted["n_true_alerts"].values
                                  + acted["n_false_alerts"].values)
    true = acted["n_true_alerts"].values > 0
    assert true.any()
    assert np.all(acted["lead_time_days"].values[true] > 0)
    assert np.isnan(acted["lead_time_days"].values[~true]).all()
    # every customer not yet defaulted is at one level at each period end
    counts = acted["customers_at_level"].sum("alert_level").values
    assert np.all(counts <= 60)
    assert counts[0] > 50
    summary = risk_metrics(acted, cfg.risk.levels)["actions"]
    assert summary["mode"] == "actions"
    assert 0 < summary["hit_rate"]["value"] <= 1
    assert summary["lost_margin"]["value"] == pytest.approx(
        float(acted["lost_margin"].mean()), rel=1e-12)


def test_a_scenario_brings_its_actions(make_trade_book: Any, make_timeline_config: Any
                                       ) -> None:
    via_config, _, _ = _run(make_trade_book, make_timeline_config, actions=ACTIONS)
    via_scenario, _, _ = _run(make_trade_book, make_timeline_config,
                              scenario={"name": "acting", "actions": ACTIONS})
    for name in ("loss", "lost_sales", "late_interest", "n_alerts", "min_cash"):
        np.testing.assert_array_equal(via_config[name].values, via_scenario[name].values)


@pytest.mark.slow
def test_the_shipped_action_policies_run_as_a_batch(tmp_path: Any) -> None:
    from pathlib import Path

    import xarray as xr
    from typer.testing import CliRunner

    from portsim.cli import app

    root = Path(__file__).resolve().parents[2]
    res = CliRunner().invoke(app, [
        "run", str(root / "configs" / "example_actions.toml"), "--scenario",
        str(root / "scenarios" / "actions" / "*.toml"), "--paths", "256", "--out",
        str(tmp_path / "batch"), "--quiet"])
    assert res.exit_code == 0, res.output

    def ds(name: str) -> xr.Dataset:
        return xr.load_dataset(tmp_path / "batch" / "scenarios" / name / "results.nc")

    base, stop, prepay, terms, insurer = (ds(n) for n in (
        "baseline", "red_stop_shipping", "red_prepayment", "amber_tighter_terms",
        "insurer_cancels_red"))
    assert not base["lost_sales"].any()
    assert "n_alerts" not in base
    for acted in (stop, prepay, terms):
        np.testing.assert_array_equal(acted["n_defaults"].values, base["n_defaults"].values)
        assert float(acted["lost_sales"].mean()) > 0
        assert np.all(acted["loss"].values <= base["loss"].values + 1e-6)
    assert float(prepay["late_interest"].mean()) > 0
    # the insurer's reaction changes the cover only
    np.testing.assert_array_equal(insurer["loss"].values, base["loss"].values)
    assert np.all(insurer["indemnity"].values <= base["indemnity"].values + 1e-6)
    assert float(insurer["indemnity"].sum()) < float(base["indemnity"].sum())
