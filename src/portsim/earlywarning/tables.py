"""The early-warning input tables: readers, validated like the book (every bad cell with file,
row, id, value, rule and fix, all problems of a file at once).

Payment history
    The history of :func:`portsim.data.calibrate.read_history` (``invoice_id, customer_id,
    amount, issue_date, due_date, paid_date``) with two optional columns: ``paid_amount``
    (the amount paid on ``paid_date``, blank = all of it; less than ``amount`` is a partial
    payment whose rest stays open) and ``disputed`` (``yes``/``no``, ``true``/``false``,
    ``1``/``0``, blank = no). Every existing history file stays valid.
Financial statements
    One row per customer and period: ``customer_id, period_end, available_date,
    total_assets, current_assets, current_liabilities, total_liabilities, equity,
    retained_earnings, ebit, sales`` (book currency; ``equity`` is book equity), optional
    ``market_equity`` (listed firms, for Altman's Z). A statement is usable from its
    ``available_date`` (publication or receipt), never from its ``period_end``.
External signals
    ``customer_id, date, kind, value``: ``kind`` is ``grade`` (an insurer's or bureau's grade,
    ``value`` the number on the provider's own scale) or a legal event (:data:`LEGAL_KINDS`;
    ``value`` blank or an amount).
Past defaults
    ``customer_id, default_date, kind`` with ``kind`` one of :data:`DEFAULT_KINDS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from portsim.config import TableDialect
from portsim.data import Book
from portsim.data.book_rules import SEPARATOR_FIX
from portsim.data.calibrate import history_from_frame
from portsim.data.cells import (
    BoolArray,
    FloatArray,
    NumberFormat,
    ObjectArray,
    as_text,
    blank_mask,
    closest,
    listing,
    not_number,
    parse_numbers,
    show,
)
from portsim.data.dates import parse_dates
from portsim.data.problems import TableProblems, fixed
from portsim.data.readers import read_table_file
from portsim.data.table import (
    ColumnGuesser,
    Columns,
    data_rows,
    duplicate_columns,
    header_labels,
    missing_columns,
)
from portsim.errors import BookError, Problem

__all__ = [
    "DEFAULT_KINDS",
    "LEGAL_KINDS",
    "SIGNAL_KINDS",
    "STATEMENT_COLUMNS",
    "CreditFiles",
    "read_credit_files",
    "read_defaults",
    "read_payment_history",
    "read_signals",
    "read_statements",
]

#: The money columns of a financial statement, all required.
STATEMENT_AMOUNTS: Final = ("total_assets", "current_assets", "current_liabilities",
                            "total_liabilities", "equity", "retained_earnings", "ebit", "sales")
#: Columns of a statements table (``market_equity`` optional).
STATEMENT_COLUMNS: Final = ("customer_id", "period_end", "available_date", *STATEMENT_AMOUNTS)
#: Legal events of the signals table.
LEGAL_KINDS: Final = ("lawsuit", "lien", "payment_order", "collection", "insolvency_filing")
#: Every ``kind`` of the signals table.
SIGNAL_KINDS: Final = ("grade", *LEGAL_KINDS)
#: Kinds of past default.
DEFAULT_KINDS: Final = ("insolvency", "protracted_default", "write_off")

_NONNEGATIVE: Final = ("total_assets", "current_assets", "current_liabilities",
                       "total_liabilities", "sales", "market_equity")
_YES: Final = frozenset({"yes", "y", "true", "1", "x"})
_NO: Final = frozenset({"no", "n", "false", "0", ""})
_CUSTOMER: Final = "the customer's id as in the book, e.g. C00001"
_DATE: Final = "as YYYY-MM-DD, e.g. 2026-03-31"
_ALIASES: Final = {
    "customer_id": ("customer", "customer_no", "debtor", "debtor_id", "account", "client_id"),
    "period_end": ("period", "period_end_date", "balance_sheet_date", "fiscal_period_end"),
    "available_date": ("published", "publication_date", "available", "received_date"),
    "total_assets": ("assets", "ta"),
    "current_assets": ("ca",),
    "current_liabilities": ("cl",),
    "total_liabilities": ("liabilities", "tl", "debt"),
    "equity": ("book_equity", "shareholders_equity"),
    "retained_earnings": ("re",),
    "ebit": ("operating_income", "operating_profit"),
    "sales": ("revenue", "turnover", "net_sales"),
    "date": ("event_date", "signal_date"),
    "kind": ("type", "event", "signal"),
    "value": ("grade", "score", "amount"),
    "default_date": ("date", "event_date"),
}


@dataclass(frozen=True)
class CreditFiles:
    """The early-warning inputs of one book, validated.

    Attributes
    ----------
    book : Book
        The customers (features have one row per book customer).
    history : DataFrame
        Payment history: ``invoice_id, customer_id, customer, amount, issue_date, due_date,
        paid_date`` (:func:`~portsim.data.calibrate.read_history`) plus ``paid_amount``
        (float, book currency; 0 where unpaid) and ``disputed`` (bool).
    statements : DataFrame
        ``customer_id, customer`` (book row) ``, period_end, available_date`` (datetime64)
        and the amounts of :data:`STATEMENT_AMOUNTS` plus ``market_equity`` (NaN where not
        given), sorted by customer, then available date.
    signals : DataFrame
        ``customer_id, customer, date, kind, value`` (value NaN where blank), sorted by date.
    defaults : DataFrame
        ``customer_id, customer, default_date, kind``, sorted by date.
    """

    book: Book
    history: pd.DataFrame
    statements: pd.DataFrame
    signals: pd.DataFrame
    defaults: pd.DataFrame


def read_credit_files(
    book: Book, *, history: str | os.PathLike[str] | None = None,
    statements: str | os.PathLike[str] | None = None,
    signals: str | os.PathLike[str] | None = None,
    defaults: str | os.PathLike[str] | None = None,
    dialect: TableDialect | None = None,
) -> CreditFiles:
    """Read the early-warning tables of ``book``; a table not given is empty.

    Each file is read in ``dialect`` (CSV keys; unset keys detected) and validated; one
    :class:`~portsim.errors.BookError` lists every problem of every bad file.
    """
    readers = {"history": (history, read_payment_history, _empty_history),
               "statements": (statements, read_statements, lambda: _empty(_STATEMENTS)),
               "signals": (signals, read_signals, lambda: _empty(_SIGNALS)),
               "defaults": (defaults, read_defaults, lambda: _empty(_DEFAULTS))}
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name, (path, read, empty) in readers.items():
        if path is None:
            tables[name] = empty()
            continue
        try:
            tables[name] = read(path, book, dialect=dialect)
        except BookError as exc:
            problems += exc.problems
    if problems:
        raise BookError(problems, title="invalid credit files")
    return CreditFiles(book=book, **tables)


# --------------------------------------------------------------------------------------------
# Payment history
# --------------------------------------------------------------------------------------------


def read_payment_history(
    path: str | os.PathLike[str], book: Book, *, dialect: TableDialect | None = None
) -> pd.DataFrame:
    """Read a payment history with its optional ``paid_amount`` and ``disputed`` columns.

    The core columns are validated as by :func:`~portsim.data.calibrate.read_history`; the
    problems of the optional columns are listed with theirs. Returns the frame of
    :attr:`CreditFiles.history`.
    """
    name = Path(path).name
    title = f"invalid payment history {os.fspath(path)}"
    empty = Problem(name, "file", "is empty", "write a header row with invoice_id, "
                    "customer_id, amount, issue_date, due_date, paid_date, then one row per "
                    "invoice")
    _, frame, found = read_table_file(path, title=title, empty=empty,
                                      dir_fix="give the path of the file",
                                      type_fix="save the table as .csv, .parquet or .xlsx",
                                      blank_first=True, dialect=dialect,
                                      where="[book.history_dialect]")
    problems: list[Problem] = []
    try:
        core = history_from_frame(frame, book, source=name)
    except BookError as exc:
        problems = exc.problems
        core = None
    extra = TableProblems(name, title, {"paid_amount": 0, "disputed": 1})
    keep = np.flatnonzero(~_all_blank(frame))
    extra.rows = (keep + 2).astype(np.int64)
    ids = (as_text(frame["invoice_id"].iloc[keep]) if "invoice_id" in frame
           else np.full(keep.size, "", object))
    extra.ids = ids
    paid_amount = np.full(keep.size, np.nan)
    disputed = np.zeros(keep.size, dtype=bool)
    if "paid_amount" in frame:
        numbers = None if found is None else found.numbers
        parsed = parse_numbers(_take(frame, "paid_amount", keep), numbers)
        paid_amount = parsed.values
        extra.cells(parsed.bad, "paid_amount", not_number("paid_amount", parsed))
        amount = (parse_numbers(_take(frame, "amount", keep), numbers).values
                  if "amount" in frame else np.full(keep.size, np.nan))
        unpaid = (parse_dates(_take(frame, "paid_date", keep)).blank if "paid_date" in frame
                  else np.ones(keep.size, dtype=bool))
        with np.errstate(invalid="ignore"):
            extra.cells(paid_amount < 0, "paid_amount", lambda i: (
                f"paid_amount={parsed.show(i)}", "is negative",
                "give the amount paid (≥ 0); a refund is a credit note, net it"))
            over = (paid_amount > amount * (1 + 1e-9) + 0.005) & (amount >= 0)
            extra.cells(over, "paid_amount", lambda i: (
                f"paid_amount={parsed.show(i)}", f"exceeds amount={amount[i]:g}",
                "give at most the invoice amount (an overpayment is not a payment of it)"))
        extra.cells(unpaid & (paid_amount > 0), "paid_amount", lambda i: (
            f"paid_amount={parsed.show(i)}", "is given but paid_date is blank",
            "give the date of the payment, or blank paid_amount"))
    if "disputed" in frame:
        disputed = _flags(extra, as_text(_take(frame, "disputed", keep)), "disputed")
    extra_problems: list[Problem] = []
    try:
        extra.raise_if_any()
    except BookError as exc:
        extra_problems = exc.problems
    if problems or extra_problems:
        assumed = () if found is None else found.assumed
        raise BookError([*problems, *extra_problems, *assumed], title=title)
    assert core is not None
    paid = ~np.isnat(core["paid_date"].to_numpy())
    amount = core["amount"].to_numpy()
    core["paid_amount"] = np.where(paid, np.where(np.isnan(paid_amount), amount, paid_amount),
                                   0.0)
    core["disputed"] = disputed
    return core


def _take(frame: pd.DataFrame, column: str, keep: np.ndarray) -> pd.Series:
    return frame[column].iloc[keep].reset_index(drop=True)


def _all_blank(frame: pd.DataFrame) -> BoolArray:
    blank = np.ones(len(frame), dtype=bool)
    for pos in range(frame.shape[1]):
        blank &= blank_mask(frame.iloc[:, pos])
    return blank


def _flags(problems: TableProblems, text: ObjectArray, column: str) -> BoolArray:
    lower = np.array([str(t).lower() for t in text], dtype=object)
    yes = np.isin(lower, list(_YES))
    bad = ~yes & ~np.isin(lower, list(_NO))
    problems.cells(bad, column, lambda i: (
        f"{column}={show(str(text[i]))}", "is not a yes/no flag",
        "write yes or no (or true/false, 1/0; blank = no)"))
    return yes


def _empty_history() -> pd.DataFrame:
    frame = pd.DataFrame({
        "invoice_id": pd.Series(dtype=str), "customer_id": pd.Series(dtype=str),
        "customer": pd.Series(dtype=np.int64), "amount": pd.Series(dtype=float)})
    for column in ("issue_date", "due_date", "paid_date"):
        frame[column] = pd.Series(dtype="datetime64[ns]")
    frame["paid_amount"] = pd.Series(dtype=float)
    frame["disputed"] = pd.Series(dtype=bool)
    return frame


# --------------------------------------------------------------------------------------------
# Statements, signals, defaults: one reader driven by their column rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """How one table is read: its column rules and which columns are dates, numbers and
    kinds (text from a list)."""

    noun: str
    rules: Columns
    dates: tuple[str, ...]
    numbers: tuple[str, ...]
    kinds: Mapping[str, tuple[str, ...]]
    sort: tuple[str, ...]


def _spec(noun: str, required: tuple[str, ...], optional: tuple[str, ...],
          description: Mapping[str, str], row: str, *, dates: tuple[str, ...],
          numbers: tuple[str, ...] = (), kinds: Mapping[str, tuple[str, ...]] | None = None,
          sort: tuple[str, ...]) -> _Spec:
    rules = Columns(known=(*required, *optional), required=required, aliases=_ALIASES,
                    description=description, separator_fix=SEPARATOR_FIX, row_noun=row)
    return _Spec(noun, rules, dates, numbers, kinds or {}, sort)


_STATEMENTS: Final = _spec(
    "financial statements", STATEMENT_COLUMNS, ("market_equity",),
    {"customer_id": _CUSTOMER, "period_end": f"the balance-sheet date {_DATE}",
     "available_date": f"the date the statement was published or received {_DATE}",
     **{c: f"the {c.replace('_', ' ')} in book currency" for c in STATEMENT_AMOUNTS}},
    "statement", dates=("period_end", "available_date"),
    numbers=(*STATEMENT_AMOUNTS, "market_equity"), sort=("customer", "available_date",
                                                         "period_end"))
_SIGNALS: Final = _spec(
    "external signals", ("customer_id", "date", "kind"), ("value",),
    {"customer_id": _CUSTOMER, "date": f"the date of the grade or event {_DATE}",
     "kind": f"one of {', '.join(SIGNAL_KINDS)}"},
    "signal", dates=("date",), numbers=("value",), kinds={"kind": SIGNAL_KINDS},
    sort=("date", "customer"))
_DEFAULTS: Final = _spec(
    "past defaults", ("customer_id", "default_date", "kind"), (),
    {"customer_id": _CUSTOMER, "default_date": f"the date of the default {_DATE}",
     "kind": f"one of {', '.join(DEFAULT_KINDS)}"},
    "default", dates=("default_date",), kinds={"kind": DEFAULT_KINDS},
    sort=("default_date", "customer"))


def read_statements(path: str | os.PathLike[str], book: Book, *,
                    dialect: TableDialect | None = None) -> pd.DataFrame:
    """Read and validate quarterly financial statements (see the module docstring).

    Beyond each cell's rules: ``available_date`` before ``period_end``, ``total_assets`` ≤ 0,
    current assets above total assets, current above total liabilities, and a customer's
    period given twice are problems. Returns :attr:`CreditFiles.statements`.
    """
    return _read(path, book, _STATEMENTS, dialect, _check_statements)


def read_signals(path: str | os.PathLike[str], book: Book, *,
                 dialect: TableDialect | None = None) -> pd.DataFrame:
    """Read and validate external signals; a ``grade`` needs its ``value``. Returns
    :attr:`CreditFiles.signals`."""
    return _read(path, book, _SIGNALS, dialect, _check_signals)


def read_defaults(path: str | os.PathLike[str], book: Book, *,
                  dialect: TableDialect | None = None) -> pd.DataFrame:
    """Read and validate past defaults. Returns :attr:`CreditFiles.defaults`."""
    return _read(path, book, _DEFAULTS, dialect, lambda problems, out: None)


def _empty(spec: _Spec) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": pd.Series(dtype=str),
                          "customer": pd.Series(dtype=np.int64)})
    for column in spec.rules.known[1:]:
        frame[column] = pd.Series(dtype="datetime64[ns]" if column in spec.dates
                                  else float if column in spec.numbers else str)
    return frame


def _read(path: str | os.PathLike[str], book: Book, spec: _Spec, dialect: TableDialect | None,
          check: Callable[[TableProblems, pd.DataFrame], None]) -> pd.DataFrame:
    name = Path(path).name
    title = f"invalid {spec.noun} {os.fspath(path)}"
    rules = spec.rules
    empty = Problem(name, "file", "is empty", f"write a header row with "
                    f"{', '.join(rules.required)}, then one row per {rules.row_noun}")
    _, df, found = read_table_file(path, title=title, empty=empty,
                                   dir_fix="give the path of the file",
                                   type_fix="save the table as .csv, .parquet or .xlsx",
                                   blank_first=True, dialect=dialect, where="[book]")
    problems = TableProblems(name, title, rules.order, () if found is None else found.assumed)
    labels, has = header_labels(df, problems, rules, empty)
    duplicate_columns(problems, labels, has, rules.known)
    missing_columns(problems, labels, has, rules, ColumnGuesser(labels, rules.known, _ALIASES))
    keep = data_rows(_all_blank(df), len(df), problems, rules)
    cells = {c: df.iloc[keep, has[c]].reset_index(drop=True) for c in rules.known if c in has}
    cids = as_text(cells["customer_id"]) if "customer_id" in cells else np.full(
        keep.size, "", object)
    problems.rows, problems.ids = (keep + 2).astype(np.int64), cids
    out = pd.DataFrame({"customer_id": cids.astype(str),
                        "customer": _customer_index(problems, cids, book)})
    for column in rules.known[1:]:
        out[column] = _column(problems, spec, column, cells.get(column),
                              None if found is None else found.numbers, keep.size)
    check(problems, out)
    problems.raise_if_any()
    return out.sort_values(list(spec.sort), kind="stable").reset_index(drop=True)


def _column(problems: TableProblems, spec: _Spec, column: str, cells: pd.Series | None,
            numbers: NumberFormat | None, n: int) -> pd.Series:
    required = column in spec.rules.required
    if column in spec.dates:
        if cells is None:
            return pd.Series(np.full(n, np.datetime64("NaT"), "datetime64[ns]"))
        dates = parse_dates(cells)
        problems.cells(dates.bad, column, lambda i: (
            f"{column}={show(str(dates.shown[i]))}", *dates.why[i]))
        problems.cells(dates.blank, column, fixed(
            column, "is blank", f"give {spec.rules.description[column]}"))
        return pd.Series(dates.values.astype("datetime64[ns]"))
    if column in spec.numbers:
        if cells is None:
            return pd.Series(np.full(n, np.nan))
        parsed = parse_numbers(cells, numbers)
        problems.cells(parsed.bad, column, not_number(column, parsed))
        values: FloatArray = parsed.values
        problems.cells(np.isinf(values), column, lambda i: (
            f"{column}={parsed.show(i)}", "is not finite", "give a finite number"))
        if required:
            problems.cells(parsed.blank, column, fixed(
                column, "is blank", f"give {spec.rules.description[column]}"))
        if column in _NONNEGATIVE:
            with np.errstate(invalid="ignore"):
                problems.cells(values < 0, column, lambda i: (
                    f"{column}={parsed.show(i)}", "is negative",
                    "give the amount in book currency (≥ 0)"))
        return pd.Series(values)
    known = spec.kinds[column]
    if cells is None:
        return pd.Series(np.full(n, "", dtype=object).astype(str))
    text = as_text(cells)
    lower = np.array([str(t).lower().replace(" ", "_").replace("-", "_") for t in text],
                     dtype=object)

    def unknown(i: int) -> tuple[str, str, str]:
        hint = closest(str(lower[i]), known)
        fix = f"did you mean {hint}?" if hint else f"write one of {listing(known)}"
        return f"{column}={show(str(text[i]))}", "is not a known kind", fix

    problems.cells((lower != "") & ~np.isin(lower, list(known)), column, unknown)
    problems.cells(lower == "", column, fixed(column, "is blank",
                                              f"write one of {listing(known)}"))
    return pd.Series(lower.astype(str))


def _customer_index(problems: TableProblems, cids: ObjectArray, book: Book) -> np.ndarray:
    book_ids = [str(c) for c in book.customer_id]
    index = pd.Index(book_ids).get_indexer(pd.Index(cids)).astype(np.int64)
    problems.cells(cids == "", "customer_id", fixed("customer_id", "is blank", f"give {_CUSTOMER}"))

    def unknown(i: int) -> tuple[str, str, str]:
        hint = closest(str(cids[i]), book_ids)
        fix = "add the customer to the book, or remove its rows"
        return (f"customer_id={show(str(cids[i]))}", "is not in the book",
                f"did you mean {hint}? otherwise {fix}" if hint else fix)

    problems.cells((cids != "") & (index < 0), "customer_id", unknown)
    return index


def _check_statements(problems: TableProblems, out: pd.DataFrame) -> None:
    def iso(column: str, i: int) -> str:
        value = out[column].iloc[i]
        return "" if pd.isna(value) else str(value.date())

    early = (out["available_date"] < out["period_end"]).to_numpy()
    problems.cells(early, "available_date", lambda i: (
        f"available_date={iso('available_date', i)}", f"is before period_end="
        f"{iso('period_end', i)}", "give the date the statement became available (after the "
        "period end)"))
    ta = out["total_assets"].to_numpy()
    problems.cells(ta == 0, "total_assets", fixed(
        "total_assets=0", "is not positive", "give the balance-sheet total (ratios divide by it)"))
    for part, whole in (("current_assets", "total_assets"),
                        ("current_liabilities", "total_liabilities")):
        over = ((out[part] > out[whole] * (1 + 1e-9)) & (out[whole] >= 0)).to_numpy()

        def exceeds(i: int, part: str = part, whole: str = whole) -> tuple[str, str, str]:
            return (f"{part}={out[part].iloc[i]:g}", f"exceeds {whole}={out[whole].iloc[i]:g}",
                    "check the columns: the current part is included in the total")

        problems.cells(over, part, exceeds)
    key = out["customer_id"] + "|" + out["period_end"].astype(str)
    dup = (key.duplicated(keep="first") & out["period_end"].notna()).to_numpy()
    problems.cells(dup, "period_end", lambda i: (
        f"period_end={iso('period_end', i)}", "is given twice for this customer",
        "keep one statement per customer and period (the latest revision)"))


def _check_signals(problems: TableProblems, out: pd.DataFrame) -> None:
    missing = ((out["kind"] == "grade") & out["value"].isna()).to_numpy()
    problems.cells(missing, "value", fixed(
        "value", "is blank for a grade", "give the grade as a number on the provider's scale"))

