"""Tail attribution: Euler risk contributions to ES and VaR, and concentration figures.

Contributions are computed in a second pass that simulates again only the paths that carry
weight in the tail, from their own seeds (every path's draws depend on the seed and its index
alone, :mod:`portsim.kernels.rng`), reading each path's per-customer losses. Nothing of size
paths × customers is stored: the selected paths are simulated in batches and only per-customer
sums are kept.

Estimators (path p, loss L_p, likelihood ratio r_p — 1 without importance sampling — and
x_pj the loss of customer, sector or country j on the path):

ES contributions (Acerbi & Tasche 2002; Tasche 1999)
    ES_j = Σ_p a_p·r_p·x_pj / (n(1 − q)), with a_p = 1 for L_p > VaR, and the paths at
    L_p = VaR sharing the remainder (same fraction a for each) so that Σ_p a_p·r_p = n(1 − q):
    the Acerbi–Tasche weights, under which Σ_j ES_j is the ES of
    :func:`portsim.results.estimators.weighted_expected_shortfall`.
VaR contributions (kernel estimator of E[L_j | L = VaR]; Tasche 2009)
    VaR_j = VaR · Σ_p k_p·r_p·x_pj / Σ_p k_p·r_p·L_p, k_p = exp(−½((L_p − VaR)/h)²) for
    |L_p − VaR| ≤ 4h (Gaussian kernel, cut at 4h where it is below 3.4e-4), so that the
    contributions sum to the VaR exactly. Bandwidth h = 1.06·σ_L·n^(−1/5) (Silverman's
    normal-reference rule, σ_L the weighted loss standard deviation), unless given.
Standard errors (delta method; influence functions)
    ES_j: the estimator is a mean over paths of φ_p = r_p·(x_pj − VaR_j)·1{L_p > VaR}/(1 − q)
    plus terms that do not vary to first order — the −VaR_j centring is the quantile's own
    error (the derivative of E[L_j 1{L > v}] in v is −VaR_j·f(v)); se² = Var(φ)/n.
    VaR_j: that of a ratio of means, se = VaR·√(Σ_p (k_p r_p)²(x_pj − ρ_j L_p)²) / Σ_p k_p r_p
    L_p with ρ_j = VaR_j / VaR; the kernel's smoothing bias and the error of the VaR itself
    (common to every j) are left out.

Rounding: the kernels add up each customer's loss on a path in integer cents
(``round(100·loss)``), so the contributions of a path are exact integers and Σ_j x_pj is the
path's loss to within half a cent per default. The ES contributions therefore add up, to
float rounding, to the ES of the cent-rounded losses, which differs from the reported ES by
at most 0.5 cent × the (weighted) mean number of defaults on the tail paths: "to the cent"
(``es_sum`` and ``es`` are both kept). VaR contributions sum to the VaR by construction.

Concentration (:func:`concentration`): top-N shares of exposure, the Herfindahl index and the
granularity adjustment of Gordy & Lütkebohmert (2013) in its simplified form.

References
----------
Tasche, "Risk contributions and performance measurement", TU München (1999). Acerbi & Tasche,
"On the coherence of expected shortfall", J. Banking & Finance 26(7) (2002). Tasche, "Capital
allocation for credit portfolios with kernel estimators", Quantitative Finance 9(5) (2009).
Gordy & Lütkebohmert, "Granularity adjustment for regulatory capital assessment",
International Journal of Central Banking 9(3), 33–71 (2013).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse, special

from portsim.engine import calls
from portsim.engine.chunk import run_chunk
from portsim.inputs.model import ModelInputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import BLOCK_PATHS, block_words
from portsim.results.estimators import weighted_value_at_risk

__all__ = [
    "BATCH_CELLS",
    "GA_DELTA",
    "ContributionTable",
    "Contributions",
    "concentration",
    "concentration_summary",
    "contributions_summary",
    "contributions_table",
    "customer_losses",
    "states_for_paths",
    "tail_contributions",
]

BATCH_CELLS = 2**22
"""Path × customer cells of a batch of the second pass (24 bytes each)."""

KERNEL_CUT = 4.0
"""The Gaussian kernel is cut at this many bandwidths from the VaR."""

GA_DELTA = 4.83
"""δ of the simplified granularity adjustment at q = 0.999 with the CreditRisk+ factor
variance ξ = 0.25 (Gordy & Lütkebohmert 2013)."""

TOP_N = (1, 5, 10, 20, 50)
"""Top-N exposure shares reported."""


# ------------------------------------------------------------------------- second pass


def states_for_paths(
    seed: int, paths: np.ndarray, streams: Sequence[Stream] = (Stream.DEFAULT, Stream.LGD)
) -> np.ndarray:
    """xoroshiro128++ states of arbitrary paths, one ``SeedSequence`` per 256-path block.

    Equal to ``portsim.kernels.rng.path_states(seed, p, p + 1, stream)`` for every path p
    and stream, but each block's words are generated once for all its selected paths and streams.

    Parameters
    ----------
    seed : int
        The run's seed.
    paths : ndarray, shape (m,)
        Global path indices, any order, repeats allowed.
    streams : sequence of Stream
        The streams wanted.

    Returns
    -------
    ndarray, shape (len(streams), m, 2), dtype uint64
    """
    paths = np.asarray(paths, dtype=np.int64)
    out = np.empty((len(streams), paths.size, 2), dtype=np.uint64)
    blocks = paths // BLOCK_PATHS
    for b in np.unique(blocks):
        words = block_words(seed, int(b))
        sel = np.flatnonzero(blocks == b)
        for k, stream in enumerate(streams):
            out[k, sel] = words[paths[sel] - b * BLOCK_PATHS, stream]
    return out


def customer_losses(
    inputs: ModelInputs, seed: int, paths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate the given paths again, one at a time, and return their per-customer losses.

    Parameters
    ----------
    inputs : ModelInputs
        The run's inputs (with its importance-sampling shift, if any).
    seed : int
        The run's seed.
    paths : ndarray, shape (m,)
        Global path indices.

    Returns
    -------
    cents, loss, log_weight : ndarray
        As :func:`portsim.engine.calls.customer_losses_of_paths` gives them: shapes
        (m, n_customers) int64 cents, (m,) book currency as in the first pass, and (m,).
    """
    paths = np.asarray(paths, dtype=np.int64)
    if inputs.timeline is not None:
        m, n = paths.size, inputs.n_customers
        cents = np.zeros((m, n), dtype=np.int64)
        loss = np.zeros(m)
        logw = np.zeros(m)
        x = inputs._replace(insurance=None)  # the gross loss does not need the policies
        for j, p in enumerate(paths):
            r = run_chunk(x, seed, int(p), int(p) + 1)
            cents[j] = r.customer_loss
            loss[j] = r.loss[0]
            logw[j] = 0.0 if r.log_weight is None else r.log_weight[0]
        return cents, loss, logw
    st = states_for_paths(seed, paths)
    return calls.customer_losses_of_paths(inputs, np.ascontiguousarray(st[0]),
                                          np.ascontiguousarray(st[1]))


