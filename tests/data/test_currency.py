"""Currency columns of the customers and invoices tables, converted into the book currency
with the FX rates on input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portsim.data import BookWarning, Currencies, book_from_frame, invoices_from_frame, read_book
from portsim.errors import BookError

CURRENCIES = Currencies("EUR", {"USD": 0.92, "GBP": 1.15})
FRAME = pd.DataFrame({
    "customer_id": ["U1", "G1", "E1", "E2"],
    "sector": "retail",
    "country": "DE",
    "exposure": [1000.0, 200.0, 300.0, 400.0],
    "p_default": 0.01,
    "lgd": 0.5,
    "credit_limit": [2000.0, np.nan, 1000.0, 1000.0],
    "insured_limit": [500.0, 100.0, np.nan, np.nan],
    "annual_sales": [12000.0, 2400.0, 3600.0, 0.0],
    "currency": ["USD", "gbp", "", "EUR"],
})


def test_amounts_are_converted_into_the_book_currency_by_hand() -> None:
    """1 USD = 0.92 EUR and 1 GBP = 1.15 EUR: 1 000 USD is 920 EUR, 200 GBP is 230 EUR; a
    blank currency is the book currency."""
    book = book_from_frame(FRAME, currencies=CURRENCIES)
    assert list(book.currency) == ["USD", "GBP", "EUR", "EUR"]  # type: ignore[arg-type]
    np.testing.assert_allclose(book.exposure, [920.0, 230.0, 300.0, 400.0], rtol=1e-15)
    np.testing.assert_allclose(book.credit_limit, [1840.0, np.nan, 1000.0, 1000.0], rtol=1e-15)
    np.testing.assert_allclose(book.insured_limit, [460.0, 115.0, np.nan, np.nan], rtol=1e-15)
    np.testing.assert_allclose(book.annual_sales, [11040.0, 2760.0, 3600.0, 0.0], rtol=1e-15)
    np.testing.assert_array_equal(book.p_default, 0.01)  # not an amount
    sub = book.subset([1, 0])
    assert list(sub.currency) == ["GBP", "USD"]  # type: ignore[arg-type]


def test_invoices_are_converted_per_invoice() -> None:
    book = book_from_frame(FRAME, currencies=CURRENCIES)
    invoices = pd.DataFrame({
        "invoice_id": ["I1", "I2", "I3"], "customer_id": ["U1", "G1", "E1"],
        "amount": [1000.0, 200.0, 300.0], "issue_date": "2026-12-01",
        "due_date": "2027-01-30", "currency": ["USD", "GBP", ""],
    })
    with pytest.warns(BookWarning, match="differ from their book exposure"):
        # E2 has an exposure but no invoice
        table = invoices_from_frame(invoices, book, as_of="2026-12-31", currencies=CURRENCIES)
    np.testing.assert_allclose(table["amount"], [920.0, 230.0, 300.0], rtol=1e-15)
    assert table["currency"].tolist() == ["USD", "GBP", "EUR"]


def test_a_missing_rate_names_the_currency_and_its_rows() -> None:
    frame = FRAME.assign(currency=["USD", "JPY", "CHF", "JPY"])
    with pytest.raises(BookError) as info:
        book_from_frame(frame, currencies=CURRENCIES, source="book.csv")
    assert [str(p) for p in info.value.problems] == [
        "book.csv rows 3, 5: currency=JPY has no FX rate into the book currency EUR; add JPY = "
        "<EUR per 1 JPY> to [book.fx_rates] (rates given: GBP, USD)",
        "book.csv row 4 (E1): currency=CHF has no FX rate into the book currency EUR; add CHF = "
        "<EUR per 1 CHF> to [book.fx_rates] (rates given: GBP, USD)",
    ]


def test_without_rates_a_foreign_currency_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(BookError, match=r"currency=USD has no FX rate .* \(none is given\)"):
        read_book(path)


def test_a_book_currency_column_changes_nothing() -> None:
    plain = book_from_frame(FRAME.drop(columns="currency"))
    same = book_from_frame(FRAME.assign(currency="EUR"))
    assert plain.currency is None
    for column in ("exposure", "credit_limit", "insured_limit", "annual_sales"):
        np.testing.assert_array_equal(getattr(same, column), getattr(plain, column))
