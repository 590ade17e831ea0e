"""Gathering chunk results, in chunk order, into one :class:`SimOutput` (local and Dask runs).

Results are gathered in chunk order, so sums over chunks are bit-identical whatever the thread
or worker count or the order in which chunks finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from portsim.engine.chunk import ChunkResult, chunk_ranges
from portsim.inputs.model import ModelInputs
from portsim.results.schema import (
    ACTION_SCALARS,
    POLICY_SCALARS,
    SERIES,
    SUPPLIER_SCALARS,
    TIMELINE_SCALARS,
)

__all__ = ["SimOutput", "assemble"]


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
    supplier_scalars: np.ndarray | None = None  # (n_paths, len(SUPPLIER_SCALARS))
    supplier_n_defaults_sum: np.ndarray | None = None  # (s,) int64
    supplier_flow_sum: np.ndarray | None = None  # (len(SUPPLIER_FLOWS), P)
    supplier_flow_sumsq: np.ndarray | None = None  # (len(SUPPLIER_FLOWS), P)
    action_scalars: np.ndarray | None = None  # (n_paths, len(ACTION_SCALARS))
    level_count: np.ndarray | None = None  # (L, P) int64, summed over paths


def _require(*arrays: np.ndarray | None) -> None:
    if any(a is None for a in arrays):
        raise ValueError("a timeline run's chunk result lacks its timeline outputs")


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
    sup = inputs.suppliers
    supplier_blocks: list[tuple[np.ndarray, np.ndarray]] = []
    if sup is not None:
        out.supplier_scalars = np.empty((n_paths, len(SUPPLIER_SCALARS)))
        out.supplier_n_defaults_sum = np.zeros(sup.n_suppliers, dtype=np.int64)
    monitored = tl is not None and tl.actions.monitored
    if monitored:
        assert tl is not None
        out.action_scalars = np.empty((n_paths, len(ACTION_SCALARS)))
        out.level_count = np.zeros((len(tl.actions.level_names), tl.n_periods), dtype=np.int64)
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
        if monitored:
            if r.action_scalars is None or r.level_count is None:
                raise ValueError("a run with [actions]: a chunk result lacks its action outputs")
            out.action_scalars[sl] = r.action_scalars  # type: ignore[index]
            out.level_count += r.level_count
        if pol is not None:
            if (r.policy_scalars is None or r.policy_customer_indemnity is None
                    or r.policy_customer_qualifying is None or r.policy_flow_sum is None):
                raise ValueError("an insured run's chunk result lacks its policy outputs")
            out.policy_scalars[sl] = r.policy_scalars  # type: ignore[index]
            out.policy_customer_indemnity += r.policy_customer_indemnity
            out.policy_customer_qualifying += r.policy_customer_qualifying
            policy_blocks.append(r.policy_flow_sum)
        if sup is not None:
            if (r.supplier_scalars is None or r.supplier_n_defaults is None
                    or r.supplier_flow_sum is None or r.supplier_flow_sumsq is None):
                raise ValueError("a run with suppliers has a chunk result without them")
            out.supplier_scalars[sl] = r.supplier_scalars  # type: ignore[index]
            out.supplier_n_defaults_sum += r.supplier_n_defaults
            supplier_blocks.append((r.supplier_flow_sum, r.supplier_flow_sumsq))
        busy += r.seconds
        if progress is not None:
            progress(k, n_chunks)
    if tl is not None:
        # one sum over all blocks in path order: the same whatever the chunking
        out.flow_sum = np.concatenate(block_sum).sum(axis=0)
        out.flow_sumsq = np.concatenate(block_sumsq).sum(axis=0)
    if pol is not None:
        out.policy_flow_sum = np.concatenate(policy_blocks).sum(axis=0)
    if sup is not None:
        out.supplier_flow_sum = np.concatenate([b[0] for b in supplier_blocks]).sum(axis=0)
        out.supplier_flow_sumsq = np.concatenate([b[1] for b in supplier_blocks]).sum(axis=0)
    out.timings["chunk_seconds_total"] = busy
    out.timings["series_stride"] = float(stride)
    return out
