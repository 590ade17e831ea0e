"""Figures of a run, for the report and for notebooks.

Every ``plot_*`` function takes the run's :class:`xarray.Dataset` (as built by
:func:`portsim.results.metrics.build_dataset`, or read back from ``results.nc``) and an optional
matplotlib ``Axes``; it draws on that Axes (a new figure when none is given), labels the axes
from the variables' ``long_name`` and ``units`` attributes and returns the Axes. Nothing is
saved or shown here. Money axes are ticked in k / m / bn (:func:`money_formatter`).

Marked lines carry a ``gid`` so that code (and the tests) can find what was drawn:
``expected_loss``, ``var_0.99``, ``es_0.99`` on the loss histogram; ``median``,
``band_0.05_0.95``, ``band_0.25_0.75``, ``min_cash_buffer``, ``buffer_minus_line`` on the cash
fan chart; ``mean``, ``q_0.05``, ``q_0.95`` on the distribution plots.

A Dataset with a ``scenario`` dimension is plotted for its baseline (the scenario named
``"baseline"``, else the first); variables of the insurance section are named once, in
:data:`INSURANCE_VARS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.results.estimators import Z95, expected_shortfall, value_at_risk

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter

__all__ = [
    "INSURANCE_VARS",
    "NO_COVER",
    "SCENARIO_DIM",
    "baseline",
    "customer_labels",
    "default_level",
    "exceedance_curve",
    "format_money",
    "has_cash",
    "has_insurance",
    "has_scenarios",
    "insurance_frame",
    "label",
    "money_formatter",
    "plot_cash_fan",
    "plot_distribution",
    "plot_dso",
    "plot_exceedance",
    "plot_insurance_losses",
    "plot_insurance_value",
    "plot_loss_histogram",
    "plot_scenarios",
    "plot_sector_shares",
    "plot_top_customers",
    "plot_wcr",
    "risk_levels",
    "scenario_frame",
    "tex_safe",
    "wilson_interval",
]

#: Name of the scenario dimension (one vocabulary: docs/design.md).
SCENARIO_DIM = "scenario"
#: Variables of the credit-insurance section: role -> Dataset variable. The section is drawn
#: only when the ``retained_loss`` variable exists. Shapes: ``retained_loss`` and
#: ``indemnity`` (path, policy), ``premium`` (policy,); ``dim`` is the policy dimension.
INSURANCE_VARS: dict[str, str] = {
    "dim": "policy",
    "retained_loss": "retained_loss",  # loss kept after the net indemnity, per path
    "indemnity": "indemnity",  # net indemnity (after the insurer's share of recoveries)
    "premium": "premium",  # premium earned over the horizon
}
#: The policy variant without cover (always first in the insurance engineer's Datasets).
NO_COVER = "none"

_BLUE, _ORANGE, _RED, _GREEN, _GREY, _PURPLE = (
    "#1f4e79", "#e07b00", "#b22222", "#2e7d32", "#6b6b6b", "#6a3d9a",
)


# ----------------------------------------------------------------------- formatting helpers

def format_money(x: float | None, digits: int = 3) -> str:
    """Compact money text: ``1.82m``, ``430k``, ``2.1bn``, ``950``; ``""`` for None/NaN."""
    if x is None or not math.isfinite(x):
        return ""
    ax = abs(x)
    for scale, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if ax >= scale:
            return f"{x / scale:.{digits}g}{suffix}"
    if ax == 0:
        return "0"
    return f"{x:.{digits}g}"


def money_formatter(digits: int = 3) -> FuncFormatter:
    """A tick formatter writing money as k / m / bn (``FuncFormatter``)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: format_money(float(x), digits))


def tex_safe(text: str) -> str:
    """Text as matplotlib shows it literally (``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def label(da: xr.DataArray, fallback: str = "") -> str:
    """Axis label from ``long_name`` and ``units``: ``"credit loss over the horizon (EUR)"``.

    Units ``"1"`` (dimensionless) and ``""`` are not shown.
    """
    name = str(da.attrs.get("long_name") or fallback or da.name or "")
    units = str(da.attrs.get("units", ""))
    text = f"{name} ({units})" if units not in ("", "1") else name
    return tex_safe(text[:1].upper() + text[1:])


def _is_money(ds: xr.Dataset, da: xr.DataArray) -> bool:
    cur = ds.attrs.get("currency")
    return bool(cur) and da.attrs.get("units") == cur


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(layout="constrained")
    return new


def risk_levels(ds: xr.Dataset, levels: Sequence[float] | None = None) -> list[float]:
    """``levels``, else the run's ``risk_levels`` attribute, else ``[0.99]``."""
    if levels is not None:
        return [float(q) for q in levels]
    attr = ds.attrs.get("risk_levels")
    if attr is None:
        return [0.99]
    return [float(q) for q in np.atleast_1d(attr)]


