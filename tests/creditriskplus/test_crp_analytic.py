"""The CreditRisk+ loss distribution against independent computations: numeric integration
over the gamma sector variables of the conditionally independent Poisson losses, the
moments of CSFB (1997), the negative binomial (compound) of a single sector by the Panjer
recursion, and the Euler contributions against ``E[ν_i·N_i | L]`` computed by brute force."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from portsim.config import CreditRiskPlusConfig, load_config
from portsim.creditriskplus.analytic import analyse, loss_distribution
from portsim.creditriskplus.model import CreditRiskPlusModel, build_model
from portsim.workflow.api import prepare

#: Grid of the brute-force computations, in loss units (mass beyond it below 1e-12).
GRID = 120


def small_book() -> CreditRiskPlusModel:
    """8 customers, 2 sectors, losses of 1 to 4 units, some idiosyncratic weight."""
    weights = np.array([[0.9, 0.0], [0.6, 0.3], [0.0, 1.0], [0.5, 0.5],
                        [1.0, 0.0], [0.0, 0.7], [0.2, 0.2], [0.0, 0.9]])
    return CreditRiskPlusModel(
        units=np.array([1, 2, 3, 4, 1, 2, 3, 4]),
        intensity=np.array([0.05, 0.02, 0.1, 0.03, 0.08, 0.04, 0.06, 0.01]),
        weights=weights, variance=np.array([0.8, 1.7]), unit=1.0,
        sector=np.array([0, 0, 1, 0, 0, 1, 0, 1]), sector_names=("a", "b"))


def gamma_nodes(variance: float, n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Laguerre nodes and weights of E[f(S)], S ~ Gamma(1/σ², scale σ²)."""
    shape = 1.0 / variance
    x, w = special.roots_genlaguerre(n, shape - 1.0)
    return x * variance, w / special.gamma(shape)


