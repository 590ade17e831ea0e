"""Running the chunks in-process on a pool of threads, with an optional checkpoint store.

The kernels release the GIL, so threads run chunks in parallel; the chunks are gathered in
order (:func:`portsim.engine.gather.assemble`), so the result is the same for any number of
threads. At most ``IN_FLIGHT × threads`` chunks are in memory at a time.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Protocol

from portsim.engine.chunk import ChunkResult, chunk_ranges, run_chunk
from portsim.engine.gather import SimOutput, assemble
from portsim.inputs.model import ModelInputs

__all__ = ["IN_FLIGHT", "ChunkStore", "default_threads", "simulate"]

#: Chunks per thread submitted ahead of the one gathered (running, or done and waiting).
IN_FLIGHT = 2


def default_threads() -> int:
    """Threads to use when none are given: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _run_local(
    inputs: ModelInputs, seed: int, ranges: list[tuple[int, int]], threads: int
) -> Generator[ChunkResult, None, None]:
    if threads == 1 or len(ranges) == 1:
        for a, b in ranges:
            yield run_chunk(inputs, seed, a, b)
        return
    with ThreadPoolExecutor(max_workers=threads) as ex:
        # at most IN_FLIGHT × threads chunks submitted and not yet gathered, each released
        # once gathered: the chunks' memory does not grow with the number of paths
        todo = iter(ranges)
        pending: deque[Future[ChunkResult]] = deque()
        try:
            while True:
                for a, b in islice(todo, IN_FLIGHT * threads - len(pending)):
                    pending.append(ex.submit(run_chunk, inputs, seed, a, b))
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


class ChunkStore(Protocol):
    """Where finished chunks are kept, by chunk start (a run folder's checkpoint)."""

    def done(self) -> set[int]:
        """Starts of the chunks already kept."""

    def load(self, start: int) -> ChunkResult:
        """The kept chunk that starts at path ``start``."""

    def save(self, result: ChunkResult) -> None:
        """Keep a finished chunk."""


def _with_store(
    inputs: ModelInputs, seed: int, ranges: list[tuple[int, int]], threads: int,
    store: ChunkStore,
) -> Generator[ChunkResult, None, None]:
    """Chunks in order: kept ones loaded, the others computed and kept as they are gathered."""
    kept = store.done()
    fresh = _run_local(inputs, seed, [r for r in ranges if r[0] not in kept], threads)
    try:
        for a, _ in ranges:
            if a in kept:
                yield store.load(a)
            else:
                result = next(fresh)
                store.save(result)
                yield result
    finally:
        fresh.close()


def simulate(
    inputs: ModelInputs,
    *,
    n_paths: int,
    seed: int,
    chunk_paths: int = 8192,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    series_budget_mb: float = 256.0,
    store: ChunkStore | None = None,
) -> SimOutput:
    """Simulate ``n_paths`` paths in-process with a pool of ``threads`` threads.

    Parameters
    ----------
    inputs : ModelInputs
        From :func:`portsim.inputs.model.build_inputs`.
    n_paths, seed : int
        Number of paths and the run's seed.
    chunk_paths : int
        Paths per chunk (a unit of work; does not change the result).
    threads : int, optional
        Worker threads (default: all CPUs available). Does not change the result.
    progress : callable(done, total), optional
        Called after each chunk is gathered.
    series_budget_mb : float
        Memory for the per-path × period series of a timeline run (see :func:`assemble`).
    store : ChunkStore, optional
        Chunks it holds are loaded instead of computed; new chunks are saved to it as they are
        gathered (the run folder's checkpoint). Does not change the result.
    """
    t0 = time.perf_counter()
    threads = threads or default_threads()
    ranges = chunk_ranges(n_paths, chunk_paths)
    chunks = (_run_local(inputs, seed, ranges, threads) if store is None
              else _with_store(inputs, seed, ranges, threads, store))
    try:
        out = assemble(inputs, chunks, n_paths=n_paths, seed=seed, chunk_paths=chunk_paths,
                       progress=progress, series_budget_mb=series_budget_mb)
    finally:
        chunks.close()  # on an interruption, cancels the chunks not started yet
    out.timings["simulate_seconds"] = time.perf_counter() - t0
    out.timings["threads"] = float(threads)
    return out
