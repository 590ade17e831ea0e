"""One chunk of paths: seed its streams, run the kernels, turn their outputs into results.

A chunk is the unit of work (a thread-pool task locally, a Dask task on a cluster). Its result
depends only on the inputs, the seed and its path range, because every path's random streams
come from the seed and the path index (:mod:`portsim.kernels.rng`); it is pure and
idempotent, so checkpointing and retries plug in from outside.

Memory per chunk: ``chunk_paths × (2 + 2·n_sectors) × 8`` bytes of per-path outputs plus
``2 × n_customers × 8`` bytes of per-customer sums; nothing grows with paths × customers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from portsim.engine import calls
from portsim.engine.cash import cash_paths
from portsim.inputs.model import ModelInputs
from portsim.kernels.claims import CLAIM_SCALARS
from portsim.kernels.codes import EventKind, Stream
from portsim.kernels.rng import BLOCK_PATHS, all_path_states
from portsim.results.schema import (
    ACTION_SCALARS,
    PATH_SCALARS,
    POLICY_CASH_SCALARS,
    POLICY_SCALARS,
    SUPPLIER_SCALARS,
    TIMELINE_SCALARS,
)

__all__ = ["ChunkResult", "aligned_chunk", "chunk_ranges", "run_chunk"]


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
    events_after: np.ndarray | None = None  # (E,) part delivered after the buyer's top level
    # runs with [actions] only (L alert levels)
    action_scalars: np.ndarray | None = None  # (m, len(ACTION_SCALARS))
    level_count: np.ndarray | None = None  # (L, P) int64: customers at each level, summed
    # runs with [insurance] only (V policy variants, "none" first)
    policy_scalars: np.ndarray | None = None  # (m, V, len(POLICY_SCALARS))
    policy_customer_indemnity: np.ndarray | None = None  # (V, n) int64 cents, over paths
    policy_customer_qualifying: np.ndarray | None = None  # (V, n) int64 cents, over paths
    policy_flow_sum: np.ndarray | None = None  # (n_blocks, V, P) net insurer cash per period
    # runs with [suppliers] only (s suppliers)
    supplier_scalars: np.ndarray | None = None  # (m, len(SUPPLIER_SCALARS))
    supplier_n_defaults: np.ndarray | None = None  # (s,) int64, summed over the paths
    supplier_flow_sum: np.ndarray | None = None  # (n_blocks, len(SUPPLIER_FLOWS), P)
    supplier_flow_sumsq: np.ndarray | None = None  # (n_blocks, len(SUPPLIER_FLOWS), P)


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


def run_chunk(inputs: ModelInputs, seed: int, start: int, stop: int) -> ChunkResult:
    """Simulate paths ``start .. stop-1``; pure and idempotent (the unit of distributed work)."""
    t0 = time.perf_counter()
    every = all_path_states(seed, start, stop)  # seeded once for all streams
    states = np.ascontiguousarray(every[:, Stream.DEFAULT, :])
    lgd_states = np.ascontiguousarray(every[:, Stream.LGD, :])
    if inputs.timeline is not None:
        delay_states = np.ascontiguousarray(every[:, Stream.DELAY, :])
        tl = calls.timeline(inputs, start, states, lgd_states, delay_states)
        res = _result(start, stop, tl.defaults)
        sup = None
        if inputs.suppliers is not None:
            sup = calls.suppliers(inputs, states,
                                  np.ascontiguousarray(every[:, Stream.SUPPLIER, :]))
            _supplier_results(inputs, res, sup)
        _timeline_results(inputs, res, tl, sup)
    else:
        res = _result(start, stop, calls.default_losses(inputs, states, lgd_states))
    res.seconds = time.perf_counter() - t0
    return res


def _result(start: int, stop: int, d: calls.DefaultOutputs) -> ChunkResult:
    """The chunk's result holding a default kernel's outputs (timeline fields unset)."""
    return ChunkResult(
        start=start, stop=stop, loss=d.loss, n_defaults=d.n_defaults,
        sector_loss=d.sector_loss, sector_n_defaults=d.sector_n_defaults,
        customer_loss=d.customer_loss, customer_n_defaults=d.customer_n_defaults,
        log_weight=d.log_weight,
    )


def _supplier_results(x: ModelInputs, res: ChunkResult, sup: calls.SupplierOutputs) -> None:
    """The chunk's supplier scalars, per-supplier default counts and flow sums."""
    assert x.suppliers is not None
    margin = 1.0 - x.suppliers.cogs_share
    cols = {"supplier_loss": sup.loss, "supplier_n_defaults": sup.n_defaults,
            "supplier_premium_cost": sup.premium_cost, "supplier_lost_sales": sup.lost_sales,
            "supplier_lost_margin": sup.lost_sales * margin}
    res.supplier_scalars = np.stack([np.asarray(cols[k], dtype=float)
                                     for k in SUPPLIER_SCALARS], axis=1)
    res.supplier_n_defaults = sup.supplier_n_defaults
    flows = np.stack([sup.premium_paid, sup.lost_sales_flow, sup.lost_collections,
                      sup.saved_purchases])  # SUPPLIER_FLOWS order
    res.supplier_flow_sum = _block_sums(flows)
    res.supplier_flow_sumsq = _block_sums(flows**2)


