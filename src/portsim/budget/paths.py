"""The per-path outputs of one simulated run that the budget's levers act on.

A run of the engine keeps, for every path, the gross credit loss by sector and, for every
credit-insurance variant, the retained loss, the indemnity, the net cash flow and the cash
headroom of the credit line. :func:`path_set` takes them from the run's Dataset into a
:class:`PathSet`; every candidate mix of levers is then priced on these arrays without
simulating again (:mod:`portsim.budget.mix`).

The **headroom** of a path is min over periods of (cash before the line) + credit line −
minimum buffer: negative exactly when the line cannot keep the buffer (a line breach). It is
rebuilt from the run's per-path ``cash_gap``, ``peak_line_usage`` and ``min_cash`` (see
:mod:`portsim.engine.cash`): −gap when there is a gap, else line − peak usage when the line is
drawn, else min cash − buffer + line. A constant extra amount of cash or line moves it one for
one, which is how a cash reserve, a larger line and a factoring advance enter.

The **cost of an action policy** on a path is what its actions cost the company there: the
margin of the sales they refused (``lost_margin``) plus the cost of collection escalation
(``collection_cost``) less the late-payment interest collected (``late_interest``), the
timeline's per-path results (:data:`ACTION_COST_VARS`). Its expected value a year is what the
budget is charged for the policy. It may be negative: interest collected worth more than the
margin lost. Its effect on credit loss and cash is in the run itself (the simulated paths).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["ACTION_COST_VARS", "PathSet", "headroom", "path_set"]

#: The timeline's per-path results (dims ``path``) that make up the cost of an action policy,
#: each with its sign: lost margin + collection cost − late-payment interest collected. A run
#: without one (no ``[actions]``, no monitoring) counts it 0.
ACTION_COST_VARS = (("lost_margin", 1.0), ("collection_cost", 1.0), ("late_interest", -1.0))


@dataclass(frozen=True)
class PathSet:
    """What one simulated variant (seed, scenario, action, collection spend) gives the levers.

    Attributes
    ----------
    policies : tuple of str
        The insurance variants, ``"none"`` first.
    sectors : tuple of str
        The sectors of ``sector_loss``'s columns.
    loss : ndarray, shape (n_paths,)
        Gross credit loss per path [book currency].
    sector_loss : ndarray, shape (n_paths, n_sectors)
        Gross credit loss by sector.
    retained : ndarray, shape (n_paths, n_policies)
        Retained loss (gross loss less net indemnity) per variant.
    indemnity : ndarray, shape (n_paths, n_policies)
        Net indemnity per variant.
    annual_premium : ndarray, shape (n_policies,)
        Premium per policy year (0 for ``"none"`` and for a variant the run withdrew).
    net_cash_flow : ndarray, shape (n_paths, n_policies)
        Net operating cash flow over the horizon with the variant's premiums and indemnities.
    headroom : ndarray, shape (n_paths, n_policies)
        Cash headroom of the credit line (module docstring); < 0: line breach.
    dso : ndarray, shape (n_paths,)
        Average days sales outstanding.
    action_cost : ndarray, shape (n_paths,)
        Cost of the run's action policy: lost margin + collection cost − late-payment
        interest collected (:data:`ACTION_COST_VARS`; a variable the run lacks counts 0).
    lost_margin : ndarray, shape (n_paths,)
        The run's ``lost_margin`` (0 when absent).
    years : float
        Horizon in years (simulated amounts per year are divided by it).
    cash : ndarray, shape (n_sample, n_periods)
        Cash after the line of the run's sampled paths (``cash_series``).
    sample : ndarray of int, shape (n_sample,)
        The path index of each row of ``cash``.
    period_end_day : ndarray, shape (n_periods,)
        Day of each period's end after the as-of date.
    periods : tuple of str
        The periods' labels.
    insurer_profile : ndarray, shape (n_policies, n_periods)
        Share of each variant's expected insurer cash falling in each period.
    premium_cash : ndarray, shape (n_policies, n_periods)
        Premium paid per period.
    loss_profile : ndarray, shape (n_periods,)
        Share of the expected write-offs falling in each period.
    credit_line, min_cash_buffer : float
        The run's line and buffer.
    evaluated : tuple of str
        The variants the run evaluated (the others stand in with the figures without cover).
    """

    policies: tuple[str, ...]
    sectors: tuple[str, ...]
    loss: np.ndarray
    sector_loss: np.ndarray
    retained: np.ndarray
    indemnity: np.ndarray
    annual_premium: np.ndarray
    net_cash_flow: np.ndarray
    headroom: np.ndarray
    dso: np.ndarray
    action_cost: np.ndarray
    lost_margin: np.ndarray
    years: float
    cash: np.ndarray
    sample: np.ndarray
    period_end_day: np.ndarray
    periods: tuple[str, ...]
    insurer_profile: np.ndarray
    premium_cash: np.ndarray
    loss_profile: np.ndarray
    credit_line: float
    min_cash_buffer: float
    evaluated: tuple[str, ...] = ("none",)

    @property
    def n_paths(self) -> int:
        """Number of paths."""
        return int(self.loss.size)

    def policy_index(self, name: str) -> int:
        """Column of the variant ``name``."""
        return self.policies.index(name)


def headroom(cash_gap: np.ndarray, peak_line_usage: np.ndarray, min_cash: np.ndarray,
             credit_line: float, buffer: float) -> np.ndarray:
    """min over periods of (cash before the line) + ``credit_line`` − ``buffer``, per path,
    from the run's per-path cash figures (module docstring)."""
    return np.where(cash_gap > 0, -cash_gap,
                    np.where(peak_line_usage > 0, credit_line - peak_line_usage,
                             min_cash - buffer + credit_line))


