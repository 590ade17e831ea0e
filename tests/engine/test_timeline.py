"""Payment timeline, collections and company cash (behaviour, identities, monotonicity)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import portsim
from portsim.config import RunConfig
from portsim.inputs.model import build_inputs

AS_OF = "2026-12-31"


def test_zero_delays_and_no_defaults_collect_the_invoice_schedule_exactly(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    book = make_trade_book()
    cfg = make_timeline_config()
    ds = portsim.run(cfg, book)
    tl = build_inputs(book, cfg).timeline
    assert tl is not None
    due = np.clip(tl.inv_due, 1, tl.n_days + 1)
    expected = np.bincount(tl.period_of_day[due], weights=tl.inv_amount,
                           minlength=tl.n_periods + 1)
    # every path collects exactly the schedule: each invoice on its due date
    np.testing.assert_allclose(ds["expected_collected"].values, expected[: tl.n_periods],
                               rtol=1e-12)
    assert float(ds["expected_collected_se"].max()) < 1e-6 * expected.max()
    np.testing.assert_allclose(ds["still_open"].values, expected[-1], rtol=1e-12)
    assert int(ds["n_defaults"].sum()) == 0
    assert float(ds["loss"].max()) == 0.0


def test_dso_equals_terms_for_daily_invoicing(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    # daily invoices of s per day with terms T: at any period end at least T days in, the
    # receivable is s·T, so DSO = receivable / sales of the period × days = T; for a book,
    # the sales-weighted mean of the terms
    book = make_trade_book()
    cfg = make_timeline_config(timeline={"as_of": AS_OF, "invoice_frequency": "daily"})
    ds = portsim.run(cfg, book)
    sales = np.asarray(book.annual_sales)
    terms = np.asarray(book.payment_terms_days)
    closed_form = float((sales * terms).sum() / sales.sum())
    np.testing.assert_allclose(ds["dso_end"].values, closed_form, rtol=1e-9)
    dso_band = ds["receivables_band"].sel(band=0.5).values
    assert np.all(dso_band > 0)


@pytest.mark.parametrize("kernel", ["grouped", "per_customer"])
def test_accounting_identity_on_every_path(
    kernel: str, make_trade_book: Any, make_timeline_config: Any
) -> None:
    book = make_trade_book(n=60, p_default=0.15)
    cfg = make_timeline_config(delays={"mean_days": 15, "sd_days": 10, "noise_days": 12,
                                       "factor_sensitivity_days": 8},
                               simulation={"paths": 600, "seed": 3, "chunk_paths": 200,
                                           "kernel": kernel},
                               model={"correlation": {"default": 0.4}})
    ds = portsim.run(cfg, book)
    tl = build_inputs(book, cfg).timeline
    assert tl is not None
    # invoiced (open at the as-of date + forward sales actually made) is collected,
    # written off at default, or still open at the horizon …
    lhs = tl.opening_ar + ds["invoiced"].values
    rhs = ds["collected"].values + ds["written_off"].values + ds["still_open"].values
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    # … and what is written off is lost (LGD) or recovered, within the horizon or after it
    np.testing.assert_allclose(
        ds["written_off"].values,
        ds["loss"].values + ds["recovered"].values + ds["recovery_pending"].values,
        rtol=1e-10, atol=1e-6,
    )
    assert int(ds["n_defaults"].sum()) > 0
    assert float(ds["recovered"].sum()) > 0
    # sales stop at default: some paths invoice less than planned
    assert float(ds["invoiced"].min()) < tl.planned_issued.sum() - 1e-6
    np.testing.assert_array_less(ds["invoiced"].values, tl.planned_issued.sum() + 1e-6)


def _delay_run(make_trade_book: Any, make_timeline_config: Any, shift: float,
               sens: float = 6.0, seed: int = 11) -> Any:
    book = make_trade_book(n=50, p_default=0.05)
    cfg = make_timeline_config(delays={"mean_days": 10, "sd_days": 6, "noise_days": 8,
                                       "factor_sensitivity_days": sens, "shift_days": shift},
                               simulation={"paths": 500, "seed": seed, "chunk_paths": 250})
    return portsim.run(cfg, book)


def test_longer_delays_raise_dso_and_lower_min_cash_on_every_path(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    base = _delay_run(make_trade_book, make_timeline_config, 0.0)
    late = _delay_run(make_trade_book, make_timeline_config, 20.0)
    # common random numbers: the same customers default on the same paths
    np.testing.assert_array_equal(base["n_defaults"].values, late["n_defaults"].values)
    assert np.all(late["dso_avg"].values >= base["dso_avg"].values)
    assert np.all(late["min_cash"].values <= base["min_cash"].values + 1e-6)
    assert np.all(late["collected"].values <= base["collected"].values + 1e-6)
    assert float((late["dso_avg"] - base["dso_avg"]).mean()) > 10.0


def test_a_bad_factor_lengthens_delays(make_trade_book: Any, make_timeline_config: Any) -> None:
    # one factor shared by everyone: paths with many defaults had a bad factor draw; with a
    # delay sensitivity to the factor their DSO rises, without it it does not. The DSO
    # increase caused by the sensitivity (same draws otherwise) is positively correlated with
    # the default count, beyond 4 standard errors of a correlation (≈ 1/√n).
    book = make_trade_book(n=80, p_default=0.05)
    cfgs = [
        make_timeline_config(delays={"mean_days": 10, "sd_days": 0, "noise_days": 0,
                                     "factor_sensitivity_days": s},
                             model={"factors": "single", "asset_correlation": 0.3},
                             simulation={"paths": 2000, "seed": 5, "chunk_paths": 500})
        for s in (0.0, 10.0)
    ]
    flat, sens = (portsim.run(c, book) for c in cfgs)
    diff = sens["dso_avg"].values - flat["dso_avg"].values
    corr = np.corrcoef(diff, sens["n_defaults"].values)[0, 1]
    assert corr > 4.0 / np.sqrt(diff.size)


def test_timeline_reproducible_across_threads_and_chunks(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    book = make_trade_book(n=30, p_default=0.1)
    runs = []
    for threads, chunk in ((1, 64), (2, 100), (2, 1000)):
        cfg = make_timeline_config(delays={"mean_days": 5, "sd_days": 3, "noise_days": 4},
                                   simulation={"paths": 300, "seed": 9, "chunk_paths": chunk,
                                               "threads": threads})
        runs.append(portsim.run(cfg, book))
    for other in runs[1:]:
        for name, var in runs[0].data_vars.items():
            np.testing.assert_array_equal(var.values, other[name].values, err_msg=name)


def test_series_subsample_within_memory_budget(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    book = make_trade_book(n=10)
    cfg = make_timeline_config(output={"series_budget_mb": 0.01},
                               simulation={"paths": 1000, "seed": 1, "chunk_paths": 300})
    ds = portsim.run(cfg, book)
    stride = ds.attrs["series_stride"]
    # 2 series × 12 periods × 4 bytes × 1000 paths = 96 kB > 10 kB: keep every 10th path
    assert stride == 10
    np.testing.assert_array_equal(ds["sample_path"].values, np.arange(0, 1000, 10))
    assert ds["cash_series"].dtype == np.float32
    # the kept series are the full-run values of those paths
    full = portsim.run(make_timeline_config(simulation={"paths": 1000, "seed": 1,
                                                        "chunk_paths": 300}), book)
    np.testing.assert_array_equal(full["cash_series"].values[::10], ds["cash_series"].values)


def test_seasonal_forward_sales_sum_to_annual_sales(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    book = make_trade_book(n=5)
    season = [0.5, 0.5, 1, 1, 1, 1, 1.5, 1.5, 1, 1, 1, 1]
    cfg = make_timeline_config(timeline={"as_of": AS_OF, "seasonality": season})
    tl = build_inputs(book, cfg).timeline
    assert tl is not None
    total = float(np.asarray(book.annual_sales).sum())
    # 12 month-steps of 2027 (365 days): Σ weights·days/365.25 with weights of mean 1
    days = tl.days_in_period
    w = np.asarray(season) / np.mean(season)
    np.testing.assert_allclose(tl.planned_issued.sum(), total * (w * days).sum() / 365.25,
                               rtol=1e-12)
    assert tl.planned_issued[0] < tl.planned_issued[6]


def test_protracted_default_after_waiting_period(
    make_trade_book: Any, make_timeline_config: Any
) -> None:
    # PD 0, every invoice paid 120 days late (no noise): each invoice due within the horizon
    # minus 90 days becomes a protracted default exactly 90 days after its due date
    book = make_trade_book(n=3)
    cfg = make_timeline_config(delays={"mean_days": 120, "sd_days": 0, "noise_days": 0},
                               timeline={"as_of": AS_OF, "protracted_default_days": 90},
                               simulation={"paths": 20, "seed": 2, "chunk_paths": 20})
    ds = portsim.run(cfg, book)
    tl = build_inputs(book, cfg).timeline
    assert tl is not None
    day = tl.inv_due + 90
    inside = (day >= 1) & (day <= tl.n_days)
    assert np.all(ds["n_protracted"].values == inside.sum())
    np.testing.assert_allclose(ds["protracted_amount"].values, tl.inv_amount[inside].sum())


def test_timeline_config_errors(make_timeline_config: Any) -> None:
    with pytest.raises(ValueError, match="12 monthly weights"):
        make_timeline_config(timeline={"as_of": AS_OF, "seasonality": [1, 2]})
    with pytest.raises(ValueError, match="horizon"):
        RunConfig.model_validate({"model": {"horizon_years": 2.0},
                                  "timeline": {"as_of": AS_OF}})
