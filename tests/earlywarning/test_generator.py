"""Tests of tools/make_credit_files.py: seeded, the shipped example files are its output and
valid, defaults come at the book's rates, and defaulting customers really deteriorate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from portsim.data import read_book
from portsim.earlywarning import CreditFiles, features_as_of, read_credit_files
from portsim.provisions.rollrates import roll_rates

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SHIPPED = {"history": "example_credit_history.csv", "statements": "example_statements.csv",
           "signals": "example_signals.csv", "defaults": "example_defaults.csv"}


@pytest.fixture(scope="module")
def book_frame() -> pd.DataFrame:
    return pd.read_csv(CONFIGS / "example_book.csv", dtype={"customer_id": str})


@pytest.fixture(scope="module")
def example(load_tool: Callable[[str], ModuleType], book_frame: pd.DataFrame) -> Any:
    return load_tool("make_credit_files").make_credit_files(book_frame)


@pytest.fixture(scope="module")
def files() -> CreditFiles:
    book = read_book(CONFIGS / "example_book.csv")
    return read_credit_files(book, **{k: CONFIGS / v for k, v in SHIPPED.items()})


def test_the_generator_is_seeded(load_tool: Callable[[str], ModuleType],
                                 book_frame: pd.DataFrame, example: Any) -> None:
    tool = load_tool("make_credit_files")
    again = tool.make_credit_files(book_frame)
    for name in SHIPPED:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(example, name))
    other = tool.make_credit_files(book_frame, seed=7)
    assert not other.history.equals(example.history)


def test_the_shipped_files_are_the_generators_output(
    load_tool: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    tool = load_tool("make_credit_files")
    assert tool.main(["--book", str(CONFIGS / "example_book.csv"), "--out", str(tmp_path)]) == 0
    for file in SHIPPED.values():
        assert (tmp_path / file).read_bytes() == (CONFIGS / file).read_bytes(), file


def test_the_shipped_files_are_valid_and_cover_three_years(files: CreditFiles) -> None:
    h = files.history
    months = h["issue_date"].dt.to_period("M")
    assert 24 <= months.nunique() <= 36
    assert h["customer_id"].isin(files.book.customer_id).all()
    assert (h["paid_amount"] < h["amount"]).any()  # partial or no payments
    assert h["disputed"].any()
    assert set(files.defaults["kind"]) <= {"insolvency", "protracted_default", "write_off"}
    assert files.statements["customer"].nunique() > 100


def test_defaults_come_at_the_books_rates(example: Any, book_frame: pd.DataFrame) -> None:
    drawn = book_frame.set_index("customer_id").loc[example.truth["customer_id"], "p_default"]
    years = 2.0  # defaults fall in the last 24 of the 36 months
    expected = float((1.0 - (1.0 - drawn.to_numpy()) ** years).sum())
    observed = len(example.defaults)
    # Poisson-binomial count: within 3 standard deviations of its mean
    assert abs(observed - expected) < 3.0 * np.sqrt(expected), (observed, expected)


def test_defaulted_customers_pay_later_in_the_six_months_before_default(
    files: CreditFiles
) -> None:
    h = files.history
    defaults = files.defaults.set_index("customer_id")["default_date"]
    d = h["customer_id"].map(defaults)
    defaulted = d.notna().to_numpy()
    # days beyond terms to the payment, or to the default while unpaid then (a lower bound)
    end = h["paid_date"].where(h["paid_date"] < d, d)
    before = defaulted & ((d - h["due_date"]).dt.days.between(0, 182)).to_numpy()
    late = (end - h["due_date"]).dt.days.clip(lower=0)[before]
    survivors = ~defaulted & h["paid_date"].notna().to_numpy()
    late_survivors = (h["paid_date"] - h["due_date"]).dt.days.clip(lower=0)[survivors]
    assert np.average(late, weights=h["amount"][before]) > np.average(
        late_survivors, weights=h["amount"][survivors]) + 20.0
    # their last invoices stay unpaid (or partly paid) for the roll rates' write-offs
    last = h[defaulted].groupby("customer_id").tail(1)
    assert (last["paid_amount"] < last["amount"]).mean() > 0.9


def test_the_features_warn_before_the_defaults(files: CreditFiles) -> None:
    # three months before each default against the survivors on the same date
    rows = []
    survivors = ~pd.Index(files.book.customer_id.astype(str)).isin(files.defaults["customer_id"])
    for cid, when in files.defaults[["customer_id", "default_date"]].itertuples(index=False):
        f = features_as_of(files, when - pd.Timedelta(days=91))
        rows.append((f.loc[cid], f[survivors].median()))
    ahead = pd.DataFrame([r[0] for r in rows]).reset_index(drop=True)
    typical = pd.DataFrame([r[1] for r in rows]).reset_index(drop=True)
    assert (ahead["payment_index_12m"] < typical["payment_index_12m"]).mean() > 0.7
    assert (ahead["order_change_6m"] < typical["order_change_6m"]).mean() > 0.7
    # among the defaulters with statements and grades (not every customer has them)
    for column in ("debt_ratio", "grade_latest"):
        known = ahead[column].notna()
        assert known.sum() >= 10
        assert (ahead[column] > typical[column])[known].mean() > 0.8
    known = ahead["altman_z_double_prime"].notna()
    assert (ahead["altman_z_double_prime"] < typical["altman_z_double_prime"])[known].mean() > 0.7
    assert (ahead["legal_events_12m"] > typical["legal_events_12m"]).mean() > 0.5


def test_the_ifrs9_roll_rates_see_the_defaulters_write_offs(files: CreditFiles) -> None:
    rates = roll_rates(files.history, date(2026, 12, 31))
    assert rates["written_off"].iloc[-1] > 0.0
    assert rates["loss_rate"].iloc[-1] > 0.5  # over 90 days past due: mostly lost
