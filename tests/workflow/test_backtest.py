"""``portsim backtest``: the walk-forward backtest of the example, its figures, and that each
scored month-end sees only the data known then."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from portsim.cli import app
from portsim.config import load_config
from portsim.earlywarning import auc_delong, psi
from portsim.workflow.backtest import backtest_metrics, backtest_panel


@pytest.fixture(scope="module")
def backtested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, str]:
    """The shipped example backtested: (folder, seconds, stdout)."""
    out = tmp_path_factory.mktemp("backtest") / "out"
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["backtest", "configs/example_warn.toml", "--out",
                                      str(out)])
    assert result.exit_code == 0, result.stdout + result.stderr
    return out, time.perf_counter() - start, result.stdout


def test_the_example_is_backtested_in_seconds(backtested: tuple[Path, float, str]) -> None:
    out, seconds, stdout = backtested
    assert seconds < 30.0
    figures = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    # outcomes observed to [timeline] as_of = 2026-12-31: the last scored month-end is a year
    # before; the first has 6 training month-ends (2024-01 … 2024-06) a year before it
    assert figures["scored"]["first_date"] == "2025-06-30"
    assert figures["scored"]["last_date"] == "2025-12-31"
    assert figures["scored"]["rows"] == 7 * 600  # the customers with a payment history
    model = figures["model"]
    assert model["auc"] > 0.7
    assert model["auc_low"] < model["auc"] < model["auc_high"]
    assert model["gini"] == pytest.approx(2 * model["auc"] - 1)
    assert 0.0 < model["brier"] < 0.25
    assert model["hosmer_lemeshow"]["dof"] == 8
    levels = {row["level"]: row for row in figures["levels"]}
    assert levels["red"]["default_rate"] > levels["amber"]["default_rate"] \
        > levels["green"]["default_rate"]
    assert levels["green"]["hit_rate"] == 1.0  # green or worse: every row
    assert levels["red"]["noise_to_signal"] < 1.0
    assert levels["red"]["lead_time_months"] > 0.0
    table = pd.read_csv(out / "backtest.csv", dtype={"group": str})
    assert table[table["kind"] == "level"]["group"].tolist() == ["green", "amber", "red"]
    assert table[table["kind"] == "grade"]["n"].sum() == figures["scored"]["rows"]
    assert "AUC" in stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "ROC curve of the PDs" in report
    assert report.count("data:image/png;base64,") == 3  # ROC, calibration, levels
    assert "Jeffreys" in stdout


def test_the_levels_migrate_between_scored_month_ends(
        backtested: tuple[Path, float, str]) -> None:
    out, _, stdout = backtested
    figures = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    counts = pd.DataFrame(figures["level_counts"]).set_index("date")
    assert counts.index.tolist() == [str(d.date()) for d in pd.date_range(
        "2025-06-30", "2025-12-31", freq="ME")]
    assert counts.columns.tolist() == ["green", "amber", "red"]
    assert (counts.sum(axis=1) == 600).all()  # every customer with a history, at each date
    mig = pd.read_csv(out / "migration.csv")
    assert mig[["from_level", "to_level"]].to_numpy().tolist() == [
        [a, b] for a in ["green", "amber", "red"] for b in ["green", "amber", "red"]]
    assert mig["count"].sum() == 6 * 600  # six consecutive pairs, all customers at both
    # the customers leaving a level at the first six dates, and arriving at the last six
    from_totals = mig.groupby("from_level", sort=False)["count"].sum()
    to_totals = mig.groupby("to_level", sort=False)["count"].sum()
    np.testing.assert_array_equal(from_totals, counts.iloc[:-1].sum())
    np.testing.assert_array_equal(to_totals, counts.iloc[1:].sum())
    np.testing.assert_allclose(mig.groupby("from_level")["share"].sum(), 1.0)
    assert "level migration (row shares)" in stdout
    assert "customers per level" in stdout
    assert "migration.csv" in stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Customers per level at each scored month-end" in report
    assert "Level migration to the next scored month-end" in report


def test_the_metrics_are_those_of_the_scored_rows() -> None:
    d = pd.Timestamp
    panel = pd.DataFrame({
        "customer": ["a", "b", "c", "d"] * 3,
        "date": [d("2025-01-31")] * 4 + [d("2025-02-28")] * 4 + [d("2025-03-31")] * 4,
        "pd": [0.01, 0.02, 0.2, 0.3, 0.01, 0.05, 0.25, 0.4, 0.02, 0.03, 0.3, 0.5],
        "grade": ["1", "1", "2", "2"] * 3,
        "level": ["green", "green", "amber", "red"] * 3,
        "defaulted_12m": [False, False, True, True] * 3,
        "default_date": [pd.NaT, pd.NaT, d("2025-06-01"), d("2025-05-01")] * 3})
    m = backtest_metrics(panel, ["green", "amber", "red"])
    assert m["model"]["auc"] == auc_delong(panel["defaulted_12m"], panel["pd"]).auc == 1.0
    assert m["model"]["psi"] == psi(panel["pd"][:4], panel["pd"][8:])
    assert m["levels"].loc["red", "lead_time_months"] == pytest.approx(
        (d("2025-05-01") - d("2025-01-31")).days / (365.25 / 12))
    assert m["grades"].loc["2", "default_rate"] == 1.0
    assert m["scored"] == {"dates": 3, "rows": 12, "defaults": 6,
                           "first_date": "2025-01-31", "last_date": "2025-03-31"}


def test_each_month_end_is_scored_with_the_data_known_then(
        example_copy: Callable[[str], Path],
        cut_credit_files: Callable[[Path, pd.Timestamp, str], None]) -> None:
    full = backtest_panel(load_config("configs/example_warn.toml"))
    first = pd.Timestamp("2025-06-30")
    config = example_copy("example_warn.toml")
    cut_credit_files(config.parent, first, "")
    cut = backtest_panel(load_config(config), date(2026, 12, 31))
    at_first = full[full["date"] == first].set_index("customer")
    again = cut[cut["date"] == first].set_index("customer")
    assert len(again) == len(at_first) == 600
    np.testing.assert_array_equal(again["pd"], at_first["pd"])
    assert (again["level"] == at_first["level"]).all()
    # the later month-ends see what the cut files no longer hold
    later = full["date"] == pd.Timestamp("2025-12-31")
    assert not np.array_equal(cut[cut["date"] == pd.Timestamp("2025-12-31")]["pd"],
                              full[later]["pd"])


def test_too_short_a_history_is_told(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backtest", "configs/example_warn.toml", "--as-of",
                                      "2025-12-31", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    # the last month-end scored would be 2024-12-31, its training month-ends before the data
    assert "configs/example_warn.toml line 7" in result.stderr
    assert "leaves no month-end with 6 month-ends of training data" in result.stderr
    assert not (tmp_path / "out").exists()
