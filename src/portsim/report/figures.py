"""Figures of a run's credit loss and concentration, for the report and for notebooks.

Every ``plot_*`` function takes the run's :class:`xarray.Dataset` (as built by
:func:`portsim.results.dataset.build_dataset`, or read back from ``results.nc``) and an
optional matplotlib ``Axes``; it draws on that Axes (a new figure when none is given), labels
the axes from the variables' ``long_name`` and ``units`` attributes and returns the Axes.
Nothing is saved or shown here. Money axes are ticked in k / m / bn
(:func:`portsim.report.plotting.money_formatter`). Cash figures are in
:mod:`portsim.report.cash_figures`, insurance and scenario figures in
:mod:`portsim.report.comparison_figures`.

Marked lines carry a ``gid`` so that code (and the tests) can find what was drawn:
``expected_loss``, ``var_0.99``, ``es_0.99`` on the loss histogram; ``level_<q>`` on the
exceedance curve.

A Dataset with a ``scenario`` dimension is plotted for its baseline (the scenario named
``"baseline"``, else the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from portsim.report.plotting import (
    PALETTE,
    axes,
    baseline,
    customer_labels,
    format_money,
    is_money,
    label,
    money_formatter,
    risk_levels,
    tex_safe,
)
from portsim.results.estimators import Z95, expected_shortfall, value_at_risk

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "exceedance_curve",
    "plot_exceedance",
    "plot_loss_histogram",
    "plot_sector_shares",
    "plot_top_customers",
    "wilson_interval",
]


# ------------------------------------------------------------------------- loss figures

def _loss(ds: xr.Dataset, var: str = "loss") -> tuple[xr.DataArray, np.ndarray]:
    da = baseline(ds)[var]
    return da, np.asarray(da.values, dtype=float).ravel()


def plot_loss_histogram(
    ds: xr.Dataset,
    ax: Axes | None = None,
    levels: Sequence[float] | None = None,
    *,
    bins: int = 60,
    var: str = "loss",
) -> Axes:
    """Histogram of the loss over paths, with expected loss, VaR and ES marked.

    Parameters
    ----------
    ds : xarray.Dataset
        A run; ``ds[var]`` has dims ``(path,)`` — money in book currency.
    ax : matplotlib Axes, optional
    levels : sequence of float, optional
        VaR / ES levels (fractions); default the run's ``risk_levels``.
    bins : int
    var : str
        The loss variable (``"loss"``, or e.g. a retained loss).

    Returns
    -------
    Axes
        Vertical lines with gids ``expected_loss``, ``var_<q>``, ``es_<q>`` sit at the values
        :func:`portsim.results.metrics.risk_metrics` reports.
    """
    ax = axes(ax)
    da, x = _loss(ds, var)
    n = x.size
    ax.hist(x, bins=bins, weights=np.full(n, 1.0 / n), color=PALETTE.blue, alpha=0.75,
            edgecolor="white", linewidth=0.3)
    el = float(x.mean())
    ax.axvline(el, color=PALETTE.green, lw=1.5, gid="expected_loss",
               label=f"expected loss {format_money(el)}")
    styles = ("--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)))
    for i, q in enumerate(risk_levels(ds, levels)):
        v, _, _ = value_at_risk(x, q)
        es, _ = expected_shortfall(x, q)
        ls = styles[i % len(styles)]
        ax.axvline(v, color=PALETTE.orange, ls=ls, lw=1.3, gid=f"var_{q:g}",
                   label=f"VaR {q:.1%} {format_money(v)}")
        ax.axvline(es, color=PALETTE.red, ls=ls, lw=1.3, gid=f"es_{q:g}",
                   label=f"ES {q:.1%} {format_money(es)}")
    ax.set_xlabel(label(da, "loss"))
    ax.set_ylabel("Share of paths")
    ax.set_title(f"Loss distribution ({n:,} paths)")
    if is_money(ds, da):
        ax.xaxis.set_major_formatter(money_formatter())
    ax.legend(fontsize="small", frameon=False)
    return ax


def wilson_interval(k: np.ndarray, n: int, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of binomial proportions ``k / n`` (arrays), default 95 %."""
    k = np.asarray(k, dtype=float)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def exceedance_curve(losses: np.ndarray, *, z: float = Z95, max_points: int = 2000
                     ) -> pd.DataFrame:
    """Empirical P(L > x) with Wilson bands, at the sample's loss values.

    Every distinct loss value is used when there are at most ``max_points`` of them; else
    values whose tail counts lie on a geometric grid, so the far tail keeps every point.
    Points with P(L > x) = 0 (at the largest loss) are left out (log scale).

    Returns
    -------
    DataFrame
        Columns ``x`` (loss), ``count`` (paths with L > x), ``p``, ``lo``, ``hi``.
    """
    s = np.sort(np.asarray(losses, dtype=float).ravel())
    n = s.size
    xs = np.unique(s)
    if xs.size > max_points:
        tail = np.unique(np.geomspace(1, n, max_points).astype(np.int64))
        xs = np.unique(s[np.clip(n - tail, 0, n - 1)])
    count = n - np.searchsorted(s, xs, side="right")
    keep = count > 0
    xs, count = xs[keep], count[keep]
    lo, hi = wilson_interval(count, n, z)
    return pd.DataFrame({"x": xs, "count": count, "p": count / n, "lo": lo, "hi": hi})


