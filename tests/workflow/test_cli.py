"""The ``portsim`` command line: run folders, exit codes, messages.

Commands run in-process through :class:`typer.testing.CliRunner` (exit codes and stdout/stderr
as a user sees them); ``--help`` runs the installed console script in a subprocess, to time a
cold start.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from portsim.cli import app
from portsim.config import RunConfig, config_hash
from portsim.results.estimators import value_at_risk

RUN_FILES = {"config.json", "results.nc", "summary.csv", "summary.json", "run.json",
             "contributions.csv"}

HEADER = "customer_id,sector,country,exposure,p_default,lgd"
ROWS = [
    "C001,construction,DE,1000,0.02,0.45",
    "C002,retail,FR,2500.5,0.05,0.4",
    "C003,construction,DE,800,0.01,0.5",
    "C004,retail,DE,1200,0.03,0.6",
]


def write_book(folder: Path, header: str = HEADER, rows: list[str] | None = None) -> Path:
    path = folder / "book.csv"
    path.write_text("\n".join([header, *(ROWS if rows is None else rows)]) + "\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with book.csv and run.toml; returns run.toml."""
    write_book(tmp_path)
    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent("""
        name = "cli"

        [book]
        path = "book.csv"
        sectors = ["construction", "retail"]

        [model]
        factors = "sector"

        [simulation]
        paths = 100000
        seed = 4242
        chunk_paths = 512

        [risk]
        levels = [0.95, 0.99]
    """).lstrip(), encoding="utf-8")
    return config


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def squeezed(text: str) -> str:
    """``text`` without spaces, line breaks and box borders (for messages drawn in a box)."""
    return "".join(c for c in text if not c.isspace() and c != "│")


