"""Importance sampling of the loss tail: the factor-mean shift of Glasserman & Li (2005).

Under the Gaussian copula the systematic factors are ``Y = y_shift + chol @ Z``, Z ~ N(0, I_K).
Importance sampling draws ``Z`` from N(θ, I_K) instead and weights each path by the likelihood
ratio ``exp(−θ·Z + θ·θ/2)`` (the kernels return its logarithm per path, see
:func:`portsim.kernels.defaults.factors`). Every estimate is then a weighted one
(:func:`portsim.results.estimators.weighted_value_at_risk`, ...), unbiased for any θ; θ only
decides how many paths land in the tail and how unequal their weights are.

Choice of θ
-----------
Glasserman & Li (2005, §5) take θ at the mode of the optimal (zero-variance) density of Z,
approximately the most likely factor outcome that produces the target loss. With the
conditional expected loss ``EL(z) = Σ_i e_i·LGD_i·Φ((c_i − √R_i·y_f(i)(z)) / √(1 − R_i))``
standing in for the loss given the factors (the large-portfolio limit, Gordy 2003), that is

    θ = argmin ‖z‖  subject to  EL(z) = x_q,

with ``x_q`` the large-portfolio VaR at ``tail_level`` q, ``x_q = max{EL(z) : ‖z‖ = Φ⁻¹(q)}``
(exact for one factor, a first-order, FORM-type approximation of the q-quantile of EL(Z) for
several). The two problems have the same solution: θ is the point of norm Φ⁻¹(q) where ∇EL is
parallel to z. It is found by the fixed-point iteration ``z ← Φ⁻¹(q)·∇EL(z)/‖∇EL(z)‖`` started
from the exposure-weighted loadings through the Cholesky factor (the gradient at z = 0),
which converges in a few steps. No simulation is needed, so θ depends on the inputs alone and a
resumed or distributed run gets the same shift.

Why a factor shift alone
------------------------
Glasserman & Li also twist the conditional default probabilities (exponentially, per path),
which matters for small or weakly correlated books, where idiosyncratic defaults drive the tail.
portsim does not: (i) for books of thousands of customers with Basel correlations the loss
given the factors is nearly its conditional mean (law of large numbers), so the tail is a
factor event and the shift captures almost all of the variance reduction (Glasserman & Li's
own numbers show the twist matters most at low correlation); (ii) a twist depends on each
customer's exposure, so customers of one group would no longer share a default probability,
which the grouped and skip kernels rely on; (iii) with random (Beta, factor-linked) LGDs the
twisted measure has no closed form. ``benchmarks/bench_tails.py`` measures what the shift
gives.

The shift is chosen with mean LGDs (the PD–LGD link is left out of ``EL(z)``: it moves the
efficiency, never the correctness) and is refused for the Student-t copula, whose tail is
also driven by the common χ² scale.

Timeline runs
-------------
The timeline kernel draws its factors through the same :func:`~portsim.kernels.defaults.factors`
(the same shift, the same log weight per path), so a ``[timeline]`` run is weighted path by
path: cash-flow-at-risk and the other quantiles from the weighted tail, breach probabilities
and means (collections, DSO, indemnity) by :func:`portsim.results.estimators.control_variate_mean`,
the expected flows and per-customer losses as weighted sums over the paths
(:mod:`portsim.engine.chunk`). The shift is still aimed at the loss; the cash figures get what
that shift gives them (``benchmarks/bench_timeline_tails.py``). ``[suppliers]`` and
``[actions]`` are refused: their per-supplier default counts and customers per alert level
are summed over the paths inside the kernels, unweighted.

References
----------
Glasserman & Li, "Importance sampling for portfolio credit risk", Management Science 51(11),
1643–1656 (2005). Gordy, "A risk-factor model foundation for ratings-based bank capital
rules", J. Financial Intermediation 12 (2003) (the large-portfolio limit).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from portsim.inputs.model import ModelInputs

__all__ = [
    "conditional_expected_loss",
    "exact_customer_moments",
    "find_shift",
    "sampling_default_probability",
]


def _group_weights(x: ModelInputs) -> np.ndarray:
    """Exposure × mean LGD summed per group, shape (G,)."""
    return np.bincount(x.group, weights=x.exposure * x.lgd_mean,
                       minlength=x.group_factor.shape[0])


def _y_shift(x: ModelInputs) -> np.ndarray:
    k = x.chol.shape[0]
    return np.zeros(k) if x.y_shift is None else np.asarray(x.y_shift, dtype=float)


def conditional_expected_loss(x: ModelInputs, z: np.ndarray) -> tuple[float, np.ndarray]:
    """Expected loss given the independent factor normals ``z`` and its gradient.

    Parameters
    ----------
    x : ModelInputs
        Gaussian-copula inputs.
    z : ndarray, shape (K,)
        Independent standard normals; the factors are ``y_shift + chol @ z``.

    Returns
    -------
    el : float
        ``Σ_g E_g·Φ((c_g − √R_g·y_f(g)) / √(1 − R_g))`` in book currency, E_g the group's
        exposure × mean LGD.
    grad : ndarray, shape (K,)
        ∂EL/∂z, book currency per unit of z.
    """
    y = _y_shift(x) + x.chol @ np.asarray(z, dtype=float)
    wg = _group_weights(x)
    c = x.group_threshold
    finite = np.isfinite(c)
    arg = np.where(finite, (np.where(finite, c, 0.0) - x.group_loading * y[x.group_factor])
                   / x.group_idio, np.where(c > 0, np.inf, -np.inf))
    el = float(wg @ special.ndtr(arg))
    dens = np.where(finite, np.exp(-0.5 * np.where(finite, arg, 0.0) ** 2)
                    / math.sqrt(2 * math.pi), 0.0)
    d_y = np.bincount(x.group_factor, weights=-wg * dens * x.group_loading / x.group_idio,
                      minlength=x.chol.shape[0])
    return el, x.chol.T @ d_y


def find_shift(x: ModelInputs, level: float, *, tol: float = 1e-10,
               max_iter: int = 200) -> np.ndarray:
    """The importance-sampling shift θ of the independent factor normals for ``level``.

    Parameters
    ----------
    x : ModelInputs
        Default-only, Gaussian-copula inputs.
    level : float
        The tail level q in (0, 1) the shift is aimed at (``simulation.tail_level``).
    tol : float
        Convergence of the direction (change of the unit vector between iterations).
    max_iter : int
        Iteration cap of the fixed point (see the module docstring).

    Returns
    -------
    ndarray, shape (K,)
        θ with ‖θ‖ = Φ⁻¹(q) maximising the conditional expected loss, or zeros when the loss
        does not depend on the factors (no correlation, or every PD 0 or 1) or q ≤ 0.5.

    Notes
    -----
    The Student-t copula (and ``[suppliers]`` or ``[actions]`` with a timeline) are refused
    before the inputs are built (:mod:`portsim.workflow.checks`; see the module docstring).
    """
    k = x.chol.shape[0]
    radius = float(special.ndtri(level))
    if not radius > 0.0:
        return np.zeros(k)
    _, g = conditional_expected_loss(x, np.zeros(k))
    norm = float(np.linalg.norm(g))
    if not norm > 0.0:
        return np.zeros(k)
    u = g / norm
    for _ in range(max_iter):
        _, g = conditional_expected_loss(x, radius * u)
        norm = float(np.linalg.norm(g))
        if not norm > 0.0:  # the gradient vanished far out (all PDs ≈ 1): keep u
            break
        # damped step: the plain fixed point can oscillate between factors of equal weight
        new = u + g / norm
        new /= np.linalg.norm(new)
        done = float(np.linalg.norm(new - u)) < tol
        u = new
        if done:
            break
    return radius * u


def sampling_default_probability(x: ModelInputs, z_shift: np.ndarray | None) -> np.ndarray:
    """Each customer's default probability under the sampling measure, shape (n,).

    With Z ~ N(θ, I) the factor of customer i is N(y_shift_f + (chol θ)_f, 1), so its latent
    variable is N(√R_i·μ_f, 1) and it defaults with probability Φ(c_i − √R_i·μ_f)
    (Gaussian copula). Used to choose the kernel of an importance-sampling run.
    """
    k = x.chol.shape[0]
    th = np.zeros(k) if z_shift is None else np.asarray(z_shift, dtype=float)
    mu = _y_shift(x) + x.chol @ th
    return special.ndtr(x.threshold - x.loading * mu[x.factor])


def exact_customer_moments(x: ModelInputs, n_nodes: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's default probability and expected loss under the model (Gaussian).

    An importance-sampling run cannot average its per-customer sums over paths (the kernels
    add them up unweighted, under the sampling measure), so the run reports these instead.

    Parameters
    ----------
    x : ModelInputs
        Gaussian-copula inputs.
    n_nodes : int
        Gauss–Hermite nodes over the customer's factor (only with a PD–LGD link).

    Returns
    -------
    p_default : ndarray, shape (n,)
        P(X_i < c_i) = Φ(c_i − √R_i·y_shift_f), fraction.
    expected_loss : ndarray, shape (n,)
        e_i·E[LGD_i(Y)·1{default}] in book currency: ``e_i·m_i·p_i`` without a PD–LGD link;
        with one, E_Y[m_i(Y)·Φ((c_i − √R_i·Y)/√(1 − R_i))], Y ~ N(y_shift_f, 1), by
        Gauss–Hermite quadrature (the Beta draw around m_i(Y) has mean m_i(Y)).
    """
    ys = _y_shift(x)[x.factor]
    p = special.ndtr(x.threshold - x.loading * ys)
    m = x.lgd_mean
    kappa = x.lgd_link
    if kappa <= 0.0:
        return p, x.exposure * m * p
    t, w = np.polynomial.hermite_e.hermegauss(n_nodes)  # weight exp(−t²/2)
    w = w / w.sum()
    y = ys[:, None] + t[None, :]
    finite = np.isfinite(x.threshold)
    c = np.where(finite, x.threshold, 0.0)
    inner = np.where(finite[:, None],
                     special.ndtr((c[:, None] - x.loading[:, None] * y) / x.idio[:, None]),
                     (x.threshold > 0)[:, None].astype(float))
    linked = (m > 0.0) & (m < 1.0)
    my = np.where(linked[:, None],
                  special.ndtr(x.lgd_probit[:, None] * math.sqrt(1.0 + kappa**2)
                               - kappa * y), m[:, None])
    return p, x.exposure * ((my * inner) @ w)
