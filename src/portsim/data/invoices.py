"""The open-invoices table: reader, validation, and the check against the book's exposures.

An invoices table lists the receivables open at the as-of date, one row per invoice::

    invoice_id,customer_id,amount,issue_date,due_date
    INV-0001,C00001,4793.84,2026-11-30,2027-01-29

``customer_id`` must be a customer of the book; ``amount`` is the amount still open, ≥ 0 (net
credit notes against the customer's invoices), in book currency or in the currency of an
optional ``currency`` column (converted with the FX rates as it is read); dates are ISO
``YYYY-MM-DD`` text, or native date cells of an ``.xlsx`` or ``.parquet`` file. Text such as
``01/02/2026`` is rejected as ambiguous (1 February or 2 January?), and so is every other
non-ISO text, with the ISO spelling to use in the message. An invoice issued after the as-of
date is not open yet and is an error (forward sales come from the book's ``annual_sales``).

With an invoices table (``[book] invoices = "invoices.csv"``, needs a ``[timeline]``) the
timeline starts from exactly these invoices: a customer without a row has nothing open, and the
book's ``exposure`` column is not used by the timeline. Where a customer's open invoices differ
from its exposure by more than 1 % (or it has an exposure but no invoices) a single
:class:`~portsim.data.book.BookWarning` names the customers; see :func:`exposure_differences`.

Problems are collected and reported together, as for the book (:mod:`portsim.data.book`)::

    invoices.csv row 5 (INV-0004): due_date=2026-11-01 is before issue_date=2026-12-01; …

with rows counted as a spreadsheet shows them (header = row 1). The same reader, with a
``paid_date`` column, reads payment histories for :mod:`portsim.data.calibrate`.
"""

from __future__ import annotations

import os
import re
import warnings
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from portsim.config import TableDialect
from portsim.data.book import Book, BookWarning
from portsim.data.book_rules import SEPARATOR_FIX
from portsim.data.cells import (
    Numbers,
    ObjectArray,
    as_text,
    blank_mask,
    closest,
    not_number,
    parse_numbers,
    show,
)
from portsim.data.currency import Currencies, currency_rates
from portsim.data.dates import Dates, parse_dates
from portsim.data.dialect import Dialect
from portsim.data.problems import TableProblems
from portsim.data.readers import read_table_file
from portsim.data.table import (
    ColumnGuesser,
    Columns,
    check_duplicates,
    data_rows,
    duplicate_columns,
    header_labels,
    missing_columns,
)
from portsim.errors import Problem

__all__ = [
    "HISTORY_COLUMNS",
    "INVOICE_COLUMNS",
    "exposure_differences",
    "invoice_table_from_frame",
    "invoices_from_frame",
    "read_invoice_table",
    "read_invoices",
]

#: Columns of an open-invoices table, all required.
INVOICE_COLUMNS: Final = ("invoice_id", "customer_id", "amount", "issue_date", "due_date")
#: Columns of a payment history (:mod:`portsim.data.calibrate`); a blank ``paid_date`` is unpaid.
HISTORY_COLUMNS: Final = (*INVOICE_COLUMNS, "paid_date")
#: Relative tolerance of the exposure check.
EXPOSURE_TOLERANCE: Final = 0.01

