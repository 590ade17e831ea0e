"""numba kernel of supplier defaults and what they cost: prepayments lost, the replacement's
cost premium and the sales lost while supply is interrupted, summed into reporting periods.

The factors of a path are the customers' own: they are drawn again, with
:func:`portsim.kernels.defaults.factors`, from the start of the path's default stream, which
is where every default kernel draws them first. The suppliers' idiosyncratic normals come from
a stream of their own (:attr:`~portsim.kernels.codes.Stream.SUPPLIER`), so a run with
suppliers defaults the same customers on the same paths as one without.

Days are integers as in :mod:`portsim.kernels.timeline`: day 0 is the as-of date, the horizon
is days 1 .. ``n_days``, and an event on day ``d`` falls in period
``period_of_day[min(d, n_days + 1)]`` (index ``n_periods``: after the horizon).
"""

from __future__ import annotations

import math

import numpy as np

from portsim.kernels.defaults import factors
from portsim.kernels.jit import kernel
from portsim.kernels.rng import next_normal
from portsim.kernels.special import norm_cdf, student_t_cdf

__all__ = ["supplier_paths"]

_DAYS_PER_YEAR = 365.25


@kernel(nogil=True)
def supplier_paths(
    states,  # (m, 2) uint64: default stream of each path (its factors are drawn first)
    supplier_states,  # (m, 2) uint64: supplier stream of each path
    chol, z_shift, y_shift, dof,  # (K, K), (K,), (K,), float: as in the default kernels
    factor, loading, idio, threshold, hazard,  # (s,): factor index, √R, √(1 − R), c, λ
    event_day,  # (s,) int64: day of a scenario default event (threshold +inf), 0: none
    prepayment, premium_per_day, replacement_days, dependent_share,  # (s,)
    sales_per_day,  # (n_days + 1,) planned sales of each day
    n_days, period_of_day,  # int, (n_days + 2,) int64
    collection_lag_days, dpo_days, cogs_share,  # int, int, float
    out_loss,  # (m,) prepayments lost
    out_ndef,  # (m,) int64 number of suppliers defaulted
    out_premium_cost,  # (m,) replacement premium on the purchases within the horizon
    out_lost_sales,  # (m,) sales lost within the horizon
    out_default_day,  # (m, s) int64: default day of each supplier on each path, 0: none;
    # or (0, s) when not wanted
    out_supplier_ndef,  # (s,) int64: defaults of each supplier, added to over paths
    out_premium_paid,  # (m, n_periods + 1) premium paid per period (last: after the horizon)
    out_lost_sales_flow,  # (m, n_periods + 1) sales lost per period
    out_lost_collections,  # (m, n_periods + 1) collections of the lost sales, per period
    out_saved_purchases,  # (m, n_periods + 1) cost of goods of the lost sales not paid
):
    """Simulate the suppliers on the paths of one chunk.

    Per path: the factors Y and the t scale s from the default stream; per supplier one
    normal ε from the supplier stream, the latent X = √R·Y_f + √(1 − R)·ε, a default when
    ε < (c·s − √R·Y_f)/√(1 − R) (the customers' rule), on day ⌊τ⌋ + 1 (at most ``n_days``)
    with τ = −ln(1 − F(X/s))/λ years (a supplier with ``event_day`` > 0 defaults on that day
    instead, after the same draw). A default loses the prepayment, and on each day ``d`` of
    ``default_day .. default_day + replacement_days − 1`` within the horizon it costs the
    premium (paid on ``d + dpo_days``) and adds the supplier's dependent share to the day's
    share of sales lost (capped at 1). The day's lost sales (share × planned sales) lose their
    collections on ``d + collection_lag_days`` and spare the cost of goods on ``d + dpo_days``.
    """
    m = states.shape[0]
    s = prepayment.shape[0]
    y = np.empty(chol.shape[0])
    share = np.zeros(n_days + 1)
    keep_days = out_default_day.shape[0] > 0
    after = n_days + 1
    for p in range(m):
        scale, _logw, _s0, _s1 = factors(states[p, 0], states[p, 1], chol, z_shift, y_shift,
                                        dof, y)
        t0, t1 = supplier_states[p, 0], supplier_states[p, 1]
        loss = 0.0
        cost = 0.0
        nd = 0
        for j in range(s):
            eps, t0, t1 = next_normal(t0, t1)
            yf = y[factor[j]]
            defaulted = eps < (threshold[j] * scale - loading[j] * yf) / idio[j]
            day = 0
            if defaulted:
                x = loading[j] * yf + idio[j] * eps
                v = student_t_cdf(x / scale, dof) if dof > 0.0 else norm_cdf(x)
                if hazard[j] == np.inf or v >= 1.0:
                    tau_days = 0.0
                else:
                    tau_days = -math.log1p(-v) / hazard[j] * _DAYS_PER_YEAR
                day = min(int(tau_days) + 1, n_days)
            if event_day[j] > 0:
                day = event_day[j]
            if keep_days:
                out_default_day[p, j] = day
            if day == 0:
                continue
            nd += 1
            out_supplier_ndef[j] += 1
            loss += prepayment[j]
            end = min(day + replacement_days[j], after)
            for d in range(day, end):
                share[d] += dependent_share[j]
                cost += premium_per_day[j]
                out_premium_paid[p, period_of_day[min(d + dpo_days, after)]] += premium_per_day[j]
        lost = 0.0
        if nd > 0:
            for d in range(1, n_days + 1):
                if share[d] > 0.0:
                    ls = min(share[d], 1.0) * sales_per_day[d]
                    share[d] = 0.0
                    lost += ls
                    out_lost_sales_flow[p, period_of_day[d]] += ls
                    out_lost_collections[p, period_of_day[min(d + collection_lag_days,
                                                              after)]] += ls
                    out_saved_purchases[p, period_of_day[min(d + dpo_days, after)]] += (
                        cogs_share * ls)
        out_loss[p] = loss
        out_ndef[p] = nd
        out_premium_cost[p] = cost
        out_lost_sales[p] = lost
