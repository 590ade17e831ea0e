"""Batch runs on Dask distributed: a local cluster of worker processes, or an existing cluster.

``portsim run CONFIG --workers N`` (``portsim.run(config, workers=N)``) starts a
:class:`distributed.LocalCluster` for the run; ``--scheduler tcp://HOST:8786``
(``scheduler="tcp://…"``) uses a running cluster (e.g. one from dask-jobqueue on SLURM/PBS).
Needs the optional extra: ``pip install 'portsim[distributed]'``; dask is imported only here,
and this module only when a Dask run is asked for.

How a run is laid out
---------------------
* The :class:`~portsim.inputs.model.ModelInputs` are scattered once to every worker
  (``client.scatter(..., broadcast=True)``, under a fresh key per run); each chunk of paths is
  one task,
  :func:`portsim.engine.chunk.run_chunk`, with a deterministic key
  ``portsim-chunk-<inputs token>-<seed>-<start>-<stop>`` (the token is Dask's hash of the
  inputs, so the key names exactly what the result depends on) and ``pure=True``.
* Results are collected with ``as_completed`` as the tasks finish (each is checkpointed at
  once when a store is given, see :mod:`portsim.workflow.checkpoint`) and assembled in chunk
  order, so
  the result is bit-identical to an in-process run, on 1 or N workers, whatever the finishing
  order.
* A local cluster has one worker thread per process (``threads_per_worker=1``,
  ``processes=True``), processes started with ``spawn`` (not ``fork``), and
  ``NUMBA_NUM_THREADS=1`` in each worker's environment before numba is imported (through
  ``distributed.nanny.pre-spawn-environ``: variables handed to the worker any later are
  ignored once numba has been imported, and numba reads its thread count only at import).
  Our kernels are single-threaded per call, so one numba thread per worker is all they use.
* The driver compiles the kernels into numba's on-disk cache (:func:`portsim.engine.warmup.warmup`)
  before the cluster starts; a worker plugin then runs ``warmup`` once on every worker as it
  joins (replacements too), so workers load the cached kernels instead of each compiling them.
* A worker that dies is replaced by its nanny; the scheduler reruns its tasks elsewhere (up to
  ``distributed.scheduler.allowed-failures`` times per task), and a task that raises is retried
  ``retries`` times. Chunks are pure, so the result is unchanged. The inputs survive as long as
  one worker that holds them lives: on a single-worker cluster a killed worker loses them and
  the run stops with an error; ``portsim run --resume RUN_DIR`` then finishes it.

Memory per task
---------------
A worker holds the scattered inputs once (about 130 bytes per customer, plus the invoice
schedule of a timeline run: 0.26 MB for the 2,000-customer example book, 1.2 MB with its
timeline). A task adds the random states of its paths (``chunk_paths × 32`` bytes) and its
result, which it keeps until the driver has gathered it: ``chunk_paths × (2 + 2·n_sectors) × 8``
bytes of per-path outputs plus ``2 × n_customers × 8`` bytes of per-customer sums (see
:mod:`portsim.engine.chunk`), plus the per-path timeline, cash and policy outputs of a timeline run.
Measured on the example book with the default 8,192 paths per chunk: 1.5 MB per task without
the timeline, about 25 MB (3 KB per path) with it. Nothing grows with paths × customers.

A Python script that starts a local cluster must guard its entry point with
``if __name__ == "__main__":`` (worker processes are spawned and import the main module).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from portsim.errors import InputError, Problem

if TYPE_CHECKING:
    from portsim.engine.chunk import ChunkResult
    from portsim.engine.gather import SimOutput
    from portsim.engine.local import ChunkStore
    from portsim.inputs.model import ModelInputs

__all__ = [
    "DEFAULT_RETRIES",
    "NUMBA_THREADS_PER_WORKER",
    "MissingExtraError",
    "open_client",
    "simulate_distributed",
    "simulate_with_client",
]

NUMBA_THREADS_PER_WORKER = 1
"""numba threads in each worker process (the kernels are single-threaded per call)."""

DEFAULT_RETRIES = 2
"""Retries of a chunk task that raises (a worker that dies is handled by the scheduler)."""


class MissingExtraError(InputError, ImportError):
    """An optional dependency is not installed; the message says which extra to install.

    Raised when this module is imported without Dask; catch it as :class:`ImportError` or
    :class:`portsim.InputError` (the CLI turns it into exit code 1).
    """

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            [Problem(feature, f"needs the package {package!r},", "which is not installed",
                     f"pip install 'portsim[{extra}]'")],
            title="missing optional dependency",
        )


try:
    import dask
    from dask.base import tokenize
    from distributed import Client, Future, LocalCluster, Worker, WorkerPlugin, as_completed
except ImportError as exc:
    raise MissingExtraError(
        exc.name or "distributed", "distributed", "Dask runs (--workers, --scheduler)"
    ) from exc


class _WorkerSetup(WorkerPlugin):
    """On every worker as it joins: numba threads (if numba is not imported yet), warm kernels.

    The plugin is unpickled on the worker before :meth:`setup` runs, which is why this module
    imports nothing that imports numba at module level.
    """

    name = "portsim-warmup"
    idempotent = True  # a second portsim client on the same cluster does not warm up again

    async def setup(self, worker: Worker) -> None:
        if "numba" not in sys.modules:
            os.environ["NUMBA_NUM_THREADS"] = str(NUMBA_THREADS_PER_WORKER)
        from portsim.engine.warmup import warmup

        await asyncio.to_thread(warmup)  # keeps the worker's event loop (heartbeats) free


@contextmanager
def _environ_restored() -> Iterator[None]:
    """Undo the variables the nannies put into this process's environment before spawning."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


