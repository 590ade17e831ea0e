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

import difflib
import hashlib
import io
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from portsim.errors import BookError, Problem

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

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Every column a book may have, in the order :meth:`Book.to_frame` writes them.
BOOK_COLUMNS: Final = (
    "customer_id",
    "name",
    "sector",
    "country",
    "exposure",
    "p_default",
    "rating",
    "lgd",
    "lgd_sd",
    "asset_correlation",
    "credit_limit",
    "insured_limit",
    "payment_terms_days",
    "annual_sales",
    "delay_mean_days",
    "delay_sd_days",
    "delay_noise_days",
)
#: Optional payment-delay columns (days beyond the due date; see ``[delays]`` in the config).
DELAY_COLUMNS: Final = ("delay_mean_days", "delay_sd_days", "delay_noise_days")
#: Columns that must be present (plus at least one of ``p_default`` and ``rating``).
REQUIRED_COLUMNS: Final = ("customer_id", "sector", "country", "exposure", "lgd")
#: At most this many problems are listed in one :class:`BookError`; an "and N more" line follows.
MAX_LISTED_PROBLEMS: Final = 50

_TEXT_COLUMNS: Final = ("customer_id", "name", "sector", "country", "rating")
_NUMERIC_COLUMNS: Final = tuple(c for c in BOOK_COLUMNS if c not in _TEXT_COLUMNS)
_MONEY_COLUMNS: Final = ("credit_limit", "insured_limit", "annual_sales")
_DEFAULTS: Final = {"lgd_sd": 0.0, "payment_terms_days": 30.0, "annual_sales": 0.0}
_ORDER: Final = {c: i for i, c in enumerate(BOOK_COLUMNS)}
# Cell texts read as "blank", as pandas does by default (compared in lower case).
_BLANK_TOKENS: Final = frozenset({"", "nan", "na", "n/a", "null", "none"})
# Header names people use for our columns (normalised: lower case, "_" for blanks).
_ALIASES: Final = {
    "id": "customer_id",
    "customer": "customer_id",
    "customer_no": "customer_id",
    "customer_number": "customer_id",
    "debtor": "customer_id",
    "debtor_id": "customer_id",
    "pd": "p_default",
    "probability_of_default": "p_default",
    "default_probability": "p_default",
    "ead": "exposure",
    "balance": "exposure",
    "open_amount": "exposure",
    "receivable": "exposure",
    "receivables": "exposure",
    "industry": "sector",
    "country_code": "country",
    "iso_country": "country",
    "grade": "rating",
    "loss_given_default": "lgd",
    "correlation": "asset_correlation",
    "limit": "credit_limit",
    "terms": "payment_terms_days",
    "payment_terms": "payment_terms_days",
    "sales": "annual_sales",
    "turnover": "annual_sales",
}
_DESCRIPTION: Final = {
    "customer_id": "a unique text id per customer, e.g. C001",
    "sector": "the customer's sector, e.g. construction",
    "country": "an ISO-like country code, e.g. DE",
    "exposure": "the open receivable in book currency, e.g. 125000.50",
    "lgd": "the loss given default as a fraction, e.g. 0.489",
    "p_default": "the 1-year probability of default as a fraction, e.g. 0.02 for 2 %",
    "rating": "a grade from the ratings table, e.g. BBB",
}


# Marks a delay column not passed to Book(...); replaced by NaN in __post_init__.
_UNSET: Final = np.full(0, np.nan)


class BookWarning(UserWarning):
    """A book that can be used but looks suspicious, e.g. a column that resembles a known one."""


