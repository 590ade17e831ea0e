"""The early-warning section of the run report: present, with its alert list, PD calibration
chart, ROC curve and level migration, for a run whose config has ``[warn]``, with the numbers
of ``portsim warn`` and ``portsim backtest`` on the same data; absent otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from portsim.cli import app
from portsim.workflow.folders import read_run

AS_OF = "2026-12-31"  # the example's [timeline] as_of: the run's score date
PARTS = ("Customers per level", "Alert list", "Level migration to the next scored month-end",
         "ROC curve of the PDs", "PD calibration per grade",
         "Customers per level at each scored month-end")


def invoke(*args: str | Path) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stdout + result.stderr


def section(report: Path, key: str) -> str | None:
    """The HTML of the report's section ``key`` (None when absent)."""
    text = report.read_text(encoding="utf-8")
    match = re.search(rf'<section id="{key}">(.*?)</section>', text, flags=re.S)
    return None if match is None else match.group(1)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run of the warn example with its report, ``portsim warn`` at its as-of date and
    ``portsim backtest`` on the same data."""
    tmp = tmp_path_factory.mktemp("ew")
    out = {"run": tmp / "run", "warn": tmp / "warn", "backtest": tmp / "backtest"}
    invoke("run", "configs/example_warn.toml", "--paths", "500", "--out", out["run"],
           "--report", "--quiet")
    invoke("warn", "configs/example_warn.toml", "--as-of", AS_OF, "--out", out["warn"])
    invoke("backtest", "configs/example_warn.toml", "--out", out["backtest"])
    return out


def test_a_run_with_warn_reports_its_four_parts(folders: dict[str, Path]) -> None:
    html = section(folders["run"] / "report.html", "early-warning")
    assert html is not None
    assert f"Early warning as of {AS_OF}" in html
    for part in PARTS:
        assert part in html, part
    assert html.count("<img") == 3


def test_its_numbers_are_those_of_warn_and_backtest(folders: dict[str, Path]) -> None:
    stored = folders["run"] / "early_warning"
    for name in ("warnings.csv", "model.json"):
        assert (stored / name).read_bytes() == (folders["warn"] / name).read_bytes(), name
    ew = read_run(folders["run"]).early_warning
    assert ew is not None
    assert ew.as_of == AS_OF
    assert ew.levels == ["green", "amber", "red"]
    backtest = json.loads((folders["backtest"] / "backtest.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(ew.metrics["model"])) == backtest["model"]
    assert json.loads(json.dumps(ew.metrics["scored"])) == backtest["scored"]
    assert ew.metrics["levels"].reset_index().to_dict(orient="records") == backtest["levels"]
    counts = [{"date": str(day.date()), **row}
              for day, row in ew.metrics["level_counts"].to_dict(orient="index").items()]
    assert counts == backtest["level_counts"]
    migration = pd.read_csv(folders["backtest"] / "migration.csv")
    np.testing.assert_array_equal(ew.metrics["migration"]["count"], migration["count"])
    # the report shows them: the alert list's most severe customer and the AUC
    html = section(folders["run"] / "report.html", "early-warning")
    assert html is not None
    w = pd.read_csv(folders["warn"] / "warnings.csv", index_col="customer_id")
    red = w[w["level"] == "red"].sort_values("pd", ascending=False)
    assert f"<td>{red.index[0]}</td><td>red</td><td class=\"num\">{100 * red['pd'].iloc[0]:.2f}%" \
        in html
    m = backtest["model"]
    assert f"AUC {m['auc']:.3f} (95 % {m['auc_low']:.3f}–{m['auc_high']:.3f})" in html


def test_the_credit_files_are_inputs_of_the_run(folders: dict[str, Path]) -> None:
    hashed = json.loads((folders["run"] / "run.json").read_text(encoding="utf-8"))[
        "input_sha256"]
    for name in ("example_credit_history.csv", "example_statements.csv",
                 "example_signals.csv", "example_defaults.csv"):
        assert str(Path("configs", name).resolve()) in hashed, name


def test_a_run_without_warn_has_no_early_warning(tmp_path: Path) -> None:
    run = tmp_path / "run"
    invoke("run", "configs/example.toml", "--paths", "500", "--out", run, "--report", "--quiet")
    assert not (run / "early_warning").exists()
    assert read_run(run).early_warning is None
    assert section(run / "report.html", "provenance") is not None
    assert section(run / "report.html", "early-warning") is None
    assert "Early warning" not in (run / "report.html").read_text(encoding="utf-8")
