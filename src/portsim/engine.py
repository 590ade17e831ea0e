"""The driver: cuts paths into chunks, seeds each path, runs the kernels, gathers outputs.

A chunk is the unit of work (a thread-pool task here, a Dask task on a cluster). Its result
depends only on the inputs, the seed and its path range, because every path's random streams
come from the seed and the path index (:mod:`portsim.rng`). Results are gathered in chunk
order, so sums over chunks are bit-identical whatever the thread count or finishing order.

Memory per chunk: ``chunk_paths × (2 + 2·n_sectors) × 8`` bytes of per-path outputs plus
``2 × n_customers × 8`` bytes of per-customer sums; nothing grows with paths × customers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from portsim import kernels
from portsim.rng import STREAM_DEFAULT, STREAM_LGD, path_states
from portsim.scenario import ModelInputs

__all__ = ["ChunkResult", "SimOutput", "chunk_ranges", "run_chunk", "simulate", "warmup"]


@dataclass
class ChunkResult:
    """Outputs of the paths ``start .. stop-1``."""

    start: int
    stop: int
    loss: np.ndarray  # (m,)
    n_defaults: np.ndarray  # (m,) int64
    sector_loss: np.ndarray  # (m, S)
    sector_n_defaults: np.ndarray  # (m, S) int64
    customer_loss: np.ndarray  # (n,) summed over the chunk's paths
    customer_n_defaults: np.ndarray  # (n,) int64
    seconds: float = 0.0


@dataclass
class SimOutput:
    """All paths' outputs, in path order."""

    loss: np.ndarray
    n_defaults: np.ndarray
    sector_loss: np.ndarray
    sector_n_defaults: np.ndarray
    customer_loss_sum: np.ndarray
    customer_n_defaults_sum: np.ndarray
    n_paths: int
    seed: int
    kernel: str
    chunk_paths: int
    timings: dict[str, float] = field(default_factory=dict)


