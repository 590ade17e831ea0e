"""Engine throughput against the NumPy baseline, the random-number floor and installed peers.

Run (about 4 minutes on 2 cores)::

    python -m pytest benchmarks/bench_engine.py --benchmark-only \
        --benchmark-json=benchmarks/results/engine.json
    python benchmarks/report.py benchmarks/results/engine.json

Throughput is customer-paths per second (customers × paths / seconds). Every case simulates
the same 10,000-customer book (PDs from seven rating grades, log-normal exposures, one or ten
sector factors); fast implementations run more paths than slow ones so that each round takes
seconds, which does not change a throughput. JIT compilation is excluded by warm-up rounds.
Each case asserts that its mean loss agrees with the exact expected loss (within 5 standard
errors), so a fast wrong answer fails.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import baselines
from portsim.config import RunConfig
from portsim.data.book import book_from_frame
from portsim.engine.chunk import chunk_ranges
from portsim.engine.local import simulate
from portsim.inputs.model import ModelInputs, build_inputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import next_normal, path_states

N_CUSTOMERS = 10_000
THREADS = len(os.sched_getaffinity(0))
PATHS = {"engine": 100_000, "floor": 100_000, "numpy": 10_000, "peer": 5_000}


def _portsim_inputs(book: Any, *, distinct: bool, kernel: str) -> ModelInputs:
    n = book.exposure.size
    p = book.p.copy()
    if distinct:  # all PDs distinct: no two customers share a group
        p = p * np.exp(np.random.default_rng(1).uniform(-0.05, 0.05, n))
    frame = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "sector": [f"s{f:02d}" for f in book.factor],
        "country": "DE",
        "exposure": book.exposure,
        "p_default": p,
        "lgd": book.lgd,
        "asset_correlation": book.R,
    })
    k = book.corr.shape[0]
    rho = float(book.corr[0, 1]) if k > 1 else 0.0
    cfg = RunConfig.model_validate({
        "model": {"correlation": {"default": rho}},
        "simulation": {"kernel": kernel, "chunk_paths": 4096},
    })
    return build_inputs(book_from_frame(frame), cfg)


def _check_mean(losses: np.ndarray, el: float) -> None:
    se = losses.std(ddof=1) / np.sqrt(losses.size)
    assert abs(losses.mean() - el) < 5 * se + 1e-9 * el, (losses.mean(), el, se)


@pytest.fixture(scope="module", params=[1, 10], ids=["1factor", "10factors"])
def book(request: pytest.FixtureRequest) -> Any:
    return baselines.rating_book(N_CUSTOMERS, request.param, asset_correlation=0.15,
                                 factor_correlation=0.5, seed=20261128)


def _run(benchmark: Any, fn: Any, n_paths: int, label: str, el: float) -> None:
    benchmark.extra_info.update({"customer_paths": N_CUSTOMERS * n_paths, "label": label,
                                 "threads": THREADS})
    losses = benchmark.pedantic(fn, rounds=3, warmup_rounds=1, iterations=1)
    _check_mean(np.asarray(losses), el)


@pytest.mark.parametrize(("kernel", "distinct"), [("grouped", False), ("per_customer", True)],
                         ids=["grouped_rating_pds", "per_customer_distinct_pds"])
def test_portsim_engine(benchmark: Any, book: Any, kernel: str, distinct: bool) -> None:
    x = _portsim_inputs(book, distinct=distinct, kernel=kernel)
    el = float((x.exposure * x.lgd_mean * x.p_horizon).sum())
    n = PATHS["engine"]
    _run(benchmark, lambda: simulate(x, n_paths=n, seed=1, chunk_paths=4096).loss, n,
         f"portsim {kernel}", el)


@nb.njit(cache=True, nogil=True)
def _normals_floor(states: np.ndarray, n_customers: int, out: np.ndarray) -> None:
    for p in range(states.shape[0]):
        s0, s1 = states[p, 0], states[p, 1]
        acc = 0.0
        for _ in range(n_customers):
            z, s0, s1 = next_normal(s0, s1)
            acc += z
        out[p] = acc


def _floor(n_paths: int, n_customers: int) -> np.ndarray:
    out = np.empty(n_paths)

    def chunk(r: tuple[int, int]) -> None:
        _normals_floor(path_states(1, r[0], r[1], Stream.DEFAULT), n_customers,
                       out[r[0] : r[1]])

    with ThreadPoolExecutor(THREADS) as ex:
        list(ex.map(chunk, chunk_ranges(n_paths, 4096)))
    return out


def test_random_number_floor(benchmark: Any, book: Any) -> None:
    """One normal per customer-path with the engine's generator, same threads and chunks."""
    n = PATHS["floor"]
    benchmark.extra_info.update({"customer_paths": N_CUSTOMERS * n, "label": "floor",
                                 "threads": THREADS})
    sums = benchmark.pedantic(lambda: _floor(n, N_CUSTOMERS), rounds=3, warmup_rounds=1)
    # each path's sum of 10,000 standard normals has sd 100
    assert abs(sums.mean()) < 5 * 100 / np.sqrt(n)


def _args(book: Any) -> tuple[Any, ...]:
    return (book.exposure, book.lgd, book.p, book.R, book.factor, book.corr)


def _el(book: Any) -> float:
    return float((book.exposure * book.lgd * book.p).sum())


@pytest.mark.parametrize("workers", [1, THREADS], ids=["1thread", "all_threads"])
def test_numpy_baseline(benchmark: Any, book: Any, workers: int) -> None:
    """The NumPy baseline; with all threads it is the ratio's reference (the stricter one)."""
    n = PATHS["numpy"]
    _run(benchmark,
         lambda: baselines.numpy_losses(*_args(book), n_paths=n, seed=1, workers=workers), n,
         "numpy" if workers == THREADS else "numpy_1thread", _el(book))


def test_peer_creditriskengine(benchmark: Any, book: Any) -> None:
    n = PATHS["peer"]
    if book.corr.shape[0] == 1:
        fn = baselines.creditriskengine_single_factor_losses
    else:
        fn = baselines.creditriskengine_multi_factor_losses
    _run(benchmark, lambda: fn(*_args(book), n_paths=n, seed=1), n, "creditriskengine",
         _el(book))


def test_peer_riskpy(benchmark: Any, book: Any) -> None:
    if book.corr.shape[0] != 1:
        pytest.skip("riskpy.credit simulates one factor only (see benchmarks/PEERS.md)")
    n = PATHS["peer"]
    _run(benchmark, lambda: baselines.riskpy_losses(*_args(book), n_paths=n, seed=1), n,
         "riskpy", _el(book))
