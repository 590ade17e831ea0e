"""The ``[book]`` table: where the customers and invoices tables are, how their CSV files are
written (delimiter, decimal mark, thousands separator, encoding; auto-detected when unset),
the book currency and the FX rates that convert foreign-currency amounts into it."""

from __future__ import annotations

import codecs
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from portsim.config.base import Fraction, KeyedValueError, Strict

__all__ = ["DIALECT_KEYS", "BookConfig", "TableDialect", "without_unset"]

#: The keys of a CSV dialect, in the order they are documented.
DIALECT_KEYS = ("delimiter", "decimal", "thousands", "encoding")

_CURRENCY = re.compile(r"^[A-Z]{3}$")  # an FX rate's currency: ISO 4217
_LABEL = re.compile(r"^\S{1,12}$")  # the book currency: also "CU", "€"


class TableDialect(Strict):
    """How a CSV table is written; a key left unset is detected from the file.

    ``thousands = ""`` means no thousands separator. ``encoding`` is any Python codec name,
    e.g. ``"utf-8"``, ``"cp1252"`` (Windows-1252, Excel's "CSV" on Western Windows),
    ``"latin-1"``, ``"utf-16"``.
    """

    delimiter: Literal[",", ";", "\t", "|"] | None = Field(
        default=None, description="column separator (unset: detected from the header row)")
    decimal: Literal[".", ","] | None = Field(
        default=None, description="decimal mark of numbers (unset: detected from the cells)")
    thousands: Literal["", ".", ",", " ", "'"] | None = Field(
        default=None, description="thousands separator of numbers, '' for none (unset: '.' "
        "with a decimal comma, else none)")
    encoding: str | None = Field(
        default=None, description="text encoding (unset: UTF-8, or UTF-16 with its byte-order "
        "mark)")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"{v!r} is not a known text encoding; use e.g. 'utf-8', "
                             "'cp1252', 'latin-1' or 'utf-16'") from None
        return v

    def merged(self, fallback: TableDialect) -> TableDialect:
        """These keys, with ``fallback``'s where unset here."""
        return TableDialect(**{k: getattr(self, k) if getattr(self, k) is not None
                               else getattr(fallback, k) for k in DIALECT_KEYS})


def _check_marks(dialect: TableDialect, table: tuple[str, ...]) -> None:
    """A decimal mark that is also the thousands separator or the delimiter is an error
    (``table``: where the keys are, relative to ``[book]``)."""
    d = dialect
    if d.decimal is not None and d.decimal == d.thousands:
        raise KeyedValueError((*table, "thousands"), d.thousands, "is also the decimal mark",
                              "give different marks, e.g. decimal = ',' and thousands = '.'")
    if d.decimal is not None and d.decimal == d.delimiter:
        raise KeyedValueError((*table, "decimal"), d.decimal, "is also the column delimiter",
                              "a file with decimal commas separates columns by ';'")


class BookConfig(TableDialect):
    """Where the customers table is and how to read it.

    The CSV keys (:class:`TableDialect`) of ``[book]`` are the customers table's;
    ``[book.invoices_dialect]`` and ``[book.history_dialect]`` give those of the open
    invoices and of a payment history, each key falling back to ``[book]``'s.
    """

    path: str | None = Field(
        default=None, description="customers table (.csv, .parquet, .xlsx), relative to the config"
    )
    ratings: dict[str, Fraction] | None = Field(
        default=None, description="rating grade → 1-year probability of default"
    )
    sectors: list[str] | None = Field(
        default=None, description="allowed sectors; a book sector outside it is an error"
    )
    currency: str = Field(default="EUR", description="the book currency: every amount of a "
                          "run's results is in it")
    fx_rates: dict[str, Annotated[float, Field(gt=0.0, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="units of book currency per unit of each other "
        "currency at the as-of date, e.g. USD = 0.92 in a EUR book")
    invoices: str | None = Field(
        default=None, description="open invoices table at the as-of date (optional)"
    )
    invoices_dialect: TableDialect = Field(
        default_factory=TableDialect, description="CSV keys of the open invoices table")
    history_dialect: TableDialect = Field(
        default_factory=TableDialect, description="CSV keys of a payment history")

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, v: str) -> str:
        if not _LABEL.match(v):
            raise ValueError("must be a currency code or label without spaces, e.g. 'EUR' "
                             "(an ISO 4217 code when FX rates convert other currencies into it)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> BookConfig:
        for code in self.fx_rates:
            if not _CURRENCY.match(code):
                raise KeyedValueError(("fx_rates", code), self.fx_rates[code],
                                      "is not a three-letter ISO 4217 code in capitals",
                                      "write e.g. USD = 0.92")
        if self.currency in self.fx_rates:
            raise KeyedValueError(("fx_rates", self.currency), self.fx_rates[self.currency],
                                  "is the rate of the book currency itself",
                                  "remove it (the book currency's rate is 1)")
        for table in ("book", "invoices", "history"):
            _check_marks(self.dialect(table), () if table == "book" else (f"{table}_dialect",))
        return self

    def dialect(self, table: Literal["book", "invoices", "history"]) -> TableDialect:
        """The CSV keys of one table: ``"book"`` (customers), ``"invoices"`` or ``"history"``."""
        own = TableDialect(**{k: getattr(self, k) for k in DIALECT_KEYS})
        if table == "book":
            return own
        other = self.invoices_dialect if table == "invoices" else self.history_dialect
        return other.merged(own)


def without_unset(book: dict[str, Any]) -> dict[str, Any]:
    """A dumped ``[book]`` table without the CSV keys left unset (detected), empty dialect
    tables and an empty ``fx_rates``; it validates back to the same :class:`BookConfig`."""
    out = {k: v for k, v in book.items() if not (k in DIALECT_KEYS and v is None)}
    for table in ("invoices_dialect", "history_dialect"):
        keys = {k: v for k, v in out.get(table, {}).items() if v is not None}
        if keys:
            out[table] = keys
        else:
            out.pop(table, None)
    if not out.get("fx_rates"):
        out.pop("fx_rates", None)
    return out
