"""Scenario stress applied to the model (PDs, factors, correlations, LGD, sales, delays, events,
insurance) and the reverse stress test, against closed forms with Monte Carlo tolerances."""

from __future__ import annotations

import itertools
import math
from datetime import date
from typing import Any

import numpy as np
import pytest
from scipy import special

import portsim
from portsim.config import RunConfig, ScenarioConfig
from portsim.data.book import Book
from portsim.engine.chunk import run_chunk
from portsim.errors import ConfigError
from portsim.inputs.model import build_inputs
from portsim.workflow.checks import require_valid
from portsim.workflow.stress import Direction, parse_direction, parse_target, reverse_stress
from reference import mc_mean_se

AS_OF = "2026-12-31"


def scen(**parts: Any) -> ScenarioConfig:
    return ScenarioConfig.model_validate({"name": "s", **parts})


def with_scenario(cfg: RunConfig, **parts: Any) -> RunConfig:
    return cfg.model_copy(update={"scenario": scen(**parts)})


TIMELINE_RUN: dict[str, Any] = {  # make_config(base=TIMELINE_RUN): a run with a timeline
    "simulation": {"paths": 512, "seed": 11, "chunk_paths": 256, "kernel": "grouped"},
    "timeline": {"as_of": AS_OF, "horizon_months": 12},
    "delays": {"mean_days": 5, "sd_days": 2, "noise_days": 3, "factor_sensitivity_days": 4},
    "company": {"opening_cash": 1e6, "credit_line": 5e5, "min_cash_buffer": 2e5,
                "fixed_outflows_monthly": 2e5, "cogs_share": 0.6},
}