def default_level(ds: xr.Dataset) -> float:
    """The single level of comparison figures: 0.99 when the run has it, else its highest."""
    levels = risk_levels(ds)
    return 0.99 if any(math.isclose(q, 0.99) for q in levels) else max(levels)


# --------------------------------------------------------------------- what a run holds

def has_scenarios(ds: xr.Dataset) -> bool:
    """The Dataset compares scenarios (its ``loss`` has a ``scenario`` dimension)."""
    return "loss" in ds and SCENARIO_DIM in ds["loss"].dims


def baseline(ds: xr.Dataset) -> xr.Dataset:
    """The baseline scenario of a Dataset with a ``scenario`` dimension (else ``ds``)."""
    if SCENARIO_DIM not in ds.dims:
        return ds
    names = [str(s) for s in ds[SCENARIO_DIM].values]
    return ds.isel({SCENARIO_DIM: names.index("baseline") if "baseline" in names else 0})


def has_cash(ds: xr.Dataset) -> bool:
    """The run has a payment timeline (cash, DSO and working-capital variables)."""
    return all(v in ds for v in ("cash_band", "dso_avg", "peak_wcr"))


def has_insurance(ds: xr.Dataset) -> bool:
    """The run evaluated credit-insurance variants (see :data:`INSURANCE_VARS`)."""
    return INSURANCE_VARS["retained_loss"] in ds


