"""Book × config × scenario → :class:`ModelInputs`, the arrays the kernels read.

Everything the kernels need is computed and checked here, once: stressed PDs, horizon PDs,
asset correlations (Basel corporate formula where the book gives none), factor assignment, the
factor correlation matrix and its Cholesky factor, copula thresholds, customer groups, LGD
parameters.

Scenario stress (``config.scenario``, a :class:`~portsim.config.models.ScenarioConfig`) is applied
here, in this order; an empty scenario changes nothing (bit for bit):

1. **book** (:func:`stressed_book`): LGD means + ``lgd.shift`` clipped to [0, 1] (a Beta sd
   is capped at 95 % of the largest a Beta of the new mean allows), ``annual_sales`` ×
   (1 + ``sales.change``), every customer's terms = ``delays.terms_days``;
2. **PDs** (:func:`stressed_pd`): global × sector × country × rating multipliers, capped at 1;
   the customers of ``default_events`` get PD 1 (see below);
3. **asset correlations**: R × ``correlation.asset_multiplier``, capped at 0.99;
4. **factors** (:func:`factor_stress`): off-diagonal correlations × ``factor_multiplier``;
   then factors of ``factor_condition`` are fixed at their values and the others get their
   conditional distribution (mean Σ_rc·Σ_cc⁻¹·v, covariance Σ_rr − Σ_rc·Σ_cc⁻¹·Σ_cr), which
   the kernels draw as y = y_shift + chol @ z with the conditioned rows of ``chol`` zero; then
   ``factor_shift`` moves the means of the unconditioned factors;
5. **payment delays and insurance** (:func:`effective_config`): the scenario's delay
   multiplier multiplies the config's ``delays.multiplier`` and its ``shift_days`` add to the
   config's; ``policies`` keeps only the named insurance variants, ``insurance =
   "withdrawn"`` drops them all.

Default events: a named customer defaults on every path — PD 1, so every kernel sees a
default with the draws it always makes (the customer still consumes its uniform or normal,
so the other customers' default draws are those of the run without the event); a timeline
run puts the default on the event's day (``ModelInputs.default_day``). The LGD is drawn on
every default from the LGD stream in customer order, as always.
"""

from __future__ import annotations

import dataclasses
import warnings
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from portsim.config.models import (
    ASSET_CORRELATION_CAP,
    CorrelationConfig,
    RunConfig,
    ScenarioConfig,
    did_you_mean,
)
from portsim.data.book import Book
from portsim.errors import ConfigError, Problem
from portsim.inputs.policy import PolicyInputs, build_policies
from portsim.inputs.timeline import TimelineInputs, build_timeline, horizon_days, horizon_years

