"""Book × config × scenario → :class:`ModelInputs`, the arrays the kernels read.

Everything the kernels need is computed and checked here, once: stressed PDs, horizon PDs,
asset correlations (Basel corporate formula where the book gives none), factor assignment, the
factor correlation matrix and its Cholesky factor, copula thresholds, customer groups, LGD
parameters.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from portsim.book import Book
from portsim.config import CorrelationConfig, RunConfig
from portsim.errors import ConfigError, Problem
from portsim.policy import PolicyInputs, build_policies
from portsim.timeline import TimelineInputs, build_timeline, horizon_years

__all__ = [
    "ModelInputs",
    "auto_kernel",
    "basel_asset_correlation",
    "build_inputs",
    "factor_correlation",
    "psd_cholesky",
    "stressed_pd",
]


class ModelInputs(NamedTuple):
    """C-contiguous arrays for the kernels (see docs/design.md for each field).

    Shapes: ``n`` customers, ``K`` factors, ``G`` groups, ``S`` sectors.
    """

    exposure: np.ndarray  # (n,) book currency
    p_default: np.ndarray  # (n,) 1-year PD after the scenario
    p_horizon: np.ndarray  # (n,) PD within the horizon
    hazard: np.ndarray  # (n,) per year
    asset_correlation: np.ndarray  # (n,) R
    loading: np.ndarray  # (n,) √R
    idio: np.ndarray  # (n,) √(1 − R)
    threshold: np.ndarray  # (n,) copula threshold
    factor: np.ndarray  # (n,) int64
    sector: np.ndarray  # (n,) int64
    lgd_mean: np.ndarray  # (n,)
    lgd_probit: np.ndarray  # (n,) Φ⁻¹(lgd_mean)
    lgd_conc: np.ndarray  # (n,) Beta α + β, 0 for a fixed LGD
    lgd_link: float
    chol: np.ndarray  # (K, K) lower triangular
    corr: np.ndarray  # (K, K)
    dof: float  # 0 for the Gaussian copula
    group: np.ndarray  # (n,) int64
    group_factor: np.ndarray  # (G,) int64
    group_loading: np.ndarray  # (G,)
    group_idio: np.ndarray  # (G,)
    group_threshold: np.ndarray  # (G,)
    horizon_years: float
    factor_names: tuple[str, ...]
    sector_names: tuple[str, ...]
    customer_ids: tuple[str, ...]
    kernel: str  # "grouped", "per_customer" or "skip"
    timeline: TimelineInputs | None = None  # set when the config has a [timeline]
    z_shift: np.ndarray | None = None  # (K,) importance-sampling shift θ (None: 0)
    y_shift: np.ndarray | None = None  # (K,) factor shift (None: 0)
    insurance: PolicyInputs | None = None  # set when the config has an [insurance] section
    group_start: np.ndarray | None = None  # (G + 1,) int64: bounds of each group in group_perm
    group_perm: np.ndarray | None = None  # (n,) int64 customers ordered by group (skip kernel)

    @property
    def n_customers(self) -> int:
        return int(self.exposure.shape[0])


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


def stressed_pd(book: Book, config: RunConfig) -> np.ndarray:
    """1-year PDs after the scenario's multipliers (global × sector × country × rating, ≤ 1)."""
    m = config.scenario.pd_multiplier
    mult = np.full(book.n_customers, m.global_)
    for field, table in (("sector", m.sector), ("country", m.country), ("rating", m.rating)):
        if not table:
            continue
        col = getattr(book, field)
        if col is None:
            raise ConfigError([Problem("scenario", f"pd_multiplier.{field}", "needs a "
                                       f"'{field}' column in the book")])
        for key, val in table.items():
            mult[col == key] *= val
    return np.minimum(book.p_default * mult, 1.0)


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


