"""Figures that compare: credit-insurance variants against no cover, and scenarios against
the baseline (see :mod:`portsim.report.figures` for the conventions).

The numbers are those of :mod:`portsim.results`: the value of cover is
:func:`portsim.results.metrics.insurance_frame` of the run's risk metrics (pass the
``metrics`` the run already has, e.g. ``summary.json``'s, or they are computed from the
Dataset), the scenarios are :func:`portsim.results.comparison.scenario_comparison` read
through :func:`portsim.results.comparison.scenario_frame`, and the value of early warning is
:func:`portsim.results.comparison.warning_value_frame` of a batch's comparison table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.report.plotting import (
    PALETTE,
    axes,
    baseline,
    default_level,
    is_money,
    label,
    money_formatter,
    tex_safe,
)
from portsim.results.comparison import scenario_frame
from portsim.results.estimators import Z95
from portsim.results.metrics import insurance_frame, risk_metrics
from portsim.results.schema import NO_COVER

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "cover_frame",
    "plot_insurance_losses",
    "plot_insurance_value",
    "plot_scenarios",
    "plot_warning_value",
]


# ---------------------------------------------------------------------- insurance figures

def cover_frame(ds: xr.Dataset, level: float | None = None,
                metrics: dict[str, Any] | None = None) -> pd.DataFrame:
    """The value of each insurance variant at ``level`` (default :func:`default_level`):
    :func:`portsim.results.metrics.insurance_frame` of ``metrics`` when they hold that level,
    else of :func:`portsim.results.metrics.risk_metrics` of the run's baseline."""
    q = level if level is not None else default_level(ds)
    if not (metrics and metrics.get("insurance") and f"{q:g}" in metrics.get("var", {})):
        metrics = risk_metrics(baseline(ds), [q])
    return insurance_frame(metrics, q)


def plot_insurance_losses(
    ds: xr.Dataset, ax: Axes | None = None, level: float | None = None,
    metrics: dict[str, Any] | None = None,
) -> Axes:
    """Gross vs retained loss per variant: expected loss, VaR and ES of the retained loss at
    ``level`` (default :func:`default_level`), the gross figures (no cover) first.

    Error bars: 95 % (± 1.96 s.e. for the means and ES, the order-statistic interval for VaR).
    The numbers are :func:`cover_frame`'s (``metrics``: the run's risk metrics, if at hand).
    """
    ax = axes(ax)
    fr = cover_frame(ds, level, metrics)
    q = float(fr["level"].iloc[0])
    groups = ["expected loss", f"VaR {q:.1%}", f"ES {q:.1%}"]
    x = np.arange(len(groups))
    w = 0.8 / len(fr)
    c = PALETTE
    colors = [c.grey, c.blue, c.green, c.orange, c.purple, c.red]
    for i, (_, row) in enumerate(fr.iterrows()):
        name = "gross (no cover)" if row["policy"] == NO_COVER else f"retained: {row['policy']}"
        e_el, e_es = Z95 * row["expected_retained_loss_se"], Z95 * row["es_retained_se"]
        v = row["var_retained"]
        ax.bar(x - 0.4 + (i + 0.5) * w, [row["expected_retained_loss"], v, row["es_retained"]],
               width=w, yerr=[[e_el, v - row["var_retained_ci_low"], e_es],
                              [e_el, row["var_retained_ci_high"] - v, e_es]],
               color=colors[i % len(colors)], label=tex_safe(name), capsize=2,
               gid=f"bars_{i}")
    ax.set_xticks(x, groups)
    return _money_axes(ax, ds, "Loss", "Gross and retained loss by policy variant")


def plot_insurance_value(
    ds: xr.Dataset, ax: Axes | None = None, level: float | None = None,
    metrics: dict[str, Any] | None = None,
) -> Axes:
    """Per variant with cover: premium, expected indemnity and tail reduction
    ES(gross) − ES(retained) at ``level``, with 95 % error bars (numbers of
    :func:`cover_frame`)."""
    ax = axes(ax)
    fr = cover_frame(ds, level, metrics)
    q = float(fr["level"].iloc[0])
    fr = fr[fr["policy"] != NO_COVER].reset_index(drop=True)
    x = np.arange(len(fr))
    w = 0.27
    for i, (col, name, color, se) in enumerate((
        ("premium", "premium", PALETTE.grey, None),
        ("expected_indemnity", "expected indemnity", PALETTE.blue, "expected_indemnity_se"),
        ("tail_reduction", f"ES {q:.1%} reduction", PALETTE.green, "tail_reduction_se"),
    )):
        err = None if se is None else Z95 * np.nan_to_num(fr[se].to_numpy(dtype=float))
        ax.bar(x + (i - 1) * w, fr[col].to_numpy(dtype=float), width=w, yerr=err, capsize=2,
               color=color, label=name, gid=col)
    ax.set_xticks(x, [tex_safe(p) for p in fr["policy"]])
    return _money_axes(ax, ds, "Amount over the horizon",
                       "Premium against indemnity and tail reduction")