def chunk_ranges(n_paths: int, chunk_paths: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0 .. n_paths-1`` in chunks of ``chunk_paths``."""
    return [(a, min(a + chunk_paths, n_paths)) for a in range(0, n_paths, chunk_paths)]


def run_chunk(inputs: ModelInputs, seed: int, start: int, stop: int) -> ChunkResult:
    """Simulate paths ``start .. stop-1``; pure and idempotent (the unit of distributed work)."""
    t0 = time.perf_counter()
    m = stop - start
    n = inputs.n_customers
    n_sec = len(inputs.sector_names)
    states = path_states(seed, start, stop, STREAM_DEFAULT)
    lgd_states = path_states(seed, start, stop, STREAM_LGD)
    res = ChunkResult(
        start=start,
        stop=stop,
        loss=np.zeros(m),
        n_defaults=np.zeros(m, dtype=np.int64),
        sector_loss=np.zeros((m, n_sec)),
        sector_n_defaults=np.zeros((m, n_sec), dtype=np.int64),
        customer_loss=np.zeros(n),
        customer_n_defaults=np.zeros(n, dtype=np.int64),
    )
    outs = (res.loss, res.n_defaults, res.sector_loss, res.sector_n_defaults,
            res.customer_loss, res.customer_n_defaults)
    x = inputs
    if x.kernel == "grouped":
        kernels.default_losses_grouped(
            states, lgd_states, x.chol, x.dof, x.group, x.group_factor, x.group_loading,
            x.group_idio, x.group_threshold, x.factor, x.exposure, x.lgd_mean, x.lgd_probit,
            x.lgd_conc, x.lgd_link, x.sector, *outs,
        )
    else:
        kernels.default_losses_per_customer(
            states, lgd_states, x.chol, x.dof, x.factor, x.loading, x.idio, x.threshold,
            x.exposure, x.lgd_mean, x.lgd_probit, x.lgd_conc, x.lgd_link, x.sector, *outs,
        )
    res.seconds = time.perf_counter() - t0
    return res


def default_threads() -> int:
    """Threads to use when none are given: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _run_local(
    inputs: ModelInputs, seed: int, ranges: list[tuple[int, int]], threads: int
) -> Iterator[ChunkResult]:
    if threads == 1 or len(ranges) == 1:
        for a, b in ranges:
            yield run_chunk(inputs, seed, a, b)
        return
    with ThreadPoolExecutor(max_workers=threads) as ex:
        futures = [ex.submit(run_chunk, inputs, seed, a, b) for a, b in ranges]
        try:
            for f in futures:
                yield f.result()
        finally:
            for f in futures:
                f.cancel()


def assemble(
    inputs: ModelInputs,
    results: Iterator[ChunkResult] | list[ChunkResult],
    *,
    n_paths: int,
    seed: int,
    chunk_paths: int,
    progress: Callable[[int, int], None] | None = None,
) -> SimOutput:
    """Gather chunk results (in chunk order) into one :class:`SimOutput`."""
    n_sec = len(inputs.sector_names)
    out = SimOutput(
        loss=np.empty(n_paths),
        n_defaults=np.empty(n_paths, dtype=np.int64),
        sector_loss=np.empty((n_paths, n_sec)),
        sector_n_defaults=np.empty((n_paths, n_sec), dtype=np.int64),
        customer_loss_sum=np.zeros(inputs.n_customers),
        customer_n_defaults_sum=np.zeros(inputs.n_customers, dtype=np.int64),
        n_paths=n_paths,
        seed=seed,
        kernel=inputs.kernel,
        chunk_paths=chunk_paths,
    )
    n_chunks = -(-n_paths // chunk_paths)
    busy = 0.0
    for k, r in enumerate(results, start=1):
        sl = slice(r.start, r.stop)
        out.loss[sl] = r.loss
        out.n_defaults[sl] = r.n_defaults
        out.sector_loss[sl] = r.sector_loss
        out.sector_n_defaults[sl] = r.sector_n_defaults
        out.customer_loss_sum += r.customer_loss
        out.customer_n_defaults_sum += r.customer_n_defaults
        busy += r.seconds
        if progress is not None:
            progress(k, n_chunks)
    out.timings["chunk_seconds_total"] = busy
    return out


def simulate(
    inputs: ModelInputs,
    *,
    n_paths: int,
    seed: int,
    chunk_paths: int = 8192,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimOutput:
    """Simulate ``n_paths`` paths in-process with a pool of ``threads`` threads.

    Parameters
    ----------
    inputs : ModelInputs
        From :func:`portsim.scenario.build_inputs`.
    n_paths, seed : int
        Number of paths and the run's seed.
    chunk_paths : int
        Paths per chunk (a unit of work; does not change the result).
    threads : int, optional
        Worker threads (default: all CPUs available). Does not change the result.
    progress : callable(done, total), optional
        Called after each chunk is gathered.
    """
    t0 = time.perf_counter()
    threads = threads or default_threads()
    ranges = chunk_ranges(n_paths, chunk_paths)
    out = assemble(inputs, _run_local(inputs, seed, ranges, threads), n_paths=n_paths,
                   seed=seed, chunk_paths=chunk_paths, progress=progress)
    out.timings["simulate_seconds"] = time.perf_counter() - t0
    out.timings["threads"] = float(threads)
    return out


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel on a tiny book; returns seconds."""
    t0 = time.perf_counter()
    from portsim.scenario import psd_cholesky

    n = 2
    one = np.ones(n)
    chol = psd_cholesky(np.eye(1))
    i64 = np.zeros(n, dtype=np.int64)
    for kname in ("grouped", "per_customer"):
        for dof in (0.0, 5.0):
            x = ModelInputs(
                exposure=one, p_default=one * 0.5, p_horizon=one * 0.5, hazard=one,
                asset_correlation=one * 0.2, loading=one * 0.4, idio=one * 0.9,
                threshold=one * 0.0, factor=i64, sector=i64, lgd_mean=one * 0.5,
                lgd_probit=one * 0.0, lgd_conc=one, lgd_link=0.1, chol=chol, corr=np.eye(1),
                dof=dof, group=i64, group_factor=np.zeros(1, dtype=np.int64),
                group_loading=np.array([0.4]), group_idio=np.array([0.9]),
                group_threshold=np.array([0.0]), horizon_years=1.0, factor_names=("a",),
                sector_names=("a",), customer_ids=("x", "y"), kernel=kname,
            )
            run_chunk(x, 0, 0, 4)
    return time.perf_counter() - t0
