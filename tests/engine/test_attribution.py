"""Tail attribution (portsim.engine.attribution): the second pass, Euler contributions to ES
and VaR, their standard errors, and the concentration figures.

Statistical checks: on a homogeneous book every customer's contribution is total/n; each of
the n customers is compared with ``|C_i − total/n| < Z_FAMILY · se_i`` where Z_FAMILY is the
Bonferroni bound for a family-wise significance of 1e-3 (two-sided, n comparisons), and the
mean of the squared standardised deviations is compared with its chi-square band at the same
significance (the standard errors are neither too small nor too large). Other comparisons use
4 standard errors. Seeds are fixed and were not chosen to pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

import portsim
from portsim.data import Book
from portsim.engine.attribution import (
    GA_DELTA,
    concentration,
    contributions_table,
    customer_losses,
    states_for_paths,
    tail_contributions,
)
from portsim.engine.chunk import run_chunk
from portsim.engine.gather import SimOutput
from portsim.engine.local import simulate
from portsim.inputs.importance import find_shift
from portsim.inputs.model import ModelInputs, build_inputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import path_states
from portsim.workflow.runner import run_folder

Z = 4.0
ALPHA = 1e-3  # family-wise significance of the per-customer comparisons


def _z_family(n: int) -> float:
    return float(-special.ndtri(ALPHA / (2 * n)))


def _inputs(book: Book, make_config: Any, kernel: str = "grouped", **sim: Any) -> ModelInputs:
    return build_inputs(book, make_config(simulation={"kernel": kernel, **sim}))


def _sim(x: ModelInputs, n_paths: int, seed: int) -> SimOutput:
    return simulate(x, n_paths=n_paths, seed=seed, chunk_paths=4096, threads=2)


@pytest.fixture(scope="module")
def mixed_book(make_book: Any) -> Book:
    """300 customers, three sectors, two countries, cents exposures, Beta LGDs."""
    rng = np.random.default_rng(7)
    n = 300
    return make_book(n=n, sector=rng.choice(["a", "b", "c"], size=n),
                     country=rng.choice(["DE", "FR"], size=n),
                     p_default=rng.choice([0.005, 0.02, 0.06], size=n),
                     exposure=np.round(rng.lognormal(8, 1.2, n), 2), lgd=0.45, lgd_sd=0.15,
                     asset_correlation=0.2)


# ------------------------------------------------------------------------- second pass


def test_states_for_paths_are_path_states() -> None:
    paths = np.array([0, 255, 256, 9_999, 3, 255, 70_000])
    st = states_for_paths(42, paths, (Stream.DEFAULT, Stream.LGD))
    for j, p in enumerate(paths):
        np.testing.assert_array_equal(st[0, j], path_states(42, p, p + 1, Stream.DEFAULT)[0])
        np.testing.assert_array_equal(st[1, j], path_states(42, p, p + 1, Stream.LGD)[0])


@pytest.mark.parametrize("kernel", ["per_customer", "grouped", "skip"])
@pytest.mark.parametrize("shifted", [False, True], ids=["plain", "importance"])
def test_second_pass_reproduces_the_first(mixed_book: Book, make_config: Any, kernel: str,
                                          shifted: bool) -> None:
    x = _inputs(mixed_book, make_config, kernel)
    if shifted:
        x = x._replace(z_shift=find_shift(x, 0.99))
    out = _sim(x, 1500, seed=5)
    paths = np.array([1499, 0, 700, 256, 3])
    cents, loss, logw = customer_losses(x, 5, paths)
    np.testing.assert_array_equal(loss, out.loss[paths])
    np.testing.assert_array_equal(logw, out.log_weight[paths])
    assert np.all(np.abs(cents.sum(axis=1) / 100 - loss) <= 0.005 * out.n_defaults[paths]
                  + 1e-6)
    np.testing.assert_array_equal(cents[2], run_chunk(x, 5, 700, 701).customer_loss)


def test_second_pass_of_a_timeline_run(make_book: Any, make_config: Any) -> None:
    book = make_book(n=40, p_default=0.05, exposure=1000.0, annual_sales=12_000.0, lgd=0.6,
                     asset_correlation=0.3)
    cfg = make_config(timeline={"as_of": "2026-12-31", "horizon_months": 3})
    x = build_inputs(book, cfg)
    out = _sim(x, 2000, seed=8)
    (c,) = tail_contributions(x, 8, out.loss, [0.99])
    cu = c.by["customer"]
    assert c.n_resimulated > 0
    assert abs(c.es_sum - c.es) <= 0.005 * out.n_defaults.max() + 1e-9 * c.es
    assert math.isclose(cu.es.sum(), c.es_sum, rel_tol=1e-12)
    assert math.isclose(cu.var.sum(), c.var, rel_tol=1e-12)


def test_another_seed_is_detected(mixed_book: Book, make_config: Any) -> None:
    x = _inputs(mixed_book, make_config)
    out = _sim(x, 1000, seed=1)
    with pytest.raises(RuntimeError, match="seed differ"):
        tail_contributions(x, 2, out.loss, [0.99])


# ---------------------------------------------------------------------- adding up


def test_contributions_add_up(mixed_book: Book, make_config: Any) -> None:
    """ES contributions sum to the ES of the cent-rounded losses, within half a cent per
    tail default of the ES; VaR contributions to the VaR; sectors and countries to the
    customers' sums."""
    x = _inputs(mixed_book, make_config)
    out = _sim(x, 20_000, seed=3)
    res = tail_contributions(x, 3, out.loss, [0.95, 0.99],
                             labels={"country": np.asarray(mixed_book.country)})
    for c in res:
        cu = c.by["customer"]
        tail = out.loss >= c.var
        assert math.isclose(cu.es.sum(), c.es_sum, rel_tol=1e-12)
        assert abs(c.es_sum - c.es) <= 0.005 * out.n_defaults[tail].max()
        assert math.isclose(cu.var.sum(), c.var, rel_tol=1e-12)
        es_plain, es_se = portsim.results.estimators.expected_shortfall(out.loss, c.level)
        assert math.isclose(c.es, es_plain, rel_tol=1e-12)
        assert math.isclose(c.es_se, es_se, rel_tol=1e-9)
        for d in ("sector", "country"):
            np.testing.assert_allclose(c.by[d].es.sum(), cu.es.sum(), rtol=1e-12)
            np.testing.assert_allclose(c.by[d].var.sum(), c.var, rtol=1e-12)
        sec = c.by["sector"]
        for j, name in enumerate(sec.names):
            members = np.asarray(mixed_book.sector) == name
            assert math.isclose(sec.es[j], cu.es[members].sum(), rel_tol=1e-9)
        assert np.all(cu.es_se >= 0)
        assert np.all(cu.var_se >= 0)


