"""The special functions of portsim.kernels.special against SciPy, and their exact edge values.

Tolerances come from each algorithm's accuracy, not from the errors observed:

* ``ndtri`` (Wichura's AS 241): about 1e-16 relative, so a few ulps (4ε);
* ``norm_cdf`` = ½·erfc(−x/√2): erfc is good to a few ulps, but rounding the argument x/√2
  (relative error ε) moves log Φ by |x|·|x|ε in the tail, so the bound is 4(1 + x²)ε;
* ``betainc`` / ``student_t_cdf``: the continued fraction stops at 1e-15 per step and the
  prefactor exp(lgamma terms + a·ln x + b·ln(1 − x)) carries the absolute error of an exponent
  of magnitude up to about 40, 40ε ≈ 1e-14; 1e-13 bounds both.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from portsim.kernels.special import betainc, ndtri, norm_cdf, student_t_cdf

pytestmark = pytest.mark.jitoff

EPS = float(np.finfo(float).eps)
P_GRID = np.concatenate([np.logspace(-300, -1, 40), np.linspace(0.01, 0.99, 99),
                         1.0 - np.logspace(-16, -1, 30)])
X_GRID = np.linspace(-37.0, 8.0, 181)


def test_ndtri_matches_scipy_to_a_few_ulps() -> None:
    got = np.array([ndtri(p) for p in P_GRID])
    np.testing.assert_allclose(got, special.ndtri(P_GRID), rtol=4 * EPS, atol=0.0)


def test_ndtri_edges_and_symmetry() -> None:
    assert ndtri(0.0) == -math.inf
    assert ndtri(1.0) == math.inf
    assert ndtri(0.5) == 0.0
    assert ndtri(0.975) == pytest.approx(1.959963984540054, rel=4 * EPS)
    for p in (1e-10, 0.01, 0.3):
        assert ndtri(p) == pytest.approx(-ndtri(1.0 - p), rel=1e-6)  # 1 − p is rounded


def test_norm_cdf_matches_scipy_in_both_tails() -> None:
    got = np.array([norm_cdf(x) for x in X_GRID])
    rel = np.abs(got - special.ndtr(X_GRID)) / special.ndtr(X_GRID)
    assert np.all(rel <= 4.0 * (1.0 + X_GRID**2) * EPS)


def test_norm_cdf_hand_values() -> None:
    assert norm_cdf(0.0) == 0.5
    assert norm_cdf(-math.inf) == 0.0
    assert norm_cdf(math.inf) == 1.0
    # Φ(−0.75) = ½·erfc(0.75/√2)
    assert norm_cdf(-0.75) == pytest.approx(0.5 * math.erfc(0.75 / math.sqrt(2.0)), rel=EPS)


@pytest.mark.parametrize("dof", [1.0, 2.5, 5.0, 30.0])
def test_student_t_cdf_matches_scipy(dof: float) -> None:
    x = np.linspace(-30.0, 30.0, 121)
    got = np.array([student_t_cdf(v, dof) for v in x])
    np.testing.assert_allclose(got, stats.t.cdf(x, dof), rtol=1e-13, atol=0.0)


def test_student_t_cdf_closed_forms() -> None:
    # one degree of freedom is the Cauchy distribution: F(x) = ½ + atan(x)/π
    for x in (-3.0, -0.5, 0.0, 2.0):
        assert student_t_cdf(x, 1.0) == pytest.approx(0.5 + math.atan(x) / math.pi, rel=1e-13)
    # two: F(x) = ½ + x / (2·√(2 + x²))
    for x in (-4.0, 1.0):
        assert student_t_cdf(x, 2.0) == pytest.approx(0.5 + x / (2 * math.sqrt(2 + x * x)),
                                                      rel=1e-13)
    assert student_t_cdf(-math.inf, 3.0) == 0.0
    assert student_t_cdf(math.inf, 3.0) == 1.0


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (2.0, 3.0), (15.0, 0.5)])
def test_betainc_matches_scipy(a: float, b: float) -> None:
    x = np.linspace(0.01, 0.99, 50)
    got = np.array([betainc(a, b, v) for v in x])
    np.testing.assert_allclose(got, special.betainc(a, b, x), rtol=1e-13, atol=0.0)
    assert betainc(a, b, 0.0) == 0.0
    assert betainc(a, b, 1.0) == 1.0
    # I_x(1, 1) = x (the uniform distribution)
    assert betainc(1.0, 1.0, 0.3) == pytest.approx(0.3, rel=1e-13)
