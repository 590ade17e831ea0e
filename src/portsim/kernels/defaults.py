"""numba kernels: arrays in, preallocated arrays out, one random stream per path.

Each kernel simulates a contiguous range of paths; row ``j`` of ``states`` is the
xoroshiro128++ state of the ``j``-th path of the range (see :mod:`portsim.kernels.rng`). The kernels
trust their inputs: :mod:`portsim.inputs.model` builds and checks them.

Two default kernels give the same distribution with different draws:

* :func:`default_losses_per_customer` draws one normal per customer-path and compares the
  latent variable with the customer's threshold — for books where PDs are all distinct;
* :func:`default_losses_grouped` computes, per path, one conditional default probability per
  group of customers sharing factor, threshold and correlation, then draws one uniform per
  customer-path — for books with PDs by rating grade, where it is several times faster.

A third, :func:`default_losses_skip`, draws only the defaulting customers of each group by
geometric skipping, so its cost follows the number of defaults rather than of customers.
"""

from __future__ import annotations

import math

import numpy as np

from portsim.kernels.codes import DefaultMethod
from portsim.kernels.jit import kernel
from portsim.kernels.rng import next_gamma, next_normal, next_open_uniform, next_u64, next_uniform
from portsim.kernels.special import norm_cdf

_TWO_53 = 9007199254740992.0
_U11 = np.uint64(11)

__all__ = [
    "conditional_pd",
    "customer_losses_of_paths",
    "default_losses_grouped",
    "default_losses_per_customer",
    "default_losses_skip",
    "factors",
    "lgd_draw",
]


@kernel()
def factors(s0, s1, chol, z_shift, y_shift, dof, y):
    """Draw one path's systematic factors into ``y``; return the t scale and the log weight.

    y = y_shift + chol @ (z + z_shift), z ~ N(0, I): ``y_shift`` moves or conditions the
    factors (scenarios), ``z_shift`` = θ is an importance-sampling shift whose likelihood
    ratio is exp(−θ·(z + θ) + θ·θ/2), returned as its log (0 when θ = 0).
    """
    k = chol.shape[0]
    z = np.empty(k)
    logw = 0.0
    for a in range(k):
        z[a], s0, s1 = next_normal(s0, s1)
        th = z_shift[a]
        if th != 0.0:
            z[a] += th
            logw += -th * z[a] + 0.5 * th * th
    for a in range(k):
        acc = y_shift[a]
        for b in range(a + 1):
            acc += chol[a, b] * z[b]
        y[a] = acc
    scale = 1.0
    if dof > 0.0:
        w, s0, s1 = next_gamma(0.5 * dof, s0, s1)
        scale = math.sqrt(2.0 * w / dof)
    return scale, logw, s0, s1


@kernel(inline=True)
def _path_factors(p, states, chol, z_shift, y_shift, dof, y, out_logw):
    """Start path ``p`` of a default kernel: its factors into ``y``, its log weight into
    ``out_logw[p]``.

    Parameters
    ----------
    p : int
        The path's row in ``states`` and ``out_logw``.
    states : ndarray of uint64, shape (n_paths, 2)
        The default stream of each path.
    chol, z_shift, y_shift, dof
        As in :func:`factors`.
    y : ndarray, shape (K,)
        Receives the path's factor values.
    out_logw : ndarray, shape (n_paths,)
        Receives the path's log likelihood ratio.

    Returns
    -------
    scale : float
        The path's Student-t scale (1 for the Gaussian copula).
    s0, s1 : uint64
        The path's default stream state after the factor draws.
    """
    scale, logw, s0, s1 = factors(states[p, 0], states[p, 1], chol, z_shift, y_shift, dof, y)
    out_logw[p] = logw
    return scale, s0, s1


@kernel(inline=True)
def conditional_pd(threshold, scale, loading, y_f, idio):
    """P(default | factors) = Φ((c·s − √R·Y)/√(1 − R)); exactly 0 / 1 at c = ∓inf."""
    if threshold == -np.inf:
        return 0.0
    if threshold == np.inf:
        return 1.0
    return norm_cdf((threshold * scale - loading * y_f) / idio)