# ------------------------------------------------------------------------ contributions


@dataclass
class ContributionTable:
    """Contributions of the members of one dimension (customer, sector, country), in book
    currency; arrays of shape (n_members,)."""

    names: tuple[str, ...]
    es: np.ndarray
    es_se: np.ndarray
    var: np.ndarray
    var_se: np.ndarray


@dataclass
class Contributions:
    """Contributions at one level ``q``.

    ``es`` and ``var`` are the portfolio figures of the first pass; ``es_sum`` the sum of the
    ES contributions (equal to ``es`` to within half a cent per tail default, see the module
    docstring); ``bandwidth`` the kernel bandwidth h (book currency); ``n_tail_paths`` the
    paths with L > VaR or at the VaR, ``n_window_paths`` those within the kernel window,
    ``n_resimulated`` the paths simulated again (both sets, zero losses skipped).
    """

    level: float
    var: float
    es: float
    es_se: float
    es_sum: float
    bandwidth: float
    n_tail_paths: int
    n_window_paths: int
    n_resimulated: int
    by: dict[str, ContributionTable] = field(default_factory=dict)


def _bandwidth(loss: np.ndarray, r: np.ndarray) -> float:
    """Silverman's normal-reference rule 1.06·σ·n^(−1/5) with the weighted σ."""
    n = loss.size
    mean = float((r * loss).mean())
    sd = math.sqrt(max(float((r * (loss - mean) ** 2).mean()), 0.0))
    return 1.06 * sd * n ** (-0.2)


