"""Validation of PD models and of alert levels: pure functions of outcomes and scores.

Discrimination: AUC with its DeLong variance (DeLong, DeLong & Clarke-Pearson 1988, in the
midrank form of Sun & Xu 2014), Gini = 2·AUC − 1, the Kolmogorov–Smirnov distance with a
seeded stratified bootstrap band. Calibration: the Brier score with the normal interval
of a mean of squared errors, the per-grade Jeffreys test of the ECB's instructions for IRB
validation (with the one-sided binomial test beside it), Hosmer–Lemeshow with g − 2 degrees of
freedom. Stability: the population stability index (< 0.1 stable, > 0.25 shifted). Signals:
per alert level, the default rate over the next 12 months and, taking "this level or worse"
as the signal, hit rate, false-alarm rate, noise-to-signal ratio (Kaminsky, Lizondo &
Reinhart 1998) and lead time.

Outcomes ``defaulted`` are booleans (default within 12 months after the score date); ``pd``
are probabilities in [0, 1] (any score where only the order matters: AUC, KS). The
intervals treat the observations as independent (as DeLong's does); rows of one customer at
successive dates are not, so in a backtest panel they are somewhat too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "KS_REPLICATES",
    "AucResult",
    "HosmerLemeshow",
    "Interval",
    "auc_delong",
    "backtest_levels",
    "brier_interval",
    "brier_score",
    "discrimination",
    "hosmer_lemeshow",
    "jeffreys_test",
    "ks_interval",
    "ks_statistic",
    "psi",
    "psi_from_shares",
]

#: Average days per month, for lead times in months.
DAYS_PER_MONTH = 365.25 / 12
#: Bootstrap replicates of the KS interval.
KS_REPLICATES = 1000
#: Bootstrap replicates drawn at once (bounds the memory to a few MB per 1,000 scores).
_BLOCK = 100


@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided confidence interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class AucResult:
    """Area under the ROC curve with its DeLong standard error and normal interval.

    ``gini`` = 2·AUC − 1 and its interval is the AUC's, mapped the same way.
    """

    auc: float
    se: float
    low: float
    high: float

    @property
    def gini(self) -> float:
        """Accuracy ratio 2·AUC − 1."""
        return 2.0 * self.auc - 1.0

    @property
    def gini_interval(self) -> tuple[float, float]:
        """The Gini's interval, (2·low − 1, 2·high − 1)."""
        return 2.0 * self.low - 1.0, 2.0 * self.high - 1.0


@dataclass(frozen=True)
class HosmerLemeshow:
    """Hosmer–Lemeshow statistic, its degrees of freedom (groups − 2) and p-value."""

    statistic: float
    dof: int
    p_value: float


def _outcomes(defaulted: ArrayLike, score: ArrayLike) -> tuple[NDArray[np.bool_],
                                                                NDArray[np.float64]]:
    y = np.asarray(defaulted, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"outcomes {y.shape} and scores {s.shape} must be 1-D of one length")
    if np.isnan(s).any():
        raise ValueError("scores hold NaN: score every observation (or drop it) first")
    return y, s


def _both_classes(y: NDArray[np.bool_]) -> None:
    if y.all() or not y.any():
        raise ValueError("needs defaulted and non-defaulted observations, got "
                         f"{int(y.sum())} of {y.size} defaulted")


def auc_delong(defaulted: ArrayLike, score: ArrayLike, level: float = 0.95) -> AucResult:
    """AUC of ``score`` for ``defaulted`` with the DeLong standard error.

    Parameters
    ----------
    defaulted : array_like of bool, shape (n,)
        Outcome per observation.
    score : array_like of float, shape (n,)
        Higher = riskier (e.g. the PD).
    level : float
        Two-sided confidence level of the normal interval, clipped to [0, 1].

    Returns
    -------
    AucResult
        Ties count one half, as in the Mann–Whitney statistic.
    """
    y, s = _outcomes(defaulted, score)
    _both_classes(y)
    x, z = s[y], s[~y]
    n1, n0 = x.size, z.size
    rank_all = stats.rankdata(np.concatenate([x, z]))
    rank_x, rank_z = stats.rankdata(x), stats.rankdata(z)
    v10 = (rank_all[:n1] - rank_x) / n0  # per defaulter: share of non-defaulters ranked below
    v01 = 1.0 - (rank_all[n1:] - rank_z) / n1  # per non-defaulter: share of defaulters above
    auc = float(v10.mean())
    var = (np.var(v10, ddof=1) / n1 if n1 > 1 else 0.0) + (
        np.var(v01, ddof=1) / n0 if n0 > 1 else 0.0)
    se = float(np.sqrt(var))
    half = float(stats.norm.ppf(0.5 + level / 2.0)) * se
    return AucResult(auc=auc, se=se, low=max(0.0, auc - half), high=min(1.0, auc + half))


