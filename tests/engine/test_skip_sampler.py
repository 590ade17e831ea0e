"""The skip sampler (kernel "skip"): defaults drawn by geometric skipping within each group.

Statistical checks are chi-square tests at significance ``ALPHA`` = 1e-3 (fixed seeds, so the
outcome is deterministic; no seed was chosen to make a test pass): the default-count
distribution of the skip sampler against the exact one-factor distribution
(tests/reference.py) and against the per-customer kernel on the same book (a two-sample test
of homogeneity), with adjacent counts pooled until every expected cell holds 5 (Cochran).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from portsim.data.book import Book
from portsim.engine.chunk import run_chunk
from portsim.engine.gather import SimOutput
from portsim.engine.local import simulate
from portsim.errors import ConfigError
from portsim.inputs.model import ModelInputs, auto_kernel, build_inputs
from portsim.workflow.checks import require_valid
from reference import mc_mean_se, one_factor_count_distribution

ALPHA = 1e-3  # significance of every chi-square test here
PATHS = 40_000


def _inputs(make_book: Any, make_config: Any, kernel: str, **book_cols: Any) -> ModelInputs:
    book: Book = make_book(**book_cols)
    return build_inputs(book, make_config(simulation={"kernel": kernel}))


def _run(x: ModelInputs, n_paths: int = PATHS, seed: int = 11) -> SimOutput:
    return simulate(x, n_paths=n_paths, seed=seed, chunk_paths=8192, threads=2)


def _pooled(obs: np.ndarray, exp: np.ndarray, min_expected: float = 5.0
            ) -> tuple[np.ndarray, np.ndarray]:
    """Pool adjacent cells (in count order) until each expects ``min_expected``."""
    o_out: list[float] = []
    e_out: list[float] = []
    acc_o = acc_e = 0.0
    for o, e in zip(obs, exp, strict=True):
        acc_o += o
        acc_e += e
        if acc_e >= min_expected:
            o_out.append(acc_o)
            e_out.append(acc_e)
            acc_o = acc_e = 0.0
    if o_out:
        o_out[-1] += acc_o
        e_out[-1] += acc_e
    return np.array(o_out), np.array(e_out)


def _gof_pvalue(counts: np.ndarray, probs: np.ndarray) -> float:
    """Chi-square goodness of fit of simulated default counts to exact probabilities."""
    n = counts.size
    obs = np.bincount(counts, minlength=probs.size)[: probs.size].astype(float)
    o, e = _pooled(obs, probs * n)
    assert o.size >= 3
    return float(stats.chisquare(o, e * o.sum() / e.sum()).pvalue)


def _homogeneity_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample chi-square test that two count samples share one distribution."""
    top = int(max(a.max(), b.max())) + 1
    table = np.stack([np.bincount(a, minlength=top), np.bincount(b, minlength=top)]).astype(
        float)
    # pool columns until both expected cells hold 5
    cols: list[np.ndarray] = []
    acc = np.zeros(2)
    frac = table.sum(axis=1) / table.sum()
    for j in range(top):
        acc += table[:, j]
        if (acc.sum() * frac).min() >= 5.0:
            cols.append(acc)
            acc = np.zeros(2)
    if cols:
        cols[-1] = cols[-1] + acc
    pooled = np.stack(cols, axis=1)
    assert pooled.shape[1] >= 3
    return float(stats.chi2_contingency(pooled, correction=False).pvalue)


# ------------------------------------------------------------------- hand-worked cases


