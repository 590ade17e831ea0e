"""The CreditRisk+ kernels of portsim.kernels.mixture, called directly.

The Poisson draws (inversion and PTRS) against the conditional Poisson law by chi-square; the
sector variables against their gamma law; the kernel's defaults against the formula it
implements, redone in Python from the same stream (both kinds of count); hand-worked cases
whose outcome does not depend on the draws; the Poisson defaulters among the Bernoulli ones on
the same seed; and the path-by-path kernel against the chunk kernel. Tolerances: 4 standard errors,
significance level ``P_MIN`` for the goodness-of-fit tests; seeds fixed.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numba as nb
import numpy as np
import pytest
from scipy import stats

from portsim.kernels import mixture
from portsim.kernels.codes import Stream
from portsim.kernels.rng import next_gamma, next_uniform, path_states

P_MIN = 1e-4
Z = 4.0

EXPOSURE = np.array([100.0, 250.0, 40.0, 60.0, 10.0])
LGD = np.array([0.45, 0.3, 1.0, 0.5, 0.8])
SECTOR = np.array([0, 1, 1, 0, 1])
WEIGHTS = np.array([[0.7, 0.0], [0.3, 0.5]])  # (book sector, sector variable)
IDIO = 1.0 - WEIGHTS.sum(axis=1)
VARIANCE = np.array([0.8, 1.7])


@nb.njit
def _positive_poissons(lam, s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i], s0, s1 = mixture.next_poisson_positive(lam, s0, s1)
    return out


@nb.njit
def _sectors(shape, scale, s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty((n, shape.shape[0]))
    for i in range(n):
        s0, s1 = mixture.sector_draws(shape, scale, s0, s1, out[i])
    return out


def _state(seed: int, stream: Stream = Stream.DEFAULT) -> tuple[np.uint64, np.uint64]:
    s = path_states(seed, 0, 1, stream)[0]
    return s[0], s[1]


@pytest.mark.parametrize("lam", [0.003, 0.4, 2.5, 9.99, 10.0, 37.0, 900.0])
def test_positive_poisson_is_the_conditional_poisson_law(lam: float) -> None:
    n = 200_000
    k = _positive_poissons(lam, *_state(11), n)
    assert k.min() >= 1
    law = stats.poisson(lam)
    tail = law.sf(0)
    # cells of at least 20 expected draws, the rest pooled at both ends
    lo, hi = max(int(law.ppf(1e-4)), 1), max(int(law.isf(1e-4)), 2)
    edges = np.arange(lo, hi + 1)
    observed = np.array([(k < lo + 1).sum(), *[(k == e).sum() for e in edges[1:-1]],
                         (k >= hi).sum()])
    expected = n * np.array([(law.cdf(lo) - law.cdf(0)) / tail,
                             *[law.pmf(e) / tail for e in edges[1:-1]], law.sf(hi - 1) / tail])
    keep = expected >= 20
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] == 0.0:
        observed, expected = observed[:-1], expected[:-1]
    if expected.size > 1:
        assert stats.chisquare(observed, expected).pvalue > P_MIN
    mean = lam / tail
    sd = math.sqrt((lam + lam**2) / tail - mean**2)
    assert abs(k.mean() - mean) < Z * sd / math.sqrt(n) + 1e-12


@pytest.mark.parametrize("variance", [0.25, 1.0, 4.0])
def test_sector_variables_have_mean_one_and_variance_sigma2(variance: float) -> None:
    n = 400_000
    shape = np.array([1.0 / variance, 1.0])
    scale = np.array([variance, 1.0])
    s = _sectors(shape, scale, *_state(5), n)[:, 0]
    assert abs(s.mean() - 1.0) < Z * math.sqrt(variance / n)
    # Var(s²) of a gamma: (μ4 − σ⁴)/n, μ4 = 3σ⁴ + 6σ⁶ for shape 1/σ², scale σ²
    mu4 = 3.0 * variance**2 + 6.0 * variance**3
    assert abs(s.var(ddof=1) - variance) < Z * math.sqrt((mu4 - variance**2) / n)
    assert stats.kstest(s, stats.gamma(1.0 / variance, scale=variance).cdf).pvalue > P_MIN


def _by_name(kernel: Any, args: dict[str, object]) -> None:
    kernel(*(args[p] for p in inspect.signature(getattr(kernel, "py_func", kernel)).parameters))


def _run(intensity: np.ndarray, *, poisson: bool, m: int = 400, seed: int = 3
         ) -> dict[str, np.ndarray]:
    n = intensity.size
    out = {"out_loss": np.zeros(m), "out_ndef": np.zeros(m, dtype=np.int64),
           "out_sector_loss": np.zeros((m, 2)), "out_sector_ndef": np.zeros((m, 2), np.int64),
           "out_cust_loss": np.zeros(n, dtype=np.int64),
           "out_cust_ndef": np.zeros(n, dtype=np.int64)}
    _by_name(mixture.mixture_losses, {
        "states": path_states(seed, 0, m, Stream.DEFAULT),
        "count_states": path_states(seed, 0, m, Stream.LGD), "shape": 1.0 / VARIANCE,
        "scale": VARIANCE, "sector_weights": WEIGHTS, "sector_idio": IDIO,
        "intensity": intensity, "severity": EXPOSURE * LGD, "sector": SECTOR,
        "poisson": poisson, **out})
    return out


@pytest.mark.parametrize("poisson", [True, False])
def test_defaults_follow_the_conditional_intensity_of_the_streams_draws(poisson: bool) -> None:
    """Each customer defaults iff its uniform is below 1 − exp(−λ_i(S)) (Poisson) or
    min(λ_i(S), 1) (Bernoulli), with the sector variables the first gamma draws of the path's
    default stream; a Poisson defaulter's count is its conditioned draw from the second
    stream."""
    intensity = np.array([0.3, 0.05, 0.6, 0.01, 0.2]) * 2.0
    m = 50
    got = _run(intensity, poisson=poisson, m=m)
    states = path_states(3, 0, m, Stream.DEFAULT)
    counts = path_states(3, 0, m, Stream.LGD)
    want_loss = np.zeros(m)
    for p in range(m):
        s0, s1 = states[p]
        t0, t1 = counts[p]
        s = np.empty(2)
        for k in range(2):
            g, s0, s1 = next_gamma(1.0 / VARIANCE[k], np.uint64(s0), np.uint64(s1))
            s[k] = VARIANCE[k] * g
        lam = intensity * (IDIO[SECTOR] + WEIGHTS[SECTOR] @ s)
        for i in range(intensity.size):
            u, s0, s1 = next_uniform(np.uint64(s0), np.uint64(s1))
            if u < (-math.expm1(-lam[i]) if poisson else min(lam[i], 1.0)):
                n = 1
                if poisson:
                    n, t0, t1 = mixture.next_poisson_positive(lam[i], np.uint64(t0),
                                                              np.uint64(t1))
                want_loss[p] += n * EXPOSURE[i] * LGD[i]
    np.testing.assert_allclose(got["out_loss"], want_loss, rtol=1e-14, atol=0)
    assert 0 < np.count_nonzero(want_loss) < m  # not a trivial case


def test_zero_and_huge_intensities_by_hand() -> None:
    """λ = 0: never a default; λ = 900 (1 − e^−900 is 1 in doubles): a default on every path,
    one with Bernoulli counts, about 900·(w_0 + Σ W·S) with Poisson counts."""
    intensity = np.array([0.0, 900.0, 0.0, 900.0, 0.0])
    m = 20
    bern = _run(intensity, poisson=False, m=m)
    sev = EXPOSURE * LGD
    np.testing.assert_array_equal(bern["out_loss"], np.full(m, sev[1] + sev[3]))
    np.testing.assert_array_equal(bern["out_ndef"], np.full(m, 2))
    np.testing.assert_array_equal(bern["out_sector_loss"], np.tile([sev[3], sev[1]], (m, 1)))
    np.testing.assert_array_equal(bern["out_cust_ndef"], [0, m, 0, m, 0])
    np.testing.assert_array_equal(bern["out_cust_loss"],
                                  np.rint(100 * np.array([0, sev[1], 0, sev[3], 0])) * m)
    pois = _run(intensity, poisson=True, m=m)
    assert np.all(pois["out_sector_ndef"][:, 1] >= 1)
    np.testing.assert_allclose(pois["out_loss"], pois["out_sector_ndef"] @ [sev[3], sev[1]],
                               rtol=1e-12)
    np.testing.assert_array_equal(pois["out_cust_ndef"][[0, 2, 4]], 0)


def test_poisson_defaulters_default_in_the_bernoulli_model_too() -> None:
    """Same uniforms, 1 − e^(−λ) ≤ min(λ, 1): every Poisson defaulter of a path defaults in
    the Bernoulli model; the Bernoulli model has more single defaults, the Poisson model
    repeated ones."""
    intensity = np.array([0.3, 0.05, 0.6, 0.01, 0.2]) * 3.0
    m = 500
    x = {"states": path_states(9, 0, m, Stream.DEFAULT),
         "count_states": path_states(9, 0, m, Stream.LGD), "shape": 1.0 / VARIANCE,
         "scale": VARIANCE, "sector_weights": WEIGHTS, "sector_idio": IDIO,
         "intensity": intensity, "severity": EXPOSURE * LGD, "sector": SECTOR}
    cents = {}
    for poisson in (True, False):
        cents[poisson] = np.zeros((m, intensity.size), dtype=np.int64)
        _by_name(mixture.mixture_losses_of_paths, {**x, "poisson": poisson,
                                                   "out_loss": np.zeros(m),
                                                   "out_cust_loss": cents[poisson]})
    one = np.rint(100 * EXPOSURE * LGD).astype(np.int64)
    assert np.all(cents[False][cents[True] > 0] == np.broadcast_to(one, (m, 5))[cents[True] > 0])
    assert np.all((cents[False] == 0) | (cents[False] == one))
    assert np.any((cents[False] > 0) & (cents[True] == 0))  # Bernoulli-only defaults
    assert np.any(cents[True] > one)  # repeated Poisson defaults


@pytest.mark.parametrize("poisson", [True, False])
def test_path_by_path_kernel_repeats_the_chunk_kernel(poisson: bool) -> None:
    intensity = np.array([0.3, 0.05, 0.6, 0.01, 0.2])
    m = 300
    run = _run(intensity, poisson=poisson, m=m)
    paths = np.array([7, 0, 299, 7, 150])  # any paths, any order, repeats
    st = path_states(3, 0, m, Stream.DEFAULT)[paths]
    ct = path_states(3, 0, m, Stream.LGD)[paths]
    loss = np.zeros(paths.size)
    cents = np.zeros((paths.size, intensity.size), dtype=np.int64)
    _by_name(mixture.mixture_losses_of_paths, {
        "states": st, "count_states": ct, "shape": 1.0 / VARIANCE, "scale": VARIANCE,
        "sector_weights": WEIGHTS, "sector_idio": IDIO, "intensity": intensity,
        "severity": EXPOSURE * LGD, "sector": SECTOR, "poisson": poisson,
        "out_loss": loss, "out_cust_loss": cents})
    np.testing.assert_array_equal(loss, run["out_loss"][paths])
    np.testing.assert_allclose(cents.sum(axis=1) / 100, loss, atol=0.005 * intensity.size)
