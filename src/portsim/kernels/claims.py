"""numba kernel applying credit-insurance terms to the timeline's claim events.

The timeline kernel (:mod:`portsim.kernels.timeline`) logs claim events, about one per default:
an *insolvency* (kind 0) on the default day with the amount unpaid then (not already claimed
as protracted) and the buyer's loss given default on the path; a *protracted default*
(kind 1) on ``due + protracted_default_days`` with the invoice amount and the day the buyer
pays after all (−1: never, the buyer defaulted later in the horizon). The timeline's
``protracted_default_days`` is the policies' waiting period.

Every policy variant is applied to the same events, so differences between variants carry no
sampling noise from the defaults. Per path, events are taken in order of day (then customer,
then kind). For each variant:

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

Cash dated after the horizon is not in the period flows (index ``n_periods`` of
``period_of_day``); ``indemnity_cash`` is the net cash from the insurer within the horizon.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = [
    "CLAIM_SCALARS",
    "EVENT_INSOLVENCY",
    "EVENT_PROTRACTED",
    "ClaimsOutcome",
    "apply_policies",
    "claims_kernel",
]

EVENT_INSOLVENCY = 0  # as in portsim.kernels.timeline
EVENT_PROTRACTED = 1

#: Per-path outputs of :func:`apply_policies` for each policy (last axis of ``scalars``).
CLAIM_SCALARS = (
    "qualifying_loss", "indemnity_before_recoveries", "insurer_recovery_share", "indemnity",
    "indemnity_cash", "n_claims",
)
_Q, _GROSS, _SHARE, _NET, _CASH, _NCLAIMS = range(len(CLAIM_SCALARS))


@nb.njit(cache=True, inline="always")
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


@nb.njit(cache=True, nogil=True)
def claims_kernel(
    offsets,  # (m + 1,) int64: events of path p are offsets[p] .. offsets[p+1]-1
    cust, day, paid, kind, amount, lgd,  # (E,) sorted by path, day, customer, kind
    limit, pct,  # (V, n)
    nql, first_loss, before_cover, max_liability, settle_lag,  # (V,)
    year_of_day, n_years,  # (n_days + 2,) int64, int
    period_of_day, n_days, recovery_lag_days,  # (n_days + 2,) int64, int, int
    out_q, out_gross, out_net,  # (E, V)
    out_scalars,  # (m, V, len(CLAIM_SCALARS))
    out_cash_in, out_cash_out,  # (m, V, n_periods)
):
    """Fill the outputs for every path and policy (see the module docstring).

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
            if kind[e] == EVENT_INSOLVENCY:
                g_of[cust[e]] = lgd[e]
                def_day[cust[e]] = day[e]
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
            for e in range(a, b):
                i = cust[e]
                q = min(amount[e], max(limit[v, i] - used[i], 0.0))
                d = day[e]
                y = year_of_day[d]
                s_day = d + lag
                if kind[e] == EVENT_INSOLVENCY or paid[e] < 0:
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


class ClaimsOutcome:
    """What :func:`apply_policies` returns (``E`` events, ``m`` paths, ``V`` policies).

    Attributes
    ----------
    order : ndarray, shape (E,), int64
        The events in processing order (indices into the input arrays); the per-event arrays
        below are in this order.
    qualifying : ndarray, shape (E, V)
        Qualifying loss released at each event (book currency).
    indemnity_before_recoveries, indemnity : ndarray, shape (E, V)
        Indemnity of each event before and after the insurer's share of recoveries.
    scalars : ndarray, shape (m, V, len(CLAIM_SCALARS))
        Per-path sums (see :data:`CLAIM_SCALARS`).
    cash_in, cash_out : ndarray, shape (m, V, n_periods)
        Cash from and to the insurer per period (premiums excluded).
    """

    __slots__ = ("cash_in", "cash_out", "indemnity", "indemnity_before_recoveries", "order",
                 "qualifying", "scalars")

    def __init__(self, n_events: int, n_paths: int, n_policies: int, n_periods: int,
                 order: np.ndarray) -> None:
        self.order = order
        self.qualifying = np.zeros((n_events, n_policies))
        self.indemnity_before_recoveries = np.zeros((n_events, n_policies))
        self.indemnity = np.zeros((n_events, n_policies))
        self.scalars = np.zeros((n_paths, n_policies, len(CLAIM_SCALARS)))
        self.cash_in = np.zeros((n_paths, n_policies, n_periods))
        self.cash_out = np.zeros((n_paths, n_policies, n_periods))


