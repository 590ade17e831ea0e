"""Generate the seeded example credit files of a customers book: a payment history with
defaults, quarterly financial statements, external signals and the past defaults.

Customers are drawn from the book; customer i defaults with the book's annual ``p_default``
as a constant hazard, in the last ``months − 12`` months (so that a year of history precedes
every default). Payments follow the delay model of ``tools/make_history.py`` (sector mean and
spread of propensities, per-invoice noise); a defaulting customer deteriorates from a lead
time of 6–12 months before its default: its delays grow linearly to 45–90 extra days at the
default, its orders shrink by up to half, its invoices due to be paid after the default stay
unpaid (some partly paid, some disputed), it gets no invoices after it, its statements show
rising debt, falling profits and liquidity and stop, its insurer grade worsens and legal
events pile up. Survivors' invoices
paid after the as-of date are unpaid there (censored), as in the calibration history.

Usage::

    python tools/make_credit_files.py --book configs/example_book.csv --out configs

writes ``example_credit_history.csv``, ``example_statements.csv``, ``example_signals.csv``
and ``example_defaults.csv``. Importable: ``make_credit_files(book_frame, ...)`` returns the
four tables and the truth (one row per drawn customer).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

# the delay model of the calibration history: its sector means and spreads
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_history import DEFAULT_DELAYS, SECTOR_DELAYS

__all__ = ["CreditExample", "make_credit_files"]

DEFAULT_KINDS = ("insolvency", "protracted_default", "write_off")
DEFAULT_KIND_P = (0.5, 0.35, 0.15)
LEGAL_KINDS = ("lawsuit", "lien", "payment_order", "collection")


class CreditExample(NamedTuple):
    """The generated tables (ISO text dates) and the truth per drawn customer."""

    history: pd.DataFrame
    statements: pd.DataFrame
    signals: pd.DataFrame
    defaults: pd.DataFrame
    truth: pd.DataFrame


def _iso(values: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(values).strftime("%Y-%m-%d").to_numpy(dtype=object)


def make_credit_files(
    book: pd.DataFrame, *, n_customers: int = 600, months: int = 36,
    as_of: str = "2026-12-31", seed: int = 20261206,
) -> CreditExample:
    """The example credit files of ``n_customers`` customers of ``book`` over ``months``.

    Parameters
    ----------
    book : DataFrame
        A customers table with ``customer_id, sector, p_default, payment_terms_days,
        annual_sales, insured_limit``.
    n_customers, months : int
        Customers drawn (without replacement) and months of monthly invoices (≥ 13).
    as_of : str
        The cut-off date (ISO).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    CreditExample
        ``truth`` has ``customer_id, default_date`` (NaT for survivors), ``lead_days`` (the
        deterioration's start before the default) and ``extra_days`` (its extra delay at the
        default).
    """
    rng = np.random.default_rng(seed)
    cutoff = pd.Timestamp(as_of)
    start = (cutoff.to_period("M") - (months - 1)).to_timestamp()
    pick = np.sort(rng.choice(len(book), size=min(n_customers, len(book)), replace=False))
    chosen = book.iloc[pick].reset_index(drop=True)
    k = len(chosen)
    ids = chosen["customer_id"].astype(str).to_numpy()
    params = np.array([SECTOR_DELAYS.get(str(s), DEFAULT_DELAYS) for s in chosen["sector"]])
    mean = params[:, 0] + params[:, 1] * rng.standard_normal(k)
    noise = rng.uniform(3.0, 12.0, k)
    pd_year = pd.to_numeric(chosen["p_default"]).fillna(0.01).to_numpy(float)
    # constant hazard; defaults only after a first year of history
    window = (cutoff - (start + pd.DateOffset(years=1))).days
    hazard = -np.log1p(-np.minimum(pd_year, 0.999)) / 365.25
    wait = rng.exponential(1.0, k) / hazard
    defaults_at = wait < window
    default_date = pd.Series(pd.NaT, index=range(k), dtype="datetime64[ns]")
    default_date[defaults_at] = (start + pd.DateOffset(years=1)) + pd.to_timedelta(
        np.floor(wait[defaults_at]), unit="D")
    lead = rng.uniform(182.0, 365.0, k)
    extra = rng.uniform(45.0, 90.0, k)
    truth = pd.DataFrame({"customer_id": ids, "default_date": default_date,
                          "lead_days": lead, "extra_days": extra})
    history = _history(rng, chosen, truth, mean, noise, start, months, cutoff)
    statements = _statements(rng, chosen, truth, pd_year, start, cutoff)
    signals = _signals(rng, chosen, truth, pd_year, start, cutoff)
    hit = np.flatnonzero(defaults_at)
    defaults = pd.DataFrame({
        "customer_id": ids[hit], "default_date": _iso(default_date[hit]),
        "kind": rng.choice(DEFAULT_KINDS, size=hit.size, p=DEFAULT_KIND_P),
    }).sort_values(["default_date", "customer_id"]).reset_index(drop=True)
    return CreditExample(history, statements, signals, defaults, truth)


def _stress(when: pd.DatetimeIndex | pd.Series, truth: pd.DataFrame,
            who: np.ndarray) -> np.ndarray:
    """0 before a defaulter's deterioration, rising linearly to 1 at its default."""
    to_default = (pd.DatetimeIndex(truth["default_date"].to_numpy()[who])
                  - pd.DatetimeIndex(when)).days.to_numpy(float)
    s = 1.0 - to_default / truth["lead_days"].to_numpy()[who]
    return np.nan_to_num(np.clip(s, 0.0, 1.0))