@contextmanager
def open_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A Dask client for portsim runs, its workers warmed up; closed (with its cluster) on exit.

    Parameters
    ----------
    workers : int, optional
        Start a local cluster of this many worker processes (spawned, one thread each,
        ``NUMBA_NUM_THREADS=1``), closed on exit.
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``; the cluster is left
        running on exit. Give ``workers`` or ``scheduler``, not both.

    Yields
    ------
    distributed.Client
    """
    if (workers is None) == (scheduler is None):
        raise ValueError("give either workers (a local cluster) or scheduler (an address)")
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers} must be at least 1")
    from portsim.engine.warmup import warmup

    warmup()  # fill numba's on-disk cache before any worker looks for it
    with ExitStack() as stack:
        if scheduler is not None:
            client = stack.enter_context(Client(scheduler))
        else:
            stack.enter_context(_environ_restored())
            stack.enter_context(dask.config.set({
                # kept for the cluster's lifetime: a nanny reads it again when it restarts a worker
                "distributed.worker.multiprocessing-method": "spawn",
                "distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS":
                    str(NUMBA_THREADS_PER_WORKER),
            }))
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            ))
            client = stack.enter_context(Client(cluster))
        client.register_plugin(_WorkerSetup())
        yield client


def simulate_distributed(
    inputs: ModelInputs,
    *,
    n_paths: int,
    seed: int,
    chunk_paths: int = 8192,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    series_budget_mb: float = 256.0,
    store: ChunkStore | None = None,
    retries: int = DEFAULT_RETRIES,
) -> SimOutput:
    """Simulate ``n_paths`` paths on Dask; the same result as :func:`portsim.engine.local.simulate`.

    Parameters
    ----------
    inputs : ModelInputs
        From :func:`portsim.inputs.model.build_inputs`.
    n_paths, seed, chunk_paths : int
        As in :func:`portsim.engine.local.simulate`; ``chunk_paths`` is the paths per task.
    workers, scheduler
        Where to run, as in :func:`open_client`.
    progress : callable(done, total), optional
        Called each time a chunk task finishes (``done`` counts kept chunks too).
    series_budget_mb : float
        As in :func:`portsim.engine.local.simulate`.
    store : ChunkStore, optional
        Chunks it holds are loaded, not computed; each finished task is saved to it at once.
    retries : int
        Retries of a task that raises.

    Returns
    -------
    SimOutput
        With ``timings["workers"]``, the number of workers when the run started.
    """
    t0 = time.perf_counter()
    with open_client(workers=workers, scheduler=scheduler) as client:
        n_workers = len(client.scheduler_info()["workers"])
        out = simulate_with_client(
            client, inputs, n_paths=n_paths, seed=seed, chunk_paths=chunk_paths,
            progress=progress, series_budget_mb=series_budget_mb, store=store, retries=retries,
        )
    out.timings["simulate_seconds"] = time.perf_counter() - t0
    out.timings["workers"] = float(n_workers)
    return out


def simulate_with_client(
    client: Client,
    inputs: ModelInputs,
    *,
    n_paths: int,
    seed: int,
    chunk_paths: int = 8192,
    progress: Callable[[int, int], None] | None = None,
    series_budget_mb: float = 256.0,
    store: ChunkStore | None = None,
    retries: int = DEFAULT_RETRIES,
) -> SimOutput:
    """:func:`simulate_distributed` on a client you keep (several runs on one cluster).

    The client should come from :func:`open_client` (so its workers are set up and warm).
    Parameters are those of :func:`simulate_distributed`; ``timings`` are not filled in.
    """
    from portsim.engine.chunk import chunk_ranges, run_chunk
    from portsim.engine.gather import assemble

    ranges = chunk_ranges(n_paths, chunk_paths)
    kept = store.done() if store is not None else set()
    todo = [(a, b) for a, b in ranges if a not in kept]
    pending: dict[int, Future] = {}
    if todo:
        # a fresh key per run: with a content-hashed key, a previous run's release of the same
        # key can reach the scheduler after this scatter and drop the data under our tasks
        [shared] = client.scatter([inputs], broadcast=True, hash=False)
        token = tokenize(inputs)[:12]
        for a, b in todo:
            fut = client.submit(run_chunk, shared, seed, a, b, pure=True, retries=retries,
                                key=f"portsim-chunk-{token}-{seed}-{a}-{b}")
            pending[a] = fut
    finished = as_completed(list(pending.values()))
    ready: dict[int, ChunkResult] = {}
    n_done = len(kept)

    def in_order() -> Generator[ChunkResult, None, None]:
        nonlocal n_done
        for a, _ in ranges:
            if a in kept:
                assert store is not None
                yield store.load(a)
                continue
            while a not in ready:
                result: ChunkResult = next(finished).result()
                del pending[result.start]  # drop the future: the cluster frees the result
                if store is not None:
                    store.save(result)
                ready[result.start] = result
                n_done += 1
                if progress is not None:
                    progress(n_done, len(ranges))
            yield ready.pop(a)

    try:
        return assemble(inputs, in_order(), n_paths=n_paths, seed=seed, chunk_paths=chunk_paths,
                        series_budget_mb=series_budget_mb)
    finally:
        client.cancel(list(pending.values()))  # after an interruption: the tasks not gathered