def apply_policies(
    events_int: np.ndarray,
    events_amount: np.ndarray,
    events_lgd: np.ndarray,
    *,
    path_start: int,
    n_paths: int,
    cover_limit: np.ndarray,
    insured_pct: np.ndarray,
    non_qualifying_loss: np.ndarray,
    first_loss: np.ndarray,
    before_cover: np.ndarray,
    max_liability: np.ndarray,
    settlement_lag: np.ndarray,
    year_of_day: np.ndarray,
    n_years: int,
    period_of_day: np.ndarray,
    n_days: int,
    recovery_lag_days: int,
) -> ClaimsOutcome:
    """Apply ``V`` policy variants to the claim events of paths ``path_start ..
    path_start + n_paths - 1``.

    Parameters
    ----------
    events_int : ndarray, shape (E, 5), int64
        Rows ``(path, customer, day, paid_day, kind)`` with global path indices, any order.
    events_amount : ndarray, shape (E,)
        Claim amounts, book currency.
    events_lgd : ndarray, shape (E,)
        The buyer's loss given default on the path for insolvency events (fraction; any value
        for protracted events).
    path_start, n_paths : int
        The chunk's first path and number of paths.
    cover_limit, insured_pct : ndarray, shape (V, n_customers)
        Limit per buyer (0: no cover) and insured percentage.
    non_qualifying_loss, first_loss, max_liability : ndarray, shape (V,)
        Per-buyer threshold, aggregate first loss and maximum liability per policy year
        (``inf``: unlimited), book currency.
    before_cover : ndarray, shape (V,), bool
        Whether the first loss is taken before the insured percentage.
    settlement_lag : ndarray, shape (V,), int64
        Days from a claim to its payment.
    year_of_day, period_of_day : ndarray, shape (n_days + 2,), int64
        Policy year and reporting period of each day (``period_of_day[n_days + 1]`` is the
        number of periods, "after the horizon").
    n_years, n_days, recovery_lag_days : int

    Returns
    -------
    ClaimsOutcome
    """
    ev = np.asarray(events_int, dtype=np.int64).reshape(-1, 5)
    n_cust = cover_limit.shape[1]
    # one int64 key ordering by path, day, customer, kind (< 2^63 for any realistic size)
    key = (((ev[:, 0] - path_start) * (n_days + 2) + ev[:, 2]) * n_cust + ev[:, 1]) * 2 + ev[:, 4]
    order = np.argsort(key, kind="stable").astype(np.int64)
    s = ev[order]
    paths = s[:, 0] - path_start
    offsets = np.searchsorted(paths, np.arange(n_paths + 1), side="left").astype(np.int64)
    n_pol = cover_limit.shape[0]
    n_periods = int(period_of_day[-1])
    out = ClaimsOutcome(s.shape[0], n_paths, n_pol, n_periods, order)
    c = np.ascontiguousarray
    claims_kernel(
        offsets, c(s[:, 1]), c(s[:, 2]), c(s[:, 3]), c(s[:, 4]),
        c(np.asarray(events_amount, dtype=float)[order]),
        c(np.asarray(events_lgd, dtype=float)[order]),
        c(cover_limit, dtype=float), c(insured_pct, dtype=float),
        c(non_qualifying_loss, dtype=float), c(first_loss, dtype=float),
        c(before_cover, dtype=np.bool_), c(max_liability, dtype=float),
        c(settlement_lag, dtype=np.int64), c(year_of_day, dtype=np.int64), int(n_years),
        c(period_of_day, dtype=np.int64), int(n_days), int(recovery_lag_days),
        out.qualifying, out.indemnity_before_recoveries, out.indemnity, out.scalars,
        out.cash_in, out.cash_out,
    )
    return out
