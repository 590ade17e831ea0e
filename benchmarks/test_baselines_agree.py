"""The benchmark baselines simulate the same model: mean loss and 99 % quantile agree.

Run with ``pytest benchmarks/`` (a few seconds). Every check uses fixed seeds, so the outcome is
deterministic; the tolerances are 4 Monte Carlo standard errors (mean) and order-statistic bands
of about 3.9 standard errors per side (quantile).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri
from scipy.stats import binom

from baselines import (
    Book,
    creditriskengine_multi_factor_losses,
    creditriskengine_single_factor_losses,
    numpy_losses,
    riskpy_losses,
)

N_CUSTOMERS = 200
N_PATHS = 20_000
SEED = 20_240_601
LEVEL = 0.99
#: Two-sided miss probability of each order-statistic band (about 3.9 sigma per side).
BAND_ALPHA = 1e-4

Impl = Callable[..., NDArray[np.float64]]
IMPLS: dict[str, Impl] = {
    "numpy": numpy_losses,
    "numpy_2_workers": lambda *a: numpy_losses(*a, workers=2),
    "cre_single": creditriskengine_single_factor_losses,
    "cre_multi": creditriskengine_multi_factor_losses,
    "riskpy": riskpy_losses,
}


def _basel_r(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Basel corporate asset correlation, so that R differs between customers."""
    w = (1.0 - np.exp(-50.0 * p)) / (1.0 - np.exp(-50.0))
    return 0.12 * w + 0.24 * (1.0 - w)


@cache
def book(name: str) -> Book:
    """Small test books.

    ``multi``: 3 correlated factors, per-customer PD (rating grades plus one PD of 0 and one of
    1), LGD, exposure and R (from the PD). ``multi_distinct_r``: the same with a different R for
    every customer. ``one``: the same customers on one factor. ``one_common_r``: one
    factor and a common R (what ``simulate_single_factor`` can take). ``homogeneous``: identical
    customers on one factor, whose loss distribution is known exactly.
    """
    n = N_CUSTOMERS
    if name == "homogeneous":
        return Book(
            np.ones(n),
            np.full(n, 0.45),
            np.full(n, 0.02),
            np.full(n, 0.2),
            np.zeros(n, dtype=np.int64),
            np.ones((1, 1)),
        )
    rng = np.random.default_rng(7)
    grades = np.array([0.0001, 0.0002, 0.0006, 0.002, 0.008, 0.03, 0.15])
    p = grades[rng.choice(grades.size, size=n, p=[0.02, 0.04, 0.09, 0.3, 0.3, 0.2, 0.05])]
    p[0], p[1] = 0.0, 1.0
    exposure = rng.lognormal(np.log(10_000.0), 1.0, size=n)
    lgd = rng.uniform(0.25, 0.65, size=n)
    if name.startswith("multi"):
        corr = np.array([[1.0, 0.4, 0.2], [0.4, 1.0, 0.3], [0.2, 0.3, 1.0]])
        r = _basel_r(p)
        if name == "multi_distinct_r":  # every customer its own group (no-gather branch)
            r = r + rng.uniform(0.0, 1e-3, size=n)
        return Book(exposure, lgd, p, r, rng.integers(0, 3, size=n), corr)
    r = np.full(n, 0.2) if name == "one_common_r" else _basel_r(p)
    return Book(exposure, lgd, p, r, np.zeros(n, dtype=np.int64), np.ones((1, 1)))


@cache
def losses(impl: str, book_name: str) -> NDArray[np.float64]:
    """Simulated per-path losses, computed once per (implementation, book)."""
    out = IMPLS[impl](*book(book_name), N_PATHS, SEED)
    assert out.shape == (N_PATHS,)
    assert out.dtype == np.float64
    return out


def quantile_band(x: NDArray[np.float64], level: float, alpha: float) -> tuple[float, float]:
    """Distribution-free confidence interval for the ``level`` quantile from order statistics.

    With ``B ~ Binomial(n, level)``, ``P(X_(r) <= q <= X_(s)) >= 1 - alpha`` for
    ``r = ppf(alpha/2)`` and ``s = ppf(1 - alpha/2) + 1`` (1-based ranks); this also holds,
    conservatively, for discrete loss distributions.
    """
    n = x.size
    xs = np.sort(x)
    r = int(binom.ppf(alpha / 2, n, level))
    s = int(binom.ppf(1 - alpha / 2, n, level)) + 1
    return float(xs[max(r, 1) - 1]), float(xs[min(s, n) - 1])