@kernel()
def lgd_draw(m, probit, c, lgd_link, y_f, t0, t1):
    """LGD on default given the customer's factor value ``y_f`` (scalars only: no array
    arguments, whose reference counting would dominate the cost of a default).

    The mean ``m`` moves with the factor when ``lgd_link`` = κ > 0:
    m(Y) = Φ(probit·√(1 + κ²) − κ·Y), whose average over Y is ``m`` itself; with a Beta
    concentration ``c`` = α + β > 0 the LGD is Beta with mean m(Y), else it is m(Y).
    """
    if lgd_link > 0.0 and 0.0 < m < 1.0:
        m = norm_cdf(probit * math.sqrt(1.0 + lgd_link * lgd_link) - lgd_link * y_f)
    if c > 0.0 and 0.0 < m < 1.0:
        ga, t0, t1 = next_gamma(m * c, t0, t1)
        gb, t0, t1 = next_gamma((1.0 - m) * c, t0, t1)
        tot = ga + gb
        m = ga / tot if tot > 0.0 else m
    return m, t0, t1


@kernel(inline=True)
def _default_loss(p, i, y, factor, exposure, lgd_mean, lgd_probit, lgd_conc, lgd_link, sector,
                  out_sector_loss, out_sector_ndef, out_cust_loss, out_cust_ndef, t0, t1):
    """Draw the LGD of customer ``i`` defaulting on path ``p`` and record its loss.

    Parameters
    ----------
    p, i : int
        The path's row in the per-path outputs; the customer.
    y : ndarray, shape (K,)
        The path's factor values.
    factor, exposure, lgd_mean, lgd_probit, lgd_conc, sector : ndarray, shape (n,)
        The customers' arrays, as in :func:`default_losses_per_customer` (exposure in the
        book's currency).
    lgd_link : float
        PD–LGD link κ (see :func:`lgd_draw`).
    out_sector_loss, out_sector_ndef : ndarray, shape (n_paths, n_sectors)
        Loss and number of defaults per path and sector, added to.
    out_cust_loss, out_cust_ndef : ndarray of int64, shape (n,)
        Loss (in cents, so sums are exact) and number of defaults per customer, added to.
    t0, t1 : uint64
        The path's LGD stream state.

    Returns
    -------
    loss : float
        The customer's loss, in the book's currency.
    t0, t1 : uint64
        The LGD stream state after the draw.
    """
    g, t0, t1 = lgd_draw(lgd_mean[i], lgd_probit[i], lgd_conc[i], lgd_link, y[factor[i]],
                         t0, t1)
    li = exposure[i] * g
    out_sector_loss[p, sector[i]] += li
    out_sector_ndef[p, sector[i]] += 1
    out_cust_loss[i] += np.int64(li * 100.0 + 0.5)  # cents: exact sums
    out_cust_ndef[i] += 1
    return li, t0, t1


@kernel()
def _book_defaults(p, nd, defaulted, y, factor, exposure, lgd_mean, lgd_probit, lgd_conc,
                   lgd_link, sector, out_sector_loss, out_sector_ndef, out_cust_loss,
                   out_cust_ndef, lgd_states, out_loss, out_ndef):
    """LGDs and losses of path ``p``'s defaulted customers ``defaulted[:nd]``, in customer
    order (so the LGD stream is consumed as if drawn in the customer loop); the path's loss
    and number of defaults into ``out_loss[p]`` and ``out_ndef[p]``.

    Kept out of the drawing loops, which stay small enough for the compiler to hold the
    random state in registers.
    """
    t0, t1 = lgd_states[p, 0], lgd_states[p, 1]
    loss = 0.0
    for k in range(nd):
        li, t0, t1 = _default_loss(p, defaulted[k], y, factor, exposure, lgd_mean, lgd_probit,
                                   lgd_conc, lgd_link, sector, out_sector_loss, out_sector_ndef,
                                   out_cust_loss, out_cust_ndef, t0, t1)
        loss += li
    out_loss[p] = loss
    out_ndef[p] = nd


