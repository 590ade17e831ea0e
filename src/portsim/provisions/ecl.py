"""Lifetime expected credit loss of trade receivables (IFRS 9 simplified approach, 5.5.15).

:func:`compute_ecl` ages the open invoices (:mod:`.ageing`) and measures the allowance of every
segment's bucket with up to three sets of loss rates: rates given by the user (:mod:`.matrix`),
historical rates from the payment history by roll rates (:mod:`.rollrates`) and the model's
simulated ECL, forward-looking over weighted scenarios (:mod:`portsim.provisions.model`). The
allowance booked (``basis``) is the given rates' when given, else the model's when simulated,
else the historical rates'. :func:`run_ecl` reads the config, book, invoices, history and
scenario files for one or two as-of dates.

Open items at an as-of date are the config's open invoices (``[book] invoices``) when the date
is ``[timeline] as_of``, else the payment history's invoices open then
(:func:`.ageing.open_at`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from portsim.config import RunConfig, load_config
from portsim.data import Book
from portsim.data.cells import as_text
from portsim.data.configured import load_book, load_history, load_open_invoices
from portsim.data.readers import read_table_file
from portsim.errors import InputError, Problem
from portsim.provisions.ageing import (
    DEFAULT_BOUNDS,
    SEGMENTS,
    age,
    ageing_table,
    open_at,
    segment_of,
)
from portsim.provisions.matrix import allowance
from portsim.provisions.model import ModelEcl, WeightedConfig, model_ecl
from portsim.provisions.rollrates import DEFAULT_WINDOW_MONTHS, DEFAULT_WRITE_OFF_DAYS, roll_rates

__all__ = ["EclOptions", "EclResult", "book_columns", "compute_ecl", "parse_scenarios",
           "run_ecl"]

#: How far scenario weights may sum from 1.
WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class EclOptions:
    """Settings of an ECL measurement.

    Attributes
    ----------
    bounds : tuple of int
        Upper bounds of the past-due buckets, days (:func:`.ageing.parse_bounds`).
    segment : str
        One of :data:`.ageing.SEGMENTS`, or another column of the book's file.
    rates : tuple of float, optional
        Given loss rate per bucket, fractions (:func:`.matrix.parse_rates`).
    window_months, write_off_days : int
        Of the historical roll rates (:func:`.rollrates.roll_rates`).
    model : bool
        Simulate the model ECL (needs a ``[timeline]``).
    n_paths, threads : int, optional
        Paths per scenario (default: the config's) and worker threads.
    """

    bounds: tuple[int, ...] = DEFAULT_BOUNDS
    segment: str = "sector"
    rates: tuple[float, ...] | None = None
    window_months: int = DEFAULT_WINDOW_MONTHS
    write_off_days: int = DEFAULT_WRITE_OFF_DAYS
    model: bool = True
    n_paths: int | None = None
    threads: int | None = None


@dataclass(frozen=True)
class EclResult:
    """The ECL of the open invoices at one as-of date.

    Attributes
    ----------
    as_of : date
    aged : DataFrame
        The open invoices with ``days_past_due``, ``bucket`` and ``segment``.
    gross : DataFrame, shape (n_segments, n_buckets)
        Gross carrying amounts, book currency.
    given_rates : ndarray, shape (n_buckets,), or None
    historical : DataFrame or None
        :func:`.rollrates.roll_rates` (without a history: None).
    model : ModelEcl or None
    basis : str
        ``"given"``, ``"model"`` or ``"historical"``: the rates of the allowance.
    currency : str
    """

    as_of: date
    aged: pd.DataFrame
    gross: pd.DataFrame
    given_rates: np.ndarray | None
    historical: pd.DataFrame | None
    model: ModelEcl | None
    basis: str
    currency: str

    @property
    def allowance(self) -> pd.DataFrame:
        """The loss allowance per segment and bucket on the basis, book currency (on the
        historical basis, a bucket without a historical rate gets no allowance)."""
        if self.basis == "given":
            assert self.given_rates is not None
            return allowance(self.gross, self.given_rates)
        if self.basis == "model":
            assert self.model is not None
            return self.model.ecl
        assert self.historical is not None
        return allowance(self.gross, self.historical["loss_rate"].fillna(0.0).to_numpy())


def compute_ecl(
    book: Book, open_items: pd.DataFrame, as_of: date, *, history: pd.DataFrame | None = None,
    scenarios: Sequence[WeightedConfig] = (), options: EclOptions = EclOptions(),
    segments: np.ndarray | None = None, currency: str = "",
) -> EclResult:
    """Age the open invoices and measure their lifetime ECL.

    Parameters
    ----------
    book : Book
    open_items : DataFrame
        Invoices open at ``as_of``: ``customer``, ``amount``, ``issue_date``, ``due_date``.
    as_of : date
    history : DataFrame, optional
        A payment history for the historical rates (:func:`portsim.data.read_history`).
    scenarios : sequence of WeightedConfig
        For the model ECL (with ``options.model``); empty: no model ECL.
    options : EclOptions
    segments : ndarray of str, shape (n_customers,), optional
        The segment of every customer; default :func:`.ageing.segment_of` of
        ``options.segment``.
    currency : str

    Returns
    -------
    EclResult

    Raises
    ------
    InputError
        For given rates not one per bucket, or no rates at all (no given rates, history or
        model).
    """
    if segments is None:
        segments = segment_of(book, options.segment)
    aged = age(open_items, book, as_of, bounds=options.bounds, segments=segments)
    gross = ageing_table(aged)
    given = None
    if options.rates is not None:
        given = np.asarray(options.rates, dtype=float)
        if given.shape != (gross.shape[1],):
            raise InputError([Problem("command line", f"--rates={list(options.rates)}",
                                      f"gives {given.size} rate(s) for {gross.shape[1]} buckets",
                                      "give one rate per bucket")])
    historical = None
    if history is not None:
        historical = roll_rates(history, as_of, bounds=options.bounds,
                                window_months=options.window_months,
                                write_off_days=options.write_off_days)
    model = None
    if options.model and scenarios and not aged.empty:
        model = model_ecl(book, aged, segments, scenarios,
                          as_of=as_of, n_paths=options.n_paths, threads=options.threads)
    basis = ("given" if given is not None else "model" if model is not None
             else "historical" if historical is not None else "")
    if not basis:
        raise InputError([Problem("command line", "ecl", "has no loss rates to apply",
                                  "give --rates, a --history, or a config with a [timeline] "
                                  "for the model ECL")])
    return EclResult(as_of, aged, gross, given, historical, model, basis, currency)


def parse_scenarios(config_path: Path, texts: Sequence[str]) -> list[WeightedConfig]:
    """``FILE=WEIGHT`` texts as configs with weights; none given: the config, weight 1.

    Raises
    ------
    InputError
        For a text without ``=``, a weight that is not a number in [0, 1], or weights not
        summing to 1 (each scenario file's own problems as a ConfigError).
    """
    if not texts:
        return [WeightedConfig(load_config(config_path), 1.0)]
    out = []
    for text in texts:
        file, sep, weight = text.rpartition("=")
        try:
            w = float(weight)
        except ValueError:
            w = float("nan")
        if not sep or not file or not 0.0 <= w <= 1.0:
            raise InputError([Problem("command line", f"--scenario={text!r}",
                                      "is not FILE=WEIGHT with a weight in [0, 1]",
                                      "e.g. --scenario scenarios/recession.toml=0.3")])
        out.append(WeightedConfig(load_config(config_path, scenario=file), w))
    total = sum(sc.weight for sc in out)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise InputError([Problem("command line", f"--scenario weights sum to {total:g}",
                                  "not to 1",
                                  "give probability weights that sum to 1")])
    return out


def book_columns(config: RunConfig, book: Book) -> pd.DataFrame:
    """The columns of the config's book file (read in its ``[book]`` CSV keys) as stripped
    text, one row per customer of the book in book order (matched by ``customer_id``), for a
    segment of the user's choice.

    Raises
    ------
    InputError
        When the file has no ``customer_id`` column (a book read through an alias of it).
    """
    if config.book.path is None:
        raise ValueError("the config names no book")
    file = config.resolve(config.book.path)
    title = f"invalid book {file}"
    _, frame, _ = read_table_file(file, title=title,
                                  empty=Problem(file.name, "file", "is empty"),
                                  dir_fix="give the path of the file",
                                  type_fix="save the table as .csv, .parquet or .xlsx",
                                  dialect=config.book.dialect("book"))
    frame.columns = [str(c).strip() for c in frame.columns]
    if "customer_id" not in frame.columns:
        raise InputError([Problem(file.name, "customer_id",
                                  "is needed by name for a segment from another column",
                                  "name the id column customer_id")], title=title)
    ids = pd.Index(as_text(frame["customer_id"]))
    rows = ids.get_indexer(pd.Index(np.asarray(book.customer_id, dtype=object)))
    text = {c: as_text(frame[c])[rows] for c in frame.columns if c != "customer_id"}
    return pd.DataFrame(text, columns=list(text))


def _check_history_covers(history: pd.DataFrame, dates: Sequence[date]) -> None:
    """An as-of date after the history's last issue or payment date would count every invoice
    paid since as open: refuse it."""
    end = max(history["issue_date"].max(), history["paid_date"].max())
    late = [d for d in dates if pd.Timestamp(d) > end]
    if late:
        raise InputError([Problem("command line", f"--as-of={late[0].isoformat()}",
                                  f"is after the history's last date {end.date().isoformat()}",
                                  "give a date the history covers, or a newer history")])


def _open_items(config: RunConfig, book: Book, as_of: date,
                history: pd.DataFrame | None) -> pd.DataFrame:
    tl = config.timeline
    if tl is not None and tl.as_of == as_of and config.book.invoices is not None:
        return load_open_invoices(config, book, as_of)
    if history is not None:
        return open_at(history, as_of)
    raise InputError([Problem("command line", f"--as-of={as_of.isoformat()}",
                              "has no open invoices",
                              "give --history (a payment history), or the [timeline] as_of "
                              "of a config with [book] invoices")])


def run_ecl(
    config_path: str | os.PathLike[str], dates: Sequence[date], *,
    history_path: str | os.PathLike[str] | None = None, scenarios: Sequence[str] = (),
    options: EclOptions = EclOptions(),
) -> list[EclResult]:
    """Read the inputs and measure the ECL at each as-of date (in date order).

    Parameters
    ----------
    config_path : path
        The run config; its book (and open invoices) are read.
    dates : sequence of date
        One or two as-of dates.
    history_path : path, optional
        A payment history (open items at other dates, historical rates).
    scenarios : sequence of str
        ``FILE=WEIGHT`` scenario files for the model ECL (:func:`parse_scenarios`).
    options : EclOptions
    """
    path = Path(config_path)
    weighted = parse_scenarios(path, scenarios)
    config = weighted[0].config
    book = load_book(config)
    history = None
    if history_path is not None:
        history = load_history(config, history_path, book)
        _check_history_covers(history, dates)
    if config.timeline is None:
        weighted = []
    extra = None
    if options.segment not in SEGMENTS:
        extra = book_columns(config, book)
    segments = segment_of(book, options.segment, extra)
    return [compute_ecl(book, _open_items(config, book, d, history), d, history=history,
                        scenarios=weighted, options=options, segments=segments,
                        currency=config.book.currency)
            for d in sorted(dates)]
