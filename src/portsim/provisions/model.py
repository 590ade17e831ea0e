"""Model expected credit loss of the open invoices, by the engine's timeline simulation.

Method
------
The loss of an open invoice on a path is ``LGD × amount`` when its customer defaults before
paying it, else 0 — exactly the timeline kernel's write-off (:mod:`portsim.kernels.timeline`):
the customer's default day comes from the copula and the hazard, each invoice's payment day
from the customer's delay propensity and the invoice's noise. The simulation is run with the
open invoices only (no forward sales: the allowance is on the receivables at the as-of date),
from the as-of date, over the config's horizon (lifetime: an invoice still unpaid at the horizon
without a default is no loss; the shipped horizon of 12 months is far beyond the life of trade
receivables).

The kernel sums losses per path and per sector, not per invoice. So the simulation is run once
per ageing bucket with that bucket's invoices, with the sector index replaced by the segment
index: its per-path "sector" losses are the bucket's losses per segment. All runs share the
seed, so the default draws of every customer are the same in every bucket's run (common random
numbers); the per-path totals over buckets are therefore a valid path of the whole book.

Forward-looking (IFRS 9 5.5.17): each scenario file gives its own config (its PDs, LGDs,
delays); the weighted ECL is the mean over paths of ``Σ_s weight_s · loss_s(path)``, whose
standard error is that of a mean (the same seed in every scenario: the combination is a path).

Credit insurance: with ``[insurance]`` the open invoices' claims are run through every policy
variant in one run of all open invoices; its mean ``indemnity`` (after the insurer's share of
recoveries) is the expected insurance recovery, shown on its own line (the gross ECL is before
it). A policy's aggregate terms (first loss, maximum liability) then see only these claims.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from portsim.config import RunConfig
from portsim.data import Book
from portsim.engine.gather import SimOutput
from portsim.engine.local import simulate
from portsim.inputs.model import ModelInputs, build_inputs
from portsim.results.schema import NO_COVER, POLICY_SCALARS

__all__ = ["ModelEcl", "WeightedConfig", "model_ecl"]

_INVOICE_COLUMNS = ["customer", "amount", "issue_date", "due_date"]


class WeightedConfig(NamedTuple):
    """One scenario of the forward-looking ECL: its config and probability weight."""

    config: RunConfig
    weight: float


class ModelEcl(NamedTuple):
    """Model ECL of the open invoices (book currency).

    Attributes
    ----------
    ecl, se : DataFrame, shape (n_segments, n_buckets)
        Expected loss of each segment's bucket and its Monte Carlo standard error.
    bucket_se : Series, shape (n_buckets,)
        Standard error of each bucket's expected loss over all segments.
    customers : DataFrame, shape (n_customers, n_buckets)
        Expected loss of each customer's open invoices per bucket (index ``customer_id`` in
        book order; from the kernel's per-customer sums, rounded to the cent per path, so
        without a standard error).
    total : tuple of float
        ``(ecl, se)`` of the whole book.
    insurance : DataFrame
        One row per policy variant (``none`` excluded): ``policy``, ``recovery``, ``se``
        (expected indemnity on the open invoices and its standard error); empty without
        ``[insurance]``.
    n_paths : int
        Paths per scenario.
    """

    ecl: pd.DataFrame
    se: pd.DataFrame
    bucket_se: pd.Series
    customers: pd.DataFrame
    total: tuple[float, float]
    insurance: pd.DataFrame
    n_paths: int


def _inputs(book: Book, config: RunConfig, items: pd.DataFrame, codes: np.ndarray,
            names: tuple[str, ...]) -> ModelInputs:
    """Kernel inputs for these open invoices alone, losses summed per segment."""
    x = build_inputs(book, config, items[_INVOICE_COLUMNS].reset_index(drop=True))
    return x._replace(sector=codes, sector_names=names)


def _run(x: ModelInputs, config: RunConfig, n_paths: int, threads: int | None) -> SimOutput:
    """The engine's simulation of these inputs with the config's seed and chunking."""
    sim = config.simulation
    with warnings.catch_warnings():
        # without forward sales the DSO of every path is undefined (the ECL does not use it);
        # set before the threads start, so every thread's own filter keeps it
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        return simulate(x, n_paths=n_paths, seed=sim.seed, chunk_paths=sim.chunk_paths,
                        threads=threads or sim.threads)


def model_ecl(
    book: Book, aged: pd.DataFrame, segments: np.ndarray, scenarios: Sequence[WeightedConfig],
    *, as_of: date,
    n_paths: int | None = None, threads: int | None = None,
) -> ModelEcl:
    """Simulated lifetime ECL of the aged open invoices, weighted over scenarios.

    Parameters
    ----------
    book : Book
    aged : DataFrame
        Open invoices with ``customer``, ``amount``, ``issue_date``, ``due_date``, ``bucket``
        (categorical) and ``segment`` (:func:`portsim.provisions.ageing.age`); not empty.
    segments : ndarray of str, shape (n_customers,)
        The segment of every customer (:func:`portsim.provisions.ageing.segment_of`).
    scenarios : sequence of WeightedConfig
        Configs with a ``[timeline]`` and weights summing to 1 (one config of weight 1 for
        no scenario).
    as_of : date
        The simulation starts here (replaces ``[timeline] as_of``).
    n_paths : int, optional
        Paths per scenario (default: the first config's ``[simulation] paths``).
    threads : int, optional
        Worker threads (does not change the result).

    Returns
    -------
    ModelEcl
    """
    n_paths = n_paths or scenarios[0].config.simulation.paths
    seg_names = tuple(sorted(aged["segment"].unique()))
    # customers of segments with nothing open have nothing to lose: any valid index will do
    codes = np.maximum(pd.Index(seg_names).get_indexer(segments), 0).astype(np.int64)
    buckets = aged["bucket"].cat.categories
    forward_free = dataclasses.replace(book, annual_sales=np.zeros(book.n_customers))
    per_path = np.zeros((n_paths, len(seg_names), len(buckets)))
    per_customer = np.zeros((book.n_customers, len(buckets)))
    recovery: np.ndarray | None = None
    names: tuple[str, ...] = ()
    for sc in scenarios:
        cfg = sc.config.with_updates(timeline={"as_of": as_of.isoformat()})
        for b, label in enumerate(buckets):
            items = aged[aged["bucket"] == label]
            if items.empty:
                continue
            out = _run(_inputs(forward_free, cfg, items, codes, seg_names), cfg, n_paths,
                       threads)
            per_path[:, :, b] += sc.weight * out.sector_loss
            # the kernel's exact per-customer sums over paths, in cents
            per_customer[:, b] += sc.weight * out.customer_loss_sum / (100.0 * n_paths)
        if cfg.insurance is None:
            continue
        x = _inputs(forward_free, cfg, aged, codes, seg_names)
        assert x.insurance is not None
        out = _run(x, cfg, n_paths, threads)
        assert out.policy_scalars is not None
        names = x.insurance.names
        indemnity = out.policy_scalars[:, :, POLICY_SCALARS.index("indemnity")]
        recovery = sc.weight * indemnity + (0.0 if recovery is None else recovery)
    root_n = np.sqrt(n_paths)
    frame = dict(index=pd.Index(seg_names, name="segment"), columns=buckets)
    total = per_path.sum(axis=(1, 2))
    insurance = pd.DataFrame({"policy": [], "recovery": [], "se": []})
    if recovery is not None:
        keep = [v for v, name in enumerate(names) if name != NO_COVER]
        insurance = pd.DataFrame({
            "policy": [names[v] for v in keep],
            "recovery": recovery[:, keep].mean(axis=0),
            "se": recovery[:, keep].std(axis=0, ddof=1) / root_n,
        })
    return ModelEcl(
        ecl=pd.DataFrame(per_path.mean(axis=0), **frame),
        se=pd.DataFrame(per_path.std(axis=0, ddof=1) / root_n, **frame),
        bucket_se=pd.Series(per_path.sum(axis=1).std(axis=0, ddof=1) / root_n, index=buckets),
        customers=pd.DataFrame(per_customer, columns=buckets,
                               index=pd.Index(book.customer_id, name="customer_id")),
        total=(float(total.mean()), float(total.std(ddof=1) / root_n)),
        insurance=insurance,
        n_paths=n_paths,
    )

