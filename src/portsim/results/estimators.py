"""Monte Carlo estimators with their errors: means, VaR and ES (plain and likelihood-ratio
weighted), tail probabilities, and differences of paired samples (two quantities on the same
paths, whose common noise cancels).

Every function takes per-path arrays and returns the estimate with a standard error or a 95 %
confidence interval; nothing here knows a Dataset.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "Z95",
    "LikelihoodRatios",
    "control_variate_mean",
    "effective_sample_size",
    "expected_shortfall",
    "mean_se",
    "paired_es_diff",
    "paired_mean",
    "paired_quantile_diff",
    "paired_var_diff",
    "ratio_of_means",
    "tail_effective_sample_size",
    "tail_probability",
    "value_at_risk",
    "weighted_expected_shortfall",
    "weighted_mean",
    "weighted_quantile",
    "weighted_value_at_risk",
]

#: The two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def value_at_risk(losses: np.ndarray, level: float) -> tuple[float, float, float]:
    """Lower empirical quantile inf{x : F_n(x) ≥ level} and a 95 % distribution-free CI.

    The interval is given by order statistics whose ranks are n·q ± 1.96·√(n·q·(1 − q))
    (normal approximation of the binomial count below the true quantile).

    Returns
    -------
    (var, ci_low, ci_high)
    """
    x = np.asarray(losses, dtype=float)
    n = x.size
    k = max(math.ceil(n * level - 1e-9), 1)  # 1-based rank of the lower quantile
    half = Z95 * math.sqrt(n * level * (1.0 - level))
    lo = min(max(math.floor(n * level - half), 1), n)
    hi = min(max(math.ceil(n * level + half), 1), n)
    # only three order statistics are needed: a partition, not a sort
    part = np.partition(x, sorted({k - 1, lo - 1, hi - 1}))
    return float(part[k - 1]), float(part[lo - 1]), float(part[hi - 1])


def expected_shortfall(losses: np.ndarray, level: float) -> tuple[float, float]:
    """Expected shortfall in the Acerbi–Tasche form and its standard error.

    ES_q = (E[L·1{L > VaR}] + VaR·(P(L ≤ VaR) − q)) / (1 − q), on the empirical distribution:
    correct when the loss has atoms (many paths with the same loss, e.g. zero). The standard
    error is that of the Rockafellar–Uryasev representation
    ES = VaR + E[(L − VaR)⁺]/(1 − q): sd of VaR + (L − VaR)⁺/(1 − q) over √n.

    Returns
    -------
    (es, se)
    """
    x = np.asarray(losses, dtype=float)
    n = x.size
    var, _, _ = value_at_risk(x, level)
    above = x > var
    p_le = 1.0 - above.sum() / n
    es = (x[above].sum() / n + var * (p_le - level)) / (1.0 - level)
    h = var + np.maximum(x - var, 0.0) / (1.0 - level)
    se = float(h.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return float(es), se


# ------------------------------------------------------------------ weighted estimators
# Importance-sampling runs weight path p by its likelihood ratio w_p = exp(log_weight_p)
# (mean 1 under the sampling measure). Means are the unnormalised (1/n)·Σ w_p·x_p, unbiased;
# tail figures are built from the tail side, P̂(L > x) = (1/n)·Σ w_p·1{L_p > x}, which only
# uses the (well-sampled) tail paths (Glasserman 2004, Monte Carlo Methods in Financial
# Engineering, §9.1). With w ≡ 1 every function equals its plain counterpart.


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)²/Σw² of likelihood-ratio weights (n when all equal).

    Over all paths it is dominated by the many non-tail paths (whose weights are spread out
    under a tail-shifted measure); see :func:`tail_effective_sample_size` for the tail.
    """
    w = np.asarray(weights, dtype=float)
    s2 = float((w * w).sum())
    return float(w.sum()) ** 2 / s2 if s2 > 0 else 0.0