def _history(rng: np.random.Generator, chosen: pd.DataFrame, truth: pd.DataFrame,
             mean: np.ndarray, noise: np.ndarray, start: pd.Timestamp, months: int,
             cutoff: pd.Timestamp) -> pd.DataFrame:
    k = len(chosen)
    terms = pd.to_numeric(chosen["payment_terms_days"]).fillna(30).to_numpy(int)
    sales = pd.to_numeric(chosen["annual_sales"]).fillna(0).to_numpy(float)
    cust = np.repeat(np.arange(k), months)
    month = np.tile(np.arange(months), k)
    day = rng.integers(1, 29, k)
    issue = pd.DatetimeIndex([start + pd.DateOffset(months=int(m)) for m in range(months)])[
        month] + pd.to_timedelta(day[cust] - 1, unit="D")
    d_date = pd.DatetimeIndex(truth["default_date"].to_numpy()[cust])
    keep = (np.asarray(issue < d_date) | d_date.isna()) & np.asarray(issue <= cutoff)
    cust, issue, d_date = cust[keep], issue[keep], d_date[keep]
    due = issue + pd.to_timedelta(terms[cust], unit="D")
    stress = _stress(due, truth, cust)
    delay = np.rint(mean[cust] + noise[cust] * rng.standard_normal(cust.size)
                    + stress * truth["extra_days"].to_numpy()[cust])
    paid = pd.DatetimeIndex(np.maximum(due + pd.to_timedelta(delay, unit="D"), issue))
    # orders shrink as a defaulter deteriorates
    amount = np.maximum(sales[cust] / 12.0 * rng.lognormal(-0.045, 0.3, cust.size)
                        * (1.0 - 0.5 * _stress(issue, truth, cust)), 1.0).round(2)
    after_default = np.asarray(paid >= d_date)  # False for survivors (NaT)
    unpaid = after_default | np.asarray(paid > cutoff)
    # some of a defaulter's last invoices are partly paid, some disputed
    partial = after_default & (rng.random(cust.size) < 0.3)
    part_date = d_date - pd.to_timedelta(rng.integers(5, 30, cust.size), unit="D")
    partial &= np.asarray(part_date >= issue) & np.asarray(part_date <= cutoff)
    disputed = (after_default & (rng.random(cust.size) < 0.25)) | (rng.random(cust.size) < 0.01)
    paid_text = _iso(paid)
    paid_text[unpaid] = ""
    paid_text[partial] = _iso(part_date[partial])
    paid_amount = np.full(cust.size, "", dtype=object)
    paid_amount[partial] = [f"{a:.2f}" for a in amount[partial] * rng.uniform(0.2, 0.6,
                                                                              partial.sum())]
    return pd.DataFrame({
        "invoice_id": [f"E{j:06d}" for j in range(1, cust.size + 1)],
        "customer_id": chosen["customer_id"].astype(str).to_numpy()[cust],
        "amount": amount,
        "issue_date": _iso(issue),
        "due_date": _iso(due),
        "paid_date": paid_text,
        "paid_amount": paid_amount,
        "disputed": np.where(disputed, "yes", ""),
    })


