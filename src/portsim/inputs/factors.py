"""The systematic factors: each customer's factor, the factor correlation matrix, its
Cholesky factor, and the factor law under a scenario (scaled, conditioned, shifted).

Nothing here checks the config: :mod:`portsim.workflow.checks` refuses a correlation table
that does not fit the book's factors, and a matrix that is not positive semi-definite unless
``model.correlation.repair`` asks for the nearest PSD one (replaced here, with a warning).
"""

from __future__ import annotations

import warnings

import numpy as np

from portsim.config import CorrelationConfig, RunConfig
from portsim.data import Book

__all__ = [
    "PSD_TOLERANCE",
    "basel_asset_correlation",
    "correlation_matrix",
    "factor_correlation",
    "factor_labels",
    "factor_labels_of",
    "factor_stress",
    "psd_cholesky",
    "scaled_correlation",
    "smallest_eigenvalue",
]

#: A correlation matrix whose smallest eigenvalue is below this is not positive semi-definite.
PSD_TOLERANCE = -1e-10


def _factor_sectors(names: tuple[str, ...] | list[str], factors: str) -> list[str | None]:
    """The sector of each factor (None for the single factor)."""
    if factors == "single":
        return [None] * len(names)
    return [n.split("/", 1)[0] for n in names]


def basel_asset_correlation(p_default: np.ndarray) -> np.ndarray:
    """Basel II/III IRB corporate asset correlation R(PD).

    R = 0.12·w + 0.24·(1 − w), w = (1 − e^(−50·PD)) / (1 − e^(−50))
    (BCBS, "International Convergence of Capital Measurement", 2006, §272).

    Parameters
    ----------
    p_default : ndarray, shape (n,)
        1-year probability of default, fraction.

    Returns
    -------
    ndarray, shape (n,) — asset correlation in [0.12, 0.24].
    """
    w = (1.0 - np.exp(-50.0 * p_default)) / (1.0 - np.exp(-50.0))
    return 0.12 * w + 0.24 * (1.0 - w)


def factor_labels(book: Book, factors: str) -> np.ndarray:
    """Each customer's factor name: ``all``, its sector, or ``sector/country``."""
    return factor_labels_of(book.sector, book.country, factors)


def factor_labels_of(sector: np.ndarray, country: np.ndarray, factors: str) -> np.ndarray:
    """The factor name of each row of ``sector`` and ``country`` (shape (n,) each) under
    ``model.factors``: ``all``, the sector, or ``sector/country`` (customers and suppliers
    alike)."""
    n = len(sector)
    if factors == "single":
        return np.array(["all"] * n)
    if factors == "sector":
        return np.asarray(sector).astype(str)
    return np.array([f"{s}/{c}" for s, c in zip(sector, country, strict=True)])


