"""Tests of portsim.data.calibrate: delay estimates recover known parameters; history validation;
the calibrated book and the ``portsim calibrate`` command; the book's delay columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from portsim.cli import app
from portsim.data import DELAY_COLUMNS, Book, book_from_frame, read_book
from portsim.data.calibrate import (
    CUSTOMER_COLUMNS,
    calibrate_delays,
    estimate_delays,
    read_history,
    write_calibrated_book,
)
from portsim.errors import BookError
from portsim.inputs.model import build_inputs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_BOOK = ROOT / "configs" / "example_book.csv"
EXAMPLE_HISTORY = ROOT / "configs" / "example_history.csv"
HEADER = "invoice_id,customer_id,amount,issue_date,due_date,paid_date"


@pytest.fixture(scope="module")
def tool(load_tool: Callable[[str], ModuleType]) -> ModuleType:
    return load_tool("make_history")


@pytest.fixture(scope="module")
def example_book() -> Book:
    return read_book(EXAMPLE_BOOK)


@pytest.fixture(scope="module")
def synthetic(
    tool: ModuleType, example_book: Book
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """600 customers' 24 months of invoices, their estimates and the truth, merged."""
    history, truth = tool.make_history(pd.read_csv(EXAMPLE_BOOK), n_customers=600, seed=7)
    est = estimate_delays(history, example_book, as_of="2026-12-31")
    merged = est.customers.merge(truth, on="customer_id", how="inner")
    sectors = est.sectors.merge(
        truth.groupby("sector")[["sector_mean_days", "sector_sd_days"]].first().reset_index(),
        on="sector",
    )
    return merged, sectors, history


# ------------------------------------------------------------------------------------------
# Recovery of known parameters (statistical checks)
# ------------------------------------------------------------------------------------------