def _statements(rng: np.random.Generator, chosen: pd.DataFrame, truth: pd.DataFrame,
                pd_year: np.ndarray, start: pd.Timestamp, cutoff: pd.Timestamp) -> pd.DataFrame:
    k = len(chosen)
    publishes = rng.random(k) < 0.7
    revenue = pd.to_numeric(chosen["annual_sales"]).fillna(1e5).to_numpy(float) * \
        rng.uniform(20.0, 60.0, k)
    assets = revenue * rng.uniform(0.6, 1.2, k)
    risk = np.clip(np.log10(np.maximum(pd_year, 1e-4)) + 4.0, 0.0, 3.5) / 3.5  # 0 … 1
    debt = rng.uniform(0.3, 0.5, k) + 0.25 * risk
    current = rng.uniform(1.3, 2.3, k) - 0.4 * risk
    roa = rng.normal(0.09, 0.025, k) - 0.04 * risk
    retained = rng.uniform(0.1, 0.3, k) - 0.1 * risk
    cl_share = rng.uniform(0.4, 0.7, k)
    listed = rng.random(k) < 0.1
    quarters = pd.period_range(start.to_period("Q"), cutoff.to_period("Q"), freq="Q")
    ends = pd.DatetimeIndex([q.end_time.normalize() for q in quarters])
    who = np.repeat(np.flatnonzero(publishes), ends.size)
    end = ends[np.tile(np.arange(ends.size), publishes.sum())]
    available = end + pd.to_timedelta(rng.integers(45, 121, who.size), unit="D")
    d_date = pd.DatetimeIndex(truth["default_date"].to_numpy()[who])
    keep = np.asarray(available <= cutoff) & (np.asarray(end < d_date - pd.Timedelta(days=30))
                                              | d_date.isna())
    who, end, available = who[keep], end[keep], available[keep]
    s = _stress(end, truth, who)
    wiggle = rng.normal(1.0, 0.03, (6, who.size))
    ta = assets[who] * wiggle[0]
    tl = ta * np.minimum((debt[who] + 0.4 * s) * wiggle[1], 1.3)
    cl = tl * cl_share[who]
    ca = np.minimum(cl * current[who] * (1.0 - 0.5 * s) * wiggle[2], 0.95 * ta)
    ebit = ta * (roa[who] * wiggle[3] - 0.16 * s)
    re = ta * (retained[who] * wiggle[4] - 0.3 * s)
    sales = revenue[who] * (1.0 - 0.3 * s) * wiggle[5]
    equity = ta - tl
    market = np.where(listed[who], np.maximum(equity, 0.0) * rng.uniform(1.0, 2.5, who.size),
                      np.nan)

    def money(x: np.ndarray) -> list[str]:
        return ["" if np.isnan(v) else f"{v:.0f}" for v in x]

    return pd.DataFrame({
        "customer_id": chosen["customer_id"].astype(str).to_numpy()[who],
        "period_end": _iso(end), "available_date": _iso(available),
        "total_assets": money(ta), "current_assets": money(ca),
        "current_liabilities": money(cl), "total_liabilities": money(tl),
        "equity": money(equity), "retained_earnings": money(re), "ebit": money(ebit),
        "sales": money(sales), "market_equity": money(market),
    })


def _signals(rng: np.random.Generator, chosen: pd.DataFrame, truth: pd.DataFrame,
             pd_year: np.ndarray, start: pd.Timestamp, cutoff: pd.Timestamp) -> pd.DataFrame:
    k = len(chosen)
    ids = chosen["customer_id"].astype(str).to_numpy()
    rows: list[tuple[str, pd.Timestamp, str, str]] = []
    graded = pd.to_numeric(chosen["insured_limit"]).fillna(0).to_numpy(float) > 0
    base = np.clip(np.rint(3.0 + 1.5 * np.log10(np.maximum(pd_year, 1e-4) / 1e-3)), 1, 8)
    d_dates = truth["default_date"]
    for i in range(k):
        d_date = d_dates.iloc[i]
        end = cutoff if pd.isna(d_date) else min(cutoff, d_date)
        if graded[i]:  # an insurer's grade 1 (best) … 10, reviewed about quarterly
            when = start + pd.to_timedelta(rng.integers(0, 90), unit="D")
            while when <= end:
                s = float(_stress(pd.DatetimeIndex([when]), truth, np.array([i]))[0])
                grade = np.clip(base[i] + rng.integers(-1, 2) * (rng.random() < 0.2) + 6 * s,
                                1, 10)
                rows.append((ids[i], when, "grade", f"{np.rint(grade):.0f}"))
                when += pd.to_timedelta(rng.integers(75, 110), unit="D")
        # legal events: rare, then frequent once a defaulter deteriorates
        n_base = rng.poisson(0.05 * (end - start).days / 365.25)
        for day in rng.integers(0, max((end - start).days, 1), n_base):
            rows.append((ids[i], start + pd.Timedelta(days=int(day)), str(rng.choice(LEGAL_KINDS)),
                         ""))
        if not pd.isna(d_date):
            lead = truth["lead_days"].iloc[i]
            for back in rng.uniform(0.0, lead, rng.poisson(2.5)):
                when = d_date - pd.Timedelta(days=int(back))
                if when <= cutoff:
                    rows.append((ids[i], when, str(rng.choice(LEGAL_KINDS)), ""))
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "kind", "value"])
    frame["date"] = _iso(frame["date"])
    return frame.sort_values(["date", "customer_id", "kind"], kind="stable").reset_index(
        drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=Path("configs/example_book.csv"))
    parser.add_argument("--out", type=Path, default=Path("configs"), help="folder to write to")
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--as-of", default="2026-12-31")
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args(argv)
    book = pd.read_csv(args.book, dtype={"customer_id": str})
    example = make_credit_files(book, n_customers=args.customers, months=args.months,
                                as_of=args.as_of, seed=args.seed)
    for name in ("history", "statements", "signals", "defaults"):
        table = getattr(example, name)
        file = args.out / ("example_credit_history.csv" if name == "history"
                           else f"example_{name}.csv")
        table.to_csv(file, index=False, lineterminator="\n")
        print(f"{file}: {len(table)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