def exact_homogeneous_quantile(b: Book, level: float) -> float:
    """Exact loss quantile of a homogeneous one-factor book.

    The number of defaults is a binomial mixture over the factor ``y``:
    ``P(D = k) = E[Binom(k; n, Phi((t - sqrt(R) y) / sqrt(1 - R)))]``, integrated here on a
    fine grid (the integrand is smooth, so the error is far below the band widths).
    """
    n = b.exposure.size
    y = np.linspace(-10.0, 10.0, 8001)
    weight = np.exp(-0.5 * y**2) / np.sqrt(2.0 * np.pi) * (y[1] - y[0])
    r, t = b.R[0], ndtri(b.p[0])
    p_y = ndtr((t - np.sqrt(r) * y) / np.sqrt(1.0 - r))
    k = np.arange(n + 1)
    cdf = np.cumsum(binom.pmf(k[:, None], n, p_y[None, :]) @ weight)
    k_star = int(np.searchsorted(cdf, level))
    # The level is not within quadrature error of a jump of the cdf.
    assert abs(cdf[k_star] - level) > 1e-6
    assert abs(cdf[k_star - 1] - level) > 1e-6
    return float(b.exposure[0] * b.lgd[0] * k_star)


@cache
def _exact_quantile() -> float:
    return exact_homogeneous_quantile(book("homogeneous"), LEVEL)


MEAN_CASES = [
    ("numpy", "multi"),
    ("numpy", "one"),
    ("numpy", "multi_distinct_r"),
    ("numpy_2_workers", "multi"),
    ("cre_multi", "multi"),
    ("cre_multi", "one"),
    ("cre_single", "one_common_r"),
    ("riskpy", "one"),
]


@pytest.mark.parametrize(("impl", "book_name"), MEAN_CASES)
def test_mean_loss_matches_expected_loss(impl: str, book_name: str) -> None:
    b = book(book_name)
    x = losses(impl, book_name)
    expected = float(np.sum(b.exposure * b.lgd * b.p))
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(x.mean() - expected) < 4.0 * se, (x.mean(), expected, se)


def test_cre_antithetic_mean_matches_expected_loss() -> None:
    # Antithetic pairs are negatively correlated for this monotone loss, so the i.i.d.
    # standard error is conservative for the mean.
    b = book("one_common_r")
    x = creditriskengine_single_factor_losses(*b, N_PATHS, SEED, antithetic=True)
    expected = float(np.sum(b.exposure * b.lgd * b.p))
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(x.mean() - expected) < 4.0 * se


@pytest.mark.parametrize("impl", ["numpy", "cre_single", "cre_multi", "riskpy"])
def test_quantile_band_covers_exact_quantile(impl: str) -> None:
    lo, hi = quantile_band(losses(impl, "homogeneous"), LEVEL, BAND_ALPHA)
    exact = _exact_quantile()
    tol = 1e-9 * exact  # losses are sums of equal terms: rounding, not Monte Carlo, error
    assert lo - tol <= exact <= hi + tol, (lo, exact, hi)


@pytest.mark.parametrize("peer", ["cre_single", "cre_multi", "riskpy"])
def test_peer_quantile_agrees_with_numpy(peer: str) -> None:
    np_lo, np_hi = quantile_band(losses("numpy", "homogeneous"), LEVEL, BAND_ALPHA)
    peer_lo, peer_hi = quantile_band(losses(peer, "homogeneous"), LEVEL, BAND_ALPHA)
    bands = ((np_lo, np_hi), (peer_lo, peer_hi))
    assert np_lo <= peer_hi, bands
    assert peer_lo <= np_hi, bands


@pytest.mark.parametrize("impl", ["numpy", "numpy_2_workers", "cre_single", "cre_multi", "riskpy"])
def test_seed_reproduces_paths(impl: str) -> None:
    b = book("one_common_r")
    first = IMPLS[impl](*b, 2_000, 11)
    np.testing.assert_array_equal(first, IMPLS[impl](*b, 2_000, 11))
    assert not np.array_equal(first, IMPLS[impl](*b, 2_000, 12))


def test_numpy_never_defaults_at_pd_zero_and_always_at_pd_one() -> None:
    b = book("one")
    keep = np.zeros(N_CUSTOMERS, dtype=bool)
    keep[:2] = True  # p = 0 and p = 1
    sub = Book(*(a[keep] if a.ndim == 1 else a for a in b))
    for impl in ("numpy", "cre_multi", "riskpy"):
        x = IMPLS[impl](*sub, 1_000, 3)
        np.testing.assert_allclose(x, sub.exposure[1] * sub.lgd[1], rtol=1e-12)


def test_single_factor_adapters_reject_books_they_cannot_model() -> None:
    with pytest.raises(ValueError, match="scalar rho"):
        creditriskengine_single_factor_losses(*book("one"), 10, 0)
    with pytest.raises(ValueError, match="one-factor"):
        riskpy_losses(*book("multi"), 10, 0)
