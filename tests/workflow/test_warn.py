"""``portsim warn``: the example scored in seconds, the new book read by ``portsim run``, a hard
trigger through the whole command, errors in ``[warn]`` and no look-ahead."""

from __future__ import annotations

import json
import sys
import textwrap
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from portsim.cli import app
from portsim.config import load_config
from portsim.data.configured import load_book

AS_OF = "2026-12-31"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, str]:
    """The shipped example scored at 2026-12-31: (folder, seconds, stdout)."""
    out = tmp_path_factory.mktemp("warn") / "out"
    start = time.perf_counter()
    code, stdout, stderr = invoke("warn", "configs/example_warn.toml", "--as-of", AS_OF,
                                  "--out", out)
    assert code == 0, stdout + stderr
    return out, time.perf_counter() - start, stdout


def test_the_example_is_scored_in_seconds(scored: tuple[Path, float, str]) -> None:
    out, seconds, stdout = scored
    assert seconds < 30.0
    assert sorted(p.name for p in out.iterdir()) == ["book.csv", "model.json", "report.html",
                                                     "warnings.csv"]
    assert f"portsim run configs/example_warn.toml --book {out / 'book.csv'}" in stdout
    assert "Alert list" in (out / "report.html").read_text(encoding="utf-8")
    w = pd.read_csv(out / "warnings.csv", index_col="customer_id")
    assert len(w) == 2000
    for column in ("pd", "grade", "index", "level", "rules", "top_features", "pd_source"):
        assert column in w.columns
    # the 600 customers with credit files are scored by the model, the others keep p_default
    assert (w["pd_source"] == "model").sum() == 600
    assert set(w["level"]) == {"green", "amber", "red"}
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert card["as_of"] == AS_OF
    # trained on the 24 month-ends whose 12 following months end by the as-of date
    assert card["window"]["first_date"] == "2024-01-31"
    assert card["window"]["last_date"] == "2025-12-31"
    assert {f["name"] for f in card["features"]} >= {"dbt_12m", "past_due_60_share"}
    assert all("coefficient" in f for f in card["features"])
    assert card["metrics"]["in_sample"]["auc"] > 0.7


def test_the_model_card_holds_the_delay_calibration_to_paste_into_timeline(
        scored: tuple[Path, float, str]) -> None:
    out, _, _ = scored
    cal = json.loads((out / "model.json").read_text(encoding="utf-8"))["delay_calibration"]
    for key in ("delay_credit_link", "predefault_drift_days"):
        assert np.isfinite(cal[key])
        assert 0 < cal[f"{key}_se"] < abs(cal[key])
    # the example's defaulters pay later and later before their default
    assert cal["gap_days"] > 0
    assert cal["delay_credit_link"] > 0
    assert cal["predefault_drift_days"] > 0
    assert cal["defaulters"] == cal["drift_defaulters"] > 10
    timeline = tomllib.loads(cal["toml"])["timeline"]
    assert timeline == {"delay_credit_link": round(cal["delay_credit_link"], 3),
                        "predefault_drift_days": round(cal["predefault_drift_days"], 1),
                        "predefault_months": cal["predefault_months"]}


def test_the_new_book_is_run_and_holds_the_warning_pds(
        scored: tuple[Path, float, str], tmp_path: Path) -> None:
    out, _, _ = scored
    config = load_config("configs/example_warn.toml")
    book = load_book(config, out / "book.csv")  # rating next to p_default: p_default wins
    w = pd.read_csv(out / "warnings.csv", index_col="customer_id", dtype={"grade": str})
    np.testing.assert_array_equal(book.p_default, w["pd"].reindex(book.customer_id))
    original = load_book(config)
    kept = (w["pd_source"] != "model").reindex(book.customer_id).to_numpy()
    np.testing.assert_array_equal(book.p_default[kept], original.p_default[kept])
    assert not np.array_equal(book.p_default[~kept], original.p_default[~kept])
    frame = pd.read_csv(out / "book.csv", dtype={"warn_grade": str})
    assert (frame["warn_level"].to_numpy() == w["level"].reindex(frame["customer_id"])).all()
    run = tmp_path / "run"
    code, stdout, stderr = invoke("run", "configs/example_warn.toml", "--book",
                                  out / "book.csv", "--paths", "200", "--out", run, "--quiet")
    assert code == 0, stdout + stderr
    ran = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert ran["book"]["path"] == str((out / "book.csv").resolve())


