"""Figures of a run's payment timeline: the cash fan chart, and distributions over paths of
DSO and the working-capital requirement (see :mod:`portsim.report.figures` for the
conventions).

Marked lines carry a ``gid``: ``median``, ``band_0.05_0.95``, ``band_0.25_0.75``,
``min_cash_buffer``, ``buffer_minus_line`` on the cash fan chart; ``mean``, ``q_0.05``,
``q_0.95`` on the distribution plots.
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
    format_money,
    is_money,
    label,
    money_formatter,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_cash_fan", "plot_distribution", "plot_dso", "plot_wcr"]


# ------------------------------------------------------------------------- cash figures

def _period_x(ds: xr.Dataset) -> Any:
    labels = np.asarray(ds["period"].values).astype(str)
    try:
        return pd.to_datetime(labels, format="ISO8601").to_numpy()
    except (ValueError, TypeError):
        return np.arange(labels.size)


def plot_cash_fan(ds: xr.Dataset, ax: Axes | None = None, *, var: str = "cash") -> Axes:
    """Fan chart of the cash balance over the horizon: 5–95 % and 25–75 % bands, median.

    Parameters
    ----------
    ds : xarray.Dataset
        A timeline run: ``ds[f"{var}_band"]`` dims ``(band, period)`` with ``band`` the
        quantiles across paths; attrs ``min_cash_buffer`` and ``credit_line`` (book currency)
        draw the buffer and buffer − credit line.
    ax : matplotlib Axes, optional
    var : str
        ``"cash"`` (after drawing the credit line) or ``"receivables"``.

    Returns
    -------
    Axes
        The median line (gid ``median``) has the values of ``ds[f"{var}_band"].sel(band=0.5)``.
    """
    ax = axes(ax)
    ds = baseline(ds)
    band = ds[f"{var}_band"]
    qs = np.asarray(band["band"].values, dtype=float)
    x = _period_x(ds)

    def at(q: float) -> np.ndarray | None:
        hit = np.flatnonzero(np.isclose(qs, q))
        return np.asarray(band.isel(band=int(hit[0])).values, dtype=float) if hit.size else None

    for lo_q, hi_q, alpha in ((0.05, 0.95, 0.18), (0.25, 0.75, 0.35)):
        lo, hi = at(lo_q), at(hi_q)
        if lo is not None and hi is not None:
            ax.fill_between(x, lo, hi, color=PALETTE.blue, alpha=alpha, lw=0,
                            label=f"{lo_q:.0%}–{hi_q:.0%} of paths", gid=f"band_{lo_q:g}_{hi_q:g}")
    med = at(0.5)
    if med is None:
        raise ValueError(f"{var}_band has no 0.5 quantile (bands: {qs.tolist()})")
    ax.plot(x, med, color=PALETTE.blue, lw=1.8, marker="o", ms=3, label="median", gid="median")
    buffer = ds.attrs.get("min_cash_buffer")
    line = ds.attrs.get("credit_line")
    if var == "cash" and buffer is not None:
        ax.axhline(float(buffer), color=PALETTE.orange, ls="--", lw=1.2, gid="min_cash_buffer",
                   label=f"minimum buffer {format_money(float(buffer))}")
        if line is not None:
            floor = float(buffer) - float(line)
            ax.axhline(floor, color=PALETTE.red, ls=":", lw=1.2, gid="buffer_minus_line",
                       label=f"buffer − credit line {format_money(floor)}")
    src = ds[f"{var}_series"] if f"{var}_series" in ds else band
    ax.set_ylabel(label(src, var))
    ax.set_xlabel(label(ds["period"], "period"))
    ax.set_title(f"{var.capitalize()} over the horizon")
    if is_money(ds, band):
        ax.yaxis.set_major_formatter(money_formatter())
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        loc = AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax


def plot_distribution(
    ds: xr.Dataset, var: str, ax: Axes | None = None, *, bins: int = 50
) -> Axes:
    """Histogram of a per-path variable with its mean (gid ``mean``) and 5 % / 95 % quantiles
    (gids ``q_0.05``, ``q_0.95``). Non-finite values (e.g. DSO without sales) are left out.
    """
    ax = axes(ax)
    da = baseline(ds)[var]
    x = np.asarray(da.values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = x.size
    ax.hist(x, bins=bins, weights=np.full(n, 1.0 / max(n, 1)), color=PALETTE.blue, alpha=0.75,
            edgecolor="white", linewidth=0.3)
    money = is_money(ds, da)

    def fmt(v: float) -> str:
        return format_money(v) if money else f"{v:,.1f}"

    if n:
        mean = float(x.mean())
        ax.axvline(mean, color=PALETTE.green, lw=1.5, gid="mean", label=f"mean {fmt(mean)}")
        for q in (0.05, 0.95):
            v = float(np.quantile(x, q))
            ax.axvline(v, color=PALETTE.grey, ls="--", lw=1.0, gid=f"q_{q:g}",
                       label=f"{q:.0%} quantile {fmt(v)}")
    ax.set_xlabel(label(da, var))
    ax.set_ylabel("Share of paths")
    if money:
        ax.xaxis.set_major_formatter(money_formatter())
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_dso(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """Distribution over paths of the average days sales outstanding (``dso_avg``)."""
    ax = plot_distribution(ds, "dso_avg", ax)
    ax.set_title("Days sales outstanding")
    return ax


def plot_wcr(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """Distribution over paths of the peak working-capital requirement (``peak_wcr``)."""
    ax = plot_distribution(ds, "peak_wcr", ax)
    ax.set_title("Peak working-capital requirement")
    return ax