def ks_statistic(defaulted: ArrayLike, score: ArrayLike) -> float:
    """Kolmogorov–Smirnov distance: the largest gap between the score distributions of the
    defaulted and the non-defaulted, in [0, 1]."""
    y, s = _outcomes(defaulted, score)
    _both_classes(y)
    grid = np.unique(s)
    cdf_bad = np.searchsorted(np.sort(s[y]), grid, side="right") / y.sum()
    cdf_good = np.searchsorted(np.sort(s[~y]), grid, side="right") / (~y).sum()
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def ks_interval(defaulted: ArrayLike, score: ArrayLike, level: float = 0.95,
                replicates: int = KS_REPLICATES, seed: int = 0) -> Interval:
    """The KS distance with a stratified bootstrap interval ``KS ± c``.

    The KS distance is sup |D| with D = F₀ − F₁ the gap between the score distributions of
    the non-defaulted and the defaulted, and |sup |D̂| − sup |D|| ≤ sup |D̂ − D|. ``c`` is the
    ``level`` quantile of sup |D* − D̂| over bootstrap replicates D* (Bickel & Freedman 1981):
    each replicate draws as many defaulted and as many non-defaulted observations as the
    sample holds, with replacement within each group (the counts per distinct score are
    multinomial with the sample's shares). The interval is conservative: on normal scores
    with known KS (100 to 300 defaulters) it covered the truth in 99 % of samples, where the
    percentile and basic bootstrap intervals of the KS itself covered 71–89 % (the KS, a
    supremum, is biased upwards by about twice what the bootstrap sees).

    Parameters
    ----------
    defaulted : array_like of bool, shape (n,)
    score : array_like of float, shape (n,)
        Higher = riskier.
    level : float
        Two-sided confidence level.
    replicates : int
        Bootstrap replicates.
    seed : int
        Seed of the draws: the interval is the same at every call.

    Returns
    -------
    Interval
        ``estimate`` = :func:`ks_statistic`; ``low``, ``high`` = estimate ∓ c, clipped to
        [0, 1].
    """
    y, s = _outcomes(defaulted, score)
    _both_classes(y)
    if replicates < 1:
        raise ValueError(f"replicates={replicates} must be at least 1")
    grid, where = np.unique(s, return_inverse=True)
    n_bad, n_good = int(y.sum()), int((~y).sum())
    share_bad = np.bincount(where[y], minlength=grid.size) / n_bad
    share_good = np.bincount(where[~y], minlength=grid.size) / n_good
    gap = np.cumsum(share_good) - np.cumsum(share_bad)
    rng = np.random.default_rng(seed)
    deviation = np.empty(replicates)
    for start in range(0, replicates, _BLOCK):
        size = min(_BLOCK, replicates - start)
        cdf_bad = np.cumsum(rng.multinomial(n_bad, share_bad, size=size), axis=1) / n_bad
        cdf_good = np.cumsum(rng.multinomial(n_good, share_good, size=size), axis=1) / n_good
        deviation[start:start + size] = np.max(np.abs(cdf_good - cdf_bad - gap), axis=1)
    c = float(np.quantile(deviation, level))
    ks = ks_statistic(y, s)
    return Interval(estimate=ks, low=max(0.0, ks - c), high=min(1.0, ks + c))


def brier_score(defaulted: ArrayLike, pd_: ArrayLike) -> float:
    """Mean squared difference between PD and outcome (0 best, 0.25 a coin at 50 %)."""
    y, p = _outcomes(defaulted, pd_)
    return float(np.mean((p - y) ** 2))


def brier_interval(defaulted: ArrayLike, pd_: ArrayLike, level: float = 0.95) -> Interval:
    """The Brier score with the normal interval of a mean: ± z · sd / √n of the squared
    errors (p − y)², clipped to [0, 1]."""
    y, p = _outcomes(defaulted, pd_)
    errors = (p - y) ** 2
    brier = float(errors.mean())
    se = float(errors.std(ddof=1) / np.sqrt(errors.size)) if errors.size > 1 else 0.0
    half = float(stats.norm.ppf(0.5 + level / 2.0)) * se
    return Interval(estimate=brier, low=max(0.0, brier - half), high=min(1.0, brier + half))


