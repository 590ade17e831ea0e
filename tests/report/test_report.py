"""The risk committee report: figures, tables, HTML and PDF, the CLI, and a real browser.

Two small runs are made once per module through the command line: the shipped example
(2,000 paths, timeline and insurance) and the example book's first ten customers without a
timeline. Conditional sections (insurance on its own, scenarios) are tested on synthetic
Datasets. The browser test renders the example's HTML report in headless Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from typer.testing import CliRunner

from portsim.cli import app
from portsim.report.cash_figures import plot_cash_fan, plot_dso, plot_wcr
from portsim.report.comparison_figures import (
    cover_frame,
    plot_insurance_losses,
    plot_insurance_value,
    plot_scenarios,
    plot_warning_value,
)
from portsim.report.figures import (
    exceedance_curve,
    plot_exceedance,
    plot_loss_histogram,
    plot_sector_shares,
    plot_top_customers,
    wilson_interval,
)
from portsim.report.html import render_html
from portsim.report.pdf import render_pdf
from portsim.report.plotting import format_money, label
from portsim.report.run import from_dataset
from portsim.report.sections import NO_CASH_SENTENCE
from portsim.report.tables import concentration, headline_table
from portsim.results.comparison import scenario_comparison, scenario_frame, warning_value_frame
from portsim.results.dataset import BAND_QUANTILES
from portsim.results.estimators import Z95, expected_shortfall, value_at_risk
from portsim.workflow.folders import read_run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "example.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _axes() -> tuple[Figure, object]:
    fig = Figure(layout="constrained")
    return fig, fig.add_subplot()


def _line(ax: object, gid: str) -> object:
    found = [ln for ln in ax.get_lines() if ln.get_gid() == gid]  # type: ignore[attr-defined]
    assert len(found) == 1, f"no single line with gid {gid!r}"
    return found[0]


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def _draw(fig: Figure) -> None:
    """Render to PNG: catches errors raised only at draw time (e.g. mathtext)."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example, 2,000 paths, made by ``portsim run --report``."""
    out = tmp_path_factory.mktemp("example") / "run"
    res = CliRunner().invoke(app, ["run", str(EXAMPLE), "--paths", "2000", "--seed", "11",
                                   "--out", str(out), "--quiet", "--report"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example book's first ten customers (untrusted names included), no timeline."""
    folder = tmp_path_factory.mktemp("small")
    lines = (ROOT / "configs" / "example_book.csv").read_text(encoding="utf-8").splitlines()
    (folder / "book.csv").write_text("\n".join(lines[:11]) + "\n", encoding="utf-8")
    (folder / "small.toml").write_text(
        'name = "small"\ndescription = "ten customers & no timeline"\n'
        '[book]\npath = "book.csv"\ncurrency = "EUR"\n'
        "[simulation]\npaths = 2000\nseed = 5\n[risk]\nlevels = [0.95, 0.99]\n",
        encoding="utf-8")
    out = folder / "run"
    res = CliRunner().invoke(app, ["run", str(folder / "small.toml"), "--out", str(out),
                                   "--quiet", "--report"])
    assert res.exit_code == 0, res.output
    return out


def _synthetic(n: int = 4000, *, seed: int = 0, scenarios: list[str] | None = None,
               policies: bool = False) -> xr.Dataset:
    """A Dataset shaped like a run's: loss, sectors, customers, cash; optionally a
    ``scenario`` dimension (the stress doubles every loss) and insurance variables."""
    rng = np.random.default_rng(seed)
    cur = "EUR"

    def attrs(units: str, long_name: str) -> dict[str, str]:
        return {"units": units, "long_name": long_name}

    sector_loss = rng.gamma(0.5, 40_000.0, size=(n, 2))
    loss = sector_loss.sum(axis=1)
    periods = ["2027-01-31", "2027-02-28", "2027-03-31"]
    cash = rng.normal(5e6, 2e6, size=(n, 3)).cumsum(axis=1)
    ds = xr.Dataset(
        {
            "loss": ("path", loss, attrs(cur, "credit loss over the horizon")),
            "n_defaults": ("path", rng.poisson(3, n), attrs("1", "number of defaults")),
            "sector_loss": (("path", "sector"), sector_loss, attrs(cur, "loss by sector")),
            "sector_n_defaults": (("path", "sector"), rng.poisson(1, (n, 2)), attrs("1", "")),
            "customer_expected_loss": ("customer", [30_000.0, 10_000.0, 500.0],
                                       attrs(cur, "expected loss by customer")),
            "exposure": ("customer", [50.0e6, 30.0e6, 20.0e6], attrs(cur, "open receivable")),
            "p_default": ("customer", [0.01, 0.02, 0.001], attrs("1", "PD")),
            "p_horizon": ("customer", [0.01, 0.02, 0.001], attrs("1", "PD horizon")),
            "lgd": ("customer", [0.5, 0.5, 0.5], attrs("1", "LGD")),
            "customer_sector": ("customer", ["alpha", "beta", "alpha"], attrs("", "sector")),
            "customer_name": ("customer", ["Cash $ Carry <b>AG</b>", "Müller & Co", ""],
                              attrs("", "customer name")),
            "dso_avg": ("path", rng.normal(70, 5, n), attrs("days", "days sales outstanding")),
            "peak_wcr": ("path", rng.normal(5e7, 4e6, n), attrs(cur, "peak WCR")),
            "cash_series": (("sample_path", "period"), cash.astype(np.float32),
                            attrs(cur, "cash at the end of each period")),
            "cash_band": (("band", "period"), np.quantile(cash, BAND_QUANTILES, axis=0),
                          attrs(cur, "quantiles of cash across paths")),
        },
        coords={"path": np.arange(n), "sector": ["alpha", "beta"],
                "customer": ["X1", "X2", "X3"], "period": ("period", periods,
                                                           attrs("", "reporting period")),
                "band": list(BAND_QUANTILES), "sample_path": np.arange(n)},
        attrs={"currency": cur, "risk_levels": np.array([0.95, 0.99]), "n_paths": n,
               "min_cash_buffer": 2e6, "credit_line": 8e6, "series_stride": 1,
               "series_dtype": "float32", "config_name": "synthetic"},
    )
    if policies:  # "half": half of every loss indemnified, cash untouched by the cover
        share = xr.DataArray([0.0, 0.5], dims="policy",
                             coords={"policy": ["none", "half"]})
        ds["indemnity"] = (ds["loss"] * share).transpose("path", "policy")
        ds["indemnity_cash"] = ds["indemnity"]
        ds["retained_loss"] = (ds["loss"] - ds["indemnity"]).transpose("path", "policy")
        ds["n_claims"] = (ds["n_defaults"] * (share > 0)).transpose("path", "policy")
        for name, value in (("premium", 25_000.0), ("premium_paid", 25_000.0),
                            ("annual_premium", 25_000.0), ("insured_turnover", 5e6)):
            ds[name] = ("policy", [0.0, value], attrs(cur, name))
        ncf = rng.normal(1e6, 3e5, n)
        ds["policy_net_cash_flow"] = (("path", "policy"), np.stack([ncf, ncf], axis=1))
        for name in ("policy_buffer_breach", "policy_line_breach"):
            ds[name] = (("path", "policy"), np.zeros((n, 2), dtype=bool))
    if scenarios:
        factor = xr.DataArray(np.arange(1.0, len(scenarios) + 1.0), dims="scenario",
                              coords={"scenario": scenarios})
        for v in ("loss", "sector_loss"):
            ds[v] = (ds[v] * factor).assign_attrs(ds[v].attrs)
    return ds


# -------------------------------------------------------------------------------- helpers

def test_format_money_and_labels() -> None:
    assert [format_money(x) for x in (0, 950, 430_000, 1_234_567, 2.5e9, -6e6)] == [
        "0", "950", "430k", "1.23m", "2.5bn", "-6m"]
    assert format_money(float("nan")) == ""
    da = xr.DataArray([1.0], dims="path", attrs={"units": "EUR", "long_name": "credit loss"})
    assert label(da) == "Credit loss (EUR)"
    assert label(da.assign_attrs(units="1")) == "Credit loss"
    assert label(da.assign_attrs(long_name="cost in $")) == r"Cost in \$ (EUR)"


def test_wilson_interval_solves_its_quadratic() -> None:
    """The Wilson bounds are the roots of (k/n − p)² = z²·p(1 − p)/n."""
    n, k = 200, np.array([1, 7, 100, 199])
    lo, hi = wilson_interval(k, n)
    for p in (lo, hi):
        assert np.allclose((k / n - p) ** 2, Z95**2 * p * (1 - p) / n, rtol=1e-9)
    assert np.all(lo < k / n)
    assert np.all(k / n < hi)


def test_exceedance_curve_hand_worked() -> None:
    curve = exceedance_curve(np.array([0.0, 0.0, 1.0, 2.0, 3.0]))
    assert curve["x"].tolist() == [0.0, 1.0, 2.0]  # P(L > 3) = 0 is left out
    assert curve["p"].tolist() == [0.6, 0.4, 0.2]
    big = exceedance_curve(np.arange(100_000.0), max_points=300)
    assert len(big) <= 300
    assert big["count"].min() == 1
    assert np.allclose(big["p"], (99_999 - big["x"]) / 100_000)


# -------------------------------------------------------------------------------- figures

def test_loss_histogram_marks_the_reported_metrics(example_run: Path) -> None:
    run = read_run(example_run)
    fig, ax = _axes()
    assert plot_loss_histogram(run.ds, ax, levels=[0.95, 0.99]) is ax
    m = run.metrics
    assert _line(ax, "expected_loss").get_xdata()[0] == pytest.approx(
        m["expected_loss"]["value"], rel=1e-12)
    for q in ("0.95", "0.99"):
        assert _line(ax, f"var_{q}").get_xdata()[0] == pytest.approx(m["var"][q]["value"],
                                                                     rel=1e-12)
        assert _line(ax, f"es_{q}").get_xdata()[0] == pytest.approx(m["es"][q]["value"],
                                                                    rel=1e-12)
    assert ax.get_xlabel() == "Credit loss over the horizon (EUR)"
    assert ax.xaxis.get_major_formatter()(2_500_000, 0) == "2.5m"
    _draw(fig)


def test_exceedance_plot_log_scale_and_band(example_run: Path) -> None:
    ds = read_run(example_run).ds
    fig, ax = _axes()
    plot_exceedance(ds, ax)
    assert ax.get_yscale() == "log"
    curve = exceedance_curve(ds["loss"].values)
    line = _line(ax, "exceedance")
    assert np.array_equal(line.get_ydata(), curve["p"].to_numpy())
    assert np.all(curve["lo"] <= curve["p"])
    assert np.all(curve["p"] <= curve["hi"])
    # the curve crosses 1 − q at the reported VaR: P(L > VaR) ≤ 1 − q < P(L ≥ VaR)
    loss = ds["loss"].values
    var = value_at_risk(loss, 0.99)[0]
    assert (loss > var).mean() <= 0.01 < (loss >= var).mean()
    _draw(fig)


def test_cash_fan_median_bands_and_buffer(example_run: Path) -> None:
    ds = read_run(example_run).ds
    fig, ax = _axes()
    assert plot_cash_fan(ds, ax) is ax
    assert np.array_equal(_line(ax, "median").get_ydata(),
                          ds["cash_band"].sel(band=0.5).values)
    assert _line(ax, "min_cash_buffer").get_ydata()[0] == ds.attrs["min_cash_buffer"]
    assert _line(ax, "buffer_minus_line").get_ydata()[0] == (
        ds.attrs["min_cash_buffer"] - ds.attrs["credit_line"])
    gids = {c.get_gid() for c in ax.collections}
    assert {"band_0.05_0.95", "band_0.25_0.75"} <= gids
    band = next(c for c in ax.collections if c.get_gid() == "band_0.25_0.75")
    ys = band.get_paths()[0].vertices[:, 1]
    lo, hi = ds["cash_band"].sel(band=0.25).values, ds["cash_band"].sel(band=0.75).values
    assert ys.min() == pytest.approx(lo.min())
    assert ys.max() == pytest.approx(hi.max())
    assert ax.get_ylabel() == "Cash at the end of each period (EUR)"
    _draw(fig)


def test_dso_and_wcr_distributions(example_run: Path) -> None:
    ds = read_run(example_run).ds
    fig = Figure(layout="constrained")
    a, b = fig.subplots(1, 2)
    plot_dso(ds, a)
    plot_wcr(ds, b)
    dso = ds["dso_avg"].values
    assert _line(a, "mean").get_xdata()[0] == pytest.approx(np.nanmean(dso))
    assert _line(a, "q_0.95").get_xdata()[0] == pytest.approx(
        np.quantile(dso[np.isfinite(dso)], 0.95))
    assert a.get_xlabel().endswith("(days)")
    assert b.get_xlabel().endswith("(EUR)")
    _draw(fig)


def test_figures_without_ax_make_their_own() -> None:
    import matplotlib.pyplot as plt

    ds = _synthetic(500)
    try:
        for plot in (plot_loss_histogram, plot_exceedance, plot_cash_fan, plot_dso,
                     plot_top_customers, plot_sector_shares):
            ax = plot(ds)
            assert ax.figure is not None
            assert ax.has_data()
    finally:
        plt.close("all")


def test_concentration_indices_and_untrusted_names() -> None:
    ds = _synthetic(500)
    c = concentration(from_dataset(ds))
    idx = dict(zip(c["indices"]["index"], c["indices"]["value"], strict=True))
    hhi = 0.5**2 + 0.3**2 + 0.2**2
    assert idx["Herfindahl index of exposure (customers)"] == pytest.approx(hhi)
    assert idx["Effective number of customers (1 / HHI)"] == pytest.approx(1 / hhi)
    assert idx["Top-3 customers' share of exposure"] == pytest.approx(1.0)
    assert idx["Herfindahl index of exposure (sectors)"] == pytest.approx(0.7**2 + 0.3**2)
    assert c["by_exposure"]["name"].tolist() == ["Cash $ Carry <b>AG</b>", "Müller & Co", "X3"]
    fig, ax = _axes()
    plot_top_customers(ds, ax, by="expected_loss")
    assert ax.get_yticklabels()[0].get_text() == r"Cash \$ Carry <b>AG</b>"
    _draw(fig)  # a lone "$" would break mathtext here


# ------------------------------------------------------------------- conditional sections

def test_insurance_section_from_synthetic_variables() -> None:
    ds = _synthetic(4000, policies=True)
    fr = cover_frame(ds, 0.99).set_index("policy")
    loss = ds["loss"].values
    half = fr.loc["half"]
    assert half["expected_indemnity"] == pytest.approx(0.5 * loss.mean())
    # ES is positively homogeneous: ES(L/2) = ES(L)/2, so the reduction is ES(L)/2 exactly
    assert half["tail_reduction"] == pytest.approx(0.5 * expected_shortfall(loss, 0.99)[0])
    assert half["net_cost"] == pytest.approx(25_000.0 - 0.5 * loss.mean())
    assert fr.loc["none", "tail_reduction"] == pytest.approx(0.0, abs=1e-6)
    fig = Figure(layout="constrained")
    a, b = fig.subplots(1, 2)
    plot_insurance_losses(ds, a)
    plot_insurance_value(ds, b)
    _draw(fig)
    run = from_dataset(ds)
    html = render_html(run)
    assert "Credit insurance" in html
    assert "Net cost of cover" in html
    head = headline_table(run)
    assert any(head["metric"].str.startswith("Insurance half: ES 99.0% reduction"))
    assert "Scenarios" not in html


def test_insurance_rows_follow_summary_json(example_run: Path) -> None:
    run = read_run(example_run)
    pols = run.metrics["insurance"]["policies"]
    head = headline_table(run).set_index("metric")
    for name, p in pols.items():
        row = head.loc[f"Insurance {name}: net cost of cover"]
        assert row["value_num"] == p["net_cost_of_cover"]["value"]
        assert row["se"] == p["net_cost_of_cover"]["se"]
        assert head.loc[f"Insurance {name}: ES 99.0% reduction", "value_num"] == (
            -p["delta_es"]["0.99"]["value"])


def test_scenario_section_from_synthetic_dimension() -> None:
    ds = _synthetic(3000, scenarios=["baseline", "recession"])
    fr = scenario_frame(ds, 0.99).set_index("scenario")
    base = ds["loss"].sel(scenario="baseline").values
    assert fr.loc["baseline", "expected_loss"] == pytest.approx(base.mean())
    # the stress doubles every path's loss: every metric changes by +100 %
    for col in ("expected_loss", "var_0.99", "es_0.99"):
        assert fr.loc["recession", f"{col}_change_pct"] == pytest.approx(1.0)
        assert fr.loc["baseline", f"{col}_change"] == 0.0
    fig, ax = _axes()
    plot_scenarios(ds, ax, 0.99)
    _draw(fig)
    html = render_html(from_dataset(ds))
    assert '<section id="scenarios">' in html
    assert "change vs baseline" in html
    assert "recession" in html
    assert "+100.0%" in html


# ------------------------------------------------------------------- whole reports, CLI

def test_example_report_html_is_self_contained_and_complete(example_run: Path) -> None:
    html = (example_run / "report.html").read_text(encoding="utf-8")
    assert not (example_run / ".incomplete").exists()
    for section in ("headline", "loss", "cash", "insurance", "concentration", "provenance"):
        assert f'<section id="{section}">' in html
    assert "<script" not in html.lower()
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    assert "default-src 'none'" in html  # no network access, no scripts
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(pngs) == 9
    assert all(base64.b64decode(p).startswith(b"\x89PNG") for p in pngs)
    run = read_run(example_run)
    info = json.loads((example_run / "run.json").read_text(encoding="utf-8"))
    assert info["config_hash"] in html
    assert f"{info['n_paths']:,}" in html
    el = run.metrics["expected_loss"]
    assert f"{format_money(el['value'], 4)}</td>" in html
    assert f"± {format_money(el['se'])} (s.e.)" in html
    assert "<unbenannt>" not in html
    assert run.ds["customer_name"].sel(customer="C00001") == "Keller & Söhne Healthcare GmbH"


def test_untrusted_names_are_escaped(small_run: Path) -> None:
    html = (small_run / "report.html").read_text(encoding="utf-8")
    assert "Diverse Kleinkunden &lt;unbenannt&gt;" in html
    assert "<unbenannt>" not in html
    assert "Keller &amp; Söhne Healthcare GmbH" in html
    assert "Keller & Söhne" not in html
    assert "ten customers &amp; no timeline" in html  # the config description too


def test_report_without_timeline_says_why(small_run: Path) -> None:
    html = (small_run / "report.html").read_text(encoding="utf-8")
    import html as html_lib

    assert html_lib.escape(NO_CASH_SENTENCE) in html
    assert "fan chart" not in html.lower()
    assert '<section id="insurance">' not in html
    res = CliRunner().invoke(app, ["report", str(small_run), "--format", "pdf"])
    assert res.exit_code == 0, res.output
    pdf = (small_run / "report.pdf").read_bytes()
    # headline, loss, cash (a sentence), concentration (tables, figures), provenance
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) == 6


def test_pdf_has_a_page_per_section() -> None:
    pdf = render_pdf(from_dataset(_synthetic(800, policies=True)))
    # headline, loss, cash, insurance, concentration (tables, figures), provenance
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) == 7