_DATE_COLUMNS: Final = ("issue_date", "due_date", "paid_date")
_ALIASES: Final = {
    "invoice_id": ("invoice", "invoice_no", "invoice_number", "invoice_nr", "document",
                   "document_no", "document_number", "doc_no", "id", "reference"),
    "customer_id": ("customer", "customer_no", "customer_number", "debtor", "debtor_id",
                    "debtor_no", "account", "account_no", "client", "client_id"),
    "amount": ("open_amount", "amount_open", "balance", "outstanding", "open", "value",
               "invoice_amount", "gross_amount", "total"),
    "issue_date": ("invoice_date", "date", "document_date", "doc_date", "issued", "issue",
                   "issued_on", "posting_date"),
    "due_date": ("due", "due_on", "maturity", "maturity_date", "net_due_date", "payment_due"),
    "paid_date": ("payment_date", "paid", "paid_on", "cleared", "clearing_date", "cleared_date",
                  "settlement_date", "date_paid"),
}
_DESCRIPTION: Final = {
    "invoice_id": "a unique invoice id, e.g. the ERP document number INV-0001",
    "customer_id": "the customer's id as in the book, e.g. C00001",
    "amount": "the open amount (in the row's currency, else the book currency), e.g. 4793.84",
    "issue_date": "the invoice date as YYYY-MM-DD, e.g. 2026-11-30",
    "due_date": "the due date as YYYY-MM-DD, e.g. 2027-01-29",
    "paid_date": "the payment date as YYYY-MM-DD, blank while unpaid",
}
_KIND: Final = {"invoices": "invoices", "history": "payment history"}
_WHERE: Final = {"invoices": "[book.invoices_dialect]", "history": "[book.history_dialect]"}


def _rules(columns: tuple[str, ...]) -> Columns:
    return Columns(known=(*columns, "currency"), required=columns, aliases=_ALIASES,
                   description=_DESCRIPTION, separator_fix=SEPARATOR_FIX, row_noun="invoice")


#: The column rules of an invoices table and of a payment history, all columns required.
_RULES: Final = {"invoices": _rules(INVOICE_COLUMNS), "history": _rules(HISTORY_COLUMNS)}


def read_invoices(
    path: str | os.PathLike[str], book: Book, *, as_of: date | str,
    dialect: TableDialect | None = None, currencies: Currencies | None = None,
) -> pd.DataFrame:
    """Read and validate the invoices open at the as-of date (``.csv``, ``.parquet``, ``.xlsx``).

    Parameters
    ----------
    path : str or path-like
        The invoices table with columns :data:`INVOICE_COLUMNS` (others are ignored).
        ``.parquet`` needs the ``parquet`` extra (pyarrow), ``.xlsx`` the ``excel`` extra
        (openpyxl); CSV files are read in their dialect, as for the book. An optional
        ``currency`` column gives each invoice's currency (blank: the book currency).
    book : Book
        The customers; every ``customer_id`` must be one of its ids.
    as_of : date or ISO str
        The as-of date (``[timeline] as_of``); an invoice issued after it is an error.
    dialect : TableDialect, optional
        The CSV keys of the table (``BookConfig.dialect("invoices")``); unset keys detected.
    currencies : Currencies, optional
        The book currency and FX rates: amounts in another currency are multiplied by its
        rate. Default: EUR and no rates.

    Returns
    -------
    DataFrame, shape (n_invoices, 6 or 7)
        ``invoice_id``, ``customer_id`` (str), ``customer`` (int64 row index into the book),
        ``amount`` (float, book currency), ``issue_date``, ``due_date`` (datetime64[ns]), and
        ``currency`` (the invoice's currency, str) when the table has that column, in file
        order — the ``open_invoices`` of :func:`portsim.inputs.timeline.build_timeline`.

    Raises
    ------
    BookError
        Listing every problem (at most :data:`~portsim.data.book.MAX_LISTED_PROBLEMS`), each as
        ``file row N (invoice_id): column=value rule; fix``.

    Warns
    -----
    BookWarning
        When customers' open invoices differ from their book exposure by more than 1 %
        (see :func:`exposure_differences`); the timeline uses the invoices.
    """
    table = read_invoice_table(path, book, as_of=as_of, kind="invoices", dialect=dialect,
                               currencies=currencies)
    _warn_exposure(table, book, Path(path).name)
    return table


def invoices_from_frame(
    df: pd.DataFrame, book: Book, *, as_of: date | str, source: str = "<frame>",
    currencies: Currencies | None = None,
) -> pd.DataFrame:
    """Validate a DataFrame of open invoices; as :func:`read_invoices` (cells may be text,
    numbers or dates; row N in a message is positional index N − 2)."""
    table = invoice_table_from_frame(df, book, as_of=as_of, kind="invoices", source=source,
                                     currencies=currencies)
    _warn_exposure(table, book, source)
    return table


