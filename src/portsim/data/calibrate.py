"""Payment-delay parameters per customer, estimated from a payment history.

The delay model (:mod:`portsim.kernels.timeline`) pays invoice j of customer i on
``due + round(D_i + noise_i · e_j)`` with the propensity ``D_i = mean_i + sd_i · η`` (plus the
factor term) and ``e_j`` a unit-variance normal. This module estimates the book columns
``delay_mean_days`` (mean_i), ``delay_noise_days`` (noise_i) and ``delay_sd_days`` (sd_i) from
past invoices.

Payment history
---------------
A table like the open invoices (:mod:`portsim.data.invoices`, same validation and messages) with
one more column, ``paid_date``: ``invoice_id, customer_id, amount, issue_date, due_date,
paid_date``. A blank ``paid_date`` is an invoice unpaid at the cut-off date ``as_of`` (given,
or else the latest issue or payment date in the file). Paid before issue, a paid or issue date
after ``as_of``, unknown customers and duplicate ids are errors. The delay of a paid invoice
is ``paid_date − due_date`` in days (negative: paid early).

Estimators
----------
Per customer with at least ``min_invoices`` (3) paid invoices ("own" estimates):

* **Unpaid invoices are right-censored, not dropped**: an invoice unpaid at ``as_of`` has a
  delay of more than ``as_of − due_date`` days. Dropping them would bias the mean down (the
  late payers of the last weeks are missing); instead, for a customer with unpaid invoices,
  mean and sd are the maximum-likelihood estimates of a normal delay right-censored at
  ``as_of − due_date + ½`` (Tobit, by EM), with standard errors from the observed
  information. Without unpaid invoices these are the plain mean and sample sd.
  An invoice not yet due at ``as_of`` carries almost no information and costs nothing.
  Invoices written off after a default are not delays: remove them from the history.
* ``delay_mean_days`` = the customer's mean delay, se = sd/√n (Tobit: from the information).
* ``delay_noise_days`` = the within-customer sd s (n − 1 in the denominator; for Tobit the
  MLE scaled by √(n/(n − 1))), less the variance of rounding to whole days (Sheppard:
  √max(s² − 1/12, 0), since the simulation rounds again). Its se is half the width of the
  one-sigma (68 %) chi-square interval of s² with k = n − 1 degrees of freedom (for Tobit,
  k = s²/(2·se(s)²) from the information), mapped through the correction: about
  s/√(2(n − 1)), but wider on the side where a small sample's s is likely to be wrong.

Per sector (customers with own estimates in the sector, m of them):

* ``delay_sd_days`` = the between-customer random-effect sd τ by the method of moments:
  τ² = var(customer means) − mean(se_i²) (se_i² = within variance / n_i), floored at 0. Its
  se is half the width of the one-sigma interval of τ from (m − 1)·var(means)/(τ² + mean
  se_i²) ~ χ²(m − 1): [√max(B·(m−1)/χ²₈₄ − w̄, 0), √max(B·(m−1)/χ²₁₆ − w̄, 0)] with
  B = var(means), w̄ = mean(se_i²) (close to the delta method for large m; honest about the
  skew for small m). Where even the upper end is 0, the se is √(w̄·√(2/(m − 1))).
  Every customer of the sector gets this τ: the spread of propensities between the sector's
  customers stands in for the uncertainty of one customer's propensity over the horizon (a
  modelling assumption; conservative when a customer's own behaviour is stable).
* Customers with fewer than ``min_invoices`` paid invoices (or none in the history) get the
  sector's estimates — shrinkage all the way to the sector: mean = the average of the
  sector's customer means (se = sd of the means/√m), noise = the pooled within sd (df-weighted
  variance, rounding-corrected).
* A sector with fewer than ``min_customers`` (3) customers with own estimates uses the
  book-level values (all such customers as one group, which also counts the spread between
  sectors). With fewer than 2 such customers in the whole history τ cannot be estimated and
  ``delay_sd_days`` is left blank (the config's ``[delays]`` value applies).

Estimates are clipped to the book's ranges (mean in [−365, 730], sds in [0, 365]).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from portsim.config import TableDialect
from portsim.data.book import DELAY_COLUMNS, Book
from portsim.data.currency import Currencies
from portsim.data.invoices import invoice_table_from_frame, read_invoice_table
from portsim.errors import BookError, Problem

__all__ = [
    "MIN_CUSTOMERS",
    "MIN_INVOICES",
    "DelayEstimates",
    "calibrate_delays",
    "estimate_delays",
    "history_from_frame",
    "read_history",
    "write_calibrated_book",
]

#: Paid invoices a customer needs for its own estimates.
MIN_INVOICES: Final = 3
#: Customers with own estimates a sector needs for its own sector estimates.
MIN_CUSTOMERS: Final = 3
#: Variance of rounding a continuous delay to whole days (Sheppard's correction).
ROUNDING_VAR: Final = 1.0 / 12.0
_MEAN_RANGE: Final = (-365.0, 730.0)
_SD_MAX: Final = 365.0
_SIGMA_FLOOR: Final = float(np.sqrt(ROUNDING_VAR))
_UPPER: Final = float(special.ndtr(-1.0))  # one-sigma tail probabilities: 0.1587
_LOWER: Final = 1.0 - _UPPER  # 0.8413

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Columns of :attr:`DelayEstimates.customers`.
CUSTOMER_COLUMNS: Final = (
    "customer_id", "sector", "n_paid", "n_unpaid", "source",
    "delay_mean_days", "delay_mean_se", "delay_noise_days", "delay_noise_se",
    "delay_sd_days", "delay_sd_se",
)


class DelayEstimates(NamedTuple):
    """Delay estimates per customer and per sector.

    Attributes
    ----------
    customers : DataFrame, one row per book customer in book order
        :data:`CUSTOMER_COLUMNS`: ``n_paid``/``n_unpaid`` invoices in the history; ``source``
        of mean and noise: ``"customer"`` (own), ``"sector"`` or ``"book"`` (too few paid
        invoices: the sector's or the book-level values), ``"none"``; the three estimates in
        days with their standard errors (``delay_sd_days`` is always the sector's τ).
    sectors : DataFrame, one row per sector of the book
        ``sector``, ``n_customers``, ``n_own`` (customers with own estimates), ``n_paid``,
        ``n_unpaid``, ``source`` (``"sector"`` or ``"book"``) and the sector-level estimates
        with standard errors, under the same names.
    as_of : date
        The cut-off date: invoices unpaid then are right-censored.
    n_paid, n_unpaid : int
        Paid and unpaid invoices in the history.
    """

    customers: pd.DataFrame
    sectors: pd.DataFrame
    as_of: date
    n_paid: int
    n_unpaid: int


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_history(
    path: str | os.PathLike[str], book: Book, *, as_of: date | str | None = None,
    dialect: TableDialect | None = None, currencies: Currencies | None = None,
) -> pd.DataFrame:
    """Read and validate a payment history (``.csv``, ``.parquet``, ``.xlsx``).

    A CSV file is read in ``dialect`` (``BookConfig.dialect("history")``; unset keys
    detected); amounts in a ``currency`` column's currencies are converted with
    ``currencies`` (only the dates matter for the delays). Returns the frame of
    :func:`portsim.data.invoices.read_invoices` plus ``paid_date`` (datetime64, NaT where
    unpaid). Raises :class:`~portsim.errors.BookError` listing every problem, each as
    ``file row N (invoice_id): column=value rule; fix``.
    """
    return read_invoice_table(path, book, as_of=as_of, kind="history", dialect=dialect,
                              currencies=currencies)


def history_from_frame(
    df: pd.DataFrame, book: Book, *, as_of: date | str | None = None, source: str = "<frame>"
) -> pd.DataFrame:
    """Validate a DataFrame holding a payment history; as :func:`read_history`."""
    return invoice_table_from_frame(df, book, as_of=as_of, kind="history", source=source)


# --------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------


def calibrate_delays(
    history_df: pd.DataFrame,
    book: Book,
    *,
    min_invoices: int = MIN_INVOICES,
    min_customers: int = MIN_CUSTOMERS,
    as_of: date | str | None = None,
) -> pd.DataFrame:
    """Per-customer delay estimates with standard errors (see the module docstring).

    Parameters
    ----------
    history_df : DataFrame
        The payment history (columns ``invoice_id, customer_id, amount, issue_date, due_date,
        paid_date``; text, numbers or dates); validated here.
    book : Book
        The customers; every customer of the history must be in it.
    min_invoices : int, default 3
        Paid invoices a customer needs for its own estimates (≥ 2).
    min_customers : int, default 3
        Customers with own estimates a sector needs for sector-level estimates (≥ 2).
    as_of : date or ISO str, optional
        Cut-off date; default the latest issue or payment date in the history.

    Returns
    -------
    DataFrame
        :attr:`DelayEstimates.customers`, one row per book customer, in book order.
    """
    return estimate_delays(history_df, book, min_invoices=min_invoices,
                           min_customers=min_customers, as_of=as_of).customers


def estimate_delays(
    history_df: pd.DataFrame,
    book: Book,
    *,
    min_invoices: int = MIN_INVOICES,
    min_customers: int = MIN_CUSTOMERS,
    as_of: date | str | None = None,
    source: str = "<frame>",
) -> DelayEstimates:
    """As :func:`calibrate_delays`, returning the sector table too."""
    if min_invoices < 2 or min_customers < 2:
        raise ValueError("min_invoices and min_customers must be at least 2")
    hist = history_from_frame(history_df, book, as_of=as_of, source=source)
    if as_of is None:
        last = pd.concat([hist["issue_date"], hist["paid_date"]]).max()
        cutoff = pd.Timestamp(last).date()
    else:
        cutoff = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    n = book.n_customers
    cust = hist["customer"].to_numpy(np.int64)
    paid = hist["paid_date"].notna().to_numpy(bool)
    due = hist["due_date"]
    delay = (hist["paid_date"] - due).dt.days.to_numpy(float)
    censor = (pd.Timestamp(cutoff) - due).dt.days.to_numpy(float) + 0.5

    fit = _fit_customers(n, cust[paid], delay[paid], cust[~paid], censor[~paid])
    n_paid = fit.n
    n_unpaid = np.bincount(cust[~paid], minlength=n)
    own = n_paid >= min_invoices
    if not own.any():
        raise BookError([Problem(
            source, "payment history",
            f"has no customer with at least {min_invoices} paid invoices",
            "give a longer history, or lower min_invoices (--min-invoices)",
        )], title=f"cannot calibrate delays from {source}")

    sectors = np.asarray(book.sector, dtype=object)
    book_level = _group(fit, own)
    rows = []
    mean = np.full(n, np.nan)
    mean_se = np.full(n, np.nan)
    noise = np.full(n, np.nan)
    noise_se = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    sd_se = np.full(n, np.nan)
    src = np.full(n, "none", dtype=object)
    for name in pd.unique(sectors):
        in_sector = sectors == name
        members = own & in_sector
        level, level_name = (_group(fit, members), "sector")
        if members.sum() < min_customers:
            level, level_name = book_level, "book"
        rows.append({
            "sector": str(name),
            "n_customers": int(in_sector.sum()),
            "n_own": int(members.sum()),
            "n_paid": int(n_paid[in_sector].sum()),
            "n_unpaid": int(n_unpaid[in_sector].sum()),
            "source": level_name,
            **level,
        })
        rest = in_sector & ~own
        mean[rest], mean_se[rest] = level["delay_mean_days"], level["delay_mean_se"]
        noise[rest], noise_se[rest] = level["delay_noise_days"], level["delay_noise_se"]
        src[rest] = level_name
        sd[in_sector], sd_se[in_sector] = level["delay_sd_days"], level["delay_sd_se"]
    mean[own], mean_se[own] = fit.mean[own], fit.mean_se[own]
    noise[own], noise_se[own] = fit.noise[own], fit.noise_se[own]
    src[own] = "customer"

    customers = pd.DataFrame({
        "customer_id": np.asarray(book.customer_id, dtype=object).astype(str),
        "sector": sectors.astype(str),
        "n_paid": n_paid,
        "n_unpaid": n_unpaid,
        "source": src.astype(str),
        "delay_mean_days": np.clip(mean, *_MEAN_RANGE),
        "delay_mean_se": mean_se,
        "delay_noise_days": np.minimum(noise, _SD_MAX),
        "delay_noise_se": noise_se,
        "delay_sd_days": np.minimum(sd, _SD_MAX),
        "delay_sd_se": sd_se,
    })
    return DelayEstimates(
        customers=customers,
        sectors=pd.DataFrame(rows),
        as_of=cutoff,
        n_paid=int(paid.sum()),
        n_unpaid=int((~paid).sum()),
    )


class _Fit(NamedTuple):
    """Per-customer fits, shape (n_customers,) each (NaN where n < 2)."""

    n: IntArray  # paid invoices
    mean: FloatArray
    mean_se: FloatArray
    sigma: FloatArray  # within sd of the observed (rounded) delays
    noise: FloatArray  # rounding-corrected
    noise_se: FloatArray


def _fit_customers(
    n_customers: int, cust: IntArray, x: FloatArray, ccust: IntArray, c: FloatArray
) -> _Fit:
    """Mean and within sd per customer: closed form, or Tobit (EM) where invoices are unpaid."""
    n = np.bincount(cust, minlength=n_customers)
    s1 = _sum_by(cust, x, n_customers)
    s2 = _sum_by(cust, x * x, n_customers)
    u = np.bincount(ccust, minlength=n_customers)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 - n * mean**2, 0.0) / (n - 1)  # sample variance
    ok = n >= 2
    sigma = np.where(ok, np.sqrt(var), np.nan)
    mean = np.where(ok, mean, np.nan)
    mean_se = sigma / np.sqrt(np.where(ok, n, np.nan))
    sigma_se = sigma / np.sqrt(2.0 * np.where(ok, n - 1, np.nan))

    tobit = ok & (u > 0)
    if tobit.any():
        keep = tobit[ccust]
        cc, cv = ccust[keep], c[keep]
        mu, sig = mean.copy(), np.maximum(np.nan_to_num(sigma, nan=1.0), 1.0)
        big_n = (n + u).astype(float)
        for _ in range(5000):
            z = (cv - mu[cc]) / sig[cc]
            lam = _mills(z)
            ex = mu[cc] + sig[cc] * lam
            ex2 = mu[cc] ** 2 + sig[cc] ** 2 + sig[cc] * (cv + mu[cc]) * lam
            with np.errstate(invalid="ignore", divide="ignore"):
                mu_new = (s1 + _sum_by(cc, ex, n_customers)) / big_n
                var_new = (s2 + _sum_by(cc, ex2, n_customers)) / big_n
            sig_new = np.sqrt(np.maximum(var_new - mu_new**2, _SIGMA_FLOOR**2))
            step = np.nanmax(np.abs(np.concatenate([(mu_new - mu)[tobit],
                                                    (sig_new - sig)[tobit]])))
            mu = np.where(tobit, mu_new, mu)
            sig = np.where(tobit, sig_new, sig)
            if step < 1e-9:
                break
        i_mm, i_ms, i_ss = _information(n_customers, cust, x, cc, cv, mu, sig)
        det = i_mm * i_ss - i_ms**2
        with np.errstate(invalid="ignore", divide="ignore"):
            var_mu = np.where(det > 0, i_ss / det, np.nan)
            var_sig = np.where(det > 0, i_mm / det, np.nan)
        scale = np.sqrt(np.where(ok, n, np.nan) / np.where(ok, n - 1, np.nan))
        mean = np.where(tobit, mu, mean)
        sigma = np.where(tobit, sig * scale, sigma)
        mean_se = np.where(tobit, np.sqrt(var_mu) * scale, mean_se)
        sigma_se = np.where(tobit, np.sqrt(var_sig) * scale, sigma_se)

    noise = np.sqrt(np.maximum(sigma**2 - ROUNDING_VAR, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = 0.5 * (sigma / sigma_se) ** 2  # n - 1 without censoring
    noise_se = _variance_interval_se(sigma**2, dof, ROUNDING_VAR)
    return _Fit(n.astype(np.int64), mean, mean_se, sigma, noise, noise_se)


def _variance_interval_se(
    var: FloatArray | float, dof: FloatArray | float, minus: FloatArray | float
) -> FloatArray:
    """Half the width of the one-sigma interval of √(V − minus), for a variance estimate V
    with ``dof · V / E[V] ~ χ²(dof)`` (the chi-square interval, mapped through the root)."""
    var, dof, minus = np.broadcast_arrays(np.asarray(var, float), np.asarray(dof, float),
                                          np.asarray(minus, float))
    out = np.full(var.shape, np.nan)
    ok = np.isfinite(var) & np.isfinite(dof) & (dof > 0)
    v, k, w = var[ok], dof[ok], minus[ok]
    # chdtri(k, p) is the χ² quantile with upper tail p
    lo = np.sqrt(np.maximum(v * k / special.chdtri(k, _UPPER) - w, 0.0))
    hi = np.sqrt(np.maximum(v * k / special.chdtri(k, _LOWER) - w, 0.0))
    # at the boundary (even the upper end is 0) the scale at which √(V − minus) is resolved
    floor = np.sqrt(np.sqrt(2.0 / k) * np.maximum(w, 1e-12))
    out[ok] = np.where(hi > 0, 0.5 * (hi - lo), floor)
    return out


def _sum_by(index: IntArray, weights: FloatArray, n: int) -> FloatArray:
    """Sum of ``weights`` per value of ``index`` (0 .. n − 1)."""
    return np.bincount(index, weights=weights, minlength=n).astype(np.float64)


def _mills(z: FloatArray) -> FloatArray:
    """Inverse Mills ratio φ(z)/(1 − Φ(z)), stable for large z."""
    log_pdf = -0.5 * z * z - 0.5 * np.log(2.0 * np.pi)
    return np.asarray(np.exp(log_pdf - special.log_ndtr(-z)), dtype=float)


def _information(
    n_customers: int, cust: IntArray, x: FloatArray, cc: IntArray, cv: FloatArray,
    mu: FloatArray, sig: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Observed information (−Hessian of the log-likelihood in μ, σ) per customer."""
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = sig[cust] ** 2
        z = (x - mu[cust]) / sig[cust]
        i_mm = _sum_by(cust, 1.0 / s2, n_customers)
        i_ms = _sum_by(cust, 2.0 * z / s2, n_customers)
        i_ss = _sum_by(cust, (3.0 * z * z - 1.0) / s2, n_customers)
        s2c = sig[cc] ** 2
        zc = (cv - mu[cc]) / sig[cc]
        lam = _mills(zc)
        i_mm += _sum_by(cc, lam * (lam - zc) / s2c, n_customers)
        i_ms += _sum_by(cc, lam * ((lam - zc) * zc + 1.0) / s2c, n_customers)
        i_ss += _sum_by(cc, lam * zc * ((lam - zc) * zc + 2.0) / s2c, n_customers)
    return i_mm, i_ms, i_ss


def _group(fit: _Fit, members: npt.NDArray[np.bool_]) -> dict[str, float]:
    """Group-level estimates from the customers in ``members`` (all with n ≥ 2)."""
    m = int(members.sum())
    nan = float("nan")
    out = dict.fromkeys(("delay_mean_days", "delay_mean_se", "delay_noise_days",
                         "delay_noise_se", "delay_sd_days", "delay_sd_se"), nan)
    if m == 0:
        return out
    means = fit.mean[members]
    se2 = fit.mean_se[members] ** 2
    df = (fit.n[members] - 1).astype(float)
    out["delay_mean_days"] = float(means.mean())
    pooled = float((df * fit.sigma[members] ** 2).sum() / df.sum())
    noise = float(np.sqrt(max(pooled - ROUNDING_VAR, 0.0)))
    out["delay_noise_days"] = min(noise, _SD_MAX)
    out["delay_noise_se"] = float(_variance_interval_se(pooled, df.sum(), ROUNDING_VAR)[()])
    if m < 2:
        return out
    between = float(means.var(ddof=1))
    out["delay_mean_se"] = float(np.sqrt(between / m))
    tau = float(np.sqrt(max(between - float(se2.mean()), 0.0)))
    out["delay_sd_days"] = min(tau, _SD_MAX)
    out["delay_sd_se"] = float(_variance_interval_se(between, m - 1, float(se2.mean()))[()])
    return out


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_calibrated_book(
    book: Book, estimates: pd.DataFrame, out_path: str | os.PathLike[str], *, decimals: int = 3
) -> Path:
    """Write the book with ``delay_mean_days``, ``delay_sd_days`` and ``delay_noise_days``
    filled from ``estimates`` (matched by ``customer_id``; blank where missing or NaN).

    The table is :meth:`Book.to_frame` (every book column, PDs resolved, defaults filled,
    amounts in the book currency), so :func:`portsim.data.book.read_book` reads it without a
    ratings table or FX rates. ``.csv`` (UTF-8),
    ``.parquet`` (needs pyarrow) or ``.xlsx`` (needs openpyxl), by the file's extension.
    Values are rounded to ``decimals`` places (days).

    Returns
    -------
    Path
        ``out_path``.
    """
    out = Path(out_path)
    frame = book.to_frame()
    by_id = estimates.set_index(estimates["customer_id"].astype(str))
    ids = frame["customer_id"].astype(str)
    for column in DELAY_COLUMNS:
        values = by_id[column].reindex(ids).to_numpy(dtype=float)
        frame[column] = np.round(values, decimals)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(out, index=False, lineterminator="\n", encoding="utf-8")
    elif suffix == ".parquet":
        frame.to_parquet(out, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(out, index=False)
    else:
        raise BookError([Problem(out.name, "file type", f"'{suffix}' is not supported",
                                 "write the book as .csv, .parquet or .xlsx")],
                        title=f"cannot write {os.fspath(out)}")
    return out
