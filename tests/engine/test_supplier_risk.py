"""Supplier risk: a hand-worked supplier default, customers untouched, default frequency and
the joint default of a supplier and a customer against the factor model's closed form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from portsim.config import RunConfig
from portsim.engine import calls
from portsim.engine.chunk import run_chunk
from portsim.inputs.model import ModelInputs, build_inputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import all_path_states
from portsim.results.schema import SUPPLIER_SCALARS, TIMELINE_SCALARS
from portsim.workflow.checks import check_run

AS_OF = pd.Timestamp("2026-12-31")


def supplier_csv(tmp_path: Path, **rows: dict[str, Any]) -> str:
    """A supplier table with one row per keyword (the supplier id), as a CSV path."""
    base = {"sector": "retail", "country": "DE", "p_default": 0.0, "prepayment": 0.0,
            "monthly_purchases": 0.0, "replacement_months": 0, "dependent_sales_share": 0.0,
            "replacement_premium": 0.0}
    frame = pd.DataFrame([{"supplier_id": sid, **base, **row} for sid, row in rows.items()])
    path = tmp_path / "suppliers.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_a_default_event_costs_the_prepayment_premium_and_lost_sales_on_the_right_days(
    tmp_path: Path, make_trade_book: Any, make_timeline_config: Any
) -> None:
    # S1 defaults on 2027-02-10 = day 41 and is replaced after 2 months = 61 days (days 41 to
    # 101); its premium is 10 % of 30,437.5 a month = 100 a day; a quarter of sales depend on
    # it. S2 never defaults.
    path = supplier_csv(tmp_path, S1={"prepayment": 5000.0, "monthly_purchases": 30437.5,
                                      "replacement_months": 2, "dependent_sales_share": 0.25,
                                      "replacement_premium": 0.1},
                        S2={"prepayment": 7000.0, "monthly_purchases": 1e6,
                            "replacement_months": 3, "dependent_sales_share": 0.5,
                            "replacement_premium": 0.5})
    book = make_trade_book(n=6)
    cfg = make_timeline_config(suppliers={"path": path}, scenario={
        "supplier_default_events": [{"supplier": "S1", "date": "2027-02-10"}]})
    x = build_inputs(book, cfg)
    assert x.suppliers is not None
    assert x.timeline is not None
    res = run_chunk(x, seed=11, start=0, stop=300)
    sup = dict(zip(SUPPLIER_SCALARS, res.supplier_scalars.T, strict=True))  # type: ignore[union-attr]

    # calendar months from the as-of date, independently of the inputs: day of each month end
    ends = np.array([(AS_OF + pd.DateOffset(months=k) - AS_OF).days for k in range(1, 13)])
    assert list(ends[:5]) == [31, 59, 90, 120, 151]

    def period(day: int) -> int:  # 12: after the horizon
        return int(np.searchsorted(ends, day))

    days = np.arange(41, 102)  # the 61 days of the replacement
    sales_per_day = x.timeline.planned_issued / x.timeline.days_in_period  # the plan (input)
    terms = np.asarray(book.payment_terms_days)
    weights = np.asarray(book.annual_sales)
    lag = round(float((terms * weights).sum() / weights.sum()))  # zero delays in the config
    premium, lost, lost_coll, saved = np.zeros((4, 13))
    for d in days:
        premium[period(d + 30)] += 100.0  # paid dpo_days = 30 later
        ls = 0.25 * sales_per_day[period(d)]
        lost[period(d)] += ls
        lost_coll[period(d + lag)] += ls
        saved[period(d + 30)] += 0.6 * ls  # cogs_share 0.6, paid dpo_days later
    assert list(premium[:6]) == [0.0, 0.0, 2000.0, 3000.0, 1100.0, 0.0]  # days 71 .. 131

    np.testing.assert_array_equal(sup["supplier_loss"], 5000.0)  # S1's prepayment, exactly
    np.testing.assert_array_equal(sup["supplier_n_defaults"], 1.0)
    np.testing.assert_allclose(sup["supplier_premium_cost"], 6100.0, rtol=1e-12)
    np.testing.assert_allclose(sup["supplier_lost_sales"], lost.sum(), rtol=1e-12)
    np.testing.assert_allclose(sup["supplier_lost_margin"], 0.4 * lost.sum(), rtol=1e-12)
    m = 300
    sums = res.supplier_flow_sum.sum(axis=0) / m  # type: ignore[union-attr]
    for j, expected in enumerate((premium, lost, lost_coll, saved)):  # SUPPLIER_FLOWS order
        np.testing.assert_allclose(sums[j], expected[:12], rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(res.supplier_n_defaults, [m, 0])


def test_customers_are_untouched_and_cash_moves_by_the_supplier_lines(
    tmp_path: Path, make_trade_book: Any, make_timeline_config: Any
) -> None:
    path = supplier_csv(tmp_path, S1={"p_default": 0.3, "prepayment": 1e4,
                                      "monthly_purchases": 5e4, "replacement_months": 2,
                                      "dependent_sales_share": 0.3, "replacement_premium": 0.2},
                        S2={"sector": "construction", "p_default": 0.2,
                            "monthly_purchases": 2e4, "replacement_months": 4,
                            "dependent_sales_share": 0.8, "replacement_premium": 0.1})
    book = make_trade_book(n=30, p_default=0.1)
    plain = make_timeline_config()
    with_sup = make_timeline_config(suppliers={"path": path})
    a = run_chunk(build_inputs(book, plain), seed=5, start=0, stop=512)
    b = run_chunk(build_inputs(book, with_sup), seed=5, start=0, stop=512)
    for name in ("loss", "n_defaults", "sector_loss", "sector_n_defaults", "customer_loss",
                 "customer_n_defaults", "events_int", "events_amount"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    ta = dict(zip(TIMELINE_SCALARS, a.timeline_scalars.T, strict=True))  # type: ignore[union-attr]
    tb = dict(zip(TIMELINE_SCALARS, b.timeline_scalars.T, strict=True))  # type: ignore[union-attr]
    for name in ("written_off", "recovered", "recovery_pending", "n_protracted"):
        np.testing.assert_array_equal(ta[name], tb[name], err_msg=name)
    # the accounting identity holds with the supplier lines as without them
    opening_ar = build_inputs(book, plain).timeline.opening_ar  # type: ignore[union-attr]
    for t in (ta, tb):
        np.testing.assert_allclose(opening_ar + t["invoiced"],
                                   t["collected"] + t["written_off"] + t["still_open"],
                                   rtol=1e-10)
    sup = dict(zip(SUPPLIER_SCALARS, b.supplier_scalars.T, strict=True))  # type: ignore[union-attr]
    assert (sup["supplier_n_defaults"] > 0).mean() > 0.3
    # the sales lost are exactly the sales no longer invoiced
    np.testing.assert_allclose(ta["invoiced"] - tb["invoiced"], sup["supplier_lost_sales"],
                               rtol=1e-9, atol=1e-6)
    # cash: the premium paid and the collections lost, less the cost of goods not bought
    premium, _, lost_coll, saved = b.supplier_flow_sum.sum(axis=(0, 2))  # type: ignore[union-attr]
    np.testing.assert_allclose((ta["net_cash_flow"] - tb["net_cash_flow"]).sum(),
                               premium + lost_coll - saved, rtol=1e-9)
    assert premium > 0
    assert lost_coll > saved > 0


def _pair_inputs(tmp_path: Path, make_book: Any, make_config: Any, *, supplier_sector: str,
                 factor_corr: float) -> ModelInputs:
    """One customer (sector a) and one supplier, both PD 0.05 and R = 0.3."""
    path = supplier_csv(tmp_path, S1={"sector": supplier_sector, "country": "XX",
                                      "p_default": 0.05, "asset_correlation": 0.3})
    book = make_book(customer_id=["C1"], sector="a", p_default=0.05, asset_correlation=0.3,
                     annual_sales=1e6)
    cfg: RunConfig = make_config(
        model={"correlation": {"default": factor_corr}},
        timeline={"as_of": "2026-12-31", "horizon_months": 12}, suppliers={"path": path})
    if supplier_sector != "a":  # a second customer makes sector b a factor of the model
        book = make_book(customer_id=["C1", "C2"], sector=["a", "b"], p_default=[0.05, 0.0],
                         asset_correlation=0.3, annual_sales=1e6)
    assert check_run(cfg, book) == []
    return build_inputs(book, cfg)


N_PATHS = 40_000


@pytest.mark.parametrize(("supplier_sector", "factor_corr"), [("a", 0.5), ("b", 0.5)])
def test_supplier_defaults_follow_their_pd_and_the_customers_factors(
    tmp_path: Path, make_book: Any, make_config: Any, supplier_sector: str, factor_corr: float
) -> None:
    x = _pair_inputs(tmp_path, make_book, make_config, supplier_sector=supplier_sector,
                     factor_corr=factor_corr)
    assert x.suppliers is not None
    every = all_path_states(2027, 0, N_PATHS)
    states = np.ascontiguousarray(every[:, Stream.DEFAULT])
    sup = calls.suppliers(x, states, np.ascontiguousarray(every[:, Stream.SUPPLIER]),
                          default_days=True)
    cust = calls.default_losses(x, states, np.ascontiguousarray(every[:, Stream.LGD]))
    s_def = sup.default_day[:, 0] > 0
    c_def = cust.n_defaults > 0 if x.n_customers == 1 else cust.sector_n_defaults[:, 0] > 0

    def within(est: float, exact: float) -> None:
        se = np.sqrt(exact * (1.0 - exact) / N_PATHS)
        assert abs(est - exact) < 4.0 * se, (est, exact, se)

    p = float(x.suppliers.p_horizon[0])
    assert p == pytest.approx(0.05, rel=1e-12)  # 12 months: the 1-year PD
    within(s_def.mean(), p)
    # the default day from the constant hazard: P(τ ≤ 182 days) = 1 − (1 − p)^(182/365.25)
    within(((sup.default_day[:, 0] >= 1) & (sup.default_day[:, 0] <= 182)).mean(),
           1.0 - (1.0 - p) ** (182 / 365.25))
    # joint default: X_s, X_c bivariate normal with correlation √R·√R·corr(factors)
    rho = 0.3 * (1.0 if supplier_sector == "a" else factor_corr)
    c = special.ndtri(0.05)
    joint = float(stats.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]]).cdf([c, c]))
    within((s_def & c_def).mean(), joint)
    # independent draws would fail the check above: they are more than 5 s.e. away
    assert joint - 0.05**2 > 5.0 * np.sqrt(joint * (1.0 - joint) / N_PATHS)


def test_scenarios_stress_suppliers_like_customers(
    tmp_path: Path, make_book: Any, make_config: Any
) -> None:
    path = supplier_csv(tmp_path, S1={"sector": "a", "country": "XX", "p_default": 0.05,
                                      "asset_correlation": 0.3})
    book = make_book(customer_id=["C1"], sector="a", p_default=0.05, asset_correlation=0.3,
                     annual_sales=1e6)
    base = {"timeline": {"as_of": "2026-12-31", "horizon_months": 12},
            "suppliers": {"path": path}}
    pd_stress = build_inputs(book, make_config(**base, scenario={
        "pd_multiplier": {"global": 2.0, "sector": {"a": 1.5}}}))
    assert pd_stress.suppliers is not None
    np.testing.assert_allclose(pd_stress.suppliers.p_default, [0.05 * 3.0], rtol=1e-15)
    np.testing.assert_allclose(pd_stress.p_default, [0.05 * 3.0], rtol=1e-15)
    # the sector factor fixed at -2: P(default) = Φ((Φ⁻¹(p) + √R·2)/√(1 − R)), exactly the
    # customers' conditional PD
    x = build_inputs(book, make_config(**base, scenario={
        "factor_condition": {"sector": {"a": -2.0}}}))
    assert x.suppliers is not None
    every = all_path_states(3, 0, N_PATHS)
    sup = calls.suppliers(x, np.ascontiguousarray(every[:, Stream.DEFAULT]),
                          np.ascontiguousarray(every[:, Stream.SUPPLIER]), default_days=True)
    exact = float(special.ndtr((special.ndtri(0.05) + np.sqrt(0.3) * 2.0) / np.sqrt(0.7)))
    se = np.sqrt(exact * (1.0 - exact) / N_PATHS)
    assert abs((sup.default_day[:, 0] > 0).mean() - exact) < 4.0 * se


def test_suppliers_off_the_model_and_unknown_events_are_reported(
    tmp_path: Path, make_book: Any, make_config: Any
) -> None:
    from portsim.data.configured import load_suppliers

    path = supplier_csv(tmp_path, S1={"sector": "a"}, S2={"sector": "z"})
    book = make_book(customer_id=["C1", "C2"], sector=["a", "b"], p_default=0.01,
                     annual_sales=1e6)
    cfg = make_config(timeline={"as_of": "2026-12-31", "horizon_months": 6},
                      suppliers={"path": path}, scenario={"supplier_default_events": [
                          {"supplier": "s1", "date": "2027-02-01"},
                          {"supplier": "S2", "date": "2027-09-01"}]})
    got = [str(p) for p in check_run(cfg, book, suppliers=load_suppliers(cfg))]
    assert got == [
        "suppliers.csv row 3 (S2): sector=z is not a factor of the customers' model "
        "(model.factors = 'sector'); suppliers load on the customers' factors: factors: a, b",
        "scenario 'baseline': supplier_default_events[0].supplier='s1' is not a supplier of "
        "the supplier table; did you mean 'S1'?",
        "scenario 'baseline': supplier_default_events[1].date=2027-09-01 is outside the "
        "horizon (2026-12-31, 2027-06-30]; give a day after the as-of date, within the horizon",
    ]


def test_the_shipped_supplier_example_through_the_cli_for_any_chunking(tmp_path: Path) -> None:
    import json

    import xarray as xr
    from typer.testing import CliRunner

    from portsim.cli import app

    configs = Path(__file__).resolve().parents[2] / "configs"
    runs = {}
    for chunk in ("256", "768"):
        out = tmp_path / chunk
        config = tmp_path / f"chunk_{chunk}.toml"
        config.write_text(
            f'extends = "{configs / "example_suppliers.toml"}"\n'
            f'[book]\npath = "{configs / "example_book.csv"}"\n'
            f'invoices = "{configs / "example_invoices.csv"}"\n'
            f'[suppliers]\npath = "{configs / "example_suppliers.csv"}"\n'
            f"[simulation]\nchunk_paths = {chunk}\n", encoding="utf-8")
        res = CliRunner().invoke(app, ["run", str(config), "--paths", "1000", "--out",
                                       str(out)], env={"COLUMNS": "120"})
        assert res.exit_code == 0, res.output
        runs[chunk] = out
    assert "Suppliers" in res.stdout
    assert "Prepayments lost (expected)" in res.stdout
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    assert metrics["suppliers"]["expected_defaults"]["value"] > 0
    assert len(metrics["suppliers"]["by_supplier"]) == 25
    with (xr.open_dataset(runs["256"] / "results.nc") as a,
          xr.open_dataset(runs["768"] / "results.nc") as b):
        names = [v for v in a.data_vars if "supplier" in str(v)]
        assert len(names) >= 18
        for name in names:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
