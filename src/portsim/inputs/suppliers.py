"""Supplier table × config × scenario → :class:`SupplierInputs`, the arrays of
:mod:`portsim.kernels.suppliers`.

Suppliers sit in the customers' factor model: each loads with √R on the factor of its sector
(or sector/country, or the single factor, as ``model.factors`` says) and defaults when its
latent variable falls below the threshold of its horizon PD, on the day the constant hazard
gives — exactly as a customer. The scenario stresses them as it stresses customers: PD
multipliers (global, sector, country, rating), asset-correlation multiplier, factor shifts,
conditioning and correlation scaling (through the factors themselves), and default events
(``supplier_default_events``).

A supplier's default costs (all in the book currency, within the horizon):

* its **prepayments** outstanding, lost on the default day (a loss, not a cash flow: the
  money left before the as-of date);
* the **replacement premium**: ``replacement_premium`` × ``monthly_purchases`` per month on
  the purchases of the ``replacement_months`` from the default day, paid ``dpo_days`` after
  each day's purchase (a cash outflow);
* the **lost sales**: ``dependent_sales_share`` of the planned sales of each day of the
  replacement (the shares of suppliers down at the same time add up, to at most all sales).
  Their collections are lost ``collection_lag_days`` later (the book's sales-weighted payment
  terms plus mean delay) and the cost of goods they would have needed (``cogs_share``) is not
  bought, so not paid ``dpo_days`` later: the cash lost is the margin, with its timing.

Planned sales per day are the timeline's forward sales of each period spread evenly over its
days.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special, stats

from portsim.config import ASSET_CORRELATION_CAP, RunConfig
from portsim.data import Book
from portsim.data.suppliers import SupplierTable
from portsim.inputs.factors import basel_asset_correlation, factor_labels_of
from portsim.inputs.stress import stressed_pd_of
from portsim.inputs.timeline import DAYS_PER_MONTH, TimelineInputs

__all__ = ["SupplierInputs", "build_suppliers", "supplier_event_days"]


class SupplierInputs(NamedTuple):
    """Arrays of the supplier kernel (``s`` suppliers, ``n_days`` days of the horizon)."""

    supplier_ids: tuple[str, ...]
    sector: tuple[str, ...]  # (s,) sector of each supplier
    p_default: np.ndarray  # (s,) 1-year PD after the scenario
    p_horizon: np.ndarray  # (s,) PD within the horizon
    hazard: np.ndarray  # (s,) per year
    asset_correlation: np.ndarray  # (s,) R
    factor: np.ndarray  # (s,) int64: index into the customers' factors
    loading: np.ndarray  # (s,) √R
    idio: np.ndarray  # (s,) √(1 − R)
    threshold: np.ndarray  # (s,) copula threshold
    event_day: np.ndarray  # (s,) int64: day of a scenario default event, 0: none
    prepayment: np.ndarray  # (s,) lost at default
    premium_per_day: np.ndarray  # (s,) extra purchase cost per day of the replacement
    replacement_days: np.ndarray  # (s,) int64
    dependent_share: np.ndarray  # (s,) fraction of sales lost while it is replaced
    sales_per_day: np.ndarray  # (n_days + 1,) planned sales of each day (index 0: unused)
    collection_lag_days: int
    dpo_days: int
    cogs_share: float

    @property
    def n_suppliers(self) -> int:
        return int(self.prepayment.shape[0])


def supplier_event_days(table: SupplierTable, config: RunConfig) -> np.ndarray:
    """Per-supplier default day of the scenario's ``supplier_default_events``, shape (s,)
    int64, 0 where none (days from the as-of date; checked to be within the horizon)."""
    days = np.zeros(table.n_suppliers, dtype=np.int64)
    tl = config.timeline
    if tl is None:
        return days
    index = {str(c): i for i, c in enumerate(table.supplier_id)}
    for ev in config.scenario.supplier_default_events:
        days[index[ev.supplier]] = (ev.date - tl.as_of).days
    return days


def build_suppliers(
    table: SupplierTable, book: Book, config: RunConfig, *, factor_names: tuple[str, ...],
    dof: float, horizon_years: float, timeline: TimelineInputs,
) -> SupplierInputs:
    """The supplier kernel's arrays.

    Parameters
    ----------
    table : SupplierTable
        The validated supplier table.
    book : Book
        The book (after the scenario's stress), for the collection lag: its customers'
        ``payment_terms_days`` weighted by ``annual_sales``.
    config : RunConfig
        With its scenario (PD and asset-correlation multipliers, supplier default events).
    factor_names : tuple of str
        The customers' factors (every supplier's factor is among them: checked before).
    dof : float
        Student-t degrees of freedom of the copula (0: Gaussian).
    horizon_years : float
        The horizon.
    timeline : TimelineInputs
        Days, planned sales, payment delays and the company's DPO and cost of goods.

    Returns
    -------
    SupplierInputs
    """
    scen = config.scenario
    p1 = stressed_pd_of(table, config)
    events = supplier_event_days(table, config)
    p1[events > 0] = 1.0
    with np.errstate(divide="ignore"):
        hazard = -np.log1p(-p1)
    p_h = np.where(p1 >= 1.0, 1.0, -np.expm1(-hazard * horizon_years))
    r_given = np.asarray(table.asset_correlation, dtype=float)
    rule = config.model.asset_correlation
    r_default = (basel_asset_correlation(np.asarray(table.p_default, dtype=float))
                 if rule == "basel" else np.full(table.n_suppliers, float(rule)))
    r = np.where(np.isfinite(r_given), r_given, r_default)
    if scen.correlation.asset_multiplier != 1.0:
        r = np.minimum(r * scen.correlation.asset_multiplier, ASSET_CORRELATION_CAP)
    threshold = stats.t.ppf(p_h, dof) if dof > 0.0 else special.ndtri(p_h)
    threshold = np.where(p_h <= 0.0, -np.inf, np.where(p_h >= 1.0, np.inf, threshold))
    index = {name: k for k, name in enumerate(factor_names)}
    labels = factor_labels_of(table.sector, table.country, config.model.factors)
    factor = np.array([index[str(f)] for f in labels], dtype=np.int64)

    tl = timeline
    sales_per_day = np.zeros(tl.n_days + 1)
    day_period = tl.period_of_day[1 : tl.n_days + 1]
    sales_per_day[1:] = (tl.planned_issued / tl.days_in_period)[day_period]
    weights = np.asarray(book.annual_sales, dtype=float)
    terms = np.nan_to_num(np.asarray(book.payment_terms_days, dtype=float), nan=30.0)
    lag_days = terms + tl.delay_mean
    lag = (float(np.average(lag_days, weights=weights)) if weights.sum() > 0
           else float(lag_days.mean()))
    c = np.ascontiguousarray
    return SupplierInputs(
        supplier_ids=tuple(str(x) for x in table.supplier_id),
        sector=tuple(str(x) for x in table.sector),
        p_default=c(p1), p_horizon=c(p_h), hazard=c(hazard), asset_correlation=c(r),
        factor=c(factor), loading=c(np.sqrt(r)), idio=c(np.sqrt(1.0 - r)),
        threshold=c(threshold, dtype=float), event_day=c(events),
        prepayment=c(table.prepayment, dtype=float),
        premium_per_day=c(table.monthly_purchases * table.replacement_premium / DAYS_PER_MONTH),
        replacement_days=c(np.rint(table.replacement_months * DAYS_PER_MONTH), dtype=np.int64),
        dependent_share=c(table.dependent_sales_share, dtype=float),
        sales_per_day=c(sales_per_day),
        collection_lag_days=max(0, round(lag)),
        dpo_days=int(tl.dpo_days),
        cogs_share=float(tl.cogs_share),
    )
