"""Generate a seeded synthetic payment history and open-invoices table for a customers book.

The payment history draws known delay parameters and pays invoices as the simulation does
(:mod:`portsim.kernels.timeline`): customer i of sector s has the propensity
``m_i = mean_s + sd_s · u_i`` (u_i ~ N(0, 1)) and per-invoice noise ``noise_i``
(uniform 3 .. 12 days); invoice j is paid on ``due + round(m_i + noise_i · e_j)``, never
before its issue date. Invoices are monthly over ``months`` months up to the as-of date; one
paid after the as-of date is unpaid there (blank ``paid_date``). About a tenth of the
customers are new, with only one or two invoices (they get their sector's estimates). About a
quarter of them (``default_share``) defaulted instead: their invoices were issued 9 to 12
months before the as-of month and never paid (the history has no write-off column: they stay
blank, and the roll rates count them written off once ``--write-off-days`` past due). Only
customers with too few invoices for estimates of their own default, so calibration, which
would read their unpaid invoices as long delays, gives every customer the estimates it gave
without defaults.
:func:`make_history` also returns the truth, so tests can check that ``portsim calibrate``
recovers it.

The open invoices at the as-of date split each customer's ``exposure`` exactly (to the cent)
over 1 .. ceil((terms + 12) / 30.44) monthly invoices, the oldest possibly overdue.

Usage::

    python tools/make_history.py --book configs/example_book.csv \\
        --history configs/example_history.csv --invoices configs/example_invoices.csv

Importable without side effects: ``make_history(book_frame, ...) -> (history, truth)`` and
``make_open_invoices(book_frame, ...) -> invoices``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SECTOR_DELAYS", "make_history", "make_open_invoices"]

#: Sector → (mean delay in days, sd of the customers' propensities in days).
SECTOR_DELAYS: dict[str, tuple[float, float]] = {
    "construction": (25.0, 10.0),
    "retail": (15.0, 7.0),
    "automotive": (10.0, 5.0),
    "machinery": (12.0, 6.0),
    "chemicals": (8.0, 4.0),
    "food": (9.0, 4.0),
    "transport": (16.0, 8.0),
    "electronics": (11.0, 5.0),
    "healthcare": (14.0, 6.0),
    "energy": (6.0, 3.0),
}
DEFAULT_DELAYS = (12.0, 6.0)
DAYS_PER_MONTH = 365.25 / 12.0


def make_history(
    book: pd.DataFrame,
    *,
    n_customers: int = 200,
    months: int = 24,
    as_of: str = "2026-12-31",
    seed: int = 20261231,
    new_share: float = 0.1,
    default_share: float = 0.25,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A payment history for ``n_customers`` customers of ``book`` and the true parameters.

    Parameters
    ----------
    book : DataFrame
        A customers table with ``customer_id``, ``sector``, ``payment_terms_days`` and
        ``annual_sales``.
    n_customers, months : int
        Customers drawn (without replacement) and months of monthly invoices.
    as_of : str
        Cut-off date (ISO): invoices paid after it are unpaid (blank ``paid_date``).
    seed : int
        Seed of ``numpy.random.default_rng``.
    new_share : float
        Share of customers with only one or two invoices.
    default_share : float
        Share of those new customers that defaulted 9 to 12 months before the as-of month,
        leaving their invoices unpaid.

    Returns
    -------
    history : DataFrame
        ``invoice_id, customer_id, amount, issue_date, due_date, paid_date`` (ISO text,
        ``paid_date`` blank when unpaid), ordered by customer then issue date.
    truth : DataFrame
        ``customer_id, sector, mean_days`` (the customer's propensity m_i), ``noise_days``,
        ``sector_mean_days``, ``sector_sd_days``, ``defaulted`` (bool).
    """
    rng = np.random.default_rng(seed)
    cutoff = pd.Timestamp(as_of)
    pick = np.sort(rng.choice(len(book), size=min(n_customers, len(book)), replace=False))
    chosen = book.iloc[pick].reset_index(drop=True)
    k = len(chosen)
    sector = chosen["sector"].astype(str).to_numpy()
    params = np.array([SECTOR_DELAYS.get(s, DEFAULT_DELAYS) for s in sector])
    true_mean = params[:, 0] + params[:, 1] * rng.standard_normal(k)
    noise = rng.uniform(3.0, 12.0, k)
    terms = pd.to_numeric(chosen["payment_terms_days"]).fillna(30).to_numpy(int)
    sales = pd.to_numeric(chosen["annual_sales"]).fillna(0).to_numpy(float)
    n_inv = np.where(rng.random(k) < new_share, rng.integers(1, 3, k), months)
    day = rng.integers(1, 29, k)

    cust = np.repeat(np.arange(k), n_inv)
    delay = np.rint(true_mean[cust] + noise[cust] * rng.standard_normal(cust.size))
    amount = np.maximum(sales[cust] / 12.0 * rng.lognormal(-0.045, 0.3, cust.size), 1.0)
    # defaults (drawn last, so the other customers' invoices are those without defaults):
    # a new customer's invoices end 9 to 12 months back, then it defaults before paying
    defaulted = (n_inv < months) & (rng.random(k) < default_share)
    shift = np.where(defaulted, rng.integers(9, 12, k), 0)
    # months back from the as-of month: the newest invoice is in the as-of month
    back = np.concatenate([np.arange(m)[::-1] for m in n_inv]) + shift[cust]
    first = cutoff.to_period("M")
    issue = pd.PeriodIndex([first - int(b) for b in back], freq="M").to_timestamp() + \
        pd.to_timedelta(day[cust] - 1, unit="D")
    due = issue + pd.to_timedelta(terms[cust], unit="D")
    paid = np.maximum(due + pd.to_timedelta(delay, unit="D"), issue)
    paid_text = paid.strftime("%Y-%m-%d").to_numpy(dtype=object)
    paid_text[np.asarray(paid > cutoff) | defaulted[cust]] = ""
    history = pd.DataFrame({
        "invoice_id": [f"H{j:05d}" for j in range(1, cust.size + 1)],
        "customer_id": chosen["customer_id"].to_numpy()[cust],
        "amount": amount.round(2),
        "issue_date": issue.strftime("%Y-%m-%d"),
        "due_date": due.strftime("%Y-%m-%d"),
        "paid_date": paid_text,
    })
    truth = pd.DataFrame({
        "customer_id": chosen["customer_id"].to_numpy(),
        "sector": sector,
        "mean_days": true_mean,
        "noise_days": noise,
        "sector_mean_days": params[:, 0],
        "sector_sd_days": params[:, 1],
        "defaulted": defaulted,
    })
    return history, truth


