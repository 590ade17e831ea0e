"""numba kernel of the invoice-by-invoice timeline: defaults with their dates, payment delays,
collections, write-offs, recoveries and protracted defaults, summed into reporting periods.

The default draws are those of :mod:`portsim.kernels.defaults` (same stream, same order, same
grouped or per-customer method), so a timeline run defaults the same customers on the same
paths as a default-only run with the same seed. Delays come from their own stream.

Days are integers: day 0 is the as-of date, the horizon is days 1 .. ``n_days``; an event on
day ``d`` falls in period ``period_of_day[min(d, n_days + 1)]``, where index ``n_periods``
means "after the horizon".
"""

from __future__ import annotations

import math

import numpy as np

from portsim.kernels.codes import Compare, DefaultMethod, EventKind, Feature
from portsim.kernels.defaults import conditional_pd, factors, lgd_draw
from portsim.kernels.jit import kernel
from portsim.kernels.rng import next_normal, next_u64, next_uniform
from portsim.kernels.special import ndtri, norm_cdf, student_t_cdf

__all__ = ["timeline_paths"]

_DAYS_PER_YEAR = 365.25
_BLOCK = 32
_U8 = np.uint64(255)


@kernel(inline=True)
def _event(ev_int, ev_float, ev_count, p, i, day, paid_day, kind, amount, lgd, after):
    """Append a claim event (``after``: the part of ``amount`` delivered after the buyer
    reached the most severe alert level); past the buffer's capacity only count it (the
    caller retries)."""
    k = ev_count[0]
    if k < ev_float.shape[0]:
        ev_int[k, 0] = p
        ev_int[k, 1] = i
        ev_int[k, 2] = day
        ev_int[k, 3] = paid_day
        ev_int[k, 4] = kind
        ev_float[k, 0] = amount
        ev_float[k, 1] = lgd
        ev_float[k, 2] = after
    ev_count[0] = k + 1


@kernel(inline=True)
def _next_byte(bits, left, d0, d1):
    """The next of the eight bytes of a 64-bit delay-stream draw (a new draw every eighth
    call): ``(byte, bits, left, d0, d1)``."""
    if left == 0:
        bits, d0, d1 = next_u64(d0, d1)
        left = 8
    return np.int64(bits & _U8), bits >> np.uint64(8), left - 1, d0, d1


@kernel(inline=True)
def _unpaid_index(byte, due, prop, nsd, noise_table):
    """The noise quantile of an invoice open at the as-of date, so known unpaid on day 0.

    Its payment day ``due + floor(prop + nsd·q + 0.5)`` is drawn conditionally on being day 1
    or later: ``k0`` is the first index of the sorted ``noise_table`` (256,) that meets this
    (binary search; the payment day does not decrease along the table, ``nsd`` ≥ 0 days), and
    the byte (0 .. 255) is mapped onto the indices ``k0 .. 255`` as
    ``k0 + ⌊byte·(256 − k0)/256⌋``, each of them taking ⌊256/(256 − k0)⌋ or one more bytes.
    When no index meets it, ``k0`` is 255 and the invoice is paid on day 1 (the clamp).
    """
    lo, hi = 0, 255
    while lo < hi:
        mid = (lo + hi) >> 1
        if due + math.floor(prop + nsd * noise_table[mid] + 0.5) >= 1:
            hi = mid
        else:
            lo = mid + 1
    return lo + ((byte * (256 - lo)) >> 8)


@kernel(inline=True)
def _paid_day(byte, issue, due, prop, nsd, noise_table):
    """The payment day of an invoice from its noise byte and the propensity ``prop``:
    ``max(due + ⌊prop + nsd·q + 0.5⌋, issue, 1)``, with ``q`` drawn conditionally on payment
    after day 0 for an invoice open at the as-of date (:func:`_unpaid_index`)."""
    if issue < 1:  # open at the as-of date: unpaid on day 0
        byte = _unpaid_index(byte, due, prop, nsd, noise_table)
    noise = noise_table[byte]
    return max(due + math.floor(prop + nsd * noise + 0.5), issue, 1)


