"""Dask distributed against the in-process engine: scaling and per-task overhead.

Run (about 4 minutes on 2 cores)::

    python -m pytest benchmarks/bench_distributed.py --benchmark-only

Scaling: the example book and config (``configs/example.toml``, with its payment timeline)
simulated in-process on one thread, on one Dask worker and on two; every case returns the
same result, checked bit for bit inside each benchmark. Parallel efficiency is
``T(in-process, 1 thread) / (2 · T(2 workers))``, stored in the 2-worker case's
``extra_info`` (see ``--benchmark-json``).

Overhead: the same paths of the example book's customers and model, without the timeline,
invoices and policies (cheap tasks, so fixed costs show), cut into many tiny chunks or a few
big ones, in-process and on two workers. The Dask cost of one task is the growth of the time
per added chunk beyond the in-process one.

Cluster start-up and kernel compilation are outside the timed calls: each cluster is started
(and its workers warmed up) before its rounds, and the kernels are compiled first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import Client
from pytest_benchmark.fixture import BenchmarkFixture

from portsim.config import BookConfig, RunConfig, load_config
from portsim.engine.chunk import chunk_ranges
from portsim.engine.distributed import open_client, simulate_with_client
from portsim.engine.gather import SimOutput
from portsim.engine.local import simulate
from portsim.engine.warmup import warmup
from portsim.inputs.model import ModelInputs
from portsim.workflow.api import prepare

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261128
#: Scaling case: a few seconds on one thread with the timeline.
SCALE_PATHS = 8_192
SCALE_CHUNK = 1_024
#: Overhead case: tiny (one 256-path seeding block) against big chunks, no timeline.
OVERHEAD_PATHS = 65_536
TINY, BIG = 256, 8_192

SECONDS: dict[str, float] = {}


@pytest.fixture(scope="module")
def example() -> ModelInputs:
    warmup()
    return prepare(load_config(ROOT / "configs" / "example.toml"))[1]


@pytest.fixture(scope="module")
def example_no_timeline() -> ModelInputs:
    full = load_config(ROOT / "configs" / "example.toml")
    book = BookConfig(path=full.book.path, ratings=full.book.ratings, sectors=full.book.sectors)
    cfg = RunConfig(name="overhead", book=book, model=full.model, base_dir=full.base_dir)
    return prepare(cfg)[1]


@pytest.fixture(scope="module")
def expected(example: ModelInputs) -> SimOutput:
    return simulate(example, n_paths=SCALE_PATHS, seed=SEED, chunk_paths=SCALE_CHUNK, threads=2)


@pytest.fixture(scope="module")
def expected_no_timeline(example_no_timeline: ModelInputs) -> SimOutput:
    return simulate(example_no_timeline, n_paths=OVERHEAD_PATHS, seed=SEED, chunk_paths=BIG,
                    threads=2)


@pytest.fixture
def one_worker() -> Iterator[Client]:
    with open_client(workers=1) as client:
        yield client


@pytest.fixture
def two_workers() -> Iterator[Client]:
    with open_client(workers=2) as client:
        yield client


def _same(a: SimOutput, b: SimOutput) -> None:
    assert np.array_equal(a.loss, b.loss)
    assert np.array_equal(a.customer_loss_sum, b.customer_loss_sum)
    if a.timeline_scalars is not None:
        assert np.array_equal(a.timeline_scalars, b.timeline_scalars)


def _median(benchmark: BenchmarkFixture) -> float:
    stats = benchmark.stats
    assert stats is not None
    return float(stats.stats.median)


def test_scaling_in_process_1_thread(
    benchmark: BenchmarkFixture, example: ModelInputs, expected: SimOutput
) -> None:
    out = benchmark.pedantic(
        simulate, args=(example,), rounds=5, warmup_rounds=1,
        kwargs={"n_paths": SCALE_PATHS, "seed": SEED, "chunk_paths": SCALE_CHUNK, "threads": 1},
    )
    _same(out, expected)
    SECONDS["in_process_1_thread"] = _median(benchmark)


@pytest.mark.parametrize("n_workers", [1, 2])
def test_scaling_dask_workers(
    benchmark: BenchmarkFixture, request: pytest.FixtureRequest, n_workers: int,
    example: ModelInputs, expected: SimOutput,
) -> None:
    client = request.getfixturevalue("one_worker" if n_workers == 1 else "two_workers")
    out = benchmark.pedantic(
        simulate_with_client, args=(client, example), rounds=5, warmup_rounds=1,
        kwargs={"n_paths": SCALE_PATHS, "seed": SEED, "chunk_paths": SCALE_CHUNK},
    )
    _same(out, expected)
    SECONDS[f"dask_{n_workers}_workers"] = t = _median(benchmark)
    if n_workers == 2 and "in_process_1_thread" in SECONDS:
        benchmark.extra_info["parallel_efficiency"] = SECONDS["in_process_1_thread"] / (2 * t)


@pytest.mark.parametrize("chunk_paths", [TINY, BIG])
def test_overhead_in_process(
    benchmark: BenchmarkFixture, example_no_timeline: ModelInputs,
    expected_no_timeline: SimOutput, chunk_paths: int,
) -> None:
    out = benchmark.pedantic(
        simulate, args=(example_no_timeline,), rounds=3, warmup_rounds=1,
        kwargs={"n_paths": OVERHEAD_PATHS, "seed": SEED, "chunk_paths": chunk_paths,
                "threads": 2},
    )
    _same(out, expected_no_timeline)
    benchmark.extra_info["chunks"] = len(chunk_ranges(OVERHEAD_PATHS, chunk_paths))


@pytest.mark.parametrize("chunk_paths", [TINY, BIG])
def test_overhead_dask_2_workers(
    benchmark: BenchmarkFixture, two_workers: Client, example_no_timeline: ModelInputs,
    expected_no_timeline: SimOutput, chunk_paths: int,
) -> None:
    out = benchmark.pedantic(
        simulate_with_client, args=(two_workers, example_no_timeline), rounds=3,
        warmup_rounds=1, kwargs={"n_paths": OVERHEAD_PATHS, "seed": SEED,
                                 "chunk_paths": chunk_paths},
    )
    _same(out, expected_no_timeline)
    benchmark.extra_info["chunks"] = len(chunk_ranges(OVERHEAD_PATHS, chunk_paths))
