"""Currencies of an input table: the ``currency`` column of the customers and invoices
tables, read against the book currency and the FX rates to it (units of book currency per
unit of the other currency, at the as-of date); amounts are converted into the book currency
as they are read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portsim.data.cells import FloatArray, ObjectArray, show
from portsim.data.problems import TableProblems
from portsim.errors import Problem

__all__ = ["Currencies", "currency_rates"]


@dataclass(frozen=True)
class Currencies:
    """The book currency and the FX rates into it (``[book] currency`` and ``[book.fx_rates]``).

    Parameters
    ----------
    book : str
        The book currency, e.g. ``"EUR"``: the currency of every amount after reading.
    rates : mapping of str to float
        Units of book currency per unit of each other currency, e.g. ``{"USD": 0.92}`` in a
        EUR book (1 USD = 0.92 EUR): an amount of 100 USD is read as 92 EUR.
    """

    book: str = "EUR"
    rates: Mapping[str, float] = field(default_factory=dict)


def currency_rates(
    problems: TableProblems, cells: ObjectArray, currencies: Currencies
) -> tuple[ObjectArray, FloatArray]:
    """The currency code of each row and its FX rate into the book currency.

    Parameters
    ----------
    problems : TableProblems
        Gets one problem per currency without a rate, naming it and its rows.
    cells : ndarray of str (object), shape (n,)
        The ``currency`` cells as text; blank means the book currency; case is ignored.
    currencies : Currencies
        The book currency and the rates.

    Returns
    -------
    codes : ndarray of str (object), shape (n,)
        Upper-case codes, the book currency where blank.
    rates : ndarray of float64, shape (n,)
        Book currency per unit of the row's currency (1 for the book currency; NaN where
        unknown).
    """
    codes = pd.Series(cells, dtype=object).astype(str).str.strip().str.upper()
    codes = codes.where(codes != "", currencies.book)
    table = {currencies.book: 1.0, **{str(k): float(v) for k, v in currencies.rates.items()}}
    rates = codes.map(table).to_numpy(dtype=np.float64, na_value=np.nan)
    code_array = codes.to_numpy(dtype=object)
    given = (f"rates given: {', '.join(sorted(currencies.rates))}" if currencies.rates
             else "none is given")
    missing = np.flatnonzero(np.isnan(rates))
    for code in dict.fromkeys(code_array[missing]):  # one problem per currency, in file order
        index = missing[code_array[missing] == code]
        rows = problems.rows[index]
        where = problems.where(int(index[0])) if index.size == 1 else (
            f"{problems.name} rows " + ", ".join(str(r) for r in rows[:10])
            + (", …" if rows.size > 10 else ""))
        problems.at(int(rows[0]), "currency", Problem(
            where, f"currency={show(str(code))}",
            f"has no FX rate into the book currency {currencies.book}",
            f"add {code} = <{currencies.book} per 1 {code}> to [book.fx_rates] ({given})"))
    return code_array, rates
