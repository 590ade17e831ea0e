"""Results: the :class:`xarray.Dataset` of a run and its risk metrics with Monte Carlo errors.

Dimension names are fixed: ``path``, ``sector``, ``customer``, ``level`` (risk levels; the
``quantile`` of the design notes), and later ``period``, ``scenario``, ``policy``.
Money is in the book's currency, probabilities are fractions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.cash import FLOWS, SERIES, TIMELINE_SCALARS

__all__ = [
    "BAND_QUANTILES",
    "build_dataset",
    "cash_metrics",
    "expected_shortfall",
    "risk_metrics",
    "summary_table",
    "value_at_risk",
]

Z95 = 1.959963984540054
BAND_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)

_TIMELINE_ATTRS: dict[str, tuple[str, str]] = {
    "invoiced": ("{cur}", "forward sales invoiced over the horizon"),
    "recovered": ("{cur}", "recoveries received within the horizon"),
    "still_open": ("{cur}", "receivables still open at the horizon"),
    "recovery_pending": ("{cur}", "recoveries due after the horizon"),
    "n_protracted": ("1", "number of invoices in protracted default"),
    "protracted_amount": ("{cur}", "invoices in protracted default"),
    "written_off": ("{cur}", "receivables unpaid at default (before recovery)"),
    "collected": ("{cur}", "collections over the horizon"),
    "min_cash": ("{cur}", "minimum cash balance after the credit line"),
    "peak_line_usage": ("{cur}", "peak credit line drawn"),
    "cash_gap": ("{cur}", "largest shortfall below the cash buffer after the whole line"),
    "first_breach_period": ("1", "first period with a cash gap (-1: none)"),
    "buffer_breach": ("1", "cash falls below the buffer without the line"),
    "line_breach": ("1", "the credit line cannot keep the buffer (cash gap)"),
    "dso_avg": ("days", "days sales outstanding, average over periods"),
    "dso_end": ("days", "days sales outstanding at the horizon"),
    "peak_wcr": ("{cur}", "peak working-capital requirement (AR + inventory - AP)"),
    "net_cash_flow": ("{cur}", "net operating cash flow over the horizon"),
}


def value_at_risk(losses: np.ndarray, level: float) -> tuple[float, float, float]:
    """Lower empirical quantile inf{x : F_n(x) ≥ level} and a 95 % distribution-free CI.

    The interval is given by order statistics whose ranks are n·q ± 1.96·√(n·q·(1 − q))
    (normal approximation of the binomial count below the true quantile).

    Returns
    -------
    (var, ci_low, ci_high)
    """
    x = np.sort(np.asarray(losses, dtype=float))
    n = x.size
    k = max(math.ceil(n * level - 1e-9), 1)  # 1-based rank of the lower quantile
    half = Z95 * math.sqrt(n * level * (1.0 - level))
    lo = min(max(math.floor(n * level - half), 1), n)
    hi = min(max(math.ceil(n * level + half), 1), n)
    return float(x[k - 1]), float(x[lo - 1]), float(x[hi - 1])


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


def _attrs(units: str, long_name: str) -> dict[str, str]:
    return {"units": units, "long_name": long_name}


def build_dataset(
    out: Any,
    inputs: Any,
    *,
    currency: str,
    provenance: dict[str, Any],
) -> xr.Dataset:
    """The run's Dataset: per-path outputs, per-customer sums and static customer data.

    Parameters
    ----------
    out : portsim.engine.SimOutput
    inputs : portsim.scenario.ModelInputs
    currency : str
        Book currency, used as the ``units`` of money.
    provenance : dict
        Stored as attributes (portsim version, seed, config hash, paths, …).
    """
    n = out.n_paths
    ds = xr.Dataset(
        {
            "loss": ("path", out.loss, _attrs(currency, "credit loss over the horizon")),
            "n_defaults": ("path", out.n_defaults, _attrs("1", "number of defaulted customers")),
            "sector_loss": (
                ("path", "sector"), out.sector_loss, _attrs(currency, "credit loss by sector")
            ),
            "sector_n_defaults": (
                ("path", "sector"), out.sector_n_defaults,
                _attrs("1", "number of defaulted customers by sector"),
            ),
            "customer_expected_loss": (
                "customer", out.customer_loss_sum / 100.0 / n,
                _attrs(currency, "expected loss by customer (Monte Carlo)"),
            ),
            "customer_default_rate": (
                "customer", out.customer_n_defaults_sum / n,
                _attrs("1", "fraction of paths in which the customer defaults"),
            ),
            "exposure": ("customer", inputs.exposure, _attrs(currency, "open receivable")),
            "p_default": (
                "customer", inputs.p_default, _attrs("1", "1-year probability of default")
            ),
            "p_horizon": (
                "customer", inputs.p_horizon,
                _attrs("1", "probability of default within the horizon"),
            ),
            "asset_correlation": (
                "customer", inputs.asset_correlation, _attrs("1", "asset correlation R")
            ),
            "lgd": ("customer", inputs.lgd_mean, _attrs("1", "mean loss given default")),
            "customer_sector": (
                "customer", np.asarray(inputs.sector_names, dtype=object)[inputs.sector]
                .astype(str), _attrs("", "sector of the customer"),
            ),
        },
        coords={
            "path": ("path", np.arange(n), _attrs("1", "Monte Carlo path")),
            "sector": ("sector", list(inputs.sector_names), _attrs("", "sector")),
            "customer": ("customer", list(inputs.customer_ids), _attrs("", "customer id")),
        },
        attrs={"currency": currency, **{k: _attr_value(v) for k, v in provenance.items()}},
    )
    tl = getattr(inputs, "timeline", None)
    if tl is not None and out.timeline_scalars is not None:
        _add_timeline(ds, out, tl, currency)
    return ds


def _add_timeline(ds: xr.Dataset, out: Any, tl: Any, currency: str) -> None:
    ds.coords["period"] = ("period", list(tl.period_label),
                           _attrs("", "reporting period (last day)"))
    ds.coords["period_end_day"] = ("period", tl.period_end_day,
                                   _attrs("days", "days from the as-of date to the period end"))
    for j, name in enumerate(TIMELINE_SCALARS):
        units, long_name = _TIMELINE_ATTRS[name]
        col = out.timeline_scalars[:, j]
        if name in ("n_protracted", "first_breach_period"):
            col = col.astype(np.int64)
        elif name in ("buffer_breach", "line_breach"):
            col = col.astype(bool)
        ds[name] = ("path", col, _attrs(units.format(cur=currency), long_name))
    n = out.n_paths
    for j, name in enumerate(FLOWS):
        mean = out.flow_sum[j] / n
        var = np.maximum(out.flow_sumsq[j] / n - mean**2, 0.0) * n / max(n - 1, 1)
        ds[f"expected_{name}"] = ("period", mean,
                                  _attrs(currency, f"expected {name.replace('_', ' ')}"))
        ds[f"expected_{name}_se"] = ("period", np.sqrt(var / n),
                                     _attrs(currency, f"standard error of expected {name}"))
    ds.coords["sample_path"] = ("sample_path", out.series_paths,
                                _attrs("1", "paths kept for per-period series"))
    for j, name in enumerate(SERIES):
        ds[f"{name}_series"] = (("sample_path", "period"), out.series[j],
                                _attrs(currency, f"{name} at the end of each period"))
        band = np.quantile(out.series[j].astype(float), BAND_QUANTILES, axis=0)
        ds[f"{name}_band"] = (("band", "period"), band,
                              _attrs(currency, f"quantiles of {name} across paths"))
    ds.coords["band"] = ("band", list(BAND_QUANTILES), _attrs("1", "quantile across paths"))
    ds.attrs["series_stride"] = int(out.timings.get("series_stride", 1))
    ds.attrs["series_dtype"] = "float32"
    ds.attrs["as_of"] = str(tl.as_of)
    ds.attrs["opening_cash"] = tl.opening_cash
    ds.attrs["credit_line"] = tl.credit_line
    ds.attrs["min_cash_buffer"] = tl.min_cash_buffer


def _attr_value(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float | str | np.integer | np.floating):
        return v
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "if":
        return v
    return str(v)


def _mean_se(x: np.ndarray) -> dict[str, float]:
    n = x.size
    return {
        "value": float(x.mean()),
        "se": float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"),
    }


def risk_metrics(ds: xr.Dataset, levels: list[float]) -> dict[str, Any]:
    """Headline metrics with Monte Carlo errors, as a JSON-ready dict.

    Expected loss and default count (standard errors), loss standard deviation (standard error
    by the delta method on the fourth moment), VaR (95 % order-statistic interval and a
    standard error read off it) and ES (standard error) at each level, and expected loss,
    expected defaults and share of expected loss by sector.
    """
    loss = ds["loss"].values
    n = loss.size
    sd = float(loss.std(ddof=1)) if n > 1 else float("nan")
    m4 = float(((loss - loss.mean()) ** 4).mean())
    sd_se = math.sqrt(max(m4 - sd**4, 0.0) / n) / (2 * sd) if n > 1 and sd > 0 else float("nan")
    out: dict[str, Any] = {
        "currency": ds.attrs.get("currency", ""),
        "n_paths": int(n),
        "total_exposure": float(ds["exposure"].sum()),
        "expected_loss": _mean_se(loss),
        "expected_loss_analytic": float(
            (ds["exposure"] * ds["lgd"] * ds["p_horizon"]).sum()
        ),
        "loss_sd": {"value": sd, "se": sd_se},
        "expected_defaults": _mean_se(ds["n_defaults"].values.astype(float)),
        "var": {},
        "es": {},
    }
    for q in levels:
        v, lo, hi = value_at_risk(loss, q)
        es, es_se = expected_shortfall(loss, q)
        key = f"{q:g}"
        out["var"][key] = {"value": v, "ci_low": lo, "ci_high": hi, "se": (hi - lo) / (2 * Z95)}
        out["es"][key] = {"value": es, "se": es_se}
    sectors = []
    el_total = out["expected_loss"]["value"]
    for s in ds["sector"].values:
        sl = ds["sector_loss"].sel(sector=s).values
        sn = ds["sector_n_defaults"].sel(sector=s).values.astype(float)
        el = _mean_se(sl)
        sectors.append({
            "sector": str(s),
            "exposure": float(ds["exposure"].where(ds["customer_sector"] == s).sum()),
            "expected_loss": el,
            "expected_defaults": _mean_se(sn),
            "share_of_expected_loss": el["value"] / el_total if el_total > 0 else float("nan"),
        })
    out["by_sector"] = sectors
    if "net_cash_flow" in ds:
        out["cash"] = cash_metrics(ds, levels)
    return out


def _prob(x: np.ndarray) -> dict[str, float]:
    n = x.size
    p = float(x.mean())
    return {"value": p, "se": math.sqrt(max(p * (1 - p), 0.0) / n) if n else float("nan")}


def _dist(x: np.ndarray, levels: tuple[float, ...] = (0.05, 0.5, 0.95)) -> dict[str, Any]:
    x = x[np.isfinite(x)]
    out: dict[str, Any] = _mean_se(x) if x.size else {"value": float("nan"), "se": float("nan")}
    out["quantiles"] = {f"{q:g}": float(np.quantile(x, q)) for q in levels} if x.size else {}
    return out


def cash_metrics(ds: xr.Dataset, levels: list[float]) -> dict[str, Any]:
    """Cash, DSO and working-capital metrics of a timeline run, with Monte Carlo errors.

    Cash-flow-at-risk at level q is E[NCF] − Q_{1−q}(NCF) for the net operating cash flow over
    the horizon (how far cash flow can fall short of its expectation), with the 95 % interval
    of the order statistic; probabilities carry binomial standard errors.
    """
    ncf = ds["net_cash_flow"].values
    short = ncf.mean() - ncf
    cfar = {}
    for q in levels:
        v, lo, hi = value_at_risk(short, q)
        cfar[f"{q:g}"] = {"value": v, "ci_low": lo, "ci_high": hi, "se": (hi - lo) / (2 * Z95)}
    minc = ds["min_cash"].values
    min_cash_q = {}
    for q in levels:
        v, lo, hi = value_at_risk(-minc, q)
        min_cash_q[f"{1 - q:.4g}"] = {"value": -v, "ci_low": -hi, "ci_high": -lo}
    first = ds["first_breach_period"].values
    periods = ds["period"].values
    breach_by_period = [
        {"period": str(periods[k]), **_prob(first == k)} for k in range(periods.size)
    ]
    return {
        "p_buffer_breach": _prob(ds["buffer_breach"].values),
        "p_line_breach": _prob(ds["line_breach"].values),
        "first_breach_by_period": breach_by_period,
        "cash_flow_at_risk": cfar,
        "net_cash_flow": _dist(ncf),
        "min_cash": {**_dist(minc), "lower_quantiles": min_cash_q},
        "peak_line_usage": _dist(ds["peak_line_usage"].values),
        "cash_gap": _dist(ds["cash_gap"].values),
        "dso_avg": _dist(ds["dso_avg"].values),
        "dso_end": _dist(ds["dso_end"].values),
        "peak_wcr": _dist(ds["peak_wcr"].values),
        "protracted_amount": _mean_se(ds["protracted_amount"].values),
        "n_protracted": _mean_se(ds["n_protracted"].values.astype(float)),
        "series_stride": int(ds.attrs.get("series_stride", 1)),
    }


def summary_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """Flat table of the headline metrics (one row per metric and level), for CSV and the CLI."""
    cur = metrics["currency"]
    rows: list[dict[str, Any]] = []

    def add(metric: str, level: str, d: dict[str, float], units: str) -> None:
        rows.append({
            "metric": metric, "level": level, "value": d["value"], "se": d.get("se"),
            "ci_low": d.get("ci_low"), "ci_high": d.get("ci_high"), "units": units,
        })

    add("expected_loss", "", metrics["expected_loss"], cur)
    add("loss_sd", "", metrics["loss_sd"], cur)
    add("expected_defaults", "", metrics["expected_defaults"], "customers")
    for key, d in metrics["var"].items():
        add("var", key, d, cur)
    for key, d in metrics["es"].items():
        add("es", key, d, cur)
    for s in metrics["by_sector"]:
        add("sector_expected_loss", s["sector"], s["expected_loss"], cur)
    cash = metrics.get("cash")
    if cash:
        add("p_buffer_breach", "", cash["p_buffer_breach"], "1")
        add("p_line_breach", "", cash["p_line_breach"], "1")
        for key, d in cash["cash_flow_at_risk"].items():
            add("cash_flow_at_risk", key, d, cur)
        for name, units in (("min_cash", cur), ("peak_line_usage", cur), ("cash_gap", cur),
                            ("dso_avg", "days"), ("dso_end", "days"), ("peak_wcr", cur),
                            ("net_cash_flow", cur)):
            add(f"mean_{name}", "", cash[name], units)
            for q, v in cash[name]["quantiles"].items():
                rows.append({"metric": name, "level": q, "value": v, "se": None,
                             "ci_low": None, "ci_high": None, "units": units})
    return pd.DataFrame(rows)
