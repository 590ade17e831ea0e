"""Fuzzing the readers of the book, the open invoices and the payment history: tables with
random bad cells, written with random delimiters, number formats and encodings, read with
random dialect keys, sometimes with bytes corrupted, never raise anything but the project's
input error (or read fine)."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portsim.config import TableDialect
from portsim.data import Book, Currencies, book_from_frame, read_book, read_history, read_invoices
from portsim.errors import InputError

CURRENCIES = Currencies("EUR", {"USD": 0.92})
BOOK_HEADER = ("customer_id", "name", "sector", "country", "exposure", "p_default", "lgd",
               "annual_sales", "currency")
INVOICE_HEADER = ("invoice_id", "customer_id", "amount", "issue_date", "due_date", "currency")
HISTORY_HEADER = (*INVOICE_HEADER[:5], "paid_date", "currency")

#: Cells a real export holds, good and bad: numbers in every convention, blanks, spreadsheet
#: errors, dates in several spellings, currencies with and without a rate, separators, quotes.
CELLS = st.one_of(
    st.sampled_from([
        "", " ", "nan", "N/A", "0", "1", "-1", "0,02", "0.02", "1.234,56", "1,234.56",
        "1.234.567,89", "1 234,5", "1'234.5", "12,5 %", "€ 100", "#REF!", "1e400", "-inf",
        "C000", "C001", "USD", "usd", "JPY", "EUR", "2026-12-01", "2027-01-30", "31.12.2026",
        "01/02/2026", "retail", "DE", "Müller; Söhne", 'say "hi"', "a,b", "x\ty", "a|b",
        "\u00a0", "ß€™", "\ufeff",
    ]),
    st.text(max_size=8),
)
DELIMITERS = st.sampled_from([",", ";", "\t", "|"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
KEYS = st.builds(
    TableDialect,
    delimiter=st.one_of(st.none(), DELIMITERS),
    decimal=st.sampled_from([None, "."]) | st.just(","),
    thousands=st.sampled_from([None, "", ".", " ", "'"]),
    encoding=st.one_of(st.none(), ENCODINGS),
).filter(lambda k: k.decimal is None or (k.decimal != k.thousands and k.decimal != k.delimiter))


@st.composite
def table_file(draw: st.DrawFn, header: tuple[str, ...]) -> bytes:
    """The bytes of a table: some header labels dropped or garbled, 0 to 6 rows of random
    cells, a random delimiter, quoting and encoding, and sometimes a few bytes replaced."""
    labels = [draw(st.sampled_from([label, label, label, label.upper(), "", label + ";x"]))
              for label in header]
    rows = draw(st.lists(st.lists(CELLS, min_size=len(labels) - 1, max_size=len(labels) + 1),
                         max_size=6))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=draw(DELIMITERS), lineterminator="\n",
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(labels)
    writer.writerows(rows)
    data = buffer.getvalue().encode(draw(ENCODINGS), errors="replace")
    for _ in range(draw(st.integers(0, 2))):
        if data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + draw(st.binary(min_size=1, max_size=2)) + data[at + 1:]
    return data


def good_book() -> Book:
    return book_from_frame(pd.DataFrame({
        "customer_id": ["C000", "C001"], "sector": "retail", "country": "DE",
        "exposure": [100.0, 200.0], "p_default": 0.01, "lgd": 0.5,
        "currency": ["EUR", "USD"],
    }), currencies=CURRENCIES)


def only_input_errors(read: Callable[[], Any]) -> None:
    """``read()`` succeeds or raises an InputError; any other exception fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BookWarning and the like are fine here
        try:
            read()
        except InputError:
            pass


#: More examples than the profile's 20: a read takes milliseconds (about 3 s for the file).
FUZZ = settings(max_examples=60)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=table_file(BOOK_HEADER), keys=KEYS)
def test_book_reader(folder: Path, data: bytes, keys: TableDialect) -> None:
    path = folder / "book.csv"
    path.write_bytes(data)
    only_input_errors(lambda: read_book(path, dialect=keys, currencies=CURRENCIES))


@FUZZ
@given(data=table_file(INVOICE_HEADER), keys=KEYS)
def test_invoices_reader(folder: Path, data: bytes, keys: TableDialect) -> None:
    path = folder / "invoices.csv"
    path.write_bytes(data)
    book = good_book()
    only_input_errors(lambda: read_invoices(path, book, as_of="2026-12-31", dialect=keys,
                                            currencies=CURRENCIES))


@FUZZ
@given(data=table_file(HISTORY_HEADER) | st.binary(max_size=200), keys=KEYS)
def test_history_reader(folder: Path, data: bytes, keys: TableDialect) -> None:
    path = folder / "history.csv"
    path.write_bytes(data)
    book = good_book()
    only_input_errors(lambda: read_history(path, book, dialect=keys, currencies=CURRENCIES))
