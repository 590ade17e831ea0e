"""Historical loss rates by roll rates: a hand-worked migration matrix, nothing after the
as-of date, the example history and its defaults, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from portsim.data import read_book
from portsim.data.calibrate import calibrate_delays, read_history
from portsim.errors import InputError
from portsim.provisions import EclOptions, compute_ecl, ecl_frame
from portsim.provisions.ageing import open_at
from portsim.provisions.rollrates import roll_rates

AS_OF = date(2026, 3, 31)  # snapshots 2026-01-31, 2026-02-28, 2026-03-31


def _history() -> pd.DataFrame:
    """Five invoices; their states at the three snapshots (buckets current, 1-30, over 30,
    written off beyond 60 days past due):

    A 100: current → paid;  B 200: 1-30 → over 30 → written off;  C 50: current → current →
    paid;  D 300: not issued → 1-30 → paid;  E 100: current → 1-30 → over 30.
    """
    rows = [  # amount, issue, due, paid
        (100.0, "2026-01-01", "2026-01-31", "2026-02-15"),
        (200.0, "2026-01-01", "2026-01-20", None),
        (50.0, "2026-01-10", "2026-03-10", "2026-03-20"),
        (300.0, "2026-02-01", "2026-02-10", "2026-03-25"),
        (100.0, "2026-01-05", "2026-02-04", None),
    ]
    amount, issue, due, paid = zip(*rows, strict=True)
    return pd.DataFrame({"customer": 0, "amount": amount,
                         "issue_date": pd.to_datetime(list(issue)),
                         "due_date": pd.to_datetime(list(due)),
                         "paid_date": pd.to_datetime(list(paid))})


def test_hand_worked_migration_matrix() -> None:
    got = roll_rates(_history(), AS_OF, bounds=(30,), window_months=2, write_off_days=60)
    assert got.index.tolist() == ["current", "1-30", "over 30"]
    assert got["n_observations"].tolist() == [4, 3, 1]
    assert got["amount_observed"].tolist() == [300.0, 600.0, 200.0]
    # current: 150 paid, 50 stays, 100 rolls; 1-30: 300 paid, 300 rolls; over 30: written off
    assert np.allclose(got["paid"], [0.5, 0.5, 0.0])
    assert np.allclose(got["stay"], [1 / 6, 0.0, 0.0])
    assert np.allclose(got["roll_forward"], [1 / 3, 0.5, 0.0])
    assert np.allclose(got["written_off"], [0.0, 0.0, 1.0])
    # absorption: over 30 → 1; 1-30 → 0.5 · 1; current → (1/3 · 0.5) / (1 − 1/6) = 0.2
    assert np.allclose(got["loss_rate"], [0.2, 0.5, 1.0], rtol=0, atol=1e-15)


def test_nothing_after_the_as_of_date_is_used() -> None:
    h = _history()
    as_of = date(2026, 2, 28)
    later = h.copy()
    later.loc[later["paid_date"] > pd.Timestamp(as_of), "paid_date"] = pd.NaT
    a = roll_rates(h, as_of, bounds=(30,), window_months=1, write_off_days=60)
    b = roll_rates(later, as_of, bounds=(30,), window_months=1, write_off_days=60)
    pd.testing.assert_frame_equal(a, b)
    # one month: A paid, C stays, E rolls; B rolls from 1-30; nothing in over 30 yet
    assert a["n_observations"].tolist() == [3, 1, 0]
    assert np.isnan(a.loc["over 30", "loss_rate"])


def test_a_bucket_never_left_has_no_rate() -> None:
    h = _history().iloc[[2]]  # C alone: current at the first snapshot, still current a month on
    got = roll_rates(h, date(2026, 2, 28), bounds=(30,), window_months=1, write_off_days=60)
    assert got.loc["current", "stay"] == 1.0
    assert np.isnan(got["loss_rate"]).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"window_months": 0}, "--window-months=0 is less than 1"),
    ({"write_off_days": 90}, "--write-off-days=90 is not beyond the last bucket bound 90"),
])
def test_bad_settings(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(InputError, match=message):
        roll_rates(_history(), AS_OF, **kwargs)


def test_historical_basis_applies_the_rates(make_book) -> None:
    h = _history()
    options = EclOptions(bounds=(30,), window_months=2, write_off_days=60, model=False)
    res = compute_ecl(make_book(1, p_default=0.0), open_at(h, AS_OF), AS_OF, history=h,
                      options=options)
    assert res.basis == "historical"
    rows = ecl_frame(res).set_index("bucket")
    # open at 2026-03-31: B (200) and E (100), both over 30 days past due, rate 1
    assert rows["gross_carrying_amount"].tolist() == [0.0, 0.0, 300.0]
    assert rows["ecl"].tolist() == [0.0, 0.0, 300.0]
    assert rows["n_observations"].tolist() == [4, 3, 1]


CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_the_example_history_writes_off_its_defaulted_customers(
        load_tool: Callable[[str], ModuleType]) -> None:
    # a few new customers defaulted 9 to 12 months back: their invoices stay unpaid and are
    # written off 180 days past due; no other invoice is more than 66 days late, so every
    # amount that reaches 61-90 is lost, and the younger buckets lose less
    tool = load_tool("make_history")
    frame = pd.read_csv(CONFIGS / "example_book.csv", dtype={"customer_id": str})
    generated, truth = tool.make_history(frame)
    defaulted = set(truth.loc[truth["defaulted"], "customer_id"])
    assert 0 < len(defaulted) <= 5
    book = read_book(CONFIGS / "example_book.csv")
    history = read_history(CONFIGS / "example_history.csv", book)
    theirs = history["customer_id"].isin(defaulted)
    assert history.loc[theirs, "paid_date"].isna().all()
    assert (history.loc[theirs, "due_date"] < pd.Timestamp("2026-07-01")).all()
    rates = roll_rates(history, date(2026, 12, 31))
    loss = rates["loss_rate"]
    assert loss["61-90"] == pytest.approx(1.0)
    assert loss["over 90"] == pytest.approx(1.0)
    assert 0.0 < loss["current"] < loss["1-30"] < loss["31-60"] < 1.0
    # calibration gives every customer what it gives without the defaults: the defaulted
    # ones have too few invoices for estimates of their own
    without, _ = tool.make_history(frame, default_share=0.0)
    kept = ~generated["customer_id"].isin(defaulted)
    assert generated[kept].equals(without[kept])
    delay = ["customer_id", "source", "delay_mean_days", "delay_mean_se", "delay_sd_days",
             "delay_sd_se", "delay_noise_days", "delay_noise_se"]
    pd.testing.assert_frame_equal(calibrate_delays(generated, book, as_of="2026-12-31")[delay],
                                  calibrate_delays(without, book, as_of="2026-12-31")[delay])
