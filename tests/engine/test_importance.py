"""Importance sampling of the tail (``tail_sampling = "importance"``) and weighted estimators.

Every tolerance is a Monte Carlo error: ``abs(estimate - exact) < Z * se`` with the weighted
estimator's own standard error (Z = 4: a correct engine fails one comparison with probability
about 6e-5). A VaR of a discrete loss is checked through the tail function, which is what its
estimator inverts: the estimated P(L > VaR_exact) must not exceed 1 - q, nor P(L >= VaR_exact)
fall below it, by more than Z se. Seeds are fixed and were not chosen to pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import integrate, special

import portsim
from portsim.engine.local import simulate
from portsim.errors import ConfigError
from portsim.inputs.importance import (
    conditional_expected_loss,
    exact_customer_moments,
    find_shift,
    sampling_default_probability,
)
from portsim.inputs.model import build_inputs
from portsim.results.estimators import (
    effective_sample_size,
    expected_shortfall,
    tail_probability,
    value_at_risk,
    weighted_expected_shortfall,
    weighted_value_at_risk,
)
from reference import (
    es_discrete,
    mean_discrete,
    one_factor_count_distribution,
    tail_prob,
    two_factor_loss_distribution,
    var_discrete,
)

Z = 4.0
N_ONE, P_ONE, R_ONE = 100, 0.01, 0.2  # the homogeneous one-factor book


def _cfg(make_config: Any, *, importance: bool, paths: int, seed: int = 3,
         model: dict[str, Any] | None = None, levels: tuple[float, ...] = (0.99, 0.999),
         **extra: Any) -> Any:
    sim = {"paths": paths, "seed": seed, "chunk_paths": 8192,
           "tail_sampling": "importance" if importance else "plain", "tail_level": 0.999}
    return make_config(model=model, simulation=sim, risk={"levels": list(levels)}, **extra)


def _check_against_exact(metrics: dict[str, Any], ds: Any, values: np.ndarray,
                         probs: np.ndarray, levels: tuple[float, ...]) -> None:
    loss = ds["loss"].values
    w = np.exp(ds["log_weight"].values) if "log_weight" in ds else np.ones(loss.size)
    el = metrics["expected_loss"]
    assert abs(el["value"] - mean_discrete(values, probs)) < Z * el["se"]
    for q in levels:
        key = f"{q:g}"
        es = metrics["es"][key]
        assert abs(es["value"] - es_discrete(values, probs, q)) < Z * es["se"], key
        v = var_discrete(values, probs, q)
        p_above, se_above = tail_probability(loss, v, w)
        below = values[values < v].max()  # the atom before the VaR: P(L > below) = P(L >= v)
        p_at, se_at = tail_probability(loss, below, w)
        assert p_above <= 1 - q + Z * se_above, key
        assert p_at >= 1 - q - Z * se_at, key
        for x in (v, 2 * v):  # tail probabilities against the exact ones
            p, se = tail_probability(loss, x, w)
            assert abs(p - tail_prob(values, probs, x)) < Z * max(se, 1e-12), (key, x)


# ------------------------------------------------------------------------------ the shift


def test_one_factor_shift_is_minus_the_normal_quantile(make_book: Any,
                                                       make_config: Any) -> None:
    x = build_inputs(make_book(n=50, p_default=0.02, asset_correlation=0.2),
                     make_config())
    th = find_shift(x, 0.999)
    np.testing.assert_allclose(th, [-special.ndtri(0.999)], rtol=1e-12)
    assert np.all(find_shift(x, 0.4) == 0.0)  # below the median: no shift


def test_multi_factor_shift_maximises_the_conditional_expected_loss(
    make_book: Any, make_config: Any
) -> None:
    """θ has norm Φ⁻¹(q), is parallel to ∇EL there (a stationary point on the sphere), and
    no random point of the sphere gives a larger conditional expected loss."""
    rng = np.random.default_rng(0)
    n = 300
    book = make_book(n=n, sector=rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1]),
                     p_default=rng.choice([0.005, 0.02, 0.08], size=n),
                     exposure=rng.lognormal(0, 1, n))
    x = build_inputs(book, make_config(model={"correlation": {"default": 0.4}}))
    th = find_shift(x, 0.995)
    radius = special.ndtri(0.995)
    assert math.isclose(float(np.linalg.norm(th)), radius, rel_tol=1e-12)
    el, g = conditional_expected_loss(x, th)
    assert float(g @ th) / (np.linalg.norm(g) * radius) > 1 - 1e-9
    u = rng.standard_normal((2000, th.size))
    u *= radius / np.linalg.norm(u, axis=1, keepdims=True)
    assert max(conditional_expected_loss(x, z)[0] for z in u) <= el * (1 + 1e-12)
    # the gradient agrees with finite differences
    h = 1e-6
    fd = [(conditional_expected_loss(x, th + h * e)[0]
           - conditional_expected_loss(x, th - h * e)[0]) / (2 * h) for e in np.eye(th.size)]
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_refusals(make_book: Any, make_config: Any) -> None:
    book = make_book(n=20, p_default=0.02, annual_sales=12.0)
    t_cfg = _cfg(make_config, importance=True, paths=10,
                 model={"copula": "student_t", "dof": 5.0})
    with pytest.raises(ConfigError, match="Student-t"):
        portsim.run(t_cfg, book)
    tl_cfg = _cfg(make_config, importance=True, paths=10,
                  timeline={"as_of": "2026-12-31", "horizon_months": 2}, actions={})
    with pytest.raises(ConfigError, match=r"\[actions\]"):
        portsim.run(tl_cfg, book)


def test_sampling_and_exact_customer_probabilities(make_book: Any, make_config: Any) -> None:
    book = make_book(n=3, p_default=[0.01, 0.1, 0.0], asset_correlation=0.25, lgd=0.4)
    x = build_inputs(book, make_config(model={"lgd_factor_sensitivity": 0.5}))
    th = np.array([-2.0])
    np.testing.assert_allclose(sampling_default_probability(x, th),
                               special.ndtr(x.threshold + 0.5 * 2.0))
    p, el = exact_customer_moments(x)
    np.testing.assert_allclose(p, x.p_horizon, rtol=1e-12)

    def integrand(y: float, i: int) -> float:  # E_Y[m(Y) Φ((c − √R Y)/√(1 − R))]
        m = special.ndtr(x.lgd_probit[i] * math.sqrt(1 + 0.25) - 0.5 * y)
        cond = special.ndtr((x.threshold[i] - 0.5 * y) / math.sqrt(0.75))
        return m * cond * math.exp(-y * y / 2) / math.sqrt(2 * math.pi)

    for i in range(2):
        want = integrate.quad(integrand, -12, 12, args=(i,), epsabs=1e-14)[0]
        assert math.isclose(el[i], want, rel_tol=1e-9)
    assert el[2] == 0.0


# ---------------------------------------------------------------- weighted estimators


def test_weighted_estimators_with_unit_weights_are_the_plain_ones() -> None:
    rng = np.random.default_rng(1)
    x = np.round(rng.gamma(0.3, 10, 5000))  # atoms, many zeros
    one = np.ones_like(x)
    for q in (0.5, 0.95, 0.999):
        assert weighted_value_at_risk(x, one, q)[0] == value_at_risk(x, q)[0]
        es_w, se_w = weighted_expected_shortfall(x, one, q)
        es, se = expected_shortfall(x, q)
        assert math.isclose(es_w, es, rel_tol=1e-12)
        assert math.isclose(se_w, se, rel_tol=1e-9)
    assert effective_sample_size(one) == x.size
    p, se = tail_probability(x, 3.0)
    assert p == np.mean(x > 3.0)
    assert math.isclose(se, math.sqrt(p * (1 - p) / (x.size - 1)), rel_tol=1e-12)


def test_weighted_estimators_reweight_a_known_distribution() -> None:
    """Exponential(1) losses sampled from Exponential(rate 1/3), weighted by the density
    ratio: the estimates recover the exact VaR, ES and tail probability."""
    rng = np.random.default_rng(2)
    n, q = 200_000, 0.999
    x = rng.exponential(3.0, n)
    w = np.exp(-x) / (np.exp(-x / 3.0) / 3.0)
    v_exact = -math.log(1 - q)
    v, lo, hi = weighted_value_at_risk(x, w, q)
    assert lo <= v_exact <= hi
    assert abs(v - v_exact) < Z * (hi - lo) / (2 * 1.959963984540054)
    es, se = weighted_expected_shortfall(x, w, q)
    assert abs(es - (v_exact + 1.0)) < Z * se
    p, se_p = tail_probability(x, 5.0, w)
    assert abs(p - math.exp(-5.0)) < Z * se_p


# ------------------------------------------------------------------- runs against exact


def test_one_factor_importance_sampling_matches_the_exact_distribution(
    make_book: Any, make_config: Any
) -> None:
    book = make_book(n=N_ONE, p_default=P_ONE, asset_correlation=R_ONE)
    cfg = _cfg(make_config, importance=True, paths=20_000)
    ds = portsim.run(cfg, book, contributions=False)
    m = portsim.summarize(ds)
    counts = one_factor_count_distribution(N_ONE, P_ONE, R_ONE)
    _check_against_exact(m, ds, np.arange(N_ONE + 1.0), counts, (0.99, 0.999))
    info = m["importance_sampling"]
    assert 0 < info["effective_sample_size"] < ds.sizes["path"]
    loss, w = ds["loss"].values, np.exp(ds["log_weight"].values)
    for key, tail_ess in info["tail_effective_sample_size"].items():
        beyond = loss > m["var"][key]["value"]
        # the Kish size of the weights beyond the VaR, at most their number
        assert tail_ess == effective_sample_size(w[beyond])
        assert 0 < tail_ess <= beyond.sum()
    assert set(info["tail_effective_sample_size"]) == set(m["var"])
    np.testing.assert_allclose(info["z_shift"], [-special.ndtri(0.999)])
    # the per-customer figures of an importance-sampling run are the exact ones
    np.testing.assert_allclose(ds["customer_default_rate"].values, P_ONE, rtol=1e-12)


def test_two_factor_importance_sampling_matches_the_exact_distribution(
    make_book: Any, make_config: Any
) -> None:
    n1 = n2 = 40
    book = make_book(n=n1 + n2, sector=["a"] * n1 + ["b"] * n2,
                     p_default=[0.01] * n1 + [0.03] * n2, exposure=[1.0] * n1 + [2.0] * n2,
                     asset_correlation=0.25)
    cfg = _cfg(make_config, importance=True, paths=20_000,
               model={"correlation": {"default": 0.5}})
    ds = portsim.run(cfg, book, contributions=False)
    values, probs = two_factor_loss_distribution(n1, n2, 0.01, 0.03, 0.25, 0.25, 0.5, 1.0, 2.0)
    _check_against_exact(portsim.summarize(ds), ds, values, probs, (0.99, 0.999))


def test_importance_sampling_agrees_with_plain_and_needs_fewer_paths(
    make_book: Any, make_config: Any
) -> None:
    """Same book, plain Monte Carlo with 10 × the paths: ES and VaR agree within the
    combined errors, and the importance-sampling ES error per √path is smaller."""
    book = make_book(n=N_ONE, p_default=P_ONE, asset_correlation=R_ONE, exposure=np.linspace(
        0.5, 1.5, N_ONE))
    n_is, n_plain = 10_000, 100_000
    m_is = portsim.summarize(portsim.run(_cfg(make_config, importance=True, paths=n_is),
                                         book, contributions=False))
    m_pl = portsim.summarize(portsim.run(_cfg(make_config, importance=False, paths=n_plain,
                                              seed=4), book, contributions=False))
    for key in ("0.99", "0.999"):
        a, b = m_is["es"][key], m_pl["es"][key]
        assert abs(a["value"] - b["value"]) < Z * math.hypot(a["se"], b["se"])
        va, vb = m_is["var"][key], m_pl["var"][key]
        assert abs(va["value"] - vb["value"]) < Z * math.hypot(va["se"], vb["se"])
    a, b = m_is["es"]["0.999"], m_pl["es"]["0.999"]
    assert a["se"] * math.sqrt(n_is) < b["se"] * math.sqrt(n_plain)
    el = m_is["expected_loss"]
    assert abs(el["value"] - m_is["expected_loss_analytic"]) < Z * el["se"]


def test_engine_log_weights_are_the_likelihood_ratio(make_book: Any,
                                                     make_config: Any) -> None:
    """With θ the mean of the weights is 1 and E_Q[w·Z] = E_P[Z] = 0 (within errors); the
    weights do not depend on the kernel."""
    book = make_book(n=30, p_default=0.05, asset_correlation=0.3)
    x = build_inputs(book, make_config(simulation={"kernel": "grouped"}))
    x = x._replace(z_shift=np.array([-1.5]))
    out = simulate(x, n_paths=50_000, seed=9, threads=2)
    w = np.exp(out.log_weight)
    assert abs(w.mean() - 1.0) < Z * w.std(ddof=1) / math.sqrt(w.size)
    skip = simulate(x._replace(kernel="skip"), n_paths=2000, seed=9, threads=1)
    np.testing.assert_array_equal(skip.log_weight, out.log_weight[:2000])