def _tail_weights(loss: np.ndarray, r: np.ndarray, level: float,
                  h: float | None) -> tuple[float, np.ndarray, np.ndarray, float]:
    """VaR, ES weights a_p·r_p and kernel weights k_p·r_p (both (n,)), and the bandwidth."""
    n = loss.size
    var = weighted_value_at_risk(loss, r, level)[0]
    above = loss > var
    at = loss == var
    rest = n * (1.0 - level) - float(r[above].sum())
    w_at = float(r[at].sum())
    frac = min(max(rest / w_at, 0.0), 1.0) if w_at > 0 else 0.0
    e = np.where(above, r, np.where(at, frac * r, 0.0))
    if h is None:
        h = _bandwidth(loss, r)
    if var > 0.0 and h > 0.0:
        z = (loss - var) / h
        k = np.where(np.abs(z) <= KERNEL_CUT, r * np.exp(-0.5 * z * z), 0.0)
    else:  # a zero VaR has zero contributions; a zero bandwidth keeps the VaR atom only
        k = np.where(at, r, 0.0) if var > 0.0 else np.zeros(n)
    return var, e, k, float(h)


class _Acc:
    """Per-member sums over the selected paths, for every level, of one dimension."""

    def __init__(self, n_levels: int, size: int) -> None:
        self.lin = np.zeros((4, n_levels, size))  # Σ e·x, Σ e²·x, Σ k·x, Σ k²·L̃·x
        self.sq = np.zeros((2, n_levels, size))  # Σ e²·x², Σ k²·x²

    def add(self, x: sparse.csr_matrix, e: np.ndarray, k: np.ndarray, lt: np.ndarray) -> None:
        """x (B, size) losses in cents (sparse: defaults only); e, k (L, B) path weights per
        level; lt (B,) cent-rounded path losses."""
        n_levels = e.shape[0]
        lin_w = np.concatenate([e, e * e, k, k * k * lt])  # (4L, B)
        sq_w = np.concatenate([e * e, k * k])  # (2L, B)
        self.lin += np.asarray(x.T @ lin_w.T).T.reshape(4, n_levels, -1)
        self.sq += np.asarray(x.multiply(x).T @ sq_w.T).T.reshape(2, n_levels, -1)


def _members(inputs: ModelInputs, labels: Mapping[str, np.ndarray] | None,
             ) -> dict[str, tuple[tuple[str, ...], np.ndarray | None]]:
    """Dimension → (member names, member index of each customer; None: the customer)."""
    dims: dict[str, tuple[tuple[str, ...], np.ndarray | None]] = {
        "customer": (tuple(inputs.customer_ids), None),
        "sector": (tuple(inputs.sector_names), np.asarray(inputs.sector, dtype=np.int64)),
    }
    for name, lab in (labels or {}).items():
        names, idx = np.unique(np.asarray(lab).astype(str), return_inverse=True)
        dims[name] = (tuple(str(v) for v in names), idx.reshape(-1).astype(np.int64))
    return dims


