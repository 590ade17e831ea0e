"""The Monte Carlo engine running CreditRisk+ (``model.family = "creditriskplus"``) against
the exact distributions: the Poisson model against the analytic lattice distribution
(:mod:`portsim.creditriskplus.analytic`: mean, sd, tail probabilities, a chi-square over the
lattice, ES and the sector ES contributions), the Bernoulli variant against a brute-force
computation over every set of defaulters of a small book with the gamma sector variables
integrated by Gauss–Laguerre quadrature. Losses given default are whole loss units, so the
lattice model is exact. Tolerances: 4 standard errors; goodness of fit at ``P_MIN``.

Also: the results are bit-identical for any thread count and chunk size, and the runs the
family does not support are refused with a clear error.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from test_crp_analytic import integrated

import portsim
from portsim.config import config_hash
from portsim.creditriskplus.analytic import analyse
from portsim.creditriskplus.model import build_model
from portsim.data import Book
from portsim.errors import ConfigError
from portsim.workflow.api import prepare

P_MIN = 1e-4
Z = 4.0
UNIT = 100.0
LEVELS = [0.9, 0.99, 0.999]
CRP = {"loss_unit": UNIT, "sector_variances": {"a": 0.6, "b": 1.5, "c": 2.5},
       "weights": {"a": {"a": 0.8}, "b": {"b": 0.5, "a": 0.3}, "c": {"c": 0.9, "b": 0.1}},
       "idiosyncratic_weight": 0.2}


@pytest.fixture(scope="module")
def book(make_book: Any) -> Book:
    """30 customers in 3 sectors; exposure × LGD of 1 to 6 loss units."""
    n = 30
    i = np.arange(n)
    return make_book(sector=np.array(["a", "b", "c"])[i % 3], exposure=2 * UNIT * (1 + i % 6),
                     lgd=0.5, p_default=0.01 + 0.07 * ((7 * i) % 10) / 9)


def crp_config(make_config: Any, **crp: Any) -> Any:
    return make_config(model={"family": "creditriskplus"}, creditriskplus={**CRP, **crp},
                       risk={"levels": LEVELS}, simulation={"paths": 200_000, "seed": 17})


@pytest.fixture(scope="module")
def poisson_run(book: Book, make_config: Any) -> tuple[xr.Dataset, Any]:
    cfg = crp_config(make_config)
    return portsim.run(cfg, book), cfg


def test_poisson_moments_and_tail_probabilities_are_the_analytic_ones(
        book: Book, poisson_run: tuple[xr.Dataset, Any]) -> None:
    ds, cfg = poisson_run
    _, inputs = prepare(cfg, book)
    model = build_model(inputs, cfg.creditriskplus)
    assert np.all(model.units * UNIT == inputs.exposure * inputs.lgd_mean)  # exact lattice
    exact = analyse(model, tuple(LEVELS))
    m = portsim.summarize(ds)
    for got, want in ((m["expected_loss"], exact.expected_loss),
                      (m["loss_sd"], exact.sd_loss)):
        assert abs(got["value"] - want) < Z * got["se"]
    units = np.rint(ds["loss"].values / UNIT).astype(np.int64)
    np.testing.assert_allclose(units * UNIT, ds["loss"].values, rtol=1e-12)
    n = units.size
    above = 1.0 - np.cumsum(exact.pmf)  # P[L > m units]
    for q in (0.5, *LEVELS, 0.9995):
        x = int(np.searchsorted(np.cumsum(exact.pmf), q))
        p = above[x]
        assert abs(np.mean(units > x) - p) < Z * math.sqrt(p * (1 - p) / n), q
    for q, es in zip(LEVELS, exact.es, strict=True):
        got = m["es"][str(q)]
        assert abs(got["value"] - es) < Z * got["se"], q


def test_poisson_lattice_frequencies_chi_square(poisson_run: tuple[xr.Dataset, Any],
                                                book: Book) -> None:
    ds, cfg = poisson_run
    _, inputs = prepare(cfg, book)
    pmf = analyse(build_model(inputs, cfg.creditriskplus), (0.99,)).pmf
    units = np.rint(ds["loss"].values / UNIT).astype(np.int64)
    n = units.size
    observed = np.bincount(units, minlength=pmf.size)[:pmf.size].astype(float)
    expected = n * pmf
    keep = expected >= 20  # cells of at least 20 expected paths; the rest pooled
    obs = np.append(observed[keep], n - observed[keep].sum())
    exp = np.append(expected[keep], n - expected[keep].sum())
    assert keep.sum() > 30
    assert stats.chisquare(obs, exp).pvalue > P_MIN


def test_sector_es_contributions_are_the_analytic_ones(
        book: Book, poisson_run: tuple[xr.Dataset, Any]) -> None:
    ds, cfg = poisson_run
    _, inputs = prepare(cfg, book)
    exact = analyse(build_model(inputs, cfg.creditriskplus), tuple(LEVELS))
    got = ds["sector_es_contribution"].sel(level=0.99).values
    se = ds["sector_es_contribution_se"].sel(level=0.99).values
    want = exact.sector_es_contribution[LEVELS.index(0.99)]
    assert np.all(np.abs(got - want) < Z * se + 1.0)  # + a cent per tail default, rounding


def test_bernoulli_is_the_brute_force_distribution_of_a_small_book(
        make_book: Any, make_config: Any) -> None:
    """Losses of 1, 2, 4 and 8 units: each set of defaulters has its own loss, whose
    probability is E_S[Π_i π_i^d_i · (1 − π_i)^(1 − d_i)], π_i = min(λ_i(S), 1)."""
    book = make_book(sector=["a", "b", "a", "b"], exposure=[UNIT, 2 * UNIT, 4 * UNIT, 8 * UNIT],
                     lgd=1.0, p_default=[0.3, 0.15, 0.05, 0.1])
    cfg = make_config(model={"family": "creditriskplus"},
                      creditriskplus={"defaults": "bernoulli", "loss_unit": UNIT,
                                      "sector_variances": {"a": 0.8, "b": 1.7},
                                      "weights": {"a": {"a": 0.9}, "b": {"a": 0.3, "b": 0.6}}},
                      simulation={"paths": 200_000, "seed": 4})
    _, inputs = prepare(cfg, book)
    model = build_model(inputs, cfg.creditriskplus)
    np.testing.assert_array_equal(model.units, [1, 2, 4, 8])
    sets = np.array(list(itertools.product([0, 1], repeat=4)))  # (16, 4) defaulters

    def law(lam: np.ndarray) -> np.ndarray:
        hit = np.minimum(lam, 1.0)
        return np.prod(np.where(sets == 1, hit, 1.0 - hit), axis=1)

    prob = integrated(model, law)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    loss_units = sets @ model.units
    pmf = np.zeros(16)
    pmf[loss_units] = prob
    ds = portsim.run(cfg, book, contributions=False)
    units = np.rint(ds["loss"].values / UNIT).astype(np.int64)
    n = units.size
    observed = np.bincount(units, minlength=16)
    assert units.max() <= 15  # at most one default each
    assert stats.chisquare(observed, n * pmf).pvalue > P_MIN
    mean = float(pmf @ np.arange(16)) * UNIT
    m = portsim.summarize(ds)
    assert abs(m["expected_loss"]["value"] - mean) < Z * m["expected_loss"]["se"]
    # the Poisson model's expected loss Σ p_i·ν_i less E[(λ_i − 1)⁺·ν_i], λ_i > 1 on paths
    # where a sector draw exceeds 1 / p_i (> 3.3 here)
    poisson_mean = float(model.intensity @ model.units) * UNIT
    excess = integrated(model, lambda lam: np.maximum(lam - 1.0, 0.0) @ model.units) * UNIT
    assert mean == pytest.approx(poisson_mean - float(excess), rel=1e-9)
    assert 0.0 < float(excess) < 0.01 * poisson_mean


def test_results_do_not_depend_on_threads_or_chunks(book: Book, make_config: Any) -> None:
    runs = []
    for threads, chunk in ((1, 256), (2, 700), (2, 8192)):
        cfg = make_config(model={"family": "creditriskplus"}, creditriskplus=CRP,
                          simulation={"paths": 3000, "seed": 5, "chunk_paths": chunk})
        ds = portsim.run(cfg, book, threads=threads)
        # chunk_paths is a config key, so the config hash differs; nothing else may
        for key in ("simulate_seconds", "chunk_paths", "config_hash"):
            del ds.attrs[key]
        runs.append(ds)
    assert runs[0].attrs["kernel"] == "creditriskplus"
    assert runs[0]["loss"].values.sum() > 0
    assert "es_contribution" in runs[0]
    for other in runs[1:]:
        xr.testing.assert_identical(runs[0], other)


def test_the_default_family_records_and_hashes_as_before(make_config: Any) -> None:
    plain = make_config()
    assert "family" not in plain.resolved()["model"]
    assert config_hash(plain) == config_hash(make_config(model={"family": "copula"}))
    crp = make_config(model={"family": "creditriskplus"})
    assert crp.resolved()["model"]["family"] == "creditriskplus"
    assert config_hash(crp) != config_hash(plain)


@pytest.mark.parametrize(("extra", "words"), [
    ({"timeline": {"as_of": "2026-12-31"}}, "[timeline]"),
    ({"simulation": {"tail_sampling": "importance"}}, "tail_sampling"),
    ({"model": {"family": "creditriskplus", "copula": "student_t", "dof": 5.0}}, "copula"),
    ({"scenario": {"factor_shift": {"global": -1.0}}}, "factor_shift"),
    ({"scenario": {"default_events": [{"customer": "C001"}]}}, "default_events"),
])
def test_runs_the_family_does_not_support_are_refused(
        book: Book, make_config: Any, extra: dict[str, Any], words: str) -> None:
    cfg = make_config(**{"model": {"family": "creditriskplus"}, **extra})
    with pytest.raises(ConfigError, match=r"creditriskplus") as err:
        prepare(cfg, book)
    assert words in str(err.value)
