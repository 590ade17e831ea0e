"""Numbers computed once: the value of cover and the scenario comparison are computed by
:mod:`portsim.results`; the report's tables and figures and the command line show exactly
those numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from rich.console import Console

import portsim
from portsim.cli.common import fmt_short
from portsim.cli.summary import _insurance_table, print_comparison
from portsim.config import load_config
from portsim.report.comparison_figures import cover_frame
from portsim.report.plotting import format_money
from portsim.report.tables import fmt_value, insurance_table, scenario_table
from portsim.results.comparison import comparison_frame, scenario_comparison, scenario_frame
from portsim.results.metrics import insurance_frame, risk_metrics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "example.toml"


@pytest.fixture(scope="module")
def insured() -> tuple[xr.Dataset, dict[str, Any]]:
    """The example (two insurance variants), 600 paths, and its risk metrics."""
    ds = portsim.run(load_config(EXAMPLE), paths=600, seed=9, threads=1, contributions=False)
    return ds, risk_metrics(ds, [0.95, 0.99])


def _scenarios(n: int = 2000) -> xr.Dataset:
    """Three scenarios on the same paths: the stress scales every loss by 1, 1.5 and 3."""
    rng = np.random.default_rng(3)
    loss = rng.gamma(0.4, 50_000.0, n)
    factor = xr.DataArray([1.0, 1.5, 3.0], dims="scenario",
                          coords={"scenario": ["baseline", "mild", "severe"]})
    ds = xr.Dataset({"loss": ("path", loss, {"units": "EUR", "long_name": "loss"}),
                     "n_defaults": ("path", rng.poisson(2, n))},
                    attrs={"currency": "EUR", "risk_levels": np.array([0.99])})
    ds["loss"] = (ds["loss"] * factor).assign_attrs(ds["loss"].attrs)
    return ds


def test_insurance_frame_reads_the_metrics(insured: tuple[xr.Dataset, dict[str, Any]]) -> None:
    ds, m = insured
    fr = insurance_frame(m, 0.99).set_index("policy")
    assert fr.index.tolist() == ["none", *m["insurance"]["policies"]]
    assert fr.loc["none", "es_retained"] == m["es"]["0.99"]["value"]
    assert fr.loc["none", "tail_reduction"] == 0.0
    for name, p in m["insurance"]["policies"].items():
        row = fr.loc[name]
        assert row["expected_indemnity"] == p["expected_indemnity"]["value"]
        assert row["net_cost"] == p["net_cost_of_cover"]["value"]
        assert row["tail_reduction"] == -p["delta_es"]["0.99"]["value"]
        assert row["tail_reduction_se"] == p["delta_es"]["0.99"]["se"]
        assert row["var_retained"] == p["retained_var"]["0.99"]["value"]
    # the figures' numbers: the same, whether given the metrics or computing them
    assert cover_frame(ds, 0.99, m).equals(insurance_frame(m, 0.99))
    assert cover_frame(ds, 0.99).equals(insurance_frame(risk_metrics(ds, [0.99]), 0.99))


def test_report_and_cli_show_the_insurance_metrics(
        insured: tuple[xr.Dataset, dict[str, Any]]) -> None:
    _, m = insured
    tab = insurance_table(m)
    rows = {r[0]: r[1:] for r in tab.rows}
    pols = m["insurance"]["policies"]
    assert tab.header[1:] == list(pols)
    con = Console(record=True, width=400)
    con.print(_insurance_table(m))
    text = con.export_text()
    for k, p in enumerate(pols.values()):
        cost = p["net_cost_of_cover"]
        want = f"{fmt_value('money', cost['value'])} ± {format_money(cost['se'], 3)}"
        assert rows["Net cost of cover"][k] == want
        d_es = p["delta_es"]["0.99"]
        assert rows["Change in ES 99.0%"][k] == (
            f"{fmt_value('money', d_es['value'])} ± {format_money(d_es['se'], 3)}")
        for cells in rows.values():  # every cell of the report's table is in the CLI's
            assert cells[k] in text


def test_comparison_frame_hand_worked() -> None:
    table = pd.DataFrame({
        "scenario": ["b", "b", "s", "s"], "metric": ["expected_loss", "var"] * 2,
        "level": ["", "0.99"] * 2, "policy": [""] * 4,
        "value": [10.0, 50.0, 15.0, 80.0], "se": [1.0, 2.0, 1.5, 3.0],
        "diff": [0.0, 0.0, 5.0, 30.0], "diff_se": [0.0, 0.0, 0.5, 1.0],
        "change_pct": [0.0, 0.0, 0.5, 0.6], "units": ["EUR"] * 4})
    fr = comparison_frame(table, [("expected_loss", ""), ("var", "0.99"), ("es", "0.99")], "s")
    assert fr["scenario"].tolist() == ["s", "b"]  # the baseline first
    assert fr["expected_loss"].tolist() == [15.0, 10.0]
    assert fr["var_0.99_change"].tolist() == [30.0, 0.0]
    assert fr["var_0.99_change_se"].tolist() == [1.0, 0.0]
    assert "es_0.99" not in fr  # not in the table: left out
    csv = table.assign(level=[np.nan, 0.99] * 2, policy=[np.nan] * 4)  # as read from a CSV
    for cols in ([("var", "0.99")], [("expected_loss", "")]):
        assert comparison_frame(csv, cols, "b").equals(comparison_frame(table, cols, "b"))


def test_report_figure_and_cli_show_the_scenario_comparison(
        capsys: pytest.CaptureFixture[str]) -> None:
    ds = _scenarios()
    table = scenario_comparison(ds[["loss", "n_defaults"]], [0.99], "baseline")
    fr = scenario_frame(ds, 0.99)
    long = table.set_index(["scenario", "metric"])
    for _, r in fr.iterrows():
        for col, metric in (("expected_loss", "expected_loss"), ("var_0.99", "var"),
                            ("es_0.99", "es")):
            src = long.loc[(r["scenario"], metric)]
            assert r[col] == src["value"]
            assert r[f"{col}_change"] == src["diff"]
            assert r[f"{col}_change_se"] == src["diff_se"]
    # losses scaled by 3: every metric +200 %, and the table prints it
    assert fr.set_index("scenario").loc["severe", "es_0.99_change_pct"] == pytest.approx(2.0)
    cells = scenario_table(fr, 0.99).rows
    assert cells[2][0] == "severe"
    assert cells[2][1] == fmt_value("money", fr["expected_loss"].iloc[2])
    assert cells[2][2].endswith("(+200.0%)")
    print_comparison(table, "baseline", {"currency": "EUR", "n_paths": 2000})
    out = capsys.readouterr().out
    for v in fr["expected_loss"]:
        assert fmt_short(v) in out
