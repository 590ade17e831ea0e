"""Level migration over time: customers per alert level at each score date, and the matrix
of moves between levels from one score date to the next.

Both take a panel of scores, one row per customer and date with its ``level`` (as the
backtest's), and the level names least severe first. The migration matrix pools every pair of
consecutive score dates and counts only the customers scored at both dates of a pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["level_counts", "level_migration"]


def _levels_of(panel: pd.DataFrame, levels: Sequence[str]) -> pd.Categorical:
    unknown = sorted(set(panel["level"].astype(str)) - set(levels))
    if unknown:
        raise ValueError(f"levels {unknown} are not among the level names {list(levels)}")
    return pd.Categorical(panel["level"].astype(str), categories=list(levels))


def level_counts(panel: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """Customers per level at each score date.

    Parameters
    ----------
    panel : DataFrame
        ``customer``, ``date`` and ``level`` per scored row.
    levels : sequence of str
        The level names, least severe first.

    Returns
    -------
    DataFrame, shape (dates, levels)
        Counts (int), indexed by ``date`` ascending, one column per level in ``levels``
        order (0 where a level has no customer at a date).
    """
    cat = _levels_of(panel, levels)
    counts = pd.crosstab(panel["date"].to_numpy(), cat, dropna=False)
    counts = counts.reindex(columns=list(levels), fill_value=0).sort_index()
    counts.index.name, counts.columns.name = "date", None
    return counts.astype(np.int64)


def level_migration(panel: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """Moves between levels from each score date to the next, pooled over the pairs.

    Parameters
    ----------
    panel : DataFrame
        ``customer``, ``date`` and ``level``, at most one row per customer and date.
    levels : sequence of str
        The level names, least severe first.

    Returns
    -------
    DataFrame, shape (levels ** 2, 4)
        One row per (``from_level``, ``to_level``) in ``levels`` order: ``count`` (customers
        at ``from_level`` on a date and at ``to_level`` on the next score date, summed over
        the consecutive pairs; int) and ``share`` (``count`` over the row's total, the
        estimated one-step transition probability; NaN for a level nobody left from).
    """
    if panel.duplicated(["customer", "date"]).any():
        raise ValueError("the panel holds a customer twice at one date")
    frame = panel[["customer", "date"]].assign(level=_levels_of(panel, levels).codes)
    dates = np.sort(frame["date"].unique())
    step = pd.Series(np.arange(dates.size), index=dates)
    frame = frame.assign(step=step.reindex(frame["date"].to_numpy()).to_numpy())
    nxt = frame.assign(step=frame["step"] - 1)
    pairs = frame.merge(nxt, on=["customer", "step"], suffixes=("_from", "_to"))
    k = len(levels)
    counts = np.bincount(pairs["level_from"].to_numpy() * k + pairs["level_to"].to_numpy(),
                         minlength=k * k).reshape(k, k)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / totals
    return pd.DataFrame({"from_level": np.repeat(list(levels), k),
                         "to_level": np.tile(list(levels), k),
                         "count": counts.ravel().astype(np.int64),
                         "share": shares.ravel()})
