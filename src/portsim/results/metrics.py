"""Results: the :class:`xarray.Dataset` of a run and its risk metrics with Monte Carlo errors.

Dimension names are fixed: ``path``, ``sector``, ``customer``, ``level`` (risk levels; the
``quantile`` of the design notes), ``period``, ``policy`` (credit-insurance variants, ``none``
first: see :func:`insurance_metrics`), and ``scenario`` (a scenario batch: see
:func:`scenario_comparison`).
Money is in the book's currency, probabilities are fractions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.results.schema import (
    FLOWS,
    POLICY_CASH_SCALARS,
    POLICY_SCALARS,
    SERIES,
    TIMELINE_SCALARS,
)

__all__ = [
    "BAND_QUANTILES",
    "POLICY_CASH_SCALARS",
    "POLICY_SCALARS",
    "SCENARIO_PATH_VARS",
    "SCENARIO_POLICY_VARS",
    "build_dataset",
    "cash_metrics",
    "effective_sample_size",
    "expected_shortfall",
    "insurance_metrics",
    "risk_metrics",
    "scenario_comparison",
    "scenario_paths",
    "summary_table",
    "tail_probability",
    "value_at_risk",
    "weighted_expected_shortfall",
    "weighted_mean",
    "weighted_value_at_risk",
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


_POLICY_ATTRS: dict[str, tuple[str, str]] = {
    "qualifying_loss": ("{cur}", "qualifying loss: claims within buyer limits, above the "
                        "non-qualifying threshold"),
    "indemnity_before_recoveries": ("{cur}", "indemnity before the insurer's share of "
                                    "recoveries"),
    "insurer_recovery_share": ("{cur}", "insurer's pro-rata share of recoveries"),
    "indemnity": ("{cur}", "net indemnity (after the insurer's share of recoveries)"),
    "indemnity_cash": ("{cur}", "net cash from the insurer within the horizon (indemnities "
                       "and advances less refunds and recovery shares; premiums excluded)"),
    "insurer_settlement_pending": ("{cur}", "net indemnity not yet settled in cash at the "
                                   "horizon (negative: refunds owed to the insurer)"),
    "n_claims": ("1", "number of buyers indemnified"),
    "policy_min_cash": ("{cur}", "minimum cash balance after the credit line, with cover"),
    "policy_peak_line_usage": ("{cur}", "peak credit line drawn, with cover"),
    "policy_cash_gap": ("{cur}", "largest shortfall below the cash buffer after the whole "
                        "line, with cover"),
    "policy_buffer_breach": ("1", "cash falls below the buffer without the line, with cover"),
    "policy_line_breach": ("1", "the credit line cannot keep the buffer, with cover"),
    "policy_net_cash_flow": ("{cur}", "net operating cash flow over the horizon with premiums "
                             "and insurer cash flows"),
}


def value_at_risk(losses: np.ndarray, level: float) -> tuple[float, float, float]:
    """Lower empirical quantile inf{x : F_n(x) ≥ level} and a 95 % distribution-free CI.

    The interval is given by order statistics whose ranks are n·q ± 1.96·√(n·q·(1 − q))
    (normal approximation of the binomial count below the true quantile).

    Returns
    -------
    (var, ci_low, ci_high)
    """
    x = np.asarray(losses, dtype=float)
    n = x.size
    k = max(math.ceil(n * level - 1e-9), 1)  # 1-based rank of the lower quantile
    half = Z95 * math.sqrt(n * level * (1.0 - level))
    lo = min(max(math.floor(n * level - half), 1), n)
    hi = min(max(math.ceil(n * level + half), 1), n)
    # only three order statistics are needed: a partition, not a sort
    part = np.partition(x, sorted({k - 1, lo - 1, hi - 1}))
    return float(part[k - 1]), float(part[lo - 1]), float(part[hi - 1])


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


# ------------------------------------------------------------------ weighted estimators
# Importance-sampling runs weight path p by its likelihood ratio w_p = exp(log_weight_p)
# (mean 1 under the sampling measure). Means are the unnormalised (1/n)·Σ w_p·x_p, unbiased;
# tail figures are built from the tail side, P̂(L > x) = (1/n)·Σ w_p·1{L_p > x}, which only
# uses the (well-sampled) tail paths (Glasserman 2004, Monte Carlo Methods in Financial
# Engineering, §9.1). With w ≡ 1 every function equals its plain counterpart.


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)²/Σw² of likelihood-ratio weights (n when all equal)."""
    w = np.asarray(weights, dtype=float)
    s2 = float((w * w).sum())
    return float(w.sum()) ** 2 / s2 if s2 > 0 else 0.0