@kernel(inline=True)
def _drift(due, default_day, drift_days, drift_window):
    """Days added to the delay of an invoice due on day ``due`` of a customer defaulting on
    ``default_day``: ``drift_days·max(0, 1 − (default_day − due)/drift_window)``, at most
    ``drift_days`` (an invoice due after the default day gets the whole drift)."""
    return drift_days * min(1.0, max(0.0, 1.0 - (default_day - due) / drift_window))


@kernel(inline=True)
def _settle(coll, out_protracted, ev_int, ev_float, ev_count, p, i, amt, due, paid,
            default_day, protracted_days, n_days, period_of_day, after_top):
    """Book an issued invoice of a customer that defaults on ``default_day`` (after the
    horizon: ``n_days + 1``, and then an invoice paid after the horizon is still open, not
    unpaid): collected on day ``paid``, or unpaid at the default; a protracted default (and
    its claim event) when unpaid ``protracted_days`` after ``due``, before any default
    (``after_top``: delivered after the buyer reached the most severe alert level).
    Returns ``(unpaid, claimed, n_protracted)``: the amount unpaid at the default, the part
    of it already claimed as protracted, and 0 or 1."""
    unpaid_for_good = paid >= default_day and default_day <= n_days
    prot_day = due + protracted_days
    unpaid = 0.0
    claimed = 0.0
    n_pr = 0
    if prot_day >= 1 and prot_day <= n_days and prot_day < default_day:
        if unpaid_for_good or paid > prot_day:
            out_protracted[p, period_of_day[prot_day]] += amt
            n_pr = 1
            _event(ev_int, ev_float, ev_count, p, i, prot_day, -1 if unpaid_for_good else paid,
                   EventKind.PROTRACTED, amt, np.nan, amt if after_top else 0.0)
            if unpaid_for_good:
                claimed = amt
    if unpaid_for_good:
        unpaid = amt
    else:
        coll[period_of_day[min(paid, n_days + 1)]] += amt
    return unpaid, claimed, n_pr


@kernel(inline=True)
def _sales_stop(out_issued_stop, out_supplier_stop, p, period_of_day, issue, amt, dpo_days,
                cogs_share, n_days):
    """A planned invoice of day ``issue`` (1 .. ``n_days``) that is not issued, nor its cost
    of goods bought (and paid ``dpo_days`` later)."""
    out_issued_stop[p, period_of_day[issue]] += amt
    sday = issue + dpo_days
    if sday <= n_days:
        out_supplier_stop[p, period_of_day[sday]] += cogs_share * amt


@kernel(inline=True)
def _review(day, next_day, s_paid, s_due, s_amt, cnt, window_days, limit, feat):
    """The monitoring features of a customer at the end of ``day`` into ``feat`` (indexed by
    :class:`~portsim.kernels.codes.Feature`) from its ``cnt`` shipped invoices: amount-
    weighted days beyond terms of those due in the last ``window_days`` and paid or overdue
    (an open one counts to ``day``), the oldest open invoice's days past due, and the open
    amount over ``limit`` (NaN when there is nothing to weigh or no limit). In the same pass
    the invoices no later review or new invoice can see are dropped (as :func:`_compact`);
    returns the number kept, their amount and the largest ``max(paid − due, 0)`` of those a
    review on ``next_day`` (or later) can see, which bounds the features there
    (:func:`_quiet`)."""
    num = 0.0
    den = 0.0
    oldest = 0
    open_amt = 0.0
    kept = 0
    total = 0.0
    late = 0
    for k in range(cnt):
        a = s_amt[k]
        paid = s_paid[k]
        due = s_due[k]
        is_open = paid > day
        age = day - due
        if is_open:
            open_amt += a
            if age > oldest:
                oldest = age
        if age < window_days:
            if age >= 0 and (age > 0 or not is_open):
                end = day if is_open else paid
                num += a * max(end - due, 0)
                den += a
        elif not is_open:
            continue  # settled and out of every later window
        s_paid[kept] = paid
        s_due[kept] = due
        s_amt[kept] = a
        kept += 1
        total += a
        if paid - due > late and (paid > next_day or next_day - due < window_days):
            late = paid - due
    feat[Feature.DBT] = num / den if den > 0.0 else np.nan
    feat[Feature.OLDEST_OVERDUE_DAYS] = oldest
    feat[Feature.LIMIT_UTILISATION] = (open_amt / limit if limit > 0.0 and limit < np.inf
                                       else np.nan)
    return kept, total, late


