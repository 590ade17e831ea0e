"""Historical loss rates per ageing bucket from a payment history, by roll rates.

Method (a migration, or roll-rate, matrix)
------------------------------------------
Month-end snapshots ``t_0 < … < t_K = as_of`` are taken ``K = window_months`` months apart,
ending at the as-of date. At each snapshot every invoice issued by then and unpaid then is in
the bucket of its days past due (:mod:`portsim.provisions.ageing`), unless it is more than
``write_off_days`` past due: then it is *written off* (the history holds no write-offs, so an
invoice that old and still unpaid counts as one). One month later an invoice of bucket ``b``
is paid, written off, or in a bucket ``b' ≥ b`` (unpaid, it only gets older). Summing the
amounts of these transitions over the window gives, per bucket, the monthly transition shares

    P[b, b'] (stay or roll forward),   w[b] (written off),   1 − Σ P[b, ·] − w[b] (paid),

weighted by amount. With ``Q = P`` on the buckets (transient states) and the write-off
absorbing, the probability that an amount in bucket ``b`` is eventually written off is the
absorption probability of the chain,

    loss = (I − Q)⁻¹ · w,

the historical loss rate of the provision matrix (lifetime: through to payment or write-off).
No recovery after write-off is assumed. Nothing after the as-of date is used, so the rates at
a past date are those the history gave then.

A bucket with no observation, or whose amounts never left it in the window, has no rate (NaN);
for the others it counts as never reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from portsim.errors import InputError, Problem
from portsim.provisions.ageing import DEFAULT_BOUNDS, bucket_labels, days_past_due

__all__ = ["DEFAULT_WINDOW_MONTHS", "DEFAULT_WRITE_OFF_DAYS", "roll_rates"]

#: Months of history the transitions are counted over.
DEFAULT_WINDOW_MONTHS: Final = 12
#: Days past due after which an unpaid invoice counts as written off.
DEFAULT_WRITE_OFF_DAYS: Final = 180


def _state(history: pd.DataFrame, t: pd.Timestamp, bounds: Sequence[int],
           write_off_days: int) -> np.ndarray:
    """State of every invoice at ``t``: −1 not issued yet, 0 .. B−1 bucket, B paid,
    B + 1 written off (B = number of buckets), shape (n,)."""
    n_buckets = len(bounds) + 2  # current, the bounded ones, the open-ended last
    dpd = days_past_due(history["due_date"], t.date())
    edges = np.asarray((0, *bounds), dtype=np.int64)
    state = np.searchsorted(edges, dpd, side="left").astype(np.int64)
    state[dpd > write_off_days] = n_buckets + 1
    paid = pd.to_datetime(history["paid_date"])
    state[(paid <= t).to_numpy(bool)] = n_buckets
    state[(pd.to_datetime(history["issue_date"]) > t).to_numpy(bool)] = -1
    return state


def roll_rates(
    history: pd.DataFrame, as_of: date, *, bounds: Sequence[int] = DEFAULT_BOUNDS,
    window_months: int = DEFAULT_WINDOW_MONTHS, write_off_days: int = DEFAULT_WRITE_OFF_DAYS,
) -> pd.DataFrame:
    """Historical lifetime loss rates per bucket by roll rates (see the module docstring).

    Parameters
    ----------
    history : DataFrame
        A payment history (:func:`portsim.data.read_history`): ``amount`` (book currency),
        ``issue_date``, ``due_date``, ``paid_date`` (NaT while unpaid).
    as_of : date
        The last snapshot; nothing after it is used.
    bounds : sequence of int
        Upper bounds of the past-due buckets, days.
    window_months : int
        Months of transitions counted (≥ 1).
    write_off_days : int
        Days past due after which an unpaid invoice counts as written off; more than the last
        bound.

    Returns
    -------
    DataFrame, one row per bucket (index: bucket label)
        ``n_observations`` (invoice-months starting in the bucket), ``amount_observed`` (their
        amounts, book currency), the monthly shares ``paid``, ``stay``, ``roll_forward``,
        ``written_off`` (fractions summing to 1), and ``loss_rate`` (lifetime, fraction;
        NaN without observations).

    Raises
    ------
    InputError
        For ``window_months`` < 1 or ``write_off_days`` not beyond the last bound.
    """
    if window_months < 1:
        raise InputError([Problem("command line", f"--window-months={window_months}",
                                  "is less than 1",
                                  "count at least one month of transitions, e.g. 12")])
    if write_off_days <= bounds[-1]:
        raise InputError([Problem("command line", f"--write-off-days={write_off_days}",
                                  f"is not beyond the last bucket bound {bounds[-1]}",
                                  f"give more than {bounds[-1]} days, e.g. 180")])
    labels = bucket_labels(bounds)
    n_b = len(labels)
    end = pd.Timestamp(as_of)
    amount = history["amount"].to_numpy(float)
    counts = np.zeros(n_b, dtype=np.int64)
    flows = np.zeros((n_b, n_b + 2))  # to bucket b', paid, written off
    before = _state(history, end - pd.DateOffset(months=window_months), bounds, write_off_days)
    for k in range(window_months - 1, -1, -1):
        after = _state(history, end - pd.DateOffset(months=k), bounds, write_off_days)
        start = (before >= 0) & (before < n_b)
        np.add.at(flows, (before[start], after[start]), amount[start])
        counts += np.bincount(before[start], minlength=n_b)
        before = after
    observed = flows.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = flows / observed[:, None]
    shares[observed == 0] = 0.0
    stays = np.diag(shares[:, :n_b]).copy()
    forward = np.triu(shares[:, :n_b], k=1).sum(axis=1)
    q = shares[:, :n_b].copy()
    rated = (observed > 0) & (stays < 1.0)
    q[~rated] = 0.0
    w = np.where(rated, shares[:, n_b + 1], 0.0)
    loss = np.linalg.solve(np.eye(n_b) - q, w)
    return pd.DataFrame({
        "n_observations": counts,
        "amount_observed": observed,
        "paid": shares[:, n_b],
        "stay": stays,
        "roll_forward": forward,
        "written_off": shares[:, n_b + 1],
        "loss_rate": np.where(rated, loss, np.nan),
    }, index=pd.Index(labels, name="bucket"))