@pytest.fixture
def two_sector_book(make_book: Any) -> Book:
    n = 60
    return make_book(
        sector=np.where(np.arange(n) % 2 == 0, "construction", "retail"),
        exposure=1000.0 + 100.0 * (np.arange(n) % 7), lgd=0.5,
        p_default=np.tile([0.01, 0.03, 0.1], n // 3), asset_correlation=0.2,
        annual_sales=50_000.0, payment_terms_days=30,
    )


# ------------------------------------------------------------------------------ PD multiplier


@pytest.mark.parametrize("kernel", ["grouped", "per_customer"])
def test_loss_rises_path_by_path_with_the_pd_multiplier(
    make_book: Any, make_config: Any, kernel: str
) -> None:
    book = make_book(n=80, exposure=1.0 + np.arange(80) % 3, lgd=0.4,
                     p_default=np.tile([0.005, 0.02, 0.08, 0.3], 20),
                     sector=np.where(np.arange(80) < 40, "a", "b"))
    cfg = make_config(simulation={"paths": 2000, "seed": 5, "kernel": kernel},
                      model={"factors": "sector", "correlation": {"default": 0.5}})
    losses = [portsim.run(with_scenario(cfg, pd_multiplier={"global": m}), book,
                          contributions=False)["loss"].values
              for m in (0.5, 1.0, 1.7, 3.0, 10.0)]
    for lo, hi in itertools.pairwise(losses):
        assert np.all(hi >= lo)  # common random numbers: every path, not just on average
        assert hi.mean() > lo.mean()


# ------------------------------------------------------------------------------ factors


def test_conditioning_the_single_factor_gives_the_conditional_expected_loss(
    make_book: Any, make_config: Any
) -> None:
    n, p, r, e, lgd, z = 300, 0.02, 0.2, 1.0, 0.45, -2.0
    book = make_book(n=n, exposure=e, lgd=lgd, p_default=p, asset_correlation=r)
    cfg = with_scenario(make_config(simulation={"paths": 4000, "seed": 3},
                                    model={"factors": "single"}),
                        factor_condition={"factor": {"all": z}})
    x = build_inputs(book, cfg)
    assert np.all(x.chol == 0.0)  # the conditioned factor's row of chol is zero
    np.testing.assert_array_equal(x.y_shift, [z])
    loss = portsim.run(cfg, book, contributions=False)["loss"].values
    exact = n * e * lgd * special.ndtr((special.ndtri(p) - math.sqrt(r) * z)
                                       / math.sqrt(1 - r))
    assert abs(loss.mean() - exact) < 4 * mc_mean_se(loss)
    # given the factor, defaults are independent: the loss is binomial
    pz = exact / (n * e * lgd)
    assert abs(loss.var(ddof=1) - n * pz * (1 - pz) * (e * lgd) ** 2) < 0.1 * loss.var()


def test_conditioning_one_sector_gives_the_others_their_conditional_law(
    two_sector_book: Book, make_config: Any
) -> None:
    rho, v, r = 0.6, -1.5, 0.2
    cfg = with_scenario(make_config(simulation={"paths": 20000, "seed": 9},
                                    model={"factors": "sector",
                                           "correlation": {"default": rho}}),
                        factor_condition={"sector": {"construction": v}})
    x = build_inputs(two_sector_book, cfg)
    assert x.factor_names == ("construction", "retail")
    np.testing.assert_allclose(x.y_shift, [v, rho * v])  # mean Σ_rc·v/Σ_cc
    np.testing.assert_allclose(x.chol @ x.chol.T, [[0, 0], [0, 1 - rho**2]], atol=1e-15)
    ds = portsim.run(cfg, two_sector_book, contributions=False)
    book = two_sector_book
    c = special.ndtri(book.p_default)
    # construction: factor fixed at v; retail: Y ~ N(ρv, 1 − ρ²), so X ~ N(√R·ρv, 1 − Rρ²)
    pd_c = special.ndtr((c - math.sqrt(r) * v) / math.sqrt(1 - r))
    pd_r = special.ndtr((c - math.sqrt(r) * rho * v) / math.sqrt(1 - r * rho**2))
    el = book.exposure * book.lgd
    for sector, pdx in (("construction", pd_c), ("retail", pd_r)):
        sel = book.sector == sector
        loss = ds["sector_loss"].sel(sector=sector).values
        exact = float((el * pdx)[sel].sum())
        assert abs(loss.mean() - exact) < 4 * mc_mean_se(loss), sector


def test_factor_mean_shift_moves_default_probabilities(
    two_sector_book: Book, make_config: Any
) -> None:
    cfg = with_scenario(make_config(simulation={"paths": 20000, "seed": 4},
                                    model={"factors": "sector", "correlation": {"default": 0.3}}),
                        factor_shift={"global": -0.5, "sector": {"retail": -1.0}})
    x = build_inputs(two_sector_book, cfg)
    np.testing.assert_array_equal(x.y_shift, [-0.5, -1.0])  # the most specific entry applies
    ds = portsim.run(cfg, two_sector_book, contributions=False)
    book = two_sector_book
    shift = np.where(book.sector == "retail", -1.0, -0.5)
    exact = float((book.exposure * book.lgd * special.ndtr(
        special.ndtri(book.p_default) - math.sqrt(0.2) * shift)).sum())
    loss = ds["loss"].values
    assert abs(loss.mean() - exact) < 4 * mc_mean_se(loss)


def test_correlation_multipliers(two_sector_book: Book, make_config: Any) -> None:
    cfg = make_config(model={"factors": "sector", "correlation": {"default": 0.6}})
    x = build_inputs(two_sector_book, with_scenario(cfg, correlation={
        "asset_multiplier": 2.0, "factor_multiplier": 1.5}))
    np.testing.assert_allclose(x.asset_correlation, 0.4)
    np.testing.assert_allclose(x.corr, [[1, 0.9], [0.9, 1]])
    np.testing.assert_allclose(x.chol @ x.chol.T, x.corr, atol=1e-15)
    capped = build_inputs(two_sector_book, with_scenario(cfg, correlation={
        "asset_multiplier": 10.0}))
    np.testing.assert_allclose(capped.asset_correlation, 0.99)  # capped below 1
    assert np.all(capped.idio > 0)


def test_factor_multiplier_that_breaks_psd_is_an_error_with_the_largest_valid_one(
    make_book: Any, make_config: Any
) -> None:
    book = make_book(sector=["a", "b", "c"], p_default=0.01)
    corr = {"factors": ["a", "b", "c"],
            "matrix": [[1, 0.7, -0.3], [0.7, 1, 0.3], [-0.3, 0.3, 1]]}
    cfg = with_scenario(make_config(model={"factors": "sector", "correlation": corr}),
                        correlation={"factor_multiplier": 2.0})
    with pytest.raises(ConfigError) as info:
        require_valid(cfg, book)
    (msg,) = map(str, info.value.problems)
    lam = float(np.linalg.eigvalsh(np.asarray(corr["matrix"])).min())
    assert "correlation.factor_multiplier=2.0 makes the factor correlation matrix not positive" \
        in msg
    assert f"at most {1 / (1 - lam):.4g} keeps it PSD" in msg


# ------------------------------------------------------------------------------ LGD, sales, delays


def test_lgd_shift_is_clipped_and_keeps_a_valid_beta(make_book: Any, make_config: Any) -> None:
    book = make_book(lgd=[0.2, 0.5, 0.95], lgd_sd=[0.1, 0.3, 0.05], p_default=0.1)
    x = build_inputs(book, with_scenario(make_config(), lgd={"shift": 0.1}))
    np.testing.assert_allclose(x.lgd_mean, [0.3, 0.6, 1.0])
    assert x.lgd_conc[2] == 0.0  # LGD 1: fixed
    # a Beta sd is capped so that the concentration stays positive
    assert x.lgd_conc[1] > 0
    sd = np.sqrt(x.lgd_mean[:2] * (1 - x.lgd_mean[:2]) / (x.lgd_conc[:2] + 1))
    np.testing.assert_allclose(sd, [0.1, min(0.3, 0.95 * math.sqrt(0.24))])


def test_sales_terms_and_delays_reach_the_timeline(two_sector_book: Book,
                                                  make_config: Any) -> None:
    cfg = make_config(base=TIMELINE_RUN, delays={"mean_days": 10, "shift_days": 2,
                                                 "multiplier": 1.5, "sd_days": 1,
                                                 "noise_days": 1})
    base = build_inputs(two_sector_book, cfg).timeline
    stressed_cfg = with_scenario(cfg, sales={"change": -0.1},
                                 delays={"terms_days": 70, "shift_days": 5, "multiplier": 2})
    tl = build_inputs(two_sector_book, stressed_cfg).timeline
    assert base is not None
    assert tl is not None
    np.testing.assert_allclose(tl.planned_issued, 0.9 * base.planned_issued, rtol=1e-12)
    fwd = ~tl.inv_is_open
    np.testing.assert_array_equal((tl.inv_due - tl.inv_issue)[fwd], 70)
    # multipliers multiply, shifts add: 10 × 1.5 × 2 + 2 + 5
    np.testing.assert_allclose(tl.delay_mean, 10 * 1.5 * 2 + 2 + 5)
    np.testing.assert_allclose(base.delay_mean, 10 * 1.5 + 2)


def test_policy_selection_and_withdrawal(two_sector_book: Book, make_config: Any) -> None:
    pols = {"a": {"premium_rate": 0.002}, "b": {"premium_rate": 0.001}}
    cfg = make_config(base=TIMELINE_RUN, insurance={"policies": pols})
    x = build_inputs(two_sector_book, cfg)
    assert x.insurance is not None
    assert x.insurance.names == ("none", "a", "b")
    only_b = build_inputs(two_sector_book, with_scenario(cfg, policies=["none", "b"]))
    assert only_b.insurance is not None
    assert only_b.insurance.names == ("none", "b")
    assert build_inputs(two_sector_book, with_scenario(cfg, insurance="withdrawn")
                        ).insurance is None
    ds = portsim.run(with_scenario(cfg, insurance="withdrawn"), two_sector_book,
                     contributions=False)
    assert "policy" not in ds.dims


# ------------------------------------------------------------------------------ default events


def test_default_event_shows_up_on_every_path_and_leaves_other_draws_alone(
    two_sector_book: Book, make_config: Any,
) -> None:
    cfg = make_config(base=TIMELINE_RUN)
    book = two_sector_book
    target, day = 7, date(2027, 3, 31)
    event = with_scenario(cfg, default_events=[{"customer": f"C{target:03d}", "date": day}])
    x0, x1 = build_inputs(book, cfg), build_inputs(book, event)
    assert x1.default_day is not None
    assert x1.p_horizon[target] == 1.0
    r0 = run_chunk(x0, 11, 0, 512)
    r1 = run_chunk(x1, 11, 0, 512)
    assert r1.events_int is not None
    assert r0.events_int is not None
    ins = r1.events_int[(r1.events_int[:, 1] == target) & (r1.events_int[:, 4] == 0)]
    assert sorted(ins[:, 0].tolist()) == list(range(512))  # every path, once
    assert set(ins[:, 2].tolist()) == {(day - date(2026, 12, 31)).days}
    others = np.arange(book.n_customers) != target
    np.testing.assert_array_equal(r1.customer_n_defaults[others], r0.customer_n_defaults[others])
    assert r1.customer_n_defaults[target] == 512
    # per path: exactly the event's default more, unless the customer defaulted anyway
    hit0 = np.zeros(512, dtype=np.int64)
    own = r0.events_int[(r0.events_int[:, 1] == target) & (r0.events_int[:, 4] == 0)]
    hit0[own[:, 0]] = 1
    np.testing.assert_array_equal(r1.n_defaults - r0.n_defaults, 1 - hit0)
    ds = portsim.run(event, book, contributions=False)
    assert float(ds["customer_default_rate"].values[target]) == 1.0


def test_default_event_in_a_default_only_run_is_pd_one(two_sector_book: Book,
                                                      make_config: Any) -> None:
    cfg = make_config(simulation={"paths": 1000, "kernel": "per_customer"})
    base = portsim.run(cfg, two_sector_book, contributions=False)
    ev = portsim.run(with_scenario(cfg, default_events=[{"customer": "C003"}]),
                     two_sector_book, contributions=False)
    assert float(ev["customer_default_rate"].values[3]) == 1.0
    rate = base["customer_default_rate"].values.copy()
    rate[3] = 1.0
    np.testing.assert_array_equal(ev["customer_default_rate"].values, rate)


# ------------------------------------------------------------------------------ reverse stress


def test_reverse_stress_finds_the_closed_form_multiplier(make_book: Any,
                                                         make_config: Any) -> None:
    # independent homogeneous book, 1-year horizon: EL(m) = n·e·lgd·min(1, m·p)
    n, p, e, lgd, target = 100, 0.02, 1.0, 1.0, 5.0
    book = make_book(n=n, exposure=e, lgd=lgd, p_default=p, asset_correlation=0.0)
    cfg = make_config(simulation={"paths": 4000, "seed": 21, "kernel": "grouped"},
                      model={"factors": "single"})
    res = reverse_stress(cfg, f"expected_loss>{target}", "pd_multiplier", book=book)
    exact = target / (n * e * lgd * p)
    assert res.found
    assert res.se > 0
    assert abs(res.value - exact) < 4 * res.se, (res.value, res.se, exact)
    # the se is the EL's (√(n·q(1 − q))·e·lgd/√paths) over the slope n·e·lgd·p
    q = exact * p
    assert res.se == pytest.approx(math.sqrt(n * q * (1 - q) / 4000) / (n * p), rel=0.2)
    assert res.evaluations["hit"].iloc[-1] in (True, False)
    assert res.scenario is not None
    assert res.scenario.pd_multiplier.global_ == pytest.approx(res.value)


def test_reverse_stress_along_a_factor_shift(two_sector_book: Book, make_config: Any) -> None:
    cfg = make_config(simulation={"paths": 4000, "seed": 2},
                      model={"factors": "sector", "correlation": {"default": 0.4}})
    book = two_sector_book
    # EL of construction under a construction shift μ: Σ e·lgd·Φ(c − √R·μ), closed form
    sel = book.sector == "construction"
    el_base = float((book.exposure * book.lgd * book.p_default)[sel].sum())
    total = float((book.exposure * book.lgd * book.p_default).sum())
    target = total + 0.5 * el_base
    res = reverse_stress(cfg, f"expected_loss>{target}", "factor_shift:construction",
                         book=book)
    assert res.found
    assert res.value < 0

    def el(mu: float) -> float:
        pdc = special.ndtr(special.ndtri(book.p_default) - math.sqrt(0.2) * mu)
        return float((book.exposure * book.lgd * np.where(sel, pdc, book.p_default)).sum())

    lo, hi = -6.0, 0.0  # solve el(μ) = target by bisection
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if el(mid) < target else (mid, hi)
    assert abs(res.value - 0.5 * (lo + hi)) < 4 * res.se


def test_reverse_stress_already_met_and_not_reached(make_book: Any, make_config: Any) -> None:
    book = make_book(n=20, p_default=0.05, asset_correlation=0.0)
    cfg = make_config(simulation={"paths": 256})
    met = reverse_stress(cfg, "expected_loss>0.1", "pd_multiplier", book=book)
    assert met.found
    assert met.value == 1.0
    assert "already" in met.message
    never = reverse_stress(cfg, "expected_loss>25", "pd_multiplier", book=book)
    assert not never.found
    assert math.isnan(never.value)


@pytest.mark.parametrize(("text", "metric", "level", "threshold"), [
    ("p_line_breach>0.05", "p_line_breach", None, 0.05),
    ("p_line_breach > 5%", "p_line_breach", None, 0.05),
    ("es_0.99>5m", "es", 0.99, 5e6),
    ("expected_loss>=1_200_000", "expected_loss", None, 1.2e6),
    ("cfar_0.95>800k", "cfar", 0.95, 8e5),
])
def test_parse_target(text: str, metric: str, level: float | None, threshold: float) -> None:
    t = parse_target(text)
    assert (t.metric, t.level, t.threshold) == (metric, level, pytest.approx(threshold))


@pytest.mark.parametrize(("text", "hint"), [
    ("p_line_breech>0.05", "did you mean 'p_line_breach'?"),
    ("es>5m", "needs a level"),
    ("expected_loss<5", "is not a target"),
])
def test_bad_targets(text: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint.replace("(", r"\(").replace("?", r"\?")):
        parse_target(text)


def test_directions(two_sector_book: Book, make_config: Any) -> None:
    cfg = make_config(model={"factors": "sector"})
    assert parse_direction("factor_shift:retail", cfg, two_sector_book) == Direction(
        "factor_shift", "retail")
    with pytest.raises(ConfigError, match="did you mean 'construction'"):
        parse_direction("factor_shift:constuction", cfg, two_sector_book)
    with pytest.raises(ConfigError, match="did you mean 'pd_multiplier'"):
        parse_direction("pd_multiplyer", cfg, two_sector_book)
    with pytest.raises(ConfigError, match="needs a \\[timeline\\]"):
        parse_direction("delay_shift", cfg, two_sector_book)
    base = scen(factor_shift={"global": -0.2, "sector": {"retail": -1.0}})
    moved = Direction("factor_shift").scenario(base, -0.5)
    assert (moved.factor_shift.global_, moved.factor_shift.sector) == (-0.7, {"retail": -1.5})