def factor_correlation(names: list[str], cfg: CorrelationConfig) -> np.ndarray:
    """The factor correlation matrix for ``names``, checked (shape, symmetry, diagonal, PSD)."""
    k = len(names)
    where = "config [model.correlation]"
    if cfg.matrix is not None and cfg.factors is not None:
        mat = np.asarray(cfg.matrix, dtype=float)
        if mat.ndim != 2 or mat.shape != (len(cfg.factors), len(cfg.factors)):
            raise ConfigError([Problem(where, f"matrix of shape {mat.shape}", "must be square "
                                       f"with one row per factor ({len(cfg.factors)} factors)")])
        missing = [n for n in names if n not in cfg.factors]
        if missing:
            raise ConfigError([Problem(where, "factors", f"lacks {', '.join(missing)}",
                                       "add a row and column for each factor of the book")])
        idx = [cfg.factors.index(n) for n in names]
        corr = mat[np.ix_(idx, idx)]
    else:
        corr = np.full((k, k), cfg.default)
        np.fill_diagonal(corr, 1.0)
        for key, val in cfg.pairs.items():
            parts = key.split("|")
            if len(parts) != 2 or any(p not in names for p in parts):
                raise ConfigError([Problem(where, f"pairs.{key!r}", "must name two factors "
                                           "as 'a|b'", f"factors: {', '.join(names)}")])
            a, b = (names.index(p) for p in parts)
            corr[a, b] = corr[b, a] = val
    problems = []
    if not np.allclose(corr, corr.T, atol=1e-12):
        problems.append(Problem(where, "matrix", "is not symmetric"))
    if not np.allclose(np.diag(corr), 1.0, atol=1e-12):
        problems.append(Problem(where, "matrix", "must have a unit diagonal"))
    if np.any(np.abs(corr) > 1.0 + 1e-12):
        problems.append(Problem(where, "matrix", "has entries outside [-1, 1]"))
    if problems:
        raise ConfigError(problems)
    min_eig = float(np.linalg.eigvalsh(corr).min()) if k else 0.0
    if min_eig < -1e-10:
        if not cfg.repair:
            raise ConfigError([Problem(where, "matrix", f"is not positive semi-definite "
                                       f"(smallest eigenvalue {min_eig:.4g})",
                                       "fix the correlations or set repair = true to use the "
                                       "nearest positive semi-definite matrix")])
        warnings.warn(f"factor correlation matrix is not positive semi-definite (smallest "
                      f"eigenvalue {min_eig:.4g}); using the nearest PSD matrix",
                      UserWarning, stacklevel=2)
        corr = _nearest_psd(corr)
    return corr


