"""Statistical tests of the engine against exact reference distributions (tests/reference.py).

Every tolerance is a Monte Carlo error: ``abs(estimate - exact) < 4 * se`` with the standard
error of the estimator, the exact value inside the distribution-free order-statistic band of
``mc_quantile_ci(z=4)``, or a chi-square goodness-of-fit p-value above ``P_MIN`` (the
significance level of every chi-square and KS test here). With 4 se a correct engine fails a
single comparison with probability about 6e-5; seeds are fixed, so the outcome is
deterministic, and no seed was chosen to make a test pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, special, stats

import portsim
from portsim.data import Book
from portsim.inputs.model import basel_asset_correlation, build_inputs
from reference import (
    es_discrete,
    independent_loss_distribution,
    mc_es_se,
    mc_mean_se,
    mc_quantile_ci,
    mc_tail_prob_se,
    mean_discrete,
    one_factor_count_distribution,
    one_factor_count_distribution_t,
    tail_prob,
    two_factor_loss_distribution,
    var_discrete,
    vasicek_quantile,
)

KERNELS = ["grouped", "per_customer"]
COPULAS = {"gaussian": {}, "student_t": {"copula": "student_t", "dof": 5.0}}
P_MIN = 1e-4  # significance level of the chi-square and KS tests
Z = 4.0  # width of every Monte Carlo band, in standard errors


def simulate(
    make_config: Any, book: Book, *, paths: int, seed: int, kernel: str,
    model: dict[str, Any] | None = None, threads: int = 2,
) -> xr.Dataset:
    cfg = make_config(model=model, simulation={"paths": paths, "seed": seed, "kernel": kernel,
                                               "chunk_paths": 16_384})
    return portsim.run(cfg, book, threads=threads)


def pooled_chi2(
    counts: np.ndarray, probs: np.ndarray, n: int, min_expected: float = 5.0
) -> tuple[float, int, float]:
    """Pearson chi-square with adjacent atoms pooled until each bin expects ``min_expected``.

    ``counts`` and ``probs`` are per atom, in increasing order of the value. Cochran's rule
    (every expected count >= 5) keeps the chi-square approximation of the statistic valid.

    Returns
    -------
    (statistic, degrees of freedom, p-value)
    """
    obs: list[float] = []
    exp: list[float] = []
    acc_o = acc_e = 0.0
    for o, p in zip(counts, probs, strict=True):
        acc_o += o
        acc_e += p * n
        if acc_e >= min_expected:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    if obs:  # the remainder (a thin upper tail) joins the last bin
        obs[-1] += acc_o
        exp[-1] += acc_e
    assert len(obs) >= 3, "too few bins for a chi-square test"
    o, e = np.asarray(obs), np.asarray(exp)
    stat = float(((o - e) ** 2 / e).sum())
    df = len(obs) - 1
    return stat, df, float(stats.chi2.sf(stat, df))


def assert_risk_measures(
    loss: np.ndarray, values: np.ndarray, probs: np.ndarray, levels: tuple[float, ...],
    metrics: dict[str, Any],
) -> None:
    """VaR (exact value inside the 4-sigma order-statistic band) and ES (within 4 se)."""
    for q in levels:
        key = f"{q:g}"
        exact_var = var_discrete(values, probs, q)
        lo, hi = mc_quantile_ci(loss, q, z=Z)
        assert lo <= exact_var <= hi, (q, exact_var, lo, hi)
        assert lo <= metrics["var"][key]["value"] <= hi
        exact_es = es_discrete(values, probs, q)
        es = metrics["es"][key]["value"]
        se = mc_es_se(loss, q)
        assert abs(es - exact_es) < Z * se, (q, es, exact_es, se)


# ------------------------------------------------------------------------------------------
# 1. Independent defaults: the exact convolution
# ------------------------------------------------------------------------------------------

# Integer exposures times binary-fraction LGDs: every loss e·lgd is an exact integer, so each
# simulated loss is exactly an atom of the convolution lattice.
IND_EXPOSURE = np.array([8, 12, 20, 16, 40, 24, 10, 30, 4, 48, 6, 14], dtype=float)
IND_LGD = np.array([0.5, 0.25, 0.75, 1.0, 0.125, 0.5, 1.0, 0.5, 0.75, 0.25, 0.5, 1.0])
IND_PD = np.array([0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5])


@pytest.mark.parametrize("kernel", KERNELS)
def test_independent_defaults_match_exact_convolution(
    kernel: str, make_book: Any, make_config: Any
) -> None:
    book = make_book(exposure=IND_EXPOSURE, lgd=IND_LGD, p_default=IND_PD, asset_correlation=0.0)
    n = 200_000
    ds = simulate(make_config, book, paths=n, seed=11, kernel=kernel, model={"factors": "single"})
    loss = ds["loss"].values
    values, probs = independent_loss_distribution(IND_EXPOSURE * IND_LGD, IND_PD)

    # Every simulated loss is a possible atom of the exact distribution.
    idx = np.rint(loss).astype(np.int64)
    np.testing.assert_array_equal(loss, idx.astype(float))
    assert probs[idx].min() > 0.0
    counts = np.bincount(idx, minlength=values.size)

    # Main atoms (P >= 0.01): frequency within 4 binomial standard errors.
    main = np.flatnonzero(probs >= 0.01)
    assert main.size >= 10
    for j in main:
        se = mc_tail_prob_se(probs[j], n)
        assert abs(counts[j] / n - probs[j]) < Z * se, (values[j], counts[j] / n, probs[j])

    # Goodness of fit over all atoms, pooled.
    _, df, p_value = pooled_chi2(counts, probs, n)
    assert df >= 20
    assert p_value > P_MIN

    # Expected loss, VaR, ES.
    metrics = portsim.summarize(ds, [0.95, 0.99, 0.999])
    exact_el = float(IND_EXPOSURE @ (IND_LGD * IND_PD))
    assert exact_el == pytest.approx(mean_discrete(values, probs), rel=1e-12)
    assert abs(metrics["expected_loss"]["value"] - exact_el) < Z * mc_mean_se(loss)
    assert metrics["expected_loss_analytic"] == pytest.approx(exact_el, rel=1e-12)
    assert_risk_measures(loss, values, probs, (0.95, 0.99, 0.999), metrics)

    # Each customer defaults with its own PD, whatever the others do.
    rate = ds["customer_default_rate"].values
    se = np.sqrt(IND_PD * (1 - IND_PD) / n)
    assert np.all(np.abs(rate - IND_PD) < Z * se)


@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_horizon_turns_one_year_pd_into_horizon_pd(
    kernel: str, copula: str, make_book: Any, make_config: Any
) -> None:
    # Constant hazard: P(default within T years) = 1 − (1 − p)^T, whatever the copula.
    p = np.array([0.01, 0.05, 0.2, 0.5])
    book = make_book(p_default=p, asset_correlation=0.1)
    n = 40_000
    for t in (0.25, 2.5):
        cfg = make_config(model={"factors": "single", "horizon_years": t, **COPULAS[copula]},
                          simulation={"paths": n, "seed": 77, "kernel": kernel})
        ds = portsim.run(cfg, book)
        p_t = 1 - (1 - p) ** t
        np.testing.assert_allclose(ds["p_horizon"].values, p_t, rtol=1e-14)
        rate = ds["customer_default_rate"].values
        assert np.all(np.abs(rate - p_t) < Z * np.sqrt(p_t * (1 - p_t) / n)), (t, rate, p_t)


# ------------------------------------------------------------------------------------------
# 2. Homogeneous one-factor book: the default-count distribution
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_one_factor_default_counts(
    kernel: str, copula: str, make_book: Any, make_config: Any
) -> None:
    n_cust, p, r, dof = 100, 0.02, 0.2, 5.0
    book = make_book(n_cust, p_default=p, asset_correlation=r)  # exposure 1, lgd 1
    n = 200_000
    ds = simulate(make_config, book, paths=n, seed=202, kernel=kernel,
                  model={"factors": "single", **COPULAS[copula]})
    counts_per_path = ds["n_defaults"].values
    loss = ds["loss"].values
    np.testing.assert_array_equal(loss, counts_per_path.astype(float))  # exposure·lgd = 1

    pmf = (one_factor_count_distribution(n_cust, p, r) if copula == "gaussian"
           else one_factor_count_distribution_t(n_cust, p, r, dof))
    k = np.arange(n_cust + 1, dtype=float)

    # Chi-square over pooled count bins.
    counts = np.bincount(counts_per_path, minlength=n_cust + 1)
    _, df, p_value = pooled_chi2(counts, pmf, n)
    assert df >= 10
    assert p_value > P_MIN

    # Mean and variance. se of the sample variance: sqrt((mu4 - sigma^4) / n) from the exact
    # central moments (the delta-method variance of s^2).
    mean = float(k @ pmf)
    var = float(((k - mean) ** 2) @ pmf)
    mu4 = float(((k - mean) ** 4) @ pmf)
    assert abs(counts_per_path.mean() - mean) < Z * mc_mean_se(counts_per_path)
    assert abs(counts_per_path.var(ddof=1) - var) < Z * math.sqrt((mu4 - var**2) / n)

    metrics = portsim.summarize(ds, [0.99, 0.999])
    assert_risk_measures(loss, k, pmf, (0.99, 0.999), metrics)


def test_t_copula_reference_differs_from_gaussian() -> None:
    """Power check: the t-copula tail is far outside the MC band of the Gaussian one (and so
    the test above would notice a t copula that silently fell back to the Gaussian)."""
    n_cust, p, r, n = 100, 0.02, 0.2, 200_000
    k = np.arange(n_cust + 1, dtype=float)
    g = one_factor_count_distribution(n_cust, p, r)
    t = one_factor_count_distribution_t(n_cust, p, r, 5.0)
    x = var_discrete(k, g, 0.999)
    pg, pt = tail_prob(k, g, x), tail_prob(k, t, x)
    assert abs(pt - pg) > 2 * Z * mc_tail_prob_se(pg, n)


# ------------------------------------------------------------------------------------------
# 3. Large homogeneous book: the Vasicek limit
# ------------------------------------------------------------------------------------------


def granularity_adjustment(p: float, r: float, q: float, n: int) -> float:
    """First-order granularity adjustment of the loss-fraction quantile (Martin & Wilde 2002).

    With X = -Y the systematic risk, l(x) = E[L | X = x] = Phi((Phi^-1(p) + sqrt(R) x) /
    sqrt(1 - R)) and v(x) = Var[L | X = x] = l (1 - l) / n:
    GA = -1 / (2 phi(x_q)) d/dx [phi(x) v(x) / l'(x)] at x_q = Phi^-1(q).
    """
    c, b, s = special.ndtri(p), math.sqrt(r), math.sqrt(1.0 - r)

    def h(x: float) -> float:
        u = (c + b * x) / s
        lx = special.ndtr(u)
        dl = stats.norm.pdf(u) * b / s
        return float(stats.norm.pdf(x) * lx * (1 - lx) / n / dl)

    xq, eps = float(special.ndtri(q)), 1e-4
    return -(h(xq + eps) - h(xq - eps)) / (2 * eps) / (2 * float(stats.norm.pdf(xq)))


@pytest.mark.parametrize("kernel", KERNELS)
def test_large_book_quantiles_near_vasicek(
    kernel: str, make_book: Any, make_config: Any
) -> None:
    n_cust, p, r = 5_000, 0.01, 0.15
    book = make_book(n_cust, p_default=p, asset_correlation=r)
    n = 100_000
    ds = simulate(make_config, book, paths=n, seed=303, kernel=kernel,
                  model={"factors": "single"})
    frac = ds["loss"].values / n_cust
    pmf = one_factor_count_distribution(n_cust, p, r)
    grid = np.arange(n_cust + 1) / n_cust
    for q in (0.99, 0.999):
        lo, hi = mc_quantile_ci(frac, q, z=Z)
        exact_n = var_discrete(grid, pmf, q)  # exact quantile of the finite book
        vasicek = vasicek_quantile(p, r, q)  # its n -> infinity limit
        # (a) The engine: the exact finite-n quantile lies in the 4-sigma MC band.
        assert lo <= exact_n <= hi, (q, exact_n, lo, hi)
        # (b) The finite-size gap is explained: exact_n = Vasicek + granularity adjustment
        # (O(1/n)) up to the lattice step 1/n of a lower quantile of a count distribution
        # and the O(n^-1.5) remainder (measured: 0.5 and 0.2 steps at q = 0.99, 0.999).
        gap = exact_n - vasicek
        assert abs(gap - granularity_adjustment(p, r, q, n_cust)) <= 1.0 / n_cust
        # (c) So the Vasicek value is within the MC band widened by the computed gap: the
        # honest tolerance of a "Vasicek vs simulation" comparison at this n.
        assert lo - abs(gap) <= vasicek <= hi + abs(gap)
        assert abs(gap) < 0.01 * vasicek  # and the gap is small: the limit is relevant here


# ------------------------------------------------------------------------------------------
# 4. Two sectors with correlated factors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_two_correlated_sectors_tail_probabilities(
    kernel: str, make_book: Any, make_config: Any
) -> None:
    n1, n2, p1, p2, r1, r2, rho = 40, 60, 0.03, 0.015, 0.2, 0.25, 0.6
    a, b = 1.0, 3.0  # loss per default: 2 × 0.5 in sector a, 4 × 0.75 in sector b
    book = make_book(
        sector=["a"] * n1 + ["b"] * n2,
        exposure=[2.0] * n1 + [4.0] * n2,
        lgd=[0.5] * n1 + [0.75] * n2,
        p_default=[p1] * n1 + [p2] * n2,
        asset_correlation=[r1] * n1 + [r2] * n2,
    )
    n = 200_000
    ds = simulate(make_config, book, paths=n, seed=404, kernel=kernel,
                  model={"factors": "sector", "correlation": {"default": rho}})
    loss = ds["loss"].values
    values, probs = two_factor_loss_distribution(n1, n2, p1, p2, r1, r2, rho, a, b)
    independent = two_factor_loss_distribution(n1, n2, p1, p2, r1, r2, 0.0, a, b)
    for q in (0.95, 0.99, 0.998):
        x = var_discrete(values, probs, q)
        exact = tail_prob(values, probs, x)
        se = mc_tail_prob_se(exact, n)
        est = float((loss > x).mean())
        assert abs(est - exact) < Z * se, (x, est, exact, se)
        # power: with uncorrelated sector factors the exceedance probability would lie
        # outside this band, so the test sees the factor correlation
        assert abs(tail_prob(*independent, x) - exact) > Z * se
    # Sector losses add up to the total on every path.
    np.testing.assert_allclose(ds["sector_loss"].sum("sector").values, loss, rtol=1e-12)
    np.testing.assert_array_equal(ds["sector_n_defaults"].sum("sector").values,
                                  ds["n_defaults"].values)


# ------------------------------------------------------------------------------------------
# 5. PD 0 and PD 1
# ------------------------------------------------------------------------------------------

PD_PATTERNS = {
    "all_zero": [0.0] * 6,
    "all_one": [1.0] * 6,
    "mixed": [0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
}


@pytest.mark.parametrize("pattern", list(PD_PATTERNS))
@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_pd_zero_never_and_pd_one_always_defaults(
    kernel: str, copula: str, pattern: str, make_book: Any, make_config: Any
) -> None:
    pd_ = np.array(PD_PATTERNS[pattern])
    exposure = np.array([100.0, 250.0, 40.0, 8.0, 16.0, 3.0])
    lgd = np.array([0.5, 0.25, 1.0, 0.75, 1.0, 0.5])
    book = make_book(sector=["a", "b", "a", "b", "a", "b"], exposure=exposure, lgd=lgd,
                     p_default=pd_, asset_correlation=[0.0, 0.1, 0.2, 0.3, 0.5, 0.9])
    n = 3_000
    ds = simulate(make_config, book, paths=n, seed=5, kernel=kernel,
                  model={"factors": "sector", **COPULAS[copula]}, threads=1)
    sure = pd_ == 1.0
    expected = float((exposure * lgd)[sure].sum())  # dyadic amounts: the sum is exact
    np.testing.assert_array_equal(ds["loss"].values, np.full(n, expected))
    np.testing.assert_array_equal(ds["n_defaults"].values, np.full(n, sure.sum()))
    np.testing.assert_array_equal(ds["customer_default_rate"].values, pd_)
    np.testing.assert_array_equal(ds["customer_expected_loss"].values, exposure * lgd * pd_)
    for s in ("a", "b"):
        in_s = np.array([c == s for c in ["a", "b", "a", "b", "a", "b"]])
        np.testing.assert_array_equal(ds["sector_loss"].sel(sector=s).values,
                                      np.full(n, float((exposure * lgd)[sure & in_s].sum())))
    metrics = portsim.summarize(ds, [0.99])
    assert metrics["var"]["0.99"]["value"] == expected
    assert metrics["es"]["0.99"]["value"] == expected


@pytest.mark.parametrize("kernel", KERNELS)
def test_pd_zero_and_one_beside_random_customers(
    kernel: str, make_book: Any, make_config: Any
) -> None:
    pd_ = np.array([0.0, 1.0, 0.2, 0.0, 1.0, 0.05, 0.5, 0.0])
    book = make_book(p_default=pd_, exposure=np.arange(1.0, 9.0), lgd=0.5, lgd_sd=0.2,
                     asset_correlation=0.3)
    ds = simulate(make_config, book, paths=4_000, seed=6, kernel=kernel,
                  model={"factors": "single", "lgd_factor_sensitivity": 0.5}, threads=1)
    rate = ds["customer_default_rate"].values
    np.testing.assert_array_equal(rate[pd_ == 0.0], 0.0)
    np.testing.assert_array_equal(rate[pd_ == 1.0], 1.0)
    assert np.all((rate[(pd_ > 0) & (pd_ < 1)] > 0) & (rate[(pd_ > 0) & (pd_ < 1)] < 1))
    np.testing.assert_array_equal(ds["customer_expected_loss"].values[pd_ == 0.0], 0.0)
    assert np.all(ds["n_defaults"].values >= 2)


# ------------------------------------------------------------------------------------------
# 6. LGD: Beta distribution and the PD–LGD link
# ------------------------------------------------------------------------------------------

LGD_PD = np.geomspace(0.005, 0.1, 30)
LGD_EXPOSURE = 1000.0 * (1 + np.arange(30) % 7)


@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_beta_lgd_keeps_expected_loss(
    kernel: str, copula: str, make_book: Any, make_config: Any
) -> None:
    book = make_book(p_default=LGD_PD, exposure=LGD_EXPOSURE, lgd=0.45, lgd_sd=0.25,
                     asset_correlation=0.12)
    ds = simulate(make_config, book, paths=100_000, seed=606, kernel=kernel,
                  model={"factors": "single", **COPULAS[copula]})
    loss = ds["loss"].values
    exact = float((LGD_EXPOSURE * 0.45 * LGD_PD).sum())
    assert abs(loss.mean() - exact) < Z * mc_mean_se(loss)


@pytest.mark.parametrize("kernel", KERNELS)
def test_beta_lgd_draws_follow_the_beta_distribution(
    kernel: str, make_book: Any, make_config: Any
) -> None:
    # PD 1 and one customer per sector: sector loss / exposure is one LGD draw per path.
    # (mean, sd) -> Beta(a, b) with a + b = mean (1 - mean) / sd^2 - 1; the last one has
    # a < 1 (the boosted gamma branch).
    params = [(0.45, 0.25), (0.1, 0.08), (0.2, 0.3)]
    book = make_book(sector=["a", "b", "c"], p_default=1.0, exposure=[10.0, 20.0, 40.0],
                     lgd=[m for m, _ in params], lgd_sd=[s for _, s in params])
    n = 50_000
    ds = simulate(make_config, book, paths=n, seed=616, kernel=kernel,
                  model={"factors": "sector"})
    for (m, sd), s, e in zip(params, ("a", "b", "c"), (10.0, 20.0, 40.0), strict=True):
        draws = ds["sector_loss"].sel(sector=s).values / e
        conc = m * (1 - m) / sd**2 - 1
        beta = stats.beta(m * conc, (1 - m) * conc)
        assert abs(draws.mean() - m) < Z * sd / math.sqrt(n)
        assert stats.kstest(draws, beta.cdf).pvalue > P_MIN


def linked_expected_loss(p: np.ndarray, e: np.ndarray, lgd: float, r: float,
                         kappa: float) -> float:
    """E[L] with the PD–LGD link of :func:`portsim.kernels.defaults.lgd_draw`, one Gaussian factor.

    E[1{default} m(Y)] = ∫ Φ((Φ⁻¹(p) − √R y)/√(1−R)) · Φ(Φ⁻¹(lgd)·√(1+κ²) − κ y) φ(y) dy.
    """
    a = special.ndtri(lgd) * math.sqrt(1 + kappa**2)
    total = 0.0
    for pi, ei in zip(p, e, strict=True):
        c = special.ndtri(pi)

        def f(y: float, c: float = c) -> float:
            return float(special.ndtr((c - math.sqrt(r) * y) / math.sqrt(1 - r))
                         * special.ndtr(a - kappa * y) * stats.norm.pdf(y))

        val, err = integrate.quad(f, -12, 12, epsabs=1e-13, epsrel=1e-11, limit=200)
        assert err < 1e-9
        total += ei * val
    return total


@pytest.mark.parametrize("kernel", KERNELS)
def test_pd_lgd_link_raises_loss_with_common_random_numbers(
    kernel: str, make_book: Any, make_config: Any
) -> None:
    r, lgd, kappa, n = 0.12, 0.45, 1.0, 100_000
    runs = {}
    for name, sd, link in (("fixed", 0.0, 0.0), ("fixed_linked", 0.0, kappa),
                           ("beta", 0.25, 0.0), ("beta_linked", 0.25, kappa)):
        book = make_book(p_default=LGD_PD, exposure=LGD_EXPOSURE, lgd=lgd, lgd_sd=sd,
                         asset_correlation=r)
        runs[name] = simulate(make_config, book, paths=n, seed=626, kernel=kernel,
                              model={"factors": "single", "lgd_factor_sensitivity": link})

    # Common random numbers: the LGD stream is separate, so defaults do not move at all.
    base = runs["fixed"]
    for other in runs.values():
        for var in ("n_defaults", "sector_n_defaults", "customer_default_rate"):
            np.testing.assert_array_equal(other[var].values, base[var].values, err_msg=var)

    # Linked EL equals its quadrature value (with or without Beta noise around m(Y)).
    exact_linked = linked_expected_loss(LGD_PD, LGD_EXPOSURE, lgd, r, kappa)
    exact_plain = float((LGD_EXPOSURE * lgd * LGD_PD).sum())
    assert exact_linked > 1.2 * exact_plain
    for name in ("fixed_linked", "beta_linked"):
        loss = runs[name]["loss"].values
        assert abs(loss.mean() - exact_linked) < Z * mc_mean_se(loss), name

    # The link raises EL (paired difference on common paths) and the tail.
    diff = runs["fixed_linked"]["loss"].values - base["loss"].values
    assert diff.mean() > Z * mc_mean_se(diff)
    plain = portsim.summarize(base, [0.99])
    linked = portsim.summarize(runs["fixed_linked"], [0.99])
    assert linked["var"]["0.99"]["value"] > plain["var"]["0.99"]["value"]
    assert linked["es"]["0.99"]["value"] > plain["es"]["0.99"]["value"]


# ------------------------------------------------------------------------------------------
# 7. Basel asset correlation
# ------------------------------------------------------------------------------------------

# R = 0.12·w + 0.24·(1 − w), w = (1 − e^(−50·PD)) / (1 − e^(−50)) (REFERENCE.md), by hand:
# PD 0.01: e^(−0.5) = 0.6065306597126334, w = 0.3934693402873666, R = 0.24 − 0.12·w
# PD 0.03: e^(−1.5) = 0.2231301601484298, w = 0.7768698398515702, R = 0.24 − 0.12·w
BASEL_R = {0.01: 0.24 - 0.12 * 0.3934693402873666, 0.03: 0.24 - 0.12 * 0.7768698398515702}


def test_basel_asset_correlation_hand_values() -> None:
    pds = np.array(list(BASEL_R))
    np.testing.assert_allclose(basel_asset_correlation(pds), list(BASEL_R.values()), rtol=1e-13)
    assert BASEL_R[0.01] == pytest.approx(0.19278368, abs=1e-8)
    assert BASEL_R[0.03] == pytest.approx(0.14677562, abs=1e-8)
    # The bounds: 0.24 at PD 0, 0.12 at PD 1, decreasing in between (flat to rounding above
    # PD 0.7, where e^(-50 PD) < 1e-15).
    np.testing.assert_allclose(basel_asset_correlation(np.array([0.0, 1.0])), [0.24, 0.12],
                               rtol=1e-15)
    grid = basel_asset_correlation(np.linspace(0, 1, 101))
    assert np.all(np.diff(grid[:60]) < 0)
    assert np.all(np.diff(grid) <= 0)


def test_basel_correlation_enters_as_loading_sqrt_r(make_book: Any, make_config: Any) -> None:
    # Blank R → Basel from the PD; a given R wins; the factor loading is √R, not R.
    book = make_book(p_default=[0.01, 0.03, 0.01], asset_correlation=[np.nan, np.nan, 0.24])
    inputs = build_inputs(book, make_config(model={"asset_correlation": "basel"}))
    r = np.array([BASEL_R[0.01], BASEL_R[0.03], 0.24])
    np.testing.assert_allclose(inputs.asset_correlation, r, rtol=1e-13)
    np.testing.assert_allclose(inputs.loading, np.sqrt(r), rtol=1e-13)
    np.testing.assert_allclose(inputs.idio, np.sqrt(1 - r), rtol=1e-13)
    assert inputs.loading[2] == pytest.approx(0.4899, abs=5e-5)  # REFERENCE.md example
    # A number in the config replaces the Basel formula for blank rows only.
    inputs = build_inputs(book, make_config(model={"asset_correlation": 0.3}))
    np.testing.assert_allclose(inputs.asset_correlation, [0.3, 0.3, 0.24], rtol=1e-15)
