"""Importance sampling on timeline runs: every per-path output weighted by the likelihood
ratio (cash-flow-at-risk, breach probabilities, collections, insurance), the weighted sums
over paths (expected flows, per-customer losses), and the estimators behind them.

Statistical checks compare an importance-sampling run with a plain run of other seeds, with
tolerances of 4 combined standard errors (fixed seeds).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import portsim
from portsim.engine.chunk import _weighted_customer_loss, run_chunk
from portsim.errors import ConfigError
from portsim.kernels.codes import EventKind
from portsim.results.estimators import (
    control_variate_mean,
    mean_se,
    value_at_risk,
    weighted_quantile,
)
from portsim.workflow.api import prepare

Z = 4.0
LEVEL = 0.995
COMPANY = {"opening_cash": 1.6e6, "credit_line": 8e5, "min_cash_buffer": 2e5,
           "fixed_outflows_monthly": 6e5, "cogs_share": 0.6, "dpo_days": 30, "dio_days": 20}
COVER = {"policies": {"cover": {"insured_percentage": 0.9, "discretionary_ceiling": 100_000,
                                "first_loss": 5_000,
                                "premium_rate": 0.003}}}


def _run(book: Any, make_timeline_config: Any, *, importance: bool, paths: int,
         seed: int) -> Any:
    cfg = make_timeline_config(
        simulation={"paths": paths, "seed": seed, "chunk_paths": 4096,
                    "tail_sampling": "importance" if importance else "plain",
                    "tail_level": 0.95},
        model={"correlation": {"default": 0.5}}, risk={"levels": [LEVEL]},
        company=COMPANY, insurance=COVER)
    return portsim.run(cfg, book, contributions=False)


@pytest.fixture(scope="module")
def runs(make_trade_book: Any, make_timeline_config: Any) -> tuple[Any, Any]:
    book = make_trade_book(60, p_default=0.03, asset_correlation=0.3,
                           derived={"credit_limit": lambda rng, e: (e * 1.2).round(-3)})
    plain = _run(book, make_timeline_config, importance=False, paths=20_000, seed=1)
    shifted = _run(book, make_timeline_config, importance=True, paths=4096, seed=2)
    return plain, shifted


def _close(a: dict[str, float], b: dict[str, float]) -> bool:
    return abs(a["value"] - b["value"]) < Z * math.hypot(a["se"], b["se"])


def test_cash_flow_at_risk_and_line_breach_agree_with_plain(runs: tuple[Any, Any]) -> None:
    plain, shifted = (portsim.summarize(ds)["cash"] for ds in runs)
    assert "importance_sampling" not in plain
    key = f"{LEVEL:g}"
    assert _close(shifted["cash_flow_at_risk"][key], plain["cash_flow_at_risk"][key])
    assert _close(shifted["p_line_breach"], plain["p_line_breach"])
    assert plain["p_line_breach"]["value"] > 0.005  # a probability the test can miss
    # the shift puts more paths in the tail: a smaller error from 5× fewer paths
    assert shifted["cash_flow_at_risk"][key]["se"] < plain["cash_flow_at_risk"][key]["se"]
    info = shifted["importance_sampling"]
    n = runs[1].sizes["path"]
    assert 0 < info["tail_effective_sample_size"][key] <= n
    assert 0 < info["line_breach_effective_sample_size"] <= n
    for name in ("dso_avg", "net_cash_flow", "min_cash"):
        assert _close(shifted[name], plain[name]), name


def test_weighted_means_of_per_path_outputs_are_unbiased(runs: tuple[Any, Any]) -> None:
    """Expected collections, write-offs and insured indemnity: the weighted means of an
    importance-sampling run against plain means; the expected flows per period (weighted
    sums over paths) add up to the plain weighted mean (1/n)·Σ w·x."""
    plain, shifted = runs
    w = np.exp(shifted["log_weight"].values)
    theta = np.asarray(shifted.attrs["z_shift"], dtype=float)
    proj = 0.5 * float(theta @ theta) - shifted["log_weight"].values
    for name in ("collected", "written_off", "invoiced"):
        est = control_variate_mean(shifted[name].values, w, proj, float(theta @ theta))
        assert _close(est, mean_se(plain[name].values)), name
        # the expected flows are the plain weighted sums (1/n)·Σ w·x over the periods
        if name != "invoiced":
            np.testing.assert_allclose(shifted[f"expected_{name}"].values.sum(),
                                       (w * shifted[name].values).mean(), rtol=1e-9)
    ins_p = portsim.summarize(plain)["insurance"]["policies"]["cover"]
    ins_s = portsim.summarize(shifted)["insurance"]["policies"]["cover"]
    assert ins_p["expected_indemnity"]["value"] > 0
    for key in ("expected_indemnity", "expected_retained_loss", "delta_p_line_breach"):
        assert _close(ins_s[key], ins_p[key]), key
    # per customer: the weighted loss sums add up to the weighted mean loss
    np.testing.assert_allclose(shifted["customer_expected_loss"].values.sum(),
                               (w * shifted["loss"].values).mean(), rtol=1e-6)
    # the default rate is the exact one under importance sampling
    np.testing.assert_allclose(shifted["customer_default_rate"].values,
                               shifted["p_horizon"].values, rtol=1e-6)


def test_customer_loss_from_the_claim_events_is_the_kernels_sum(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    """With unit weights the loss rebuilt from the insolvency and never-paid protracted
    events is the timeline kernel's own per-customer sum (to a cent per default)."""
    book = make_trade_book(40, p_default=0.2, asset_correlation=0.3)
    cfg = make_timeline_config(delays={"mean_days": 30, "sd_days": 20, "noise_days": 20,
                                       "factor_sensitivity_days": 0},
                               timeline={"as_of": "2026-12-31", "horizon_months": 12,
                                         "protracted_default_days": 30})
    _, x = prepare(cfg, book)
    res = run_chunk(x, 5, 256, 768)
    rebuilt = _weighted_customer_loss(x.n_customers, res, np.ones(512))
    assert res.customer_loss.sum() > 0
    assert res.events_int is not None
    never = (res.events_int[:, 4] == EventKind.PROTRACTED) & (res.events_int[:, 3] == -1)
    assert never.any()  # protracted, then never paid: part of the loss
    assert np.all(np.abs(rebuilt - res.customer_loss) <= res.customer_n_defaults + 1)
    # and the per-path weights are applied path by path
    w = np.where(np.arange(512) % 2 == 0, 2.0, 0.0)
    even = _weighted_customer_loss(x.n_customers, res, w)
    assert 0 < even.sum() < 2 * rebuilt.sum() + x.n_customers
    loss_even = 2.0 * res.loss[::2].sum() * 100.0
    assert abs(even.sum() - loss_even) <= 2 * res.customer_n_defaults.sum() + 1


