"""Ageing by days past due: bucket edges, the sums, and a past as-of date from the history
against an ageing by hand."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portsim.config import load_config
from portsim.data import read_book, read_history
from portsim.errors import InputError
from portsim.provisions import bucket_labels, parse_bounds
from portsim.provisions.ageing import age, ageing_table, open_at, segment_of

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "example.toml"
HISTORY = ROOT / "configs" / "example_history.csv"


def test_bucket_edges(make_book) -> None:
    # days past due 0 is current; 30 is in 1-30, 31 in 31-60, 90 in 61-90, 91 over 90
    dpd = np.array([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400])
    as_of = date(2026, 12, 31)
    inv = pd.DataFrame({"customer": 0, "amount": 1.0,
                        "due_date": pd.Timestamp(as_of) - pd.to_timedelta(dpd, unit="D")})
    aged = age(inv, make_book(1, p_default=0.0), as_of)
    assert aged["days_past_due"].tolist() == dpd.tolist()
    assert aged["bucket"].astype(str).tolist() == [
        "current", "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "over 90",
        "over 90"]


def test_bucket_labels_and_bounds() -> None:
    assert bucket_labels((30, 60, 90)) == ("current", "1-30", "31-60", "61-90", "over 90")
    assert bucket_labels((15,)) == ("current", "1-15", "over 15")
    assert parse_bounds(" 30,60 , 90,180") == (30, 60, 90, 180)
    for bad in ("", "30,x", "0,30", "60,30", "30,30"):
        with pytest.raises(InputError, match="--buckets"):
            parse_bounds(bad)


def _hand_ageing(as_of: date) -> dict[tuple[str, str], float]:
    """The ageing of the example history at ``as_of`` by hand: row by row from the CSV."""
    sector = {}
    with (ROOT / "configs" / "example_book.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            sector[row["customer_id"]] = row["sector"]
    out: dict[tuple[str, str], float] = {}
    with HISTORY.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            issued = date.fromisoformat(row["issue_date"])
            paid = date.fromisoformat(row["paid_date"]) if row["paid_date"] else None
            if issued > as_of or (paid is not None and paid <= as_of):
                continue
            days = (as_of - date.fromisoformat(row["due_date"])).days
            bucket = ("current" if days <= 0 else "1-30" if days <= 30 else "31-60"
                      if days <= 60 else "61-90" if days <= 90 else "over 90")
            key = (sector[row["customer_id"]], bucket)
            out[key] = out.get(key, 0.0) + float(row["amount"])
    return out


@pytest.mark.parametrize("as_of", [date(2025, 9, 30), date(2026, 6, 30)])
def test_past_as_of_matches_an_ageing_by_hand(as_of: date) -> None:
    cfg = load_config(CONFIG)
    book = read_book(cfg.resolve(cfg.book.path), ratings=cfg.book.ratings,
                     sectors=cfg.book.sectors)
    history = read_history(HISTORY, book)
    items = open_at(history, as_of)
    table = ageing_table(age(items, book, as_of))
    by_hand = _hand_ageing(as_of)
    got = {(s, str(b)): v for (s, b), v in table.stack().items() if v != 0.0}
    assert got.keys() == by_hand.keys()
    for key, value in by_hand.items():
        assert got[key] == pytest.approx(value, rel=1e-12)
    # buckets sum to the open amount; later payments are ignored (some were paid after)
    assert table.to_numpy().sum() == pytest.approx(items["amount"].sum(), rel=1e-12)
    later = pd.to_datetime(items["paid_date"]) > pd.Timestamp(as_of)
    assert later.sum() > 0


def test_segments(make_book) -> None:
    book = make_book(sector=["a", "b"], country=["DE", "FR"], rating=["A", "B"],
                     p_default=[0.01, 0.02])
    assert segment_of(book, "country").tolist() == ["DE", "FR"]
    assert segment_of(book, "rating").tolist() == ["A", "B"]
    assert segment_of(book, "all").tolist() == ["all", "all"]
    with pytest.raises(InputError, match=r"--segment='industry' is not a segment"):
        segment_of(book, "industry")
    with pytest.raises(InputError, match="needs a rating column"):
        segment_of(make_book(2, p_default=0.0), "rating")
