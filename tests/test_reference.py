"""Tests of the reference distributions in ``tests/reference.py`` against independent results.

Every check compares with something computed another way: brute-force enumeration, closed-form
moments (bivariate normal CDF), scipy's binomial, adaptive ``scipy.integrate.quad``, limits in
the parameters, or the same quadrature with every panel halved.
"""

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from reference import (
    _binom_pmf_rows,
    _mixed_binomial,
    _one_factor_t,
    _two_factor_counts,
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
    two_factor_count_distribution,
    two_factor_loss_distribution,
    var_discrete,
    vasicek_quantile,
)


def _bvn_cdf(x1: float, x2: float, r: float) -> float:
    """Bivariate standard normal CDF with correlation r (scipy's exact 2-D algorithm)."""
    return float(stats.multivariate_normal.cdf([x1, x2], mean=[0.0, 0.0], cov=[[1, r], [r, 1]]))


def _moments(probs: np.ndarray) -> tuple[float, float]:
    k = np.arange(probs.size, dtype=np.float64)
    mean = float(k @ probs)
    return mean, float(((k - mean) ** 2) @ probs)


# --------------------------------------------------------------------------------------------
# binomial pmf and independent convolution


@pytest.mark.parametrize("n", [1, 2, 7, 16, 17, 100, 1000])
@pytest.mark.parametrize("p", [1e-12, 1e-4, 0.02, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9])
def test_binomial_pmf_matches_scipy(n: int, p: float) -> None:
    ours = _binom_pmf_rows(n, np.array([math.log(p)]), np.array([math.log1p(-p)]))[0]
    exact = stats.binom.pmf(np.arange(n + 1), n, p)
    assert abs(ours.sum() - 1.0) < 1e-14
    big = exact > 1e-250
    np.testing.assert_allclose(ours[big], exact[big], rtol=2e-12, atol=0)
    assert np.all(ours[~big] < 1e-240)


def test_binomial_pmf_survives_underflowing_pd() -> None:
    # p = Phi(-40) ~ 3.7e-350 underflows as a float; log p does not.
    log_p = special.log_ndtr(np.array([-40.0]))
    ours = _binom_pmf_rows(5, log_p, special.log_ndtr(np.array([40.0])))[0]
    assert ours[0] == 1.0
    assert 0.0 <= ours[1] < 1e-300


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_convolution_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 10
    amounts = rng.integers(0, 21, size=n).astype(float)
    amounts[0] = 0.0
    p = rng.uniform(0.0, 1.0, size=n)
    p[1], p[2] = 0.0, 1.0
    values, probs = independent_loss_distribution(amounts, p, 1.0)
    assert values.shape == probs.shape == (int(amounts.sum()) + 1,)
    np.testing.assert_array_equal(values, np.arange(amounts.sum() + 1))

    brute = np.zeros_like(probs)
    for outcome in itertools.product((0, 1), repeat=n):
        d = np.array(outcome, dtype=bool)
        brute[int(amounts[d].sum())] += np.prod(np.where(d, p, 1.0 - p))
    np.testing.assert_allclose(probs, brute, rtol=0, atol=1e-15)
    assert abs(probs.sum() - 1.0) < 1e-14


def test_convolution_on_a_fractional_grid() -> None:
    values, probs = independent_loss_distribution([0.25, 0.5, 0.75], [0.1, 0.2, 0.3], 0.25)
    np.testing.assert_allclose(values, 0.25 * np.arange(7))
    # L = 0.75 from {0.25, 0.5} both or {0.75} alone: 0.1*0.2*0.7 + 0.9*0.8*0.3
    assert probs[3] == pytest.approx(0.1 * 0.2 * 0.7 + 0.9 * 0.8 * 0.3, abs=1e-16)
    assert mean_discrete(values, probs) == pytest.approx(0.025 + 0.1 + 0.225, abs=1e-15)


@pytest.mark.parametrize(
    ("amounts", "p", "grid"),
    [([1.0, 2.5], [0.1, 0.1], 1.0), ([1.0, -1.0], [0.1, 0.1], 1.0), ([1.0], [1.5], 1.0)],
)
def test_convolution_rejects_bad_input(amounts: list[float], p: list[float], grid: float) -> None:
    with pytest.raises(ValueError, match=r"."):
        independent_loss_distribution(amounts, p, grid)


# --------------------------------------------------------------------------------------------
# one-factor Gaussian