@kernel()
def _quiet(late, util, rule_level, cond_start, cond_feature, cond_op, cond_value):
    """Whether no rule can fire when ``dbt`` and ``oldest_overdue_days`` lie in
    ``[0, late]`` and ``limit_utilisation`` in ``[0, util]`` (NaN: no limit), each possibly
    NaN: then :func:`_level` is 0 without computing the features.

    A review on day ``T`` sees invoices with non-negative amounts ``a`` and
    ``x = max(min(paid, T) − due, 0) ≤ max(paid − due, 0)``: their amount-weighted mean (up
    to rounding, allowed for with a relative 1e-9) and the oldest open invoice's ``T − due``
    are at most ``late``, the largest ``max(paid − due, 0)`` among them, and the open amount
    at most the running total of the invoices kept (sums of non-negative terms in the same
    order)."""
    hi_days = late * (1.0 + 1e-9)
    for r in range(rule_level.shape[0]):
        can = True
        for c in range(cond_start[r], cond_start[r + 1]):
            hi = util if cond_feature[c] == Feature.LIMIT_UTILISATION else hi_days
            w = cond_value[c]
            op = cond_op[c]
            if hi != hi:
                can = False  # only NaN: the condition is false
            elif op == Compare.GT:
                can = hi > w
            elif op == Compare.GE:
                can = hi >= w
            elif op == Compare.LT:
                can = w > 0.0
            elif op == Compare.LE:
                can = w >= 0.0
            elif op == Compare.EQ:
                can = w >= 0.0 and w <= hi
            else:
                can = hi > 0.0 or w != 0.0
            if not can:
                break
        if can:
            return False
    return True


@kernel(inline=True)
def _compact(day, window_days, s_paid, s_due, s_amt, cnt):
    """Drop from the first ``cnt`` shipped invoices those that no later period end or new
    invoice can see: paid by ``day`` and due ``window_days`` or more before it (settled, and
    out of every later feature window; with limits only, ``window_days`` = 0: settled).
    Returns the number kept (in their order), their amount and the amount open on ``day``
    (paid later; a payment on ``day`` itself comes first)."""
    kept = 0
    total = 0.0
    open_amt = 0.0
    for k in range(cnt):
        if s_paid[k] > day or day - s_due[k] < window_days:
            s_paid[kept] = s_paid[k]
            s_due[kept] = s_due[k]
            s_amt[kept] = s_amt[k]
            kept += 1
            total += s_amt[k]
            if s_paid[k] > day:
                open_amt += s_amt[k]
    return kept, total, open_amt


@kernel(inline=True)
def _accrue(out_interest, p, period_of_day, a, b, rate, s_paid, s_due, s_amt, cnt,
            default_day, n_days):
    """Late-payment interest on the first ``cnt`` shipped invoices for the days in ``(a, b]``
    that each was overdue (after its due date, up to its payment), at the annual ``rate``
    (already times the collection rate): ``amount·rate·days/365``, collected when the invoice
    is paid — within the horizon and before a default (else never)."""
    for k in range(cnt):
        paid = s_paid[k]
        days = min(paid, b) - max(s_due[k], a)
        if days > 0 and paid <= n_days and paid < default_day:
            out_interest[p, period_of_day[paid]] += s_amt[k] * rate * days / 365.0


@kernel(inline=True)
def _level(feat, rule_level, cond_start, cond_feature, cond_op, cond_value):
    """The most severe level among the rules whose conditions all hold (0 when none does);
    a NaN feature makes its condition false."""
    level = 0
    for r in range(rule_level.shape[0]):
        fires = True
        for c in range(cond_start[r], cond_start[r + 1]):
            v = feat[cond_feature[c]]
            w = cond_value[c]
            op = cond_op[c]
            if v != v:
                holds = False
            elif op == Compare.GT:
                holds = v > w
            elif op == Compare.GE:
                holds = v >= w
            elif op == Compare.LT:
                holds = v < w
            elif op == Compare.LE:
                holds = v <= w
            elif op == Compare.EQ:
                holds = v == w
            else:
                holds = v != w
            if not holds:
                fires = False
                break
        if fires and rule_level[r] > level:
            level = rule_level[r]
    return level