def plot_exceedance(
    ds: xr.Dataset,
    ax: Axes | None = None,
    levels: Sequence[float] | None = None,
    *,
    var: str = "loss",
) -> Axes:
    """Loss exceedance curve P(L > x) on a log scale, with its 95 % Wilson band.

    The band is the Wilson score interval of each exceedance probability (binomial count of
    paths above x). Horizontal dotted lines mark 1 − q for the risk levels q (gid
    ``level_<q>``); the curve crosses them at the VaR. Returns the Axes.
    """
    ax = axes(ax)
    da, x = _loss(ds, var)
    curve = exceedance_curve(x)
    ax.fill_between(curve["x"], curve["lo"], curve["hi"], step="post", color=PALETTE.blue,
                    alpha=0.25, lw=0, label="95 % band (Wilson)", gid="band")
    ax.plot(curve["x"], curve["p"], drawstyle="steps-post", color=PALETTE.blue, lw=1.3,
            label="P(L > x)", gid="exceedance")
    ax.set_yscale("log")
    for q in risk_levels(ds, levels):
        if 1 - q >= 1.0 / x.size:
            ax.axhline(1 - q, color=PALETTE.grey, ls=":", lw=0.8, gid=f"level_{q:g}")
            ax.annotate(f"{1 - q:.2%}", (1.0, 1 - q), xycoords=("axes fraction", "data"),
                        ha="right", va="bottom", fontsize="x-small", color=PALETTE.grey)
    ax.set_xlabel(label(da, "loss"))
    ax.set_ylabel("Probability that the loss exceeds x")
    ax.set_title("Loss exceedance")
    if is_money(ds, da):
        ax.xaxis.set_major_formatter(money_formatter())
    ax.legend(fontsize="small", frameon=False)
    return ax



# ------------------------------------------------------------------ concentration figures

def plot_top_customers(
    ds: xr.Dataset, ax: Axes | None = None, *, by: str = "exposure", top: int = 10
) -> Axes:
    """Horizontal bars: the ``top`` customers' share of total exposure and of expected loss,
    ranked by ``by`` (``"exposure"`` or ``"expected_loss"``). Returns the Axes."""
    if by not in ("exposure", "expected_loss"):
        raise ValueError(f"by={by!r}: use 'exposure' or 'expected_loss'")
    ax = axes(ax)
    ds = baseline(ds)
    exp = np.asarray(ds["exposure"].values, dtype=float)
    el = np.asarray(ds["customer_expected_loss"].values, dtype=float)
    exp_share = exp / exp.sum() if exp.sum() > 0 else np.zeros_like(exp)
    el_share = el / el.sum() if el.sum() > 0 else np.zeros_like(el)
    key = exp_share if by == "exposure" else el_share
    order = np.argsort(-key, kind="stable")[:top]
    names = [tex_safe(_shorten(str(s))) for s in customer_labels(ds)[order]]
    y = np.arange(order.size)
    h = 0.4
    ax.barh(y - h / 2, exp_share[order], height=h, color=PALETTE.blue, label="share of exposure")
    ax.barh(y + h / 2, el_share[order], height=h, color=PALETTE.red, label="share of expected loss")
    ax.set_yticks(y, names, fontsize="small")
    ax.invert_yaxis()
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Share of the book total")
    what = "exposure" if by == "exposure" else "expected loss"
    ax.set_title(f"Largest {order.size} customers by {what}")
    ax.legend(fontsize="small", frameon=False, loc="lower right")
    return ax


def _shorten(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_sector_shares(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """Share of exposure and of expected loss by sector (sectors by expected loss)."""
    ax = axes(ax)
    ds = baseline(ds)
    sectors = np.asarray(ds["sector"].values).astype(str)
    exp = np.array([float(ds["exposure"].where(ds["customer_sector"] == s).sum())
                    for s in sectors])
    el = np.asarray(ds["sector_loss"].mean("path").values, dtype=float)
    exp_share = exp / exp.sum() if exp.sum() > 0 else exp
    el_share = el / el.sum() if el.sum() > 0 else el
    order = np.argsort(-el_share, kind="stable")
    y = np.arange(sectors.size)
    h = 0.4
    ax.barh(y - h / 2, exp_share[order], height=h, color=PALETTE.blue, label="share of exposure")
    ax.barh(y + h / 2, el_share[order], height=h, color=PALETTE.red, label="share of expected loss")
    ax.set_yticks(y, [tex_safe(s) for s in sectors[order]], fontsize="small")
    ax.invert_yaxis()
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Share of the book total")
    ax.set_title("Sectors")
    ax.legend(fontsize="small", frameon=False, loc="lower right")
    return ax
