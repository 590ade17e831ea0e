"""The exact CreditRisk+ loss distribution on the lattice, its VaR, ES and Euler contributions.

Method: the fast Fourier transform of the probability generating function. With
``A_k(z) = Σ_i p_i·w_ik·z^ν_i``, ``μ_k = A_k(1)`` and ``A_0`` likewise with the idiosyncratic
weights ``w_i0``, the loss in units has the generating function (CSFB, 1997, §A8)

    G(z) = exp(A_0(z) − μ_0) · Π_k (1 − σ_k²·(A_k(z) − μ_k))^(−1/σ_k²).

``G`` is evaluated at the ``M``-th roots of unity (``A_k`` by one real FFT each) and inverted
by one inverse FFT. Every factor ``1 − σ_k²·(A_k(z) − μ_k)`` has real part ≥ 1 on the unit
circle, so the complex logarithm has no branch trouble and no step subtracts nearly equal
numbers: unlike the Panjer recursion for several sectors, whose rounding errors grow with the
loss (Gordy, 2002), the error of each probability is of the order of machine precision. Mass
beyond ``M`` would wrap around (aliasing), so ``M`` doubles until the probability of the top
quarter of the grid is below :data:`ALIAS_TOLERANCE`.

Contributions (Tasche, 2004): given the sectors, ``N_i`` is Poisson, so
``E[N_i·1{L = x}] = p_i·(w_i0·P[L = x − ν_i] + Σ_k w_ik·P[L⁽ᵏ⁾ = x − ν_i])``, where ``L⁽ᵏ⁾`` is
the loss with sector ``k``'s gamma shape ``1/σ_k²`` raised by one (the size-biased sector
variable); its generating function is ``G(z) / (1 − σ_k²·(A_k(z) − μ_k))``. The VaR
contribution is ``ν_i·E[N_i | L = VaR]`` and the ES contribution the same form over the tail
in the Acerbi–Tasche form: both add up exactly to the portfolio's VaR and ES.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from portsim.creditriskplus.model import CreditRiskPlusModel
from portsim.errors import ConfigError, Problem

__all__ = [
    "ALIAS_TOLERANCE",
    "MAX_GRID",
    "CreditRiskPlusResult",
    "analyse",
    "loss_distribution",
    "summary",
]

#: Largest probability left in the top quarter of the lattice (a bound on the aliased mass).
ALIAS_TOLERANCE = 1e-10
#: Largest lattice, in loss units.
MAX_GRID = 2**24


class CreditRiskPlusResult(NamedTuple):
    """Risk figures of the CreditRisk+ model, money in book currency.

    Shapes: ``L`` risk levels, ``n`` customers, ``S`` sectors.
    """

    levels: tuple[float, ...]
    expected_loss: float
    sd_loss: float
    var: np.ndarray  # (L,)
    es: np.ndarray  # (L,)
    var_contribution: np.ndarray  # (L, n) Euler contributions to VaR
    es_contribution: np.ndarray  # (L, n) Euler contributions to ES
    sector_var_contribution: np.ndarray  # (L, S)
    sector_es_contribution: np.ndarray  # (L, S)
    pmf: np.ndarray  # (M,) P[L = m·unit]
    unit: float


def loss_distribution(model: CreditRiskPlusModel, *,
                      size_biased: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities of the loss on the lattice, by FFT of its generating function.

    Parameters
    ----------
    model : CreditRiskPlusModel
        The lattice model.
    size_biased : bool
        Also return the distributions of the losses ``L⁽ᵏ⁾`` (sector ``k``'s shape raised by
        one) the contributions need.

    Returns
    -------
    pmf : ndarray, shape (M,)
        ``P[L = m]`` for ``m = 0 … M − 1`` loss units (non-negative, sums to 1 within
        :data:`ALIAS_TOLERANCE`).
    biased : ndarray, shape (K, M)
        ``P[L⁽ᵏ⁾ = m]`` (shape (0, M) unless ``size_biased``).

    Raises
    ------
    ConfigError
        When the loss needs a lattice over :data:`MAX_GRID` units.
    """
    var = model.variance
    mean = float(model.intensity @ model.units)
    sd = float(np.sqrt(model.intensity @ model.units.astype(float) ** 2
                       + var @ ((model.intensity * model.units) @ model.weights) ** 2))
    size = 1 << max(int(np.ceil(np.log2(mean + 40.0 * sd + model.units.max(initial=1) + 2))), 6)
    while True:
        pmf, biased = _on_grid(model, size, size_biased)
        quarter = size - size // 4
        tail = max(pmf[quarter:].sum(), biased[:, quarter:].sum(axis=1).max(initial=0.0))
        if tail < ALIAS_TOLERANCE:
            return pmf, biased
        if size >= MAX_GRID:
            raise ConfigError([Problem(
                "config [creditriskplus]", f"loss_unit={model.unit:.6g}",
                f"needs a lattice of more than {MAX_GRID} loss units",
                "set a larger loss_unit (book currency)")])
        size *= 2