def weighted_mean(x: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """(1/n)·Σ w·x and its standard error sd(w·x)/√n, as ``{"value", "se"}``."""
    wx = np.asarray(weights, dtype=float) * np.asarray(x, dtype=float)
    return _mean_se(wx)


def tail_probability(
    losses: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """P(L > threshold) estimated as (1/n)·Σ w·1{L > threshold}, and its standard error.

    Returns
    -------
    (p, se)
        ``se`` = sd(w·1{L > x})/√n; for plain sampling (w ≡ 1) the binomial √(p(1 − p)/n).
    """
    x = np.asarray(losses, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    h = np.where(x > threshold, w, 0.0)
    d = _mean_se(h)
    return d["value"], d["se"]


def _tail_sums(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted losses, and per sorted position the sums of w and w² over losses above it."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    s1 = np.concatenate([np.cumsum(ws[::-1])[::-1], [0.0]])
    s2 = np.concatenate([np.cumsum((ws * ws)[::-1])[::-1], [0.0]])
    above = np.searchsorted(xs, xs, side="right")  # first position strictly above
    return xs, s1[above], s2[above]


def weighted_value_at_risk(
    losses: np.ndarray, weights: np.ndarray, level: float
) -> tuple[float, float, float]:
    """VaR from the weighted tail: the smallest loss x with P̂(L > x) ≤ 1 − q, and a 95 % CI.

    The interval inverts the tail estimate: its ends are the smallest losses x with
    P̂(L > x) ≤ 1 − q ± 1.96·se(x), se(x) that of :func:`tail_probability` — for w ≡ 1 the
    order statistics of :func:`value_at_risk` (up to rounding of the ranks).

    Parameters
    ----------
    losses, weights : ndarray, shape (n_paths,)
        Per-path losses (book currency) and likelihood ratios.
    level : float
        q in (0, 1).

    Returns
    -------
    (var, ci_low, ci_high)
    """
    x = np.asarray(losses, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = x.size
    xs, t1, t2 = _tail_sums(x, w)
    tail = t1 / n
    se = np.sqrt(np.maximum(t2 / n - tail**2, 0.0) / n)

    def first(bound: np.ndarray) -> float:
        ok = np.flatnonzero(tail <= bound)
        return float(xs[ok[0]]) if ok.size else float(xs[-1])

    target = 1.0 - level
    return first(np.full(n, target)), first(target + Z95 * se), first(target - Z95 * se)


def weighted_expected_shortfall(
    losses: np.ndarray, weights: np.ndarray, level: float
) -> tuple[float, float]:
    """ES = VaR + (1/(n(1 − q)))·Σ w·(L − VaR)⁺ (Acerbi–Tasche / Rockafellar–Uryasev form,
    VaR from :func:`weighted_value_at_risk`) and its standard error sd(w·(L − VaR)⁺)/(√n(1 − q)).

    The weight of the paths at the VaR is what the atom needs for the tail weights to sum to
    n(1 − q), so atoms at the VaR are handled as in :func:`expected_shortfall`; the VaR error
    does not enter the standard error to first order (the RU form is stationary in it).

    Returns
    -------
    (es, se)
    """
    x = np.asarray(losses, dtype=float)
    w = np.asarray(weights, dtype=float)
    var, _, _ = weighted_value_at_risk(x, w, level)
    h = w * np.maximum(x - var, 0.0) / (1.0 - level)
    d = _mean_se(h)
    return var + d["value"], d["se"]


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
    out : portsim.engine.gather.SimOutput
    inputs : portsim.inputs.model.ModelInputs
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
    lw = getattr(out, "log_weight", None)
    if lw is not None and np.any(lw != 0.0):  # importance sampling: weights are part of it
        ds["log_weight"] = ("path", lw, _attrs("1", "log likelihood ratio of the path "
                                               "(importance sampling): weight every per-path "
                                               "value by exp(log_weight)"))
    tl = getattr(inputs, "timeline", None)
    if tl is not None and out.timeline_scalars is not None:
        _add_timeline(ds, out, tl, currency)
    pol = getattr(inputs, "insurance", None)
    if pol is not None and getattr(out, "policy_scalars", None) is not None:
        _add_insurance(ds, out, pol, currency)
    return ds


def _add_insurance(ds: xr.Dataset, out: Any, pol: Any, currency: str) -> None:
    """The ``policy`` dimension: per-path claims and cash by variant, terms, expected flows."""
    n = out.n_paths
    ds.coords["policy"] = ("policy", list(pol.names),
                           _attrs("", "credit-insurance policy variant ('none': no cover)"))
    for j, name in enumerate(POLICY_SCALARS):
        units, long_name = _POLICY_ATTRS[name]
        col = out.policy_scalars[:, :, j]
        if name == "n_claims":
            col = col.astype(np.int64)
        elif name in ("policy_buffer_breach", "policy_line_breach"):
            col = col.astype(bool)
        ds[name] = (("path", "policy"), col, _attrs(units.format(cur=currency), long_name))
    ds["retained_loss"] = (
        ("path", "policy"), out.loss[:, None] - ds["indemnity"].values,
        _attrs(currency, "retained credit loss: gross loss less net indemnity"),
    )
    for name, values, units, long_name in (
        ("premium", pol.premium_earned, currency, "premium earned over the horizon"),
        ("premium_paid", pol.premium_paid, currency, "premium paid within the horizon"),
        ("annual_premium", pol.annual_premium, currency, "premium per policy year"),
        ("insured_turnover", pol.insured_turnover, currency,
         "planned annual sales to covered buyers"),
        ("first_loss", pol.first_loss, currency, "aggregate first loss per policy year"),
        ("max_liability", pol.max_liability, currency,
         "maximum liability per policy year (inf: unlimited)"),
        ("non_qualifying_loss", pol.non_qualifying_loss, currency,
         "non-qualifying loss threshold per buyer"),
        ("settlement_lag_days", pol.settlement_lag, "days", "days from claim to indemnity"),
    ):
        ds[name] = ("policy", np.asarray(values), _attrs(units, long_name))
    ds["first_loss_before_cover"] = ("policy", np.asarray(pol.before_cover, dtype=bool),
                                     _attrs("1", "first loss taken before the insured "
                                            "percentage"))
    ds["cover_limit"] = (("policy", "customer"), pol.cover_limit,
                         _attrs(currency, "cover limit per buyer (0: not covered)"))
    ds["insured_percentage"] = (("policy", "customer"), pol.insured_pct,
                                _attrs("1", "insured percentage per buyer"))
    ds["cover_type"] = (("policy", "customer"),
                        np.asarray(pol.cover_types, dtype=object)[pol.cover_type].astype(str),
                        _attrs("", "cover of the buyer: " + ", ".join(pol.cover_types)))
    ds["customer_expected_indemnity"] = (
        ("policy", "customer"), out.policy_customer_indemnity / 100.0 / n,
        _attrs(currency, "expected net indemnity by customer (Monte Carlo)"),
    )
    ds["customer_expected_qualifying_loss"] = (
        ("policy", "customer"), out.policy_customer_qualifying / 100.0 / n,
        _attrs(currency, "expected qualifying loss by customer (Monte Carlo)"),
    )
    if "period" in ds.coords:
        ds["premium_cash"] = (("policy", "period"), pol.premium_cash,
                              _attrs(currency, "premium paid per period"))
        ds["expected_indemnity_cash"] = (
            ("policy", "period"), out.policy_flow_sum / n,
            _attrs(currency, "expected net cash from the insurer per period (premiums "
                   "excluded)"),
        )


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

    With a ``log_weight`` variable (importance sampling) every figure is the weighted one
    (:func:`_weighted_risk_metrics`).
    """
    if "log_weight" in ds and np.any(ds["log_weight"].values != 0.0):
        return _weighted_risk_metrics(ds, levels)
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
    if "policy" in ds.dims:
        out["insurance"] = insurance_metrics(ds, levels)
    return out


def _weighted_risk_metrics(ds: xr.Dataset, levels: list[float]) -> dict[str, Any]:
    """:func:`risk_metrics` of an importance-sampling run: the same keys, every estimate
    weighted by w = exp(log_weight) (see "weighted estimators" above), standard errors by
    the weighted-sample delta method, plus ``importance_sampling`` (effective sample size,
    shift). Default-only runs only (the timeline refuses importance sampling)."""
    loss = ds["loss"].values
    w = np.exp(ds["log_weight"].values)
    n = loss.size
    el = weighted_mean(loss, w)
    m = el["value"]
    dev2 = w * (loss - m) ** 2
    var_l = float(dev2.mean())
    sd = math.sqrt(max(var_l, 0.0))
    sd_se = float(dev2.std(ddof=1) / math.sqrt(n)) / (2 * sd) if n > 1 and sd > 0 else math.nan
    out: dict[str, Any] = {
        "currency": ds.attrs.get("currency", ""),
        "n_paths": int(n),
        "total_exposure": float(ds["exposure"].sum()),
        "expected_loss": el,
        "expected_loss_analytic": float((ds["exposure"] * ds["lgd"] * ds["p_horizon"]).sum()),
        "loss_sd": {"value": sd, "se": sd_se},
        "expected_defaults": weighted_mean(ds["n_defaults"].values, w),
        "var": {},
        "es": {},
        "importance_sampling": {
            "effective_sample_size": effective_sample_size(w),
            "mean_weight": float(w.mean()),
            "z_shift": [float(v) for v in np.atleast_1d(ds.attrs.get("z_shift", []))],
            "tail_level": float(ds.attrs.get("tail_level", math.nan)),
        },
    }
    for q in levels:
        v, lo, hi = weighted_value_at_risk(loss, w, q)
        es, es_se = weighted_expected_shortfall(loss, w, q)
        key = f"{q:g}"
        out["var"][key] = {"value": v, "ci_low": lo, "ci_high": hi, "se": (hi - lo) / (2 * Z95)}
        out["es"][key] = {"value": es, "se": es_se}
        p, p_se = tail_probability(loss, v, w)
        out["importance_sampling"].setdefault("p_loss_above_var", {})[key] = {"value": p,
                                                                             "se": p_se}
    sectors = []
    for j, s in enumerate(ds["sector"].values):
        sel = weighted_mean(ds["sector_loss"].values[:, j], w)
        sectors.append({
            "sector": str(s),
            "exposure": float(ds["exposure"].where(ds["customer_sector"] == s).sum()),
            "expected_loss": sel,
            "expected_defaults": weighted_mean(ds["sector_n_defaults"].values[:, j], w),
            "share_of_expected_loss": sel["value"] / m if m > 0 else math.nan,
        })
    out["by_sector"] = sectors
    return out


def _paired_var_diff(a: np.ndarray, b: np.ndarray, level: float) -> dict[str, float]:
    """VaR_level(a) − VaR_level(b) for paired samples, with its standard error.

    Each VaR's standard error is read off its order-statistic interval (≈ √(q(1−q)/n)/f);
    the difference's is √(se_a² + se_b² − 2ρ·se_a·se_b) with ρ the correlation of the
    indicators 1{a ≤ VaR_a} and 1{b ≤ VaR_b} (the influence functions of the quantiles).
    """
    va, lo_a, hi_a = value_at_risk(a, level)
    vb, lo_b, hi_b = value_at_risk(b, level)
    se_a = (hi_a - lo_a) / (2 * Z95)
    se_b = (hi_b - lo_b) / (2 * Z95)
    ia = (a <= va).astype(float)
    ib = (b <= vb).astype(float)
    sa, sb = ia.std(), ib.std()
    rho = float(((ia - ia.mean()) * (ib - ib.mean())).mean() / (sa * sb)) if sa * sb > 0 else 0.0
    var = se_a**2 + se_b**2 - 2.0 * rho * se_a * se_b
    return {"value": va - vb, "se": math.sqrt(max(var, 0.0))}


def _paired_es_diff(a: np.ndarray, b: np.ndarray, level: float) -> dict[str, float]:
    """ES_level(a) − ES_level(b) for paired samples, with its standard error.

    The standard error is that of the mean of the paired influence functions of the
    Rockafellar–Uryasev form, h(x) = VaR + (x − VaR)⁺/(1 − q): sd of h(a_i) − h(b_i) over √n
    (the same paths carry both, so their common noise cancels).
    """
    es_a, _ = expected_shortfall(a, level)
    es_b, _ = expected_shortfall(b, level)
    va = value_at_risk(a, level)[0]
    vb = value_at_risk(b, level)[0]
    h = (va + np.maximum(a - va, 0.0) / (1.0 - level)) - (
        vb + np.maximum(b - vb, 0.0) / (1.0 - level))
    n = a.size
    se = float(h.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {"value": es_a - es_b, "se": se}


def _scaled(d: dict[str, float], by: float) -> dict[str, float]:
    if by == 0:
        return {"value": float("nan"), "se": float("nan")}
    return {"value": d["value"] / by, "se": d["se"] / abs(by)}


def insurance_metrics(ds: xr.Dataset, levels: list[float]) -> dict[str, Any]:
    """The value of each policy variant's cover against ``none``, on the same paths.

    Every difference is variant − none per path, so its Monte Carlo error is that of a paired
    difference: the defaults, delays and LGDs common to both cancel. Per variant:

    * premium earned over the horizon (``premium``), premium paid, insured turnover;
    * expected net indemnity and retained loss; VaR and ES of the retained loss;
    * ``delta_expected_loss`` = E[retained − gross] (= −E[net indemnity]);
    * ``delta_var`` / ``delta_es``: VaR and ES of the retained loss less those of the gross
      loss (standard errors: :func:`_paired_var_diff`, :func:`_paired_es_diff`);
    * ``delta_p_buffer_breach`` / ``delta_p_line_breach``: change in the probability of a cash
      breach (paired indicator differences);
    * ``delta_cash_flow_at_risk``: change in cash-flow-at-risk of the net operating cash flow
      with premiums and insurer cash (paired quantile differences; the error of the mean
      cash flow it is measured from is left out);
    * ``expected_loss_ratio`` = E[net indemnity] / premium; ``net_cost_of_cover`` = premium −
      E[net indemnity]; ``es_reduction_per_premium`` = (ES_none − ES_variant) / premium.
    """
    names = [str(x) for x in ds["policy"].values]
    base = names.index("none")
    gross = ds["loss"].values
    retained = ds["retained_loss"].values
    indemnity = ds["indemnity"].values
    cur = ds.attrs.get("currency", "")
    ncf = ds["policy_net_cash_flow"].values
    short = ncf.mean(axis=0)[None, :] - ncf
    buffer = ds["policy_buffer_breach"].values.astype(float)
    line = ds["policy_line_breach"].values.astype(float)
    out: dict[str, Any] = {
        "currency": cur,
        "baseline": "none",
        "errors": "paired differences on the same paths (VaR: order-statistic errors "
                  "combined with the correlation of the exceedance indicators; ES: paired "
                  "Rockafellar-Uryasev influence functions)",
        "policies": {},
    }
    for v, name in enumerate(names):
        if v == base:
            continue
        prem = float(ds["premium"].values[v])
        ei = _mean_se(indemnity[:, v])
        d_el = _mean_se(retained[:, v] - gross)
        entry: dict[str, Any] = {
            "premium": prem,
            "premium_paid": float(ds["premium_paid"].values[v]),
            "annual_premium": float(ds["annual_premium"].values[v]),
            "insured_turnover": float(ds["insured_turnover"].values[v]),
            "premium_rate_on_insured_turnover": (
                float(ds["annual_premium"].values[v] / ds["insured_turnover"].values[v])
                if ds["insured_turnover"].values[v] > 0 else float("nan")),
            "expected_indemnity": ei,
            "expected_indemnity_cash": _mean_se(ds["indemnity_cash"].values[:, v]),
            "expected_retained_loss": _mean_se(retained[:, v]),
            "expected_n_claims": _mean_se(ds["n_claims"].values[:, v].astype(float)),
            "delta_expected_loss": d_el,
            "expected_loss_ratio": _scaled(ei, prem),
            "net_cost_of_cover": {"value": prem - ei["value"], "se": ei["se"]},
            "delta_p_buffer_breach": _mean_se(buffer[:, v] - buffer[:, base]),
            "delta_p_line_breach": _mean_se(line[:, v] - line[:, base]),
            "retained_var": {}, "retained_es": {}, "delta_var": {}, "delta_es": {},
            "delta_cash_flow_at_risk": {}, "es_reduction_per_premium": {},
        }
        for q in levels:
            key = f"{q:g}"
            r_var, lo, hi = value_at_risk(retained[:, v], q)
            r_es, r_es_se = expected_shortfall(retained[:, v], q)
            entry["retained_var"][key] = {"value": r_var, "ci_low": lo, "ci_high": hi,
                                          "se": (hi - lo) / (2 * Z95)}
            entry["retained_es"][key] = {"value": r_es, "se": r_es_se}
            entry["delta_var"][key] = _paired_var_diff(retained[:, v], gross, q)
            d_es = _paired_es_diff(retained[:, v], gross, q)
            entry["delta_es"][key] = d_es
            entry["delta_cash_flow_at_risk"][key] = _paired_var_diff(short[:, v],
                                                                     short[:, base], q)
            entry["es_reduction_per_premium"][key] = _scaled(
                {"value": -d_es["value"], "se": d_es["se"]}, prem)
        out["policies"][name] = entry
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
    ins = metrics.get("insurance")
    if ins:
        for name, pol in ins["policies"].items():
            pre = f"insurance.{name}."
            for key in ("premium", "premium_paid", "annual_premium", "insured_turnover"):
                add(pre + key, "", {"value": pol[key]}, cur)
            add(pre + "premium_rate_on_insured_turnover", "",
                {"value": pol["premium_rate_on_insured_turnover"]}, "1")
            for key, units in (("expected_indemnity", cur), ("expected_indemnity_cash", cur),
                               ("expected_retained_loss", cur), ("expected_n_claims", "buyers"),
                               ("delta_expected_loss", cur), ("expected_loss_ratio", "1"),
                               ("net_cost_of_cover", cur), ("delta_p_buffer_breach", "1"),
                               ("delta_p_line_breach", "1")):
                add(pre + key, "", pol[key], units)
            for key, units in (("retained_var", cur), ("retained_es", cur), ("delta_var", cur),
                               ("delta_es", cur), ("delta_cash_flow_at_risk", cur),
                               ("es_reduction_per_premium", "1")):
                for level, d in pol[key].items():
                    add(pre + key, level, d, units)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ scenario comparison

#: Per-path variables a scenario batch keeps for every scenario (dims ``scenario, path``; the
#: policy ones also ``policy``), when the runs have them.
SCENARIO_PATH_VARS = ("loss", "n_defaults", "buffer_breach", "line_breach", "net_cash_flow",
                      "dso_avg")
#: Per-path "with cover" variables by policy variant, and the variable without cover that
#: stands in for a variant a scenario does not evaluate (withdrawn cover).
SCENARIO_POLICY_VARS = {"retained_loss": "loss", "policy_buffer_breach": "buffer_breach",
                        "policy_line_breach": "line_breach",
                        "policy_net_cash_flow": "net_cash_flow"}


def scenario_paths(ds: xr.Dataset, policies: list[str] | tuple[str, ...] = ()) -> xr.Dataset:
    """The per-path variables of one run that a scenario comparison needs.

    Parameters
    ----------
    ds : xarray.Dataset
        One scenario's run (:func:`build_dataset`).
    policies : sequence of str
        Policy variants to report "with cover" figures for (the base config's, without
        ``none``). A variant the run did not evaluate (its scenario withdrew or deselected it)
        gets the figures without cover: retained loss = gross loss, cash without premium or
        indemnity.

    Returns
    -------
    xarray.Dataset
        :data:`SCENARIO_PATH_VARS` present in ``ds`` (dim ``path``) and, with ``policies``,
        :data:`SCENARIO_POLICY_VARS` (dims ``path, policy``), attrs kept.
    """
    out = xr.Dataset({k: ds[k] for k in SCENARIO_PATH_VARS if k in ds})
    if policies:
        have = [str(p) for p in ds["policy"].values] if "policy" in ds.dims else []
        for var, plain in SCENARIO_POLICY_VARS.items():
            if plain not in ds:
                continue
            cols = [ds[var].sel(policy=p).values if p in have and var in ds
                    else ds[plain].values for p in policies]
            attrs = dict(ds[var].attrs) if var in ds else dict(ds[plain].attrs)
            out[var] = (("path", "policy"), np.stack(cols, axis=1), attrs)
        out.coords["policy"] = ("policy", list(policies),
                                _attrs("", "credit-insurance policy variant"))
    out.attrs = {k: v for k, v in ds.attrs.items()
                 if k in ("currency", "seed", "n_paths", "scenario", "kernel")}
    return out


def _paired_quantile_diff(a: np.ndarray, b: np.ndarray, level: float) -> dict[str, float]:
    """:func:`_paired_var_diff`, exactly 0 ± 0 for identical samples."""
    if np.array_equal(a, b):
        return {"value": 0.0, "se": 0.0}
    return _paired_var_diff(a, b, level)


def _paired_mean(a: np.ndarray, b: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Mean of ``a`` and of the paired difference ``a − b`` (paths where both are finite)."""
    ok = np.isfinite(a) & np.isfinite(b)
    return _mean_se(a[np.isfinite(a)]), _mean_se(a[ok] - b[ok])


def scenario_comparison(
    paths: xr.Dataset, levels: list[float], baseline: str = "baseline"
) -> pd.DataFrame:
    """Headline metrics of every scenario and their differences to the baseline.

    The scenarios share their paths (common random numbers: the same seed gives every
    scenario the same underlying draws), so each difference is estimated path by path and
    its standard error is that of a paired difference — much smaller than the two
    scenarios' errors combined when the scenarios are alike.

    Parameters
    ----------
    paths : xarray.Dataset
        Dims ``scenario, path`` (and ``policy``): :func:`scenario_paths` of each scenario's
        run, concatenated along ``scenario``.
    levels : list of float
        Risk levels for VaR, ES and cash-flow-at-risk.
    baseline : str
        The scenario the differences are taken against.

    Returns
    -------
    pandas.DataFrame
        One row per scenario, metric and level (and policy): ``scenario, metric, level,
        policy, value, se, diff, diff_se, change_pct, units``. ``diff`` = value − the
        baseline's value; ``diff_se`` its paired standard error (VaR and cash-flow-at-risk:
        order-statistic errors combined with the correlation of the exceedance indicators;
        ES: paired Rockafellar–Uryasev influence functions; means and probabilities: the
        standard error of the mean per-path difference). Metrics: ``expected_loss``,
        ``expected_defaults``, ``var``, ``es``, and with a timeline ``p_buffer_breach``,
        ``p_line_breach``, ``cash_flow_at_risk``, ``dso_avg`` (mean over paths of the
        average DSO); with policies, per policy, ``retained_expected_loss``,
        ``retained_var``, ``retained_es``, ``policy_p_line_breach`` and
        ``policy_cash_flow_at_risk`` (with cover).
    """
    names = [str(s) for s in paths["scenario"].values]
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the scenarios {names}")
    cur = str(paths.attrs.get("currency", ""))
    b = names.index(baseline)
    rows: list[dict[str, Any]] = []

    def add(s: str, metric: str, level: str, policy: str, d: dict[str, float],
            diff: dict[str, float], base: float, units: str) -> None:
        rows.append({"scenario": s, "metric": metric, "level": level, "policy": policy,
                     "value": d["value"], "se": d.get("se", float("nan")),
                     "diff": diff["value"], "diff_se": diff["se"],
                     "change_pct": diff["value"] / base if base != 0 else float("nan"),
                     "units": units})

    def loss_rows(s: str, metric: str, policy: str, x: np.ndarray, xb: np.ndarray) -> None:
        mean, d = _paired_mean(x, xb)
        add(s, f"{metric}expected_loss", "", policy, mean, d, float(xb.mean()), cur)
        for q in levels:
            key = f"{q:g}"
            v, lo, hi = value_at_risk(x, q)
            vb = value_at_risk(xb, q)[0]
            add(s, f"{metric}var", key, policy, {"value": v, "se": (hi - lo) / (2 * Z95)},
                _paired_quantile_diff(x, xb, q), vb, cur)
            es, es_se = expected_shortfall(x, q)
            add(s, f"{metric}es", key, policy, {"value": es, "se": es_se},
                _paired_es_diff(x, xb, q), expected_shortfall(xb, q)[0], cur)

    def cash_rows(s: str, prefix: str, policy: str, brk: np.ndarray, brk_b: np.ndarray,
                  ncf: np.ndarray, ncf_b: np.ndarray) -> None:
        p, d = _paired_mean(brk.astype(float), brk_b.astype(float))
        add(s, f"{prefix}p_line_breach", "", policy, p, d, float(brk_b.mean()), "1")
        short, short_b = ncf.mean() - ncf, ncf_b.mean() - ncf_b
        for q in levels:
            v, lo, hi = value_at_risk(short, q)
            add(s, f"{prefix}cash_flow_at_risk", f"{q:g}", policy,
                {"value": v, "se": (hi - lo) / (2 * Z95)},
                _paired_quantile_diff(short, short_b, q),
                value_at_risk(short_b, q)[0], cur)

    pols = [str(p) for p in paths["policy"].values] if "policy" in paths.dims else []
    for i, s in enumerate(names):
        sub, base = paths.isel(scenario=i), paths.isel(scenario=b)
        loss_rows(s, "", "", sub["loss"].values, base["loss"].values)
        nd, nd_b = (x["n_defaults"].values.astype(float) for x in (sub, base))
        mean, d = _paired_mean(nd, nd_b)
        add(s, "expected_defaults", "", "", mean, d, float(nd_b.mean()), "customers")
        if "line_breach" in paths:
            bb, bb_b = (x["buffer_breach"].values.astype(float) for x in (sub, base))
            mean, d = _paired_mean(bb, bb_b)
            add(s, "p_buffer_breach", "", "", mean, d, float(bb_b.mean()), "1")
            cash_rows(s, "", "", sub["line_breach"].values, base["line_breach"].values,
                      sub["net_cash_flow"].values, base["net_cash_flow"].values)
            dso, dso_b = sub["dso_avg"].values, base["dso_avg"].values
            mean, d = _paired_mean(dso, dso_b)
            add(s, "dso_avg", "", "", mean, d, float(np.nanmean(dso_b)), "days")
        for j, pol in enumerate(pols):
            loss_rows(s, "retained_", pol, sub["retained_loss"].values[:, j],
                      base["retained_loss"].values[:, j])
            if "policy_line_breach" in paths:
                cash_rows(s, "policy_", pol, sub["policy_line_breach"].values[:, j],
                          base["policy_line_breach"].values[:, j],
                          sub["policy_net_cash_flow"].values[:, j],
                          base["policy_net_cash_flow"].values[:, j])
    return pd.DataFrame(rows)