def _timeline_results(x: ModelInputs, res: ChunkResult, t: calls.TimelineOutputs,
                      sup: calls.SupplierOutputs | None = None) -> None:
    """The chunk's timeline scalars, series, flow sums and claim events (and, with
    ``[insurance]``, policy outputs) from the timeline kernel's outputs; with suppliers,
    invoiced, collected, still open and supplier payments are net of their failures (see
    :func:`~portsim.engine.cash.cash_paths`), so invoiced + opening receivables = collected +
    written off + still open on every path, as without them."""
    tl = x.timeline
    assert tl is not None
    n_p = tl.n_periods
    res.events_int, res.events_amount, res.events_lgd = (t.events_int, t.events_amount,
                                                         t.events_lgd)
    res.events_after = t.events_after
    collected = t.collected_open[:, :n_p]
    managed = tl.actions.managed
    extra_in = t.interest if managed else None
    extra_out = t.action_cost if managed else None
    cash = cash_paths(tl, collected, t.written_off, t.recovered, t.issued_stop,
                      t.supplier_stop, extra_in=extra_in, extra_out=extra_out, suppliers=sup)
    still_open = t.still_open
    if sup is not None:  # the lost sales whose collection was due after the horizon
        still_open = still_open - (sup.lost_sales - sup.lost_collections.sum(axis=1))
    scalars = {
        "invoiced": cash["invoiced"].sum(axis=1), "collected": cash["collected"].sum(axis=1),
        "written_off": t.written_off.sum(axis=1), "recovered": t.recovered.sum(axis=1),
        "recovery_pending": t.recovery_pending, "still_open": still_open,
        "n_protracted": t.n_protracted, "protracted_amount": t.protracted.sum(axis=1),
        "lost_sales": t.lost_sales, "lost_margin": t.lost_sales * (1.0 - tl.cogs_share),
        **{k: cash[k] for k in PATH_SCALARS},
    }
    if tl.actions.monitored:
        with np.errstate(invalid="ignore", divide="ignore"):
            lead = t.lead_days / t.alerts[:, 1]  # NaN without a true alert
        actions = {
            "late_interest": t.interest.sum(axis=1), "collection_cost": t.action_cost.sum(axis=1),
            "n_alerts": t.alerts[:, 0], "n_true_alerts": t.alerts[:, 1],
            "n_false_alerts": t.alerts[:, 2], "lead_time_days": lead,
        }
        res.action_scalars = np.stack(
            [np.asarray(actions[k], dtype=float) for k in ACTION_SCALARS], axis=1)
        res.level_count = t.level_count
    res.timeline_scalars = np.stack(
        [np.asarray(scalars[k], dtype=float) for k in TIMELINE_SCALARS], axis=1
    )
    res.series = np.stack([cash["cash"], cash["receivables"]]).astype(np.float32)
    per_flow = np.stack([cash["invoiced"], cash["collected"], t.written_off, t.recovered,
                         t.protracted, cash["supplier_payments"]])
    w = path_weights(x, res.log_weight)
    if w is not None:  # importance sampling: sums of w·flow, whose mean is unbiased
        per_flow = per_flow * w[None, :, None]
        res.customer_loss = _weighted_customer_loss(x.n_customers, res, w)
    res.flow_sum = _block_sums(per_flow)
    res.flow_sumsq = _block_sums(per_flow**2)
    if x.insurance is not None:
        _apply_insurance(x, res, collected, t.written_off, t.recovered, t.issued_stop,
                         t.supplier_stop, extra_in, extra_out, sup)


def path_weights(x: ModelInputs, log_weight: np.ndarray | None) -> np.ndarray | None:
    """The likelihood ratios exp(log_weight) of an importance-sampling run (the inputs carry
    a non-zero shift θ), shape (m,); None for plain Monte Carlo, whose sums stay unweighted
    (and bit-identical)."""
    if x.z_shift is None or not np.any(x.z_shift != 0.0) or log_weight is None:
        return None
    return np.exp(log_weight)


