"""Book × config × scenario → :class:`ModelInputs`, the arrays the kernels read.

Everything the kernels need is computed here, once: stressed PDs (:mod:`.stress`), horizon
PDs, asset correlations (Basel corporate formula where the book gives none), factor
assignment, the factor correlation matrix and its Cholesky factor (:mod:`.factors`), copula
thresholds, customer groups, LGD parameters, and the timeline and policy arrays.

Nothing here validates: the config and the scenario are checked against the book before
(:func:`portsim.workflow.checks.check_run`), and :func:`build_inputs` trusts what it is given.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from portsim.config import ASSET_CORRELATION_CAP, CreditRiskPlusConfig, ModelConfig, RunConfig
from portsim.data import Book, SupplierTable
from portsim.data.configured import load_suppliers
from portsim.inputs.factors import (
    basel_asset_correlation,
    factor_correlation,
    factor_labels,
    factor_stress,
    psd_cholesky,
)
from portsim.inputs.mixture import MixtureInputs, build_mixture
from portsim.inputs.policy import PolicyInputs, build_policies
from portsim.inputs.stress import (
    default_events,
    effective_config,
    event_days,
    stressed_book,
    stressed_invoices,
    stressed_pd,
)
from portsim.inputs.suppliers import SupplierInputs, build_suppliers
from portsim.inputs.timeline import TimelineInputs, build_timeline, horizon_years

__all__ = [
    "MIXTURE_KERNEL",
    "ModelInputs",
    "asset_correlation",
    "auto_kernel",
    "basel_asset_correlation",
    "build_inputs",
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
    chol: np.ndarray  # (K, K) lower triangular: chol @ chol.T == corr
    corr: np.ndarray  # (K, K) factor covariance (correlation; conditional under a scenario)
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
    kernel: str  # "grouped", "per_customer", "skip" or MIXTURE_KERNEL
    timeline: TimelineInputs | None = None  # set when the config has a [timeline]
    z_shift: np.ndarray | None = None  # (K,) importance-sampling shift θ (None: 0)
    y_shift: np.ndarray | None = None  # (K,) factor shift (None: 0)
    insurance: PolicyInputs | None = None  # set when the config has an [insurance] section
    group_start: np.ndarray | None = None  # (G + 1,) int64: bounds of each group in group_perm
    group_perm: np.ndarray | None = None  # (n,) int64 customers ordered by group (skip kernel)
    default_day: np.ndarray | None = None  # (n,) int64 day of a scenario default event, 0: none
    mixture: MixtureInputs | None = None  # the CreditRisk+ sector model (its family only)
    suppliers: SupplierInputs | None = None  # set when the config has a [suppliers] table

    @property
    def n_customers(self) -> int:
        return int(self.exposure.shape[0])


#: ``ModelInputs.kernel`` of the CreditRisk+ family (:mod:`portsim.kernels.mixture`).
MIXTURE_KERNEL = "creditriskplus"


def asset_correlation(book: Book, model: ModelConfig) -> np.ndarray:
    """Each customer's asset correlation R (the square of its factor loading): the book's
    ``asset_correlation`` where given, else ``[model] asset_correlation`` (a number, or
    ``"basel"``: :func:`basel_asset_correlation` of the PD), before any scenario.

    Returns
    -------
    ndarray, shape (n_customers,)
    """
    r_given = np.asarray(book.asset_correlation, dtype=float)
    if model.asset_correlation == "basel":
        r_default = basel_asset_correlation(book.p_default)
    else:
        r_default = np.full(book.n_customers, float(model.asset_correlation))
    return np.where(np.isfinite(r_given), r_given, r_default)


def build_inputs(
    book: Book, config: RunConfig, open_invoices: pd.DataFrame | None = None,
    suppliers: SupplierTable | None = None,
) -> ModelInputs:
    """Turn the book and the config (with its scenario) into kernel inputs.

    Parameters
    ----------
    book : Book
        The validated receivables book.
    config : RunConfig
        Model, simulation and scenario settings. With a ``[timeline]`` table the horizon is
        the timeline's (``horizon_months / 12`` years, :func:`~portsim.inputs.timeline.
        horizon_years`) and the timeline arrays are built too.
    open_invoices : DataFrame, optional
        Open invoices at the as-of date (see :func:`portsim.inputs.timeline.build_timeline`).
    suppliers : SupplierTable, optional
        The supplier table of ``[suppliers]`` (read here when the config names one and none
        is given); see :mod:`portsim.inputs.suppliers`.

    Returns
    -------
    ModelInputs

    Notes
    -----
    The config must have passed :func:`portsim.workflow.checks.check_run` against this book:
    nothing is checked here.
    """
    model = config.model
    n = book.n_customers
    scen = config.scenario
    stressed = not scen.is_identity
    if stressed:
        book = stressed_book(book, scen)
        open_invoices = stressed_invoices(open_invoices, scen)
        config = effective_config(config)
    p1 = stressed_pd(book, config)
    events = default_events(book, config) if stressed else None
    if events is not None:
        p1[events[0]] = 1.0
    t = horizon_years(config.timeline) if config.timeline is not None else model.horizon_years
    with np.errstate(divide="ignore"):
        hazard = -np.log1p(-p1)
    p_h = -np.expm1(-hazard * t)
    p_h = np.where(p1 >= 1.0, 1.0, p_h)

    r = asset_correlation(book, model)
    if scen.correlation.asset_multiplier != 1.0:
        r = np.minimum(r * scen.correlation.asset_multiplier, ASSET_CORRELATION_CAP)

    factor_names, factor = np.unique(factor_labels(book, model.factors), return_inverse=True)
    sector_names, sector = np.unique(np.asarray(book.sector).astype(str), return_inverse=True)
    corr = factor_correlation(list(factor_names), model.correlation)
    y_shift = None
    if stressed:
        corr, chol, y_shift = factor_stress(corr, tuple(str(f) for f in factor_names), config)
    else:
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

    sector_tuple = tuple(str(x) for x in sector_names)
    mixture = None
    if model.family == "creditriskplus":
        mixture = build_mixture(sector_tuple, config.creditriskplus or CreditRiskPlusConfig())
        kernel = MIXTURE_KERNEL
    else:
        kernel = _choose_kernel(config, group, len(uniq), p_h)
    group_perm = np.argsort(group, kind="stable")
    group_start = np.searchsorted(group[group_perm], np.arange(len(uniq) + 1))

    timeline = (build_timeline(book, config, open_invoices)
                if config.timeline is not None else None)
    if suppliers is None and config.suppliers is not None:
        suppliers = load_suppliers(config)
    supplier_inputs = None
    if suppliers is not None and timeline is not None:
        supplier_inputs = build_suppliers(
            suppliers, book, config, factor_names=tuple(str(x) for x in factor_names),
            dof=dof, horizon_years=float(t), timeline=timeline)
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
        sector_names=sector_tuple,
        customer_ids=tuple(str(x) for x in book.customer_id),
        kernel=kernel,
        timeline=timeline,
        insurance=build_policies(book, config, timeline),
        group_start=c(group_start, dtype=np.int64),
        group_perm=c(group_perm, dtype=np.int64),
        y_shift=None if y_shift is None else c(y_shift, dtype=float),
        default_day=None if events is None else c(event_days(n, events)),
        mixture=mixture,
        suppliers=supplier_inputs,
    )


# Costs behind kernel = "auto", in nanoseconds, measured with benchmarks/bench_tails.py
# --kernel-costs (10,000 customers, 1 to 1000 groups, one thread): the grouped kernel spends
# about 24 per group (one Φ), 2.5 per customer (one uniform) and 19 more per default; the skip
# sampler about 67 per group (Φ, a logarithm and the draw that steps past the group) and 40
# per default (a uniform and a logarithm), or the grouped kernel's costs for a group drawn
# customer by customer (conditional PD above kernels.SKIP_DENSE_PD).
_NS_GROUP_GROUPED, _NS_CUSTOMER, _NS_DEFAULT = 24.0, 2.5, 19.0
_NS_GROUP_SKIP, _NS_DEFAULT_SKIP = 67.0, 40.0


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
        ``"skip"`` when its predicted cost per path, 67·G + Σ_g min(40·n_g·p_g,
        n_g·(2.5 + 19·p_g)), is below the grouped kernel's, 24·G + Σ_g n_g·(2.5 + 19·p_g)
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
    for the default day (the checks refuse it with a ``[timeline]``).
    """
    kernel = config.simulation.kernel
    if kernel != "auto":
        return kernel
    size = np.bincount(group, minlength=n_groups)
    pd_ = np.bincount(group, weights=p_horizon, minlength=n_groups) / np.maximum(size, 1)
    return auto_kernel(size, pd_, timeline=config.timeline is not None)