def poisson_loss(units: np.ndarray, lam: np.ndarray, *, size_bias: int = -1) -> np.ndarray:
    """P[Σ_i ν_i·N_i = m], N_i ~ Poisson(λ_i) independent, m < GRID, by convolution; with
    ``size_bias = i``, E[N_i·1{Σ_j ν_j·N_j = m}] instead."""
    pmf = np.zeros(GRID)
    pmf[0] = 1.0
    for i, (nu, la) in enumerate(zip(units, lam, strict=True)):
        one = np.zeros(GRID)
        counts = np.arange(0, (GRID - 1) // nu + 1)
        one[counts * nu] = stats.poisson.pmf(counts, la) * (counts if i == size_bias else 1)
        pmf = np.convolve(pmf, one)[:GRID]
    return pmf


def integrated(model: CreditRiskPlusModel,
               f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """E over both sector variables of ``f(λ(s))``, λ_i(s) = p_i·(w_i0 + Σ_k w_ik·s_k)."""
    (s1, w1), (s2, w2) = (gamma_nodes(v) for v in model.variance)
    total = 0.0
    for a, wa in zip(s1, w1, strict=True):
        for b, wb in zip(s2, w2, strict=True):
            lam = model.intensity * (model.idiosyncratic + model.weights @ np.array([a, b]))
            total = total + wa * wb * f(lam)
    return np.asarray(total)


def on_grid(pmf: np.ndarray) -> np.ndarray:
    """``pmf`` cut or padded with zeros to GRID units."""
    return np.pad(pmf, (0, max(GRID - pmf.size, 0)))[:GRID]


def test_pmf_matches_integration_over_the_gamma_densities() -> None:
    model = small_book()
    want = integrated(model, lambda lam: poisson_loss(model.units, lam))
    got, _ = loss_distribution(model)
    np.testing.assert_allclose(on_grid(got), want, rtol=0, atol=1e-10)
    assert got[GRID:].sum() < 1e-10


def test_mean_and_variance_are_csfb_s() -> None:
    rng = np.random.default_rng(3)
    n, k = 300, 3
    w = rng.dirichlet(np.ones(k + 1), n)[:, :k]  # rows sum below 1: some idiosyncratic
    model = CreditRiskPlusModel(
        units=rng.integers(1, 60, n), intensity=rng.uniform(0.001, 0.05, n), weights=w,
        variance=np.array([0.3, 1.0, 2.5]), unit=250.0,
        sector=rng.integers(0, k, n), sector_names=("a", "b", "c"))
    el = model.intensity @ model.units
    # σ² = Σ p_i·ν_i² + Σ_k σ_k²·(Σ_i w_ik·p_i·ν_i)² (CSFB, 1997, A7.3 for Poisson counts)
    var = (model.intensity @ model.units**2.0
           + model.variance @ ((model.intensity * model.units) @ w) ** 2)
    res = analyse(model, (0.99,))
    assert res.expected_loss == pytest.approx(el * model.unit, rel=1e-10)
    assert res.sd_loss == pytest.approx(np.sqrt(var) * model.unit, rel=1e-9)


def panjer_negative_binomial(r: float, beta: float, severity: np.ndarray) -> np.ndarray:
    """Compound negative binomial NB(r, β) with ``severity`` on 1, 2, … units (Panjer)."""
    a, b = beta / (1.0 + beta), (r - 1.0) * beta / (1.0 + beta)
    g = np.zeros(GRID)
    g[0] = (1.0 + beta) ** -r
    for x in range(1, GRID):
        j = np.arange(1, min(x, severity.size - 1) + 1)
        g[x] = np.sum((a + b * j / x) * severity[j] * g[x - j])
    return g


@pytest.mark.parametrize("variance", [0.25, 1.0, 4.0])
def test_one_sector_is_the_negative_binomial_compound(variance: float) -> None:
    units = np.array([1, 1, 2, 3, 3, 5])
    p = np.array([0.02, 0.05, 0.01, 0.03, 0.02, 0.04])
    model = CreditRiskPlusModel(units=units, intensity=p, weights=np.ones((6, 1)),
                                variance=np.array([variance]), unit=1.0,
                                sector=np.zeros(6, dtype=np.int64), sector_names=("s",))
    mu = p.sum()
    severity = np.bincount(units, weights=p / mu)
    want = panjer_negative_binomial(1.0 / variance, variance * mu, severity)
    got, _ = loss_distribution(model)
    np.testing.assert_allclose(on_grid(got), want, rtol=1e-9, atol=1e-15)


def test_one_sector_unit_losses_count_negative_binomial() -> None:
    p = np.full(50, 0.04)
    model = CreditRiskPlusModel(units=np.ones(50, dtype=np.int64), intensity=p,
                                weights=np.ones((50, 1)), variance=np.array([1.5]), unit=1.0,
                                sector=np.zeros(50, dtype=np.int64), sector_names=("s",))
    got, _ = loss_distribution(model)
    r = 1.0 / 1.5
    k = np.arange(60)
    np.testing.assert_allclose(got[:60], stats.nbinom.pmf(k, r, 1.0 / (1.0 + 1.5 * p.sum())),
                               rtol=1e-9, atol=1e-15)


LEVELS = (0.9, 0.99, 0.999)


def test_var_and_es_are_the_quantile_and_tail_mean_of_the_pmf() -> None:
    model = small_book()
    pmf = integrated(model, lambda lam: poisson_loss(model.units, lam))
    res = analyse(model, LEVELS)
    cdf = np.cumsum(pmf)
    for q, var, es in zip(LEVELS, res.var, res.es, strict=True):
        x = int(var)
        assert cdf[x] >= q > cdf[x - 1]
        tail = np.arange(x + 1, GRID) @ pmf[x + 1:]
        assert es == pytest.approx((tail + x * (cdf[x] - q)) / (1 - q), rel=1e-8)


def test_contributions_add_up_to_var_and_es() -> None:
    model = small_book()._replace(unit=37.5)
    res = analyse(model, LEVELS)
    np.testing.assert_allclose(res.var_contribution.sum(axis=1), res.var, rtol=1e-9)
    np.testing.assert_allclose(res.es_contribution.sum(axis=1), res.es, rtol=1e-9)
    np.testing.assert_allclose(res.sector_es_contribution.sum(axis=1), res.es, rtol=1e-9)
    np.testing.assert_allclose(res.sector_es_contribution[:, 1],
                               res.es_contribution[:, model.sector == 1].sum(axis=1))


def test_contributions_are_conditional_expectations_by_brute_force() -> None:
    """ν_i·E[N_i | L = VaR] and the ES form, from the joint law of (N_i, L) given the
    sectors, Σ_n n·P[N_i = n]·P[L − ν_i·N_i = x − n·ν_i], integrated over the gammas."""
    model = small_book()
    res = analyse(model, LEVELS)
    pmf = integrated(model, lambda lam: poisson_loss(model.units, lam))
    cdf = np.cumsum(pmf)

    def joint(lam: np.ndarray) -> np.ndarray:  # (n, GRID): E[N_i·1{L = m} | s]
        return np.stack([poisson_loss(model.units, lam, size_bias=i)
                         for i in range(lam.size)])

    both = integrated(model, joint)
    for j, q in enumerate(LEVELS):
        x = int(res.var[j])
        var_c = model.units * both[:, x] / pmf[x]
        np.testing.assert_allclose(res.var_contribution[j], var_c, rtol=1e-7, atol=1e-12)
        es_c = (model.units * both[:, x + 1:].sum(axis=1) + var_c * (cdf[x] - q)) / (1 - q)
        np.testing.assert_allclose(res.es_contribution[j], es_c, rtol=1e-7, atol=1e-12)


def test_the_shipped_example_takes_a_fraction_of_a_second() -> None:
    """2,000 customers, 10 sectors: the distribution, VaR, ES and every contribution (about
    5 ms when measured; the bound leaves room for a loaded machine)."""
    config = load_config(Path(__file__).resolve().parents[2] / "configs" / "example.toml")
    _, inputs = prepare(config)
    levels = tuple(config.risk.levels)
    start = time.perf_counter()
    res = analyse(build_model(inputs, CreditRiskPlusConfig()), levels)
    assert time.perf_counter() - start < 0.5
    assert res.expected_loss == pytest.approx(
        float(inputs.p_horizon @ (inputs.exposure * inputs.lgd_mean)), rel=1e-9)
    np.testing.assert_allclose(res.es_contribution.sum(axis=1), res.es, rtol=1e-7)