@kernel(nogil=True)
def default_losses_per_customer(
    states,  # (n_paths, 2) uint64, default stream
    lgd_states,  # (n_paths, 2) uint64, LGD stream
    chol,  # (K, K) lower Cholesky factor of the factor correlation
    z_shift,  # (K,) importance-sampling shift of the independent normals
    y_shift,  # (K,) shift of the factors (scenarios)
    dof,  # float, Student-t degrees of freedom (0: Gaussian)
    factor,  # (n,) int64
    loading,  # (n,) √R
    idio,  # (n,) √(1 − R)
    threshold,  # (n,) copula threshold
    exposure,  # (n,)
    lgd_mean,  # (n,)
    lgd_probit,  # (n,) Φ⁻¹(lgd_mean)
    lgd_conc,  # (n,) Beta concentration α + β (0: fixed LGD)
    lgd_link,  # float, PD–LGD link κ
    sector,  # (n,) int64
    out_loss,  # (n_paths,) float64
    out_ndef,  # (n_paths,) int64
    out_sector_loss,  # (n_paths, n_sectors) float64
    out_sector_ndef,  # (n_paths, n_sectors) int64
    out_cust_loss,  # (n,) int64, loss in cents accumulated over paths
    out_cust_ndef,  # (n,) int64, accumulated over paths
    out_logw,  # (n_paths,) log likelihood ratio of the path (0 without importance sampling)
):
    """Defaults and losses with one normal per customer-path (see module docstring)."""
    n_paths = states.shape[0]
    n = exposure.shape[0]
    y = np.empty(chol.shape[0])
    cthr = np.empty(n)
    defaulted = np.empty(n, dtype=np.int64)
    for p in range(n_paths):
        scale, s0, s1 = _path_factors(p, states, chol, z_shift, y_shift, dof, y, out_logw)
        # X < c·s ⇔ ε < (c·s − √R·Y)/√(1 − R): one pass without random draws first, so the
        # drawing loop is a normal and a comparison (the timeline kernel evaluates the same
        # expression, so both make the same decisions)
        for i in range(n):
            cthr[i] = (threshold[i] * scale - loading[i] * y[factor[i]]) / idio[i]
        nd = 0
        for i in range(n):  # lean: a draw, a comparison, rarely a store
            eps, s0, s1 = next_normal(s0, s1)
            if eps < cthr[i]:
                defaulted[nd] = i
                nd += 1
        _book_defaults(p, nd, defaulted, y, factor, exposure, lgd_mean, lgd_probit, lgd_conc,
                       lgd_link, sector, out_sector_loss, out_sector_ndef, out_cust_loss,
                       out_cust_ndef, lgd_states, out_loss, out_ndef)


