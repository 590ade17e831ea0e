"""Tests of portsim.earlywarning.tables: the readers of the credit files and their messages
(file, row, id, value, rule, fix; every problem at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from portsim.data import Book, read_book
from portsim.earlywarning import (
    read_credit_files,
    read_defaults,
    read_payment_history,
    read_signals,
    read_statements,
)
from portsim.errors import BookError

ROOT = Path(__file__).resolve().parents[2]
STATEMENT_HEADER = ("customer_id,period_end,available_date,total_assets,current_assets,"
                    "current_liabilities,total_liabilities,equity,retained_earnings,ebit,sales")
HISTORY_HEADER = "invoice_id,customer_id,amount,issue_date,due_date,paid_date"


@pytest.fixture
def book(make_book: Any) -> Book:
    return make_book(customer_id=["C001", "C002", "C003"], p_default=0.01,
                     credit_limit=[1000.0, 500.0, np.nan])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _messages(info: pytest.ExceptionInfo[BookError]) -> list[str]:
    return [str(p) for p in info.value.problems]


def test_statements_are_read_sorted_with_their_dates(tmp_path: Path, book: Book) -> None:
    path = _write(tmp_path, "st.csv", STATEMENT_HEADER + ",market_equity\n"
                  "C002,2026-06-30,2026-09-15,1000,400,250,600,400,150,80,1200,\n"
                  "C001,2026-03-31,2026-05-20,2000,900,500,1200,800,300,160,2400,1500\n")
    st = read_statements(path, book)
    assert list(st["customer_id"]) == ["C001", "C002"]
    assert list(st["customer"]) == [0, 1]
    assert st["available_date"].iloc[1] == pd.Timestamp("2026-09-15")
    assert st["market_equity"].iloc[0] == 1500.0
    assert np.isnan(st["market_equity"].iloc[1])


def test_bad_statements_are_all_reported_with_row_id_value_rule_and_fix(
    tmp_path: Path, book: Book
) -> None:
    path = _write(tmp_path, "st.csv", STATEMENT_HEADER + "\n"
                  "C001,2026-06-30,2026-05-15,1000,400,250,600,400,150,80,1200\n"
                  "C009,2026-06-30,2026-08-15,1000,1400,250,600,400,150,80,1200\n"
                  "C002,30.06.2026,2026-08-15,-5,400,700,600,400,150,abc,1200\n"
                  "C001,2026-06-30,2026-08-01,1000,400,250,600,400,150,80,1200\n")
    with pytest.raises(BookError) as info:
        read_statements(path, book)
    got = _messages(info)
    expected = [
        "st.csv row 2 (C001): available_date=2026-05-15 is before period_end=2026-06-30; "
        "give the date the statement became available (after the period end)",
        "st.csv row 3 (C009): customer_id=C009 is not in the book; did you mean C003? "
        "otherwise add the customer to the book, or remove its rows",
        "st.csv row 3 (C009): current_assets=1400 exceeds total_assets=1000",
        "st.csv row 4 (C002): period_end=30.06.2026",
        "st.csv row 4 (C002): total_assets=-5 is negative",
        "st.csv row 4 (C002): current_liabilities=700 exceeds total_liabilities=600",
        "st.csv row 4 (C002): ebit=abc is not a number",
        "st.csv row 5 (C001): period_end=2026-06-30 is given twice for this customer",
    ]
    assert len(got) == len(expected)
    for line, start in zip(got, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_a_missing_statement_column_is_named_with_its_likely_label(
    tmp_path: Path, book: Book
) -> None:
    header = STATEMENT_HEADER.replace("sales", "revenue")
    path = _write(tmp_path, "st.csv", header + "\nC001,2026-06-30,2026-08-15,1,1,1,1,0,0,0,1\n")
    with pytest.raises(BookError, match="column sales is required but missing; did you mean "
                                        "'revenue'"):
        read_statements(path, book)


def test_signals_need_a_known_kind_and_a_grade_value(tmp_path: Path, book: Book) -> None:
    path = _write(tmp_path, "sig.csv", "customer_id,date,kind,value\n"
                  "C001,2026-01-10,grade,4\n"
                  "C002,2026-02-01,lawsiut,\n"
                  "C003,2026-02-03,grade,\n"
                  "C003,2026-02-04,Payment order,\n")
    with pytest.raises(BookError) as info:
        read_signals(path, book)
    assert _messages(info) == [
        "sig.csv row 3 (C002): kind=lawsiut is not a known kind; did you mean lawsuit?",
        "sig.csv row 4 (C003): value is blank for a grade; give the grade as a number on the "
        "provider's scale",
    ]
    path.write_text("customer_id,date,kind,value\nC003,2026-02-04,Payment order,\n"
                    "C001,2026-01-10,grade,4\n", encoding="utf-8")
    sig = read_signals(path, book)
    assert list(sig["kind"]) == ["grade", "payment_order"]  # sorted by date, kind normalised


def test_defaults_are_validated(tmp_path: Path, book: Book) -> None:
    path = _write(tmp_path, "def.csv", "customer_id,default_date,kind\n"
                  "C001,2026-03-01,insolvency\n,2026-04-01,bankrupt\nC002,,write_off\n")
    with pytest.raises(BookError) as info:
        read_defaults(path, book)
    got = _messages(info)
    assert got[0].startswith("def.csv row 3: customer_id is blank")
    assert got[1].startswith("def.csv row 3: kind=bankrupt is not a known kind; write one of "
                             "insolvency, protracted_default, write_off")
    assert got[2].startswith("def.csv row 4 (C002): default_date is blank")
    assert len(got) == 3


def test_an_existing_history_file_stays_valid(make_book: Any) -> None:
    book = read_book(ROOT / "configs" / "example_book.csv")
    history = read_payment_history(ROOT / "configs" / "example_history.csv", book)
    paid = history["paid_date"].notna()
    # a paid invoice was paid in full, an unpaid one not at all; nothing is disputed
    np.testing.assert_array_equal(history["paid_amount"][paid], history["amount"][paid])
    assert (history["paid_amount"][~paid] == 0).all()
    assert not history["disputed"].any()


def test_history_partial_payments_and_disputes(tmp_path: Path, book: Book) -> None:
    path = _write(tmp_path, "h.csv", HISTORY_HEADER + ",paid_amount,disputed\n"
                  "H1,C001,100,2026-01-01,2026-01-31,2026-02-10,40,yes\n"
                  "H2,C002,50,2026-01-05,2026-02-04,,,\n"
                  "H3,C002,70,2026-01-05,2026-02-04,2026-02-04,,no\n")
    h = read_payment_history(path, book)
    assert list(h["paid_amount"]) == [40.0, 0.0, 70.0]
    assert list(h["disputed"]) == [True, False, False]


def test_history_problems_of_core_and_new_columns_come_together(
    tmp_path: Path, book: Book
) -> None:
    path = _write(tmp_path, "h.csv", HISTORY_HEADER + ",paid_amount,disputed\n"
                  "H1,C001,100,2026-01-01,2026-01-31,2026-02-10,140,maybe\n"
                  "H2,C002,-50,2026-01-05,2026-02-04,,10,\n")
    with pytest.raises(BookError) as info:
        read_payment_history(path, book)
    got = _messages(info)
    assert got == [
        "h.csv row 3 (H2): amount=-50 is negative; a credit note: net it against the "
        "customer's invoices (open amounts are ≥ 0)",
        "h.csv row 2 (H1): paid_amount=140 exceeds amount=100; give at most the invoice "
        "amount (an overpayment is not a payment of it)",
        "h.csv row 2 (H1): disputed=maybe is not a yes/no flag; write yes or no (or "
        "true/false, 1/0; blank = no)",
        "h.csv row 3 (H2): paid_amount=10 is given but paid_date is blank; give the date of "
        "the payment, or blank paid_amount",
    ]


def test_read_credit_files_gives_empty_tables_for_files_not_given(book: Book) -> None:
    files = read_credit_files(book)
    for frame in (files.history, files.statements, files.signals, files.defaults):
        assert frame.empty
        assert "customer" in frame.columns


def test_a_missing_kind_column_is_one_problem(tmp_path: Path, book: Book) -> None:
    path = _write(tmp_path, "def.csv", "customer_id,default_date\nC001,2026-03-01\n")
    with pytest.raises(BookError) as info:
        read_defaults(path, book)
    assert len(info.value.problems) == 1
    assert "column kind is required but missing" in str(info.value.problems[0])


def test_read_credit_files_lists_the_problems_of_every_file(tmp_path: Path, book: Book) -> None:
    signals = _write(tmp_path, "sig.csv", "customer_id,date,kind,value\nC001,2026-01-10,rumour,\n")
    defaults = _write(tmp_path, "def.csv", "customer_id,default_date,kind\nC004,2026-03-01,"
                      "insolvency\n")
    with pytest.raises(BookError, match="invalid credit files") as info:
        read_credit_files(book, signals=signals, defaults=defaults)
    got = _messages(info)
    assert len(got) == 2
    assert got[0].startswith("sig.csv row 2 (C001): kind=rumour is not a known kind")
    assert got[1].startswith("def.csv row 2 (C004): customer_id=C004 is not in the book")