def _on_grid(model: CreditRiskPlusModel, size: int,
             size_biased: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`loss_distribution` on a lattice of ``size`` units (aliased beyond it)."""
    def transform(weight: np.ndarray) -> np.ndarray:
        a = np.bincount(model.units, weights=model.intensity * weight, minlength=size)
        return np.fft.rfft(a[:size])

    k_sectors = model.variance.size
    idio = transform(model.idiosyncratic)
    log_g = idio - idio[0].real
    factors = []
    for k in range(k_sectors):
        a_k = transform(model.weights[:, k])
        factor = 1.0 - model.variance[k] * (a_k - a_k[0].real)
        log_g = log_g - np.log(factor) / model.variance[k]
        factors.append(factor)
    g = np.exp(log_g)
    pmf = np.maximum(np.fft.irfft(g, n=size), 0.0)
    biased = np.empty((k_sectors if size_biased else 0, size))
    for k in range(biased.shape[0]):
        biased[k] = np.maximum(np.fft.irfft(g / factors[k], n=size), 0.0)
    return pmf, biased


def analyse(model: CreditRiskPlusModel, levels: tuple[float, ...]) -> CreditRiskPlusResult:
    """Expected loss, VaR, ES and their Euler contributions per customer and sector.

    Parameters
    ----------
    model : CreditRiskPlusModel
        The lattice model.
    levels : tuple of float
        Risk levels q in (0, 1).

    Returns
    -------
    CreditRiskPlusResult
        VaR is the lower quantile ``min{x : P[L ≤ x] ≥ q}``; ES the Acerbi–Tasche
        ``(E[L·1{L > VaR}] + VaR·(P[L ≤ VaR] − q)) / (1 − q)``, as the Monte Carlo
        estimators (:mod:`portsim.results.estimators`).
    """
    pmf, biased = loss_distribution(model, size_biased=True)
    size = pmf.size
    grid = np.arange(size, dtype=float)
    cdf = np.cumsum(pmf)
    # P[L > y] for y = −1 … M − 1 (index y + 1): 1 below zero
    above = np.concatenate(([1.0], 1.0 - cdf))
    above_b = np.concatenate((np.ones((biased.shape[0], 1)), 1.0 - np.cumsum(biased, axis=1)),
                             axis=1)
    idio = model.idiosyncratic
    scale = model.intensity * model.units  # ν_i·p_i
    n, n_sectors = model.units.size, len(model.sector_names)
    out = {name: np.zeros((len(levels), n)) for name in ("var", "es")}
    var = np.zeros(len(levels))
    es = np.zeros(len(levels))
    for j, q in enumerate(levels):
        x = min(int(np.searchsorted(cdf, q - 1e-15)), size - 1)
        shifted = x - model.units  # (n,)
        ok = shifted >= 0
        at = np.where(ok, shifted, 0)
        point = np.where(ok, idio * pmf[at] + np.einsum("ik,ki->i", model.weights,
                                                        biased[:, at]), 0.0)
        var_c = scale * point / pmf[x]
        tail_at = np.clip(shifted, -1, size - 1) + 1
        tail = scale * (idio * above[tail_at]
                        + np.einsum("ik,ki->i", model.weights, above_b[:, tail_at]))
        atom = cdf[x] - q
        var[j] = x * model.unit
        es[j] = (float(grid[x + 1:] @ pmf[x + 1:]) + x * atom) / (1.0 - q) * model.unit
        out["var"][j] = var_c * model.unit
        out["es"][j] = (tail + var_c * atom) / (1.0 - q) * model.unit

    def by_sector(c: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(model.sector, weights=row, minlength=n_sectors)
                         for row in c])

    mean = float(grid @ pmf)
    return CreditRiskPlusResult(
        levels=tuple(levels), expected_loss=mean * model.unit,
        sd_loss=float(np.sqrt(max((grid - mean) ** 2 @ pmf, 0.0))) * model.unit,
        var=var, es=es, var_contribution=out["var"], es_contribution=out["es"],
        sector_var_contribution=by_sector(out["var"]),
        sector_es_contribution=by_sector(out["es"]), pmf=pmf, unit=model.unit)


def summary(result: CreditRiskPlusResult, sector_names: tuple[str, ...]) -> dict[str, Any]:
    """The figures of ``summary.json``'s ``creditriskplus`` key (JSON-ready).

    Parameters
    ----------
    result : CreditRiskPlusResult
        From :func:`analyse`.
    sector_names : tuple of str, length S
        The book's sectors, in the order of the sector contributions.

    Returns
    -------
    dict
        ``expected_loss``, ``loss_sd``, ``loss_unit`` (book currency); ``var`` and ``es``
        keyed by level (``"0.99"``); ``es_contribution_by_sector`` keyed by level, then
        sector.
    """
    def by_level(values: np.ndarray) -> dict[str, float]:
        return {str(q): float(v) for q, v in zip(result.levels, values, strict=True)}

    return {
        "expected_loss": result.expected_loss, "loss_sd": result.sd_loss,
        "loss_unit": result.unit, "var": by_level(result.var), "es": by_level(result.es),
        "es_contribution_by_sector": {
            str(q): dict(zip(sector_names, map(float, row), strict=True))
            for q, row in zip(result.levels, result.sector_es_contribution, strict=True)},
    }
