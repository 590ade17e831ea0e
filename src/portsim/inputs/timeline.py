"""The timeline: days, reporting periods, the invoice schedule, delay parameters and the
company's planned cash flows, as arrays for :mod:`portsim.kernels.timeline`.

Day 0 is the as-of date; the horizon is days 1 .. ``n_days`` (``horizon_months`` calendar
months). Reporting periods are calendar-month steps from the as-of date, or weeks.

Invoices per customer (stored by customer, CSR):

* **open** invoices at the as-of date — from the invoices table when one is given, else the
  customer's ``exposure`` split evenly over the invoices its sales frequency would have issued
  in the last ``payment_terms_days`` + expected delay days (the steady state, in which the
  invoices older than the terms are overdue);
* **forward** invoices — ``annual_sales`` spread over the horizon at the invoice frequency
  (monthly at each month-step's end, weekly, or daily), weighted by the calendar month's
  seasonality, each due ``payment_terms_days`` after issue.

Supplier payments: cost of goods (``cogs_share`` of sales) is bought when an invoice is issued
and paid ``dpo_days`` later; the opening payables (``dpo_days`` of cost of goods) are paid
evenly over the first ``dpo_days``. Inventory is held at ``dio_days`` of cost of goods at the
sales run-rate; its changes are not a cash flow here (purchases follow sales).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from portsim.config import RunConfig, TimelineConfig
from portsim.data import Book
from portsim.inputs.actions import ActionInputs, build_actions

__all__ = ["TimelineInputs", "build_timeline", "horizon_days", "horizon_years", "noise_table"]

DAYS_PER_MONTH = 365.25 / 12.0
_INTERVAL = {"monthly": DAYS_PER_MONTH, "weekly": 7.0, "daily": 1.0}


class TimelineInputs(NamedTuple):
    """Arrays of the timeline (``P`` periods, ``J`` invoices, ``n`` customers)."""

    as_of: date
    n_days: int
    period_end_day: np.ndarray  # (P,) int64, last day of each period
    period_of_day: np.ndarray  # (n_days + 2,) int64; index P means after the horizon
    days_in_period: np.ndarray  # (P,) float
    period_label: tuple[str, ...]  # (P,) end date of each period, ISO
    inv_start: np.ndarray  # (n + 1,) int64
    inv_amount: np.ndarray  # (J,)
    inv_issue: np.ndarray  # (J,) int64, day of issue (≤ 0 for open invoices)
    inv_due: np.ndarray  # (J,) int64
    inv_is_open: np.ndarray  # (J,) bool: open at the as-of date
    delay_mean: np.ndarray  # (n,) days
    delay_sd: np.ndarray  # (n,) days
    delay_noise: np.ndarray  # (n,) days
    delay_factor_days: float
    noise_table: np.ndarray  # (256,)
    credit_link: float  # ρ of the delay propensity with credit deterioration
    drift_days: float  # pre-default drift of delays, days
    drift_window: float  # days before a default over which the drift builds up
    protracted_days: int
    recovery_lag_days: int
    dpo_days: int
    cogs_share: float
    dio_days: float
    planned_issued: np.ndarray  # (P,) forward sales invoiced per period
    planned_supplier: np.ndarray  # (P,) supplier payments per period
    fixed_out: np.ndarray  # (P,)
    other_in: np.ndarray  # (P,)
    opening_ar: float
    opening_ap: float
    opening_cash: float
    credit_line: float
    min_cash_buffer: float
    actions: ActionInputs  # credit limits and management on the paths

    @property
    def n_periods(self) -> int:
        return int(self.period_end_day.shape[0])


def noise_table() -> np.ndarray:
    """256 equally likely values of a unit-variance normal (mid-point quantiles, rescaled)."""
    from scipy import special

    q = special.ndtri((np.arange(256) + 0.5) / 256.0)
    return q / q.std()


def horizon_days(tl: TimelineConfig) -> int:
    """Number of days from the as-of date to the end of the horizon."""
    end = pd.Timestamp(tl.as_of) + pd.DateOffset(months=tl.horizon_months)
    return int((end - pd.Timestamp(tl.as_of)).days)


def _periods(tl: TimelineConfig, n_days: int) -> tuple[np.ndarray, tuple[str, ...]]:
    start = pd.Timestamp(tl.as_of)
    if tl.period == "month":
        ends = [int((start + pd.DateOffset(months=k) - start).days)
                for k in range(1, tl.horizon_months + 1)]
    else:
        ends = [*range(7, n_days, 7), n_days]
    labels = tuple((start + pd.Timedelta(days=d)).date().isoformat() for d in ends)
    return np.asarray(ends, dtype=np.int64), labels


def _delay_params(book: Book, config: RunConfig) -> tuple[np.ndarray, ...]:
    dc = config.delays
    n = book.n_customers
    out = {}
    for key in ("mean_days", "sd_days", "noise_days"):
        vals = np.full(n, float(getattr(dc, key)))
        for name, table in (("sector", dc.sector), ("rating", dc.rating)):
            col = getattr(book, name, None)
            for label, params in table.items():
                v = getattr(params, key)
                if v is not None:  # a rating override needs the rating column (checked)
                    vals[np.asarray(col) == label] = v
        given = getattr(book, f"delay_{key}", None)
        if given is not None:
            g = np.asarray(given, dtype=float)
            vals = np.where(np.isfinite(g), g, vals)
        out[key] = vals
    mean = out["mean_days"] * dc.multiplier + dc.shift_days
    return mean, out["sd_days"], out["noise_days"]


def build_timeline(
    book: Book, config: RunConfig, open_invoices: pd.DataFrame | None = None
) -> TimelineInputs:
    """The timeline arrays for a book under a config with a ``[timeline]`` table.

    Parameters
    ----------
    book : Book
    config : RunConfig
        Must have ``config.timeline``.
    open_invoices : DataFrame, optional
        Open invoices at the as-of date with columns ``customer`` (row index into the book),
        ``amount``, ``issue_date``, ``due_date``; replaces the invoices derived from exposure.
    """
    tl = config.timeline
    assert tl is not None, "build_timeline needs config.timeline"
    co = config.company
    n = book.n_customers
    n_days = horizon_days(tl)
    ends, labels = _periods(tl, n_days)
    n_periods = ends.size
    period_of_day = np.empty(n_days + 2, dtype=np.int64)
    period_of_day[0] = 0
    period_of_day[1:-1] = np.searchsorted(ends, np.arange(1, n_days + 1), side="left")
    period_of_day[-1] = n_periods
    days_in_period = np.diff(np.concatenate([[0], ends])).astype(float)

    interval = _INTERVAL[tl.invoice_frequency]
    terms = np.nan_to_num(np.asarray(book.payment_terms_days, dtype=float), nan=30.0)
    terms = np.rint(terms).astype(np.int64)
    sales = np.nan_to_num(np.asarray(book.annual_sales, dtype=float))
    weights = np.ones(12) if tl.seasonality is None else np.asarray(tl.seasonality, float)
    weights = weights / weights.mean()

    # forward issue days
    start = pd.Timestamp(tl.as_of)
    if tl.invoice_frequency == "monthly":
        fwd_days = np.array([(start + pd.DateOffset(months=k) - start).days
                             for k in range(1, tl.horizon_months + 1)], dtype=np.int64)
        fwd_share = np.diff(np.concatenate([[0], fwd_days])) / 365.25
    else:
        step = int(interval)
        fwd_days = np.arange(step, n_days + 1, step, dtype=np.int64)
        fwd_share = np.full(fwd_days.size, step / 365.25)
    fwd_month = np.array([(start + pd.Timedelta(days=int(d - 1))).month - 1 for d in fwd_days])
    fwd_w = weights[fwd_month] * fwd_share  # fraction of annual sales per forward invoice

    rows_c: list[np.ndarray] = []
    rows_a: list[np.ndarray] = []
    rows_i: list[np.ndarray] = []
    rows_d: list[np.ndarray] = []
    rows_o: list[np.ndarray] = []
    # open invoices
    mean, sd, noise = _delay_params(book, config)
    if open_invoices is None:
        # steady state: the receivable is what was invoiced in the last terms + expected delay
        # days (so some of it is already overdue), in equal invoices at the sales frequency
        exposure = np.asarray(book.exposure, dtype=float)
        window = terms + np.maximum(np.rint(mean), 0).astype(np.int64)
        k_open = np.maximum(1, np.ceil(window / interval)).astype(np.int64)
        cust = np.repeat(np.arange(n), k_open)
        pos = np.arange(cust.size) - np.repeat(np.cumsum(k_open) - k_open, k_open)
        issue = -np.floor(pos * interval).astype(np.int64)
        rows_c.append(cust)
        rows_a.append((exposure / k_open)[cust])
        rows_i.append(issue)
        rows_d.append(issue + terms[cust])
        rows_o.append(np.ones(cust.size, dtype=bool))
    else:
        as_of = pd.Timestamp(tl.as_of)
        rows_c.append(open_invoices["customer"].to_numpy(np.int64))
        rows_a.append(open_invoices["amount"].to_numpy(float))
        rows_i.append((pd.to_datetime(open_invoices["issue_date"]) - as_of).dt.days
                      .to_numpy(np.int64))
        rows_d.append((pd.to_datetime(open_invoices["due_date"]) - as_of).dt.days
                      .to_numpy(np.int64))
        rows_o.append(np.ones(len(open_invoices), dtype=bool))
    # forward invoices
    active = sales > 0
    cust = np.repeat(np.flatnonzero(active), fwd_days.size)
    rows_c.append(cust)
    rows_a.append((sales[active][:, None] * fwd_w[None, :]).ravel())
    rows_i.append(np.tile(fwd_days, int(active.sum())))
    rows_d.append(np.tile(fwd_days, int(active.sum())) + terms[cust])
    rows_o.append(np.zeros(cust.size, dtype=bool))

    c = np.concatenate(rows_c)
    order = np.argsort(c, kind="stable")
    c = c[order]
    amount = np.concatenate(rows_a)[order]
    issue = np.concatenate(rows_i)[order]
    due = np.concatenate(rows_d)[order]
    is_open = np.concatenate(rows_o)[order]
    inv_start = np.zeros(n + 1, dtype=np.int64)
    np.add.at(inv_start, c + 1, 1)
    inv_start = np.cumsum(inv_start)

    # planned flows per period (deterministic)
    def bin_days(days: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        idx = period_of_day[np.clip(days, 0, n_days + 1)]
        out = np.bincount(idx, weights=amounts, minlength=n_periods + 1)[:n_periods]
        return out.astype(float)  # an empty bincount is int64

    fwd = ~is_open
    planned_issued = bin_days(issue[fwd], amount[fwd])
    dpo = int(co.dpo_days)
    supplier = bin_days(issue[fwd] + dpo, co.cogs_share * amount[fwd])
    opening_ap = co.cogs_share * float(sales.sum()) * dpo / 365.25
    if dpo > 0:
        ap_days = np.arange(1, dpo + 1)
        supplier += bin_days(ap_days, np.full(dpo, opening_ap / dpo))
    month_frac = days_in_period / DAYS_PER_MONTH
    if open_invoices is None:
        opening_ar = float(np.asarray(book.exposure, dtype=float).sum())
    else:
        opening_ar = float(amount[is_open].sum())

    ci = np.ascontiguousarray
    return TimelineInputs(
        as_of=tl.as_of,
        n_days=n_days,
        period_end_day=ci(ends),
        period_of_day=ci(period_of_day),
        days_in_period=ci(days_in_period),
        period_label=labels,
        inv_start=ci(inv_start),
        inv_amount=ci(amount),
        inv_issue=ci(issue),
        inv_due=ci(due),
        inv_is_open=ci(is_open),
        delay_mean=ci(mean),
        delay_sd=ci(sd),
        delay_noise=ci(noise),
        delay_factor_days=float(config.delays.factor_sensitivity_days),
        noise_table=ci(noise_table()),
        credit_link=float(tl.delay_credit_link),
        drift_days=float(tl.predefault_drift_days),
        drift_window=float(tl.predefault_months) * DAYS_PER_MONTH,
        protracted_days=int(tl.protracted_default_days),
        recovery_lag_days=int(tl.recovery_lag_days),
        dpo_days=dpo,
        cogs_share=float(co.cogs_share),
        dio_days=float(co.dio_days),
        planned_issued=ci(planned_issued),
        planned_supplier=ci(supplier),
        fixed_out=ci(co.fixed_outflows_monthly * month_frac),
        other_in=ci(co.other_receipts_monthly * month_frac),
        opening_ar=opening_ar,
        opening_ap=float(opening_ap),
        opening_cash=float(co.opening_cash),
        credit_line=float(co.credit_line),
        min_cash_buffer=float(co.min_cash_buffer),
        actions=build_actions(book, config),
    )


def horizon_years(tl: TimelineConfig) -> float:
    """The horizon in years, used for horizon default probabilities: calendar months / 12.

    A year of the hazard clock is twelve calendar months, whatever their days: a 12-month
    timeline gives exactly the 1-year PD (also over a leap year, or from the end of
    February), and ``n`` months the PD of ``n / 12`` years, 1 − (1 − p)^(n/12). The timeline's
    horizon is a whole number of months (``horizon_months``), so no partial month arises.
    """
    return tl.horizon_months / 12.0


