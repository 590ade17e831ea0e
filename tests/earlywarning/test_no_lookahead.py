"""The features at t use the data available at t only: deleting or changing anything dated
after t (invoices issued, payments made, statements available, signals and defaults dated
after t) leaves every feature at t unchanged, on the shipped example credit files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portsim.data import read_book
from portsim.earlywarning import CreditFiles, features_as_of, read_credit_files

ROOT = Path(__file__).resolve().parents[2]
DATES = ("2024-09-30", "2025-06-15", "2026-01-31", "2026-11-30")


@pytest.fixture(scope="module")
def files() -> CreditFiles:
    configs = ROOT / "configs"
    book = read_book(configs / "example_book.csv")
    return read_credit_files(book, history=configs / "example_credit_history.csv",
                             statements=configs / "example_statements.csv",
                             signals=configs / "example_signals.csv",
                             defaults=configs / "example_defaults.csv")


def _history(h: pd.DataFrame, t: pd.Timestamp, mode: str,
             rng: np.random.Generator) -> pd.DataFrame:
    h = h.copy()
    later = (h["paid_date"] > t).to_numpy()
    # a payment after t: moved to another date after t, paid in part or in full
    h.loc[later, "paid_date"] = t + pd.to_timedelta(rng.integers(1, 200, later.sum()), unit="D")
    h.loc[later, "paid_amount"] = h.loc[later, "amount"] * rng.uniform(0, 1, later.sum())
    issued = (h["issue_date"] > t).to_numpy()
    if mode == "delete":
        return h[~issued]
    h.loc[issued, "amount"] *= rng.uniform(0.1, 10.0, issued.sum())
    h.loc[issued, "disputed"] = ~h.loc[issued, "disputed"]
    # and an invoice that did not exist
    extra = h.iloc[:1].assign(invoice_id="NEW", issue_date=t + pd.Timedelta(days=1),
                              due_date=t + pd.Timedelta(days=2), paid_date=pd.NaT)
    return pd.concat([h, extra], ignore_index=True)


def _drop_or_change(frame: pd.DataFrame, later: np.ndarray, mode: str,
                    change: Callable[[pd.DataFrame], None]) -> pd.DataFrame:
    if mode == "delete":
        return frame[~later]
    frame = frame.copy()
    change(frame)
    return frame


def _statements(st: pd.DataFrame, t: pd.Timestamp, mode: str,
                rng: np.random.Generator) -> pd.DataFrame:
    later = (st["available_date"] > t).to_numpy()

    def change(st: pd.DataFrame) -> None:
        for column in ("total_assets", "total_liabilities", "ebit", "current_assets"):
            st.loc[later, column] *= rng.uniform(0.1, 3.0, later.sum())
        # a late-published statement may even restate an old period
        st.loc[later, "period_end"] -= pd.Timedelta(days=400)

    return _drop_or_change(st, later, mode, change)


def _signals(sig: pd.DataFrame, t: pd.Timestamp, mode: str,
             rng: np.random.Generator) -> pd.DataFrame:
    later = (sig["date"] > t).to_numpy()

    def change(sig: pd.DataFrame) -> None:
        sig.loc[later, "value"] = rng.integers(1, 11, later.sum()).astype(float)
        sig.loc[later, "kind"] = rng.choice(["grade", "lawsuit"], later.sum())

    return _drop_or_change(sig, later, mode, change)


def _defaults(d: pd.DataFrame, t: pd.Timestamp, mode: str,
              rng: np.random.Generator) -> pd.DataFrame:
    later = (d["default_date"] > t).to_numpy()

    def change(d: pd.DataFrame) -> None:
        d.loc[later, "default_date"] = t + pd.Timedelta(days=1)

    return _drop_or_change(d, later, mode, change)


ALTER = {"history": _history, "statements": _statements, "signals": _signals,
         "defaults": _defaults}


def _after(t: pd.Timestamp, data: CreditFiles, mode: str, table: str, seed: int) -> CreditFiles:
    """``data`` with what ``table`` dates after ``t`` deleted or changed."""
    frame = getattr(data, table)
    return replace(data, **{table: ALTER[table](frame, t, mode, np.random.default_rng(seed))})


@pytest.mark.parametrize("table", list(ALTER))
@pytest.mark.parametrize("mode", ["delete", "change"])
@pytest.mark.parametrize("as_of", DATES)
def test_data_dated_after_t_does_not_change_any_feature_at_t(
    files: CreditFiles, as_of: str, mode: str, table: str
) -> None:
    t = pd.Timestamp(as_of)
    before = features_as_of(files, as_of)
    altered = _after(t, files, mode, table, seed=DATES.index(as_of))
    # the alteration touches data the features could see if they looked ahead
    assert not getattr(altered, table).equals(getattr(files, table))
    pd.testing.assert_frame_equal(features_as_of(altered, as_of), before)


@pytest.mark.parametrize("table", list(ALTER))
def test_the_sweep_can_fail_data_dated_before_t_matters(files: CreditFiles, table: str) -> None:
    # the same changes from a month before t do change the features at t
    t = pd.Timestamp("2026-01-31")
    altered = _after(t - pd.Timedelta(days=31), files, "change", table, seed=0)
    assert not features_as_of(altered, t).equals(features_as_of(files, t))