def factor_stress(
    corr: np.ndarray,
    factor_names: list[str] | tuple[str, ...],
    config: RunConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The factor law of the scenario: covariance, its Cholesky factor and the mean shift.

    Parameters
    ----------
    corr : ndarray, shape (K, K)
        The config's factor correlation matrix.
    factor_names : sequence of str, length K
        Factor names (sector, ``sector/country`` or ``all``).
    config : RunConfig
        Its ``scenario`` gives ``correlation.factor_multiplier``, ``factor_condition`` and
        ``factor_shift`` (in standard deviations), applied in that order (see the module
        docstring); scaled correlations that are not positive semi-definite are replaced by
        the nearest PSD matrix, with a warning (the checks allow them only with
        ``model.correlation.repair``).

    Returns
    -------
    cov : ndarray, shape (K, K)
        Covariance of the factors as simulated (a correlation matrix unless conditioned).
    chol : ndarray, shape (K, K)
        Lower-triangular, ``chol @ chol.T == cov``; conditioned factors' rows are zero.
    y_shift : ndarray, shape (K,), or None
        Mean of the factors (None: all zero).
    """
    scen = config.scenario
    k = len(factor_names)
    cov = corr
    mult = scen.correlation.factor_multiplier
    if mult != 1.0:
        cov = scaled_correlation(corr, mult)
        min_eig = smallest_eigenvalue(cov)
        if min_eig < PSD_TOLERANCE:  # checked before: allowed with model.correlation.repair
            where = scen.locate(("correlation", "factor_multiplier"))
            warnings.warn(f"{where}: correlation.factor_multiplier={mult!r} makes the factor "
                          f"correlation matrix not positive semi-definite (smallest eigenvalue "
                          f"{min_eig:.4g}); using the nearest PSD matrix", UserWarning,
                          stacklevel=2)
            cov = _nearest_psd(cov)
    sectors = _factor_sectors(factor_names, config.model.factors)
    cond = scen.factor_condition
    fixed: dict[int, float] = {}
    for a, name in enumerate(factor_names):
        if name in cond.factor:
            fixed[a] = cond.factor[name]
        elif sectors[a] is not None and sectors[a] in cond.sector:
            fixed[a] = cond.sector[str(sectors[a])]
    mean = np.zeros(k)
    if fixed:
        c_idx = np.array(sorted(fixed), dtype=np.int64)
        r_idx = np.array([a for a in range(k) if a not in fixed], dtype=np.int64)
        v = np.array([fixed[a] for a in c_idx])
        a_rc = cov[np.ix_(r_idx, c_idx)] @ np.linalg.pinv(cov[np.ix_(c_idx, c_idx)])
        cond_cov = np.zeros((k, k))
        rr = cov[np.ix_(r_idx, r_idx)] - a_rc @ cov[np.ix_(c_idx, r_idx)]
        cond_cov[np.ix_(r_idx, r_idx)] = (rr + rr.T) / 2.0
        mean[c_idx] = v
        mean[r_idx] = a_rc @ v
        cov = cond_cov
    fs = scen.factor_shift
    for a, name in enumerate(factor_names):
        if a in fixed:
            continue
        if name in fs.factor:
            mean[a] += fs.factor[name]
        elif sectors[a] is not None and sectors[a] in fs.sector:
            mean[a] += fs.sector[str(sectors[a])]
        else:
            mean[a] += fs.global_
    chol = psd_cholesky(cov) if (fixed or mult != 1.0) else None
    return (cov, chol if chol is not None else psd_cholesky(corr),
            mean if np.any(mean != 0.0) else None)


def psd_cholesky(corr: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Lower-triangular L with L Lᵀ = corr, for a positive semi-definite matrix.

    Zero pivots (a factor that is a combination of earlier ones, e.g. correlation 1) give a
    zero column instead of failing, so singular but valid matrices work.
    """
    k = corr.shape[0]
    low = np.zeros((k, k))
    for j in range(k):
        d = corr[j, j] - low[j, :j] @ low[j, :j]
        if d > tol:
            low[j, j] = np.sqrt(d)
            low[j + 1 :, j] = (corr[j + 1 :, j] - low[j + 1 :, :j] @ low[j, :j]) / low[j, j]
        else:
            low[j, j] = 0.0
    return low


def _nearest_psd(corr: np.ndarray) -> np.ndarray:
    """Nearest correlation matrix by eigenvalue clipping and rescaling to a unit diagonal."""
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    fixed = (vecs * np.clip(vals, 1e-10, None)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def smallest_eigenvalue(corr: np.ndarray) -> float:
    """The smallest eigenvalue of a symmetric ``(K, K)`` matrix (0 for ``K = 0``)."""
    return float(np.linalg.eigvalsh(corr).min()) if corr.shape[0] else 0.0


def scaled_correlation(corr: np.ndarray, multiplier: float) -> np.ndarray:
    """Off-diagonal correlations × ``multiplier``, clipped to [−1, 1], unit diagonal.

    Parameters
    ----------
    corr : ndarray, shape (K, K)
        A correlation matrix.
    multiplier : float
        The scenario's ``correlation.factor_multiplier``.

    Returns
    -------
    ndarray, shape (K, K) — not necessarily positive semi-definite.
    """
    cov = np.clip(corr * multiplier, -1.0, 1.0)
    np.fill_diagonal(cov, 1.0)
    return cov


def correlation_matrix(names: list[str], cfg: CorrelationConfig) -> np.ndarray:
    """The factor correlation matrix for ``names`` as the config gives it, unchecked.

    Parameters
    ----------
    names : list of str, length K
        The model's factor names.
    cfg : CorrelationConfig
        ``matrix`` with ``factors`` (rows and columns picked for ``names``), else ``default``
        for every pair with ``pairs`` (``"a|b"``) overriding named pairs; a pair naming a
        factor not in ``names`` (a sector without customers) is left out.

    Returns
    -------
    ndarray, shape (K, K)
    """
    if cfg.matrix is not None and cfg.factors is not None:
        mat = np.asarray(cfg.matrix, dtype=float)
        idx = [cfg.factors.index(n) for n in names]
        return mat[np.ix_(idx, idx)]
    k = len(names)
    corr = np.full((k, k), cfg.default)
    np.fill_diagonal(corr, 1.0)
    for key, val in cfg.pairs.items():
        parts = key.split("|")
        if len(parts) == 2 and all(p in names for p in parts):
            a, b = (names.index(p) for p in parts)
            corr[a, b] = corr[b, a] = val
    return corr


def factor_correlation(names: list[str], cfg: CorrelationConfig) -> np.ndarray:
    """The factor correlation matrix for ``names``: :func:`correlation_matrix`, replaced by
    the nearest positive semi-definite matrix (with a warning) when it is not PSD."""
    corr = correlation_matrix(names, cfg)
    min_eig = smallest_eigenvalue(corr)
    if min_eig < PSD_TOLERANCE:  # checked before: allowed with repair = true
        warnings.warn(f"factor correlation matrix is not positive semi-definite (smallest "
                      f"eigenvalue {min_eig:.4g}); using the nearest PSD matrix",
                      UserWarning, stacklevel=2)
        corr = _nearest_psd(corr)
    return corr
