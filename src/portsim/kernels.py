"""numba kernels: arrays in, preallocated arrays out, one random stream per path.

Each kernel simulates a contiguous range of paths; row ``j`` of ``states`` is the
xoroshiro128++ state of the ``j``-th path of the range (see :mod:`portsim.rng`). The kernels
trust their inputs: :mod:`portsim.scenario` builds and checks them.

Two default kernels give the same distribution with different draws:

* :func:`default_losses_per_customer` draws one normal per customer-path and compares the
  latent variable with the customer's threshold — for books where PDs are all distinct;
* :func:`default_losses_grouped` computes, per path, one conditional default probability per
  group of customers sharing factor, threshold and correlation, then draws one uniform per
  customer-path — for books with PDs by rating grade, where it is several times faster.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from portsim.rng import next_gamma, next_normal, next_uniform
from portsim.special import norm_cdf

__all__ = ["default_losses_grouped", "default_losses_per_customer", "factors", "lgd_draw"]


@nb.njit(cache=True)
def factors(s0, s1, chol, dof, y):
    """Draw the systematic factors of one path into ``y`` and the t-copula scale."""
    k = chol.shape[0]
    z = np.empty(k)
    for a in range(k):
        z[a], s0, s1 = next_normal(s0, s1)
    for a in range(k):
        acc = 0.0
        for b in range(a + 1):
            acc += chol[a, b] * z[b]
        y[a] = acc
    scale = 1.0
    if dof > 0.0:
        w, s0, s1 = next_gamma(0.5 * dof, s0, s1)
        scale = math.sqrt(2.0 * w / dof)
    return scale, s0, s1


@nb.njit(cache=True)
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


@nb.njit(cache=True, nogil=True)
def default_losses_per_customer(
    states,  # (n_paths, 2) uint64, default stream
    lgd_states,  # (n_paths, 2) uint64, LGD stream
    chol,  # (K, K) lower Cholesky factor of the factor correlation
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
):
    """Defaults and losses with one normal per customer-path (see module docstring)."""
    n_paths = states.shape[0]
    n = exposure.shape[0]
    y = np.empty(chol.shape[0])
    for p in range(n_paths):
        s0, s1 = states[p, 0], states[p, 1]
        t0, t1 = lgd_states[p, 0], lgd_states[p, 1]
        scale, s0, s1 = factors(s0, s1, chol, dof, y)
        loss = 0.0
        nd = 0
        for i in range(n):
            eps, s0, s1 = next_normal(s0, s1)
            x = loading[i] * y[factor[i]] + idio[i] * eps
            if x < threshold[i] * scale:
                g, t0, t1 = lgd_draw(
                    lgd_mean[i], lgd_probit[i], lgd_conc[i], lgd_link, y[factor[i]], t0, t1
                )
                li = exposure[i] * g
                loss += li
                nd += 1
                out_sector_loss[p, sector[i]] += li
                out_sector_ndef[p, sector[i]] += 1
                out_cust_loss[i] += np.int64(li * 100.0 + 0.5)  # cents: exact sums
                out_cust_ndef[i] += 1
        out_loss[p] = loss
        out_ndef[p] = nd


@nb.njit(cache=True, nogil=True)
def default_losses_grouped(
    states,  # (n_paths, 2) uint64, default stream
    lgd_states,  # (n_paths, 2) uint64, LGD stream
    chol,  # (K, K)
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
):
    """Defaults and losses with one conditional PD per group and one uniform per customer-path.

    Given the factors Y and the t scale s, customer i defaults with probability
    Φ((c_g·s − √R_g·Y_f) / √(1 − R_g)), independently of the others.
    """
    n_paths = states.shape[0]
    n = exposure.shape[0]
    n_groups = group_factor.shape[0]
    y = np.empty(chol.shape[0])
    pg = np.empty(n_groups)
    for p in range(n_paths):
        s0, s1 = states[p, 0], states[p, 1]
        t0, t1 = lgd_states[p, 0], lgd_states[p, 1]
        scale, s0, s1 = factors(s0, s1, chol, dof, y)
        for g in range(n_groups):
            c = group_threshold[g]
            if c == -np.inf:
                pg[g] = 0.0
            elif c == np.inf:
                pg[g] = 1.0
            else:
                pg[g] = norm_cdf(
                    (c * scale - group_loading[g] * y[group_factor[g]]) / group_idio[g]
                )
        loss = 0.0
        nd = 0
        for i in range(n):
            u, s0, s1 = next_uniform(s0, s1)
            if u < pg[group[i]]:
                gl, t0, t1 = lgd_draw(
                    lgd_mean[i], lgd_probit[i], lgd_conc[i], lgd_link, y[factor[i]], t0, t1
                )
                li = exposure[i] * gl
                loss += li
                nd += 1
                out_sector_loss[p, sector[i]] += li
                out_sector_ndef[p, sector[i]] += 1
                out_cust_loss[i] += np.int64(li * 100.0 + 0.5)  # cents: exact sums
                out_cust_ndef[i] += 1
        out_loss[p] = loss
        out_ndef[p] = nd