def build_inputs(
    book: Book, config: RunConfig, open_invoices: pd.DataFrame | None = None
) -> ModelInputs:
    """Turn the book and the config (with its scenario) into kernel inputs.

    Parameters
    ----------
    book : Book
        The validated receivables book.
    config : RunConfig
        Model, simulation and scenario settings. With a ``[timeline]`` table the horizon is
        the timeline's (days / 365.25 years) and the timeline arrays are built too.
    open_invoices : DataFrame, optional
        Open invoices at the as-of date (see :func:`portsim.timeline.build_timeline`).

    Returns
    -------
    ModelInputs
    """
    model = config.model
    n = book.n_customers
    p1 = stressed_pd(book, config)
    t = horizon_years(config.timeline) if config.timeline is not None else model.horizon_years
    with np.errstate(divide="ignore"):
        hazard = -np.log1p(-p1)
    p_h = -np.expm1(-hazard * t)
    p_h = np.where(p1 >= 1.0, 1.0, p_h)

    r_given = np.asarray(book.asset_correlation, dtype=float)
    if model.asset_correlation == "basel":
        r_default = basel_asset_correlation(book.p_default)
    else:
        r_default = np.full(n, float(model.asset_correlation))
    r = np.where(np.isfinite(r_given), r_given, r_default)

    if model.factors == "single":
        labels = np.array(["all"] * n, dtype=object)
    elif model.factors == "sector":
        labels = np.asarray(book.sector, dtype=object)
    else:
        labels = np.array([f"{s}/{c}" for s, c in zip(book.sector, book.country, strict=True)],
                          dtype=object)
    factor_names, factor = np.unique(labels.astype(str), return_inverse=True)
    sector_names, sector = np.unique(np.asarray(book.sector).astype(str), return_inverse=True)
    corr = factor_correlation(list(factor_names), model.correlation)
    chol = psd_cholesky(corr)

    if model.copula == "student_t":
        assert model.dof is not None
        dof = float(model.dof)
        threshold = stats.t.ppf(p_h, dof)
    else:
        dof = 0.0
        threshold = special.ndtri(p_h)
    threshold = np.where(p_h <= 0.0, -np.inf, np.where(p_h >= 1.0, np.inf, threshold))

    lgd_mean = np.asarray(book.lgd, dtype=float)
    sd = np.nan_to_num(np.asarray(book.lgd_sd, dtype=float))
    var_max = lgd_mean * (1.0 - lgd_mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        conc = np.where((sd > 0) & (var_max > 0), var_max / sd**2 - 1.0, 0.0)
    lgd_probit = special.ndtri(np.clip(lgd_mean, 0.0, 1.0))

    loading = np.sqrt(r)
    idio = np.sqrt(1.0 - r)
    keys = np.stack([factor.astype(float), threshold, loading], axis=1)
    uniq, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.reshape(-1)
    g_factor = uniq[:, 0].astype(np.int64)
    g_threshold = uniq[:, 1].copy()
    g_loading = uniq[:, 2].copy()
    g_idio = np.sqrt(1.0 - g_loading**2)

    kernel = _choose_kernel(config, group, len(uniq), p_h)
    group_perm = np.argsort(group, kind="stable")
    group_start = np.searchsorted(group[group_perm], np.arange(len(uniq) + 1))

    timeline = (build_timeline(book, config, open_invoices)
                if config.timeline is not None else None)
    c = np.ascontiguousarray
    return ModelInputs(
        exposure=c(book.exposure, dtype=float),
        p_default=c(p1),
        p_horizon=c(p_h),
        hazard=c(hazard),
        asset_correlation=c(r),
        loading=c(loading),
        idio=c(idio),
        threshold=c(threshold),
        factor=c(factor, dtype=np.int64),
        sector=c(sector, dtype=np.int64),
        lgd_mean=c(lgd_mean),
        lgd_probit=c(lgd_probit),
        lgd_conc=c(conc),
        lgd_link=float(model.lgd_factor_sensitivity),
        chol=c(chol),
        corr=c(corr),
        dof=dof,
        group=c(group, dtype=np.int64),
        group_factor=c(g_factor),
        group_loading=c(g_loading),
        group_idio=c(g_idio),
        group_threshold=c(g_threshold),
        horizon_years=float(t),
        factor_names=tuple(str(x) for x in factor_names),
        sector_names=tuple(str(x) for x in sector_names),
        customer_ids=tuple(str(x) for x in book.customer_id),
        kernel=kernel,
        timeline=timeline,
        insurance=build_policies(book, config, timeline),
        group_start=c(group_start, dtype=np.int64),
        group_perm=c(group_perm, dtype=np.int64),
    )


# Costs behind kernel = "auto", in nanoseconds, measured with benchmarks/bench_tails.py
# --kernel-costs (10,000 customers, 1 to 1000 groups, one thread): the grouped kernel spends
# about 34 per group (one Φ), 2.3 per customer (one uniform) and 18 more per default; the skip
# sampler about 70 per group (Φ, a logarithm and the draw that steps past the group) and 40
# per default (a uniform and a logarithm), or the grouped kernel's costs for a group drawn
# customer by customer (conditional PD above kernels.SKIP_DENSE_PD).
_NS_GROUP_GROUPED, _NS_CUSTOMER, _NS_DEFAULT = 34.0, 2.3, 18.0
_NS_GROUP_SKIP, _NS_DEFAULT_SKIP = 70.0, 40.0


def auto_kernel(group_size: np.ndarray, group_pd: np.ndarray, *, timeline: bool) -> str:
    """The kernel ``kernel = "auto"`` picks: the cheapest by the measured costs above.

    Parameters
    ----------
    group_size : ndarray, shape (G,)
        Customers per group.
    group_pd : ndarray, shape (G,)
        Default probability of the group's customers within the horizon (under the sampling
        measure for an importance-sampling run), fraction.
    timeline : bool
        A timeline run (the skip sampler does not draw default days).

    Returns
    -------
    str
        ``"per_customer"`` when groups hold fewer than 8 customers on average, else
        ``"skip"`` when its predicted cost per path, 70·G + Σ_g min(40·n_g·p_g,
        n_g·(2.3 + 18·p_g)), is below the grouped kernel's, 34·G + Σ_g n_g·(2.3 + 18·p_g)
        (default-only runs), else ``"grouped"``.
    """
    size = np.asarray(group_size, dtype=float)
    pd_ = np.asarray(group_pd, dtype=float)
    n_groups, n = size.size, float(size.sum())
    if n_groups * 8 > n:
        return "per_customer"
    if timeline:
        return "grouped"
    dense = size * (_NS_CUSTOMER + _NS_DEFAULT * pd_)
    grouped = _NS_GROUP_GROUPED * n_groups + float(dense.sum())
    skip = _NS_GROUP_SKIP * n_groups + float(np.minimum(_NS_DEFAULT_SKIP * size * pd_,
                                                        dense).sum())
    return "skip" if skip < grouped else "grouped"


def _choose_kernel(config: RunConfig, group: np.ndarray, n_groups: int,
                   p_horizon: np.ndarray) -> str:
    """The config's kernel, or for ``"auto"`` :func:`auto_kernel`.

    ``"skip"`` draws the default decision only, not the latent variable the timeline needs
    for the default day, so it is refused with a ``[timeline]``.
    """
    kernel = config.simulation.kernel
    if kernel == "skip" and config.timeline is not None:
        raise ConfigError([Problem("config [simulation]", "kernel='skip'", "draws defaults "
                                   "only, not the default day a [timeline] run needs",
                                   'use kernel = "grouped" (or "auto")')])
    if kernel != "auto":
        return kernel
    size = np.bincount(group, minlength=n_groups)
    pd_ = np.bincount(group, weights=p_horizon, minlength=n_groups) / np.maximum(size, 1)
    return auto_kernel(size, pd_, timeline=config.timeline is not None)