__all__ = [
    "ModelInputs",
    "auto_kernel",
    "basel_asset_correlation",
    "build_inputs",
    "check_scenario",
    "effective_config",
    "factor_correlation",
    "factor_stress",
    "psd_cholesky",
    "stressed_book",
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
    kernel: str  # "grouped", "per_customer" or "skip"
    timeline: TimelineInputs | None = None  # set when the config has a [timeline]
    z_shift: np.ndarray | None = None  # (K,) importance-sampling shift θ (None: 0)
    y_shift: np.ndarray | None = None  # (K,) factor shift (None: 0)
    insurance: PolicyInputs | None = None  # set when the config has an [insurance] section
    group_start: np.ndarray | None = None  # (G + 1,) int64: bounds of each group in group_perm
    group_perm: np.ndarray | None = None  # (n,) int64 customers ordered by group (skip kernel)
    default_day: np.ndarray | None = None  # (n,) int64 day of a scenario default event, 0: none

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
    """1-year PDs after the scenario's multipliers (global × sector × country × rating, ≤ 1).

    Customers of the scenario's ``default_events`` are not set here (see
    :func:`build_inputs`, which gives them PD 1).
    """
    m = config.scenario.pd_multiplier
    mult = np.full(book.n_customers, m.global_)
    for field, table in (("sector", m.sector), ("country", m.country), ("rating", m.rating)):
        if not table:
            continue
        col = getattr(book, field)
        if col is None:
            raise ConfigError([Problem(config.scenario.locate(("pd_multiplier", field)),
                                       f"pd_multiplier.{field}", "needs a "
                                       f"'{field}' column in the book")])
        for key, val in table.items():
            mult[col == key] *= val
    return np.minimum(book.p_default * mult, 1.0)


#: A shifted LGD's Beta sd is capped at this fraction of the largest sd, √(m(1 − m)).
LGD_SD_CAP = 0.95


def stressed_book(book: Book, scenario: ScenarioConfig) -> Book:
    """The book with the scenario's LGD shift, sales change and payment terms applied.

    Parameters
    ----------
    book : Book
        The validated book.
    scenario : ScenarioConfig
        ``lgd.shift`` is added to every LGD mean, clipped to [0, 1], and a Beta LGD's sd is
        capped at ``LGD_SD_CAP`` × √(m(1 − m)) for the new mean m; ``annual_sales`` are
        multiplied by 1 + ``sales.change``; ``delays.terms_days`` replaces every
        customer's ``payment_terms_days``.

    Returns
    -------
    Book
        ``book`` itself when the scenario changes none of these.
    """
    upd: dict[str, np.ndarray] = {}
    if scenario.lgd.shift != 0.0:
        m = np.clip(np.asarray(book.lgd, dtype=float) + scenario.lgd.shift, 0.0, 1.0)
        sd = np.asarray(book.lgd_sd, dtype=float)
        upd["lgd"] = m
        upd["lgd_sd"] = np.where(sd > 0, np.minimum(sd, LGD_SD_CAP * np.sqrt(m * (1.0 - m))),
                                 sd)
    if scenario.sales.change != 0.0:
        upd["annual_sales"] = np.asarray(book.annual_sales, dtype=float) * (
            1.0 + scenario.sales.change)
    if scenario.delays.terms_days is not None:
        upd["payment_terms_days"] = np.full(book.n_customers,
                                            float(scenario.delays.terms_days))
    return dataclasses.replace(book, **upd) if upd else book  # type: ignore[arg-type]


def effective_config(config: RunConfig) -> RunConfig:
    """The config with the scenario's payment-delay and insurance changes folded in.

    The scenario's ``delays.multiplier`` multiplies the config's ``delays.multiplier`` and its
    ``delays.shift_days`` add to the config's ``delays.shift_days``; ``policies`` keeps the
    named variants of ``[insurance.policies]`` (``none`` is always evaluated: a list of
    ``["none"]`` alone, like ``insurance = "withdrawn"``, leaves no variant and no
    ``[insurance]``). Only :func:`build_inputs` uses the result; the run's recorded config
    keeps the scenario as written.
    """
    scen = config.scenario
    upd: dict[str, object] = {}
    d = scen.delays
    if d.shift_days != 0.0 or d.multiplier != 1.0:
        upd["delays"] = config.delays.model_copy(update={
            "shift_days": config.delays.shift_days + d.shift_days,
            "multiplier": config.delays.multiplier * d.multiplier})
    ins = config.insurance
    if ins is not None and (scen.insurance == "withdrawn" or scen.policies is not None):
        keep = [] if scen.insurance == "withdrawn" else [p for p in (scen.policies or [])
                                                         if p in ins.policies]
        upd["insurance"] = (ins.model_copy(update={"policies": {k: ins.policies[k]
                                                               for k in keep}})
                            if keep else None)
    return config.model_copy(update=upd) if upd else config


def _factor_sectors(names: tuple[str, ...] | list[str], factors: str) -> list[str | None]:
    """The sector of each factor (None for the single factor)."""
    if factors == "single":
        return [None] * len(names)
    return [n.split("/", 1)[0] for n in names]


def _factor_labels(book: Book, factors: str) -> np.ndarray:
    """Each customer's factor name: ``all``, its sector, or ``sector/country``."""
    n = book.n_customers
    if factors == "single":
        return np.array(["all"] * n)
    if factors == "sector":
        return np.asarray(book.sector).astype(str)
    return np.array([f"{s}/{c}" for s, c in zip(book.sector, book.country, strict=True)])


def check_scenario(book: Book, config: RunConfig) -> list[Problem]:
    """Problems of the scenario against the book: unknown sectors, countries, ratings,
    factors and customers (with did-you-mean hints), event dates outside the horizon,
    sector stress on a single-factor model, conditioning with importance sampling.

    Each problem is located in the scenario file (line of the key).
    """
    scen = config.scenario
    if scen.is_identity:
        return []
    where = scen.locate
    factor_names = sorted(set(_factor_labels(book, config.model.factors).tolist()))
    probs: list[Problem] = []

    sectors = sorted({str(s) for s in book.sector})
    countries = sorted({str(c) for c in book.country})
    ratings = (sorted({str(r) for r in book.rating if r}) if book.rating is not None
               else None)
    pm = scen.pd_multiplier
    for s in pm.sector:
        if s not in sectors:
            probs.append(Problem(where(("pd_multiplier", "sector", s)),
                                 f"pd_multiplier.sector.{s}", "is not a sector of the book",
                                 did_you_mean(s, sectors, "sectors")))
    for c in pm.country:
        if c not in countries:
            probs.append(Problem(where(("pd_multiplier", "country", c)),
                                 f"pd_multiplier.country.{c}", "is not a country of the book",
                                 did_you_mean(c, countries, "countries")))
    for r in pm.rating:
        if ratings is None:
            probs.append(Problem(where(("pd_multiplier", "rating", r)),
                                 f"pd_multiplier.rating.{r}", "needs a 'rating' column in "
                                 "the book", "multiply PDs by sector or country instead"))
        elif r not in ratings:
            probs.append(Problem(where(("pd_multiplier", "rating", r)),
                                 f"pd_multiplier.rating.{r}", "is not a rating of the book",
                                 did_you_mean(r, ratings, "ratings")))
    single = config.model.factors == "single"
    for table in ("factor_shift", "factor_condition"):
        part = getattr(scen, table)
        for s in part.sector:
            if single:
                probs.append(Problem(where((table, "sector", s)), f"{table}.sector.{s}",
                                     "moves a sector, but model.factors = 'single' gives "
                                     "every customer the same factor",
                                     f"use {table}.factor.all (every customer) or "
                                     "model.factors = 'sector'"))
            elif s not in sectors:
                probs.append(Problem(where((table, "sector", s)), f"{table}.sector.{s}",
                                     "is not a sector of the book",
                                     did_you_mean(s, sectors, "sectors")))
        for f in part.factor:
            if f not in factor_names:
                probs.append(Problem(where((table, "factor", f)), f"{table}.factor.{f}",
                                     f"is not a factor of the model (model.factors = "
                                     f"'{config.model.factors}')",
                                     did_you_mean(f, factor_names, "factors")))
    if (config.simulation.tail_sampling != "plain"
            and (scen.factor_condition.sector or scen.factor_condition.factor)):
        probs.append(Problem(where(("factor_condition",)), "factor_condition",
                             "is not supported with tail_sampling = 'importance' (the exact "
                             "per-customer moments assume unit factor variances)",
                             "use tail_sampling = 'plain', or factor_shift"))
    ids = [str(x) for x in book.customer_id]
    known = set(ids)
    tl = config.timeline
    n_days = horizon_days(tl) if tl is not None else 0
    for k, ev in enumerate(scen.default_events):
        if ev.customer not in known:
            probs.append(Problem(where(("default_events", k, "customer")),
                                 f"default_events[{k}].customer={ev.customer!r}",
                                 "is not a customer of the book",
                                 did_you_mean(ev.customer, ids, "customers")))
        if tl is None:
            continue
        if ev.date is None:
            probs.append(Problem(where(("default_events", k, "customer")),
                                 f"default_events[{k}].date", "is missing: a [timeline] run "
                                 "needs the day of default",
                                 f"add date = {tl.as_of.replace(day=28).isoformat()} (after "
                                 f"the as-of date {tl.as_of.isoformat()})"))
            continue
        day = (ev.date - tl.as_of).days
        if not 1 <= day <= n_days:
            end = date.fromordinal(tl.as_of.toordinal() + n_days)
            probs.append(Problem(where(("default_events", k, "date")),
                                 f"default_events[{k}].date={ev.date.isoformat()}",
                                 f"is outside the horizon ({tl.as_of.isoformat()}, "
                                 f"{end.isoformat()}]",
                                 "give a day after the as-of date, within the horizon"))
    return probs


def _default_events(book: Book, config: RunConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """(customers with an event, their default day) of the scenario; None without events.

    The day is counted from the as-of date with a timeline, and 0 (unused) without.
    """
    events = config.scenario.default_events
    if not events:
        return None
    index = {str(c): i for i, c in enumerate(book.customer_id)}
    tl = config.timeline
    cust = np.array([index[ev.customer] for ev in events], dtype=np.int64)
    days = np.array([(ev.date - tl.as_of).days if tl is not None and ev.date is not None
                     else 0 for ev in events], dtype=np.int64)
    return cust, days


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
        docstring); ``model.correlation.repair`` allows the nearest PSD matrix when the
        scaled correlations are not positive semi-definite.

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
        cov = np.clip(corr * mult, -1.0, 1.0)
        np.fill_diagonal(cov, 1.0)
        min_eig = float(np.linalg.eigvalsh(cov).min()) if k else 0.0
        if min_eig < -1e-10:
            where = scen.locate(("correlation", "factor_multiplier"))
            lam = float(np.linalg.eigvalsh(corr).min())
            most = f"at most {1.0 / (1.0 - lam):.4g} keeps it PSD" if lam < 1.0 else ""
            if not config.model.correlation.repair:
                raise ConfigError([Problem(
                    where, f"correlation.factor_multiplier={mult!r}",
                    f"makes the factor correlation matrix not positive semi-definite "
                    f"(smallest eigenvalue {min_eig:.4g})",
                    f"use a smaller multiplier ({most}), or set model.correlation.repair = "
                    "true for the nearest PSD matrix")])
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
        Open invoices at the as-of date (see :func:`portsim.inputs.timeline.build_timeline`).

    Returns
    -------
    ModelInputs

    Raises
    ------
    ConfigError
        For a scenario that does not fit the book (:func:`check_scenario`), or factor
        correlations that are not positive semi-definite.
    """
    model = config.model
    n = book.n_customers
    scen = config.scenario
    stressed = not scen.is_identity
    if stressed:
        problems = check_scenario(book, config)
        if problems:
            raise ConfigError(problems)
        book = stressed_book(book, scen)
        config = effective_config(config)
    p1 = stressed_pd(book, config)
    events = _default_events(book, config) if stressed else None
    if events is not None:
        p1[events[0]] = 1.0
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
    if scen.correlation.asset_multiplier != 1.0:
        r = np.minimum(r * scen.correlation.asset_multiplier, ASSET_CORRELATION_CAP)

    factor_names, factor = np.unique(_factor_labels(book, model.factors), return_inverse=True)
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
        y_shift=None if y_shift is None else c(y_shift, dtype=float),
        default_day=None if events is None else c(_event_days(n, events)),
    )


def _event_days(n: int, events: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per-customer default day of the scenario's events, shape (n,) int64 (0: none)."""
    days = np.zeros(n, dtype=np.int64)
    days[events[0]] = events[1]
    return days


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