@pytest.mark.parametrize(
    ("n", "p", "R"),
    [(1, 0.3, 0.5), (50, 0.02, 0.24), (200, 0.001, 0.12), (1000, 0.05, 0.3), (300, 0.2, 0.95)],
)
def test_one_factor_moments(n: int, p: float, R: float) -> None:
    probs = one_factor_count_distribution(n, p, R)
    assert probs.shape == (n + 1,)
    assert np.all(probs >= 0)
    assert abs(probs.sum() - 1.0) < 1e-13
    mean, var = _moments(probs)
    assert mean == pytest.approx(n * p, rel=1e-12)
    c = special.ndtri(p)
    exact_var = n * p * (1 - p) + n * (n - 1) * (_bvn_cdf(c, c, R) - p * p)
    assert var == pytest.approx(exact_var, rel=1e-10)


def test_one_factor_matches_adaptive_quadrature() -> None:
    n, p, R = 12, 0.05, 0.3
    c, b, s = special.ndtri(p), math.sqrt(R), math.sqrt(1 - R)
    probs = one_factor_count_distribution(n, p, R)
    for k in range(n + 1):

        def integrand(z: float, k: int = k) -> float:
            return stats.binom.pmf(k, n, special.ndtr((c - b * z) / s)) * stats.norm.pdf(z)

        exact, _ = integrate.quad(integrand, -12, 12, epsabs=1e-16, epsrel=1e-12, limit=200)
        assert probs[k] == pytest.approx(exact, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("n", "p", "R"),
    [(100, 0.02, 0.24), (3000, 1e-4, 0.2), (2000, 0.3, 0.5), (200, 0.05, 0.999), (500, 0.5, 1e-6)],
)
def test_one_factor_quadrature_is_converged(n: int, p: float, R: float) -> None:
    args = (n, np.array([special.ndtri(p)]), math.sqrt(R), math.sqrt(1 - R))
    base = _mixed_binomial(*args)[0]
    fine = _mixed_binomial(*args, refine=2.0)[0]
    assert np.max(np.abs(base - fine)) < 1e-14
    assert abs(base.sum() - 1.0) < 1e-13


def test_one_factor_tiny_correlation_is_binomial() -> None:
    n, p = 60, 0.03
    probs = one_factor_count_distribution(n, p, 1e-12)
    np.testing.assert_allclose(probs, stats.binom.pmf(np.arange(n + 1), n, p), rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        one_factor_count_distribution(n, p, 0.0),
        stats.binom.pmf(np.arange(n + 1), n, p),
        rtol=0,
        atol=1e-15,
    )