@kernel(nogil=True)
def default_losses_grouped(
    states,  # (n_paths, 2) uint64, default stream
    lgd_states,  # (n_paths, 2) uint64, LGD stream
    chol,  # (K, K)
    z_shift,  # (K,)
    y_shift,  # (K,)
    dof,  # float
    group,  # (n,) int64, group of each customer
    group_factor,  # (G,) int64
    group_loading,  # (G,)
    group_idio,  # (G,)
    group_threshold,  # (G,)
    factor,  # (n,) int64
    exposure,  # (n,)
    lgd_mean,  # (n,)
    lgd_probit,  # (n,)
    lgd_conc,  # (n,)
    lgd_link,  # float
    sector,  # (n,) int64
    out_loss,  # (n_paths,)
    out_ndef,  # (n_paths,)
    out_sector_loss,  # (n_paths, n_sectors)
    out_sector_ndef,  # (n_paths, n_sectors)
    out_cust_loss,  # (n,) int64 cents
    out_cust_ndef,  # (n,)
    out_logw,  # (n_paths,)
):
    """Defaults and losses with one conditional PD per group and one uniform per customer-path.

    Given the factors Y and the t scale s, customer i defaults with probability
    Φ((c_g·s − √R_g·Y_f) / √(1 − R_g)), independently of the others.
    """
    n_paths = states.shape[0]
    n = exposure.shape[0]
    n_groups = group_factor.shape[0]
    y = np.empty(chol.shape[0])
    kthr = np.empty(n_groups, dtype=np.int64)
    defaulted = np.empty(n, dtype=np.int64)
    for p in range(n_paths):
        scale, s0, s1 = _path_factors(p, states, chol, z_shift, y_shift, dof, y, out_logw)
        for g in range(n_groups):
            pg = conditional_pd(group_threshold[g], scale, group_loading[g],
                                y[group_factor[g]], group_idio[g])
            # u < pg with u = k·2⁻⁵³ (k the top 53 bits) ⇔ k < ceil(pg·2⁵³): the same decision
            # as the float comparison, made on integers
            kthr[g] = np.int64(math.ceil(pg * _TWO_53))
        nd = 0
        for i in range(n):  # lean: a draw, a comparison, rarely a store
            r, s0, s1 = next_u64(s0, s1)
            if np.int64(r >> _U11) < kthr[group[i]]:
                defaulted[nd] = i
                nd += 1
        _book_defaults(p, nd, defaulted, y, factor, exposure, lgd_mean, lgd_probit, lgd_conc,
                       lgd_link, sector, out_sector_loss, out_sector_ndef, out_cust_loss,
                       out_cust_ndef, lgd_states, out_loss, out_ndef)


SKIP_DENSE_PD = 0.1
"""Conditional PD above which :func:`default_losses_skip` draws a group customer by customer.

Measured (``benchmarks/bench_tails.py --kernel-costs``): a skipped default costs about 40 ns
(a logarithm dominates), a customer of the uniform-per-customer loop about 2.5 ns plus 19 ns
per default, so skipping pays for p below about 2.5 / (40 − 19) ≈ 0.12.
"""


@kernel(nogil=True)
def default_losses_skip(
    states, lgd_states, chol, z_shift, y_shift, dof,  # as in default_losses_grouped
    group_start,  # (G + 1,) int64: group g holds group_perm[group_start[g] : group_start[g + 1]]
    group_perm,  # (n,) int64, customers ordered by group
    group_factor, group_loading, group_idio, group_threshold,  # (G,), as in the grouped kernel
    factor, exposure, lgd_mean, lgd_probit, lgd_conc, lgd_link, sector,  # (n,), κ: likewise
    out_loss, out_ndef, out_sector_loss, out_sector_ndef, out_cust_loss, out_cust_ndef,
    out_logw,  # outputs, likewise
):
    """Defaults and losses by geometric skipping over each group's customers.

    Given the factors, the customers of group g default independently with the same
    probability p_g (as in :func:`default_losses_grouped`), so the gaps between successive
    defaulters in the group's customer list are geometric: from position j the next
    defaulter is at j + 1 + ⌊ln U / ln(1 − p_g)⌋, U uniform on (0, 1). One uniform and one
    logarithm per default (plus one per group and path to step past the group's end), so the
    cost is O(G + defaults) per path instead of O(n). A group whose conditional PD exceeds
    :data:`SKIP_DENSE_PD` (a shifted, importance-sampled path, say) is drawn customer by
    customer instead, one uniform each, which is then cheaper than a logarithm per default.
    Same distribution as the other kernels, different draws; the LGD stream is consumed in
    group order.
    """
    n_paths = states.shape[0]
    n_groups = group_factor.shape[0]
    y = np.empty(chol.shape[0])
    for p in range(n_paths):
        scale, s0, s1 = _path_factors(p, states, chol, z_shift, y_shift, dof, y, out_logw)
        t0, t1 = lgd_states[p, 0], lgd_states[p, 1]
        loss = 0.0
        nd = 0
        for g in range(n_groups):
            a = group_start[g]
            b = group_start[g + 1]
            c = group_threshold[g]
            if a == b or c == -np.inf:
                continue
            pg = conditional_pd(c, scale, group_loading[g], y[group_factor[g]], group_idio[g])
            if pg <= 0.0:
                continue
            dense = pg > SKIP_DENSE_PD
            lq = 0.0 if dense else math.log1p(-pg)  # ln(1 − p_g) < 0
            j = a - 1
            while True:
                if dense:  # one uniform per customer, as in the grouped kernel
                    j += 1
                    while j < b:
                        u, s0, s1 = next_uniform(s0, s1)
                        if u < pg:
                            break
                        j += 1
                    if j >= b:
                        break
                else:
                    u, s0, s1 = next_open_uniform(s0, s1)
                    step = math.log(u) / lq  # ≥ 0, may be huge (or inf) for a tiny p_g
                    if step >= b - 1 - j:
                        break
                    j += 1 + np.int64(step)
                li, t0, t1 = _default_loss(p, group_perm[j], y, factor, exposure, lgd_mean,
                                           lgd_probit, lgd_conc, lgd_link, sector,
                                           out_sector_loss, out_sector_ndef, out_cust_loss,
                                           out_cust_ndef, t0, t1)
                loss += li
                nd += 1
        out_loss[p] = loss
        out_ndef[p] = nd