@kernel(nogil=True)
def timeline_paths(
    states, lgd_states, delay_states,  # (m, 2) uint64 each
    chol, z_shift, y_shift, dof, method,  # (K, K), (K,), (K,), float, DefaultMethod code
    group, group_factor, group_loading, group_idio, group_threshold,  # grouped method
    factor, loading, idio, threshold, hazard,  # (n,)
    event_day,  # (n,) int64: day of a scenario default event (threshold +inf), 0: none
    lgd_mean, lgd_probit, lgd_conc, lgd_link, sector,
    n_days, period_of_day,  # int, (n_days + 2,) int64
    inv_start, inv_amount, inv_issue, inv_due,  # CSR by customer: (n+1,), (J,) ...
    delay_mean, delay_sd, delay_noise, delay_factor_days, noise_table,  # (n,)… (256,)
    credit_link, drift_days, drift_window,  # ρ, pre-default drift (days) and its window (days)
    protracted_days, recovery_lag_days, dpo_days, cogs_share,
    # credit management (see "Credit management" below; unused unless ``managed``)
    managed, limits_bind, credit_limit, period_end_day, window_days,  # bool, bool, (n,), (P,)
    lv_limit_mult, lv_terms, lv_prepaid, lv_stop, lv_retention, lv_shift,  # (L,) each
    lv_cost_invoice, lv_cost_customer, lv_interest, interest_collection,  # (L,) …, float
    rule_level, cond_start, cond_feature, cond_op, cond_value,  # (R,), (R + 1,), (C,) × 3
    # outputs
    out_loss, out_ndef, out_sector_loss, out_sector_ndef, out_cust_loss, out_cust_ndef,
    out_collected, out_written_off, out_recovered, out_issued_stop, out_supplier_stop,
    out_protracted,  # (m, n_periods) each, but out_collected has n_periods + 1 columns
    out_still_open, out_recovery_pending, out_n_protracted,  # (m,)
    ev_int, ev_float, ev_count,  # claim events: (cap, 5) int64, (cap, 3) float64, (1,) int64
    out_logw,  # (m,) log likelihood ratio per path (0 without importance sampling)
    out_lost_sales, out_interest, out_action_cost,  # (m,), (m, P), (m, P)
    out_alerts, out_lead_days, out_level_count,  # (m, 3) int64, (m,), (L, P) int64
):
    """Simulate the paths of one chunk; every ``out_*`` array is filled (per-path rows) or
    accumulated (per-customer sums).

    Per customer and path: the default decision (one draw, as in the default kernels) and, for
    a default, its day from the copula's latent variable through the constant hazard,
    τ = −ln(1 − F(X))/λ (a customer with ``event_day`` > 0, a scenario's default event, has
    PD 1 and defaults on that day instead, after the same draws); the delay propensity
    D = mean + sd·η − sensitivity·Y (η ~ N(0, 1)); with a credit link ρ ≠ 0,
    η = −ρ·ε + √(1 − ρ²)·η′ where ε is the customer's idiosyncratic credit shock on the path
    (latent X = loading·Y + idio·ε: ndtri of the default draw in the grouped method, the drawn
    ε in the per-customer method) and η′ the delay stream's normal, so that ρ > 0 lengthens
    the delays of weaker credits, as a bad factor does; with ``drift_days`` ≠ 0 an invoice of
    a customer that defaults is paid :func:`_drift` days later (the delays lengthen in the
    ``drift_window`` days before the default);
    per invoice, noise from one byte of a 64-bit draw through ``noise_table`` (256 quantiles of
    a unit-variance normal) times the customer's noise sd; the payment day is
    ``max(due + ⌊D + noise + 0.5⌋, issue, 1)``. An invoice open at the as-of date (issued on
    day 0 or before) was not paid by then: its noise comes from the quantiles that pay it on
    day 1 or later (:func:`_unpaid_index`, from the same byte), rather than every earlier day
    being moved to day 1. An invoice issued on or after the
    default day is never issued (sales stop); one unpaid on the default day is written off,
    its recovery (1 − LGD) arriving ``recovery_lag_days`` later; one unpaid
    ``protracted_days`` after its due date (and before any default) is a protracted default.

    Claim events (for credit insurance) are appended to ``ev_int`` rows
    ``(path, customer, day, paid_day, kind)`` and ``ev_float`` rows ``(amount, lgd, after)``
    (``after``: the part of the amount delivered after the buyer reached the most severe
    alert level of credit management, 0 without it): a
    protracted default (``EventKind.PROTRACTED``) on its day with the invoice's amount and the
    day it is paid after all (−1: never, the customer defaulted; lgd NaN); an insolvency
    (``EventKind.INSOLVENCY``) on the default day with the amount unpaid then that was not
    already claimed as protracted and the customer's LGD on the path (for the insurer's share
    of recoveries). Events come customer
    by customer within each block of paths; the caller sorts them by path (stably).

    Credit management (``managed``: limits bind or monitoring rules are given) follows each
    customer's invoices in issue order (forward invoices sorted by issue day). At each period
    end before its default the customer's :func:`_review` of the invoices shipped so far
    give its level (:func:`_level`, level 0 when no rule fires), counted in
    ``out_level_count``; the level's actions apply to the forward invoices issued after that
    day: stop shipping, keep ``lv_retention`` of the planned amount, take ``lv_prepaid`` of
    it on the issue day, and ship the rest on credit only while the amount open on the issue
    day plus it stays within ``credit_limit·lv_limit_mult`` (when ``limits_bind`` or the
    multiplier is below 1; exactly at the limit it ships). What is not shipped is lost sales
    (``out_lost_sales``, and planned sales and purchases not made, as after a default). The
    level's terms (``lv_terms`` ≥ 0) set the due date, its collection shift pays the invoice
    ``lv_shift`` days earlier, at ``lv_cost_invoice`` per invoice (and
    ``lv_cost_customer`` each time a customer comes to the level, the day after). While a
    customer is at a level with ``lv_interest`` > 0, each of its invoices (open ones at the
    as-of date too) accrues ``amount·lv_interest·days overdue/365``, of which
    ``interest_collection`` is collected when the invoice is paid (:func:`_accrue`,
    ``out_interest``; costs in ``out_action_cost``). The invoices open at the as-of date are
    otherwise as they are. A customer that
    reaches the most severe level is an alert (``out_alerts[p, 0]``), a true one when it
    defaults within the horizon (``[p, 1]``, the days from its first period end at that
    level to the default summed in ``out_lead_days``), else a false one (``[p, 2]``).
    """
    m = states.shape[0]
    n = factor.shape[0]
    k = chol.shape[0]
    n_groups = group_factor.shape[0]
    grouped = method == DefaultMethod.GROUPED  # else per customer (skip draws no day)
    y = np.empty(k)
    # Paths are simulated in blocks of _BLOCK, customer by customer across the block, so a
    # customer's invoices are read from cache once per block rather than once per path. Each
    # path still draws from its own streams in customer order: results do not depend on it.
    ys = np.empty((_BLOCK, k))
    scales = np.empty(_BLOCK)
    pgs = np.empty((_BLOCK, n_groups))
    st = np.empty((_BLOCK, 6), dtype=np.uint64)  # default, LGD and delay stream states
    loss = np.empty(_BLOCK)
    pending = np.empty(_BLOCK)
    nd = np.empty(_BLOCK, dtype=np.int64)
    n_prot = np.empty(_BLOCK, dtype=np.int64)
    n_periods = period_end_day.shape[0]
    top = lv_stop.shape[0] - 1  # the most severe level (0: no levels, no alerts)
    watch = top > 0 or lv_interest[0] > 0.0  # period ends to evaluate (else limits only)
    acts = np.empty(top + 1, dtype=np.bool_)  # a level acts on new invoices
    for lv in range(top + 1):
        acts[lv] = (lv_stop[lv] or lv_retention[lv] < 1.0 or lv_prepaid[lv] > 0.0
                    or lv_terms[lv] >= 0 or lv_shift[lv] != 0.0 or lv_cost_invoice[lv] > 0.0
                    or limits_bind or lv_limit_mult[lv] < 1.0)
    max_inv = 0
    for i in range(n):
        max_inv = max(max_inv, inv_start[i + 1] - inv_start[i])
    nonneg = True  # the bounds of _quiet hold (amounts are never negative in a book)
    for j in range(inv_amount.shape[0]):
        if not inv_amount[j] >= 0.0:
            nonneg = False
    s_paid = np.empty(max_inv, dtype=np.int64)  # a managed customer's shipped invoices
    s_due = np.empty(max_inv, dtype=np.int64)
    s_amt = np.empty(max_inv)
    feat = np.empty(3)
    for b0 in range(0, m, _BLOCK):
        nb_ = min(_BLOCK, m - b0)
        for b in range(nb_):
            p = b0 + b
            s0, s1 = states[p, 0], states[p, 1]
            scale, logw, s0, s1 = factors(s0, s1, chol, z_shift, y_shift, dof, y)
            out_logw[p] = logw
            for a in range(k):
                ys[b, a] = y[a]
            scales[b] = scale
            if grouped:
                for g in range(n_groups):
                    pgs[b, g] = conditional_pd(group_threshold[g], scale, group_loading[g],
                                               y[group_factor[g]], group_idio[g])
            st[b, 0], st[b, 1] = s0, s1
            st[b, 2], st[b, 3] = lgd_states[p, 0], lgd_states[p, 1]
            st[b, 4], st[b, 5] = delay_states[p, 0], delay_states[p, 1]
            loss[b] = 0.0
            pending[b] = 0.0
            nd[b] = 0
            n_prot[b] = 0
        for i in range(n):
            ja, jb = inv_start[i], inv_start[i + 1]
            fi = factor[i]
            for b in range(nb_):
                p = b0 + b
                s0, s1 = st[b, 0], st[b, 1]
                d0, d1 = st[b, 4], st[b, 5]
                yf = ys[b, fi]
                scale = scales[b]
                coll = out_collected[p]  # n_periods + 1 columns: the last is after the horizon
                # --- default decision and day (same draws as the default-only kernels)
                defaulted = False
                x = 0.0
                eps = 0.0
                if grouped:
                    u, s0, s1 = next_uniform(s0, s1)
                    if credit_link != 0.0:
                        eps = ndtri(u)
                    if u < pgs[b, group[i]]:
                        defaulted = True
                        x = loading[i] * yf + idio[i] * ndtri(u)
                else:
                    eps, s0, s1 = next_normal(s0, s1)
                    x = loading[i] * yf + idio[i] * eps
                    # the default kernels' decision, evaluated the same way
                    defaulted = eps < (threshold[i] * scale - loading[i] * yf) / idio[i]
                st[b, 0], st[b, 1] = s0, s1
                default_day = n_days + 1
                if defaulted:
                    if dof > 0.0:
                        v = student_t_cdf(x / scale, dof)
                    else:
                        v = norm_cdf(x)
                    if hazard[i] == np.inf or v >= 1.0:
                        tau_days = 0.0
                    else:
                        tau_days = -math.log1p(-v) / hazard[i] * _DAYS_PER_YEAR
                    default_day = min(int(tau_days) + 1, n_days)
                if event_day[i] > 0:  # a default event: on its day (the draws are as always)
                    defaulted = True
                    default_day = event_day[i]
                # --- delay propensity of this customer on this path
                eta, d0, d1 = next_normal(d0, d1)
                if credit_link != 0.0:
                    eta = -credit_link * eps + math.sqrt(1.0 - credit_link**2) * eta
                prop = delay_mean[i] + delay_sd[i] * eta - delay_factor_days * yf
                nsd = delay_noise[i]
                unpaid = 0.0
                claimed = 0.0  # unpaid at default but already claimed as protracted
                unpaid_after = 0.0  # of unpaid − claimed: delivered after the top level
                bits = np.uint64(0)
                left = 0
                if managed:
                    level = 0
                    first_top = -1
                    e = 0  # the next period end to evaluate
                    reviewed = 0  # the last period end evaluated (day)
                    cnt = 0  # invoices shipped (and kept)
                    kept_total = 0.0  # their amount: at least the amount open
                    late = 0  # bounds max(paid − due, 0) of those a review can see
                    for j in range(ja, jb + 1):  # j = jb: the period ends after the last one
                        issue = inv_issue[j] if j < jb else n_days + 1
                        while (watch and e < n_periods and period_end_day[e] < issue
                               and period_end_day[e] < default_day):
                            day_e = period_end_day[e]
                            if lv_interest[level] > 0.0:  # the period's interest, its level
                                _accrue(out_interest, p, period_of_day, reviewed, day_e,
                                        interest_collection * lv_interest[level], s_paid,
                                        s_due, s_amt, cnt, default_day, n_days)
                            reviewed = day_e
                            lim_i = credit_limit[i]
                            util = (kept_total / lim_i * (1.0 + 1e-9)
                                    if lim_i > 0.0 and lim_i < np.inf else np.nan)
                            if nonneg and _quiet(late, util, rule_level, cond_start,
                                                 cond_feature, cond_op, cond_value):
                                new = 0  # no rule can fire: the review is not needed
                            else:
                                cnt, kept_total, late = _review(
                                    day_e, period_end_day[min(e + 1, n_periods - 1)], s_paid,
                                    s_due, s_amt, cnt, window_days, lim_i, feat)
                                new = _level(feat, rule_level, cond_start, cond_feature,
                                             cond_op, cond_value)
                            if new != level and lv_cost_customer[new] > 0.0 and day_e < n_days:
                                out_action_cost[p, period_of_day[day_e + 1]] += \
                                    lv_cost_customer[new]
                            level = new
                            out_level_count[level, e] += 1
                            if top > 0 and level == top and first_top < 0:
                                first_top = day_e
                            e += 1
                        if j == jb:
                            if defaulted and lv_interest[level] > 0.0:  # up to the default
                                _accrue(out_interest, p, period_of_day, reviewed, default_day,
                                        interest_collection * lv_interest[level], s_paid,
                                        s_due, s_amt, cnt, default_day, n_days)
                            break
                        byte, bits, left, d0, d1 = _next_byte(bits, left, d0, d1)
                        amt = inv_amount[j]
                        if issue >= default_day:
                            _sales_stop(out_issued_stop, out_supplier_stop, p, period_of_day,
                                        issue, amt, dpo_days, cogs_share, n_days)
                            continue
                        due = inv_due[j]
                        pj = prop
                        credit = amt
                        if issue >= 1 and acts[level]:  # a new invoice: the level acts
                            refused = lv_stop[level]
                            kept = amt * lv_retention[level]
                            prepaid = kept * lv_prepaid[level]
                            credit = kept - prepaid
                            mult = lv_limit_mult[level]
                            if not refused and credit > 0.0 and (limits_bind or mult < 1.0):
                                lim = 0.0 if mult == 0.0 else credit_limit[i] * mult
                                if kept_total + credit > lim:  # else within it for sure
                                    cnt, kept_total, open_amt = _compact(
                                        issue, window_days if watch else 0, s_paid, s_due,
                                        s_amt, cnt)
                                    refused = open_amt + credit > lim
                            lost = amt if refused else amt - kept
                            if lost > 0.0:
                                _sales_stop(out_issued_stop, out_supplier_stop, p,
                                            period_of_day, issue, lost, dpo_days, cogs_share,
                                            n_days)
                                out_lost_sales[p] += lost
                            if refused or kept == 0.0:
                                continue
                            if prepaid > 0.0:
                                coll[period_of_day[issue]] += prepaid
                                if credit == 0.0:
                                    continue
                            if lv_terms[level] >= 0:
                                due = issue + lv_terms[level]
                            pj = prop - lv_shift[level]
                            if lv_cost_invoice[level] > 0.0:
                                out_action_cost[p, period_of_day[issue]] += lv_cost_invoice[level]
                        if defaulted and drift_days != 0.0:
                            pj += _drift(due, default_day, drift_days, drift_window)
                        paid = _paid_day(byte, issue, due, pj, nsd, noise_table)
                        if defaulted or paid > due + protracted_days:
                            after_top = first_top >= 0
                            u_, c_, n_ = _settle(coll, out_protracted, ev_int, ev_float,
                                                 ev_count, p, i, credit, due, paid, default_day,
                                                 protracted_days, n_days, period_of_day,
                                                 after_top)
                            unpaid += u_
                            claimed += c_
                            if after_top:
                                unpaid_after += u_ - c_
                            n_prot[b] += n_
                        else:  # the common case: paid in time (as _settle would book it)
                            coll[period_of_day[min(paid, n_days + 1)]] += credit
                        s_paid[cnt] = paid
                        s_due[cnt] = due
                        s_amt[cnt] = credit
                        cnt += 1
                        kept_total += credit
                        late = max(late, paid - due)
                    if first_top >= 0:
                        out_alerts[p, 0] += 1
                        if defaulted:
                            out_alerts[p, 1] += 1
                            out_lead_days[p] += default_day - first_top
                        else:
                            out_alerts[p, 2] += 1
                elif not defaulted:
                    # the common case, kept lean: every invoice is issued and paid
                    for j in range(ja, jb):
                        byte, bits, left, d0, d1 = _next_byte(bits, left, d0, d1)
                        due = inv_due[j]
                        paid = _paid_day(byte, inv_issue[j], due, prop, nsd, noise_table)
                        coll[period_of_day[min(paid, n_days + 1)]] += inv_amount[j]
                        prot_day = due + protracted_days
                        if paid > prot_day and prot_day >= 1 and prot_day <= n_days:
                            out_protracted[p, period_of_day[prot_day]] += inv_amount[j]
                            n_prot[b] += 1
                            _event(ev_int, ev_float, ev_count, p, i, prot_day, paid,
                                   EventKind.PROTRACTED, inv_amount[j], np.nan, 0.0)
                else:
                    for j in range(ja, jb):
                        byte, bits, left, d0, d1 = _next_byte(bits, left, d0, d1)
                        amt = inv_amount[j]
                        issue = inv_issue[j]
                        if issue >= default_day:
                            # sales stop: the planned invoice is never issued nor bought for
                            _sales_stop(out_issued_stop, out_supplier_stop, p, period_of_day,
                                        issue, amt, dpo_days, cogs_share, n_days)
                            continue
                        due = inv_due[j]
                        pj = prop
                        if drift_days != 0.0:
                            pj = prop + _drift(due, default_day, drift_days, drift_window)
                        paid = _paid_day(byte, issue, due, pj, nsd, noise_table)
                        u_, c_, n_ = _settle(coll, out_protracted, ev_int, ev_float, ev_count,
                                             p, i, amt, due, paid, default_day,
                                             protracted_days, n_days, period_of_day, False)
                        unpaid += u_
                        claimed += c_
                        n_prot[b] += n_
                st[b, 4], st[b, 5] = d0, d1
                if defaulted:
                    # the LGD is drawn on every default, as in the default-only kernels
                    t0, t1 = st[b, 2], st[b, 3]
                    g, t0, t1 = lgd_draw(lgd_mean[i], lgd_probit[i], lgd_conc[i], lgd_link, yf,
                                         t0, t1)
                    st[b, 2], st[b, 3] = t0, t1
                    li = g * unpaid
                    rec = unpaid - li
                    out_written_off[p, period_of_day[default_day]] += unpaid
                    _event(ev_int, ev_float, ev_count, p, i, default_day, -1,
                           EventKind.INSOLVENCY, unpaid - claimed, g, unpaid_after)
                    rday = default_day + recovery_lag_days
                    if rday > n_days:
                        pending[b] += rec
                    else:
                        out_recovered[p, period_of_day[rday]] += rec
                    loss[b] += li
                    out_sector_loss[p, sector[i]] += li
                    out_cust_loss[i] += np.int64(li * 100.0 + 0.5)  # cents: exact sums
                    nd[b] += 1
                    out_sector_ndef[p, sector[i]] += 1
                    out_cust_ndef[i] += 1
        for b in range(nb_):
            p = b0 + b
            out_loss[p] = loss[b]
            out_ndef[p] = nd[b]
            out_still_open[p] = out_collected[p, -1]
            out_recovery_pending[p] = pending[b]
            out_n_protracted[p] = n_prot[b]
