"""Company cash from the simulated period flows: balances, the credit line, DSO and working
capital, per path. Plain numpy over a chunk's ``(paths, periods)`` arrays.

Definitions (money in book currency, per path ``p`` and period ``t``):

* cash before the line ``pre_t`` = opening cash + Σ (collections + recoveries + other receipts
  + extra inflows − supplier payments − fixed outflows − extra outflows) up to ``t``;
* line drawn ``line_t`` = clip(buffer − pre_t, 0, credit line) — the line keeps cash at the
  minimum buffer as far as it can; cash ``cash_t`` = pre_t + line_t;
* cash gap ``gap_t`` = max(0, buffer − pre_t − credit line) — shortfall below the buffer after
  using the whole line; a *line breach* is a period with gap_t > 0, a *buffer breach* one with
  pre_t < buffer (the line is needed);
* with suppliers (:mod:`portsim.inputs.suppliers`): the sales lost while a failed supplier
  is replaced are not invoiced, their collections and cost of goods drop out, and the
  replacement's cost premium is an outflow;
* receivables ``ar_t`` = opening AR + Σ (invoiced − collected − written off);
* DSO_t = ar_t / invoiced_t × days_t (receivables over the period's sales, in days);
* working-capital requirement ``wcr_t`` = ar_t + inventory_t − payables_t, inventory_t =
  DIO × cost of goods of the period's sales per day, payables_t = opening AP + Σ (cost of goods
  bought − supplier payments).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["cash_paths"]

def cash_paths(
    tl: Any,
    collected: np.ndarray,
    written_off: np.ndarray,
    recovered: np.ndarray,
    issued_stop: np.ndarray,
    supplier_stop: np.ndarray,
    extra_in: np.ndarray | None = None,
    extra_out: np.ndarray | None = None,
    suppliers: Any = None,
) -> dict[str, np.ndarray]:
    """Per-path cash metrics and series.

    Parameters
    ----------
    tl : portsim.inputs.timeline.TimelineInputs
    collected, written_off, recovered, issued_stop, supplier_stop : ndarray, shape (m, P)
        Period flows of ``m`` paths from the timeline kernel.
    extra_in, extra_out : ndarray, shape (m, P) or (P,), optional
        Further cash flows (indemnities, premiums).
    suppliers : portsim.engine.calls.SupplierOutputs, optional
        Supplier failures (shape (m, P) flows): their lost sales are not invoiced, the
        collections of those sales are not received and their cost of goods is not paid,
        and the replacement premium is paid out.

    Returns
    -------
    dict
        Per-path scalars (shape (m,)) named in :data:`PATH_SCALARS`, and series of shape
        (m, P): ``cash``, ``line``, ``receivables``, ``dso``, ``wcr``, ``invoiced``,
        ``collected`` and ``supplier_payments`` (the last three net of supplier failures).
    """
    if suppliers is not None:
        collected = collected - suppliers.lost_collections
        issued_stop = issued_stop + suppliers.lost_sales_flow
        supplier_stop = supplier_stop + suppliers.saved_purchases
        extra_out = (suppliers.premium_paid if extra_out is None
                     else extra_out + suppliers.premium_paid)
    issued = tl.planned_issued[None, :] - issued_stop
    supplier = tl.planned_supplier[None, :] - supplier_stop
    net = collected + recovered + tl.other_in[None, :] - supplier - tl.fixed_out[None, :]
    if extra_in is not None:
        net = net + extra_in
    if extra_out is not None:
        net = net - extra_out
    pre = tl.opening_cash + np.cumsum(net, axis=1)
    buffer = tl.min_cash_buffer
    line = np.clip(buffer - pre, 0.0, tl.credit_line)
    cash = pre + line
    gap = np.maximum(buffer - pre - tl.credit_line, 0.0)
    ar = tl.opening_ar + np.cumsum(issued - collected - written_off, axis=1)
    days = tl.days_in_period[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        dso = np.where(issued > 0, ar / issued * days, np.nan)
    inventory = tl.dio_days * tl.cogs_share * issued / days
    ap = tl.opening_ap + np.cumsum(tl.cogs_share * issued - supplier, axis=1)
    wcr = ar + inventory - ap
    breach = gap > 0
    first = np.where(breach.any(axis=1), breach.argmax(axis=1), -1)
    with np.errstate(invalid="ignore"), _quiet_nanmean():
        dso_avg = np.nanmean(dso, axis=1)
    return {
        "min_cash": cash.min(axis=1),
        "peak_line_usage": line.max(axis=1),
        "cash_gap": gap.max(axis=1),
        "first_breach_period": first.astype(np.int64),
        "buffer_breach": (pre < buffer).any(axis=1),
        "line_breach": breach.any(axis=1),
        "dso_avg": dso_avg,
        "dso_end": dso[:, -1],
        "peak_wcr": wcr.max(axis=1),
        "net_cash_flow": pre[:, -1] - tl.opening_cash,
        "cash": cash,
        "line": line,
        "receivables": ar,
        "dso": dso,
        "wcr": wcr,
        "invoiced": issued,
        "collected": collected,
        "supplier_payments": supplier,
    }


@contextmanager
def _quiet_nanmean() -> Iterator[None]:
    """Silence numpy's warning for an all-NaN row (a path whose every sale stopped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