def test_pd_zero_and_one_groups(make_book: Any, make_config: Any) -> None:
    """PD 0 never defaults, PD 1 always: every path loses exactly the PD-1 exposures."""
    x = _inputs(make_book, make_config, "skip", n=6, p_default=[0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
                exposure=[1.0, 2.0, 4.0, 8.0, 16.0, 32.0], asset_correlation=0.3)
    out = _run(x, n_paths=300)
    np.testing.assert_array_equal(out.n_defaults, 3)
    np.testing.assert_array_equal(out.loss, 26.0)
    np.testing.assert_array_equal(out.customer_n_defaults_sum, [0, 300, 0, 300, 300, 0])


def test_invariants_on_a_mixed_book(make_book: Any, make_config: Any) -> None:
    """Sector sums are the path loss; customer sums over paths match the path losses to
    half a cent per default; the skip and grouped kernels share the factor draws."""
    rng = np.random.default_rng(5)
    n = 400
    x = _inputs(make_book, make_config, "skip", n=n,
                p_default=rng.choice([0.002, 0.01, 0.05, 0.3], size=n),
                exposure=np.round(rng.lognormal(8, 1, n), 2), lgd=0.45,
                lgd_sd=0.2, sector=rng.choice(["a", "b", "c"], size=n))
    out = _run(x, n_paths=2000)
    np.testing.assert_allclose(out.sector_loss.sum(axis=1), out.loss, rtol=1e-12)
    np.testing.assert_array_equal(out.sector_n_defaults.sum(axis=1), out.n_defaults)
    assert out.customer_n_defaults_sum.sum() == out.n_defaults.sum()
    assert abs(out.customer_loss_sum.sum() / 100 - out.loss.sum()) <= 0.005 * out.n_defaults.sum()
    assert np.all(out.log_weight == 0.0)


def test_chunking_and_threads_do_not_change_the_result(make_book: Any,
                                                       make_config: Any) -> None:
    x = _inputs(make_book, make_config, "skip", n=300, p_default=0.03, asset_correlation=0.2)
    a = simulate(x, n_paths=3000, seed=4, chunk_paths=256, threads=1)
    b = simulate(x, n_paths=3000, seed=4, chunk_paths=2048, threads=2)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.customer_loss_sum, b.customer_loss_sum)
    one = run_chunk(x, 4, 1000, 1001)  # any path alone
    assert one.loss[0] == a.loss[1000]


# ------------------------------------------------------------------------ distributions


@pytest.mark.parametrize(("p", "r"), [(0.02, 0.15), (0.2, 0.3)],
                         ids=["sparse_groups", "dense_groups"])
def test_default_counts_match_the_exact_one_factor_distribution(
    make_book: Any, make_config: Any, p: float, r: float
) -> None:
    """The default count of a homogeneous one-factor book against the exact distribution;
    ``dense_groups`` exercises the customer-by-customer branch (conditional PD > 0.1)."""
    n = 60
    x = _inputs(make_book, make_config, "skip", n=n, p_default=p, asset_correlation=r)
    out = _run(x)
    exact = one_factor_count_distribution(n, float(x.p_horizon[0]), r)
    assert _gof_pvalue(out.n_defaults, exact) > ALPHA
    se = mc_mean_se(out.n_defaults)
    assert abs(out.n_defaults.mean() - n * p) < 4 * se


def test_skip_and_per_customer_give_one_distribution(make_book: Any,
                                                     make_config: Any) -> None:
    """Two-sample chi-square on a two-grade, two-sector book (independent seeds)."""
    n = 120
    grade = np.arange(n) % 3 == 0
    cols = {"n": n, "p_default": np.where(grade, 0.08, 0.01),
            "sector": np.where(np.arange(n) % 2 == 0, "a", "b"), "asset_correlation": 0.2}
    skip = _run(_inputs(make_book, make_config, "skip", **cols), seed=1)
    per = _run(_inputs(make_book, make_config, "per_customer", **cols), seed=2)
    assert _homogeneity_pvalue(skip.n_defaults, per.n_defaults) > ALPHA
    for s in range(2):  # and sector by sector
        assert _homogeneity_pvalue(skip.sector_n_defaults[:, s],
                                   per.sector_n_defaults[:, s]) > ALPHA


# ---------------------------------------------------------------------------- auto rule


def test_auto_rule() -> None:
    big = np.array([10_000])
    assert auto_kernel(big, np.array([0.01]), timeline=False) == "skip"
    assert auto_kernel(big, np.array([0.5]), timeline=False) == "grouped"
    assert auto_kernel(big, np.array([0.01]), timeline=True) == "grouped"
    many = np.full(1000, 10)  # 1000 groups of 10: per-group work dominates
    assert auto_kernel(many, np.full(1000, 0.01), timeline=False) == "grouped"
    assert auto_kernel(np.full(100, 5), np.full(100, 0.01), timeline=False) == "per_customer"


def test_auto_picks_skip_for_a_rated_book_and_skip_refuses_a_timeline(
    make_book: Any, make_config: Any
) -> None:
    x = _inputs(make_book, make_config, "auto", n=2000,
                p_default=np.repeat([0.001, 0.005, 0.02, 0.1], 500))
    assert x.kernel == "skip"
    book = make_book(n=10, p_default=0.01, annual_sales=12.0)
    cfg = make_config(simulation={"kernel": "skip"},
                      timeline={"as_of": "2026-12-31", "horizon_months": 2})
    with pytest.raises(ConfigError, match="skip"):
        require_valid(cfg, book)
