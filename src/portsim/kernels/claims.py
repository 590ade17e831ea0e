"""numba kernel applying credit-insurance terms to the timeline's claim events.

The timeline kernel (:mod:`portsim.kernels.timeline`) logs claim events, about one per default:
an *insolvency* (``EventKind.INSOLVENCY``) on the default day with the amount unpaid then (not
already claimed as protracted) and the buyer's loss given default on the path; a *protracted
default* (``EventKind.PROTRACTED``) on ``due + protracted_default_days`` with the invoice
amount and the day the buyer pays after all (−1: never, the buyer defaulted later in the
horizon). The timeline's ``protracted_default_days`` is the policies' waiting period.

Every policy variant is applied to the same events, so differences between variants carry no
sampling noise from the defaults. Per path, events are taken in order of day (then customer,
then kind); under a maximum extension period a variant has its own claim days and amounts
(:func:`portsim.engine.calls.extended_events`) and takes the events in order of those days.
For each variant:

* **Final claims** (insolvencies, and protracted defaults never paid): the amount is capped by
  what is left of the buyer's limit (limits are used cumulatively over the horizon). A buyer's
  claims are held until its cumulative capped amount reaches the non-qualifying loss
  threshold (a buyer that never reaches it is not indemnified); at that event all held
  amounts are released as one qualifying loss ``x``, in that event's policy year ``y``. The
  indemnity of ``x`` with the buyer's insured percentage ``c``:

  - ``after_cover`` (the default): ``c·x`` less what is left of the year's aggregate first
    loss (which it uses up);
  - ``before_cover``: ``c·(x − d)``, where ``d`` is the part of ``x`` that uses up what is
    left of the first loss;

  then capped by what is left of the year's maximum liability. Over a policy year whose
  buyers share one insured percentage this is exactly
  ``min(max(c·X − F, 0), M)`` (after cover) or ``min(c·max(X − F, 0), M)`` (before cover)
  for the year's qualifying loss ``X``, first loss ``F`` and maximum liability ``M``.
  The indemnity is paid ``settlement_lag`` days after the claim event.

* **Recoveries.** The buyer's recoveries (``1 − LGD`` of what it left unpaid, arriving
  ``recovery_lag_days`` after its default) are shared pro rata: the insurer takes
  ``indemnity × (1 − LGD)``. The *net indemnity* is ``indemnity × LGD``, so the retained
  loss ``gross − net indemnity`` is ``LGD × (unpaid − indemnity) ≥ 0`` per buyer. In cash,
  the insurer's share is paid to it when the recovery arrives, or netted from the indemnity
  when the recovery arrives before the indemnity is paid.

* **Advances** (protracted defaults later paid by the buyer): the insurer pays the indemnity
  the claim would get on its day (buyer limit, threshold, first loss and maximum liability as
  they stand, none of them used up) after the settlement lag, and the buyer's payment is
  refunded to it on the day it is made. A buyer who pays on or before the settlement day
  withdraws the claim (no cash either way). Advances are cash, not indemnity: the invoice is
  paid, so neither the gross loss nor the net indemnity include it.

* **Limits cancelled or reduced when the buyer turns red** (``red_factor`` < 1 for a policy
  variant): the part of a claim delivered after the buyer reached the most severe alert level
  of credit management (``after``) is covered only while the buyer's claims stay within
  ``red_factor ×`` its limit (0: not at all); what was delivered before keeps the whole limit.

Cash dated after the horizon is not in the period flows (index ``n_periods`` of
``period_of_day``); ``indemnity_cash`` is the net cash from the insurer within the horizon.
The checked wrapper that sorts the events and allocates the outputs is
:func:`portsim.engine.calls.apply_policies`.
"""

from __future__ import annotations

import numpy as np

from portsim.kernels.codes import EventKind
from portsim.kernels.jit import kernel

__all__ = ["CLAIM_SCALARS", "claims_kernel"]

#: Per-path outputs of :func:`claims_kernel` for each policy (last axis of ``scalars``).
CLAIM_SCALARS = (
    "qualifying_loss", "indemnity_before_recoveries", "insurer_recovery_share", "indemnity",
    "indemnity_cash", "n_claims",
)
_Q, _GROSS, _SHARE, _NET, _CASH, _NCLAIMS = range(len(CLAIM_SCALARS))


@kernel(inline=True)
def _indemnity(x, pct, ded, ml, y, before_cover, use):
    """Indemnity of a qualifying loss ``x`` at insured percentage ``pct`` in policy year
    ``y``, given what is left of the first loss ``ded[y]`` and maximum liability ``ml[y]``;
    with ``use`` they are used up."""
    left = ded[y]
    if before_cover:
        d = min(left, x)
        c = pct * (x - d)
    else:
        c = pct * x
        d = min(left, c)
        c = c - d
    c = min(c, ml[y])
    if use:
        ded[y] = left - d
        ml[y] = ml[y] - c
    return c


