"""Alerts: each customer's grade on the master scale, risk index, alert level, the rules that
fired, the features behind the score, and the response its level calls for.

The **risk index** runs from 0 (safest) to 100 (riskiest): the PD's log-odds placed linearly
between those of ``index_pd_floor`` (index 0) and ``index_pd_cap`` (index 100), clipped. Equal
steps of the index are equal ratios of the odds of default, and the index orders customers as
the PD does; hard triggers do not move it (they set the level).

The **level** is the most severe level among the rules that fire (every condition of a rule
must hold; a condition on a missing value does not), else the least severe level.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from portsim.config.locate import did_you_mean
from portsim.config.warn import GradeBand, WarnConfig
from portsim.errors import ConfigError, Problem

__all__ = ["assess", "fired_rules", "grade_of", "risk_index", "top_features"]

_OPS: dict[str, Callable[[NDArray[np.float64], float], NDArray[np.bool_]]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}


def grade_of(pd_: ArrayLike, grades: list[GradeBand]) -> NDArray[np.object_]:
    """Grade name per PD: the first band whose ``max_pd`` is at least the PD.

    Parameters
    ----------
    pd_ : array_like of float, shape (n,)
        PDs in [0, 1].
    grades : list of GradeBand
        The master scale, lowest PD first, the last band ending at 1.

    Returns
    -------
    ndarray of object (str), shape (n,)
    """
    p = np.asarray(pd_, dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("PDs must be in [0, 1] without NaN")
    bounds = np.array([g.max_pd for g in grades])
    names = np.array([g.name for g in grades], dtype=object)
    return names[np.searchsorted(bounds, p, side="left")]


def risk_index(pd_: ArrayLike, floor: float, cap: float) -> NDArray[np.float64]:
    """Risk index 0–100 (higher = riskier) from the PD's log-odds.

    ``100·(logit(pd) − logit(floor)) / (logit(cap) − logit(floor))``, clipped to [0, 100]:
    PD ``floor`` and below score 0, ``cap`` and above 100.

    Returns
    -------
    ndarray of float, shape (n,)
    """
    p = np.asarray(pd_, dtype=np.float64)
    lo, hi = special.logit(floor), special.logit(cap)
    with np.errstate(divide="ignore"):
        value = 100.0 * (special.logit(p) - lo) / (hi - lo)
    return np.clip(value, 0.0, 100.0)


def fired_rules(frame: pd.DataFrame, config: WarnConfig) -> pd.DataFrame:
    """Which rule fires for which customer.

    Parameters
    ----------
    frame : DataFrame
        One row per customer, every column a rule names (``pd``, ``index`` and features).
    config : WarnConfig

    Returns
    -------
    DataFrame of bool, shape (n_customers, n_rules)
        Same index, one column per rule (its name).

    Raises
    ------
    ConfigError
        Every condition naming a column the frame lacks, with the closest column.
    """
    problems = []
    fired = {}
    columns = [str(c) for c in frame.columns]
    for i, rule in enumerate(config.rules):
        hold = np.ones(len(frame), dtype=bool)
        for j, cond in enumerate(rule.conditions):
            if cond.column not in frame.columns:
                problems.append(Problem(
                    "[warn] rules", f"rules.{i}.when.{j}={rule.when[j]!r}",
                    f"names {cond.column!r}, which is neither pd, index nor a feature",
                    did_you_mean(cond.column, columns, "columns")))
                continue
            values = frame[cond.column].to_numpy(dtype=np.float64)
            with np.errstate(invalid="ignore"):
                hold &= _OPS[cond.op](values, cond.value) & ~np.isnan(values)
        fired[rule.name] = hold
    if problems:
        raise ConfigError(problems, title="the alert rules do not fit the features")
    return pd.DataFrame(fired, index=frame.index, columns=[r.name for r in config.rules])


def top_features(contributions: pd.DataFrame, k: int) -> pd.Series:
    """The ``k`` features adding most to each customer's logit, as ``"name (+0.42)"`` text.

    Parameters
    ----------
    contributions : DataFrame, shape (n_customers, n_features)
        Contribution of each feature to the logit (relative to an average customer).
    k : int
        How many to list, largest first.

    Returns
    -------
    Series of str
        Same index; joined by ``", "``.
    """
    values = contributions.to_numpy(dtype=np.float64)
    names = np.asarray(contributions.columns, dtype=object)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    text = [", ".join(f"{names[j]} ({values[r, j]:+.2f})" for j in row)
            for r, row in enumerate(order)]
    return pd.Series(text, index=contributions.index, dtype=object)


def assess(scores: pd.DataFrame, features: pd.DataFrame, config: WarnConfig,
           contributions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The early-warning table: one row per customer.

    Parameters
    ----------
    scores : DataFrame
        Index customer id, columns ``pd`` and ``pd_source`` (as
        :meth:`~portsim.earlywarning.model.PdModel.score` gives).
    features : DataFrame
        Same index, the feature columns the rules name (e.g. ``past_due_60_share``).
    config : WarnConfig
        Master scale, index bounds, levels with their responses and rules.
    contributions : DataFrame, optional
        Same index, each feature's contribution to the logit
        (:meth:`~portsim.earlywarning.model.PdModel.contributions`); rows scored from the
        prior list no features.

    Returns
    -------
    DataFrame
        Same index; columns ``pd``, ``pd_source``, ``grade``, ``index``, ``level``,
        ``rules`` (the rules that fired, ``", "``-joined), ``top_features``, and the level's
        response: ``review_months``, ``credit_limit_multiplier``, ``terms_days`` (NaN:
        unchanged), ``prepayment``, ``approval``.
    """
    out = pd.DataFrame({"pd": scores["pd"].to_numpy(dtype=np.float64),
                        "pd_source": scores["pd_source"].to_numpy()}, index=scores.index)
    out["grade"] = grade_of(out["pd"], config.grades)
    out["index"] = risk_index(out["pd"], config.index_pd_floor, config.index_pd_cap)
    frame = features.reindex(scores.index).drop(columns=["pd", "index"], errors="ignore")
    fired = fired_rules(pd.concat([out[["pd", "index"]], frame], axis=1), config)
    rank = np.zeros(len(out), dtype=np.intp)
    for rule in config.rules:
        rank = np.where(fired[rule.name].to_numpy(), np.maximum(rank, config.severity(rule.level)),
                        rank)
    levels = config.levels
    out["level"] = [levels[r].name for r in rank]
    out["rules"] = [", ".join(fired.columns[row]) for row in fired.to_numpy()]
    if contributions is None or config.top_features == 0:
        out["top_features"] = ""
    else:
        tops = top_features(contributions.reindex(scores.index), config.top_features)
        out["top_features"] = tops.where(out["pd_source"] == "model", "")
    out["review_months"] = [levels[r].review_months for r in rank]
    out["credit_limit_multiplier"] = [levels[r].credit_limit_multiplier for r in rank]
    out["terms_days"] = np.array([levels[r].terms_days for r in rank], dtype=np.float64)
    out["prepayment"] = [levels[r].prepayment for r in rank]
    out["approval"] = [levels[r].approval for r in rank]
    return out