def tail_effective_sample_size(
    losses: np.ndarray, weights: np.ndarray, threshold: float
) -> float:
    """Kish's effective sample size of the tail paths, those with a loss above ``threshold``
    (the VaR): (Σ_tail w)²/Σ_tail w², the number of equally weighted paths the tail figures
    (ES, P(L > VaR)) rest on; the number of tail paths when their weights are equal, 0
    when there are none.

    Parameters
    ----------
    losses, weights : ndarray, shape (n_paths,)
        Per-path losses (book currency) and likelihood ratios.
    threshold : float
        The loss a tail path exceeds (book currency).
    """
    x = np.asarray(losses, dtype=float)
    return effective_sample_size(np.asarray(weights, dtype=float)[x > threshold])


def weighted_mean(x: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """(1/n)·Σ w·x and its standard error sd(w·x)/√n, as ``{"value", "se"}``."""
    wx = np.asarray(weights, dtype=float) * np.asarray(x, dtype=float)
    return mean_se(wx)


class LikelihoodRatios(NamedTuple):
    """The per-path likelihood ratios of a run shifted by θ, and what their control
    variates need (see :func:`control_variate_mean`)."""

    w: np.ndarray  # (n_paths,) exp(log_weight)
    proj: np.ndarray  # (n_paths,) θ·Z' = θ·θ/2 − log_weight
    shift2: float  # θ·θ


def control_variate_mean(x: np.ndarray, weights: np.ndarray, proj: np.ndarray,
                         shift2: float) -> dict[str, float]:
    """Likelihood-ratio weighted mean of ``x`` with control variates, and its standard error.

    Under a factor shift θ (Z' ~ N(θ, I) instead of N(0, I)) each path has w = exp(−θ·Z' +
    θ·θ/2) and the projection s = θ·Z' = θ·θ/2 − log w, whose weighted moments under the
    model are known: E[w] = 1 and E[w·s] = 0. The estimate is mean(w·x) − β·mean(h) for
    h = (w − 1, w·s) and β the least-squares coefficients of w·x on h (control variates,
    Glasserman 2004, §4.1): unbiased up to O(1/n) from the fitted β, and far less variable
    than (1/n)·Σ w·x for quantities with a large mean (cash, collections, DSO), whose
    weighted sum carries the spread of the weights. The standard error is the sd of the
    residuals over √n; like every weighted figure it is reliable only when the effective
    sample size is not small (a quadratic control, w·(s² − θ·θ), was measured to add
    variance on the shipped example: its weights are too spread).

    Parameters
    ----------
    x, weights, proj : ndarray, shape (n_paths,)
        Per-path values, likelihood ratios w and projections s = θ·Z'.
    shift2 : float
        θ·θ; with 0 (no shift) the plain weighted mean (1/n)·Σ w·x is returned.

    Returns
    -------
    dict
        ``{"value", "se"}``.
    """
    w = np.asarray(weights, dtype=float)
    y = w * np.asarray(x, dtype=float)
    n = y.size
    if shift2 <= 0.0 or n < 4:
        return mean_se(y)
    h = np.stack([w - 1.0, w * np.asarray(proj, dtype=float)], axis=1)
    beta = np.linalg.lstsq(np.column_stack([np.ones(n), h]), y, rcond=None)[0]
    resid = y - h @ beta[1:]
    return {"value": float(resid.mean()), "se": float(resid.std(ddof=3) / math.sqrt(n))}


def tail_probability(
    losses: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """P(L > threshold) estimated as (1/n)·Σ w·1{L > threshold}, and its standard error.

    Returns
    -------
    (p, se)
        ``se`` = sd(w·1{L > x})/√n; for plain sampling (w ≡ 1) the binomial √(p(1 − p)/n).
    """
    x = np.asarray(losses, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    h = np.where(x > threshold, w, 0.0)
    d = mean_se(h)
    return d["value"], d["se"]


def _tail_sums(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted losses, and per sorted position the sums of w and w² over losses above it."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    s1 = np.concatenate([np.cumsum(ws[::-1])[::-1], [0.0]])
    s2 = np.concatenate([np.cumsum((ws * ws)[::-1])[::-1], [0.0]])
    above = np.searchsorted(xs, xs, side="right")  # first position strictly above
    return xs, s1[above], s2[above]


def weighted_value_at_risk(
    losses: np.ndarray, weights: np.ndarray, level: float
) -> tuple[float, float, float]:
    """VaR from the weighted tail: the smallest loss x with P̂(L > x) ≤ 1 − q, and a 95 % CI.

    The interval inverts the tail estimate: its ends are the smallest losses x with
    P̂(L > x) ≤ 1 − q ± 1.96·se(x), se(x) that of :func:`tail_probability` — for w ≡ 1 the
    order statistics of :func:`value_at_risk` (up to rounding of the ranks).

    Parameters
    ----------
    losses, weights : ndarray, shape (n_paths,)
        Per-path losses (book currency) and likelihood ratios.
    level : float
        q in (0, 1).

    Returns
    -------
    (var, ci_low, ci_high)
    """
    x = np.asarray(losses, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = x.size
    xs, t1, t2 = _tail_sums(x, w)
    tail = t1 / n
    se = np.sqrt(np.maximum(t2 / n - tail**2, 0.0) / n)

    def first(bound: np.ndarray) -> float:
        ok = np.flatnonzero(tail <= bound)
        return float(xs[ok[0]]) if ok.size else float(xs[-1])

    target = 1.0 - level
    return first(np.full(n, target)), first(target + Z95 * se), first(target - Z95 * se)


def weighted_quantile(x: np.ndarray, weights: np.ndarray, level: float) -> float:
    """The ``level`` quantile of weighted per-path values, estimated from the nearer tail.

    For level ≥ 0.5 the :func:`weighted_value_at_risk` (from P̂(X > x)); below, the same on
    −x (from P̂(X < x) = (1/n)·Σ w·1{X < x}), so that a low quantile rests on the paths below
    it rather than on the sum of every other path's weight.
    """
    if level >= 0.5:
        return weighted_value_at_risk(x, weights, level)[0]
    return -weighted_value_at_risk(-np.asarray(x, dtype=float), weights, 1.0 - level)[0]


def weighted_expected_shortfall(
    losses: np.ndarray, weights: np.ndarray, level: float
) -> tuple[float, float]:
    """ES = VaR + (1/(n(1 − q)))·Σ w·(L − VaR)⁺ (Acerbi–Tasche / Rockafellar–Uryasev form,
    VaR from :func:`weighted_value_at_risk`) and its standard error sd(w·(L − VaR)⁺)/(√n(1 − q)).

    The weight of the paths at the VaR is what the atom needs for the tail weights to sum to
    n(1 − q), so atoms at the VaR are handled as in :func:`expected_shortfall`; the VaR error
    does not enter the standard error to first order (the RU form is stationary in it).

    Returns
    -------
    (es, se)
    """
    x = np.asarray(losses, dtype=float)
    w = np.asarray(weights, dtype=float)
    var, _, _ = weighted_value_at_risk(x, w, level)
    h = w * np.maximum(x - var, 0.0) / (1.0 - level)
    d = mean_se(h)
    return var + d["value"], d["se"]



def mean_se(x: np.ndarray) -> dict[str, float]:
    """Mean of ``x`` and its standard error sd/√n (NaN for one value), as ``{"value", "se"}``."""
    n = x.size
    return {
        "value": float(x.mean()),
        "se": float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"),
    }


def ratio_of_means(num: np.ndarray, den: np.ndarray) -> dict[str, float]:
    """Σ num / Σ den over paths with its delta-method standard error,
    √(Σ (num − r·den)² / (n (n − 1))) / mean(den), as ``{"value", "se"}`` (NaN when Σ den
    is 0), e.g. the share of alerts that are true ones."""
    n = num.size
    total = float(den.sum())
    if total == 0.0:
        return {"value": float("nan"), "se": float("nan")}
    r = float(num.sum()) / total
    resid = num - r * den
    se = math.sqrt(float((resid**2).sum()) / (n * (n - 1))) / (total / n) if n > 1 else math.nan
    return {"value": r, "se": se}


def paired_var_diff(a: np.ndarray, b: np.ndarray, level: float,
                    weights: np.ndarray | None = None) -> dict[str, float]:
    """VaR_level(a) − VaR_level(b) for paired samples, with its standard error.

    Each VaR's standard error is read off its order-statistic interval (≈ √(q(1−q)/n)/f);
    the difference's is √(se_a² + se_b² − 2ρ·se_a·se_b) with ρ the correlation of the
    indicators 1{a ≤ VaR_a} and 1{b ≤ VaR_b} (the influence functions of the quantiles).
    With likelihood-ratio ``weights`` (importance sampling) the VaRs and their intervals are
    :func:`weighted_value_at_risk`'s and ρ is the correlation of the weighted exceedance
    indicators w·1{a > VaR_a} and w·1{b > VaR_b}, the terms of the tail estimates.
    """
    if weights is None:
        va, lo_a, hi_a = value_at_risk(a, level)
        vb, lo_b, hi_b = value_at_risk(b, level)
        ia = (a <= va).astype(float)
        ib = (b <= vb).astype(float)
    else:
        va, lo_a, hi_a = weighted_value_at_risk(a, weights, level)
        vb, lo_b, hi_b = weighted_value_at_risk(b, weights, level)
        ia = np.where(a > va, weights, 0.0)
        ib = np.where(b > vb, weights, 0.0)
    se_a = (hi_a - lo_a) / (2 * Z95)
    se_b = (hi_b - lo_b) / (2 * Z95)
    sa, sb = ia.std(), ib.std()
    rho = float(((ia - ia.mean()) * (ib - ib.mean())).mean() / (sa * sb)) if sa * sb > 0 else 0.0
    var = se_a**2 + se_b**2 - 2.0 * rho * se_a * se_b
    return {"value": va - vb, "se": math.sqrt(max(var, 0.0))}


def paired_es_diff(a: np.ndarray, b: np.ndarray, level: float,
                   weights: np.ndarray | None = None) -> dict[str, float]:
    """ES_level(a) − ES_level(b) for paired samples, with its standard error.

    The standard error is that of the mean of the paired influence functions of the
    Rockafellar–Uryasev form, h(x) = VaR + (x − VaR)⁺/(1 − q): sd of h(a_i) − h(b_i) over √n
    (the same paths carry both, so their common noise cancels). With likelihood-ratio
    ``weights`` the ES are :func:`weighted_expected_shortfall`'s and the error is that of the
    mean of w·((a − VaR_a)⁺ − (b − VaR_b)⁺)/(1 − q).
    """
    n = a.size
    if weights is not None:
        va = weighted_value_at_risk(a, weights, level)[0]
        vb = weighted_value_at_risk(b, weights, level)[0]
        d = mean_se(weights * (np.maximum(a - va, 0.0) - np.maximum(b - vb, 0.0))
                    / (1.0 - level))
        return {"value": va - vb + d["value"], "se": d["se"]}
    es_a, _ = expected_shortfall(a, level)
    es_b, _ = expected_shortfall(b, level)
    va = value_at_risk(a, level)[0]
    vb = value_at_risk(b, level)[0]
    h = (va + np.maximum(a - va, 0.0) / (1.0 - level)) - (
        vb + np.maximum(b - vb, 0.0) / (1.0 - level))
    se = float(h.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {"value": es_a - es_b, "se": se}




def paired_quantile_diff(a: np.ndarray, b: np.ndarray, level: float) -> dict[str, float]:
    """:func:`paired_var_diff`, exactly 0 ± 0 for identical samples."""
    if np.array_equal(a, b):
        return {"value": 0.0, "se": 0.0}
    return paired_var_diff(a, b, level)


def paired_mean(a: np.ndarray, b: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Mean of ``a`` and of the paired difference ``a − b`` (paths where both are finite)."""
    ok = np.isfinite(a) & np.isfinite(b)
    return mean_se(a[np.isfinite(a)]), mean_se(a[ok] - b[ok])