def read_invoice_table(
    path: str | os.PathLike[str],
    book: Book,
    *,
    as_of: date | str | None,
    kind: str = "invoices",
    dialect: TableDialect | None = None,
    currencies: Currencies | None = None,
) -> pd.DataFrame:
    """Read and validate an invoices table (``kind="invoices"``) or a payment history
    (``kind="history"``: with ``paid_date``, blank while unpaid); no exposure check.

    ``as_of`` may be None for a history (no dates are then checked against it). ``dialect``
    and ``currencies`` as for :func:`read_invoices`. Returns the frame of
    :func:`read_invoices`, with ``paid_date`` (NaT where unpaid) for a history.
    """
    name = Path(path).name
    title = f"invalid {_KIND[kind]} {os.fspath(path)}"
    _, frame, found = read_table_file(path, title=title, empty=_empty_problem(name, kind),
                                      dir_fix="give the path of the file",
                                      type_fix="save the table as .csv, .parquet or .xlsx",
                                      blank_first=True, dialect=dialect, where=_WHERE[kind])
    return _build(frame, book, name=name, title=title, as_of=as_of, kind=kind, read_as=found,
                  currencies=currencies)


def invoice_table_from_frame(
    df: pd.DataFrame,
    book: Book,
    *,
    as_of: date | str | None,
    kind: str = "invoices",
    source: str = "<frame>",
    currencies: Currencies | None = None,
) -> pd.DataFrame:
    """Validate a DataFrame as :func:`read_invoice_table` does a file."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    return _build(df, book, name=source, title=f"invalid {_KIND[kind]} {source}", as_of=as_of,
                  kind=kind, read_as=None, currencies=currencies)


def exposure_differences(
    invoices: pd.DataFrame, book: Book, *, tolerance: float = EXPOSURE_TOLERANCE
) -> pd.DataFrame:
    """Customers whose open invoices differ from their book exposure by more than ``tolerance``.

    A customer differs when ``|invoices − exposure| > tolerance · max(invoices, exposure)``
    and by more than half a cent; a customer with an exposure but no invoices differs.

    Returns
    -------
    DataFrame
        ``customer_id``, ``exposure``, ``invoices`` (sum of open amounts), ``difference``
        (invoices − exposure), one row per differing customer, in book order.
    """
    n = book.n_customers
    sums = np.bincount(invoices["customer"].to_numpy(np.int64),
                       weights=invoices["amount"].to_numpy(float), minlength=n)
    exposure = np.asarray(book.exposure, dtype=float)
    diff = sums - exposure
    scale = np.maximum(np.abs(sums), np.abs(exposure))
    bad = (np.abs(diff) > tolerance * scale) & (np.abs(diff) > 0.005)
    return pd.DataFrame({
        "customer_id": book.customer_id[bad].astype(str),
        "exposure": exposure[bad],
        "invoices": sums[bad],
        "difference": diff[bad],
    })


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _empty_problem(name: str, kind: str) -> Problem:
    columns = ", ".join(HISTORY_COLUMNS if kind == "history" else INVOICE_COLUMNS)
    return Problem(name, "file", "is empty", f"write a header row with {columns}, then one row "
                   "per invoice")


def _warn_exposure(table: pd.DataFrame, book: Book, name: str) -> None:
    diffs = exposure_differences(table, book)
    if diffs.empty:
        return
    shown = "; ".join(
        f"{cid}: invoices {inv:,.2f}, exposure {exp:,.2f}"
        for cid, inv, exp in diffs[["customer_id", "invoices", "exposure"]].head(5).itertuples(
            index=False)
    )
    more = ", …" if len(diffs) > 5 else ""
    warnings.warn(
        f"{name}: the open invoices of {len(diffs)} customer(s) differ from their book exposure "
        f"by more than {EXPOSURE_TOLERANCE * 100:g} % ({shown}{more}); the timeline uses the "
        "invoices (a customer without invoices has nothing open)",
        BookWarning,
        stacklevel=3,
    )


def _as_of_date(as_of: date | str | None) -> np.datetime64 | None:
    if as_of is None:
        return None
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    return np.datetime64(as_of, "D")


def _build(
    df: pd.DataFrame, book: Book, *, name: str, title: str, as_of: date | str | None, kind: str,
    read_as: Dialect | None, currencies: Currencies | None,
) -> pd.DataFrame:
    rules = _RULES[kind]
    columns = rules.known
    cutoff = _as_of_date(as_of)
    problems = TableProblems(name, title, rules.order, () if read_as is None else read_as.assumed)
    labels, has = header_labels(df, problems, rules, _empty_problem(name, kind))
    duplicate_columns(problems, labels, has, columns)
    missing_columns(problems, labels, has, rules, ColumnGuesser(labels, columns, _ALIASES))

    used = [c for c in columns if c in has]
    blank_rows = np.ones(len(df), dtype=bool)
    for pos in range(len(labels)):
        blank_rows &= blank_mask(df.iloc[:, pos])
    keep = data_rows(blank_rows, len(df), problems, rules)
    n = keep.size
    rows = (keep + 2).astype(np.int64)
    cells = {c: df.iloc[keep, has[c]].reset_index(drop=True) for c in used}

    ids = as_text(cells["invoice_id"]) if "invoice_id" in cells else np.full(n, "", object)
    problems.rows, problems.ids = rows, ids
    if "invoice_id" in cells:
        problems.cells(ids == "", "invoice_id", lambda i: (
            "invoice_id", "is blank", "give every invoice its id, e.g. the ERP document number"))
        check_duplicates(problems, ids, "invoice_id",
                         "list each invoice once (one row per invoice), or give each its own id")

    customer = np.full(n, -1, dtype=np.int64)
    cids = np.full(n, "", dtype=object)
    if "customer_id" in cells:
        cids = as_text(cells["customer_id"])
        customer = _customer_index(problems, cids, book)

    amount = np.full(n, np.nan)
    if "amount" in cells:
        amount = _check_amount(problems, parse_numbers(
            cells["amount"], None if read_as is None else read_as.numbers))
    codes = None
    if "currency" in cells:
        codes, rates = currency_rates(problems, as_text(cells["currency"]),
                                      currencies or Currencies())
        amount = amount * rates

    dates: dict[str, Dates] = {}
    for column in _DATE_COLUMNS:
        if column in cells:
            dates[column] = parse_dates(cells[column])
            optional = column == "paid_date"
            _report_dates(problems, column, dates[column], blank_ok=optional)
    _check_order(problems, dates, cutoff, kind)

    problems.raise_if_any()
    out = pd.DataFrame({
        "invoice_id": ids.astype(str),
        "customer_id": cids.astype(str),
        "customer": customer,
        "amount": amount,
    })
    for column in _DATE_COLUMNS:
        if column in dates:
            out[column] = pd.Series(dates[column].values).astype("datetime64[ns]")
    if codes is not None:
        out["currency"] = codes.astype(str)
    return out


def _customer_index(
    problems: TableProblems, cids: ObjectArray, book: Book
) -> npt.NDArray[np.int64]:
    known = pd.Index(np.asarray(book.customer_id, dtype=object))
    index = known.get_indexer(pd.Index(cids)).astype(np.int64)
    problems.cells(cids == "", "customer_id", lambda i: (
        "customer_id", "is blank", "give the customer's id as in the book, e.g. C00001"))
    book_ids = [str(c) for c in book.customer_id]
    unpadded: dict[str, str] = {}
    for cid in book_ids:
        unpadded.setdefault(_strip_zeros(cid), cid)

    def unknown(i: int) -> tuple[str, str, str]:
        value = str(cids[i])
        # a spreadsheet drops leading zeros: 123 for 00123, C1 for C001
        hint = unpadded.get(_strip_zeros(value)) or closest(value, book_ids)
        fix = "add the customer to the book, or remove its invoices"
        if hint is not None:
            fix = f"did you mean {hint}? otherwise {fix}"
        return f"customer_id={show(value)}", "is not in the book", fix

    problems.cells((cids != "") & (index < 0), "customer_id", unknown)
    return index


def _strip_zeros(text: str) -> str:
    return re.sub(r"(?<!\d)0+(?=\d)", "", text.strip().lower())


def _check_amount(problems: TableProblems, parsed: Numbers) -> npt.NDArray[np.float64]:
    v = parsed.values

    problems.cells(parsed.bad, "amount", not_number("amount", parsed))

    def blank(i: int) -> tuple[str, str, str]:
        raw = str(parsed.text[i]).strip() if parsed.text is not None else ""
        what = f"amount={show(raw)}" if raw else "amount"
        return what, "is blank" if not raw else "is missing (not a number)", (
            "give the open amount in book currency (a number ≥ 0)")

    problems.cells(parsed.blank, "amount", blank)
    with np.errstate(invalid="ignore"):
        problems.cells(np.isinf(v), "amount", lambda i: (
            f"amount={parsed.show(i)}", "is not finite", "give the open amount in book currency"))
        problems.cells(np.isfinite(v) & (v < 0), "amount", lambda i: (
            f"amount={parsed.show(i)}", "is negative",
            "a credit note: net it against the customer's invoices (open amounts are ≥ 0)"))
    return v


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def _report_dates(problems: TableProblems, column: str, dates: Dates, *, blank_ok: bool) -> None:
    def bad(i: int) -> tuple[str, str, str]:
        rule, fix = dates.why[i]
        return f"{column}={show(str(dates.shown[i]))}", rule, fix

    problems.cells(dates.bad, column, bad)
    if not blank_ok:
        problems.cells(dates.blank, column, lambda i: (
            column, "is blank", f"give {_DESCRIPTION[column]}"))


def _check_order(
    problems: TableProblems, dates: dict[str, Dates], cutoff: np.datetime64 | None, kind: str
) -> None:
    def iso(d: Dates, i: int) -> str:
        return str(d.values[i])

    def before(later: str, earlier: str, fix: str) -> None:
        if later not in dates or earlier not in dates:
            return
        a, b = dates[later], dates[earlier]
        ok = ~np.isnat(a.values) & ~np.isnat(b.values)
        mask = np.zeros(ok.size, dtype=bool)
        mask[ok] = a.values[ok] < b.values[ok]
        problems.cells(mask, later, lambda i: (
            f"{later}={iso(a, i)}", f"is before {earlier}={iso(b, i)}", fix))

    before("due_date", "issue_date", "swap them, or fix the date")
    before("paid_date", "issue_date",
           "fix the date (a payment in advance counts as paid on the issue date)")
    if cutoff is None:
        return
    what = "open yet" if kind == "invoices" else "issued by then"
    after_fix = {
        "issue_date": ("remove it (forward sales come from the book's annual_sales), or fix the "
                       "date" if kind == "invoices" else "remove it, or give a later as-of date"),
        "paid_date": "blank it (the invoice was unpaid at the as-of date), or give a later "
                     "as-of date",
    }
    for column, fix in after_fix.items():
        if column not in dates:
            continue
        d = dates[column]
        late = np.zeros(d.values.size, dtype=bool)
        ok = ~np.isnat(d.values)
        late[ok] = d.values[ok] > cutoff
        rule = f"is after the as-of date {cutoff}"
        if column == "issue_date":
            rule += f": the invoice is not {what}"

        def describe(i: int, d: Dates = d, column: str = column, rule: str = rule,
                     fix: str = fix) -> tuple[str, str, str]:
            return f"{column}={iso(d, i)}", rule, fix

        problems.cells(late, column, describe)