def test_cent_exact_losses_add_up_exactly(make_book: Any, make_config: Any) -> None:
    book = make_book(n=80, p_default=0.03, exposure=np.arange(1, 81) * 0.25,
                     asset_correlation=0.25)
    x = _inputs(book, make_config, "skip")
    out = _sim(x, 10_000, seed=2)
    (c,) = tail_contributions(x, 2, out.loss, [0.99])
    assert math.isclose(c.es_sum, c.es, rel_tol=1e-12)


# --------------------------------------------------------------------- homogeneous book


@pytest.mark.parametrize("importance", [False, True], ids=["plain", "importance"])
def test_homogeneous_book_shares_equally(make_book: Any, make_config: Any,
                                         importance: bool) -> None:
    n = 40
    book = make_book(n=n, p_default=0.03, asset_correlation=0.2)
    x = _inputs(book, make_config, "skip")
    q = 0.99
    if importance:
        x = x._replace(z_shift=find_shift(x, q))
    out = _sim(x, 40_000, seed=12)
    (c,) = tail_contributions(x, 12, out.loss, [q],
                              log_weight=out.log_weight if importance else None)
    cu = c.by["customer"]
    lo, hi = stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], n) / n
    for est, se, total in ((cu.es, cu.es_se, c.es_sum), (cu.var, cu.var_se, c.var)):
        z = (est - total / n) / se
        assert np.max(np.abs(z)) < _z_family(n)
        assert lo < np.mean(z**2) < hi, np.mean(z**2)