def test_book_with_resume_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = invoke("run", "--resume", tmp_path, "--book", tmp_path / "book.csv")
    assert code == 2
    assert "--book" in stderr


def _small_project(folder: Path) -> Path:
    """30 customers invoiced monthly 2024–2026, three defaulting in 2025–26 after paying
    late; C10's invoice due 2026-10-15 is unpaid (77 days past due at 2026-12-31), C11's due
    2026-11-14 (47 days). Returns the config, whose only rule is the hard trigger."""
    ids = [f"C{i:02d}" for i in range(30)]
    pd.DataFrame({"customer_id": ids, "sector": "retail", "country": "DE",
                  "exposure": 5000.0, "p_default": 0.01, "lgd": 0.5, "annual_sales": 12000.0,
                  "credit_limit": 4000.0}).to_csv(folder / "book.csv", index=False)
    defaults = {"C01": "2025-04-10", "C02": "2025-09-20", "C03": "2026-02-01"}
    rng = np.random.default_rng(5)
    rows = []
    for cid in ids:
        for issue in pd.date_range("2024-01-15", "2026-12-15", freq="MS") + pd.Timedelta(
                days=14):
            due = issue + pd.Timedelta(days=30)
            default = pd.Timestamp(defaults.get(cid, "2100-01-01"))
            late = 50 if default - pd.Timedelta(days=180) <= issue < default else int(
                rng.integers(0, 8))
            paid = due + pd.Timedelta(days=late)
            unpaid = (issue >= default or (cid == "C10" and issue == pd.Timestamp("2026-09-15"))
                      or (cid == "C11" and issue == pd.Timestamp("2026-10-15")))
            rows.append({"invoice_id": f"{cid}-{issue:%Y%m}", "customer_id": cid,
                         "amount": 1000.0, "issue_date": f"{issue:%Y-%m-%d}",
                         "due_date": f"{due:%Y-%m-%d}",
                         "paid_date": "" if unpaid else f"{paid:%Y-%m-%d}"})
    pd.DataFrame(rows).to_csv(folder / "history.csv", index=False)
    pd.DataFrame({"customer_id": list(defaults), "default_date": list(defaults.values()),
                  "kind": "insolvency"}).to_csv(folder / "defaults.csv", index=False)
    config = folder / "run.toml"
    config.write_text(textwrap.dedent("""
        name = "small"
        [book]
        path = "book.csv"
        [warn]
        history = "history.csv"
        defaults = "defaults.csv"
        [[warn.rules]]
        name = "overdue_60"
        level = "red"
        when = ["past_due_60_share > 0"]
    """).lstrip(), encoding="utf-8")
    return config


def test_an_invoice_over_60_days_overdue_is_red_through_the_command(tmp_path: Path) -> None:
    config = _small_project(tmp_path)
    code, stdout, stderr = invoke("warn", config, "--as-of", AS_OF, "--out", tmp_path / "out")
    assert code == 0, stdout + stderr
    w = pd.read_csv(tmp_path / "out" / "warnings.csv", index_col="customer_id",
                    keep_default_na=False)
    assert w.loc["C10", "level"] == "red"
    assert w.loc["C10", "rules"] == "overdue_60"
    assert w.loc["C10", "pd_source"] == "model"
    assert w.loc["C11", "level"] == "green"  # 47 days: the trigger does not fire
    assert w.loc["C11", "rules"] == ""
    # the defaulted customers' last invoices are unpaid too
    assert w.index[w["level"] == "red"].tolist() == ["C01", "C02", "C03", "C10"]
    book = pd.read_csv(tmp_path / "out" / "book.csv", index_col="customer_id")
    assert book.loc["C10", "warn_level"] == "red"