@kernel(nogil=True)
def customer_losses_of_paths(
    method,  # int, a DefaultMethod code
    states,  # (m, 2) uint64, default stream of the chosen paths (any paths, any order)
    lgd_states,  # (m, 2) uint64, LGD stream
    chol, z_shift, y_shift, dof,  # as in the kernels above
    group, group_start, group_perm,  # (n,), (G + 1,), (n,) int64
    group_factor, group_loading, group_idio, group_threshold,  # (G,)
    factor, loading, idio, threshold,  # (n,)
    exposure, lgd_mean, lgd_probit, lgd_conc, lgd_link, sector, n_sectors,
    out_loss,  # (m,) loss of each path
    out_cust_loss,  # (m, n) int64: loss of each customer on each path, in cents
    out_logw,  # (m,) log likelihood ratio of each path
):
    """Run one of the default kernels path by path, keeping each path's per-customer losses.

    For the second pass of the tail attribution (:mod:`portsim.engine.attribution`): row j of
    ``out_cust_loss`` receives what the kernel adds to its per-customer sums on path j alone,
    so a path's draws and losses are those of the first pass.
    """
    m = states.shape[0]
    n = exposure.shape[0]
    ndef = np.zeros(1, dtype=np.int64)
    sec_loss = np.zeros((1, n_sectors))
    sec_ndef = np.zeros((1, n_sectors), dtype=np.int64)
    cust_ndef = np.zeros(n, dtype=np.int64)
    for j in range(m):
        st = states[j : j + 1]
        lst = lgd_states[j : j + 1]
        if method == DefaultMethod.GROUPED:
            default_losses_grouped(
                st, lst, chol, z_shift, y_shift, dof, group, group_factor, group_loading,
                group_idio, group_threshold, factor, exposure, lgd_mean, lgd_probit,
                lgd_conc, lgd_link, sector, out_loss[j : j + 1], ndef, sec_loss, sec_ndef,
                out_cust_loss[j], cust_ndef, out_logw[j : j + 1],
            )
        elif method == DefaultMethod.SKIP:
            default_losses_skip(
                st, lst, chol, z_shift, y_shift, dof, group_start, group_perm, group_factor,
                group_loading, group_idio, group_threshold, factor, exposure, lgd_mean,
                lgd_probit, lgd_conc, lgd_link, sector, out_loss[j : j + 1], ndef, sec_loss,
                sec_ndef, out_cust_loss[j], cust_ndef, out_logw[j : j + 1],
            )
        else:
            default_losses_per_customer(
                st, lst, chol, z_shift, y_shift, dof, factor, loading, idio, threshold,
                exposure, lgd_mean, lgd_probit, lgd_conc, lgd_link, sector,
                out_loss[j : j + 1], ndef, sec_loss, sec_ndef, out_cust_loss[j], cust_ndef,
                out_logw[j : j + 1],
            )
