"""The driver: cuts paths into chunks, seeds each path, runs the kernels, gathers outputs.

A chunk is the unit of work (a thread-pool task here, a Dask task on a cluster). Its result
depends only on the inputs, the seed and its path range, because every path's random streams
come from the seed and the path index (:mod:`portsim.kernels.rng`). Results are gathered in chunk
order, so sums over chunks are bit-identical whatever the thread count or finishing order.

Memory per chunk: ``chunk_paths × (2 + 2·n_sectors) × 8`` bytes of per-path outputs plus
``2 × n_customers × 8`` bytes of per-customer sums; nothing grows with paths × customers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from portsim.engine.cash import cash_paths
from portsim.inputs.model import ModelInputs
from portsim.kernels import claims as insurance
from portsim.kernels import defaults as kernels
from portsim.kernels import timeline as timeline_kernels
from portsim.kernels.rng import (
    BLOCK_PATHS,
    STREAM_DEFAULT,
    STREAM_DELAY,
    STREAM_LGD,
    all_path_states,
)
from portsim.results.schema import (
    FLOWS,
    PATH_SCALARS,
    POLICY_CASH_SCALARS,
    POLICY_SCALARS,
    SERIES,
    TIMELINE_SCALARS,
)

__all__ = [
    "FLOWS",
    "TIMELINE_SCALARS",
    "ChunkResult",
    "ChunkStore",
    "SimOutput",
    "chunk_ranges",
    "run_chunk",
    "run_default_kernel",
    "simulate",
    "warmup",
]


@dataclass
class ChunkResult:
    """Outputs of the paths ``start .. stop-1``."""

    start: int
    stop: int
    loss: np.ndarray  # (m,)
    n_defaults: np.ndarray  # (m,) int64
    sector_loss: np.ndarray  # (m, S)
    sector_n_defaults: np.ndarray  # (m, S) int64
    customer_loss: np.ndarray  # (n,) int64: loss in cents summed over the chunk's paths
    customer_n_defaults: np.ndarray  # (n,) int64
    seconds: float = 0.0
    log_weight: np.ndarray | None = None  # (m,) log likelihood ratio (importance sampling)
    # timeline runs only
    timeline_scalars: np.ndarray | None = None  # (m, len(TIMELINE_SCALARS))
    series: np.ndarray | None = None  # (len(SERIES), m, P) float32
    flow_sum: np.ndarray | None = None  # (n_blocks, len(FLOWS), P): sums per seeding block
    flow_sumsq: np.ndarray | None = None  # (n_blocks, len(FLOWS), P)
    events_int: np.ndarray | None = None  # (E, 5) int64: path, customer, day, paid_day, kind
    events_amount: np.ndarray | None = None  # (E,) claim amounts
    events_lgd: np.ndarray | None = None  # (E,) the buyer's LGD (insolvency events; else NaN)
    # runs with [insurance] only (V policy variants, "none" first)
    policy_scalars: np.ndarray | None = None  # (m, V, len(POLICY_SCALARS))
    policy_customer_indemnity: np.ndarray | None = None  # (V, n) int64 cents, over paths
    policy_customer_qualifying: np.ndarray | None = None  # (V, n) int64 cents, over paths
    policy_flow_sum: np.ndarray | None = None  # (n_blocks, V, P) net insurer cash per period


@dataclass
class SimOutput:
    """All paths' outputs, in path order."""

    loss: np.ndarray
    n_defaults: np.ndarray
    sector_loss: np.ndarray
    sector_n_defaults: np.ndarray
    customer_loss_sum: np.ndarray  # (n,) int64 cents: integer sums are exact
    customer_n_defaults_sum: np.ndarray
    n_paths: int
    seed: int
    kernel: str
    chunk_paths: int
    timings: dict[str, float] = field(default_factory=dict)
    log_weight: np.ndarray | None = None  # (n_paths,) log likelihood ratio per path
    timeline_scalars: np.ndarray | None = None  # (n_paths, len(TIMELINE_SCALARS))
    series: np.ndarray | None = None  # (len(SERIES), n_kept, P) float32
    series_paths: np.ndarray | None = None  # (n_kept,) path indices kept in ``series``
    flow_sum: np.ndarray | None = None
    flow_sumsq: np.ndarray | None = None
    policy_scalars: np.ndarray | None = None  # (n_paths, V, len(POLICY_SCALARS))
    policy_customer_indemnity: np.ndarray | None = None  # (V, n) int64 cents
    policy_customer_qualifying: np.ndarray | None = None  # (V, n) int64 cents
    policy_flow_sum: np.ndarray | None = None  # (V, P)