def test_report_cli_errors(tmp_path: Path, small_run: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert res.exit_code == 1
    assert "cannot report" in res.output
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / ".incomplete").touch()
    res = runner.invoke(app, ["report", str(tmp_path / "half")])
    assert res.exit_code == 1
    assert "portsim run --resume" in res.output
    out = tmp_path / "elsewhere.html"
    res = runner.invoke(app, ["report", str(small_run), "--out", str(out)])
    assert res.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_names_come_from_results_nc_not_the_book(tmp_path: Path, small_run: Path) -> None:
    """The report reads names from results.nc: a changed (or missing) book does not matter,
    and a folder written before names were stored shows ids and says why."""
    run_dir = tmp_path / "run"
    shutil.copytree(small_run, run_dir)
    (small_run.parent / "book.csv").rename(tmp_path / "moved.csv")
    try:
        html = render_html(read_run(run_dir))
    finally:
        (tmp_path / "moved.csv").rename(small_run.parent / "book.csv")
    assert "Keller &amp; Söhne Healthcare GmbH" in html
    with xr.open_dataset(run_dir / "results.nc", engine="h5netcdf") as f:
        old = f.load().drop_vars("customer_name")
    old.to_netcdf(run_dir / "results.nc", engine="h5netcdf")
    run = read_run(run_dir)
    assert "customer_name" not in run.ds
    assert any("holds no names" in n for n in run.notes)
    html = render_html(run)
    assert "C00001" in html
    assert "Keller" not in html


