"""The Excel workbook of a run, batch or ecl folder, read back and compared with the files.

A batch of the shipped example (two scenarios, 200 paths) is run once with ``--xlsx``; one
of its scenario folders is exported with ``portsim export``; a ``portsim ecl`` folder of the
example is exported too. Every number of every sheet is compared with ``summary.json``,
``results.nc``, ``run.json`` or the CSV files. openpyxl stores a float with 16 significant
digits (``%.16g``), so a cell must equal the stored number written that way, exactly.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from portsim.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "example.toml"
RUN_SHEETS = ["Headline", "Sectors", "Sector contributions", "Country contributions",
              "Largest contributors", "Cash by period", "Insurance"]


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example under two scenarios, 200 paths, made by ``portsim run --xlsx``."""
    out = tmp_path_factory.mktemp("batch") / "run"
    res = _invoke("run", EXAMPLE, "-s", ROOT / "scenarios" / "baseline.toml",
                  "-s", ROOT / "scenarios" / "mild_recession.toml", "--paths", "200",
                  "--seed", "4", "--out", out, "--quiet", "--xlsx")
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def scenario_book(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scenario folder of the batch, exported by ``portsim export --out``."""
    target = tmp_path_factory.mktemp("export") / "recession.xlsx"
    res = _invoke("export", batch / "scenarios" / "mild_recession", "--xlsx", "--out", target)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(target)
    return target


@pytest.fixture(scope="module")
def ecl_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``portsim ecl`` of the example at two dates with its history, 200 paths."""
    out = tmp_path_factory.mktemp("ecl") / "ecl"
    res = _invoke("ecl", EXAMPLE, "--as-of", "2026-09-30", "--as-of", "2026-12-31",
                  "--history", ROOT / "configs" / "example_history.csv", "--paths", "200",
                  "--threads", "1", "--out", out)
    assert res.exit_code == 0, res.output
    return out


# ------------------------------------------------------------------------------- helpers

def _stored(x: Any) -> Any:
    """What a cell holds for the stored value ``x``: None for null and NaN, a float rounded
    to the 16 significant digits openpyxl writes, text as it is."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if isinstance(x, int | float):
        return float(f"{float(x):.16g}")
    return str(x)


def _sheet(path: Path, title: str) -> tuple[list[str], list[list[Any]]]:
    ws = openpyxl.load_workbook(path)[title]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def _records(path: Path, title: str) -> list[dict[str, Any]]:
    header, rows = _sheet(path, title)
    return [dict(zip(header, r, strict=True)) for r in rows]


def _figure(d: Any, key: str = "value") -> Any:
    """``d[key]`` of a ``{"value", "se", …}`` dict; a number is its own value, no error."""
    if isinstance(d, dict):
        return d.get(key)
    return d if key == "value" else None


def _assert_figures(row: dict[str, Any], d: Any, *, sign: float = 1.0) -> None:
    value = _figure(d)
    assert row["Value"] == _stored(None if value is None else sign * value), row
    assert row["Standard error"] == _stored(_figure(d, "se")), row
    assert row["95 % CI low"] == _stored(_figure(d, "ci_low")), row
    assert row["95 % CI high"] == _stored(_figure(d, "ci_high")), row


def _summary(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data


def _expected_headline(m: dict[str, Any]) -> list[tuple[str, Any, float]]:
    """The headline rows of a run's metrics: (metric, figures, sign), in the report's order."""
    rows: list[tuple[str, Any, float]] = [
        ("Total exposure", m["total_exposure"], 1.0), ("Expected loss", m["expected_loss"], 1.0),
        ("Loss standard deviation", m["loss_sd"], 1.0),
        ("Expected number of defaults", m["expected_defaults"], 1.0)]
    rows += [(f"Value-at-risk {float(q):.1%}", d, 1.0) for q, d in m["var"].items()]
    rows += [(f"Expected shortfall {float(q):.1%}", d, 1.0) for q, d in m["es"].items()]
    cash = m["cash"]
    rows += [("P(cash breach: the credit line cannot keep the buffer)", cash["p_line_breach"],
              1.0),
             ("P(cash below the buffer without the credit line)", cash["p_buffer_breach"], 1.0)]
    rows += [(f"Cash-flow-at-risk {float(q):.1%}", d, 1.0)
             for q, d in cash["cash_flow_at_risk"].items()]
    rows += [("DSO, average over the horizon", cash["dso_avg"], 1.0),
             ("Peak working-capital requirement", cash["peak_wcr"], 1.0),
             ("Minimum cash balance", cash["min_cash"], 1.0)]
    for name, p in m["insurance"]["policies"].items():
        rows += [(f"Insurance {name}: premium earned", p["premium"], 1.0),
                 (f"Insurance {name}: net cost of cover", p["net_cost_of_cover"], 1.0),
                 (f"Insurance {name}: ES 99.0% reduction", p["delta_es"]["0.99"], -1.0),
                 (f"Insurance {name}: change in P(cash breach)", p["delta_p_line_breach"], 1.0)]
    return rows


@pytest.fixture(params=["batch", "scenario"])
def exported(request: pytest.FixtureRequest, batch: Path) -> tuple[Path, Path]:
    """(workbook, run folder): the batch's own and one scenario's, exported."""
    if request.param == "batch":
        return batch / "results.xlsx", batch
    return request.getfixturevalue("scenario_book"), batch / "scenarios" / "mild_recession"


# -------------------------------------------------------------------------------- sheets

def test_run_xlsx_writes_every_sheet(batch: Path, scenario_book: Path) -> None:
    assert openpyxl.load_workbook(batch / "results.xlsx").sheetnames == [
        *RUN_SHEETS, "Scenarios", "Provenance"]
    assert openpyxl.load_workbook(scenario_book).sheetnames == [*RUN_SHEETS, "Provenance"]


def test_headline_is_summary_json(exported: tuple[Path, Path]) -> None:
    book, folder = exported
    m = _summary(folder)["metrics"]
    rows = _records(book, "Headline")
    expected = _expected_headline(m)
    assert [r["Metric"] for r in rows] == [name for name, _, _ in expected]
    for row, (_, d, sign) in zip(rows, expected, strict=True):
        _assert_figures(row, d, sign=sign)
    units = {r["Metric"]: r["Units"] for r in rows}
    assert units["Expected loss"] == m["currency"]
    assert units["DSO, average over the horizon"] == "days"


def test_sectors_and_contributions_are_summary_json(exported: tuple[Path, Path]) -> None:
    book, folder = exported
    m = _summary(folder)["metrics"]
    sectors = _records(book, "Sectors")
    assert len(sectors) == len(m["by_sector"])
    for row, s in zip(sectors, m["by_sector"], strict=True):
        assert row == {
            "Sector": s["sector"], "Exposure": _stored(s["exposure"]),
            "Expected loss": _stored(s["expected_loss"]["value"]),
            "Expected loss s.e.": _stored(s["expected_loss"]["se"]),
            "Expected defaults": _stored(s["expected_defaults"]["value"]),
            "Expected defaults s.e.": _stored(s["expected_defaults"]["se"]),
            "Share of expected loss": _stored(s["share_of_expected_loss"])}
    with xr.open_dataset(folder / "results.nc", engine="h5netcdf") as ds:
        names = dict(zip(ds["customer"].values.astype(str),
                         ds["customer_name"].values.astype(str), strict=True))
    levels = m["contributions"]["levels"]
    for title, part, key, header in (
            ("Sector contributions", "by_sector", "sector", "Sector"),
            ("Country contributions", "by_country", "country", "Country"),
            ("Largest contributors", "top_customers", "customer_id", "Customer id")):
        rows = _records(book, title)
        expected = [(q, r) for q, d in levels.items() for r in d[part]]
        assert len(rows) == len(expected) > 0
        for row, (q, r) in zip(rows, expected, strict=True):
            assert row["Risk level"] == _stored(float(q))
            assert row[header] == r[key]
            assert row["Exposure"] == _stored(r["exposure"])
            assert row["ES contribution"] == _stored(r["es_contribution"])
            assert row["ES contribution s.e."] == _stored(r["es_contribution_se"])
            assert row["Share of ES"] == _stored(r["es_share"])
            assert row["VaR contribution"] == _stored(r["var_contribution"])
            assert row["VaR contribution s.e."] == _stored(r["var_contribution_se"])
            if part == "top_customers":
                assert row["Name"] == (names[r[key]] or r[key])


def test_cash_bands_are_results_nc(exported: tuple[Path, Path]) -> None:
    book, folder = exported
    first = _summary(folder)["metrics"]["cash"]["first_breach_by_period"]
    rows = _records(book, "Cash by period")
    with xr.open_dataset(folder / "results.nc", engine="h5netcdf") as ds:
        if "scenario" in ds.dims:
            ds = ds.sel(scenario="baseline")
        periods = ds["period"].values.astype(str).tolist()
        assert [r["Period end"] for r in rows] == periods
        for name, var in (("Cash", "cash_band"), ("Receivables", "receivables_band")):
            for q in ds["band"].values:
                band = ds[var].sel(band=q).values
                assert [r[f"{name} {q:.0%} quantile"] for r in rows] == [
                    _stored(float(x)) for x in band]
    assert [r["P(first cash breach)"] for r in rows] == [_stored(f["value"]) for f in first]
    assert [r["P(first cash breach) s.e."] for r in rows] == [_stored(f["se"]) for f in first]


def test_insurance_sheet_holds_every_figure_of_every_policy(
        exported: tuple[Path, Path]) -> None:
    book, folder = exported
    policies = _summary(folder)["metrics"]["insurance"]["policies"]
    rows = _records(book, "Insurance")
    n_figures = 0
    for p in policies.values():
        for v in p.values():
            n_figures += len(v) if isinstance(v, dict) and "value" not in v else 1
    assert len(rows) == n_figures
    for row in rows:
        d = policies[row["Policy"]][row["Figure"]]
        if row["Risk level"] is not None:
            d = d[next(q for q in d if _stored(float(q)) == row["Risk level"])]
        _assert_figures(row, d)


def test_scenarios_sheet_is_comparison_csv(batch: Path) -> None:
    header, rows = _sheet(batch / "results.xlsx", "Scenarios")
    table = pd.read_csv(batch / "comparison.csv")
    assert header == list(table.columns)
    assert rows == [[_stored(v) for v in r] for r in table.itertuples(index=False)]
    ws = openpyxl.load_workbook(batch / "results.xlsx")["Scenarios"]
    units = {c.value: i for i, c in enumerate(ws[1])}
    for r in ws.iter_rows(min_row=2):
        fmt = {"EUR": "#,##0", "1": "0.00%", "days": "#,##0.0", "customers": "#,##0.00"}
        assert r[units["value"]].number_format == fmt[r[units["units"]].value]
        assert r[units["change_pct"]].number_format == "0.00%"


def test_provenance_has_seed_versions_and_input_hashes(exported: tuple[Path, Path]) -> None:
    book, folder = exported
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    items = dict(_sheet(book, "Provenance")[1])
    assert items["Seed"] == str(info["seed"])
    # a batch's run.json names its scenario folders; the hashes are the baseline's
    prov = _summary(folder)["provenance"]
    assert items["Config hash (SHA-256)"] == info.get("config_hash", prov["config_hash"])
    assert items["Book SHA-256"] == info["book_sha256"]
    assert info.get("batch") or info["input_sha256"]
    for path, digest in info.get("input_sha256", {}).items():
        assert items[f"SHA-256 of {path}"] == digest
    for package, version in info["versions"].items():
        if package != "platform":
            assert f"{package} {version}" in items["Versions"]
    assert "Workbook made (UTC)" in items


def test_batch_provenance_lists_every_input_of_every_scenario(batch: Path,
                                                             scenario_book: Path) -> None:
    items = dict(_sheet(batch / "results.xlsx", "Provenance")[1])
    info = json.loads((batch / "run.json").read_text(encoding="utf-8"))
    assert list(info["scenarios"]) == ["baseline", "mild_recession"]
    want = {}
    for name, sub in info["scenarios"].items():
        ran = json.loads((batch / sub / "run.json").read_text(encoding="utf-8"))
        assert "example_book.csv" in " ".join(ran["input_sha256"])
        for path in ran["input_sha256"]:  # hashed again here, from the file
            want[f"SHA-256 of {path} (scenario {name})"] = hashlib.sha256(
                Path(path).read_bytes()).hexdigest()
    assert {k: v for k, v in items.items() if "(scenario " in k} == want
    # a scenario's own workbook lists its inputs without a scenario name
    one = dict(_sheet(scenario_book, "Provenance")[1])
    assert [k for k in one if k.startswith("SHA-256 of ")]
    assert not [k for k in one if "(scenario " in k]


def test_formats_frozen_headers_and_widths(scenario_book: Path) -> None:
    wb = openpyxl.load_workbook(scenario_book)
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        for j, c in enumerate(ws[1], start=1):
            width = ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width
            assert len(str(c.value)) + 2 <= width <= 60, (ws.title, c.value)
    head = {r[0].value: r for r in wb["Headline"].iter_rows(min_row=2)}
    assert head["Expected loss"][1].number_format == "#,##0"
    assert head["Expected loss"][2].number_format == "#,##0"
    assert head["P(cash breach: the credit line cannot keep the buffer)"][1].number_format \
        == "0.00%"
    assert head["DSO, average over the horizon"][1].number_format == "#,##0.0"
    assert head["Total exposure"][2].value is None  # no error: an empty cell
    sectors = wb["Sectors"]
    assert sectors["B2"].number_format == "#,##0"
    assert sectors["G2"].number_format == "0.00%"
    assert isinstance(sectors["B2"].value, float)
    assert wb["Sector contributions"]["A2"].number_format == "0.0%"
    # the widest name in the column fits
    names = [c.value for c in wb["Largest contributors"]["C"]]
    assert wb["Largest contributors"].column_dimensions["C"].width == min(
        max(len(str(n)) for n in names) + 2, 60)


def test_run_without_timeline_or_insurance_leaves_their_sheets_out(tmp_path: Path) -> None:
    lines = (ROOT / "configs" / "example_book.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "book.csv").write_text("\n".join(lines[:21]) + "\n", encoding="utf-8")
    (tmp_path / "small.toml").write_text(
        'name = "small"\n[book]\npath = "book.csv"\ncurrency = "EUR"\n'
        "[simulation]\npaths = 500\nseed = 5\n[risk]\nlevels = [0.95, 0.99]\n",
        encoding="utf-8")
    out = tmp_path / "run"
    res = _invoke("run", tmp_path / "small.toml", "--out", out, "--quiet", "--xlsx")
    assert res.exit_code == 0, res.output
    book = out / "results.xlsx"
    assert openpyxl.load_workbook(book).sheetnames == [
        "Headline", "Sectors", "Sector contributions", "Country contributions",
        "Largest contributors", "Provenance"]
    m = _summary(out)["metrics"]
    rows = _records(book, "Headline")
    expected = [("Total exposure", m["total_exposure"]), ("Expected loss", m["expected_loss"]),
                ("Loss standard deviation", m["loss_sd"]),
                ("Expected number of defaults", m["expected_defaults"])]
    expected += [(f"Value-at-risk {float(q):.1%}", d) for q, d in m["var"].items()]
    expected += [(f"Expected shortfall {float(q):.1%}", d) for q, d in m["es"].items()]
    assert [r["Metric"] for r in rows] == [name for name, _ in expected]
    for row, (_, d) in zip(rows, expected, strict=True):
        _assert_figures(row, d)


# ---------------------------------------------------------------------------- ecl folder

def test_ecl_folder_sheets_are_its_csv_files(ecl_folder: Path) -> None:
    res = _invoke("export", ecl_folder, "--xlsx")
    assert res.exit_code == 0, res.output
    book = ecl_folder / "ecl.xlsx"
    assert res.output.strip() == str(book)
    titles = {"Provision matrix": "ecl", "Disclosure": "disclosure", "Movement": "movement",
              "Historical rates": "historical", "Insurance recoveries": "insurance",
              "Customers": "ecl_customers"}
    assert openpyxl.load_workbook(book).sheetnames == list(titles)
    for title, name in titles.items():
        header, rows = _sheet(book, title)
        table = pd.read_csv(ecl_folder / f"{name}.csv")
        assert header == list(table.columns)
        assert rows == [[_stored(v) for v in r] for r in table.itertuples(index=False)], title
    ws = openpyxl.load_workbook(book)["Provision matrix"]
    fmt = {c.value: ws.cell(2, j).number_format for j, c in enumerate(ws[1], start=1)}
    assert fmt["gross_carrying_amount"] == "#,##0"
    assert fmt["historical_rate"] == "0.000%"
    assert fmt["n_observations"] == "#,##0"
    hist = openpyxl.load_workbook(book)["Historical rates"]
    assert hist["E1"].value == "paid"
    assert hist["E2"].number_format == "0.00%"


# -------------------------------------------------------------------------------- errors

def test_missing_openpyxl_names_the_extra(monkeypatch: pytest.MonkeyPatch, batch: Path,
                                          tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_openpyxl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "openpyxl" or name.startswith("openpyxl."):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    res = _invoke("export", batch, "--xlsx", "--out", tmp_path / "x.xlsx")
    assert res.exit_code == 1
    assert "openpyxl" in res.output
    assert "pip install 'portsim[excel]'" in res.output
    assert not (tmp_path / "x.xlsx").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left


@pytest.mark.parametrize("case", ["missing", "not a run", "incomplete"])
def test_bad_folder_exits_1_with_one_problem(case: str, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    if case != "missing":
        folder.mkdir()
    if case == "incomplete":
        (folder / ".incomplete").write_text("resume it", encoding="utf-8")
    res = _invoke("export", folder, "--xlsx")
    assert res.exit_code == 1
    assert res.output.startswith("error: cannot export: 1 problem(s)\n")
    problems = [ln for ln in res.output.splitlines() if ln.startswith("  - ")]
    assert len(problems) == 1, res.output
    rule = {"missing": "is not a folder", "not a run": "results.nc is missing",
            "incomplete": f"finish it first: portsim run --resume {folder}"}[case]
    assert rule in problems[0]
    assert not (folder / "results.xlsx").exists()


def test_export_needs_a_format(batch: Path) -> None:
    res = _invoke("export", batch)
    assert res.exit_code == 2
    assert "--xlsx" in res.output


# --------------------------------------------------------------------------- warn folder

def test_warn_folder_sheets_are_its_alerts_and_model_card(tmp_path: Path) -> None:
    folder = tmp_path / "warn"
    res = _invoke("warn", ROOT / "configs" / "example_warn.toml", "--as-of", "2026-12-31",
                  "--out", folder)
    assert res.exit_code == 0, res.output
    res = _invoke("export", folder, "--xlsx")
    assert res.exit_code == 0, res.output
    book = folder / "warn.xlsx"
    assert res.output.strip() == str(book)
    assert openpyxl.load_workbook(book).sheetnames == ["Alerts", "Levels", "Model", "Model card"]
    table = pd.read_csv(folder / "warnings.csv", dtype={"customer_id": str})
    header, rows = _sheet(book, "Alerts")
    assert header == list(table.columns)
    assert rows == [[_stored(v) for v in r] for r in table.itertuples(index=False)]
    levels = {r["level"]: r for r in _records(book, "Levels")}
    for level, group in table.groupby("level"):
        assert levels[level]["customers"] == len(group)
        # a mean summed in another order may differ in its last bit
        assert levels[level]["mean_pd"] == pytest.approx(float(group["pd"].mean()), rel=1e-14)
        assert levels[level]["max_pd"] == _stored(float(group["pd"].max()))
    card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert _sheet(book, "Model")[1] == [[f["name"], _stored(f["coefficient"])]
                                        for f in card["features"]]
    items = {r["Item"]: r["Value"] for r in _records(book, "Model card")}
    assert items["as_of"] == "2026-12-31"
    assert items["intercept"] == _stored(card["intercept"])
    assert items["metrics.in_sample.auc"] == _stored(card["metrics"]["in_sample"]["auc"])
    assert items["window.defaults"] == card["window"]["defaults"]
    ws = openpyxl.load_workbook(book)["Alerts"]
    fmt = {c.value: ws.cell(2, j).number_format for j, c in enumerate(ws[1], start=1)}
    assert fmt["pd"] == "0.000%"
    assert fmt["prepayment"] == "0.00%"