def _profile(x: np.ndarray) -> np.ndarray:
    total = x.sum(axis=-1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, x / safe, 1.0 / x.shape[-1])


def path_set(ds: xr.Dataset, policies: tuple[str, ...] | list[str]) -> PathSet:
    """The :class:`PathSet` of one run with a payment timeline.

    Parameters
    ----------
    ds : xarray.Dataset
        The run (:func:`portsim.results.dataset.build_dataset`), with ``[timeline]``.
    policies : sequence of str
        Insurance variants wanted (``"none"`` is added first). A variant the run did not
        evaluate (withdrawn cover) gets the figures without cover and no premium.

    Raises
    ------
    ValueError
        When the run has no payment timeline.
    """
    if "net_cash_flow" not in ds:
        raise ValueError("the run has no payment timeline (net_cash_flow)")
    wanted = ("none", *(p for p in policies if p != "none"))
    have = [str(p) for p in ds["policy"].values] if "policy" in ds.dims else []
    line = float(ds.attrs["credit_line"])
    buffer = float(ds.attrs["min_cash_buffer"])
    loss = ds["loss"].values.astype(float)
    plain_head = headroom(ds["cash_gap"].values, ds["peak_line_usage"].values,
                          ds["min_cash"].values, line, buffer)
    n_per = ds.sizes["period"]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("ret", "ind", "ncf", "head")}
    premium, profile, prem_cash = [], [], []
    for p in wanted:
        if p in have and p != "none":
            sel = ds.sel(policy=p)
            cols["ret"].append(sel["retained_loss"].values)
            cols["ind"].append(sel["indemnity"].values)
            cols["ncf"].append(sel["policy_net_cash_flow"].values)
            cols["head"].append(headroom(sel["policy_cash_gap"].values,
                                         sel["policy_peak_line_usage"].values,
                                         sel["policy_min_cash"].values, line, buffer))
            premium.append(float(sel["annual_premium"]))
            profile.append(_profile(sel["expected_indemnity_cash"].values.astype(float)))
            prem_cash.append(sel["premium_cash"].values.astype(float))
        else:
            cols["ret"].append(loss)
            cols["ind"].append(np.zeros_like(loss))
            cols["ncf"].append(ds["net_cash_flow"].values)
            cols["head"].append(plain_head)
            premium.append(0.0)
            profile.append(np.full(n_per, 1.0 / n_per))
            prem_cash.append(np.zeros(n_per))
    zeros = np.zeros_like(loss)
    action = sum((sign * ds[v].values.astype(float) for v, sign in ACTION_COST_VARS if v in ds),
                 zeros)
    return PathSet(
        policies=wanted,
        sectors=tuple(str(s) for s in ds["sector"].values),
        loss=loss,
        sector_loss=ds["sector_loss"].values.astype(float),
        retained=np.stack(cols["ret"], axis=1).astype(float),
        indemnity=np.stack(cols["ind"], axis=1).astype(float),
        annual_premium=np.asarray(premium),
        net_cash_flow=np.stack(cols["ncf"], axis=1).astype(float),
        headroom=np.stack(cols["head"], axis=1).astype(float),
        dso=ds["dso_avg"].values.astype(float),
        action_cost=np.asarray(action, dtype=float),
        lost_margin=ds["lost_margin"].values.astype(float) if "lost_margin" in ds else zeros,
        years=float(ds.attrs.get("horizon_years", 1.0)),
        cash=ds["cash_series"].values.astype(float),
        sample=ds["sample_path"].values.astype(np.int64),
        period_end_day=ds["period_end_day"].values.astype(float),
        periods=tuple(str(p) for p in ds["period"].values),
        insurer_profile=np.stack(profile),
        premium_cash=np.stack(prem_cash),
        loss_profile=_profile(ds["expected_written_off"].values.astype(float)),
        credit_line=line,
        min_cash_buffer=buffer,
        evaluated=tuple(p for p in wanted if p == "none" or p in have),
    )
