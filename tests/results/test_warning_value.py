"""The value of early warning: a batch comparing a baseline without actions with action
policies on common random numbers. The paired differences and their standard errors are
checked against an independent computation on synthetic per-path data (including a
``lost_margin`` variable), and against their spread over independent replications.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import xarray as xr
from rich.console import Console

from portsim.cli.summary import _warning_value_table, print_comparison
from portsim.report.plotting import format_money
from portsim.report.tables import fmt_value, warning_value_table
from portsim.results.comparison import (
    WARNING_VALUE_COLUMNS,
    comparison_level,
    scenario_comparison,
    scenario_paths,
    warning_value_frame,
    warning_value_summary,
)
from portsim.workflow.batch import combine

BASE = "no_actions"


def _run(rng: np.random.Generator, n: int, z: np.ndarray, u: np.ndarray, cut: float,
         margin: float | None) -> xr.Dataset:
    """One scenario's per-path variables on the common draws ``z`` (losses) and ``u``
    (cash): ``cut`` of each loss avoided, ``margin`` × the loss as lost margin (None: the run
    has no ``lost_margin``, as a run without actions)."""
    loss = (1.0 - cut) * np.exp(11.0 + 1.2 * z) * (u < 0.3)
    ncf = 2e6 - 3.0 * loss + 1e4 * rng.standard_normal(n) + 2e5 * z
    dso = 60.0 + 8.0 * z - 5.0 * cut + rng.standard_normal(n)
    dso[::97] = np.nan  # paths without a DSO (no sales): left out of the paired mean
    data = {
        "loss": ("path", loss, {"units": "EUR"}),
        "n_defaults": ("path", (loss > 0).astype(np.int64)),
        "buffer_breach": ("path", ncf < 1.9e6),
        "line_breach": ("path", ncf < 1.7e6),
        "net_cash_flow": ("path", ncf, {"units": "EUR"}),
        "dso_avg": ("path", dso, {"units": "days"}),
    }
    if margin is not None:
        data["lost_margin"] = ("path", margin * np.exp(11.0 + 1.2 * z) * (u < 0.5),
                               {"units": "EUR", "long_name": "lost margin"})
    attrs = {"currency": "EUR"}
    if margin is not None:
        attrs["credit_management"] = "actions"
    return xr.Dataset(data, coords={"path": np.arange(n)}, attrs=attrs)


def _batch(seed: int, n: int) -> xr.Dataset:
    """A baseline without actions and two policies on the same paths, combined as a batch."""
    rng = np.random.default_rng(seed)
    z, u = rng.standard_normal(n), rng.random(n)
    runs = {BASE: _run(rng, n, z, u, 0.0, None),
            "stop_red": _run(rng, n, z, u, 0.4, 0.15),
            "prepay_red": _run(rng, n, z, u, 0.2, 0.05)}
    return combine(runs, ())


def _se(x: np.ndarray) -> float:
    return statistics.stdev(x.tolist()) / math.sqrt(len(x))


def _var(x: np.ndarray, q: float) -> float:
    """The lower empirical quantile by sorting."""
    return float(np.sort(x)[math.ceil(len(x) * q) - 1])


def _rows(table, scen: str, metric: str, level: str = ""):
    lv = table["level"].astype(str)
    r = table[(table["scenario"] == scen) & (table["metric"] == metric) & (lv == level)]
    assert len(r) == 1, (scen, metric, level)
    return r.iloc[0]


def test_a_run_without_lost_margin_has_zeros() -> None:
    paths = _batch(1, 500)
    assert paths["lost_margin"].dims == ("scenario", "path")
    assert float(np.abs(paths["lost_margin"].sel(scenario=BASE)).max()) == 0.0
    assert float(paths["lost_margin"].sel(scenario="stop_red").min()) >= 0.0
    assert paths["lost_margin"].attrs["units"] == "EUR"
    # the per-path variables of a run, taken twice (as a batch does), keep its lost margin
    run = _run(np.random.default_rng(0), 50, np.zeros(50), np.ones(50), 0.1, 0.1)
    assert "lost_margin" in scenario_paths(scenario_paths(run))
    # no run carries it: the batch has none (and no margin rows)
    plain = combine({k: paths.sel(scenario=k).drop_vars(["lost_margin", "scenario"])
                     for k in (BASE, "stop_red")}, ())
    assert "lost_margin" not in plain
    table = scenario_comparison(plain, [0.99], BASE)
    assert not table["metric"].isin(["lost_margin", "loss_and_lost_margin"]).any()
    # a timeline run without credit management carries lost_margin at 0: it is not kept
    zeros = {k: paths.sel(scenario=k).drop_vars("scenario").assign(
        lost_margin=lambda d: 0.0 * d["lost_margin"]) for k in (BASE, "stop_red")}
    for d in zeros.values():
        d.attrs = {"currency": "EUR"}
    assert "lost_margin" not in combine(zeros, ())


def test_paired_differences_match_an_independent_computation() -> None:
    n, q = 4000, 0.99
    paths = _batch(2, n)
    table = scenario_comparison(paths, [q], BASE)
    b = paths.sel(scenario=BASE)
    for scen in ("stop_red", "prepay_red"):
        s = paths.sel(scenario=scen)
        # means of paired differences: expected loss, lost margin, loss + lost margin
        for metric, x, xb in (
            ("expected_loss", s["loss"].values, b["loss"].values),
            ("lost_margin", s["lost_margin"].values, np.zeros(n)),
            ("loss_and_lost_margin", s["loss"].values + s["lost_margin"].values,
             b["loss"].values),
            ("p_line_breach", s["line_breach"].values.astype(float),
             b["line_breach"].values.astype(float)),
        ):
            r = _rows(table, scen, metric)
            d = x - xb
            assert r["diff"] == pytest.approx(statistics.fmean(d.tolist()), rel=1e-12, abs=1e-9)
            assert r["diff_se"] == pytest.approx(_se(d), rel=1e-9)
            assert r["value"] == pytest.approx(statistics.fmean(x.tolist()), rel=1e-12)
        # DSO: paths where both runs have one
        x, xb = s["dso_avg"].values, b["dso_avg"].values
        ok = ~np.isnan(x) & ~np.isnan(xb)
        r = _rows(table, scen, "dso_avg")
        assert ok.sum() < n
        assert r["diff"] == pytest.approx(statistics.fmean((x[ok] - xb[ok]).tolist()))
        assert r["diff_se"] == pytest.approx(_se(x[ok] - xb[ok]), rel=1e-9)
        # ES: with n·(1 − q) = 40 whole paths, the mean of the 40 largest losses; the paired
        # s.e. from the Rockafellar–Uryasev influence functions h = VaR + (L − VaR)⁺/(1 − q)
        x, xb = s["loss"].values, b["loss"].values
        r = _rows(table, scen, "es", "0.99")
        es, es_b = np.sort(x)[-40:].mean(), np.sort(xb)[-40:].mean()
        assert r["value"] == pytest.approx(es, rel=1e-12)
        assert r["diff"] == pytest.approx(es - es_b, rel=1e-12)
        va, vb = _var(x, q), _var(xb, q)
        h = [va + max(a - va, 0.0) / (1 - q) - vb - max(c - vb, 0.0) / (1 - q)
             for a, c in zip(x, xb, strict=True)]
        assert r["diff_se"] == pytest.approx(statistics.stdev(h) / math.sqrt(n), rel=1e-9)
        # cash-flow-at-risk: the 99 % quantile of the shortfall below the mean net cash flow;
        # its paired s.e. from the order-statistic errors and the correlation of the
        # exceedance indicators
        c, cb = s["net_cash_flow"].values, b["net_cash_flow"].values
        sh, shb = c.mean() - c, cb.mean() - cb
        r = _rows(table, scen, "cash_flow_at_risk", "0.99")
        assert r["diff"] == pytest.approx(_var(sh, q) - _var(shb, q), rel=1e-12)
        half = 1.959963984540054 * math.sqrt(n * q * (1 - q))
        srt, srtb = np.sort(sh), np.sort(shb)
        lo, hi = math.floor(n * q - half) - 1, math.ceil(n * q + half) - 1
        se_a = (srt[hi] - srt[lo]) / (2 * 1.959963984540054)
        se_b = (srtb[hi] - srtb[lo]) / (2 * 1.959963984540054)
        rho = float(np.corrcoef(sh <= _var(sh, q), shb <= _var(shb, q))[0, 1])
        want = math.sqrt(se_a**2 + se_b**2 - 2 * rho * se_a * se_b)
        assert r["diff_se"] == pytest.approx(want, rel=1e-9)


def test_warning_value_frame_reads_the_comparison() -> None:
    paths = _batch(3, 2000)
    table = scenario_comparison(paths, [0.95, 0.99], BASE)
    fr = warning_value_frame(table, BASE, comparison_level([0.95, 0.99]))
    assert fr["scenario"].tolist() == ["stop_red", "prepay_red"]
    for _, row in fr.iterrows():
        for name, (metric, lv, sign) in WARNING_VALUE_COLUMNS.items():
            src = _rows(table, row["scenario"], metric, "0.99" if lv == "LEVEL" else "")
            assert row[name] == sign * src["diff"]
            assert row[f"{name}_se"] == src["diff_se"]
        # net value = loss avoided − margin lost (the same paths: exactly, up to rounding)
        assert row["net_value"] == pytest.approx(row["loss_avoided"] - row["margin_lost"],
                                                 rel=1e-9, abs=1e-6)
        # ... but its s.e. is that of the per-path difference, not the two combined
        assert row["net_value_se"] != pytest.approx(
            math.hypot(row["loss_avoided_se"], row["margin_lost_se"]), rel=1e-3)
    summary = warning_value_summary(table, BASE, [0.95, 0.99])
    assert summary is not None
    assert (summary["baseline"], summary["level"], summary["currency"]) == (BASE, 0.99, "EUR")
    assert summary["policies"] == fr.to_dict(orient="records")
    plain = table[~table["metric"].isin(["lost_margin", "loss_and_lost_margin"])]
    assert warning_value_summary(plain, BASE, [0.99]) is None
    stop = fr.set_index("scenario").loc["stop_red"]
    assert stop["loss_avoided"] > 0
    assert stop["margin_lost"] > 0


@pytest.mark.slow
def test_standard_errors_match_the_spread_over_replications() -> None:
    """Over R independent batches the reported paired s.e. averages to the standard deviation
    of the estimates (tolerance: 4 × the relative error of a sample sd, 1/√(2R))."""
    reps, n, q = 300, 1000, 0.95
    est: dict[str, list[float]] = {}
    ses: dict[str, list[float]] = {}
    for k in range(reps):
        fr = warning_value_frame(scenario_comparison(_batch(100 + k, n), [q], BASE), BASE, q)
        row = fr.set_index("scenario").loc["stop_red"]
        for name in ("loss_avoided", "margin_lost", "net_value", "es_change", "dso_change"):
            est.setdefault(name, []).append(row[name])
            ses.setdefault(name, []).append(row[f"{name}_se"])
    tol = 4.0 / math.sqrt(2 * reps)
    for name in est:
        ratio = statistics.fmean(ses[name]) / statistics.stdev(est[name])
        assert abs(ratio - 1.0) < tol, (name, ratio)


def test_the_cli_prints_the_value_of_early_warning(capsys: pytest.CaptureFixture[str]) -> None:
    paths = _batch(4, 2000)
    table = scenario_comparison(paths, [0.99], BASE)
    print_comparison(table, BASE, {"currency": "EUR", "n_paths": 2000})
    out = capsys.readouterr().out
    assert "Value of early warning" in out
    tab = warning_value_table(warning_value_frame(table, BASE, 0.99), 0.99)
    assert tab.header[:2] == ["Policy", "Loss avoided"]
    assert [r[0] for r in tab.rows] == ["stop_red", "prepay_red"]
    con = Console(record=True, width=400)
    con.print(_warning_value_table(table, BASE, 0.99, "EUR"))
    text = con.export_text()
    for row in tab.rows:  # every cell of the report's table is in the CLI's
        for cell in row:
            assert cell in text
    fr = warning_value_frame(table, BASE, 0.99).set_index("scenario")
    assert tab.rows[0][1] == (f"{fmt_value('money', fr.loc['stop_red', 'loss_avoided'])} ± "
                              f"{format_money(fr.loc['stop_red', 'loss_avoided_se'], 3)}")
    # without lost_margin (no actions anywhere) the table is not printed
    plain = table[~table["metric"].isin(["lost_margin", "loss_and_lost_margin"])]
    capsys.readouterr()
    print_comparison(plain, BASE, {"currency": "EUR", "n_paths": 2000})
    assert "Value of early warning" not in capsys.readouterr().out
