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

__all__ = [
    "build_dataset",
    "expected_shortfall",
    "risk_metrics",
    "summary_table",
    "value_at_risk",
]

Z95 = 1.959963984540054


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
                "customer", out.customer_loss_sum / n,
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
    return ds


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
    return out


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
    return pd.DataFrame(rows)