@kernel(nogil=True)
def claims_kernel(
    offsets,  # (m + 1,) int64: events of path p are offsets[p] .. offsets[p+1]-1
    cust, paid, kind, lgd,  # (E,) sorted by path (and day, customer, kind)
    day, amount, perm,  # (E, V): each policy's claim day and amount, and order within a path
    limit, pct,  # (V, n)
    nql, first_loss, before_cover, max_liability, settle_lag,  # (V,)
    year_of_day, n_years,  # (n_days + 2,) int64, int
    period_of_day, n_days, recovery_lag_days,  # (n_days + 2,) int64, int, int
    after, red_factor,  # (E,) part delivered after the buyer's top level; (V,)
    out_q, out_gross, out_net,  # (E, V)
    out_scalars,  # (m, V, len(CLAIM_SCALARS))
    out_cash_in, out_cash_out,  # (m, V, n_periods)
):
    """Fill the outputs for every path and policy (see the module docstring).

    Policy ``v`` takes the events of a path in the order ``perm[offsets[p]:offsets[p+1], v]``
    (by its own day, then customer and kind), with its own claim day ``day[e, v]`` and
    amount ``amount[e, v]`` (they differ from the logged ones only under a maximum extension
    period, :func:`portsim.engine.calls.extended_events`); insolvency days are the same for
    every policy.

    ``out_q``, ``out_gross`` and ``out_net`` get, per event and policy, the qualifying loss
    released at the event, its indemnity before and after the insurer's share of recoveries
    (0 for advances and held claims). ``out_cash_in``/``out_cash_out`` get the cash from and
    to the insurer per period (indemnities and advances in; refunds and recovery shares out).
    Every output must be zero on entry.
    """
    m = offsets.shape[0] - 1
    n_pol = limit.shape[0]
    n = limit.shape[1]
    g_of = np.ones(n)  # the buyer's LGD on the path (1: no recovery)
    def_day = np.full(n, -1, dtype=np.int64)
    used = np.zeros(n)  # limit used by final claims
    acc = np.zeros(n)  # capped final claims so far (for the non-qualifying threshold)
    held = np.zeros(n)  # capped final claims held below the threshold
    claimed = np.zeros(n, dtype=np.bool_)  # buyer indemnified on the path
    ded = np.empty(n_years)
    ml = np.empty(n_years)
    for p in range(m):
        a, b = offsets[p], offsets[p + 1]
        if a == b:
            continue
        for e in range(a, b):
            if kind[e] == EventKind.INSOLVENCY:
                g_of[cust[e]] = lgd[e]
                def_day[cust[e]] = day[e, 0]
        for v in range(n_pol):
            for y in range(n_years):
                ded[y] = first_loss[v]
                ml[y] = max_liability[v]
            for e in range(a, b):
                i = cust[e]
                used[i] = 0.0
                acc[i] = 0.0
                held[i] = 0.0
                claimed[i] = False
            lag = settle_lag[v]
            threshold = nql[v]
            for k in range(a, b):
                e = perm[k, v]
                i = cust[e]
                room = max(limit[v, i] - used[i], 0.0)
                amt = amount[e, v]
                if red_factor[v] < 1.0 and after[e] > 0.0:
                    # deliveries after the buyer turned red: within the reduced limit only
                    aft = min(after[e], amt)
                    before = amt - aft
                    q = min(before, room) + min(
                        aft, max(red_factor[v] * limit[v, i] - used[i] - before, 0.0))
                else:
                    q = min(amt, room)
                d = day[e, v]
                y = year_of_day[d]
                s_day = d + lag
                if kind[e] == EventKind.INSOLVENCY or paid[e] < 0:
                    # a final claim: uses the buyer's limit, the first loss and the liability
                    used[i] += q
                    acc[i] += q
                    if acc[i] < threshold:
                        held[i] += q
                        continue
                    x = held[i] + q
                    held[i] = 0.0
                    c = _indemnity(x, pct[v, i], ded, ml, y, before_cover[v], True)
                    g = g_of[i]
                    share = c * (1.0 - g)
                    out_q[e, v] = x
                    out_gross[e, v] = c
                    out_net[e, v] = c - share
                    out_scalars[p, v, _Q] += x
                    out_scalars[p, v, _GROSS] += c
                    out_scalars[p, v, _SHARE] += share
                    out_scalars[p, v, _NET] += c - share
                    if c > 0.0 and not claimed[i]:
                        claimed[i] = True
                        out_scalars[p, v, _NCLAIMS] += 1.0
                    r_day = def_day[i] + recovery_lag_days
                    if r_day < s_day:  # recovery in before the indemnity: netted
                        if s_day <= n_days:
                            out_cash_in[p, v, period_of_day[s_day]] += c - share
                            out_scalars[p, v, _CASH] += c - share
                    else:
                        if s_day <= n_days:
                            out_cash_in[p, v, period_of_day[s_day]] += c
                            out_scalars[p, v, _CASH] += c
                        if r_day <= n_days and share > 0.0:
                            out_cash_out[p, v, period_of_day[r_day]] += share
                            out_scalars[p, v, _CASH] -= share
                else:
                    # an advance on a protracted default the buyer pays later: refunded
                    pd_ = paid[e]
                    if q <= 0.0 or acc[i] + q < threshold or pd_ <= s_day:
                        continue
                    c = _indemnity(q, pct[v, i], ded, ml, y, before_cover[v], False)
                    if c <= 0.0:
                        continue
                    if s_day <= n_days:
                        out_cash_in[p, v, period_of_day[s_day]] += c
                        out_scalars[p, v, _CASH] += c
                    if pd_ <= n_days:
                        out_cash_out[p, v, period_of_day[pd_]] += c
                        out_scalars[p, v, _CASH] -= c
        for e in range(a, b):
            g_of[cust[e]] = 1.0
            def_day[cust[e]] = -1
