"""Figures that compare: credit-insurance variants against no cover, and scenarios against
the baseline (see :mod:`portsim.report.figures` for the conventions).

The numbers are those of :mod:`portsim.results`: the value of cover is
:func:`portsim.results.metrics.insurance_frame` of the run's risk metrics (pass the
``metrics`` the run already has, e.g. ``summary.json``'s, or they are computed from the
Dataset), the scenarios are :func:`portsim.results.comparison.scenario_comparison` read
through :func:`scenario_frame`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.report.plotting import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    RED,
    axes,
    baseline,
    default_level,
    is_money,
    label,
    money_formatter,
    tex_safe,
)
from portsim.results.comparison import (
    SCENARIO_PATH_VARS,
    comparison_frame,
    scenario_comparison,
)
from portsim.results.estimators import Z95
from portsim.results.metrics import insurance_frame, risk_metrics
from portsim.results.schema import NO_COVER, SCENARIO_DIM

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "cover_frame",
    "plot_insurance_losses",
    "plot_insurance_value",
    "plot_scenarios",
    "scenario_frame",
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
    colors = [GREY, BLUE, GREEN, ORANGE, PURPLE, RED]
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
    cur = baseline(ds)["loss"].attrs.get("units", "")
    ax.set_ylabel(tex_safe(f"Loss ({cur})" if cur else "Loss"))
    ax.yaxis.set_major_formatter(money_formatter())
    ax.set_title("Gross and retained loss by policy variant")
    ax.legend(fontsize="small", frameon=False)
    return ax


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
        ("premium", "premium", GREY, None),
        ("expected_indemnity", "expected indemnity", BLUE, "expected_indemnity_se"),
        ("tail_reduction", f"ES {q:.1%} reduction", GREEN, "tail_reduction_se"),
    )):
        err = None if se is None else Z95 * np.nan_to_num(fr[se].to_numpy(dtype=float))
        ax.bar(x + (i - 1) * w, fr[col].to_numpy(dtype=float), width=w, yerr=err, capsize=2,
               color=color, label=name, gid=col)
    ax.set_xticks(x, [tex_safe(p) for p in fr["policy"]])
    cur = baseline(ds)["loss"].attrs.get("units", "")
    ax.set_ylabel(tex_safe(f"Amount over the horizon ({cur})" if cur else "Amount"))
    ax.yaxis.set_major_formatter(money_formatter())
    ax.set_title("Premium against indemnity and tail reduction")
    ax.legend(fontsize="small", frameon=False)
    return ax


# ----------------------------------------------------------------------- scenario figures

def scenario_frame(ds: xr.Dataset, level: float) -> pd.DataFrame:
    """Headline metrics of each scenario of a Dataset with a ``scenario`` dimension and their
    change against the baseline (the scenario named ``"baseline"``, else the first).

    :func:`portsim.results.comparison.scenario_comparison` of the Dataset's per-path
    variables, one row per scenario (:func:`portsim.results.comparison.comparison_frame`):
    ``expected_loss``, ``var_<q>``, ``es_<q>`` and, with a timeline, ``p_line_breach``, each
    with ``_se``, ``_change`` (paired difference to the baseline), ``_change_se`` and
    ``_change_pct``.
    """
    names = [str(s) for s in ds[SCENARIO_DIM].values]
    base = "baseline" if "baseline" in names else names[0]
    paths = ds[[v for v in SCENARIO_PATH_VARS if v in ds]]
    table = scenario_comparison(paths, [level], base)
    key = f"{level:g}"
    return comparison_frame(table, [("expected_loss", ""), ("var", key), ("es", key),
                                    ("p_line_breach", "")], base)


def plot_scenarios(ds: xr.Dataset, ax: Axes | None = None, level: float | None = None
                   ) -> Axes:
    """Expected loss, VaR and ES at ``level`` (default :func:`default_level`) side by side for
    each scenario, with 95 % error bars (:func:`scenario_frame`)."""
    ax = axes(ax)
    q = level if level is not None else default_level(ds)
    fr = scenario_frame(ds, q)
    groups = [("expected_loss", "expected loss"), (f"var_{q:g}", f"VaR {q:.1%}"),
              (f"es_{q:g}", f"ES {q:.1%}")]
    x = np.arange(len(groups))
    w = 0.8 / len(fr)
    colors = [GREY, BLUE, ORANGE, RED, GREEN, PURPLE]
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