def tail_contributions(
    inputs: ModelInputs,
    seed: int,
    loss: np.ndarray,
    levels: Sequence[float],
    *,
    log_weight: np.ndarray | None = None,
    labels: Mapping[str, np.ndarray] | None = None,
    bandwidth: float | None = None,
    batch_cells: int = BATCH_CELLS,
) -> list[Contributions]:
    """Euler contributions to ES and VaR at each level, by customer, sector and ``labels``.

    Parameters
    ----------
    inputs : ModelInputs
        The run's inputs (the same as the first pass, shift included).
    seed : int
        The run's seed.
    loss : ndarray, shape (n_paths,)
        The first pass's path losses (book currency).
    levels : sequence of float
        Levels q in (0, 1).
    log_weight : ndarray, shape (n_paths,), optional
        The first pass's log likelihood ratios (importance sampling); None: plain.
    labels : mapping str → ndarray of shape (n_customers,), optional
        Further dimensions, e.g. ``{"country": book.country}``.
    bandwidth : float, optional
        Kernel bandwidth of the VaR contributions (book currency); default Silverman's rule.
    batch_cells : int
        Paths are simulated again in batches of about ``batch_cells / n_customers`` paths
        (memory 8 bytes × 3 × ``batch_cells``).

    Returns
    -------
    list of Contributions, one per level (see the module docstring for the estimators).

    Raises
    ------
    RuntimeError
        When a path simulated again does not reproduce its first-pass loss (other inputs or
        seed than the run's).
    """
    loss = np.asarray(loss, dtype=float)
    n = loss.size
    r = np.ones(n) if log_weight is None else np.exp(np.asarray(log_weight, dtype=float))
    dims = _members(inputs, labels)
    per_level = [_tail_weights(loss, r, q, bandwidth) for q in levels]
    need = np.zeros(n, dtype=bool)
    for _, e, k, _ in per_level:
        need |= (e > 0) | (k > 0)
    need &= loss > 0  # a zero-loss path has zero losses for every customer
    sel = np.flatnonzero(need)
    n_lev = len(levels)
    accs = {d: _Acc(n_lev, len(names)) for d, (names, _) in dims.items()}
    kl = np.zeros((n_lev, 2))  # Σ k·L̃, Σ (k·L̃)² per level (cents)
    el = np.zeros(n_lev)  # Σ e·L̃ per level (cents)
    e_lev = np.stack([w[1] for w in per_level])  # (L, n)
    k_lev = np.stack([w[2] for w in per_level])
    step = max(1, batch_cells // max(inputs.n_customers, 1))
    for a in range(0, sel.size, step):
        idx = sel[a : a + step]
        cents, lo, _ = customer_losses(inputs, seed, idx)
        bad = np.abs(lo - loss[idx]) > 1e-9 * np.maximum(np.abs(loss[idx]), 1.0)
        if np.any(bad):
            p = int(idx[np.argmax(bad)])
            raise RuntimeError(f"path {p} simulated again gave loss {lo[np.argmax(bad)]!r}, "
                               f"not {loss[p]!r}: the inputs or the seed differ from the run's")
        flat = np.flatnonzero(cents.ravel() != 0)  # the defaults: few of paths × customers
        rows, cols = np.divmod(flat, cents.shape[1])
        vals = cents.ravel()[flat].astype(float)
        lt = np.bincount(rows, weights=vals, minlength=idx.size)
        e, k = e_lev[:, idx], k_lev[:, idx]
        kl[:, 0] += k @ lt
        kl[:, 1] += (k * k) @ (lt * lt)
        el += e @ lt
        for d, (names, member) in dims.items():
            col = cols if member is None else member[cols]  # duplicates are summed
            x = sparse.csr_matrix((vals, (rows, col)), shape=(idx.size, len(names)))
            accs[d].add(x, e, k, lt)
    out = []
    for li, q in enumerate(levels):
        var, e, k, h = per_level[li]
        tail = 1.0 - q
        es_total = var + float((r * np.maximum(loss - var, 0.0)).sum()) / (n * tail)
        h_es = r * np.maximum(loss - var, 0.0) / tail
        es_se = float(h_es.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        s_e, s_e2 = float(e.sum()), float((e * e).sum())
        s_kl, s_kl2 = kl[li]
        res = Contributions(
            level=float(q), var=float(var), es=es_total, es_se=es_se,
            es_sum=el[li] / (n * tail) / 100.0, bandwidth=h,
            n_tail_paths=int(np.count_nonzero(e)), n_window_paths=int(np.count_nonzero(k)),
            n_resimulated=int(np.count_nonzero(need & ((e > 0) | (k > 0)))),
        )
        for d, (names, _) in dims.items():
            e1, e2x, k1, k2l = accs[d].lin[:, li]
            e2, k2 = accs[d].sq[:, li]
            rho = k1 / s_kl if s_kl > 0 else np.zeros(len(names))
            var_j = var * rho
            v_cents = 100.0 * var_j
            phi2 = e2 - 2.0 * v_cents * e2x + v_cents**2 * s_e2
            phi1 = e1 - v_cents * s_e
            es_var = (phi2 / n - (phi1 / n) ** 2) / n / tail**2
            k_res = k2 - 2.0 * rho * k2l + rho**2 * s_kl2
            var_se = (var * np.sqrt(np.maximum(k_res, 0.0)) / s_kl if s_kl > 0
                      else np.zeros(len(names)))
            res.by[d] = ContributionTable(
                names=names, es=e1 / (n * tail) / 100.0,
                es_se=np.sqrt(np.maximum(es_var, 0.0)) / 100.0, var=var_j, var_se=var_se,
            )
        out.append(res)
    return out


# ------------------------------------------------------------------------ concentration


def concentration(
    exposure: np.ndarray,
    p_default: np.ndarray,
    lgd_mean: np.ndarray,
    lgd_sd: np.ndarray,
    asset_correlation: np.ndarray,
    *,
    top: Sequence[int] = TOP_N,
    level: float = 0.999,
    delta: float = GA_DELTA,
) -> dict[str, Any]:
    """Name-concentration figures of a book.

    Parameters
    ----------
    exposure : ndarray, shape (n,)
        Exposure at default, book currency.
    p_default : ndarray, shape (n,)
        PD over the horizon, fraction.
    lgd_mean, lgd_sd : ndarray, shape (n,)
        Mean and standard deviation of the LGD (sd 0: fixed LGD).
    asset_correlation : ndarray, shape (n,)
        R.
    top : sequence of int
        N of the top-N exposure shares.
    level : float
        q of the IRB capital K_i in the adjustment (0.999, for which ``delta`` is calibrated).
    delta : float
        δ of the adjustment.

    Returns
    -------
    dict
        ``total_exposure``; ``top_share`` {N: share of the N largest exposures};
        ``herfindahl`` Σ s_i² (s_i = e_i / Σ e) and ``effective_number`` 1/Σ s_i²;
        ``granularity_adjustment``: ``fraction`` (of total exposure) and ``value`` (book
        currency) of the simplified adjustment of Gordy & Lütkebohmert (2013),

            GA = 1/(2K*) · Σ_i s_i² C_i [δ(K_i + R_i) − K_i],   K* = Σ_i s_i K_i,

        with R_i = LGD_i·PD_i, K_i = LGD_i·[Φ((Φ⁻¹(PD_i) + √R_i·Φ⁻¹(q))/√(1 − R_i)) − PD_i]
        (IRB capital, no maturity adjustment: receivables are short) and
        C_i = (LGD_i² + V_i)/LGD_i with V_i the LGD variance of the model (lgd_sd², 0 for a
        fixed LGD; the regulatory calibration assumes 0.25·LGD(1 − LGD)). It is the
        one-factor, first-order add-on to the large-portfolio VaR for a finite book; a
        multi-factor book is treated as if it had a single factor.
    """
    e = np.asarray(exposure, dtype=float)
    total = float(e.sum())
    s = e / total if total > 0 else np.zeros_like(e)
    srt = np.sort(s)[::-1]
    top_share = {str(k): float(srt[:k].sum()) for k in top}
    hhi = float((s * s).sum())
    pd_ = np.clip(np.asarray(p_default, dtype=float), 0.0, 1.0)
    lgd = np.asarray(lgd_mean, dtype=float)
    v = np.asarray(lgd_sd, dtype=float) ** 2
    rr = np.asarray(asset_correlation, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = (special.ndtri(pd_) + np.sqrt(rr) * special.ndtri(level)) / np.sqrt(1.0 - rr)
        cond = np.where(pd_ <= 0.0, 0.0, np.where(pd_ >= 1.0, 1.0, special.ndtr(arg)))
        k_i = lgd * (cond - pd_)
        r_i = lgd * pd_
        c_i = np.where(lgd > 0, (lgd**2 + v) / lgd, 0.0)
    k_star = float((s * k_i).sum())
    ga = (float((s * s * c_i * (delta * (k_i + r_i) - k_i)).sum()) / (2.0 * k_star)
          if k_star > 0 else 0.0)
    return {
        "total_exposure": total,
        "top_share": top_share,
        "herfindahl": hhi,
        "effective_number": 1.0 / hhi if hhi > 0 else math.nan,
        "granularity_adjustment": {
            "fraction": ga, "value": ga * total, "k_star": k_star, "delta": delta,
            "level": level, "method": "Gordy & Lütkebohmert (2013), simplified formula",
        },
    }


# ------------------------------------------------------------------ Dataset and outputs


def _dims_of(ds: xr.Dataset) -> list[str]:
    return [d for d in ("customer", "sector", "country")
            if f"{'' if d == 'customer' else d + '_'}es_contribution" in ds]


def _rows(ds: xr.Dataset, d: str, li: int) -> pd.DataFrame:
    pre = "" if d == "customer" else f"{d}_"
    es = ds[f"{pre}es_contribution"].values[li]
    tot = float(ds["tail_es"].values[li])
    frame = pd.DataFrame({
        "key": [str(v) for v in ds[d].values],
        "es_contribution": es,
        "es_contribution_se": ds[f"{pre}es_contribution_se"].values[li],
        "es_share": es / tot if tot > 0 else np.nan,
        "var_contribution": ds[f"{pre}var_contribution"].values[li],
        "var_contribution_se": ds[f"{pre}var_contribution_se"].values[li],
    })
    if d == "customer":
        frame.insert(1, "exposure", ds["exposure"].values)
    elif f"customer_{d}" in ds:  # customer_sector, customer_country
        ex = pd.Series(ds["exposure"].values).groupby(ds[f"customer_{d}"].values).sum()
        frame.insert(1, "exposure", ex.reindex(frame["key"]).to_numpy())
    return frame


def contributions_table(ds: xr.Dataset) -> pd.DataFrame:
    """Long table of every contribution: level, dimension, key, exposure, ES and VaR
    contributions with standard errors, share of ES (for ``contributions.csv``)."""
    parts = []
    for li, q in enumerate(ds["level"].values):
        for d in _dims_of(ds):
            f = _rows(ds, d, li)
            f.insert(0, "dimension", d)
            f.insert(0, "level", float(q))
            parts.append(f)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def contributions_summary(ds: xr.Dataset, top: int = 20) -> dict[str, Any]:
    """JSON-ready contributions: per level the totals, the ``top`` customers by ES
    contribution, and every sector and country."""
    out: dict[str, Any] = {
        "method": "Euler allocation: ES with Acerbi-Tasche tail weights, VaR by a Gaussian "
                  "kernel around the VaR (bandwidth 1.06 sd n^-1/5) rescaled to sum to the "
                  "VaR; standard errors by the delta method (see portsim.engine.attribution)",
        "rounding": "ES contributions sum to the ES of cent-rounded customer losses: within "
                    "0.5 cent per default of the reported ES",
        "levels": {},
    }
    for li, q in enumerate(ds["level"].values):
        entry: dict[str, Any] = {
            "var": float(ds["tail_var"].values[li]),
            "es": float(ds["tail_es"].values[li]),
            "es_sum_of_contributions": float(ds["es_contribution_sum"].values[li]),
            "var_bandwidth": float(ds["var_contribution_bandwidth"].values[li]),
            "n_tail_paths": int(ds["n_tail_paths"].values[li]),
        }
        for d in _dims_of(ds):
            f = _rows(ds, d, li)
            if d == "customer":
                f = f.nlargest(top, "es_contribution")
                entry["top_customers"] = f.rename(columns={"key": "customer_id"}).to_dict(
                    orient="records")
            else:
                entry[f"by_{d}"] = f.rename(columns={"key": d}).to_dict(orient="records")
        out["levels"][f"{float(q):g}"] = entry
    return out


def concentration_summary(ds: xr.Dataset) -> dict[str, Any]:
    """JSON-ready concentration figures from the Dataset (see :func:`concentration`)."""
    if "exposure_herfindahl" not in ds:
        return {}
    hhi = float(ds["exposure_herfindahl"])
    ga = ds["granularity_adjustment"]
    return {
        "herfindahl": hhi,
        "effective_number": 1.0 / hhi if hhi > 0 else None,
        "top_share": {str(int(k)): float(v) for k, v in
                      zip(ds["top_n"].values, ds["top_exposure_share"].values, strict=True)},
        "granularity_adjustment": {
            "value": float(ga), "fraction_of_exposure": float(ga.attrs["fraction_of_exposure"]),
            "delta": float(ga.attrs["delta"]), "method": ga.attrs["long_name"],
        },
    }