def test_comparison_table_of_a_batch_folder(tmp_path: Path, small_run: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(small_run, run_dir)
    (run_dir / "comparison.csv").write_text(
        "scenario,expected_loss,note\nbaseline,1500.5,<b>base</b>\nrecession,3001.0,x & y\n",
        encoding="utf-8")
    html = render_html(read_run(run_dir))
    assert '<section id="scenarios">' in html
    assert "&lt;b&gt;base&lt;/b&gt;" in html
    assert "x &amp; y" in html
    assert "3.001k" in html


# ---------------------------------------------------------------------------- the browser

_CHECK = """
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push("error " + e.message); },
                        true);
document.addEventListener("securitypolicyviolation", function (e) {
  window.__errors.push("csp " + e.violatedDirective + " " + e.blockedURI);
});
window.addEventListener("load", function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.documentElement.setAttribute("data-images", ok.length + "/" + imgs.length);
  document.documentElement.setAttribute("data-errors", window.__errors.join(" | "));
});
"""


def _chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars", f"--user-data-dir={user_dir}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_html_report_in_headless_chromium(example_run: Path, tmp_path: Path) -> None:
    """Every image loads, nothing is blocked, nothing is logged to the console."""
    if CHROMIUM is None:
        if os.environ.get("PORTSIM_REQUIRE_BROWSER"):
            pytest.fail("chromium is missing although PORTSIM_REQUIRE_BROWSER is set")
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install chromium)")
    html = (example_run / "report.html").read_text(encoding="utf-8")
    # the checker script is allowed by its hash only; the report's own policy stays in force
    digest = base64.b64encode(hashlib.sha256(_CHECK.encode()).digest()).decode()
    checked = html.replace("default-src 'none';",
                           f"default-src 'none'; script-src 'sha256-{digest}';", 1)
    checked = checked.replace("</head>", f"<script>{_CHECK}</script></head>", 1)
    page = tmp_path / "checked.html"
    page.write_text(checked, encoding="utf-8")
    res = _chromium("--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                    "--dump-dom", page.as_uri(), user_dir=tmp_path / "profile")
    assert res.returncode == 0, res.stderr[-2000:]
    n_img = html.count("<img ")
    assert f'data-images="{n_img}/{n_img}"' in res.stdout, res.stdout[:300]
    assert 'data-errors=""' in res.stdout
    console = [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln]
    assert not console, console
    shot = tmp_path / "report.png"
    res = _chromium(f"--screenshot={shot}", "--window-size=1280,4000",
                    (example_run / "report.html").as_uri(), user_dir=tmp_path / "profile")
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.exists()
    from matplotlib.image import imread

    img = imread(shot)
    assert img.shape[:2] == (4000, 1280)
    assert img[:, :, :3].std() > 0.05  # something was drawn, not a blank page
    assert math.isfinite(float(img.mean()))


def test_value_of_early_warning_section_and_chart(tmp_path: Path, small_run: Path) -> None:
    """A batch whose runs carry lost_margin: the report shows the value-of-warning table and
    the chart of loss avoided against margin lost, with 95 % error bars."""
    rng = np.random.default_rng(8)
    n = 3000
    loss = rng.gamma(0.5, 40_000.0, n)
    cut = xr.DataArray([0.0, 0.3, 0.1], dims="scenario")
    paths = xr.Dataset({
        "loss": ("path", loss), "n_defaults": ("path", rng.poisson(1.0, n)),
        "lost_margin": ("path", 0.2 * loss * (rng.random(n) < 0.5))},
        attrs={"currency": "EUR"})
    paths["loss"] = paths["loss"] * (1 - cut)
    paths["lost_margin"] = paths["lost_margin"] * (cut > 0)
    paths = paths.assign_coords(scenario=["baseline", "stop_red", "prepay_red"])
    table = scenario_comparison(paths, [0.99], "baseline")
    run_dir = tmp_path / "run"
    shutil.copytree(small_run, run_dir)
    table.to_csv(run_dir / "comparison.csv", index=False)
    html = render_html(read_run(run_dir))
    assert "Value of early warning" in html
    assert "Loss avoided against margin lost, by action policy" in html
    fr = warning_value_frame(table, "baseline", 0.99)
    assert format_money(fr["loss_avoided"].iloc[0], 4) in html
    ax = plot_warning_value(fr, Figure().add_subplot(), "EUR")
    assert ax.get_xlabel() == "Loss avoided (EUR)"
    for k in range(len(fr)):
        pt, _caps, (xbar, ybar) = ax.containers[k]
        assert pt.get_gid() == f"policy_{k}"
        x0, x1 = xbar.get_segments()[0][:, 0]
        y0, y1 = ybar.get_segments()[0][:, 1]
        assert x1 - x0 == pytest.approx(2 * Z95 * fr["loss_avoided_se"].iloc[k])
        assert y1 - y0 == pytest.approx(2 * Z95 * fr["margin_lost_se"].iloc[k])
        assert pt.get_xdata()[0] == fr["loss_avoided"].iloc[k]