def _weighted_customer_loss(n: int, res: ChunkResult, w: np.ndarray) -> np.ndarray:
    """Σ_p w_p·loss_{p,i} per customer in integer cents, from the chunk's claim events.

    A customer's loss on a path is its LGD times the amount unpaid at its default: the
    insolvency event's amount (unpaid less what was claimed as protracted before) plus its
    protracted events that were never paid (``paid_day`` −1). The timeline kernel sums the
    loss over paths itself, unweighted; this is the same sum with each path's weight
    (each event rounded to cents, so the total does not depend on the chunking).
    """
    ev, amount, lgd = res.events_int, res.events_amount, res.events_lgd
    assert ev is not None
    assert amount is not None
    assert lgd is not None
    ins = ev[:, 4] == EventKind.INSOLVENCY
    key = ev[:, 0] * n + ev[:, 1]  # (path, customer)
    unpaid = dict(zip(key[ins].tolist(), amount[ins].tolist(), strict=True))
    never = (ev[:, 4] == EventKind.PROTRACTED) & (ev[:, 3] == -1)
    for k, a in zip(key[never].tolist(), amount[never].tolist(), strict=True):
        unpaid[k] += a
    keys = np.fromiter(unpaid, dtype=np.int64, count=len(unpaid))
    vals = np.fromiter(unpaid.values(), dtype=float, count=len(unpaid))
    g = dict(zip(key[ins].tolist(), lgd[ins].tolist(), strict=True))
    lgds = np.fromiter((g[k] for k in keys.tolist()), dtype=float, count=keys.size)
    path = keys // n - res.start
    cents = np.rint(w[path] * lgds * vals * 100.0).astype(np.int64)
    return np.bincount(keys % n, weights=cents, minlength=n).astype(np.int64)


def _apply_insurance(
    x: ModelInputs, res: ChunkResult, collected: np.ndarray, written_off: np.ndarray,
    recovered: np.ndarray, issued_stop: np.ndarray, supplier_stop: np.ndarray,
    extra_in: np.ndarray | None, extra_out: np.ndarray | None,
    sup: calls.SupplierOutputs | None = None,
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
    claims = calls.policy_claims(x, res.events_int, res.events_amount, res.events_lgd,
                                 path_start=res.start, n_paths=m,
                                 events_after=res.events_after)
    n_pol = pol.n_policies
    cols = {name: claims.scalars[:, :, j] for j, name in enumerate(CLAIM_SCALARS)}
    cols["insurer_settlement_pending"] = cols["indemnity"] - cols["indemnity_cash"]
    cash_cols = {name: np.empty((m, n_pol)) for name in POLICY_CASH_SCALARS}
    for v in range(n_pol):
        cash_in = claims.cash_in[:, v]
        cash_out = claims.cash_out[:, v] + pol.premium_cash[v][None, :]
        cash = cash_paths(tl, collected, written_off, recovered, issued_stop, supplier_stop,
                          extra_in=cash_in if extra_in is None else cash_in + extra_in,
                          extra_out=cash_out if extra_out is None else cash_out + extra_out,
                          suppliers=sup)
        for name in POLICY_CASH_SCALARS:
            cash_cols[name][:, v] = cash[name.removeprefix("policy_")]
    cols.update(cash_cols)
    res.policy_scalars = np.stack([cols[k] for k in POLICY_SCALARS], axis=2)
    # per-customer sums over paths in integer cents: exact, so independent of the chunking
    cust = res.events_int[claims.order, 1]
    w = path_weights(x, res.log_weight)
    n = x.n_customers
    for attr, per_event in (("policy_customer_indemnity", claims.indemnity),
                            ("policy_customer_qualifying", claims.qualifying)):
        total = np.zeros((n_pol, n), dtype=np.int64)
        if w is not None:
            per_event = per_event * w[res.events_int[claims.order, 0] - res.start][:, None]
        cents = np.rint(per_event * 100.0).astype(np.int64)
        for v in range(n_pol):
            np.add.at(total[v], cust, cents[:, v])
        setattr(res, attr, total)
    net = (claims.cash_in - claims.cash_out).transpose(1, 0, 2)  # (V, m, P)
    if w is not None:
        net = net * w[None, :, None]
    res.policy_flow_sum = _block_sums(net)


def _block_sums(a: np.ndarray) -> np.ndarray:
    """Sums over paths (axis 1) per seeding block: shape (n_blocks, F, P)."""
    m = a.shape[1]
    edges = np.arange(0, m, BLOCK_PATHS)
    return np.stack([a[:, e : e + BLOCK_PATHS].sum(axis=1) for e in edges])
