"""The customers table ("book"): readers, validation and the :class:`Book` container.

A book has one row per customer; the columns are listed in ``docs/design.md`` ("Book") and in
:data:`BOOK_COLUMNS`. :func:`read_book` reads ``.csv``, ``.parquet`` and ``.xlsx`` files and
:func:`book_from_frame` takes a :class:`pandas.DataFrame`; both check every cell, collect
every problem and raise a single :class:`~portsim.errors.BookError` listing them, each as::

    book.csv row 4 (C003): p_default=3.5 is outside [0, 1]; for 3.5 % write 0.035

Row numbers
-----------
Rows are counted the way a spreadsheet user counts them: the header is row 1 and the first
data row is row 2. For a CSV file that is the record number (equal to the line number unless a
quoted value spans several lines); for an ``.xlsx`` sheet it is the row number the spreadsheet
shows; for a Parquet file or a DataFrame it is the positional index + 2, as if the table were
pasted into a spreadsheet under a header row. Fully blank rows are skipped but still counted,
so the rows after them keep their numbers.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from portsim.config import TableDialect
from portsim.data.book_rules import (
    BOOK_COLUMNS,
    BOOK_RULES,
    CURRENCY_COLUMN,
    DEFAULTS,
    DELAY_COLUMNS,
    MONEY_COLUMNS,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    check_not_numbers,
    check_text,
    check_values,
    header_checks,
    resolve_pd,
)
from portsim.data.cells import (
    FloatArray,
    ObjectArray,
)
from portsim.data.currency import Currencies, currency_rates
from portsim.data.dialect import Dialect
from portsim.data.problems import MAX_LISTED_PROBLEMS, TableProblems
from portsim.data.readers import read_table_file
from portsim.data.table import data_rows, header_labels, parse_columns
from portsim.errors import Problem

__all__ = [
    "BOOK_COLUMNS",
    "DELAY_COLUMNS",
    "MAX_LISTED_PROBLEMS",
    "REQUIRED_COLUMNS",
    "Book",
    "BookWarning",
    "book_from_frame",
    "read_book",
]


# Marks a delay column not passed to Book(...); replaced by NaN in __post_init__.
_UNSET: Final = np.full(0, np.nan)


class BookWarning(UserWarning):
    """A book that can be used but looks suspicious, e.g. a column that resembles a known one."""


@dataclass(frozen=True, eq=False)
class Book:
    """A validated customers table, one read-only numpy array per column.

    All arrays have shape ``(n_customers,)``. Money is in book currency (converted from a
    row's ``currency`` when the table has that column); probabilities, LGDs and correlations
    are fractions, not percent.

    Parameters
    ----------
    customer_id : ndarray of str (object), shape (n_customers,)
        Unique customer ids.
    name : ndarray of str (object), shape (n_customers,)
        Display names (untrusted text); the id where the column is absent or blank.
    sector : ndarray of str (object), shape (n_customers,)
        Sector of each customer.
    country : ndarray of str (object), shape (n_customers,)
        ISO-like country code of each customer.
    exposure : ndarray of float64, shape (n_customers,)
        Open receivable at the as-of date, book currency, finite and >= 0.
    p_default : ndarray of float64, shape (n_customers,)
        1-year probability of default in [0, 1]: the ``p_default`` cell where given, else the
        ``rating`` looked up in the ratings table.
    lgd : ndarray of float64, shape (n_customers,)
        Loss given default in [0, 1] (the mean of a Beta LGD when ``lgd_sd`` > 0).
    lgd_sd : ndarray of float64, shape (n_customers,)
        Standard deviation of a Beta LGD; 0 (fixed LGD) where absent or blank.
    asset_correlation : ndarray of float64, shape (n_customers,)
        Asset correlation R in [0, 1); NaN where absent or blank (Basel corporate formula).
    credit_limit : ndarray of float64, shape (n_customers,)
        Internal credit limit, book currency, >= 0; NaN where absent or blank.
    insured_limit : ndarray of float64, shape (n_customers,)
        Buyer credit limit granted by the insurer, book currency, >= 0; NaN where absent
        or blank.
    payment_terms_days : ndarray of float64, shape (n_customers,)
        Contractual payment terms in days, >= 0; 30 where absent or blank.
    annual_sales : ndarray of float64, shape (n_customers,)
        Annual invoiced sales to the customer, book currency, >= 0; 0 where absent or blank.
    rating : ndarray of str (object), shape (n_customers,), or None
        Rating grades as given ("" where blank); None when the book has no ``rating`` column.
    source : str
        Path the book was read from, or ``"<frame>"``.
    sha256 : str
        Hex SHA-256 of the file bytes (of a canonical CSV serialisation for a DataFrame).
    notes : tuple of Problem
        Warning-level findings of a book that is otherwise valid (e.g. a column ``lgd_sdd``
        that is ignored but looks like a misspelt ``lgd_sd``).
    delay_mean_days, delay_sd_days, delay_noise_days : ndarray of float64, shape (n_customers,)
        Per-customer payment-delay parameters in days beyond the due date (mean propensity,
        sd of the propensity, sd of the per-invoice noise), e.g. from ``portsim calibrate``;
        NaN where absent or blank (the config's ``[delays]`` apply). Omitted → all NaN.
    currency : ndarray of str (object), shape (n_customers,), or None
        The currency each customer's amounts were given in (ISO code, the book currency where
        blank), already converted; None when the table has no ``currency`` column. Scenario
        FX shocks (``[fx]``) apply to the customers of a currency.
    """

    customer_id: ObjectArray
    name: ObjectArray
    sector: ObjectArray
    country: ObjectArray
    exposure: FloatArray
    p_default: FloatArray
    lgd: FloatArray
    lgd_sd: FloatArray
    asset_correlation: FloatArray
    credit_limit: FloatArray
    insured_limit: FloatArray
    payment_terms_days: FloatArray
    annual_sales: FloatArray
    rating: ObjectArray | None
    source: str
    sha256: str
    notes: tuple[Problem, ...] = ()
    delay_mean_days: FloatArray = field(default_factory=lambda: _UNSET)
    delay_sd_days: FloatArray = field(default_factory=lambda: _UNSET)
    delay_noise_days: FloatArray = field(default_factory=lambda: _UNSET)
    currency: ObjectArray | None = None

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("source", "sha256", "notes") or value is None:
                continue
            if value is _UNSET:  # an optional delay column not given: NaN for every customer
                value = np.full(int(np.asarray(self.customer_id).shape[0]), np.nan)
            dtype = object if f.name in TEXT_COLUMNS else np.float64
            # A read-only view: the caller's array stays writable, the book's does not.
            arr = np.asarray(value, dtype=dtype).view()
            if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
                raise ValueError(f"Book.{f.name} must have shape ({n},), got {arr.shape}")
            n = arr.shape[0]
            arr.setflags(write=False)
            object.__setattr__(self, f.name, arr)

    @property
    def n_customers(self) -> int:
        """Number of customers (rows)."""
        return int(self.customer_id.shape[0])

    def __len__(self) -> int:
        return self.n_customers

    def __repr__(self) -> str:
        return (
            f"Book(n_customers={self.n_customers}, exposure={float(self.exposure.sum()):.2f}, "
            f"source={self.source!r}, sha256={self.sha256[:12]}…)"
        )

    def to_frame(self) -> pd.DataFrame:
        """Return the book as a DataFrame, one row per customer.

        Returns
        -------
        DataFrame, shape (n_customers, 16 or 17)
            Columns in :data:`BOOK_COLUMNS` order (``rating`` only when the book has one),
            with the defaults filled in; ``p_default`` holds the resolved PDs and amounts are
            in the book currency (so there is no ``currency`` column). Reading it back with
            :func:`book_from_frame` gives the same arrays (``currency`` aside).
        """
        data: dict[str, Any] = {}
        for column in BOOK_COLUMNS:
            values = getattr(self, column)
            if values is not None:
                data[column] = values.copy()
        return pd.DataFrame(data)

    def subset(self, mask_or_index: npt.ArrayLike | slice) -> Book:
        """Return the customers selected by a boolean mask, integer indices or a slice.

        Parameters
        ----------
        mask_or_index : array_like of bool, shape (n_customers,), array_like of int, or slice
            Which customers to keep, in the order given.

        Returns
        -------
        Book
            A new book; ``sha256`` is that of the subset's canonical CSV serialisation.
        """
        if isinstance(mask_or_index, slice):
            key: Any = mask_or_index
        else:
            key = np.asarray(mask_or_index)
            if key.dtype == np.bool_ and key.shape != (self.n_customers,):
                raise ValueError(f"mask must have shape ({self.n_customers},), got {key.shape}")
            if key.dtype != np.bool_ and not np.issubdtype(key.dtype, np.integer):
                if key.size:
                    raise TypeError(f"expected a boolean mask or integer indices, got {key.dtype}")
                key = key.astype(np.int64)
        arrays: dict[str, Any] = {
            c: (None if getattr(self, c) is None else getattr(self, c)[key])
            for c in (*BOOK_COLUMNS, CURRENCY_COLUMN)
        }
        sub = Book(**arrays, source=self.source, sha256="", notes=self.notes)
        object.__setattr__(sub, "sha256", _frame_sha256(sub.to_frame()))
        return sub


def read_book(
    path: str | os.PathLike[str],
    *,
    ratings: Mapping[str, float] | None = None,
    sectors: Sequence[str] | None = None,
    dialect: TableDialect | None = None,
    currencies: Currencies | None = None,
) -> Book:
    """Read and validate a customers table from ``.csv``, ``.parquet`` or ``.xlsx``.

    A CSV file is read in its dialect (:mod:`portsim.data.dialect`): the ``dialect`` keys
    where given, else detected (UTF-8 or UTF-16 with its byte-order mark; delimiter from the
    header; decimal mark and thousands separator from the cells); every cell is read as text
    and parsed here, so a bad cell is reported exactly. ``.xlsx`` files are read from their
    first sheet (needs the ``excel`` extra, openpyxl); ``.parquet`` files need the
    ``parquet`` extra (pyarrow).

    Parameters
    ----------
    path : str or path-like
        The book file.
    ratings : mapping of str to float, optional
        Rating grade → 1-year PD (the ``[book.ratings]`` table of the config). Used for rows
        whose ``p_default`` is blank; where a row has both, ``p_default`` wins and ``rating``
        is kept only for display.
    sectors : sequence of str, optional
        Allowed sectors (``[book] sectors``); when given, any other sector is a problem.
    dialect : TableDialect, optional
        The CSV keys of ``[book]`` (delimiter, decimal, thousands, encoding).
    currencies : Currencies, optional
        The book currency and FX rates; amounts of a row whose ``currency`` is another are
        multiplied by its rate. Default: EUR and no rates.

    Returns
    -------
    Book
        The validated book; ``sha256`` is the hash of the file bytes.

    Raises
    ------
    BookError
        Listing every problem found (at most :data:`MAX_LISTED_PROBLEMS`, then "and N more"),
        each as ``file row N (customer_id): column=value rule; fix``; rows are counted with
        the header as row 1 (see the module docstring). Also raised when the file is missing,
        has an unknown extension, cannot be parsed, or needs an optional package.

    Warns
    -----
    BookWarning
        When the book is valid but has notes (see :attr:`Book.notes`).
    """
    name = Path(path).name
    title = f"invalid book {os.fspath(path)}"
    data, frame, found = read_table_file(
        path, title=title, empty=_empty_problem(name), dir_fix="give the path of the book file",
        type_fix="save the book as .csv, .parquet or .xlsx",
        xls_fix="the old .xls format is not supported; save it as .xlsx (or .csv UTF-8)",
        dialect=dialect, where="[book]")
    return _build(
        frame,
        ratings=ratings,
        sectors=sectors,
        currencies=currencies,
        read_as=found,
        source=os.fspath(path),
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        title=title,
        stacklevel=3,
    )


def book_from_frame(
    df: pd.DataFrame,
    *,
    ratings: Mapping[str, float] | None = None,
    sectors: Sequence[str] | None = None,
    source: str = "<frame>",
    currencies: Currencies | None = None,
) -> Book:
    """Validate a DataFrame holding a customers table and return a :class:`Book`.

    Columns may hold text (parsed like CSV cells) or numbers; the index is ignored. Row N in a
    message is positional index N − 2 (the header counts as row 1, see the module docstring).

    Parameters
    ----------
    df : DataFrame, shape (n_customers, n_columns)
        The table, with the columns of :data:`BOOK_COLUMNS` (unknown columns are ignored).
    ratings : mapping of str to float, optional
        Rating grade → 1-year PD, used where ``p_default`` is blank (``p_default`` wins where
        both are given).
    sectors : sequence of str, optional
        Allowed sectors; when given, any other sector is a problem.
    source : str, default ``"<frame>"``
        Name used in messages and stored as :attr:`Book.source`.
    currencies : Currencies, optional
        The book currency and FX rates, as for :func:`read_book`.

    Returns
    -------
    Book
        The validated book; ``sha256`` is the hash of ``df.to_csv(index=False)`` with ``\\n``
        line ends.

    Raises
    ------
    BookError
        Listing every problem found, as for :func:`read_book`.
    """
    return _build(
        df,
        ratings=ratings,
        sectors=sectors,
        currencies=currencies,
        read_as=None,
        source=source,
        name=source,
        sha256=_frame_sha256(df),
        title=f"invalid book {source}",
        stacklevel=3,
    )


def _build(
    df: pd.DataFrame,
    *,
    ratings: Mapping[str, float] | None,
    sectors: Sequence[str] | None,
    currencies: Currencies | None,
    read_as: Dialect | None,
    source: str,
    name: str,
    sha256: str,
    title: str,
    stacklevel: int,
) -> Book:
    problems = TableProblems(name, title, BOOK_RULES.order,
                             () if read_as is None else read_as.assumed)
    number_format = None if read_as is None else read_as.numbers
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    labels, has = header_labels(df, problems, BOOK_RULES, _empty_problem(name))
    header_checks(problems, labels, has)

    text, numbers, blank_rows = parse_columns(df, labels, has, TEXT_COLUMNS, NUMERIC_COLUMNS,
                                              number_format)
    keep = data_rows(blank_rows, len(df), problems, BOOK_RULES)
    rows = (keep + 2).astype(np.int64)
    n = rows.size
    if n < len(df):
        text = {label: values[keep] for label, values in text.items()}
        numbers = {label: parsed.take(keep) for label, parsed in numbers.items()}
    ids = text.get("customer_id", np.full(n, "", dtype=object))
    problems.rows, problems.ids = rows, ids

    check_text(problems, text, sectors)
    check_not_numbers(problems, numbers)
    p_default = resolve_pd(problems, numbers, text, ratings)
    check_values(problems, numbers)
    codes = rates = None
    if CURRENCY_COLUMN in text:
        codes, rates = currency_rates(problems, text[CURRENCY_COLUMN], currencies or Currencies())

    problems.raise_if_any()
    notes = tuple(problems.notes)
    if notes:
        message = "; ".join(str(p) for p in notes)
        warnings.warn(message, BookWarning, stacklevel=stacklevel)

    def value_or(label: str, default: float) -> FloatArray:
        if label not in numbers:
            return np.full(n, default, dtype=np.float64)
        values = numbers[label].values.copy()
        values[np.isnan(values)] = default
        if rates is not None and label in MONEY_COLUMNS:
            values *= rates
        return values

    exposure = numbers["exposure"].values
    names = text.get("name", ids).copy()
    names[names == ""] = ids[names == ""]
    return Book(
        customer_id=ids,
        name=names,
        sector=text["sector"],
        country=text["country"],
        exposure=exposure if rates is None else exposure * rates,
        p_default=p_default,
        lgd=numbers["lgd"].values,
        lgd_sd=value_or("lgd_sd", DEFAULTS["lgd_sd"]),
        asset_correlation=value_or("asset_correlation", np.nan),
        credit_limit=value_or("credit_limit", np.nan),
        insured_limit=value_or("insured_limit", np.nan),
        payment_terms_days=value_or("payment_terms_days", DEFAULTS["payment_terms_days"]),
        annual_sales=value_or("annual_sales", DEFAULTS["annual_sales"]),
        delay_mean_days=value_or("delay_mean_days", np.nan),
        delay_sd_days=value_or("delay_sd_days", np.nan),
        delay_noise_days=value_or("delay_noise_days", np.nan),
        rating=text.get("rating"),
        source=source,
        sha256=sha256,
        notes=notes,
        currency=codes,
    )


def _empty_problem(name: str) -> Problem:
    return Problem(
        name,
        "file",
        "is empty",
        "write a header row with customer_id, sector, country, exposure, lgd and p_default "
        "or rating, then one row per customer",
    )


def _frame_sha256(df: pd.DataFrame) -> str:
    canonical = df.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