def discrimination(defaulted: ArrayLike, pd_: ArrayLike,
                   ks_replicates: int = KS_REPLICATES) -> dict[str, float]:
    """AUC, KS and Brier score with their 95 % intervals (:func:`auc_delong`,
    :func:`ks_interval` with ``ks_replicates`` replicates, :func:`brier_interval`) and the
    Gini, as a flat dict (model cards, backtests); ``ks_low`` and ``ks_high`` are NaN when
    ``ks_replicates`` is 0 (the bootstrap takes about 0.1 s per 1,000 distinct scores)."""
    res = auc_delong(defaulted, pd_)
    ks = (ks_interval(defaulted, pd_, replicates=ks_replicates) if ks_replicates > 0 else
          Interval(ks_statistic(defaulted, pd_), np.nan, np.nan))
    brier = brier_interval(defaulted, pd_)
    return {"auc": res.auc, "auc_low": res.low, "auc_high": res.high, "gini": res.gini,
            "gini_low": res.gini_interval[0], "gini_high": res.gini_interval[1],
            "ks": ks.estimate, "ks_low": ks.low, "ks_high": ks.high,
            "brier": brier.estimate, "brier_low": brier.low, "brier_high": brier.high}


def jeffreys_test(grade: ArrayLike, defaulted: ArrayLike, pd_: ArrayLike,
                  alpha: float = 0.05) -> pd.DataFrame:
    """Per grade: the Jeffreys test of the ECB's IRB validation instructions.

    With N observations, D defaults and mean PD p̄ in a grade, the p-value is the
    Beta(D + ½, N − D + ½) CDF at p̄: small when the realised rate is above the PD (the PD is
    too low). The one-sided binomial p-value P(X ≥ D | N, p̄) and the two-sided Jeffreys
    interval of the default rate at level 1 − ``alpha`` stand beside it.

    Returns
    -------
    DataFrame
        Indexed by grade (sorted), columns ``n``, ``defaults``, ``mean_pd``,
        ``default_rate``, ``jeffreys_low``, ``jeffreys_high``, ``p_value``, ``binomial_p``,
        ``rejected`` (``p_value < alpha``).
    """
    y, p = _outcomes(defaulted, pd_)
    frame = pd.DataFrame({"grade": np.asarray(grade), "y": y, "p": p})
    g = frame.groupby("grade", sort=True)
    out = pd.DataFrame({"n": g.size(), "defaults": g["y"].sum().astype(int),
                        "mean_pd": g["p"].mean()})
    out["default_rate"] = out["defaults"] / out["n"]
    a = out["defaults"] + 0.5
    b = out["n"] - out["defaults"] + 0.5
    out["jeffreys_low"] = stats.beta.ppf(alpha / 2.0, a, b)
    out["jeffreys_high"] = stats.beta.ppf(1.0 - alpha / 2.0, a, b)
    out["p_value"] = stats.beta.cdf(out["mean_pd"], a, b)
    out["binomial_p"] = stats.binom.sf(out["defaults"] - 1, out["n"], out["mean_pd"])
    out["rejected"] = out["p_value"] < alpha
    return out


def hosmer_lemeshow(defaulted: ArrayLike, pd_: ArrayLike, groups: int = 10) -> HosmerLemeshow:
    """Hosmer–Lemeshow goodness of fit over ``groups`` groups of (nearly) equal size by PD.

    Statistic Σ_g (O_g − E_g)² / (E_g (1 − E_g / n_g)) with O the defaults, E the sum of PDs
    and n the size of group g; chi-square with g − 2 degrees of freedom.
    """
    y, p = _outcomes(defaulted, pd_)
    if not 3 <= groups <= y.size:
        raise ValueError(f"groups={groups} must be at least 3 and at most the {y.size} "
                         "observations")
    order = np.argsort(p, kind="stable")
    stat = 0.0
    for idx in np.array_split(order, groups):
        observed, expected, n = y[idx].sum(), p[idx].sum(), idx.size
        variance = expected * (1.0 - expected / n)
        if variance <= 0.0:
            raise ValueError("a group's PDs are all 0 or all 1: the statistic is undefined")
        stat += (observed - expected) ** 2 / variance
    dof = groups - 2
    return HosmerLemeshow(statistic=float(stat), dof=dof, p_value=float(stats.chi2.sf(stat, dof)))