def aligned_chunk(chunk_paths: int) -> int:
    """``chunk_paths`` rounded up to a whole number of seeding blocks (256 paths)."""
    return -(-chunk_paths // BLOCK_PATHS) * BLOCK_PATHS


def chunk_ranges(n_paths: int, chunk_paths: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0 .. n_paths-1``.

    Chunks hold a whole number of seeding blocks (see :func:`aligned_chunk`), so per-block
    partial sums, and hence every result, are the same for any chunk size.
    """
    size = aligned_chunk(chunk_paths)
    return [(a, min(a + size, n_paths)) for a in range(0, n_paths, size)]


def shifts(x: ModelInputs) -> tuple[np.ndarray, np.ndarray]:
    """The importance-sampling shift θ and the factor shift, zeros when not set."""
    k = x.chol.shape[0]
    zs = np.zeros(k) if x.z_shift is None else np.ascontiguousarray(x.z_shift, dtype=float)
    ys = np.zeros(k) if x.y_shift is None else np.ascontiguousarray(x.y_shift, dtype=float)
    return zs, ys


def run_chunk(inputs: ModelInputs, seed: int, start: int, stop: int) -> ChunkResult:
    """Simulate paths ``start .. stop-1``; pure and idempotent (the unit of distributed work)."""
    t0 = time.perf_counter()
    m = stop - start
    n = inputs.n_customers
    n_sec = len(inputs.sector_names)
    every = all_path_states(seed, start, stop)  # seeded once for all streams
    states = np.ascontiguousarray(every[:, STREAM_DEFAULT, :])
    lgd_states = np.ascontiguousarray(every[:, STREAM_LGD, :])
    res = ChunkResult(
        start=start,
        stop=stop,
        loss=np.zeros(m),
        n_defaults=np.zeros(m, dtype=np.int64),
        sector_loss=np.zeros((m, n_sec)),
        sector_n_defaults=np.zeros((m, n_sec), dtype=np.int64),
        customer_loss=np.zeros(n, dtype=np.int64),
        customer_n_defaults=np.zeros(n, dtype=np.int64),
    )
    outs = (res.loss, res.n_defaults, res.sector_loss, res.sector_n_defaults,
            res.customer_loss, res.customer_n_defaults)
    x = inputs
    res.log_weight = np.zeros(m)
    if x.timeline is not None:
        delay_states = np.ascontiguousarray(every[:, STREAM_DELAY, :])
        _run_timeline(x, start, stop, states, lgd_states, delay_states, res, outs)
    else:
        run_default_kernel(x, states, lgd_states, outs, res.log_weight)
    res.seconds = time.perf_counter() - t0
    return res


def run_default_kernel(
    x: ModelInputs, states: np.ndarray, lgd_states: np.ndarray, outs: tuple[np.ndarray, ...],
    log_weight: np.ndarray,
) -> None:
    """Run the default-only kernel ``x.kernel`` on the paths whose states are given.

    ``states`` and ``lgd_states`` (m, 2) need not be consecutive paths (see
    :mod:`portsim.engine.attribution`, which simulates chosen paths again one at a time); ``outs``
    are ``(loss, n_defaults, sector_loss, sector_n_defaults, customer_loss,
    customer_n_defaults)`` as in :class:`ChunkResult`, ``log_weight`` (m,).
    """
    zs, ys = shifts(x)
    if x.kernel == "grouped":
        kernels.default_losses_grouped(
            states, lgd_states, x.chol, zs, ys, x.dof, x.group, x.group_factor,
            x.group_loading, x.group_idio, x.group_threshold, x.factor, x.exposure, x.lgd_mean,
            x.lgd_probit, x.lgd_conc, x.lgd_link, x.sector, *outs, log_weight,
        )
    elif x.kernel == "skip":
        if x.group_start is None or x.group_perm is None:
            raise ValueError("kernel 'skip' needs group_start and group_perm (build_inputs)")
        kernels.default_losses_skip(
            states, lgd_states, x.chol, zs, ys, x.dof, x.group_start, x.group_perm,
            x.group_factor, x.group_loading, x.group_idio, x.group_threshold, x.factor,
            x.exposure, x.lgd_mean, x.lgd_probit, x.lgd_conc, x.lgd_link, x.sector, *outs,
            log_weight,
        )
    else:
        kernels.default_losses_per_customer(
            states, lgd_states, x.chol, zs, ys, x.dof, x.factor, x.loading, x.idio,
            x.threshold, x.exposure, x.lgd_mean, x.lgd_probit, x.lgd_conc, x.lgd_link,
            x.sector, *outs, log_weight,
        )


def _run_timeline(
    x: ModelInputs, start: int, stop: int, states: np.ndarray, lgd_states: np.ndarray,
    delay_states: np.ndarray, res: ChunkResult, outs: tuple[np.ndarray, ...],
) -> None:
    tl = x.timeline
    assert tl is not None
    m = stop - start
    n_p = tl.n_periods
    # room for about twice the expected defaults (and protracted claims) per path
    cap = 64 + int(m * (8 + 2 * float(x.p_horizon.sum())))
    zs, ys = shifts(x)
    while True:
        for a in outs:
            a[...] = 0
        flows = np.zeros((5, m, n_p))
        written_off, recovered, issued_stop, supplier_stop, protracted = flows
        collected_open = np.zeros((m, n_p + 1))  # last column: still open after the horizon
        still_open = np.zeros(m)
        pending = np.zeros(m)
        n_prot = np.zeros(m, dtype=np.int64)
        ev_int = np.zeros((cap, 5), dtype=np.int64)
        ev_float = np.zeros((cap, 2))  # amount, LGD
        ev_count = np.zeros(1, dtype=np.int64)
        timeline_kernels.timeline_paths(
            states, lgd_states, delay_states, x.chol, zs, ys, x.dof, x.kernel == "grouped",
            x.group, x.group_factor, x.group_loading, x.group_idio, x.group_threshold,
            x.factor, x.loading, x.idio, x.threshold, x.hazard,
            (np.zeros(x.n_customers, dtype=np.int64) if x.default_day is None
             else x.default_day),
            x.lgd_mean, x.lgd_probit, x.lgd_conc, x.lgd_link, x.sector,
            tl.n_days, tl.period_of_day, tl.inv_start, tl.inv_amount, tl.inv_issue, tl.inv_due,
            tl.delay_mean, tl.delay_sd, tl.delay_noise, tl.delay_factor_days, tl.noise_table,
            tl.protracted_days, tl.recovery_lag_days, tl.dpo_days, tl.cogs_share,
            *outs, collected_open, written_off, recovered, issued_stop, supplier_stop,
            protracted, still_open, pending, n_prot, ev_int, ev_float, ev_count,
            res.log_weight,
        )
        if ev_count[0] <= cap:
            break
        cap = int(ev_count[0])  # rare: more claim events than room; again, same draws
    k = int(ev_count[0])
    order = np.argsort(ev_int[:k, 0], kind="stable")  # by path, then as simulated
    res.events_int = ev_int[:k][order]
    res.events_int[:, 0] += start  # global path index
    res.events_amount = ev_float[:k, 0][order]
    res.events_lgd = ev_float[:k, 1][order]
    collected = collected_open[:, :n_p]
    cash = cash_paths(tl, collected, written_off, recovered, issued_stop, supplier_stop)
    scalars = {
        "invoiced": cash["invoiced"].sum(axis=1), "collected": collected.sum(axis=1),
        "written_off": written_off.sum(axis=1), "recovered": recovered.sum(axis=1),
        "recovery_pending": pending, "still_open": still_open, "n_protracted": n_prot,
        "protracted_amount": protracted.sum(axis=1), **{k: cash[k] for k in PATH_SCALARS},
    }
    res.timeline_scalars = np.stack(
        [np.asarray(scalars[k], dtype=float) for k in TIMELINE_SCALARS], axis=1
    )
    res.series = np.stack([cash["cash"], cash["receivables"]]).astype(np.float32)
    per_flow = np.stack([cash["invoiced"], collected, written_off, recovered, protracted,
                         tl.planned_supplier[None, :] - supplier_stop])
    res.flow_sum = _block_sums(per_flow)
    res.flow_sumsq = _block_sums(per_flow**2)
    if x.insurance is not None:
        _apply_insurance(x, res, collected, written_off, recovered, issued_stop, supplier_stop)


def _apply_insurance(
    x: ModelInputs, res: ChunkResult, collected: np.ndarray, written_off: np.ndarray,
    recovered: np.ndarray, issued_stop: np.ndarray, supplier_stop: np.ndarray,
) -> None:
    """Every policy variant on the chunk's claim events; cash recomputed per variant with
    its premiums and insurer cash flows (see :mod:`portsim.kernels.claims`)."""
    tl, pol = x.timeline, x.insurance
    assert tl is not None
    assert pol is not None
    assert res.events_int is not None
    assert res.events_amount is not None
    assert res.events_lgd is not None
    m = res.stop - res.start
    claims = insurance.apply_policies(
        res.events_int, res.events_amount, res.events_lgd, path_start=res.start, n_paths=m,
        cover_limit=pol.cover_limit, insured_pct=pol.insured_pct,
        non_qualifying_loss=pol.non_qualifying_loss, first_loss=pol.first_loss,
        before_cover=pol.before_cover, max_liability=pol.max_liability,
        settlement_lag=pol.settlement_lag, year_of_day=pol.year_of_day, n_years=pol.n_years,
        period_of_day=tl.period_of_day, n_days=tl.n_days,
        recovery_lag_days=tl.recovery_lag_days,
    )
    n_pol = pol.n_policies
    cols = {name: claims.scalars[:, :, j] for j, name in enumerate(insurance.CLAIM_SCALARS)}
    cols["insurer_settlement_pending"] = cols["indemnity"] - cols["indemnity_cash"]
    cash_cols = {name: np.empty((m, n_pol)) for name in POLICY_CASH_SCALARS}
    for v in range(n_pol):
        cash = cash_paths(tl, collected, written_off, recovered, issued_stop, supplier_stop,
                          extra_in=claims.cash_in[:, v],
                          extra_out=claims.cash_out[:, v] + pol.premium_cash[v][None, :])
        for name in POLICY_CASH_SCALARS:
            cash_cols[name][:, v] = cash[name.removeprefix("policy_")]
    cols.update(cash_cols)
    res.policy_scalars = np.stack([cols[k] for k in POLICY_SCALARS], axis=2)
    # per-customer sums over paths in integer cents: exact, so independent of the chunking
    cust = res.events_int[claims.order, 1]
    n = x.n_customers
    for attr, per_event in (("policy_customer_indemnity", claims.indemnity),
                            ("policy_customer_qualifying", claims.qualifying)):
        total = np.zeros((n_pol, n), dtype=np.int64)
        cents = np.rint(per_event * 100.0).astype(np.int64)
        for v in range(n_pol):
            np.add.at(total[v], cust, cents[:, v])
        setattr(res, attr, total)
    net = (claims.cash_in - claims.cash_out).transpose(1, 0, 2)  # (V, m, P)
    res.policy_flow_sum = _block_sums(net)


def _block_sums(a: np.ndarray) -> np.ndarray:
    """Sums over paths (axis 1) per seeding block: shape (n_blocks, F, P)."""
    m = a.shape[1]
    edges = np.arange(0, m, BLOCK_PATHS)
    return np.stack([a[:, e : e + BLOCK_PATHS].sum(axis=1) for e in edges])


def _require(*arrays: np.ndarray | None) -> None:
    if any(a is None for a in arrays):
        raise ValueError("a timeline run's chunk result lacks its timeline outputs")


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
        futures = [ex.submit(run_chunk, inputs, seed, a, b) for a, b in ranges]
        try:
            for f in futures:
                yield f.result()
        finally:
            for f in futures:
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


def assemble(
    inputs: ModelInputs,
    results: Iterator[ChunkResult] | list[ChunkResult],
    *,
    n_paths: int,
    seed: int,
    chunk_paths: int,
    progress: Callable[[int, int], None] | None = None,
    series_budget_mb: float = 256.0,
) -> SimOutput:
    """Gather chunk results (in chunk order) into one :class:`SimOutput`.

    Per-path × period series (float32) are kept for every path when they fit in
    ``series_budget_mb``, else for every k-th path (a fixed subsample: path % k == 0).
    """
    n_sec = len(inputs.sector_names)
    out = SimOutput(
        loss=np.empty(n_paths),
        n_defaults=np.empty(n_paths, dtype=np.int64),
        sector_loss=np.empty((n_paths, n_sec)),
        sector_n_defaults=np.empty((n_paths, n_sec), dtype=np.int64),
        customer_loss_sum=np.zeros(inputs.n_customers, dtype=np.int64),
        customer_n_defaults_sum=np.zeros(inputs.n_customers, dtype=np.int64),
        n_paths=n_paths,
        seed=seed,
        kernel=inputs.kernel,
        chunk_paths=chunk_paths,
    )
    n_chunks = len(chunk_ranges(n_paths, chunk_paths))
    busy = 0.0
    tl = inputs.timeline
    stride = 1
    if tl is not None:
        per_path = len(SERIES) * tl.n_periods * 4
        stride = max(1, -(-n_paths * per_path // int(series_budget_mb * 2**20)))
        out.series_paths = np.arange(0, n_paths, stride)
        out.series = np.empty((len(SERIES), out.series_paths.size, tl.n_periods), np.float32)
        out.timeline_scalars = np.empty((n_paths, len(TIMELINE_SCALARS)))
        block_sum: list[np.ndarray] = []
        block_sumsq: list[np.ndarray] = []
    pol = inputs.insurance
    policy_blocks: list[np.ndarray] = []
    if pol is not None:
        out.policy_scalars = np.empty((n_paths, pol.n_policies, len(POLICY_SCALARS)))
        out.policy_customer_indemnity = np.zeros(pol.cover_limit.shape, dtype=np.int64)
        out.policy_customer_qualifying = np.zeros(pol.cover_limit.shape, dtype=np.int64)
    out.log_weight = np.zeros(n_paths)
    for k, r in enumerate(results, start=1):
        sl = slice(r.start, r.stop)
        if r.log_weight is not None:
            out.log_weight[sl] = r.log_weight
        out.loss[sl] = r.loss
        out.n_defaults[sl] = r.n_defaults
        out.sector_loss[sl] = r.sector_loss
        out.sector_n_defaults[sl] = r.sector_n_defaults
        out.customer_loss_sum += r.customer_loss
        out.customer_n_defaults_sum += r.customer_n_defaults
        if tl is not None:
            _require(r.timeline_scalars, r.series, r.flow_sum, r.flow_sumsq)
            _require(out.timeline_scalars, out.series)
            out.timeline_scalars[sl] = r.timeline_scalars  # type: ignore[index]
            first = -(-r.start // stride) * stride
            keep = np.arange(first, r.stop, stride)
            out.series[:, keep // stride, :] = r.series[:, keep - r.start, :]  # type: ignore[index]
            block_sum.append(r.flow_sum)  # type: ignore[arg-type]
            block_sumsq.append(r.flow_sumsq)  # type: ignore[arg-type]
        if pol is not None:
            if (r.policy_scalars is None or r.policy_customer_indemnity is None
                    or r.policy_customer_qualifying is None or r.policy_flow_sum is None):
                raise ValueError("an insured run's chunk result lacks its policy outputs")
            out.policy_scalars[sl] = r.policy_scalars  # type: ignore[index]
            out.policy_customer_indemnity += r.policy_customer_indemnity
            out.policy_customer_qualifying += r.policy_customer_qualifying
            policy_blocks.append(r.policy_flow_sum)
        busy += r.seconds
        if progress is not None:
            progress(k, n_chunks)
    if tl is not None:
        # one sum over all blocks in path order: the same whatever the chunking
        out.flow_sum = np.concatenate(block_sum).sum(axis=0)
        out.flow_sumsq = np.concatenate(block_sumsq).sum(axis=0)
    if pol is not None:
        out.policy_flow_sum = np.concatenate(policy_blocks).sum(axis=0)
    out.timings["chunk_seconds_total"] = busy
    out.timings["series_stride"] = float(stride)
    return out


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


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel variant on a tiny book; seconds taken.

    Covers both default methods, both copulas, with and without the timeline (with the
    insurance kernel), so that workers started later find every kernel in numba's on-disk
    cache.
    """
    import pandas as pd

    from portsim.config import RunConfig
    from portsim.data import book_from_frame
    from portsim.inputs.model import build_inputs

    t0 = time.perf_counter()
    book = book_from_frame(pd.DataFrame({
        "customer_id": ["a", "b"], "sector": ["s", "s"], "country": ["X", "X"],
        "exposure": [1.0, 2.0], "p_default": [0.5, 0.2], "lgd": [0.5, 0.4],
        "lgd_sd": [0.1, 0.0], "annual_sales": [12.0, 24.0],
    }), source="<warmup>")
    for kernel in ("grouped", "per_customer"):
        for model in ({}, {"copula": "student_t", "dof": 5.0}):
            for timeline in (None, {"as_of": "2026-12-31", "horizon_months": 2}):
                cfg = RunConfig.model_validate({
                    "model": {**model, "lgd_factor_sensitivity": 0.1},
                    "simulation": {"kernel": kernel}, "timeline": timeline,
                    # the insurance kernel with the timeline
                    "insurance": (None if timeline is None
                                  else {"policies": {"w": {"premium_rate": 0.0025}}}),
                })
                run_chunk(build_inputs(book, cfg), 0, 0, 4)
    for model in ({}, {"copula": "student_t", "dof": 5.0}):  # the skip sampler: no timeline
        cfg = RunConfig.model_validate({"model": {**model, "lgd_factor_sensitivity": 0.1},
                                        "simulation": {"kernel": "skip"}})
        run_chunk(build_inputs(book, cfg), 0, 0, 4)
    return time.perf_counter() - t0
