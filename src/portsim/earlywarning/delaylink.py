"""Calibration of the link between payment delays and credit quality, from the payment history
and the past defaults.

The payment timeline's model: a customer's delay propensity is

    D = delay_mean + delay_sd·(−ρ·ε + √(1 − ρ²)·η′) − delay_factor_days·Y

with ε the customer's idiosyncratic credit shock (latent X = a·Y + √(1 − a²)·ε with factor
loading a, default iff X < Φ⁻¹(PD)), so ρ = ``delay_credit_link``; and an invoice due
``t`` days before the customer's default is paid ``predefault_drift_days``·max(0, 1 − t / (M ·
30.4375)) days later, M = ``predefault_months``. Defaulters pay later when ρ > 0 (low ε).

- **Drift.** Within each defaulter, days beyond terms = its own level + drift · w + noise,
  with w = max(0, 1 − t / (M · 30.4375)) the invoice's weight in the window: the
  fixed-effects (within-customer) least-squares slope on w, over the defaulters with invoices
  due both before the window (their earlier level) and in it, with its classical standard
  error. An invoice due just before the default is seen paid only if it was paid before the
  default (after it, it is part of the default), which would bias the slope down; so the
  invoices due less than a guard before the default are left out, the guard being the
  smallest multiple of :data:`GUARD_STEP_DAYS` above the fitted delay there (99th percentile
  of the levels + drift · w + 3 residual SDs).
- **ρ.** Under the model, the mean days beyond terms of defaulters (their invoices due before
  the window) minus that of survivors is
  Δ = −delay_sd · ρ · (E[ε | default] − E[ε | survive]);
  Δ is the difference of the customers' mean days (Welch standard error), and the
  conditional means come from each customer's PD over the observed years and factor loading
  by Gauss–Hermite integration over Y (:func:`shock_means`). The factor term cancels in Δ
  when defaulters and survivors share their factors' paths, as they do in one history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import ArrayLike
from scipy import special

__all__ = ["GUARD_STEP_DAYS", "PREDEFAULT_MONTHS", "DelayCalibration", "calibrate_delay_link",
           "shock_means"]

#: Days per month of the drift window (365.25 / 12).
DAYS_PER_MONTH = 30.4375
#: Window of the pre-default drift, in months, when not given.
PREDEFAULT_MONTHS = 6
#: Step of the guard before the default, in days.
GUARD_STEP_DAYS = 7
#: Gauss–Hermite nodes over the factor.
HERMITE_NODES = 64


@dataclass(frozen=True)
class DelayCalibration:
    """Estimates of the delay–credit link with their standard errors.

    Attributes
    ----------
    delay_credit_link, delay_credit_link_se : float
        ρ and its standard error (NaN without defaulters and survivors with paid invoices).
    predefault_drift_days, predefault_drift_days_se : float
        The extra days at the default and its standard error (NaN without defaulters paying
        both before and inside the window).
    predefault_months : int
        The window M.
    gap_days, gap_days_se : float
        Δ: defaulters' minus survivors' mean days beyond terms, and its standard error.
    shock_default, shock_survive : float
        E[ε | default] and E[ε | survive].
    defaulters, survivors : int
        Customers in Δ.
    drift_defaulters, drift_invoices : int
        Defaulters and invoices in the drift fit.
    guard_days : int
        Invoices due less than this before the default were left out of the drift fit.
    """

    delay_credit_link: float
    delay_credit_link_se: float
    predefault_drift_days: float
    predefault_drift_days_se: float
    predefault_months: int
    gap_days: float
    gap_days_se: float
    shock_default: float
    shock_survive: float
    defaulters: int
    survivors: int
    drift_defaulters: int
    drift_invoices: int
    guard_days: int

    def toml(self) -> list[str]:
        """The ``[timeline]`` lines of the estimates (ρ clipped to [−1, 1], the drift to
        ≥ 0); empty when neither could be estimated."""
        lines = []
        if np.isfinite(self.delay_credit_link):
            lines.append(f"delay_credit_link = {np.clip(self.delay_credit_link, -1, 1):.3f}")
        if np.isfinite(self.predefault_drift_days):
            lines += [f"predefault_drift_days = {max(self.predefault_drift_days, 0.0):.1f}",
                      f"predefault_months = {self.predefault_months}"]
        return ["[timeline]", *lines] if lines else []

    def card(self) -> dict[str, Any]:
        """The ``delay_calibration`` entry of ``model.json``: every attribute and
        ``toml``."""
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__},
                "toml": "\n".join(self.toml())}


def shock_means(p_default: ArrayLike, loading: ArrayLike,
                nodes: int = HERMITE_NODES) -> tuple[float, float]:
    """E[ε | default] and E[ε | survive] over customers with PDs ``p_default`` and factor
    loadings ``loading`` (default iff a·Y + √(1 − a²)·ε < Φ⁻¹(PD)).

    Given Y = y, E[ε·1{default}] = −φ(t(y)) with t(y) = (Φ⁻¹(PD) − a·y) / √(1 − a²);
    Gauss–Hermite quadrature over Y ~ N(0, 1) gives each customer's E[ε·1{default}], and
    E[ε | default] = Σ E[ε·1{default}] / Σ PD, E[ε | survive] = −Σ E[ε·1{default}] /
    Σ (1 − PD) (E[ε] = 0).

    Parameters
    ----------
    p_default, loading : array_like, shape (n,)
        PDs in (0, 1) over the observed period and loadings in [0, 1).
    nodes : int
        Quadrature nodes.
    """
    p = np.asarray(p_default, dtype=np.float64)
    a = np.broadcast_to(np.asarray(loading, dtype=np.float64), p.shape)
    if p.size == 0 or not ((p > 0) & (p < 1)).all() or not ((a >= 0) & (a < 1)).all():
        raise ValueError("needs PDs in (0, 1) and loadings in [0, 1), at least one")
    y, w = hermegauss(nodes)
    w = w / np.sqrt(2.0 * np.pi)
    t = (special.ndtri(p)[:, None] - a[:, None] * y[None, :]) / np.sqrt(1.0 - a**2)[:, None]
    joint = -(np.exp(-0.5 * t**2) / np.sqrt(2.0 * np.pi)) @ w  # E[ε·1{default}] per customer
    return float(joint.sum() / p.sum()), float(-joint.sum() / (1.0 - p).sum())


def _window_weight(days_before: np.ndarray, months: int) -> np.ndarray:
    return np.maximum(0.0, 1.0 - days_before / (months * DAYS_PER_MONTH))


def _drift(days: np.ndarray, weight: np.ndarray, customer: np.ndarray
           ) -> tuple[float, float, float, np.ndarray]:
    """Within-customer least squares of ``days`` on ``weight``: slope, its standard error,
    the residual SD and each row's customer level (its mean minus slope · mean weight)."""
    codes, group = np.unique(customer, return_inverse=True)
    count = np.bincount(group)
    mean_w = np.bincount(group, weight) / count
    mean_d = np.bincount(group, days) / count
    dw, dd = weight - mean_w[group], days - mean_d[group]
    sxx = float(dw @ dw)
    if sxx <= 0.0 or days.size <= codes.size + 1:
        return np.nan, np.nan, np.nan, np.zeros(codes.size)
    slope = float(dw @ dd) / sxx
    resid = dd - slope * dw
    sigma = float(np.sqrt(resid @ resid / (days.size - codes.size - 1)))
    return slope, sigma / np.sqrt(sxx), sigma, mean_d - slope * mean_w