def test_importance_contributions_agree_with_plain(mixed_book: Book,
                                                   make_config: Any) -> None:
    x = _inputs(mixed_book, make_config, "grouped")
    q = 0.995
    plain = _sim(x, 40_000, seed=21)
    xi = x._replace(z_shift=find_shift(x, q))
    shifted = _sim(xi, 8_000, seed=22)
    (a,) = tail_contributions(x, 21, plain.loss, [q])
    (b,) = tail_contributions(xi, 22, shifted.loss, [q], log_weight=shifted.log_weight)
    sa, sb = a.by["sector"], b.by["sector"]
    assert np.all(np.abs(sa.es - sb.es) < Z * np.hypot(sa.es_se, sb.es_se))
    assert np.all(np.abs(sa.var - sb.var) < Z * np.hypot(sa.var_se, sb.var_se))


# ------------------------------------------------------------------------- concentration


def test_concentration_hand_worked() -> None:
    e = np.array([1.0, 3.0])
    pd_ = np.array([0.01, 0.02])
    lgd = np.array([0.5, 0.4])
    sd = np.array([0.0, 0.1])
    r = np.array([0.2, 0.1])
    c = concentration(e, pd_, lgd, sd, r, top=(1, 2))
    s = e / 4
    assert c["top_share"] == {"1": 0.75, "2": 1.0}
    assert math.isclose(c["herfindahl"], 0.0625 + 0.5625)
    z = special.ndtri(0.999)
    k = lgd * (special.ndtr((special.ndtri(pd_) + np.sqrt(r) * z) / np.sqrt(1 - r)) - pd_)
    rr = lgd * pd_
    cc = (lgd**2 + sd**2) / lgd
    k_star = (s * k).sum()
    ga = (s**2 * cc * (GA_DELTA * (k + rr) - k)).sum() / (2 * k_star)
    assert math.isclose(c["granularity_adjustment"]["fraction"], ga, rel_tol=1e-12)
    assert math.isclose(c["granularity_adjustment"]["value"], 4 * ga, rel_tol=1e-12)


def test_granularity_adjustment_falls_as_one_over_n() -> None:
    def ga(n: int) -> float:
        one = np.ones(n)
        return concentration(one, 0.01 * one, 0.45 * one, 0 * one, 0.2 * one)[
            "granularity_adjustment"]["fraction"]

    assert math.isclose(ga(10) / ga(1000), 100.0, rel_tol=1e-9)


# ------------------------------------------------------------------------------ the run


def test_run_folder_has_contributions(tmp_path: Any, mixed_book: Book,
                                      make_config: Any) -> None:
    cfg = make_config(simulation={"paths": 4000, "seed": 1}, risk={"levels": [0.99]})
    res = run_folder(cfg, tmp_path / "run", book=mixed_book)
    ds = res.dataset
    assert ds["es_contribution"].dims == ("level", "customer")
    assert set(ds["country"].values) == {"DE", "FR"}
    contrib = res.metrics["contributions"]["levels"]["0.99"]
    assert len(contrib["top_customers"]) == 20
    assert {s["sector"] for s in contrib["by_sector"]} == {"a", "b", "c"}
    assert math.isclose(sum(s["es_contribution"] for s in contrib["by_sector"]),
                        contrib["es_sum_of_contributions"], rel_tol=1e-9)
    assert res.metrics["concentration"]["herfindahl"] > 0
    table = (tmp_path / "run" / "contributions.csv").read_text().splitlines()
    assert table[0].startswith("level,dimension,key,exposure,es_contribution")
    assert len(table) == 1 + len(contributions_table(ds)) == 1 + 300 + 3 + 2
