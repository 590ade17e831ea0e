"""Tests of portsim.earlywarning.features: every feature hand-worked on a tiny credit file,
and the 12-month default outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from portsim.data import Book
from portsim.earlywarning import (
    FEATURE_COLUMNS,
    CreditFiles,
    default_within,
    features_as_of,
    read_credit_files,
)

AS_OF = "2026-06-30"


@pytest.fixture
def book(make_book: Any) -> Book:
    return make_book(customer_id=["C001", "C002", "C003"], p_default=0.01,
                     credit_limit=[1000.0, 500.0, np.nan])


@pytest.fixture
def files(tmp_path: Path, book: Book) -> CreditFiles:
    tables = {
        "history": (
            "invoice_id,customer_id,amount,issue_date,due_date,paid_date,disputed\n"
            "H0,C001,200,2025-10-01,2025-10-31,2025-10-31,\n"   # on time
            "H1,C001,100,2026-01-01,2026-01-31,2026-02-10,\n"   # 10 days late
            "H2,C001,300,2026-04-01,2026-05-01,,yes\n"          # 60 days past due at AS_OF
            "H3,C001,100,2026-06-01,2026-07-01,2026-07-05,\n"   # not due yet, paid later
            "H5,C002,50,2025-05-01,2025-05-31,2025-06-30,\n"),  # before the 12 months
        "statements": (
            "customer_id,period_end,available_date,total_assets,current_assets,"
            "current_liabilities,total_liabilities,equity,retained_earnings,ebit,sales\n"
            "C001,2025-12-31,2026-03-15,1000,400,250,600,400,150,80,1200\n"
            "C001,2026-03-31,2026-06-15,1000,300,300,700,300,100,40,1100\n"
            "C001,2026-06-30,2026-08-31,1000,100,500,900,100,0,-50,900\n"),  # not yet known
        "signals": (
            "customer_id,date,kind,value\n"
            "C001,2025-05-01,grade,3\nC001,2026-02-01,grade,5\nC001,2026-07-15,grade,9\n"
            "C001,2025-06-01,lien,\nC001,2026-01-10,lawsuit,\nC001,2026-08-01,lawsuit,\n"),
        "defaults": (
            "customer_id,default_date,kind\n"
            "C002,2026-06-30,insolvency\nC003,2027-06-30,write_off\n"
            "C001,2027-07-01,protracted_default\n"),
    }
    paths = {}
    for name, text in tables.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return read_credit_files(book, **paths)


def test_features_have_one_row_per_book_customer_and_the_documented_columns(
    files: CreditFiles
) -> None:
    f = features_as_of(files, AS_OF)
    assert list(f.index) == ["C001", "C002", "C003"]
    assert f.index.name == "customer_id"
    assert tuple(f.columns) == FEATURE_COLUMNS
    # C003 has no data but its counts
    counts = {"legal_events_12m", "past_defaults"}
    assert f.loc["C003", [c for c in FEATURE_COLUMNS if c not in counts]].isna().all()


def test_payment_features_by_hand(files: CreditFiles) -> None:
    c1 = features_as_of(files, AS_OF).loc["C001"]
    # due in the 12 months: H0 (0 days), H1 (10), H2 (60 so far); H3 not due yet
    assert c1["dbt_12m"] == pytest.approx((200 * 0 + 100 * 10 + 300 * 60) / 600)
    # due in the last 3 months: H2 (60); in the 3 before: H1 (10)
    assert c1["dbt_trend_3m"] == pytest.approx(60 - 10)
    # index 80 on time, 80 − 10/15·10 at 10 days, 40 at 60 days
    assert c1["payment_index_12m"] == pytest.approx(
        (200 * 80 + 100 * (80 - 10 * 10 / 15) + 300 * 40) / 600)
    assert c1["open_amount"] == 400.0  # H2 and H3 (H3's payment is after AS_OF)
    assert c1["past_due_30_share"] == pytest.approx(0.75)
    assert c1["past_due_60_share"] == 0.0  # exactly 60 days is not more than 60
    assert c1["disputed_share"] == pytest.approx(0.75)
    assert c1["limit_utilisation"] == pytest.approx(0.4)
    # issued 272, 180, 90 and 29 days before AS_OF: months 8, 5, 2, 0
    monthly = np.zeros(12)
    monthly[[8, 5, 2, 0]] = [200, 100, 300, 100]
    assert c1["sales_12m"] == 700.0
    assert c1["order_change_6m"] == pytest.approx(500 / 200 - 1)
    assert c1["order_volatility_12m"] == pytest.approx(monthly.std() / monthly.mean())
    assert c1["sales_share_12m"] == 1.0


def test_a_customer_with_only_old_invoices(files: CreditFiles) -> None:
    c2 = features_as_of(files, AS_OF).loc["C002"]
    assert c2["open_amount"] == 0.0
    assert c2["sales_12m"] == 0.0
    assert c2["limit_utilisation"] == 0.0
    assert np.isnan(c2["dbt_12m"])
    assert np.isnan(c2["past_due_30_share"])  # nothing open


def test_statement_features_by_hand(files: CreditFiles) -> None:
    c1 = features_as_of(files, AS_OF).loc["C001"]
    assert c1["debt_ratio"] == pytest.approx(0.7)
    assert c1["debt_ratio_change_q"] == pytest.approx(0.1)
    assert c1["current_ratio"] == pytest.approx(1.0)
    assert c1["current_ratio_change_q"] == pytest.approx(1.0 - 1.6)
    # Z″ = 6.56·0 + 3.26·0.1 + 6.72·0.04 + 1.05·3/7; before: 2.7106 (test_scales)
    z2 = 0.326 + 0.2688 + 1.05 * 3 / 7
    assert c1["altman_z_double_prime"] == pytest.approx(z2)
    assert c1["altman_z_double_prime_change_q"] == pytest.approx(z2 - 2.7106)
    assert np.isnan(c1["altman_z"])  # no market_equity
    assert c1["statement_age_days"] == 91.0


def test_signal_and_default_features_by_hand(files: CreditFiles) -> None:
    f = features_as_of(files, AS_OF)
    assert f.loc["C001", "grade_latest"] == 5.0
    assert f.loc["C001", "grade_change_12m"] == 2.0  # 3 was the latest a year before
    assert f.loc["C001", "legal_events_12m"] == 1.0  # the lien is 13 months old
    assert list(f["past_defaults"]) == [0.0, 1.0, 0.0]  # C002 defaults on AS_OF


def test_default_within_counts_only_defaults_strictly_after_and_in_the_window(
    files: CreditFiles
) -> None:
    y = default_within(files, AS_OF)
    assert y.name == "default_within"
    assert y.dtype == bool
    # C002 on AS_OF: not after; C003 exactly 12 months later: in; C001 a day later: out
    assert y.to_dict() == {"C001": False, "C002": False, "C003": True}
    assert default_within(files, AS_OF, months=13)["C001"]
    assert default_within(files, "2026-06-29", months=1)["C002"]


def test_as_of_accepts_a_date(files: CreditFiles) -> None:
    a = features_as_of(files, AS_OF)
    b = features_as_of(files, pd.Timestamp(AS_OF).date())
    pd.testing.assert_frame_equal(a, b)