def make_open_invoices(
    book: pd.DataFrame, *, as_of: str = "2026-12-31", seed: int = 20261231
) -> pd.DataFrame:
    """Open invoices at ``as_of`` whose amounts add up to each customer's ``exposure``.

    Each customer with an exposure gets 1 .. ceil((terms + 12) / 30.44) invoices, issued
    about a month apart back from the as-of date and due ``payment_terms_days`` after issue;
    the exposure is split by Dirichlet(2) weights, in whole cents, exactly.
    """
    rng = np.random.default_rng(seed + 1)
    cutoff = pd.Timestamp(as_of)
    exposure_cents = np.rint(pd.to_numeric(book["exposure"]).to_numpy(float) * 100).astype(
        np.int64)
    terms = pd.to_numeric(book["payment_terms_days"]).fillna(30).to_numpy(int)
    k_max = np.ceil((terms + 12) / DAYS_PER_MONTH).astype(int)
    k = np.where(exposure_cents > 0, rng.integers(1, k_max + 1), 0)
    cust = np.repeat(np.arange(len(book)), k)
    pos = np.arange(cust.size) - np.repeat(np.cumsum(k) - k, k)
    offset = rng.integers(0, 28, len(book))
    age = np.floor(pos * DAYS_PER_MONTH).astype(int) + offset[cust]
    issue = cutoff - pd.to_timedelta(age, unit="D")
    due = issue + pd.to_timedelta(terms[cust], unit="D")
    weights = rng.gamma(2.0, size=cust.size)
    totals = np.bincount(cust, weights=weights, minlength=len(book))
    cents = np.floor(exposure_cents[cust] * weights / totals[cust]).astype(np.int64)
    # the newest invoice of each customer takes the remaining cents
    remainder = exposure_cents - np.bincount(cust, weights=cents, minlength=len(book)).astype(
        np.int64)
    firsts = np.cumsum(k) - k
    has = k > 0
    cents[firsts[has]] += remainder[has]
    return pd.DataFrame({
        "invoice_id": [f"I{j:05d}" for j in range(1, cust.size + 1)],
        "customer_id": book["customer_id"].to_numpy()[cust],
        "amount": [f"{c // 100}.{c % 100:02d}" for c in cents],
        "issue_date": issue.strftime("%Y-%m-%d"),
        "due_date": due.strftime("%Y-%m-%d"),
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=Path("configs/example_book.csv"))
    parser.add_argument("--history", type=Path, help="payment history to write (.csv)")
    parser.add_argument("--invoices", type=Path, help="open invoices to write (.csv)")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--as-of", default="2026-12-31")
    parser.add_argument("--seed", type=int, default=20261231)
    parser.add_argument("--default-share", type=float, default=0.25,
                        help="share of the new customers that defaulted in the window")
    args = parser.parse_args(argv)
    book = pd.read_csv(args.book, dtype={"customer_id": str})
    if args.history is not None:
        history, truth = make_history(book, n_customers=args.customers, months=args.months,
                                      as_of=args.as_of, seed=args.seed,
                                      default_share=args.default_share)
        history.to_csv(args.history, index=False, lineterminator="\n")
        print(f"{args.history}: {len(history)} invoices of {history['customer_id'].nunique()} "
              f"customers ({int(truth['defaulted'].sum())} defaulted), "
              f"{(history['paid_date'] == '').sum()} unpaid at {args.as_of}")
    if args.invoices is not None:
        invoices = make_open_invoices(book, as_of=args.as_of, seed=args.seed)
        invoices.to_csv(args.invoices, index=False, lineterminator="\n")
        print(f"{args.invoices}: {len(invoices)} open invoices of "
              f"{invoices['customer_id'].nunique()} customers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