def test_one_factor_degenerate_cases() -> None:
    np.testing.assert_array_equal(one_factor_count_distribution(4, 0.0, 0.3), [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(one_factor_count_distribution(4, 1.0, 0.3), [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(one_factor_count_distribution(0, 0.2, 0.3), [1.0])
    for bad in [(3, 0.1, 1.0), (3, 1.1, 0.2), (-1, 0.1, 0.2), (2.5, 0.1, 0.2)]:
        with pytest.raises(ValueError, match=r"must be"):
            one_factor_count_distribution(*bad)


# --------------------------------------------------------------------------------------------
# one-factor t


def test_t_with_huge_dof_is_gaussian() -> None:
    n, p, R = 80, 0.02, 0.24
    gauss = one_factor_count_distribution(n, p, R)
    np.testing.assert_allclose(
        one_factor_count_distribution_t(n, p, R, 1e6), gauss, rtol=0, atol=1e-4
    )
    np.testing.assert_array_equal(one_factor_count_distribution_t(n, p, R, math.inf), gauss)


@pytest.mark.parametrize(("n", "p", "R", "dof"), [(60, 0.02, 0.24, 4.0), (150, 0.01, 0.1, 1.0)])
def test_t_moments(n: int, p: float, R: float, dof: float) -> None:
    probs = one_factor_count_distribution_t(n, p, R, dof)
    assert abs(probs.sum() - 1.0) < 1e-13
    mean, var = _moments(probs)
    assert mean == pytest.approx(n * p, rel=1e-12)
    # P(two given customers default) = E_W[Phi2(c_W, c_W; R)], c_W = t^-1(p) sqrt(W / dof),
    # by adaptive quadrature over W (a different route from the normal-score GL rule).
    ct = special.stdtrit(dof, p)

    def joint(v: float) -> float:  # v = sqrt(W): the chi2 density times dW/dv = 2v is finite
        cw = ct * v / math.sqrt(dof)
        return _bvn_cdf(cw, cw, R) * stats.chi2.pdf(v * v, dof) * 2.0 * v

    pair, _ = integrate.quad(joint, 0, np.inf, epsabs=1e-16, epsrel=1e-12, limit=200)
    exact_var = n * p * (1 - p) + n * (n - 1) * (pair - p * p)
    assert var == pytest.approx(exact_var, rel=1e-8)


def test_t_zero_correlation_matches_adaptive_quadrature_over_w() -> None:
    # R = 0: defaults are still dependent through W; P(K = k) = E_W[Bin(k; n, Phi(c_W))].
    n, p, dof = 15, 0.05, 3.0
    ct = special.stdtrit(dof, p)
    probs = one_factor_count_distribution_t(n, p, 0.0, dof)
    for k in range(n + 1):

        def integrand(w: float, k: int = k) -> float:
            pd = special.ndtr(ct * math.sqrt(w / dof))
            return stats.binom.pmf(k, n, pd) * stats.chi2.pdf(w, dof)

        exact, _ = integrate.quad(integrand, 0, np.inf, epsabs=1e-16, epsrel=1e-12, limit=200)
        assert probs[k] == pytest.approx(exact, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("n", "p", "R", "dof"), [(100, 0.01, 0.12, 1.0), (300, 0.3, 0.9, 2.5)])
def test_t_quadrature_is_converged(n: int, p: float, R: float, dof: float) -> None:
    base = _one_factor_t(n, p, R, dof)
    fine = _one_factor_t(n, p, R, dof, refine=2.0)
    assert np.max(np.abs(base - fine)) < 1e-14


# --------------------------------------------------------------------------------------------
# two-factor


def test_two_factor_perfect_correlation_is_one_factor() -> None:
    n1, n2, p, R = 30, 45, 0.03, 0.2
    joint = two_factor_count_distribution(n1, n2, p, p, R, R, 1.0)
    total = np.zeros(n1 + n2 + 1)
    for k1 in range(n1 + 1):
        total[k1 : k1 + n2 + 1] += joint[k1]
    np.testing.assert_allclose(
        total, one_factor_count_distribution(n1 + n2, p, R), rtol=0, atol=1e-12
    )


def test_two_factor_zero_correlation_is_independent() -> None:
    args = (20, 35, 0.1, 0.01, 0.3, 0.05)
    joint = two_factor_count_distribution(*args, 0.0)
    m1 = one_factor_count_distribution(20, 0.1, 0.3)
    m2 = one_factor_count_distribution(35, 0.01, 0.05)
    np.testing.assert_allclose(joint, np.outer(m1, m2), rtol=0, atol=1e-14)


@pytest.mark.parametrize("rho", [0.5, -0.4, 0.999])
def test_two_factor_marginals_and_covariance(rho: float) -> None:
    n1, n2, p1, p2, R1, R2 = 40, 25, 0.02, 0.05, 0.24, 0.12
    joint = two_factor_count_distribution(n1, n2, p1, p2, R1, R2, rho)
    assert abs(joint.sum() - 1.0) < 1e-13
    np.testing.assert_allclose(
        joint.sum(axis=1), one_factor_count_distribution(n1, p1, R1), rtol=0, atol=1e-13
    )
    np.testing.assert_allclose(
        joint.sum(axis=0), one_factor_count_distribution(n2, p2, R2), rtol=0, atol=1e-13
    )
    k1, k2 = np.arange(n1 + 1), np.arange(n2 + 1)
    cov = k1 @ joint @ k2 - (n1 * p1) * (n2 * p2)
    # Latent correlation across sectors: sqrt(R1 R2) * rho.
    pair = _bvn_cdf(special.ndtri(p1), special.ndtri(p2), math.sqrt(R1 * R2) * rho)
    assert cov == pytest.approx(n1 * n2 * (pair - p1 * p2), rel=1e-9, abs=1e-12)


def test_two_factor_quadrature_is_converged() -> None:
    args = (120, 80, 0.01, 0.03, 0.2, 0.3, 0.6)
    base = _two_factor_counts(*args)
    fine = _two_factor_counts(*args, refine=2.0)
    assert np.max(np.abs(base - fine)) < 1e-14


def test_two_factor_loss_lattice() -> None:
    n1, n2 = 6, 4
    args = (n1, n2, 0.1, 0.2, 0.3, 0.2, 0.4)
    joint = two_factor_count_distribution(*args)
    values, probs = two_factor_loss_distribution(*args, 2.0, 3.0)
    assert np.all(np.diff(values) > 0)
    expected: dict[float, float] = {}
    for k1, k2 in itertools.product(range(n1 + 1), range(n2 + 1)):
        expected[2.0 * k1 + 3.0 * k2] = expected.get(2.0 * k1 + 3.0 * k2, 0.0) + joint[k1, k2]
    np.testing.assert_array_equal(values, sorted(expected))
    np.testing.assert_allclose(probs, [expected[v] for v in sorted(expected)], atol=1e-16)
    assert mean_discrete(values, probs) == pytest.approx(2.0 * 0.6 + 3.0 * 0.8, rel=1e-13)
    # Merging within rounding: 0.1 * 3 and 0.3 * 1 are one atom.
    values, probs = two_factor_loss_distribution(3, 1, 0.1, 0.2, 0.3, 0.2, 0.4, 0.1, 0.3)
    assert values.size == np.unique(np.round(values, 9)).size
    assert abs(probs.sum() - 1.0) < 1e-14


def test_two_factor_degenerate_pd() -> None:
    joint = two_factor_count_distribution(3, 5, 0.0, 0.05, 0.2, 0.2, 0.5)
    np.testing.assert_array_equal(joint[1:], 0.0)
    np.testing.assert_allclose(joint[0], one_factor_count_distribution(5, 0.05, 0.2))


# --------------------------------------------------------------------------------------------
# Vasicek limit


@pytest.mark.parametrize(("p", "R", "q", "lgd"), [(0.02, 0.24, 0.999, 0.45), (0.2, 0.05, 0.9, 1.0)])
def test_vasicek_quantile_by_direct_quadrature(p: float, R: float, q: float, lgd: float) -> None:
    x = vasicek_quantile(p, R, q, lgd)
    c = special.ndtri(p)

    def fraction(y: float) -> float:  # large-portfolio loss fraction given the factor Y = y
        return lgd * special.ndtr((c - math.sqrt(R) * y) / math.sqrt(1 - R))

    # fraction() decreases in y, so {fraction <= x} = {Y >= y*}.
    y_star = optimize.brentq(lambda y: fraction(y) - x, -20, 20, xtol=1e-14)
    prob, _ = integrate.quad(stats.norm.pdf, y_star, np.inf, epsabs=1e-15)
    assert prob == pytest.approx(q, abs=1e-11)


def test_vasicek_is_the_large_n_limit() -> None:
    n, p, R, q = 4000, 0.02, 0.2, 0.99
    probs = one_factor_count_distribution(n, p, R)
    finite = var_discrete(np.arange(n + 1) / n, probs, q)
    assert finite == pytest.approx(vasicek_quantile(p, R, q), abs=2e-3)


def test_vasicek_edges_and_broadcasting() -> None:
    assert vasicek_quantile(0.03, 0.0, 0.999, 0.5) == pytest.approx(0.015, rel=1e-15)
    assert vasicek_quantile(0.0, 0.2, 0.99) == 0.0
    out = vasicek_quantile(0.01, [0.1, 0.2], 0.999)
    assert out.shape == (2,)
    assert out[1] > out[0]
    with pytest.raises(ValueError, match=r"q must be"):
        vasicek_quantile(0.01, 0.2, 1.0)


# --------------------------------------------------------------------------------------------
# discrete risk measures


def test_hand_worked_var_es() -> None:
    values, probs = [0.0, 10.0, 100.0], [0.9, 0.08, 0.02]
    # CDF: 0.90 at 0, 0.98 at 10, 1.00 at 100.  q = 0.95: the first value with CDF >= 0.95
    # is 10, so VaR = 10.  ES = (E[L 1{L > 10}] + 10 (P(L <= 10) - 0.95)) / 0.05
    #    = (100 * 0.02 + 10 * (0.98 - 0.95)) / 0.05 = (2 + 0.3) / 0.05 = 46.
    assert var_discrete(values, probs, 0.95) == 10.0
    assert es_discrete(values, probs, 0.95) == pytest.approx(46.0, rel=1e-13)
    # q = 0.9 hits the CDF exactly at 0: VaR = 0, ES = (10 * 0.08 + 100 * 0.02) / 0.1 = 28.
    assert var_discrete(values, probs, 0.9) == 0.0
    assert es_discrete(values, probs, 0.9) == pytest.approx(28.0, rel=1e-13)
    # q = 0.99 lies inside the atom at 100: VaR = ES = 100.
    assert var_discrete(values, probs, 0.99) == 100.0
    assert es_discrete(values, probs, 0.99) == pytest.approx(100.0, rel=1e-13)
    assert tail_prob(values, probs, 10.0) == pytest.approx(0.02)
    assert tail_prob(values, probs, 9.99) == pytest.approx(0.1)
    np.testing.assert_allclose(tail_prob(values, probs, [-1.0, 100.0]), [1.0, 0.0])
    assert mean_discrete(values, probs) == pytest.approx(2.8)


@pytest.mark.parametrize("seed", range(5))
def test_es_is_the_average_upper_quantile(seed: int) -> None:
    # ES_q = 1/(1 - q) * integral_q^1 VaR_u du, evaluated exactly atom by atom: atom x holds
    # the u-interval [F(x-), F(x)].  Unsorted input with zero-probability atoms.
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 30, size=25).astype(float)
    probs = rng.dirichlet(np.ones(25))
    probs[:3] = 0.0
    probs /= probs.sum()
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(probs[order])
    left = np.concatenate([[0.0], cdf[:-1]])
    for q in [0.5, 0.9, 0.975, float(cdf[10])]:
        overlap = np.clip(cdf, q, 1.0) - np.clip(left, q, 1.0)
        expected = float(values[order] @ overlap) / (1.0 - q)
        assert es_discrete(values, probs, q) == pytest.approx(expected, rel=1e-11)
        var = var_discrete(values, probs, q)
        assert es_discrete(values, probs, q) >= var - 1e-12
        assert tail_prob(values, probs, var) <= 1.0 - q + 1e-12


def test_discrete_measures_reject_bad_input() -> None:
    with pytest.raises(ValueError, match=r"sum to 1"):
        var_discrete([0.0, 1.0], [0.5, 0.6], 0.9)
    with pytest.raises(ValueError, match=r"q must be"):
        es_discrete([0.0, 1.0], [0.5, 0.5], 1.0)


# --------------------------------------------------------------------------------------------
# Monte Carlo helpers


def test_mc_mean_and_tail_prob_se() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal(40_000)
    assert mc_mean_se(x) == pytest.approx(1 / math.sqrt(x.size), rel=0.02)
    assert abs(x.mean()) < 4 * mc_mean_se(x)
    assert mc_tail_prob_se(0.01, 10_000) == pytest.approx(math.sqrt(0.01 * 0.99 / 10_000))
    assert mc_tail_prob_se(0.0, 100) == 0.0
    # Frequencies of {X > 2} over replications: their spread matches the formula.
    exact = stats.norm.sf(2.0)
    freqs = (rng.standard_normal((400, 2000)) > 2.0).mean(axis=1)
    assert np.std(freqs, ddof=1) / mc_tail_prob_se(exact, 2000) == pytest.approx(1.0, abs=0.12)
    assert np.mean(np.abs(freqs - exact) < 4 * mc_tail_prob_se(exact, 2000)) >= 0.99


def test_mc_quantile_ci_coverage() -> None:
    rng = np.random.default_rng(7)
    q = 0.99
    exact = stats.norm.ppf(q)
    samples = rng.standard_normal((300, 5000))
    wide = [mc_quantile_ci(s, q) for s in samples]
    assert np.mean([lo <= exact <= hi for lo, hi in wide]) >= 0.99
    narrow = [mc_quantile_ci(s, q, z=1.0) for s in samples]
    coverage = np.mean([lo <= exact <= hi for lo, hi in narrow])
    assert 0.55 <= coverage <= 0.85  # nominal about 0.68 (plus discreteness)
    # A discrete distribution with an atom at the quantile: Poisson(3), lower 0.9-quantile.
    exact_d = stats.poisson.ppf(0.9, 3.0)
    counts = rng.poisson(3.0, size=(200, 3000)).astype(float)
    assert all(lo <= exact_d <= hi for lo, hi in (mc_quantile_ci(s, 0.9) for s in counts))
    # A sample too small to bound the quantile from above says so.
    assert mc_quantile_ci(rng.standard_normal(10), 0.99)[1] == math.inf


def test_mc_es_se() -> None:
    rng = np.random.default_rng(5)
    q = 0.95
    exact = stats.norm.pdf(stats.norm.ppf(q)) / (1 - q)  # ES of N(0, 1)
    n = 20_000
    ests, ses = [], []
    for _ in range(200):
        x = rng.standard_normal(n)
        ests.append(es_discrete(x, np.full(n, 1.0 / n), q))
        ses.append(mc_es_se(x, q))
    ests_a, ses_a = np.array(ests), np.array(ses)
    assert np.std(ests_a, ddof=1) / ses_a.mean() == pytest.approx(1.0, abs=0.15)
    assert np.mean(np.abs(ests_a - exact) < 4 * ses_a) >= 0.99