def run_quiet(config: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return invoke("run", config, "--paths", "2000", "--out", out, "--quiet", *extra)


# ------------------------------------------------------------------------------------------
# A good run
# ------------------------------------------------------------------------------------------


def test_run_writes_a_complete_run_folder(project: Path) -> None:
    out = project.parent / "out"
    code, stdout, stderr = run_quiet(project, out)
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    assert {p.name for p in out.iterdir()} == RUN_FILES  # nothing hidden, no checkpoint left

    summary = json.loads((out / "summary.json").read_text())
    metrics, provenance = summary["metrics"], summary["provenance"]
    assert {"expected_loss", "loss_sd", "expected_defaults", "var", "es", "by_sector",
            "n_paths", "total_exposure"} <= set(metrics)
    assert set(metrics["var"]) == {"0.95", "0.99"}
    assert provenance["seed"] == 4242
    assert provenance["n_paths"] == 2000
    assert metrics["total_exposure"] == pytest.approx(5500.5, rel=1e-15)

    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        loss = ds["loss"].values
        assert ds.sizes["path"] == 2000
        assert ds["loss"].attrs["units"] == "EUR"
        sectors = list(ds["sector"].values)
    assert sectors == ["construction", "retail"]
    assert metrics["expected_loss"]["value"] == pytest.approx(loss.mean(), rel=1e-15)
    for q in ("0.95", "0.99"):
        var, lo, hi = value_at_risk(loss, float(q))
        assert metrics["var"][q]["value"] == var
        assert (metrics["var"][q]["ci_low"], metrics["var"][q]["ci_high"]) == (lo, hi)

    table = pd.read_csv(out / "summary.csv", dtype={"level": str})
    assert {"metric", "level", "value", "se", "ci_low", "ci_high", "units"} <= set(table.columns)
    el_row = table[table["metric"] == "expected_loss"].iloc[0]
    assert el_row["value"] == pytest.approx(loss.mean(), rel=1e-12)
    var_row = table[(table["metric"] == "var") & (table["level"] == "0.99")].iloc[0]
    assert var_row["value"] == pytest.approx(metrics["var"]["0.99"]["value"], rel=1e-12)

    run_info = json.loads((out / "run.json").read_text())
    assert {"created_utc", "seed", "n_paths", "config_hash", "input_sha256", "book_sha256",
            "versions", "timings_seconds", "kernel"} <= set(run_info)
    assert (run_info["seed"], run_info["n_paths"]) == (4242, 2000)
    book_bytes = (project.parent / "book.csv").read_bytes()
    assert list(run_info["input_sha256"].values()) == [hashlib.sha256(book_bytes).hexdigest()]
    assert run_info["book_sha256"] == hashlib.sha256(book_bytes).hexdigest()
    resolved = RunConfig.model_validate(json.loads((out / "config.json").read_text()))
    assert resolved.name == "cli"
    assert config_hash(resolved) == run_info["config_hash"]


def test_run_leaves_nothing_but_the_folder(project: Path) -> None:
    before = {p.name for p in project.parent.iterdir()}
    out = project.parent / "out"
    assert run_quiet(project, out)[0] == 0
    assert {p.name for p in project.parent.iterdir()} == before | {"out"}
    assert not [p for p in out.rglob("*") if p.name.startswith(".") or "tmp" in p.name]


def test_same_seed_same_results_through_the_cli(project: Path) -> None:
    a, b = project.parent / "a", project.parent / "b"
    assert run_quiet(project, a, "--threads", "1")[0] == 0
    assert run_quiet(project, b, "--threads", "2")[0] == 0
    with (xr.open_dataset(a / "results.nc", engine="h5netcdf") as da,
          xr.open_dataset(b / "results.nc", engine="h5netcdf") as db):
        for name in da.data_vars:
            assert np.array_equal(da[name].values, db[name].values), name


def test_run_prints_a_table_without_quiet(project: Path) -> None:
    out = project.parent / "out"
    code, stdout, _ = invoke("run", project, "--paths", "1000", "--out", out)
    assert code == 0
    assert "expected loss" in stdout
    assert "VaR 99.0%" in stdout
    assert f"run folder: {out}" in " ".join(stdout.split())


def test_existing_empty_out_folder_is_used(project: Path) -> None:
    out = project.parent / "out"
    out.mkdir()
    assert run_quiet(project, out)[0] == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES


def test_config_json_is_the_config_that_ran(project: Path) -> None:
    out = project.parent / "out"
    assert invoke("run", project, "--paths", "1500", "--seed", "77", "--threads", "1",
                  "--out", out, "-q")[0] == 0
    ran = RunConfig.model_validate_json((out / "config.json").read_text())
    assert (ran.simulation.paths, ran.simulation.seed) == (1500, 77)  # the file says 100000, 4242
    run_info = json.loads((out / "run.json").read_text())
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert ds.attrs["config_hash"] == run_info["config_hash"] == config_hash(ran)
    assert run_info["execution"] == {"backend": "in-process", "threads": 1}


def test_batch_folders_record_the_config_that_ran(project: Path) -> None:
    scen = project.parent / "worse.toml"
    scen.write_text('name = "worse"\n[pd_multiplier]\nglobal = 2.0\n', encoding="utf-8")
    out = project.parent / "batch"
    (project.parent / "best.toml").write_text('name = "best"\n', encoding="utf-8")
    assert invoke("run", project, "-s", scen, "-s", project.parent / "best.toml", "--paths",
                  "768", "--seed", "5", "--out", out, "-q")[0] == 0
    configs = [json.loads((out / "config.json").read_text())]
    configs += [json.loads(p.read_text()) for p in out.glob("scenarios/*/config.json")]
    configs += [s["config"] for s in json.loads((out / "batch.json").read_text())["scenarios"]]
    assert len(configs) == 1 + 3 + 3
    assert {(c["simulation"]["paths"], c["simulation"]["seed"]) for c in configs} == {(768, 5)}


def test_batch_table_keeps_every_value_when_not_a_terminal(project: Path) -> None:
    """Output to a pipe or file (as here) is not squeezed to 80 columns."""
    name = "a_scenario_whose_name_alone_takes_most_of_eighty_columns_of_a_terminal"
    scen = project.parent / "long.toml"
    scen.write_text(f'name = "{name}"\n[pd_multiplier]\nglobal = 2.0\n', encoding="utf-8")
    (project.parent / "base.toml").write_text('name = "baseline"\n', encoding="utf-8")
    out = project.parent / "batch"
    code, stdout, _ = invoke("run", project, "-s", project.parent / "base.toml", "-s", scen,
                             "--paths", "1024", "--out", out)
    assert code == 0
    assert "…" not in stdout
    rows = {line.split("│")[1].strip(): line for line in stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()}
    assert set(rows) == {"baseline", name}
    table = pd.read_csv(out / "comparison.csv").set_index(["scenario", "metric", "level"])
    el = table.loc[(name, "expected_loss", np.nan), "value"]
    es = table.loc[(name, "es", 0.99), "value"]
    cells = [c.strip() for c in rows[name].split("│")[2:-1]]
    assert cells[0] == f"{float(f'{el:.3g}'):g}"  # under 1,000: printed without a suffix
    assert cells[2] == f"{float(f'{es / 1e3:.3g}'):g}k"


# ------------------------------------------------------------------------------------------
# Invalid input: exit code 1, every message says where and what
# ------------------------------------------------------------------------------------------


BAD_BOOKS = {
    "missing_column": (
        HEADER.replace("exposure", "exposre"), ROWS,
        "book.csv row 1 (header): column exposure is required but missing; did you mean "
        "'exposre'? rename it to exposure",
    ),
    "pd_percent": (
        HEADER, [ROWS[0], "C002,retail,FR,2500.5,3.5,0.4", *ROWS[2:]],
        "book.csv row 3 (C002): p_default=3.5 is outside [0, 1]; for 3.5 % write 0.035",
    ),
    "negative_exposure": (
        HEADER, [*ROWS[:2], "C003,construction,DE,-250.5,0.01,0.5", ROWS[3]],
        "book.csv row 4 (C003): exposure=-250.5 is negative",
    ),
    "nan_exposure": (
        HEADER, [ROWS[0], "C002,retail,FR,NaN,0.05,0.4", *ROWS[2:]],
        "book.csv row 3 (C002): exposure is blank",
    ),
    "duplicate_ids": (
        HEADER, [*ROWS[:2], "C001,construction,DE,800,0.01,0.5", ROWS[3]],
        "book.csv rows 2, 4 (C001): customer_id=C001 appears 2 times",
    ),
    "unknown_sector": (
        HEADER, [*ROWS[:3], "C004,retial,DE,1200,0.03,0.6"],
        "book.csv row 5 (C004): sector=retial is not in the configured sectors; did you mean "
        "retail?",
    ),
    "decimal_comma": (
        HEADER, [ROWS[0], 'C002,retail,FR,"2500,5",0.05,0.4', *ROWS[2:]],
        "book.csv row 3 (C002): exposure='2500,5' is not a number; write 2500.5",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BOOKS))
def test_bad_book_exits_1_naming_row_and_id(project: Path, case: str) -> None:
    header, rows, expected = BAD_BOOKS[case]
    write_book(project.parent, header, rows)
    out = project.parent / "out"
    code, stdout, stderr = run_quiet(project, out)
    assert code == 1
    assert stderr.startswith("error: invalid book")
    assert expected in " ".join(stderr.split()), stderr
    assert stdout == ""
    assert not out.exists()  # nothing written for a book that cannot be used
    code, _, stderr = invoke("validate", project)
    assert code == 1
    assert expected in " ".join(stderr.split())


def test_empty_book_file(project: Path) -> None:
    (project.parent / "book.csv").write_bytes(b"")
    code, _, stderr = run_quiet(project, project.parent / "out")
    assert code == 1
    assert "book.csv: file is empty" in stderr


def test_missing_book_file(project: Path) -> None:
    (project.parent / "book.csv").unlink()
    code, _, stderr = run_quiet(project, project.parent / "out")
    assert code == 1
    assert "book.csv" in stderr
    assert not (project.parent / "out").exists()


def test_bad_config_exits_1_naming_the_line(project: Path) -> None:
    text = project.read_text().replace('factors = "sector"', 'factors = "sector"\ncoupla = 1')
    project.write_text(text)
    line = text.splitlines().index("coupla = 1") + 1
    code, _, stderr = run_quiet(project, project.parent / "out")
    assert code == 1
    assert (f"{project} line {line}: 'model.coupla' is not a known key; did you mean "
            "'copula'?") in " ".join(stderr.split())
    assert not (project.parent / "out").exists()


def test_bad_scenario_exits_1(project: Path) -> None:
    scen = project.parent / "stress.toml"
    scen.write_text('name = "s"\n[pd_multiplier.sector]\nretial = 2\n')
    code, _, stderr = invoke("run", project, "-s", scen, "--paths", "100", "--quiet",
                             "--out", project.parent / "out")
    assert code == 1
    assert "did you mean 'retail'?" in stderr
    assert f"{scen} line 3" in stderr


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_an_output_path_that_cannot_be_written_is_one_line(project: Path, where: str) -> None:
    if where == "proc":
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        out = Path("/proc/portsim-run")
    else:
        out = project / "run"  # the config is a file, not a folder
    code, stdout, stderr = run_quiet(project, out)
    assert code == 1
    assert stderr.startswith(f"error: {out}: ")
    assert stderr.count("\n") == 1  # one line: the path and the reason
    assert stdout == ""


def test_a_report_that_cannot_be_written_is_one_line(project: Path) -> None:
    out = project.parent / "out"
    assert run_quiet(project, out)[0] == 0
    target = project / "report.html"  # under a file
    code, _, stderr = invoke("report", out, "--out", target)
    assert code == 1
    assert stderr == f"error: {target}: Not a directory\n"
    assert sorted(p.name for p in project.parent.iterdir()) == ["book.csv", "out", "run.toml"]


def test_stress_that_does_not_reach_its_target_exits_3(project: Path) -> None:
    out = project.parent / "stress.json"
    code, stdout, _ = invoke("stress", project, "--target", "expected_defaults>10",
                             "--paths", "256", "--json", out)  # 4 customers: at most 4
    assert code == 3
    assert "not found: expected_defaults reaches 4.00" in stdout
    assert json.loads(out.read_text())["found"] is False


# ------------------------------------------------------------------------------------------
# Usage errors: exit code 2
# ------------------------------------------------------------------------------------------


def test_out_folder_not_empty_is_a_usage_error(project: Path) -> None:
    out = project.parent / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, stdout, stderr = run_quiet(project, out)
    assert code == 2
    assert squeezed(f"{out} already exists and is not empty") in squeezed(stderr)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
    assert stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "es_99>1m"], "Invalid value for --target: level 99 is outside (0, 1)"),
        (["--target", "el>1m"], "Invalid value for --target: metric 'el' is not known"),
        (["--target", "es_0.99>1m", "--direction", "factor_shift:retial"],
         "Invalid value for --direction: 'factor_shift:retial' 'retial' is not a sector"),
    ],
)
def test_stress_target_and_direction_are_usage_errors(
    project: Path, args: list[str], message: str
) -> None:
    code, stdout, stderr = invoke("stress", project, *args)
    assert code == 2
    assert squeezed(message) in squeezed(stderr)
    assert stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["run", "CONFIG", "--bogus"],
        ["run"],  # neither CONFIG nor --resume
        ["run", "CONFIG", "--paths", "0"],
        ["run", "CONFIG", "--paths", "many"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(project: Path, args: list[str]) -> None:
    out = project.parent / "out"
    argv = [str(project) if a == "CONFIG" else a for a in args]
    if argv[0] == "run":
        argv += ["--out", str(out)]
    code, _, stderr = invoke(*argv)
    assert code == 2
    assert "Usage:" in stderr
    assert not out.exists()


# ------------------------------------------------------------------------------------------
# validate, --help
# ------------------------------------------------------------------------------------------


def test_validate_ok(project: Path) -> None:
    code, stdout, _ = invoke("validate", project)
    assert code == 0
    assert stdout.startswith("ok: 4 customers, 2 sectors, 2 factors, total exposure 5,500.50 EUR")
    assert not any(p.name != "book.csv" and p.name != "run.toml"
                   for p in project.parent.iterdir())


def test_help_is_fast() -> None:
    # The installed console script; --help must not import numba, xarray or the kernels.
    # It takes ~0.8 s here; importing the simulation stack alone takes several seconds on a
    # loaded 2-core machine, which the 5 s bound catches.
    script = Path(sys.executable).parent / "portsim"
    exe = str(script) if script.exists() else shutil.which("portsim")
    assert exe is not None, "the portsim console script is not installed"
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout
    assert "validate" in proc.stdout
    assert elapsed < 5.0


# ------------------------------------------------------------------------------------------
# CreditRisk+ beside the run
# ------------------------------------------------------------------------------------------


def test_creditriskplus_figures_beside_the_run_when_asked(project: Path) -> None:
    project.write_text(project.read_text() + "\n[creditriskplus]\ncompare = true\n"
                       "variance = 0.5\n", encoding="utf-8")
    out = project.parent / "out"
    code, stdout, _ = invoke("run", project, "--paths", "1000", "--out", out)
    assert code == 0
    assert "CreditRisk+ of the same book" in stdout
    crp = json.loads((out / "summary.json").read_text())["metrics"]["creditriskplus"]
    # four customers, one loss unit of 2500.5·0.4/500: the expected loss is Σ p·E·LGD
    assert crp["expected_loss"] == pytest.approx(
        0.02 * 1000 * 0.45 + 0.05 * 2500.5 * 0.4 + 0.01 * 800 * 0.5 + 0.03 * 1200 * 0.6)
    assert crp["loss_unit"] == pytest.approx(2500.5 * 0.4 / 500)
    assert set(crp["var"]) == set(crp["es"]) == {"0.95", "0.99"}
    for level, by_sector in crp["es_contribution_by_sector"].items():
        assert set(by_sector) == {"construction", "retail"}
        assert sum(by_sector.values()) == pytest.approx(crp["es"][level], rel=1e-8)
    table = stdout[stdout.index("CreditRisk+ of the same book"):]
    row = next(line for line in table.splitlines() if "ES 99.0%" in line)
    assert row.split("│")[3].strip() == f"{crp['es']['0.99']:,.4g}"  # below 10k: 4 digits


def test_no_creditriskplus_figures_unless_asked(project: Path) -> None:
    project.write_text(project.read_text() + "\n[creditriskplus]\nvariance = 0.5\n",
                       encoding="utf-8")
    out = project.parent / "out"
    code, stdout, _ = invoke("run", project, "--paths", "1000", "--out", out)
    assert code == 0
    assert "CreditRisk+" not in stdout
    assert "creditriskplus" not in json.loads((out / "summary.json").read_text())["metrics"]


def test_help_texts_keep_the_config_tables_they_name() -> None:
    """Help texts are plain text: "[warn]" and "[book] ratings" are shown, not read as markup."""
    runner = CliRunner()
    warn = runner.invoke(app, ["warn", "--help"], env={"COLUMNS": "200"})
    assert warn.exit_code == 0
    assert "[warn]; write warnings.csv" in warn.output
    calibrate = runner.invoke(app, ["calibrate", "--help"], env={"COLUMNS": "200"})
    assert "run config whose [book] ratings" in calibrate.output