def _money_axes(ax: Axes, ds: xr.Dataset, ylabel: str, title: str) -> Axes:
    """Money y axis labelled ``ylabel (currency)``, the title and the legend."""
    cur = baseline(ds)["loss"].attrs.get("units", "")
    ax.set_ylabel(tex_safe(f"{ylabel} ({cur})" if cur else ylabel))
    ax.yaxis.set_major_formatter(money_formatter())
    ax.set_title(title)
    ax.legend(fontsize="small", frameon=False)
    return ax


# ----------------------------------------------------------------------- scenario figures

def plot_scenarios(ds: xr.Dataset, ax: Axes | None = None, level: float | None = None
                   ) -> Axes:
    """Expected loss, VaR and ES at ``level`` (default :func:`default_level`) side by side for
    each scenario, with 95 % error bars
    (:func:`portsim.results.comparison.scenario_frame`)."""
    ax = axes(ax)
    q = level if level is not None else default_level(ds)
    fr = scenario_frame(ds, q)
    groups = [("expected_loss", "expected loss"), (f"var_{q:g}", f"VaR {q:.1%}"),
              (f"es_{q:g}", f"ES {q:.1%}")]
    x = np.arange(len(groups))
    w = 0.8 / len(fr)
    c = PALETTE
    colors = [c.grey, c.blue, c.orange, c.red, c.green, c.purple]
    for k, (_, row) in enumerate(fr.iterrows()):
        vals = [float(row[c]) for c, _ in groups]
        errs = [Z95 * float(row[f"{c}_se"]) for c, _ in groups]
        ax.bar(x - 0.4 + (k + 0.5) * w, vals, width=w, yerr=errs, capsize=2,
               color=colors[k % len(colors)], label=tex_safe(str(row["scenario"])))
    ax.set_xticks(x, [g for _, g in groups])
    da = ds["loss"]
    ax.set_ylabel(label(da, "loss"))
    if is_money(ds, da):
        ax.yaxis.set_major_formatter(money_formatter())
    ax.set_title("Scenarios")
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_warning_value(frame: pd.DataFrame, ax: Axes | None = None, currency: str = ""
                       ) -> Axes:
    """Loss avoided against margin lost, one point per action policy, with 95 % error bars
    (± 1.96 paired s.e. each way) and the break-even line: a policy below it avoids more loss
    than it costs in margin.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`portsim.results.comparison.warning_value_frame` (columns ``scenario``,
        ``loss_avoided``, ``margin_lost`` and their ``_se``).
    ax : matplotlib Axes, optional
    currency : str
        Book currency, for the axis labels.
    """
    ax = axes(ax)
    x = frame["loss_avoided"].to_numpy(dtype=float)
    y = frame["margin_lost"].to_numpy(dtype=float)
    xerr = Z95 * np.nan_to_num(frame["loss_avoided_se"].to_numpy(dtype=float))
    yerr = Z95 * np.nan_to_num(frame["margin_lost_se"].to_numpy(dtype=float))
    colors = [PALETTE.blue, PALETTE.orange, PALETTE.green, PALETTE.red, PALETTE.purple]
    for k, name in enumerate(frame["scenario"].astype(str)):
        ax.errorbar(x[k], y[k], xerr=xerr[k], yerr=yerr[k], fmt="o", capsize=3,
                    color=colors[k % len(colors)], label=tex_safe(name), gid=f"policy_{k}")
    lo = min(0.0, float(np.nanmin(np.concatenate([x - xerr, y - yerr]))))
    hi = max(0.0, float(np.nanmax(np.concatenate([x + xerr, y + yerr]))))
    ax.plot([lo, hi], [lo, hi], color=PALETTE.grey, lw=1, ls="--", label="break-even",
            gid="break_even")
    unit = f" ({currency})" if currency else ""
    ax.set_xlabel(tex_safe(f"Loss avoided{unit}"))
    ax.set_ylabel(tex_safe(f"Margin lost{unit}"))
    ax.xaxis.set_major_formatter(money_formatter())
    ax.yaxis.set_major_formatter(money_formatter())
    ax.set_title("Value of early warning: loss avoided against margin lost")
    ax.legend(fontsize="small", frameon=False)
    return ax