def test_customer_means_are_recovered_within_their_standard_errors(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    merged, _, _ = synthetic
    own = merged[merged["source"] == "customer"]
    assert len(own) > 450
    assert (own["n_unpaid"] > 0).mean() > 0.9  # nearly all went through the censored fit
    z = (own["delay_mean_days"] - own["mean_days"]) / own["delay_mean_se"]
    # z is about t(n − 1) with n ≈ 22 plus censoring: E z² ≈ 1.1, sd of its mean ≈ 0.07
    assert 0.8 < float((z**2).mean()) < 1.45
    assert abs(float(z.mean())) < 4 / np.sqrt(len(z))
    assert float((z.abs() > 4).mean()) < 0.005  # |est − true| < 4 se for (almost) all


def test_noise_is_recovered_within_its_standard_errors(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    merged, _, _ = synthetic
    own = merged[merged["source"] == "customer"]
    est, true, se = own["delay_noise_days"], own["noise_days"], own["delay_noise_se"]
    # the se scales with the sd, so judge the error by the se the truth would have: E z² ≈ 1
    z = (est - true) / (se * true / est)
    assert 0.75 < float((z**2).mean()) < 1.3
    assert abs(float(z.mean())) < 4 / np.sqrt(len(z))
    assert float((((est - true) / se).abs() > 4).mean()) < 0.01  # with the reported se


def test_sector_propensity_sd_and_mean_are_recovered(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, sectors, _ = synthetic
    assert (sectors["source"] == "sector").all()
    assert (sectors["n_own"] >= 20).all()
    z_sd = (sectors["delay_sd_days"] - sectors["sector_sd_days"]) / sectors["delay_sd_se"]
    z_mean = (sectors["delay_mean_days"] - sectors["sector_mean_days"]) / sectors["delay_mean_se"]
    assert (z_sd.abs() < 4).all(), z_sd.tolist()
    assert (z_mean.abs() < 4).all(), z_mean.tolist()
    assert float((z_sd**2).mean()) < 3.0


def test_unpaid_invoices_are_censored_not_dropped(example_book: Book) -> None:
    """Invoices due shortly before the cut-off: the late ones are still unpaid there (a third).
    Dropping them biases the means down; the censored fit recovers them."""
    rng = np.random.default_rng(11)
    cutoff = pd.Timestamp("2026-12-31")
    ids = example_book.customer_id[:600]
    true_mean = 20.0 + 5.0 * rng.standard_normal(ids.size)
    cust = np.repeat(np.arange(ids.size), 10)
    due = cutoff - pd.to_timedelta(rng.integers(0, 60, cust.size), unit="D")
    delay = np.rint(true_mean[cust] + 8.0 * rng.standard_normal(cust.size))
    paid = due + pd.to_timedelta(delay, unit="D")
    history = pd.DataFrame({
        "invoice_id": [f"H{j}" for j in range(cust.size)], "customer_id": ids[cust],
        "amount": 100.0, "issue_date": due - pd.Timedelta(days=30), "due_date": due,
        "paid_date": paid.where(paid <= cutoff),  # NaT: unpaid at the cut-off
    })
    assert 0.3 < history["paid_date"].isna().mean() < 0.4
    truth = pd.Series(true_mean, index=ids)

    def t_and_z2(h: pd.DataFrame) -> tuple[float, float]:
        est = calibrate_delays(h, example_book, as_of="2026-12-31").set_index("customer_id")
        own = est[est["source"] == "customer"]
        err = own["delay_mean_days"] - truth[own.index]
        # t of the average error across customers (its own spread: robust to se errors)
        t = float(err.mean() / err.std() * np.sqrt(len(err)))
        return t, float(((err / own["delay_mean_se"]) ** 2).mean())

    t_censored, z2_censored = t_and_z2(history)
    t_dropped, _ = t_and_z2(history[history["paid_date"].notna()])
    assert abs(t_censored) < 4
    assert z2_censored < 1.8  # the information-based se is somewhat optimistic here
    assert t_dropped < -6  # the late payers are missing


def test_shrinkage_to_the_sector_and_book(example_book: Book) -> None:
    ids = example_book.customer_id
    sector = pd.Series(example_book.sector, index=ids)
    retail = sector[sector == "retail"].index[:4]
    energy = sector[sector == "energy"].index[:1]
    rows = []
    delays = {retail[0]: [5, 7, 9], retail[1]: [10, 12, 14, 16], retail[2]: [20, 22, 24],
              retail[3]: [30], energy[0]: [0, 2, 4]}
    for cid, ds in delays.items():
        for k, d in enumerate(ds):
            due = pd.Timestamp("2026-06-01") + pd.Timedelta(days=30 * k)
            rows.append((f"{cid}-{k}", cid, 10.0, (due - pd.Timedelta(days=30)).date(),
                         due.date(), (due + pd.Timedelta(days=d)).date()))
    history = pd.DataFrame(rows, columns=HEADER.split(","))
    est = estimate_delays(history, example_book)
    assert est.as_of == pd.Timestamp(max(r[5] for r in rows)).date()
    c = est.customers.set_index("customer_id")
    assert list(est.customers.columns) == list(CUSTOMER_COLUMNS)
    assert list(c.index) == list(ids)  # one row per book customer, in book order
    assert c.loc[retail[0], "source"] == "customer"
    assert c.loc[retail[0], "delay_mean_days"] == pytest.approx(7.0)
    assert c.loc[retail[0], "delay_mean_se"] == pytest.approx(2.0 / np.sqrt(3))
    assert c.loc[retail[0], "delay_noise_days"] == pytest.approx(np.sqrt(4.0 - 1 / 12))
    # too few paid invoices (one) and no history: the sector's values
    for cid in (retail[3], sector[sector == "retail"].index[10]):
        assert c.loc[cid, "source"] == "sector"
        assert c.loc[cid, "delay_mean_days"] == pytest.approx(np.mean([7, 13, 22]))
    s = est.sectors.set_index("sector")
    means = np.array([7.0, 13.0, 22.0])
    within = np.array([4.0, 20 / 3, 4.0]) / np.array([3, 4, 3])
    assert s.loc["retail", "delay_sd_days"] == pytest.approx(
        np.sqrt(means.var(ddof=1) - within.mean()))
    assert s.loc["retail", "n_own"] == 3
    assert (c.loc[sector[sector == "retail"].index, "delay_sd_days"]
            == s.loc["retail", "delay_sd_days"]).all()
    # one energy customer is too few for sector values: book-level ones (all 4 as one group)
    assert s.loc["energy", "source"] == "book"
    assert c.loc[energy[0], "source"] == "customer"
    assert c.loc[sector[sector == "energy"].index[5], "source"] == "book"
    assert s.loc["energy", "delay_mean_days"] == pytest.approx(np.mean([7, 13, 22, 2]))
    # a sector without any history also gets the book-level values
    assert s.loc["food", "source"] == "book"
    assert s.loc["food", "n_paid"] == 0


def test_nothing_to_estimate(example_book: Book) -> None:
    history = pd.DataFrame([("I1", "C00001", 1.0, "2026-01-01", "2026-02-01", "2026-02-03")],
                           columns=HEADER.split(","))
    with pytest.raises(BookError, match="has no customer with at least 3 paid invoices"):
        calibrate_delays(history, example_book)
    with pytest.raises(ValueError, match="at least 2"):
        calibrate_delays(history, example_book, min_invoices=1)


# ------------------------------------------------------------------------------------------
# History validation
# ------------------------------------------------------------------------------------------


def test_history_problems(tmp_path: Path, example_book: Book) -> None:
    path = tmp_path / "history.csv"
    path.write_text("\n".join([
        HEADER,
        "H1,C00001,10,2026-01-10,2026-02-09,2026-01-05",
        "H2,C00001,10,2026-01-10,2026-02-09,",
        "H3,C00002,10,2026-01-10,2026-02-09,2027-01-05",
        "H4,C0002,10,2026-01-10,2026-02-09,05/03/2026",
    ]) + "\n", encoding="utf-8")
    with pytest.raises(BookError) as info:
        read_history(path, example_book, as_of="2026-12-31")
    lines = [str(p) for p in info.value.problems]
    assert lines[0] == ("history.csv row 2 (H1): paid_date=2026-01-05 is before "
                        "issue_date=2026-01-10; fix the date (a payment in advance counts as paid "
                        "on the issue date)")
    assert lines[1] == ("history.csv row 4 (H3): paid_date=2027-01-05 is after the as-of date "
                        "2026-12-31; blank it (the invoice was unpaid at the as-of date), or give "
                        "a later as-of date")
    assert lines[2].startswith("history.csv row 5 (H4): customer_id=C0002 is not in the book; "
                               "did you mean C00002?")
    assert lines[3] == ("history.csv row 5 (H4): paid_date=05/03/2026 is ambiguous (day and month "
                        "could be either way round); write ISO 2026-03-05 or 2026-05-03")
    assert len(lines) == 4  # the blank paid_date of H2 is an unpaid invoice, not a problem


# ------------------------------------------------------------------------------------------
# The calibrated book, the CLI and the timeline
# ------------------------------------------------------------------------------------------


def test_cli_calibrate_writes_a_book_read_book_accepts(tmp_path: Path, example_book: Book) -> None:
    out = tmp_path / "calibrated.csv"
    res = CliRunner().invoke(app, ["calibrate", str(EXAMPLE_HISTORY), "--book", str(EXAMPLE_BOOK),
                                   "--out", str(out), "--as-of", "2026-12-31"])
    assert res.exit_code == 0, res.output
    assert "construction" in res.output
    assert f"wrote {out}" in " ".join(res.output.split())
    book = read_book(out)
    est = calibrate_delays(read_history(EXAMPLE_HISTORY, example_book), example_book,
                           as_of="2026-12-31")
    for column in DELAY_COLUMNS:
        np.testing.assert_allclose(getattr(book, column), est[column], atol=5e-4)
        assert np.isfinite(getattr(book, column)).all()
    for column in ("customer_id", "exposure", "p_default", "lgd", "payment_terms_days"):
        np.testing.assert_array_equal(getattr(book, column), getattr(example_book, column))


def test_cli_calibrate_bad_history_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(HEADER + "\nH1,C00001,10,2026-01-10,2026-02-09,2026-01-05\n"
                    "H2,X,10,2026-01-10,2026-02-09,\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["calibrate", str(path), "--book", str(EXAMPLE_BOOK),
                                   "--out", str(tmp_path / "out.csv")])
    assert res.exit_code == 1
    assert "invalid payment history" in res.output
    assert "history.csv row 2 (H1): paid_date=2026-01-05 is before issue_date" in res.output
    assert "history.csv row 3 (H2): customer_id=X is not in the book" in res.output
    assert not (tmp_path / "out.csv").exists()


def test_write_calibrated_book_formats(tmp_path: Path, example_book: Book) -> None:
    est = calibrate_delays(read_history(EXAMPLE_HISTORY, example_book), example_book)
    small = example_book.subset(slice(0, 5))
    for name in ("b.parquet", "b.xlsx"):
        book = read_book(write_calibrated_book(small, est, tmp_path / name))
        np.testing.assert_allclose(book.delay_mean_days, est["delay_mean_days"][:5], atol=5e-4)
    with pytest.raises(BookError, match=r"'\.txt' is not supported"):
        write_calibrated_book(small, est, tmp_path / "b.txt")


def test_book_delay_columns_feed_the_timeline(make_book: Any, make_config: Any) -> None:
    book = make_book(customer_id=["A", "B"], sector="retail", country="DE", exposure=100.0,
                     p_default=0.01, lgd=0.5, annual_sales=1000.0,
                     delay_mean_days=[3.5, None], delay_sd_days=[1.0, None],
                     delay_noise_days=[2.0, None])
    assert np.isnan(book.delay_mean_days[1])
    cfg = make_config(timeline={"as_of": "2026-12-31"},
                      delays={"mean_days": 10, "sd_days": 4, "noise_days": 6})
    tl = build_inputs(book, cfg).timeline
    assert tl is not None
    np.testing.assert_array_equal(tl.delay_mean, [3.5, 10.0])
    np.testing.assert_array_equal(tl.delay_sd, [1.0, 4.0])
    np.testing.assert_array_equal(tl.delay_noise, [2.0, 6.0])
    # a book without the columns has NaN in them
    plain = make_book(customer_id=["A"], sector="s", country="DE", exposure=1.0, p_default=0.01,
                      lgd=0.5)
    assert np.isnan(plain.delay_sd_days).all()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("delay_mean_days", "-400", "delay_mean_days=-400 is outside [-365, 730]"),
        ("delay_sd_days", "-1", "delay_sd_days=-1 is negative"),
        ("delay_noise_days", "inf", "delay_noise_days=inf is not finite"),
        ("delay_noise_days", "abc", "delay_noise_days=abc is not a number"),
    ],
)
def test_book_delay_columns_are_validated(column: str, value: str, message: str) -> None:
    frame = pd.DataFrame({"customer_id": ["A"], "sector": "s", "country": "DE",
                          "exposure": "1", "p_default": "0.01", "lgd": "0.5", column: value})
    with pytest.raises(BookError) as info:
        book_from_frame(frame)
    (problem,) = info.value.problems
    assert str(problem).startswith(f"<frame> row 2 (A): {message}")


