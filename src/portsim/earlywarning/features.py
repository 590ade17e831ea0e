"""Early-warning features of every book customer as of a date, from the data available on
that date only.

Only what was known at ``as_of`` is used: invoices issued by then, payments made by then (a
later payment counts as unpaid), statements whose ``available_date`` is by then (however old
their period), signals and defaults dated by then. The ``disputed`` flag of an invoice is
undated and taken as known from its issue. "12 months" is the window (as_of − 365 days,
as_of]; a month is 365.25/12 days.

Feature columns (:data:`FEATURE_COLUMNS`; NaN where a customer has no data for one):

Payments (invoices due in the 12 months; an invoice still unpaid counts with its days past
due at ``as_of``, a lower bound; a partly paid one counts as paid on its ``paid_date``):

* ``dbt_12m`` — amount-weighted days beyond terms, max(paid − due, 0), days;
* ``dbt_trend_3m`` — DBT of the invoices due in the last 3 months minus that of the 3 months
  before, days (> 0: paying later);
* ``payment_index_12m`` — amount-weighted bureau payment index (:mod:`.scales`), 0–100;
* ``open_amount`` — amount open at ``as_of`` (unpaid, or the rest of a partial payment);
* ``past_due_30_share``, ``past_due_60_share``, ``past_due_90_share`` — shares of
  ``open_amount`` more than 30/60/90 days past due (NaN when nothing is open);
* ``disputed_share`` — share of ``open_amount`` in disputed invoices;
* ``limit_utilisation`` — ``open_amount`` / the book's ``credit_limit``;
* ``sales_12m`` — amount invoiced in the 12 months; ``order_change_6m`` — invoiced in the
  last 6 months / the 6 before − 1; ``order_volatility_12m`` — coefficient of variation of
  the 12 monthly amounts; ``sales_share_12m`` — the customer's share of the amount invoiced
  to the whole book in the 12 months (concentration).

Financial statements (the latest period available; changes against the period before it):

* ``debt_ratio`` (total liabilities / total assets), ``current_ratio`` (current assets /
  current liabilities), ``altman_z`` (needs ``market_equity``), ``altman_z_prime``,
  ``altman_z_double_prime``, each with ``…_change_q`` = latest − previous statement;
* ``statement_age_days`` — ``as_of`` − the latest ``period_end``.

Signals and defaults:

* ``grade_latest`` — the latest grade (the provider's own scale), ``grade_change_12m`` — it
  minus the latest grade 12 months earlier;
* ``legal_events_12m`` — legal events in the 12 months (0 without any);
* ``past_defaults`` — defaults dated by ``as_of`` (0 without any).
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from portsim.earlywarning.scales import ALTMAN, altman_ratios, payment_index
from portsim.earlywarning.tables import LEGAL_KINDS, CreditFiles

__all__ = ["FEATURE_COLUMNS", "default_within", "features_as_of"]

FloatArray = npt.NDArray[np.float64]

_RATIOS: Final = ("debt_ratio", "current_ratio", "altman_z", "altman_z_prime",
                  "altman_z_double_prime")
#: The columns of :func:`features_as_of`, in order.
FEATURE_COLUMNS: Final = (
    "dbt_12m", "dbt_trend_3m", "payment_index_12m", "open_amount", "past_due_30_share",
    "past_due_60_share", "past_due_90_share", "disputed_share", "limit_utilisation",
    "sales_12m", "order_change_6m", "order_volatility_12m", "sales_share_12m",
    *_RATIOS, *(f"{r}_change_q" for r in _RATIOS), "statement_age_days",
    "grade_latest", "grade_change_12m", "legal_events_12m", "past_defaults",
)
YEAR: Final = pd.Timedelta(days=365)
MONTH_DAYS: Final = 365.25 / 12.0


def _day(as_of: date | str) -> pd.Timestamp:
    return pd.Timestamp(date.fromisoformat(as_of) if isinstance(as_of, str) else as_of)


def features_as_of(data: CreditFiles, as_of: date | str) -> pd.DataFrame:
    """The early-warning features of every book customer from the data known at ``as_of``.

    Parameters
    ----------
    data : CreditFiles
        The validated inputs (:func:`~portsim.earlywarning.tables.read_credit_files`).
    as_of : date or ISO str
        The date of the features: data dated after it is not used.

    Returns
    -------
    DataFrame, shape (n_customers, len(FEATURE_COLUMNS))
        Index ``customer_id`` in book order, columns :data:`FEATURE_COLUMNS` (float64; see
        the module docstring for units), NaN where a customer has no data.
    """
    t = _day(as_of)
    n = data.book.n_customers
    columns = {**_payments(data, t, n), **_statements(data.statements, t, n),
               **_signals(data, t, n)}
    index = pd.Index(np.asarray(data.book.customer_id, dtype=object).astype(str),
                     name="customer_id")
    return pd.DataFrame({c: columns[c] for c in FEATURE_COLUMNS}, index=index)


def default_within(data: CreditFiles, as_of: date | str, months: int = 12) -> pd.Series:
    """Whether each book customer defaults strictly after ``as_of`` and at most ``months``
    calendar months after it (the outcome a PD model predicts).

    Returns
    -------
    Series of bool, shape (n_customers,)
        Index ``customer_id`` in book order, name ``"default_within"``.
    """
    t = _day(as_of)
    end = t + pd.DateOffset(months=months)
    d = data.defaults
    hit = d["customer"].to_numpy()[((d["default_date"] > t) & (d["default_date"] <= end))
                                   .to_numpy()]
    flags = np.zeros(data.book.n_customers, dtype=bool)
    flags[hit] = True
    index = pd.Index(np.asarray(data.book.customer_id, dtype=object).astype(str),
                     name="customer_id")
    return pd.Series(flags, index=index, name="default_within")


def _sums(customer: npt.NDArray[np.int64], weights: FloatArray, n: int) -> FloatArray:
    return np.bincount(customer, weights=weights, minlength=n).astype(np.float64)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _payments(data: CreditFiles, t: pd.Timestamp, n: int) -> dict[str, FloatArray]:
    h = data.history[data.history["issue_date"] <= t]
    cust = h["customer"].to_numpy(np.int64)
    amount = h["amount"].to_numpy(np.float64)
    due = h["due_date"]
    paid = (h["paid_date"] <= t).to_numpy()
    known = np.bincount(cust, minlength=n) > 0
    # days beyond terms: to the payment when paid by t, else to t (a lower bound)
    end = h["paid_date"].where(paid, t)
    days = (end - due).dt.days.to_numpy(np.float64)
    age = (t - due).dt.days.to_numpy(np.float64)
    open_amount = amount - np.where(paid, h["paid_amount"].to_numpy(np.float64), 0.0)

    def dbt(lo: float, hi: float) -> FloatArray:
        # invoices due in (t − hi days, t − lo days] and settled or overdue by t
        sel = (age >= lo) & (age < hi) & (paid | (age > 0))
        w = np.where(sel, amount, 0.0)
        return _ratio(_sums(cust, w * np.maximum(days, 0.0), n), _sums(cust, w, n))

    window = (age >= 0) & (age < 365) & (paid | (age > 0))
    weight = np.where(window, amount, 0.0)
    out = {
        "dbt_12m": dbt(0, 365),
        "dbt_trend_3m": dbt(0, 91) - dbt(91, 182),
        "payment_index_12m": _ratio(
            _sums(cust, weight * np.nan_to_num(payment_index(days)), n), _sums(cust, weight, n)),
    }
    total = _sums(cust, open_amount, n)
    out["open_amount"] = np.where(known, total, np.nan)
    for k in (30, 60, 90):
        out[f"past_due_{k}_share"] = _ratio(_sums(cust, open_amount * (age > k), n), total)
    out["disputed_share"] = _ratio(
        _sums(cust, open_amount * h["disputed"].to_numpy(bool), n), total)
    limit = np.asarray(data.book.credit_limit, dtype=np.float64)
    out["limit_utilisation"] = np.where(known, _ratio(total, limit), np.nan)
    out.update(_orders(cust, amount, (t - h["issue_date"]).dt.days.to_numpy(np.float64),
                       known, n))
    return out


def _orders(cust: npt.NDArray[np.int64], amount: FloatArray, since_issue: FloatArray,
            known: npt.NDArray[np.bool_], n: int) -> dict[str, FloatArray]:
    month = np.floor(since_issue / MONTH_DAYS).astype(np.int64)
    sel = month < 12
    monthly = np.zeros((n, 12))
    np.add.at(monthly, (cust[sel], month[sel]), amount[sel])
    sales = monthly.sum(axis=1)
    book_total = sales.sum()
    share = sales / book_total if book_total > 0 else np.full(n, np.nan)
    return {
        "sales_12m": np.where(known, sales, np.nan),
        "order_change_6m": _ratio(monthly[:, :6].sum(axis=1), monthly[:, 6:].sum(axis=1)) - 1,
        "order_volatility_12m": _ratio(monthly.std(axis=1), sales / 12.0),
        "sales_share_12m": np.where(known, share, np.nan),
    }


def _statements(st: pd.DataFrame, t: pd.Timestamp, n: int) -> dict[str, FloatArray]:
    s = st[st["available_date"] <= t].sort_values(["customer", "period_end", "available_date"],
                                                   kind="stable")
    s = s.drop_duplicates(["customer", "period_end"], keep="last")
    x = altman_ratios(*(s[c].to_numpy(np.float64) for c in (
        "total_assets", "current_assets", "current_liabilities", "total_liabilities", "equity",
        "retained_earnings", "ebit", "sales")))
    x_market = x.copy()
    x_market[:, 3] = _ratio(s["market_equity"].to_numpy(np.float64),
                            s["total_liabilities"].to_numpy(np.float64))
    values = pd.DataFrame({
        "debt_ratio": _ratio(s["total_liabilities"].to_numpy(np.float64),
                             s["total_assets"].to_numpy(np.float64)),
        "current_ratio": _ratio(s["current_assets"].to_numpy(np.float64),
                                s["current_liabilities"].to_numpy(np.float64)),
        "altman_z": ALTMAN["z"].score(x_market),
        "altman_z_prime": ALTMAN["z_prime"].score(x),
        "altman_z_double_prime": ALTMAN["z_double_prime"].score(x),
    }, index=s.index)
    values["customer"] = s["customer"].to_numpy()
    grouped = values.groupby("customer", sort=False)
    latest = grouped.nth(-1).set_index("customer")
    previous = grouped.nth(-2).set_index("customer")
    out: dict[str, FloatArray] = {}
    for r in _RATIOS:
        now = np.full(n, np.nan)
        now[latest.index.to_numpy(np.int64)] = latest[r].to_numpy()
        before = np.full(n, np.nan)
        before[previous.index.to_numpy(np.int64)] = previous[r].to_numpy()
        out[r] = now
        out[f"{r}_change_q"] = now - before
    age = np.full(n, np.nan)
    last_end = s.groupby("customer")["period_end"].max()
    age[last_end.index.to_numpy(np.int64)] = (t - last_end).dt.days.to_numpy(np.float64)
    out["statement_age_days"] = age
    return out


def _latest_grade(sig: pd.DataFrame, t: pd.Timestamp, n: int) -> FloatArray:
    g = sig[(sig["kind"] == "grade") & (sig["date"] <= t)]
    last = g.sort_values("date", kind="stable").groupby("customer")["value"].last()
    out = np.full(n, np.nan)
    out[last.index.to_numpy(np.int64)] = last.to_numpy(np.float64)
    return out


def _signals(data: CreditFiles, t: pd.Timestamp, n: int) -> dict[str, FloatArray]:
    sig = data.signals
    grade = _latest_grade(sig, t, n)
    legal = sig[sig["kind"].isin(LEGAL_KINDS) & (sig["date"] <= t) & (sig["date"] > t - YEAR)]
    d = data.defaults
    before = d[d["default_date"] <= t]
    return {
        "grade_latest": grade,
        "grade_change_12m": grade - _latest_grade(sig, t - YEAR, n),
        "legal_events_12m": np.bincount(legal["customer"].to_numpy(np.int64),
                                        minlength=n).astype(np.float64),
        "past_defaults": np.bincount(before["customer"].to_numpy(np.int64),
                                     minlength=n).astype(np.float64),
    }
