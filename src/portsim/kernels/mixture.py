"""numba kernels of CreditRisk+ (CSFB, 1997) by Monte Carlo: gamma sector variables and
Poisson or Bernoulli defaults given them.

On each path the sector variables ``S_k`` are drawn first, ``σ_k²·Gamma(1/σ_k²)`` (mean 1,
variance ``σ_k²``, Marsaglia–Tsang, :func:`portsim.kernels.rng.next_gamma`), then every
customer's intensity ``λ_i = p_i·(w_0 + Σ_k W[s_i, k]·S_k)`` and its defaults, one uniform
``u`` per customer and path from the default stream:

* Poisson counts (CSFB): the customer defaults when ``u < 1 − exp(−λ_i)``, and then as many
  times as a Poisson count conditioned on at least one, drawn from the second stream of the
  path (the LGD stream, which a fixed-LGD model does not use otherwise);
* Bernoulli: the customer defaults once when ``u < min(λ_i, 1)``.

How the two differ: given the sector variables, a customer's expected number of defaults is
``λ_i`` in both (while ``λ_i ≤ 1``), so the expected loss, given the sectors and overall, is
the same and each customer keeps its PD; the conditional variance is ``λ_i`` for the Poisson
count against ``λ_i·(1 − λ_i)`` for one default at most. The Poisson tail is therefore the
heavier, by little when the intensities are small and by more on the paths where large
sector draws make them large — the tail; only there (``λ_i > 1``) does the Bernoulli
variant also lose expected defaults, ``E[(λ_i − 1)⁺]``. The Poisson loss can exceed the
book's total exposure × LGD, the Bernoulli loss cannot. Both draw the same uniforms, so on
one seed a customer defaulting in the Poisson model defaults in the Bernoulli one too
(``1 − e^(−λ) ≤ min(λ, 1)``).

Poisson draws: by inversion from the mode's left for ``λ < POISSON_INVERSION_MAX``; above, by
Hörmann's transformed rejection with squeeze (PTRS), as NumPy does.

References
----------
Credit Suisse First Boston, "CreditRisk+: a credit risk management framework" (1997).
Hörmann, "The transformed rejection method for generating Poisson random variables",
Insurance: Mathematics and Economics 12(1), 39–45 (1993).
"""

from __future__ import annotations

import math

import numpy as np

from portsim.kernels.jit import kernel
from portsim.kernels.rng import next_gamma, next_uniform

__all__ = [
    "POISSON_INVERSION_MAX",
    "mixture_losses",
    "mixture_losses_of_paths",
    "next_poisson_positive",
    "sector_draws",
]

POISSON_INVERSION_MAX = 10.0
"""Intensity from which :func:`next_poisson_positive` draws by PTRS instead of inversion."""


@kernel()
def _poisson_ptrs(lam, s0, s1):
    """Poisson(``lam``) for ``lam ≥ 10`` by PTRS (Hörmann 1993): ``(k, s0, s1)``."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u, s0, s1 = next_uniform(s0, s1)
        v, s0, s1 = next_uniform(s0, s1)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43) if us > 0.0 else -1.0
        if us >= 0.07 and v <= vr:
            return np.int64(k), s0, s1
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if v > 0.0 and (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                        <= -lam + k * loglam - math.lgamma(k + 1.0)):
            return np.int64(k), s0, s1


@kernel()
def next_poisson_positive(lam, s0, s1):
    """Poisson(``lam``) conditioned on at least one event (``lam > 0``): ``(k, s0, s1)``.

    Inversion below :data:`POISSON_INVERSION_MAX`: ``P[N = k | N ≥ 1] = e^(−λ)·λ^k / (k!·(1 −
    e^(−λ)))`` summed from ``k = 1`` until it exceeds one uniform; above, PTRS draws until
    one is positive (a zero has probability ``e^(−λ) ≤ 4.6e-5`` there).
    """
    if lam >= POISSON_INVERSION_MAX:
        while True:
            k, s0, s1 = _poisson_ptrs(lam, s0, s1)
            if k >= 1:
                return k, s0, s1
    v, s0, s1 = next_uniform(s0, s1)
    pk = lam * math.exp(-lam) / -math.expm1(-lam)
    cum = pk
    k = np.int64(1)
    while v >= cum and pk > 0.0:
        k += 1
        pk *= lam / k
        cum += pk
    return k, s0, s1


@kernel()
def sector_draws(shape, scale, s0, s1, out):
    """One path's sector variables ``out[k] = scale[k]·Gamma(shape[k])``: ``(s0, s1)``."""
    for k in range(shape.shape[0]):
        g, s0, s1 = next_gamma(shape[k], s0, s1)
        out[k] = scale[k] * g
    return s0, s1