# ------------------------------------------------------------------------------------------
# The shipped example
# ------------------------------------------------------------------------------------------


def test_shipped_example_history(tool: ModuleType, example_book: Book) -> None:
    assert EXAMPLE_HISTORY.stat().st_size < 300_000
    history, _ = tool.make_history(pd.read_csv(EXAMPLE_BOOK))
    assert history.to_csv(index=False, lineterminator="\n") == EXAMPLE_HISTORY.read_text("utf-8")
    table = read_history(EXAMPLE_HISTORY, example_book)
    assert table["customer_id"].nunique() == 200
    assert 0 < table["paid_date"].isna().sum() < len(table) // 5


def test_cli_calibrate_reads_the_history_in_the_configs_dialect(
        tmp_path: Path, example_book: Book) -> None:
    """A Windows-1252 semicolon export with decimal commas, named by [book.history_dialect]."""
    history = tmp_path / "history.csv"
    frame = pd.read_csv(EXAMPLE_HISTORY, dtype={"amount": float}, keep_default_na=False)
    frame.loc[0, "invoice_id"] = "Hé1"
    frame.to_csv(history, sep=";", decimal=",", index=False, encoding="cp1252")
    config = tmp_path / "run.toml"
    config.write_text('[book.history_dialect]\nencoding = "cp1252"\n', encoding="utf-8")
    out = tmp_path / "calibrated.csv"
    res = CliRunner().invoke(app, ["calibrate", str(history), "--book", str(EXAMPLE_BOOK),
                                   "--out", str(out), "--as-of", "2026-12-31",
                                   "--config", str(config)])
    assert res.exit_code == 0, res.output
    est = calibrate_delays(read_history(EXAMPLE_HISTORY, example_book), example_book,
                           as_of="2026-12-31")
    np.testing.assert_allclose(read_book(out).delay_mean_days, est["delay_mean_days"],
                               atol=5e-4)
