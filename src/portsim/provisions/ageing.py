"""Ageing of open receivables by days past due, per segment, at an as-of date.

Days past due at the as-of date ``t`` are ``t − due_date`` in days; an invoice not yet due
(days past due ≤ 0) is *current*. The past-due buckets are given by their upper bounds in
days: ``(30, 60, 90)`` gives ``current, 1-30, 31-60, 61-90, over 90`` (IFRS 9 B5.5.35 allows a
provision matrix by days past due; the default presumes default at 90 days past due,
B5.5.37).

An ageing as of a past date from a payment history (:func:`open_at`) counts the invoices
issued on or before the date and unpaid then: payments after it are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from portsim.data import Book
from portsim.errors import InputError, Problem

__all__ = [
    "DEFAULT_BOUNDS",
    "SEGMENTS",
    "age",
    "ageing_table",
    "bucket_labels",
    "days_past_due",
    "open_at",
    "parse_bounds",
    "segment_of",
]

#: Upper bounds (days past due) of the past-due buckets before the last, open-ended one.
DEFAULT_BOUNDS: Final = (30, 60, 90)
#: Segments of every book ("all" is one segment for the whole book); any other column of the
#: book's file may be one too (:func:`segment_of` with ``extra``).
SEGMENTS: Final = ("all", "sector", "country", "rating", "customer_id")


def parse_bounds(text: str) -> tuple[int, ...]:
    """Bucket bounds from ``"30,60,90"``: positive whole days, strictly increasing.

    Raises
    ------
    InputError
        For an empty list, a non-integer, a bound ≤ 0 or bounds not increasing.
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    fix = "give increasing whole days past due, e.g. 30,60,90"
    try:
        bounds = tuple(int(p) for p in parts)
    except ValueError:
        raise InputError([Problem("command line", f"--buckets={text!r}",
                                  "is not a list of whole days", fix)]) from None
    if not bounds or bounds[0] <= 0 or any(b <= a for a, b in pairwise(bounds)):
        raise InputError([Problem("command line", f"--buckets={text!r}",
                                  "must be positive and strictly increasing", fix)])
    return bounds


def bucket_labels(bounds: Sequence[int] = DEFAULT_BOUNDS) -> tuple[str, ...]:
    """``("current", "1-30", "31-60", "61-90", "over 90")`` for bounds ``(30, 60, 90)``."""
    lows = (1, *(b + 1 for b in bounds[:-1]))
    past_due = (f"{lo}-{hi}" for lo, hi in zip(lows, bounds, strict=True))
    return ("current", *past_due, f"over {bounds[-1]}")


def days_past_due(due: pd.Series, as_of: date) -> npt.NDArray[np.int64]:
    """Days past due at ``as_of`` (negative: not yet due), shape (n,)."""
    return (pd.Timestamp(as_of) - pd.to_datetime(due)).dt.days.to_numpy(np.int64)


def _bucket(dpd: npt.NDArray[np.int64], bounds: Sequence[int]) -> npt.NDArray[np.int64]:
    """Bucket index of each days-past-due value: 0 current, 1 .. len(bounds) past due."""
    edges = np.asarray((0, *bounds), dtype=np.int64)
    return np.searchsorted(edges, dpd, side="left").astype(np.int64)


def open_at(history: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The invoices of a payment history open at ``as_of``: issued on or before it and unpaid
    then (``paid_date`` blank or after it). Rows in history order, index reset."""
    t = pd.Timestamp(as_of)
    issued = pd.to_datetime(history["issue_date"]) <= t
    paid = pd.to_datetime(history["paid_date"])
    unpaid = paid.isna() | (paid > t)
    return history.loc[issued & unpaid].reset_index(drop=True)


def segment_of(
    book: Book, segment: str, extra: pd.DataFrame | None = None
) -> npt.NDArray[np.object_]:
    """The segment label of every customer of the book, shape (n_customers,).

    Parameters
    ----------
    book : Book
    segment : str
        One of :data:`SEGMENTS`, or a column of ``extra``.
    extra : DataFrame, optional
        More columns of text, one row per customer in book order (the book file's other
        columns, :func:`portsim.provisions.ecl.book_columns`); a blank cell is ``"(blank)"``.

    Raises
    ------
    InputError
        For a segment that is neither in :data:`SEGMENTS` nor a column of ``extra``, or
        ``rating`` with a book without ratings.
    """
    if segment not in SEGMENTS:
        if extra is not None and segment in extra.columns:
            text = extra[segment].to_numpy(dtype=object)
            return np.where(text == "", "(blank)", text).astype(object)
        others = [] if extra is None else [c for c in extra.columns if c not in SEGMENTS]
        known = [*SEGMENTS, *others]
        raise InputError([Problem("command line", f"--segment={segment!r}",
                                  "is not a segment", f"use one of {', '.join(known)}")])
    if segment == "all":
        return np.full(book.n_customers, "all", dtype=object)
    values = getattr(book, segment)
    if values is None:
        raise InputError([Problem("command line", "--segment=rating",
                                  "needs a rating column in the book",
                                  "add ratings, or segment by sector or country")])
    return np.asarray(values, dtype=object).astype(str).astype(object)


def age(
    invoices: pd.DataFrame, book: Book, as_of: date, *, bounds: Sequence[int] = DEFAULT_BOUNDS,
    segments: npt.NDArray[np.object_] | None = None,
) -> pd.DataFrame:
    """Each open invoice with its days past due, bucket and segment.

    Parameters
    ----------
    invoices : DataFrame, shape (n, ≥ 4)
        Open invoices with ``customer`` (row index into the book), ``amount`` (book
        currency) and ``due_date``, e.g. from :func:`open_at` or
        :func:`portsim.data.read_invoices`.
    book : Book
    as_of : date
    bounds : sequence of int
        Upper bounds of the past-due buckets (see :func:`parse_bounds`).
    segments : ndarray of str, shape (n_customers,), optional
        The segment of every customer (:func:`segment_of`); default: the sector.

    Returns
    -------
    DataFrame, shape (n, n_columns + 3)
        The invoices with ``days_past_due`` (int), ``bucket`` (ordered categorical of
        :func:`bucket_labels`) and ``segment`` (str).
    """
    labels = bucket_labels(bounds)
    out = invoices.copy()
    dpd = days_past_due(out["due_date"], as_of)
    out["days_past_due"] = dpd
    out["bucket"] = pd.Categorical.from_codes(_bucket(dpd, bounds), categories=labels,
                                              ordered=True)
    if segments is None:
        segments = segment_of(book, "sector")
    out["segment"] = segments[out["customer"].to_numpy(np.int64)]
    return out


def ageing_table(aged: pd.DataFrame) -> pd.DataFrame:
    """Gross carrying amount per segment and bucket, book currency.

    Returns
    -------
    DataFrame, shape (n_segments, n_buckets)
        Index ``segment`` (sorted), columns the bucket labels; every bucket appears, 0 where
        nothing is open. The cells sum to the open amount.
    """
    table = aged.pivot_table(index="segment", columns="bucket", values="amount", aggfunc="sum",
                             fill_value=0.0, observed=False)
    return table.reindex(columns=aged["bucket"].cat.categories, fill_value=0.0).astype(float)