# --------------------------------------------------------------------------------------------
# The container
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Book:
    """A validated customers table, one read-only numpy array per column.

    All arrays have shape ``(n_customers,)``. Money is in book currency; probabilities, LGDs
    and correlations are fractions, not percent.

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

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("source", "sha256", "notes") or value is None:
                continue
            if value is _UNSET:  # an optional delay column not given: NaN for every customer
                value = np.full(int(np.asarray(self.customer_id).shape[0]), np.nan)
            dtype = object if f.name in _TEXT_COLUMNS else np.float64
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
            with the defaults filled in; ``p_default`` holds the resolved PDs. Reading it back
            with :func:`book_from_frame` gives the same arrays.
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
            c: (None if getattr(self, c) is None else getattr(self, c)[key]) for c in BOOK_COLUMNS
        }
        sub = Book(**arrays, source=self.source, sha256="", notes=self.notes)
        object.__setattr__(sub, "sha256", _frame_sha256(sub.to_frame()))
        return sub


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def read_book(
    path: str | os.PathLike[str],
    *,
    ratings: Mapping[str, float] | None = None,
    sectors: Sequence[str] | None = None,
) -> Book:
    """Read and validate a customers table from ``.csv``, ``.parquet`` or ``.xlsx``.

    CSV files must be UTF-8 (a byte-order mark is fine), comma-separated, with a decimal
    point and no thousands separators; every cell is read as text and parsed here, so a bad
    cell is reported exactly. ``.xlsx`` files are read from their first sheet (needs the
    ``excel`` extra, openpyxl); ``.parquet`` files need the ``parquet`` extra (pyarrow).

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
    file = Path(path)
    name = file.name
    title = f"invalid book {os.fspath(path)}"
    if not file.exists():
        raise BookError([_missing_file_problem(file)], title=title)
    if file.is_dir():
        raise BookError(
            [Problem(name, "path", "is a directory", "give the path of the book file")],
            title=title,
        )
    suffix = file.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        fix = "save the book as .csv, .parquet or .xlsx"
        if suffix == ".xls":
            fix = "the old .xls format is not supported; save it as .xlsx (or .csv UTF-8)"
        kind = f"'{suffix}'" if suffix else "(no extension)"
        raise BookError([Problem(name, "file type", f"{kind} is not supported", fix)], title=title)
    reader_check = _EXTRAS.get(suffix)
    if reader_check is not None:
        reader_check(name)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BookError([Problem(name, "file", f"cannot be read ({exc})")], title=title) from exc
    frame = reader(data, name, title)
    return _build(
        frame,
        ratings=ratings,
        sectors=sectors,
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
        source=source,
        name=source,
        sha256=_frame_sha256(df),
        title=f"invalid book {source}",
        stacklevel=3,
    )


# --------------------------------------------------------------------------------------------
# Readers: bytes -> DataFrame (no validation yet)
# --------------------------------------------------------------------------------------------


def _read_csv(data: bytes, name: str, title: str) -> pd.DataFrame:
    if not data.strip():
        raise BookError([_empty_problem(name)], title=title)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
                encoding="utf-8-sig",
            )
    except pd.errors.EmptyDataError as exc:
        raise BookError([_empty_problem(name)], title=title) from exc
    except UnicodeDecodeError as exc:
        problem = Problem(
            name,
            "file",
            f"is not UTF-8 text (byte {exc.start})",
            "save it as 'CSV UTF-8 (comma delimited)'",
        )
        raise BookError([problem], title=title) from exc
    except pd.errors.ParserWarning as exc:
        problem = Problem(
            name,
            "data rows",
            "have more values than the header has columns",
            "remove trailing commas, or quote values that contain a comma",
        )
        raise BookError([problem], title=title) from exc
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            n_header, line, n_seen = found.groups()
            problem = Problem(
                f"{name} row {line}",
                f"{n_seen} values",
                f"but the header has {n_header} columns",
                'a value probably contains a comma: quote it ("Keller, Bau") or remove the comma',
            )
        else:
            problem = Problem(name, "file", f"cannot be parsed as CSV ({exc})")
        raise BookError([problem], title=title) from exc


