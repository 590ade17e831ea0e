"""The features at t use the data available at t only: deleting or changing anything dated
after t (invoices issued, payments made, statements available, signals and defaults dated
after t) leaves every feature at t unchanged, on the shipped example credit files."""

from __future__ import annotations

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


def _after(t: pd.Timestamp, data: CreditFiles, mode: str, seed: int) -> CreditFiles:
    """``data`` with what is dated after ``t`` deleted or scrambled."""
    rng = np.random.default_rng(seed)
    h = data.history.copy()
    later = (h["paid_date"] > t).to_numpy()
    # a payment after t: moved to another date after t, paid in part or in full
    shift = pd.to_timedelta(rng.integers(1, 200, later.sum()), unit="D")
    h.loc[later, "paid_date"] = t + shift
    h.loc[later, "paid_amount"] = h.loc[later, "amount"] * rng.uniform(0, 1, later.sum())
    issued = (h["issue_date"] > t).to_numpy()
    st, sig, d = data.statements.copy(), data.signals.copy(), data.defaults.copy()
    st_later = (st["available_date"] > t).to_numpy()
    sig_later = (sig["date"] > t).to_numpy()
    d_later = (d["default_date"] > t).to_numpy()
    if mode == "delete":
        h, st, sig, d = h[~issued], st[~st_later], sig[~sig_later], d[~d_later]
    else:
        h.loc[issued, "amount"] *= rng.uniform(0.1, 10.0, issued.sum())
        h.loc[issued, "disputed"] = ~h.loc[issued, "disputed"]
        for column in ("total_assets", "total_liabilities", "ebit", "current_assets"):
            st.loc[st_later, column] *= rng.uniform(0.1, 3.0, st_later.sum())
        # a late-published statement may even restate an old period
        st.loc[st_later, "period_end"] -= pd.Timedelta(days=400)
        sig.loc[sig_later, "value"] = rng.integers(1, 11, sig_later.sum()).astype(float)
        sig.loc[sig_later, "kind"] = "lawsuit"
        d.loc[d_later, "default_date"] = t + pd.Timedelta(days=1)
        # and data that did not exist: a new invoice issued and defaults after t
        extra = h.iloc[:1].assign(issue_date=t + pd.Timedelta(days=1),
                                  due_date=t + pd.Timedelta(days=2), paid_date=pd.NaT)
        h = pd.concat([h, extra], ignore_index=True)
    return replace(data, history=h, statements=st, signals=sig, defaults=d)


@pytest.mark.parametrize("mode", ["delete", "change"])
@pytest.mark.parametrize("as_of", DATES)
def test_data_dated_after_t_does_not_change_any_feature_at_t(
    files: CreditFiles, as_of: str, mode: str
) -> None:
    t = pd.Timestamp(as_of)
    before = features_as_of(files, as_of)
    altered = _after(t, files, mode, seed=DATES.index(as_of))
    # the alteration touches data the features could see if they looked ahead
    assert not altered.history.equals(files.history)
    pd.testing.assert_frame_equal(features_as_of(altered, as_of), before)


def test_the_sweep_can_fail_data_dated_at_t_matters(files: CreditFiles) -> None:
    # the same scrambling from the day before t does change the features at t
    t = pd.Timestamp("2026-01-31")
    altered = _after(t - pd.Timedelta(days=31), files, "change", seed=0)
    assert not features_as_of(altered, t).equals(features_as_of(files, t))