@kernel(nogil=True)
def mixture_losses(
    states,  # (n_paths, 2) uint64, default stream: sector variables, one uniform per customer
    count_states,  # (n_paths, 2) uint64, the stream of the counts beyond the first default
    shape,  # (K,) 1/σ_k², gamma shape of the sector variables
    scale,  # (K,) σ_k²
    sector_weights,  # (S, K) W[s, k]
    sector_idio,  # (S,) w_0 of the customers of each book sector
    intensity,  # (n,) p_i, default intensity over the horizon
    severity,  # (n,) loss of one default, book currency (exposure × LGD)
    sector,  # (n,) int64 book sector
    poisson,  # bool: Poisson counts (else at most one default)
    out_loss,  # (n_paths,) float64
    out_ndef,  # (n_paths,) int64, defaults (counted with their multiplicity)
    out_sector_loss,  # (n_paths, S) float64
    out_sector_ndef,  # (n_paths, S) int64
    out_cust_loss,  # (n,) int64, loss in cents accumulated over paths
    out_cust_ndef,  # (n,) int64, accumulated over paths
):
    """Defaults and losses of the CreditRisk+ model (see the module docstring).

    A customer is skipped after one uniform when ``u ≥ λ_i`` (then ``u ≥ 1 − e^(−λ_i)`` too),
    so the Poisson model evaluates the exponential only for the few with ``u < λ_i``.
    """
    n_paths = states.shape[0]
    n = intensity.shape[0]
    n_book_sectors = sector_weights.shape[0]
    s_draw = np.empty(shape.shape[0])
    mult = np.empty(n_book_sectors)
    for p in range(n_paths):
        s0, s1 = sector_draws(shape, scale, states[p, 0], states[p, 1], s_draw)
        for s in range(n_book_sectors):
            acc = sector_idio[s]
            for k in range(s_draw.shape[0]):
                acc += sector_weights[s, k] * s_draw[k]
            mult[s] = acc
        t0, t1 = count_states[p, 0], count_states[p, 1]
        loss = 0.0
        nd = 0
        for i in range(n):
            u, s0, s1 = next_uniform(s0, s1)
            lam = intensity[i] * mult[sector[i]]
            if u >= lam:  # no default in either model (u < 1 always)
                continue
            count = np.int64(1)
            if poisson:
                if u >= -math.expm1(-lam):
                    continue
                count, t0, t1 = next_poisson_positive(lam, t0, t1)
            li = count * severity[i]
            out_sector_loss[p, sector[i]] += li
            out_sector_ndef[p, sector[i]] += count
            out_cust_loss[i] += np.int64(li * 100.0 + 0.5)  # cents: exact sums
            out_cust_ndef[i] += count
            loss += li
            nd += count
        out_loss[p] = loss
        out_ndef[p] = nd


@kernel(nogil=True)
def mixture_losses_of_paths(
    states, count_states, shape, scale, sector_weights, sector_idio, intensity, severity,
    sector, poisson,  # as in mixture_losses, for m chosen paths (any paths, any order)
    out_loss,  # (m,) loss of each path
    out_cust_loss,  # (m, n) int64: loss of each customer on each path, in cents
):
    """:func:`mixture_losses` path by path, keeping each path's per-customer losses (the
    second pass of the tail attribution, :mod:`portsim.engine.attribution`)."""
    m = states.shape[0]
    n_book_sectors = sector_weights.shape[0]
    ndef = np.zeros(1, dtype=np.int64)
    sec_loss = np.zeros((1, n_book_sectors))
    sec_ndef = np.zeros((1, n_book_sectors), dtype=np.int64)
    cust_ndef = np.zeros(intensity.shape[0], dtype=np.int64)
    for j in range(m):
        mixture_losses(states[j : j + 1], count_states[j : j + 1], shape, scale,
                       sector_weights, sector_idio, intensity, severity, sector, poisson,
                       out_loss[j : j + 1], ndef, sec_loss, sec_ndef, out_cust_loss[j],
                       cust_ndef)