def _read_parquet(data: bytes, name: str, title: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        problem = Problem(name, "file", f"cannot be read as Parquet ({exc})")
        raise BookError([problem], title=title) from exc


def _read_excel(data: bytes, name: str, title: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it drops; irrelevant for reading values
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            return pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
    except Exception as exc:  # zipfile, openpyxl and pandas raise many types
        problem = Problem(name, "file", f"cannot be read as an .xlsx workbook ({exc})")
        raise BookError([problem], title=title) from exc


def _need_pyarrow(name: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise BookError(f"reading {name} needs pyarrow: pip install 'portsim[parquet]'") from exc


def _need_openpyxl(name: str) -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise BookError(f"reading {name} needs openpyxl: pip install 'portsim[excel]'") from exc


_READERS: Final[dict[str, Callable[[bytes, str, str], pd.DataFrame]]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".xlsx": _read_excel,
}
_EXTRAS: Final[dict[str, Callable[[str], None]]] = {
    ".parquet": _need_pyarrow,
    ".xlsx": _need_openpyxl,
}


def _missing_file_problem(file: Path) -> Problem:
    fix = "check the path"
    parent = file.parent
    if parent.is_dir():
        siblings = [p.name for p in parent.iterdir() if p.is_file()]
        close = difflib.get_close_matches(file.name, siblings, n=1, cutoff=0.7)
        if close:
            fix = f"did you mean {close[0]}?"
    else:
        fix = f"the folder {parent} does not exist either; check the path"
    return Problem(file.name, "file", f"not found (looked for {file.absolute()})", fix)


def _empty_problem(name: str) -> Problem:
    return Problem(
        name,
        "file",
        "is empty",
        "write a header row with customer_id, sector, country, exposure, lgd and p_default "
        "or rating, then one row per customer",
    )


# --------------------------------------------------------------------------------------------
# Cell conversion
# --------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """Text of one cell as a user would type it; "" for a missing cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value).strip()


_NUMBER_KINDS: Final = frozenset({"floating", "integer", "mixed-integer-float", "decimal", "empty"})


_TEXT_KINDS: Final = frozenset({"string", "mixed", "mixed-integer", "empty"})


def _as_text(column: pd.Series) -> ObjectArray:
    """Stripped text of every cell, shape (n,), "" for missing cells."""
    if pd.api.types.infer_dtype(column, skipna=False) == "string":
        return column.astype(object).str.strip().to_numpy(dtype=object)
    if pd.api.types.infer_dtype(column, skipna=True) == "string":
        filled = column.astype(object).where(column.notna(), "")
        return filled.str.strip().to_numpy(dtype=object)
    return np.array([_cell_text(v) for v in column.to_numpy(dtype=object)], dtype=object)


def _blank_mask(column: pd.Series) -> BoolArray:
    """True where a cell is missing or only blanks, shape (n,)."""
    if pd.api.types.is_bool_dtype(column):
        return np.zeros(len(column), dtype=bool)
    missing = column.isna().to_numpy(dtype=bool)
    if pd.api.types.infer_dtype(column, skipna=True) not in _TEXT_KINDS:
        return missing  # numbers, dates, …: blank only where missing
    stripped = column.astype(object).str.strip()  # NaN for cells that are not text
    return missing | stripped.eq("").to_numpy(dtype=bool)


@dataclass(frozen=True)
class _Numbers:
    """A parsed numeric column: values (NaN where blank or bad), masks and display text."""

    values: FloatArray
    blank: BoolArray
    bad: BoolArray
    text: ObjectArray | None

    def show(self, i: int) -> str:
        if self.text is not None:
            return _show(str(self.text[i]).strip())
        return _fmt(float(self.values[i]))

    def take(self, index: IntArray) -> _Numbers:
        text = None if self.text is None else self.text[index]
        return _Numbers(self.values[index], self.blank[index], self.bad[index], text)


def _parse_numbers(column: pd.Series) -> _Numbers:
    n = len(column)
    numeric = pd.api.types.is_numeric_dtype(column) or (
        column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in _NUMBER_KINDS
    )
    if numeric and not pd.api.types.is_bool_dtype(column):
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return _Numbers(values, np.isnan(values), np.zeros(n, dtype=bool), None)
    if pd.api.types.infer_dtype(column, skipna=False) == "string":
        text = column.to_numpy(dtype=object, copy=True)  # stripped where needed, below
    else:
        text = _as_text(column)
    # pandas parses numbers with surrounding blanks; only the NaN cells need a closer look.
    values = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )
    blank = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    unparsed = np.flatnonzero(np.isnan(values))
    if unparsed.size:
        cells = pd.Series(text[unparsed], dtype=object).str.strip()
        text[unparsed] = cells.to_numpy(dtype=object)
        is_blank = cells.str.lower().isin(_BLANK_TOKENS).to_numpy(dtype=bool)
        blank[unparsed] = is_blank
        bad[unparsed[~is_blank]] = True
    for i in np.flatnonzero(bad):  # rare: give Python's parser a chance (e.g. "1e400" -> inf)
        try:
            values[i] = float(str(text[i]))
        except ValueError:
            continue
        bad[i] = math.isnan(values[i])
    return _Numbers(values, blank, bad, text)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _show(text: str, limit: int = 40) -> str:
    """A cell value for a message: bare when simple, quoted (repr) otherwise."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text and re.fullmatch(r"[\w.+\-%/]+", text):
        return text
    return repr(text)


def _percent_text(shown: str, value: float) -> tuple[str, str]:
    """(as written, divided by 100) for a percent hint, both as plain decimals."""
    try:
        written = Decimal(shown)
    except InvalidOperation:
        written = Decimal(repr(value))
    return _plain(written), _plain(written / 100)


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def _number_hint(raw: str) -> str:
    """How to write a cell that is not a number."""
    text = raw.strip()
    if not text:
        return "write a plain number"
    if text.startswith("#"):
        return "this is a spreadsheet error value: fix the formula or type the number"
    if text.endswith("%"):
        body = text[:-1].strip().replace(",", ".")
        try:
            return f"write fractions, not percent: for {text} write {_plain(Decimal(body) / 100)}"
        except InvalidOperation:
            return "write fractions, not percent: for 3.5 % write 0.035"
    stripped = re.sub(r"^(?:[€$£]|EUR|USD|GBP|CHF)\s*|\s*(?:[€$£]|EUR|USD|GBP|CHF)$", "", text)
    currency = stripped != text
    suggestion = _normalise_number(stripped)
    if suggestion is not None:
        if currency:
            return f"write {suggestion} (number only, no currency)"
        if suggestion != stripped:
            return f"write {suggestion} (decimal point, no thousands separator)"
        return f"write {suggestion}"
    if text.lower() in ("true", "false", "yes", "no"):
        return "write a number"
    return "write a plain number such as 1234.5 (decimal point, no thousands separator)"


def _normalise_number(text: str) -> str | None:
    """Guess the number meant by text with decimal commas or thousands separators."""
    t = re.sub(r"[\s\u00a0\u202f']", "", text)
    if "," in t and "." in t:
        if t.rfind(",") > t.rfind("."):
            t = t.replace(".", "").replace(",", ".")
        else:
            t = t.replace(",", "")
    elif t.count(",") == 1:
        t = t.replace(",", ".")
    elif t.count(",") > 1:
        t = t.replace(",", "")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    t = t.lstrip("+")
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        return None
    return t


# --------------------------------------------------------------------------------------------
# Problem collection
# --------------------------------------------------------------------------------------------


class _Problems:
    """Collects problems sorted by row, listing at most MAX_LISTED_PROBLEMS."""

    def __init__(self, name: str, title: str) -> None:
        self.name = name
        self.title = title
        self.rows: IntArray = np.zeros(0, dtype=np.int64)
        self.ids: ObjectArray = np.zeros(0, dtype=object)
        self._items: list[tuple[int, int, int, Problem]] = []
        self.notes: list[Problem] = []
        self.unlisted = 0

    def _add(self, row: int, column: str, problem: Problem) -> None:
        self._items.append((row, _ORDER.get(column, -1), len(self._items), problem))

    def where(self, i: int) -> str:
        cid = str(self.ids[i]) if self.ids.size else ""
        label = f"{self.name} row {int(self.rows[i])}"
        return f"{label} ({_show(cid)})" if cid else label

    def file(self, what: str, rule: str, fix: str = "") -> None:
        self._add(0, "", Problem(self.name, what, rule, fix))

    def header(
        self, column: str, what: str, rule: str, fix: str = "", *, note: bool = False
    ) -> None:
        problem = Problem(f"{self.name} row 1 (header)", what, rule, fix)
        if note:
            self.notes.append(problem)
        self._add(1, column, problem)

    def at(self, row: int, column: str, problem: Problem) -> None:
        self._add(row, column, problem)

    def cells(
        self, mask: BoolArray, column: str, describe: Callable[[int], tuple[str, str, str]]
    ) -> None:
        """Add one problem per row in ``mask``; ``describe(i)`` gives (what, rule, fix)."""
        index = np.flatnonzero(mask)
        # Only the first MAX of one check can be among the first MAX of all, sorted by row.
        for i in index[:MAX_LISTED_PROBLEMS]:
            what, rule, fix = describe(int(i))
            self._add(int(self.rows[i]), column, Problem(self.where(int(i)), what, rule, fix))
        self.unlisted += max(0, index.size - MAX_LISTED_PROBLEMS)

    @property
    def has_errors(self) -> bool:
        return len(self._items) > len(self.notes) or self.unlisted > 0

    def raise_if_any(self) -> None:
        if not self.has_errors:
            return
        items = sorted(self._items, key=lambda item: item[:3])
        listed = [item[3] for item in items[:MAX_LISTED_PROBLEMS]]
        more = len(items) - len(listed) + self.unlisted
        if more:
            listed.append(
                Problem(self.name, f"{more} more problem(s)", "are not listed", "fix these first")
            )
        raise BookError(listed, title=self.title)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _normalise_label(label: str) -> str:
    return re.sub(r"[\s\-./]+", "_", label.strip().lower()).strip("_")


def _guess_column(target: str, extras: Iterable[str], cutoff: float) -> str | None:
    """The unknown header label that most likely means ``target``, if any."""
    extras = list(extras)
    normalised = {_normalise_label(e): e for e in reversed(extras)}
    if target in normalised:
        return normalised[target]
    for alias, column in _ALIASES.items():
        if column == target and alias in normalised:
            return normalised[alias]
    close = difflib.get_close_matches(target, list(normalised), n=1, cutoff=cutoff)
    return normalised[close[0]] if close else None


def _header_checks(problems: _Problems, labels: list[str], has: dict[str, int]) -> None:
    """Duplicate, missing and misspelt columns."""
    seen: dict[str, list[int]] = {}
    for pos, label in enumerate(labels):
        base = re.sub(r"\.\d+$", "", label)  # pandas renames a repeated "x" to "x.1"
        key = base if (base != label and base in has and base in _ORDER) else label
        seen.setdefault(key, []).append(pos)
    for label, positions in seen.items():
        if len(positions) > 1 and label in _ORDER:
            cols = " and ".join(_column_letter(p) for p in positions)
            problems.header(
                label,
                f"column {label}",
                f"appears {len(positions)} times (columns {cols})",
                "keep one of them; the first is used",
            )
    extras = [
        lab
        for lab in labels
        if lab
        and lab not in _ORDER
        and not lab.startswith("Unnamed:")
        and re.sub(r"\.\d+$", "", lab) not in _ORDER
    ]
    claimed: set[str] = set()

    def guess(target: str, cutoff: float) -> str | None:
        found = _guess_column(target, [e for e in extras if e not in claimed], cutoff)
        if found is not None:
            claimed.add(found)
        return found

    found_list = ", ".join(labels[:15]) + (", …" if len(labels) > 15 else "")
    for column in REQUIRED_COLUMNS:
        if column in has:
            continue
        candidate = guess(column, 0.7)
        if candidate is not None:
            fix = f"did you mean {candidate!r}? rename it to {column}"
        else:
            fix = f"add it: {_DESCRIPTION[column]} (columns found: {found_list})"
        problems.header(column, f"column {column}", "is required but missing", fix)
    if "p_default" not in has and "rating" not in has:
        hints = [
            f"did you mean {c!r}? rename it to {t}"
            for t in ("p_default", "rating")
            if (c := guess(t, 0.7)) is not None
        ]
        fix = "; ".join(hints) or (
            "add p_default (1-year PD as a fraction, e.g. 0.02) or rating (a grade from the "
            "ratings table); when both are given p_default wins"
        )
        problems.header("p_default", "columns p_default and rating", "are both missing", fix)
    for column in BOOK_COLUMNS:
        if column in has or column in REQUIRED_COLUMNS:
            continue
        candidate = guess(column, 0.8)
        if candidate is not None:
            problems.header(
                column,
                f"column {candidate!r}",
                "is not a known column and is ignored",
                f"did you mean {column}? rename it to {column}",
                note=True,
            )


def _column_letter(pos: int) -> str:
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _build(
    df: pd.DataFrame,
    *,
    ratings: Mapping[str, float] | None,
    sectors: Sequence[str] | None,
    source: str,
    name: str,
    sha256: str,
    title: str,
    stacklevel: int,
) -> Book:
    problems = _Problems(name, title)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    labels = [str(c).strip() for c in df.columns]
    if not labels:
        problems.file(*_split(_empty_problem(name)))
        problems.raise_if_any()
    if len(labels) == 1:
        for sep, sep_name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in labels[0]:
                problems.header(
                    "",
                    "columns",
                    f"are separated by {sep_name}",
                    "portsim reads comma-separated files with a decimal point: save as "
                    "'CSV UTF-8 (comma delimited)' or use .xlsx",
                )
                problems.raise_if_any()
    has: dict[str, int] = {}
    for pos, label in enumerate(labels):
        has.setdefault(label, pos)

    _header_checks(problems, labels, has)

    text: dict[str, ObjectArray] = {}
    numbers: dict[str, _Numbers] = {}
    blank_rows = np.ones(len(df), dtype=bool)
    for pos, label in enumerate(labels):
        if has.get(label) != pos:  # unknown, or a repeated known column
            blank_rows &= _blank_mask(df.iloc[:, pos])
        elif label in _TEXT_COLUMNS:
            text[label] = _as_text(df.iloc[:, pos])
            blank_rows &= text[label] == ""
        elif label in _NUMERIC_COLUMNS:
            numbers[label] = _parse_numbers(df.iloc[:, pos])
            blank_rows &= numbers[label].blank
        else:
            blank_rows &= _blank_mask(df.iloc[:, pos])
    # Fully blank rows are dropped but keep their numbers (header = row 1, first data row = 2).
    keep = np.flatnonzero(~blank_rows)
    rows = (keep + 2).astype(np.int64)
    n = rows.size
    if n == 0:
        problems.file(
            "data rows",
            "are missing (only a header)" if len(df) == 0 else "are all blank",
            "add one row per customer below the header",
        )
        problems.raise_if_any()
    if n < len(df):
        text = {label: values[keep] for label, values in text.items()}
        numbers = {label: parsed.take(keep) for label, parsed in numbers.items()}
    ids = text.get("customer_id", np.full(n, "", dtype=object))
    problems.rows, problems.ids = rows, ids

    _check_text(problems, text, sectors)
    _check_not_numbers(problems, numbers)
    p_default = _resolve_pd(problems, numbers, text, ratings)
    _check_values(problems, numbers)

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
        return values

    names = text.get("name", ids).copy()
    names[names == ""] = ids[names == ""]
    return Book(
        customer_id=ids,
        name=names,
        sector=text["sector"],
        country=text["country"],
        exposure=numbers["exposure"].values,
        p_default=p_default,
        lgd=numbers["lgd"].values,
        lgd_sd=value_or("lgd_sd", _DEFAULTS["lgd_sd"]),
        asset_correlation=value_or("asset_correlation", np.nan),
        credit_limit=value_or("credit_limit", np.nan),
        insured_limit=value_or("insured_limit", np.nan),
        payment_terms_days=value_or("payment_terms_days", _DEFAULTS["payment_terms_days"]),
        annual_sales=value_or("annual_sales", _DEFAULTS["annual_sales"]),
        delay_mean_days=value_or("delay_mean_days", np.nan),
        delay_sd_days=value_or("delay_sd_days", np.nan),
        delay_noise_days=value_or("delay_noise_days", np.nan),
        rating=text.get("rating"),
        source=source,
        sha256=sha256,
        notes=notes,
    )


def _split(problem: Problem) -> tuple[str, str, str]:
    return problem.what, problem.rule, problem.fix


def _check_text(
    problems: _Problems, text: dict[str, ObjectArray], sectors: Sequence[str] | None
) -> None:
    if "customer_id" in text:
        ids = text["customer_id"]
        problems.cells(
            ids == "",
            "customer_id",
            lambda i: ("customer_id", "is blank", "give every customer a unique id, e.g. C001"),
        )
        _check_duplicates(problems, ids)
    for label in ("sector", "country"):
        if label in text:
            fix = f"give {_DESCRIPTION[label]}"
            problems.cells(text[label] == "", label, _fixed(label, "is blank", fix))
    if sectors is not None and "sector" in text:
        allowed = [str(s) for s in sectors]
        values = text["sector"]
        unknown = (values != "") & ~pd.Series(values, dtype=object).isin(allowed).to_numpy(bool)
        listing = _listing(allowed)

        def describe(i: int) -> tuple[str, str, str]:
            value = str(values[i])
            fix = f"known sectors: {listing}"
            hint = _close(value, allowed)
            if hint is not None:
                fix = f"did you mean {hint}? {fix}"
            return f"sector={_show(value)}", "is not in the configured sectors", fix

        problems.cells(unknown, "sector", describe)


_CUSTOMER_ID_FIX = (
    "ids must be unique: merge the rows into one (add the exposures) or give each customer "
    "its own id"
)


def _check_duplicates(
    problems: _Problems, ids: ObjectArray, column: str = "customer_id",
    fix: str = _CUSTOMER_ID_FIX,
) -> None:
    """One problem per repeated id in ``column``, naming every row it stands in."""
    series = pd.Series(ids, dtype=object)
    dup = (series != "") & series.duplicated(keep=False)
    if not dup.any():
        return
    groups = pd.Series(problems.rows[dup.to_numpy()]).groupby(series[dup].to_numpy(), sort=False)
    listed = sorted(((int(r.min()), str(k), r.tolist()) for k, r in groups), key=lambda t: t[0])
    for first, key, group_rows in listed[:MAX_LISTED_PROBLEMS]:
        shown = ", ".join(str(r) for r in group_rows[:10]) + (", …" if len(group_rows) > 10 else "")
        problems.at(
            first,
            column,
            Problem(
                f"{problems.name} rows {shown} ({_show(key)})",
                f"{column}={_show(key)}",
                f"appears {len(group_rows)} times",
                fix,
            ),
        )
    problems.unlisted += max(0, len(listed) - MAX_LISTED_PROBLEMS)


def _check_not_numbers(problems: _Problems, numbers: dict[str, _Numbers]) -> None:
    for label, parsed in numbers.items():
        problems.cells(parsed.bad, label, _not_number(label, parsed))


def _fixed(what: str, rule: str, fix: str) -> Callable[[int], tuple[str, str, str]]:
    """A describe() for problems whose text does not depend on the row."""

    def describe(i: int) -> tuple[str, str, str]:
        return what, rule, fix

    return describe


def _not_number(label: str, parsed: _Numbers) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        raw = str(parsed.text[i]) if parsed.text is not None else ""
        return f"{label}={parsed.show(i)}", "is not a number", _number_hint(raw)

    return describe


def _outside_unit(label: str, parsed: _Numbers) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        fix = _fraction_fix(
            parsed.show(i), float(parsed.values[i]), "write a fraction between 0 and 1"
        )
        return f"{label}={parsed.show(i)}", "is outside [0, 1]", fix

    return describe


def _negative(label: str, parsed: _Numbers, unit: str) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        rule = "is negative" if parsed.values[i] < 0 else "is not finite"
        return f"{label}={parsed.show(i)}", rule, f"give {unit} ≥ 0, or leave it blank"

    return describe


def _delay_outside(
    label: str, parsed: _Numbers, low: float, high: float, meaning: str
) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        v = float(parsed.values[i])
        if math.isinf(v):
            rule = "is not finite"
        elif v < 0 and low == 0.0:
            rule = "is negative"
        else:
            rule = f"is outside [{_fmt(low)}, {_fmt(high)}]"
        return f"{label}={parsed.show(i)}", rule, f"give {meaning}, or leave it blank"

    return describe


def _resolve_pd(
    problems: _Problems,
    numbers: dict[str, _Numbers],
    text: dict[str, ObjectArray],
    ratings: Mapping[str, float] | None,
) -> FloatArray:
    """PD per row: p_default where given, else the rating's PD from the table."""
    n = problems.rows.size
    given = numbers.get("p_default")
    p_default = given.values.copy() if given is not None else np.full(n, np.nan)
    grades = text.get("rating")
    if given is None and grades is None:
        return p_default  # reported in the header checks
    needs = np.isnan(p_default) & (given.blank if given is not None else True)
    if grades is None:
        problems.cells(
            needs,
            "p_default",
            lambda i: (
                "p_default",
                "is blank",
                "give the 1-year PD as a fraction, e.g. 0.02 for 2 % (or add a rating column)",
            ),
        )
        return p_default
    has_grade = grades != ""
    neither = needs & ~has_grade
    problems.cells(
        neither,
        "p_default",
        lambda i: (
            "p_default and rating",
            "are both blank",
            "give p_default (a fraction, e.g. 0.02) or a rating grade",
        ),
    )
    lookup = needs & has_grade
    if not lookup.any():
        return p_default
    if ratings is None:
        index = np.flatnonzero(lookup)
        shown = ", ".join(str(problems.rows[i]) for i in index[:5]) + (
            ", …" if index.size > 5 else ""
        )
        problems.file(
            "column rating",
            f"is used in {index.size} row(s) ({'row' if index.size == 1 else 'rows'} {shown}) "
            "without p_default, "
            "but no ratings table was given",
            "give the [book.ratings] table (grade → 1-year PD), or fill p_default",
        )
        return p_default
    table = {str(k): float(v) for k, v in ratings.items()}
    for grade, pd_value in table.items():
        if not 0.0 <= pd_value <= 1.0:
            problems.file(
                f"ratings table {grade}={_fmt(pd_value)}",
                "is outside [0, 1]",
                _fraction_fix(_fmt(pd_value), pd_value, "write the 1-year PD as a fraction"),
            )
    known = pd.Series(grades, dtype=object).isin(list(table)).to_numpy(dtype=bool)
    listing = _listing(table)

    def describe(i: int) -> tuple[str, str, str]:
        grade = str(grades[i])
        fix = f"known grades: {listing}"
        hint = _close(grade, list(table))
        if hint is not None:
            fix = f"did you mean {hint}? {fix}"
        return f"rating={_show(grade)}", "is not in the ratings table", fix

    problems.cells(lookup & ~known, "rating", describe)
    found = np.flatnonzero(lookup & known)
    p_default[found] = [table[str(g)] for g in grades[found]]
    return p_default


def _fraction_fix(shown: str, value: float, otherwise: str) -> str:
    if 1.0 < value <= 100.0:
        written, fraction = _percent_text(shown, value)
        return f"for {written} % write {fraction}"
    return otherwise


def _check_values(problems: _Problems, numbers: dict[str, _Numbers]) -> None:
    def finite(label: str) -> tuple[_Numbers, FloatArray, BoolArray] | None:
        if label not in numbers:
            return None
        parsed = numbers[label]
        return parsed, parsed.values, ~np.isnan(parsed.values)

    if (got := finite("exposure")) is not None:
        parsed, v, ok = got
        problems.cells(
            parsed.blank,
            "exposure",
            lambda i: (
                "exposure",
                "is blank",
                "give the open receivable in book currency (0 if nothing is open)",
            ),
        )
        problems.cells(
            ok & np.isinf(v),
            "exposure",
            lambda i: (f"exposure={parsed.show(i)}", "is not finite", "give the amount owed"),
        )
        problems.cells(
            ok & np.isfinite(v) & (v < 0),
            "exposure",
            lambda i: (
                f"exposure={parsed.show(i)}",
                "is negative",
                "must be ≥ 0: net credit notes against the customer's invoices, or write 0",
            ),
        )
    for label in ("p_default", "lgd"):
        if (got := finite(label)) is None:
            continue
        parsed, v, ok = got
        if label == "lgd":
            problems.cells(
                parsed.blank,
                "lgd",
                lambda i: (
                    "lgd",
                    "is blank",
                    "give the loss given default as a fraction, e.g. 0.489 (senior unsecured)",
                ),
            )
        problems.cells(ok & ~((v >= 0.0) & (v <= 1.0)), label, _outside_unit(label, parsed))
    if (got := finite("lgd_sd")) is not None:
        parsed, sd, ok = got
        problems.cells(
            ok & ((sd < 0) | np.isinf(sd)),
            "lgd_sd",
            lambda i: (
                f"lgd_sd={parsed.show(i)}",
                "is negative" if sd[i] < 0 else "is not finite",
                "give a standard deviation ≥ 0 (0 for a fixed LGD)",
            ),
        )
        if "lgd" in numbers:
            mean = numbers["lgd"].values
            with np.errstate(invalid="ignore"):
                usable = ok & np.isfinite(sd) & (sd > 0) & (mean >= 0) & (mean <= 1)
                variance_cap = mean * (1.0 - mean)
                impossible = usable & (sd * sd >= variance_cap)

            def describe(i: int) -> tuple[str, str, str]:
                m, cap = float(mean[i]), float(variance_cap[i])
                what = f"lgd_sd={parsed.show(i)} with lgd={numbers['lgd'].show(i)}"
                rule = f"is impossible for a Beta LGD: needs lgd_sd² < lgd·(1−lgd) = {cap:.4g}"
                if cap == 0.0:
                    fix = f"an LGD of exactly {_fmt(m)} cannot vary: write lgd_sd=0"
                elif 1.0 < sd[i] <= 100.0:
                    fix = _fraction_fix(parsed.show(i), float(sd[i]), "")
                else:
                    fix = f"use lgd_sd below {math.sqrt(cap):.4g}, or 0 for a fixed LGD"
                return what, rule, fix

            problems.cells(impossible, "lgd_sd", describe)
    if (got := finite("asset_correlation")) is not None:
        parsed, r, ok = got
        problems.cells(
            ok & ~((r >= 0.0) & (r < 1.0)),
            "asset_correlation",
            lambda i: (
                f"asset_correlation={parsed.show(i)}",
                "is outside [0, 1)",
                "R = 1 is not allowed: write a fraction below 1, e.g. 0.99 (for 1 % write 0.01), "
                "or leave it blank for the Basel formula"
                if r[i] == 1.0
                else _fraction_fix(
                    parsed.show(i),
                    float(r[i]),
                    "write R as a fraction below 1, e.g. 0.24, or leave it blank for the "
                    "Basel formula",
                ),
            ),
        )
    for label in (*_MONEY_COLUMNS, "payment_terms_days"):
        if (got := finite(label)) is None:
            continue
        parsed, v, ok = got
        unit = "days" if label == "payment_terms_days" else "an amount in book currency"
        problems.cells(ok & ((v < 0) | np.isinf(v)), label, _negative(label, parsed, unit))
    for label, low, high, meaning in (
        ("delay_mean_days", -365.0, 730.0, "the mean payment delay in days after the due date "
         "(negative: paid early)"),
        ("delay_sd_days", 0.0, 365.0, "the sd of the customer's delay propensity in days"),
        ("delay_noise_days", 0.0, 365.0, "the sd of the per-invoice delay noise in days"),
    ):
        if (got := finite(label)) is None:
            continue
        parsed, v, ok = got
        problems.cells(ok & ~((v >= low) & (v <= high)), label,
                       _delay_outside(label, parsed, low, high, meaning))


def _close(value: str, known: Sequence[str]) -> str | None:
    lowered = {k.lower(): k for k in known}
    if value.lower() in lowered:
        return lowered[value.lower()]
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _listing(known: Iterable[str], limit: int = 20) -> str:
    items = [str(k) for k in known]
    text = ", ".join(items[:limit])
    return text + (f", … ({len(items)} in all)" if len(items) > limit else "")


def _frame_sha256(df: pd.DataFrame) -> str:
    canonical = df.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