def calibrate_delay_link(history: pd.DataFrame, defaults: pd.DataFrame,
                         p_default: ArrayLike, loading: ArrayLike, delay_sd: float, *,
                         years: float, predefault_months: int = PREDEFAULT_MONTHS,
                         guard_days: int | None = None) -> DelayCalibration:
    """Estimate ``delay_credit_link`` (ρ) and ``predefault_drift_days`` with their standard
    errors (see the module's notes).

    Parameters
    ----------
    history : DataFrame
        Invoices: ``customer`` (book row), ``due_date``, ``paid_date`` (NaT: unpaid, left
        out).
    defaults : DataFrame
        ``customer``, ``default_date``: a customer's first default counts.
    p_default : array_like, shape (n_customers,)
        12-month PDs by book row.
    loading : array_like, shape (n_customers,)
        Factor loadings √R by book row.
    delay_sd : float
        ``[delays] sd_days``: the spread of the propensities, in days (> 0).
    years : float
        Years over which the defaults were observed: a customer's PD over them is
        1 − (1 − PD)^years.
    predefault_months : int
        The drift window M.
    guard_days : int, optional
        Leave out of the drift fit the invoices due less than this before the default;
        default: chosen as in the module's notes.

    Returns
    -------
    DelayCalibration
    """
    if delay_sd <= 0 or years <= 0 or predefault_months < 1:
        raise ValueError(f"delay_sd={delay_sd} and years={years} must be positive, "
                         f"predefault_months={predefault_months} at least 1")
    paid = history[history["paid_date"].notna()]
    customer = paid["customer"].to_numpy(dtype=np.int64)
    days = (paid["paid_date"] - paid["due_date"]).dt.days.to_numpy(dtype=np.float64)
    first = defaults.groupby("customer")["default_date"].min()
    default_date = first.reindex(customer).to_numpy()
    defaulted = ~pd.isna(default_date)
    before = np.full(customer.size, np.inf)
    before[defaulted] = (pd.DatetimeIndex(default_date[defaulted])
                         - pd.DatetimeIndex(paid["due_date"].to_numpy()[defaulted])).days
    weight = _window_weight(before, predefault_months)
    due_before_default = before >= 0

    # drift: defaulters with invoices before the window and in it, away from the default
    has_earlier = np.isin(customer, customer[defaulted & (weight == 0.0)])
    fit_rows = defaulted & due_before_default & has_earlier
    window_end = predefault_months * DAYS_PER_MONTH
    guard = 0 if guard_days is None else guard_days
    while True:
        rows = fit_rows & (before >= guard)
        slope, slope_se, sigma, level = _drift(days[rows], weight[rows], customer[rows])
        if not np.isfinite(slope) or guard_days is not None:
            break
        reach = float(np.quantile(level, 0.99)) + max(slope, 0.0) * float(
            _window_weight(np.array([guard]), predefault_months)[0]) + 3.0 * sigma
        if reach <= guard or guard + GUARD_STEP_DAYS >= window_end:
            break
        guard += GUARD_STEP_DAYS
    drift_rows = rows if np.isfinite(slope) else np.zeros_like(rows)

    # rho: customer means outside the window, defaulters against survivors
    outside = ~defaulted | ((weight == 0.0) & due_before_default)
    means = pd.Series(days[outside]).groupby(customer[outside]).mean()
    is_defaulter = means.index.isin(first.index)
    d_means, s_means = means[is_defaulter].to_numpy(), means[~is_defaulter].to_numpy()
    m_default = m_survive = np.nan
    if d_means.size >= 2 and s_means.size >= 2:
        ids = means.index.to_numpy()
        p = np.asarray(p_default, dtype=np.float64)[ids]
        a = np.asarray(loading, dtype=np.float64)[ids]
        m_default, m_survive = shock_means(1.0 - (1.0 - p) ** years, a)
        gap = float(d_means.mean() - s_means.mean())
        gap_se = float(np.sqrt(d_means.var(ddof=1) / d_means.size
                               + s_means.var(ddof=1) / s_means.size))
        scale = delay_sd * (m_default - m_survive)
        rho, rho_se = -gap / scale, gap_se / abs(scale)
    else:
        gap = gap_se = rho = rho_se = np.nan
    return DelayCalibration(
        delay_credit_link=rho, delay_credit_link_se=rho_se,
        predefault_drift_days=slope, predefault_drift_days_se=slope_se,
        predefault_months=predefault_months, gap_days=gap, gap_days_se=gap_se,
        shock_default=m_default, shock_survive=m_survive, defaulters=int(d_means.size),
        survivors=int(s_means.size), drift_defaulters=int(np.unique(customer[drift_rows]).size),
        drift_invoices=int(drift_rows.sum()), guard_days=guard)