def customer_labels(ds: xr.Dataset) -> np.ndarray:
    """Display label per customer: ``customer_name`` when the Dataset has it, else the id.

    Untrusted text: escape it for the medium it goes to.
    """
    ids = np.asarray(ds["customer"].values).astype(str)
    if "customer_name" not in ds:
        return ids
    names = np.asarray(ds["customer_name"].values).astype(str)
    return np.where((names == "") | (names == ids), ids, names)


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
    ax = _axes(ax)
    da, x = _loss(ds, var)
    n = x.size
    ax.hist(x, bins=bins, weights=np.full(n, 1.0 / n), color=_BLUE, alpha=0.75,
            edgecolor="white", linewidth=0.3)
    el = float(x.mean())
    ax.axvline(el, color=_GREEN, lw=1.5, gid="expected_loss",
               label=f"expected loss {format_money(el)}")
    styles = ("--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)))
    for i, q in enumerate(risk_levels(ds, levels)):
        v, _, _ = value_at_risk(x, q)
        es, _ = expected_shortfall(x, q)
        ls = styles[i % len(styles)]
        ax.axvline(v, color=_ORANGE, ls=ls, lw=1.3, gid=f"var_{q:g}",
                   label=f"VaR {q:.1%} {format_money(v)}")
        ax.axvline(es, color=_RED, ls=ls, lw=1.3, gid=f"es_{q:g}",
                   label=f"ES {q:.1%} {format_money(es)}")
    ax.set_xlabel(label(da, "loss"))
    ax.set_ylabel("Share of paths")
    ax.set_title(f"Loss distribution ({n:,} paths)")
    if _is_money(ds, da):
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
    ax = _axes(ax)
    da, x = _loss(ds, var)
    curve = exceedance_curve(x)
    ax.fill_between(curve["x"], curve["lo"], curve["hi"], step="post", color=_BLUE,
                    alpha=0.25, lw=0, label="95 % band (Wilson)", gid="band")
    ax.plot(curve["x"], curve["p"], drawstyle="steps-post", color=_BLUE, lw=1.3,
            label="P(L > x)", gid="exceedance")
    ax.set_yscale("log")
    for q in risk_levels(ds, levels):
        if 1 - q >= 1.0 / x.size:
            ax.axhline(1 - q, color=_GREY, ls=":", lw=0.8, gid=f"level_{q:g}")
            ax.annotate(f"{1 - q:.2%}", (1.0, 1 - q), xycoords=("axes fraction", "data"),
                        ha="right", va="bottom", fontsize="x-small", color=_GREY)
    ax.set_xlabel(label(da, "loss"))
    ax.set_ylabel("Probability that the loss exceeds x")
    ax.set_title("Loss exceedance")
    if _is_money(ds, da):
        ax.xaxis.set_major_formatter(money_formatter())
    ax.legend(fontsize="small", frameon=False)
    return ax


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
    ax = _axes(ax)
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
            ax.fill_between(x, lo, hi, color=_BLUE, alpha=alpha, lw=0,
                            label=f"{lo_q:.0%}–{hi_q:.0%} of paths", gid=f"band_{lo_q:g}_{hi_q:g}")
    med = at(0.5)
    if med is None:
        raise ValueError(f"{var}_band has no 0.5 quantile (bands: {qs.tolist()})")
    ax.plot(x, med, color=_BLUE, lw=1.8, marker="o", ms=3, label="median", gid="median")
    buffer = ds.attrs.get("min_cash_buffer")
    line = ds.attrs.get("credit_line")
    if var == "cash" and buffer is not None:
        ax.axhline(float(buffer), color=_ORANGE, ls="--", lw=1.2, gid="min_cash_buffer",
                   label=f"minimum buffer {format_money(float(buffer))}")
        if line is not None:
            floor = float(buffer) - float(line)
            ax.axhline(floor, color=_RED, ls=":", lw=1.2, gid="buffer_minus_line",
                       label=f"buffer − credit line {format_money(floor)}")
    src = ds[f"{var}_series"] if f"{var}_series" in ds else band
    ax.set_ylabel(label(src, var))
    ax.set_xlabel(label(ds["period"], "period"))
    ax.set_title(f"{var.capitalize()} over the horizon")
    if _is_money(ds, band):
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
    ax = _axes(ax)
    da = baseline(ds)[var]
    x = np.asarray(da.values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = x.size
    ax.hist(x, bins=bins, weights=np.full(n, 1.0 / max(n, 1)), color=_BLUE, alpha=0.75,
            edgecolor="white", linewidth=0.3)
    money = _is_money(ds, da)

    def fmt(v: float) -> str:
        return format_money(v) if money else f"{v:,.1f}"

    if n:
        mean = float(x.mean())
        ax.axvline(mean, color=_GREEN, lw=1.5, gid="mean", label=f"mean {fmt(mean)}")
        for q in (0.05, 0.95):
            v = float(np.quantile(x, q))
            ax.axvline(v, color=_GREY, ls="--", lw=1.0, gid=f"q_{q:g}",
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


# ------------------------------------------------------------------ concentration figures

def plot_top_customers(
    ds: xr.Dataset, ax: Axes | None = None, *, by: str = "exposure", top: int = 10
) -> Axes:
    """Horizontal bars: the ``top`` customers' share of total exposure and of expected loss,
    ranked by ``by`` (``"exposure"`` or ``"expected_loss"``). Returns the Axes."""
    if by not in ("exposure", "expected_loss"):
        raise ValueError(f"by={by!r}: use 'exposure' or 'expected_loss'")
    ax = _axes(ax)
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
    ax.barh(y - h / 2, exp_share[order], height=h, color=_BLUE, label="share of exposure")
    ax.barh(y + h / 2, el_share[order], height=h, color=_RED, label="share of expected loss")
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
    ax = _axes(ax)
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
    ax.barh(y - h / 2, exp_share[order], height=h, color=_BLUE, label="share of exposure")
    ax.barh(y + h / 2, el_share[order], height=h, color=_RED, label="share of expected loss")
    ax.set_yticks(y, [tex_safe(s) for s in sectors[order]], fontsize="small")
    ax.invert_yaxis()
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Share of the book total")
    ax.set_title("Sectors")
    ax.legend(fontsize="small", frameon=False, loc="lower right")
    return ax


# ---------------------------------------------------------------------- insurance figures

def _es_terms(x: np.ndarray, q: float) -> np.ndarray:
    """Per-path terms of the Rockafellar–Uryasev form ES = mean(VaR + (L − VaR)⁺/(1 − q))."""
    var, _, _ = value_at_risk(x, q)
    return var + np.maximum(x - var, 0.0) / (1.0 - q)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    n = x.size
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")


def insurance_frame(ds: xr.Dataset, level: float | None = None) -> pd.DataFrame:
    """Value of each insurance variant, computed on the run's paths.

    For each policy of :data:`INSURANCE_VARS`: expected gross and retained loss, VaR and ES
    of the retained loss at ``level`` (default :func:`default_level`), the premium, the
    expected (net) indemnity, the net cost of cover (premium − expected indemnity) and the
    tail reduction ES(gross) − ES(retained). Standard errors of differences use the paired
    per-path terms (all variants share the paths), so they are small.

    Returns
    -------
    DataFrame
        One row per policy, money in book currency; ``*_se`` columns are standard errors.
    """
    ds = baseline(ds)
    dim = INSURANCE_VARS["dim"]
    q = level if level is not None else default_level(ds)
    gross = np.asarray(ds["loss"].values, dtype=float)
    ret_all = ds[INSURANCE_VARS["retained_loss"]].transpose("path", dim)
    ind_all = (ds[INSURANCE_VARS["indemnity"]].transpose("path", dim)
               if INSURANCE_VARS["indemnity"] in ds else None)
    prem = ds[INSURANCE_VARS["premium"]] if INSURANCE_VARS["premium"] in ds else None
    g_es = _es_terms(gross, q)
    rows = []
    for k, name in enumerate(np.asarray(ds[dim].values).astype(str)):
        r = np.asarray(ret_all.isel({dim: k}).values, dtype=float)
        el_r, el_r_se = _mean_se(r)
        var_r, lo, hi = value_at_risk(r, q)
        es_r, es_r_se = expected_shortfall(r, q)
        red, red_se = _mean_se(g_es - _es_terms(r, q))
        if ind_all is not None:
            ind, ind_se = _mean_se(np.asarray(ind_all.isel({dim: k}).values, dtype=float))
        else:
            ind, ind_se = _mean_se(gross - r)
        p = float(prem.isel({dim: k})) if prem is not None else float("nan")
        rows.append({
            "policy": name, "level": q,
            "expected_gross_loss": float(gross.mean()),
            "expected_retained_loss": el_r, "expected_retained_loss_se": el_r_se,
            "var_retained": var_r, "var_retained_ci_low": lo, "var_retained_ci_high": hi,
            "es_retained": es_r, "es_retained_se": es_r_se,
            "premium": p, "expected_indemnity": ind, "expected_indemnity_se": ind_se,
            "net_cost": p - ind, "net_cost_se": ind_se,
            "tail_reduction": red, "tail_reduction_se": red_se,
        })
    return pd.DataFrame(rows)


def plot_insurance_losses(
    ds: xr.Dataset, ax: Axes | None = None, level: float | None = None
) -> Axes:
    """Gross vs retained loss per variant: expected loss, VaR and ES of the retained loss at
    ``level`` (default :func:`default_level`), with the gross figures for comparison.

    Error bars: 95 % (± 1.96 s.e. for the means and ES, the order-statistic interval for VaR).
    """
    ax = _axes(ax)
    fr = insurance_frame(ds, level)
    q = float(fr["level"].iloc[0])
    gross = np.asarray(baseline(ds)["loss"].values, dtype=float)
    el_g, el_g_se = _mean_se(gross)
    var_g, lo_g, hi_g = value_at_risk(gross, q)
    es_g, es_g_se = expected_shortfall(gross, q)
    groups = ["expected loss", f"VaR {q:.1%}", f"ES {q:.1%}"]
    # (name, values, lower errors, upper errors)
    series: list[tuple[str, list[float], list[float], list[float]]] = []
    if NO_COVER not in set(fr["policy"]):
        series.append(("gross (no cover)", [el_g, var_g, es_g],
                       [Z95 * el_g_se, var_g - lo_g, Z95 * es_g_se],
                       [Z95 * el_g_se, hi_g - var_g, Z95 * es_g_se]))
    for _, row in fr.iterrows():
        name = "gross (no cover)" if row["policy"] == NO_COVER else f"retained: {row['policy']}"
        e_el, e_es = Z95 * row["expected_retained_loss_se"], Z95 * row["es_retained_se"]
        v = row["var_retained"]
        series.append((name, [row["expected_retained_loss"], v, row["es_retained"]],
                       [e_el, v - row["var_retained_ci_low"], e_es],
                       [e_el, row["var_retained_ci_high"] - v, e_es]))
    x = np.arange(len(groups))
    w = 0.8 / len(series)
    colors = [_GREY, _BLUE, _GREEN, _ORANGE, _PURPLE, _RED]
    for i, (name, vals, lo, hi) in enumerate(series):
        ax.bar(x - 0.4 + (i + 0.5) * w, vals, width=w, yerr=[lo, hi],
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
    ds: xr.Dataset, ax: Axes | None = None, level: float | None = None
) -> Axes:
    """Per variant with cover: premium, expected indemnity and tail reduction
    ES(gross) − ES(retained) at ``level``, with 95 % error bars."""
    ax = _axes(ax)
    fr = insurance_frame(ds, level)
    fr = fr[fr["policy"] != NO_COVER].reset_index(drop=True)
    q = float(fr["level"].iloc[0]) if len(fr) else default_level(ds)
    x = np.arange(len(fr))
    w = 0.27
    for i, (col, name, color) in enumerate((
        ("premium", "premium", _GREY),
        ("expected_indemnity", "expected indemnity", _BLUE),
        ("tail_reduction", f"ES {q:.1%} reduction", _GREEN),
    )):
        se = fr.get(f"{col}_se")
        err = None if se is None else Z95 * np.nan_to_num(se.to_numpy(dtype=float))
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

def scenario_frame(ds: xr.Dataset, levels: Sequence[float] | None = None) -> pd.DataFrame:
    """Headline metrics per scenario and their change against the baseline.

    Rows: scenarios (baseline first). Columns: ``expected_loss`` (+ ``_se``), ``var_<q>``,
    ``es_<q>`` (+ ``_se``) for each level, ``p_line_breach`` when the run has cash, and for each
    metric ``<metric>_change`` (absolute) and ``<metric>_change_pct`` (fraction) against the
    baseline.
    """
    names = [str(s) for s in ds[SCENARIO_DIM].values]
    base = names.index("baseline") if "baseline" in names else 0
    order = [base] + [i for i in range(len(names)) if i != base]
    qs = risk_levels(ds, levels)
    rows = []
    for i in order:
        sub = ds.isel({SCENARIO_DIM: i})
        x = np.asarray(sub["loss"].values, dtype=float)
        el, el_se = _mean_se(x)
        row: dict[str, Any] = {"scenario": names[i], "expected_loss": el,
                               "expected_loss_se": el_se}
        for q in qs:
            row[f"var_{q:g}"] = value_at_risk(x, q)[0]
            row[f"es_{q:g}"], row[f"es_{q:g}_se"] = expected_shortfall(x, q)
        if "line_breach" in sub and SCENARIO_DIM not in sub["line_breach"].dims:
            row["p_line_breach"] = float(np.asarray(sub["line_breach"].values).mean())
        rows.append(row)
    fr = pd.DataFrame(rows)
    metrics = [c for c in fr.columns if c != "scenario" and not c.endswith("_se")]
    for m in metrics:
        b = float(fr[m].iloc[0])
        fr[f"{m}_change"] = fr[m] - b
        fr[f"{m}_change_pct"] = (fr[m] - b) / b if b != 0 else float("nan")
    return fr


def plot_scenarios(ds: xr.Dataset, ax: Axes | None = None, level: float | None = None
                   ) -> Axes:
    """Expected loss, VaR and ES at ``level`` (default :func:`default_level`) side by side for
    each scenario, with 95 % error bars for the means and ES."""
    ax = _axes(ax)
    q = level if level is not None else default_level(ds)
    fr = scenario_frame(ds, [q])
    groups = [("expected_loss", "expected loss"), (f"var_{q:g}", f"VaR {q:.1%}"),
              (f"es_{q:g}", f"ES {q:.1%}")]
    x = np.arange(len(groups))
    w = 0.8 / len(fr)
    colors = [_GREY, _BLUE, _ORANGE, _RED, _GREEN, _PURPLE]
    for k, (_, row) in enumerate(fr.iterrows()):
        vals = [float(row[c]) for c, _ in groups]
        errs = [Z95 * float(row.get(f"{c}_se", 0.0) or 0.0) for c, _ in groups]
        ax.bar(x - 0.4 + (k + 0.5) * w, vals, width=w, yerr=errs, capsize=2,
               color=colors[k % len(colors)], label=tex_safe(str(row["scenario"])))
    ax.set_xticks(x, [g for _, g in groups])
    da = ds["loss"]
    ax.set_ylabel(label(da, "loss"))
    if _is_money(ds, da):
        ax.yaxis.set_major_formatter(money_formatter())
    ax.set_title("Scenarios")
    ax.legend(fontsize="small", frameon=False)
    return ax
