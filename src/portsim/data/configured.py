"""The input tables as a config names them: each reader given the config's ratings, sectors,
CSV keys of that table (``[book]``, ``[book.invoices_dialect]``, ``[book.history_dialect]``)
and currencies (``[book] currency`` and ``[book.fx_rates]``).

Every command that reads a table through a config reads it here, so a key of ``[book]``
reaches every reader alike.
"""

from __future__ import annotations

import os
from datetime import date

import pandas as pd

from portsim.config import RunConfig
from portsim.data.book import Book, read_book
from portsim.data.calibrate import read_history
from portsim.data.currency import Currencies
from portsim.data.invoices import read_invoices
from portsim.data.suppliers import SupplierTable, read_suppliers
from portsim.errors import ConfigError, Problem

__all__ = ["config_currencies", "load_book", "load_history", "load_open_invoices",
           "load_suppliers"]


def config_currencies(config: RunConfig) -> Currencies:
    """The book currency and FX rates of ``[book]``, for the readers."""
    return Currencies(config.book.currency, config.book.fx_rates)


def load_book(config: RunConfig, path: str | os.PathLike[str] | None = None) -> Book:
    """Read and validate the customers table: ``path``, else the config's ``[book] path``.

    Raises
    ------
    ConfigError
        When no path is given and the config names none.
    BookError
        For an invalid table (:func:`portsim.data.read_book`).
    """
    if path is None:
        if config.book.path is None:
            raise ConfigError([Problem("config [book]", "path", "is missing",
                                       'name the customers table, e.g. path = "book.csv"')])
        path = config.resolve(config.book.path)
    return read_book(path, ratings=config.book.ratings, sectors=config.book.sectors,
                     dialect=config.book.dialect("book"), currencies=config_currencies(config))


def load_open_invoices(config: RunConfig, book: Book, as_of: date) -> pd.DataFrame:
    """Read and validate the open invoices of ``[book] invoices`` (which must be set) at
    ``as_of`` (:func:`portsim.data.read_invoices`)."""
    if config.book.invoices is None:
        raise ValueError("the config names no invoices table")
    return read_invoices(config.resolve(config.book.invoices), book, as_of=as_of,
                         dialect=config.book.dialect("invoices"),
                         currencies=config_currencies(config))


def load_history(config: RunConfig, path: str | os.PathLike[str], book: Book, *,
                 as_of: date | None = None) -> pd.DataFrame:
    """Read and validate a payment history in the config's keys for it
    (:func:`portsim.data.read_history`)."""
    return read_history(path, book, as_of=as_of, dialect=config.book.dialect("history"),
                        currencies=config_currencies(config))


def load_suppliers(config: RunConfig) -> SupplierTable | None:
    """Read and validate the supplier table of ``[suppliers]`` (None without one), with the
    ratings and sectors of ``[book]`` and its CSV keys falling back to ``[book]``'s."""
    sup = config.suppliers
    if sup is None:
        return None
    return read_suppliers(config.resolve(sup.path), ratings=config.book.ratings,
                          sectors=config.book.sectors,
                          dialect=sup.merged(config.book.dialect("book")))