def test_refusals(make_trade_book: Any, make_timeline_config: Any) -> None:
    book = make_trade_book(20, p_default=0.02)
    cfg = make_timeline_config(simulation={"paths": 10, "tail_sampling": "importance"},
                               actions={})
    with pytest.raises(ConfigError, match=r"not supported with \[actions\]"):
        portsim.run(cfg, book)


def test_control_variate_mean_of_a_known_distribution() -> None:
    """Z' ~ N(θ, 1), x = Z'² + 5 has mean 6 under N(0, 1); the control-variate mean finds
    it within its standard error, with a smaller error than (1/n)·Σ w·x."""
    rng = np.random.default_rng(11)
    th, n = -1.5, 40_000
    z = rng.standard_normal(n) + th
    lw = -th * z + 0.5 * th * th
    w, proj = np.exp(lw), 0.5 * th * th - lw
    est = control_variate_mean(z**2 + 5.0, w, proj, th * th)
    plain = mean_se(w * (z**2 + 5.0))
    assert abs(est["value"] - 6.0) < Z * est["se"]
    assert est["se"] < plain["se"]
    assert control_variate_mean(z, np.ones(n), z, 0.0) == mean_se(z)  # no shift: the mean


def test_weighted_quantile_uses_the_nearer_tail() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(10_001)
    ones = np.ones_like(x)
    for q in (0.01, 0.3, 0.7, 0.99):
        assert abs(weighted_quantile(x, ones, q) - value_at_risk(x, q)[0]) <= 2e-3 * 4
    # a low quantile only sees the paths below it: weights above it do not move it
    w = np.where(x > 0, 0.5, 1.0)
    assert weighted_quantile(x, w, 0.05) == weighted_quantile(x, ones, 0.05)