def psi_from_shares(expected: ArrayLike, actual: ArrayLike, floor: float = 1e-6) -> float:
    """Population stability index Σ (a − e)·ln(a / e) of two sets of bin shares.

    Shares below ``floor`` are raised to it so that an empty bin gives a large, finite term.
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    a = np.maximum(np.asarray(actual, dtype=np.float64), floor)
    if e.shape != a.shape:
        raise ValueError(f"shares {e.shape} and {a.shape} must have one shape")
    return float(np.sum((a - e) * np.log(a / e)))


def psi(expected: ArrayLike, actual: ArrayLike, bins: int = 10) -> float:
    """Population stability index between the scores of two periods.

    The bins are the deciles (for ``bins=10``) of the ``expected`` (earlier) scores; below
    0.1 the population is stable, above 0.25 it has shifted.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.size == 0 or a.size == 0 or np.isnan(e).any() or np.isnan(a).any():
        raise ValueError("both periods need scores, without NaN")
    edges = np.unique(np.quantile(e, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    share_e = np.bincount(np.searchsorted(edges, e, side="left"), minlength=edges.size + 1)
    share_a = np.bincount(np.searchsorted(edges, a, side="left"), minlength=edges.size + 1)
    return psi_from_shares(share_e / e.size, share_a / a.size)


#: Columns :func:`backtest_levels` needs of its panel.
PANEL_COLUMNS = ("customer", "date", "level", "pd", "defaulted_12m", "default_date")


def backtest_levels(panel: pd.DataFrame,
                    levels: Sequence[str] = ("green", "amber", "red")) -> pd.DataFrame:
    """Backtest of alert levels over a panel of scores and outcomes.

    Parameters
    ----------
    panel : DataFrame
        One row per customer and score date, columns ``customer``, ``date`` (datetime),
        ``level`` (one of ``levels``), ``pd``, ``defaulted_12m`` (bool: default within 12
        months after ``date``) and ``default_date`` (datetime of the customer's default,
        NaT if none).
    levels : sequence of str
        The level names, least severe first.

    Returns
    -------
    DataFrame
        Indexed by level, columns: ``n`` (rows at the level), ``mean_pd``,
        ``default_rate`` (share of those rows defaulting within 12 months); and with "this
        level or worse" as the signal over all rows: ``hit_rate`` A/(A+C) (share of rows
        followed by a default that were signalled), ``false_alarm_rate`` B/(B+D),
        ``noise_to_signal`` (false-alarm rate / hit rate), ``lead_time_months`` (mean, over
        defaulted customers signalled before their default, of the months from the first
        signal to the default; months of 365.25/12 days) and ``signalled_defaulters``.
    """
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise ValueError(f"the panel lacks columns {missing}; it needs {list(PANEL_COLUMNS)}")
    unknown = sorted(set(panel["level"].astype(str)) - set(levels))
    if unknown:
        raise ValueError(f"levels {unknown} are not among {list(levels)}")
    rank = panel["level"].map({name: i for i, name in enumerate(levels)}).to_numpy()
    y = panel["defaulted_12m"].to_numpy(dtype=bool)
    date = pd.to_datetime(panel["date"])
    default_date = pd.to_datetime(panel["default_date"])
    rows = []
    for i, name in enumerate(levels):
        at, signal = rank == i, rank >= i
        hits, misses = np.sum(signal & y), np.sum(~signal & y)
        alarms, quiet = np.sum(signal & ~y), np.sum(~signal & ~y)
        hit_rate = hits / (hits + misses) if hits + misses else np.nan
        false_alarm = alarms / (alarms + quiet) if alarms + quiet else np.nan
        before = signal & default_date.notna().to_numpy() & (date <= default_date).to_numpy()
        first = date[before].groupby(panel["customer"][before]).min()
        lead = (default_date[before].groupby(panel["customer"][before]).first() - first)
        rows.append({
            "level": name, "n": int(at.sum()),
            "mean_pd": float(panel["pd"][at].mean()) if at.any() else np.nan,
            "default_rate": float(y[at].mean()) if at.any() else np.nan,
            "hit_rate": hit_rate, "false_alarm_rate": false_alarm,
            "noise_to_signal": false_alarm / hit_rate if hit_rate else np.nan,
            "lead_time_months": float((lead.dt.days / DAYS_PER_MONTH).mean())
            if len(lead) else np.nan,
            "signalled_defaulters": len(lead),
        })
    return pd.DataFrame(rows).set_index("level")