def test_bad_paths_in_warn_name_the_key_and_its_line(tmp_path: Path) -> None:
    config = _small_project(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('history = "history.csv"', 'history = "histroy.csv"\n'
                                   'signals = "nowhere/signals.csv"'), encoding="utf-8")
    code, stdout, stderr = invoke("warn", config, "--as-of", AS_OF, "--out", tmp_path / "out")
    assert code == 1, stdout
    assert f"{config} line 5" in stderr
    assert "history='histroy.csv'" in stderr
    assert f"{config} line 6" in stderr
    assert "signals='nowhere/signals.csv'" in stderr
    assert "names no file" in stderr
    assert not (tmp_path / "out").exists()


def test_a_config_without_warn_is_told_to_add_it(tmp_path: Path) -> None:
    code, _, stderr = invoke("warn", "configs/example.toml", "--as-of", AS_OF, "--out",
                             tmp_path / "out")
    assert code == 1
    assert "[warn]" in stderr
    assert "is missing" in stderr


def test_data_dated_after_as_of_leaves_the_warnings_unchanged(
        example_copy: Callable[[str], Path],
        cut_credit_files: Callable[[Path, pd.Timestamp, str], None], tmp_path: Path) -> None:
    as_of = "2026-06-30"
    same, changed = example_copy("example_warn.toml"), example_copy("example_warn.toml")
    # rows dated after as_of dropped, payments after it made years later
    cut_credit_files(changed.parent, pd.Timestamp(as_of), "2030-01-01")
    outs = []
    for config in (same, changed):
        out = tmp_path / f"out-{config.parent.name}"
        code, stdout, stderr = invoke("warn", config, "--as-of", as_of, "--out", out)
        assert code == 0, stdout + stderr
        outs.append(out)
    for name in ("warnings.csv", "model.json", "book.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    # the comparison can fail: a default before the as-of date changes the model
    d = pd.read_csv(changed.parent / "example_defaults.csv")
    d.iloc[1:].to_csv(changed.parent / "example_defaults.csv", index=False)
    out = tmp_path / "out-dropped"
    assert invoke("warn", changed, "--as-of", as_of, "--out", out)[0] == 0
    assert (out / "warnings.csv").read_bytes() != (outs[0] / "warnings.csv").read_bytes()


def test_optimal_binning_scores_the_example(example_copy: Callable[[str], Path],
                                            tmp_path: Path, optbinning_module: Any) -> None:
    config = example_copy("example_warn.toml")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("train_months = 24", 'train_months = 24\nbinning = "optimal"'),
                      encoding="utf-8")
    code, stdout, stderr = invoke("warn", config, "--as-of", AS_OF, "--out", tmp_path / "out")
    assert code == 0, stdout + stderr
    card = json.loads((tmp_path / "out" / "model.json").read_text(encoding="utf-8"))
    assert card["settings"]["binning"] == "optimal"
    assert all(len(f["edges"]) + 1 <= card["settings"]["bins"] for f in card["features"])
    assert card["metrics"]["in_sample"]["auc"] > 0.7


def test_optimal_binning_without_optbinning_names_the_extra_and_the_line(
        example_copy: Callable[[str], Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = example_copy("example_warn.toml")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("train_months = 24", 'train_months = 24\nbinning = "optimal"'),
                      encoding="utf-8")
    monkeypatch.setitem(sys.modules, "optbinning", None)
    code, _, stderr = invoke("warn", config, "--as-of", AS_OF, "--out", tmp_path / "out")
    assert code == 1
    line = text.splitlines().index(next(t for t in text.splitlines()
                                        if t.startswith("train_months"))) + 2
    assert f"{config} line {line}" in stderr
    assert "pip install 'portsim[warn-optimal]'" in stderr
    assert not (tmp_path / "out").exists()
