"""The supplier table: reader, validation and the :class:`SupplierTable` container.

One row per supplier (columns in :data:`SUPPLIER_COLUMNS`). It is read and checked like the
customers table (:mod:`portsim.data.book`): every cell parsed, every problem collected and
raised as one :class:`~portsim.errors.BookError`, each as::

    suppliers.csv row 3 (S002): dependent_sales_share=40 is outside [0, 1]; for 40 % write 0.4

Rows are counted with the header as row 1. Amounts are in the book currency.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from portsim.config import TableDialect
from portsim.data.book_rules import (
    SEPARATOR_FIX,
    _negative,
    _outside_unit,
    check_not_numbers,
    check_text,
    resolve_pd,
)
from portsim.data.cells import FloatArray, Numbers, ObjectArray, fmt
from portsim.data.problems import TableProblems, fixed
from portsim.data.readers import read_table_file
from portsim.data.table import (
    ColumnGuesser,
    Columns,
    check_duplicates,
    data_rows,
    duplicate_columns,
    header_labels,
    missing_columns,
    parse_columns,
)
from portsim.errors import Problem

__all__ = ["SUPPLIER_COLUMNS", "SUPPLIER_RULES", "SupplierTable", "read_suppliers"]

#: Every column a supplier table may have.
SUPPLIER_COLUMNS: Final = (
    "supplier_id",
    "name",
    "sector",
    "country",
    "p_default",
    "rating",
    "asset_correlation",
    "prepayment",
    "monthly_purchases",
    "replacement_months",
    "dependent_sales_share",
    "replacement_premium",
)
_TEXT: Final = ("supplier_id", "name", "sector", "country", "rating")
_NUMERIC: Final = tuple(c for c in SUPPLIER_COLUMNS if c not in _TEXT)
#: Values of blank optional cells.
_DEFAULTS: Final = {"prepayment": 0.0, "dependent_sales_share": 0.0, "replacement_premium": 0.0}
#: Longest replacement, months (five years: beyond any horizon).
MAX_REPLACEMENT_MONTHS: Final = 60.0
#: Largest cost premium of a replacement, as a fraction of the purchases (10 = 1,000 %).
MAX_PREMIUM: Final = 10.0

SUPPLIER_RULES: Final = Columns(
    known=SUPPLIER_COLUMNS,
    required=("supplier_id", "sector", "country", "monthly_purchases", "replacement_months"),
    aliases={
        "supplier_id": ("id", "supplier", "supplier_no", "vendor", "vendor_id", "creditor"),
        "p_default": ("pd", "probability_of_default", "default_probability"),
        "sector": ("industry",),
        "country": ("country_code", "iso_country"),
        "rating": ("grade",),
        "asset_correlation": ("correlation",),
        "prepayment": ("prepayments", "deposit", "deposits", "advance", "advances"),
        "monthly_purchases": ("purchases", "monthly_spend", "spend"),
        "replacement_months": ("replacement", "months_to_replace", "replacement_time"),
        "dependent_sales_share": ("dependent_share", "sales_share", "dependency"),
        "replacement_premium": ("premium", "cost_premium"),
    },
    description={
        "supplier_id": "a unique text id per supplier, e.g. S001",
        "sector": "the supplier's sector (a sector of the book's factor model)",
        "country": "an ISO-like country code, e.g. DE",
        "monthly_purchases": "the purchases from the supplier per month in book currency",
        "replacement_months": "the months needed to replace the supplier, e.g. 3",
    },
    separator_fix=SEPARATOR_FIX,
    row_noun="supplier",
)


@dataclass(frozen=True, eq=False)
class SupplierTable:
    """A validated supplier table, one array per column, shape ``(n_suppliers,)`` each.

    Parameters
    ----------
    supplier_id, name, sector, country : ndarray of str (object)
        Unique ids, display names (the id where blank), sector and country of each supplier.
    p_default : ndarray of float64
        1-year probability of default: ``p_default`` where given, else the ``rating`` in
        ``[book.ratings]``.
    asset_correlation : ndarray of float64
        Asset correlation R in [0, 1); NaN where blank (the model's rule, as for customers).
    prepayment : ndarray of float64
        Prepayments and deposits outstanding with the supplier (lost at its default), book
        currency, ≥ 0.
    monthly_purchases : ndarray of float64
        Purchases from the supplier per month, book currency, ≥ 0.
    replacement_months : ndarray of float64
        Months from the supplier's default until a replacement delivers, in [0, 60].
    dependent_sales_share : ndarray of float64
        Fraction of the company's sales that cannot be made while the supply is interrupted,
        in [0, 1].
    rating : ndarray of str (object), or None
        Rating grades as given ("" where blank); None without a ``rating`` column (scenario
        rating multipliers then leave the suppliers alone).
    replacement_premium : ndarray of float64
        Extra cost of buying the supplier's goods elsewhere during the replacement, as a
        fraction of the monthly purchases (0.15: 15 % dearer), in [0, 10].
    row : ndarray of int64
        Each supplier's row in the file (the header is row 1), for messages.
    source, sha256 : str
        The file read and the SHA-256 of its bytes.
    """

    supplier_id: ObjectArray
    name: ObjectArray
    sector: ObjectArray
    country: ObjectArray
    p_default: FloatArray
    asset_correlation: FloatArray
    prepayment: FloatArray
    monthly_purchases: FloatArray
    replacement_months: FloatArray
    dependent_sales_share: FloatArray
    replacement_premium: FloatArray
    rating: ObjectArray | None
    row: np.ndarray
    source: str
    sha256: str

    @property
    def n_suppliers(self) -> int:
        """Number of suppliers (rows)."""
        return int(self.supplier_id.shape[0])


def read_suppliers(
    path: str | os.PathLike[str],
    *,
    ratings: Mapping[str, float] | None = None,
    sectors: Sequence[str] | None = None,
    dialect: TableDialect | None = None,
) -> SupplierTable:
    """Read and validate a supplier table from ``.csv``, ``.parquet`` or ``.xlsx``.

    Parameters
    ----------
    path : str or path-like
        The supplier file.
    ratings : mapping of str to float, optional
        Rating grade → 1-year PD (``[book.ratings]``), for rows whose ``p_default`` is blank.
    sectors : sequence of str, optional
        Allowed sectors (``[book] sectors``).
    dialect : TableDialect, optional
        CSV keys (unset: detected).

    Returns
    -------
    SupplierTable

    Raises
    ------
    BookError
        Listing every problem, each as ``file row N (supplier_id): column=value rule; fix``.
    """
    name = Path(path).name
    title = f"invalid supplier table {os.fspath(path)}"
    empty = Problem(name, "file", "is empty",
                    "write a header row with supplier_id, sector, country, p_default or "
                    "rating, monthly_purchases and replacement_months, then one row per supplier")
    data, df, found = read_table_file(
        path, title=title, empty=empty, dir_fix="give the path of the supplier table",
        type_fix="save the supplier table as .csv, .parquet or .xlsx", dialect=dialect,
        where="[suppliers]")
    problems = TableProblems(name, title, SUPPLIER_RULES.order,
                             () if found is None else found.assumed)
    labels, has = header_labels(df, problems, SUPPLIER_RULES, empty)
    duplicate_columns(problems, labels, has, SUPPLIER_RULES.known)
    missing_columns(problems, labels, has, SUPPLIER_RULES,
                    ColumnGuesser(labels, SUPPLIER_RULES.known, SUPPLIER_RULES.aliases))
    if "p_default" not in has and "rating" not in has:
        problems.header("p_default", "columns p_default and rating", "are both missing",
                        "add p_default (1-year PD as a fraction, e.g. 0.02) or rating (a grade "
                        "from [book.ratings])")
    text, numbers, blank_rows = parse_columns(df, labels, has, _TEXT, _NUMERIC,
                                              None if found is None else found.numbers)
    keep = data_rows(blank_rows, len(df), problems, SUPPLIER_RULES)
    n = keep.size
    text = {k: v[keep] for k, v in text.items()}
    numbers = {k: v.take(keep) for k, v in numbers.items()}
    ids = text.get("supplier_id", np.full(n, "", dtype=object))
    problems.rows, problems.ids = (keep + 2).astype(np.int64), ids

    problems.cells(ids == "", "supplier_id",
                   lambda i: ("supplier_id", "is blank", "give every supplier a unique id"))
    check_duplicates(problems, ids, "supplier_id",
                     "ids must be unique: merge the rows into one or give each its own id")
    check_text(problems, text, sectors, SUPPLIER_RULES.description)
    check_not_numbers(problems, numbers)
    p_default = resolve_pd(problems, numbers, text, ratings)
    _check_values(problems, numbers)
    problems.raise_if_any()

    def column(label: str, default: float) -> FloatArray:
        values = (numbers[label].values.copy() if label in numbers
                  else np.full(n, np.nan))
        values[np.isnan(values)] = default
        return values

    names = text.get("name", ids).copy()
    names[names == ""] = ids[names == ""]
    return SupplierTable(
        supplier_id=ids, name=names, sector=text["sector"], country=text["country"],
        p_default=p_default, asset_correlation=column("asset_correlation", np.nan),
        prepayment=column("prepayment", _DEFAULTS["prepayment"]),
        monthly_purchases=column("monthly_purchases", np.nan),
        replacement_months=column("replacement_months", np.nan),
        dependent_sales_share=column("dependent_sales_share",
                                     _DEFAULTS["dependent_sales_share"]),
        replacement_premium=column("replacement_premium", _DEFAULTS["replacement_premium"]),
        rating=text.get("rating"), row=problems.rows, source=os.fspath(path),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _outside(label: str, parsed: Numbers, high: float,
             meaning: str) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        return f"{label}={parsed.show(i)}", f"is outside [0, {fmt(high)}]", f"give {meaning}"

    return describe


def _check_values(problems: TableProblems, numbers: dict[str, Numbers]) -> None:
    """Range of every numeric cell; a blank required cell is a problem."""
    for label in ("monthly_purchases", "replacement_months"):
        if label in numbers:
            problems.cells(numbers[label].blank, label, fixed(
                label, "is blank", f"give {SUPPLIER_RULES.description[label]}"))
    for label in ("p_default", "dependent_sales_share"):
        if label in numbers:
            v = numbers[label].values
            problems.cells(~np.isnan(v) & ~((v >= 0.0) & (v <= 1.0)), label,
                           _outside_unit(label, numbers[label]))
    if "asset_correlation" in numbers:
        parsed = numbers["asset_correlation"]
        r = parsed.values
        problems.cells(~np.isnan(r) & ~((r >= 0.0) & (r < 1.0)), "asset_correlation",
                       lambda i: (f"asset_correlation={parsed.show(i)}", "is outside [0, 1)",
                                  "write R as a fraction below 1, e.g. 0.24, or leave it blank"))
    for label in ("prepayment", "monthly_purchases"):
        if label in numbers:
            v = numbers[label].values
            problems.cells(~np.isnan(v) & ((v < 0) | np.isinf(v)), label,
                           _negative(label, numbers[label], "an amount in book currency"))
    for label, high, meaning in (
        ("replacement_months", MAX_REPLACEMENT_MONTHS, "the months until a replacement "
         "delivers, e.g. 3"),
        ("replacement_premium", MAX_PREMIUM, "the replacement's extra cost as a fraction of "
         "the purchases, e.g. 0.15 for 15 %"),
    ):
        if label not in numbers:
            continue
        parsed = numbers[label]
        v = parsed.values
        problems.cells(~np.isnan(v) & ~((v >= 0.0) & (v <= high)), label,
                       _outside(label, parsed, high, meaning))
