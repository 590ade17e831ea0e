"""Risk metrics of a run, read from its Dataset, with Monte Carlo errors: credit loss
(:func:`risk_metrics`), cash (:func:`cash_metrics`) and the value of credit insurance
(:func:`insurance_metrics`, and :func:`insurance_frame`, its table per policy variant),
suppliers (:func:`supplier_metrics`), and the flat :func:`summary_table` of them all.

Dimension names are fixed: ``path``, ``sector``, ``customer``, ``level`` (risk levels; the
``quantile`` of the design notes), ``period``, ``policy`` (credit-insurance variants, ``none``
first) and ``scenario`` (a scenario batch: :mod:`portsim.results.comparison`). Money is in the
book's currency, probabilities are fractions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.results.estimators import (
    Z95,
    LikelihoodRatios,
    control_variate_mean,
    effective_sample_size,
    expected_shortfall,
    mean_se,
    paired_es_diff,
    paired_var_diff,
    ratio_of_means,
    tail_effective_sample_size,
    tail_probability,
    value_at_risk,
    weighted_expected_shortfall,
    weighted_mean,
    weighted_quantile,
    weighted_value_at_risk,
)
from portsim.results.schema import NO_COVER

__all__ = [
    "action_metrics",
    "cash_metrics",
    "insurance_frame",
    "insurance_metrics",
    "path_weights",
    "risk_metrics",
    "summary_table",
    "supplier_metrics",
]


def risk_metrics(ds: xr.Dataset, levels: list[float]) -> dict[str, Any]:
    """Headline metrics with Monte Carlo errors, as a JSON-ready dict.

    Expected loss and default count (standard errors), loss standard deviation (standard error
    by the delta method on the fourth moment), VaR (95 % order-statistic interval and a
    standard error read off it) and ES (standard error) at each level, and expected loss,
    expected defaults and share of expected loss by sector.

    With a ``log_weight`` variable (importance sampling) every figure is the weighted one
    (:func:`_weighted_risk_metrics`).
    """
    lr = path_weights(ds)
    if lr is not None:
        return _sections(ds, levels, _weighted_risk_metrics(ds, levels, lr.w), lr)
    loss = ds["loss"].values
    n = loss.size
    sd = float(loss.std(ddof=1)) if n > 1 else float("nan")
    m4 = float(((loss - loss.mean()) ** 4).mean())
    sd_se = math.sqrt(max(m4 - sd**4, 0.0) / n) / (2 * sd) if n > 1 and sd > 0 else float("nan")
    out: dict[str, Any] = {
        "currency": ds.attrs.get("currency", ""),
        "n_paths": int(n),
        "total_exposure": float(ds["exposure"].sum()),
        "expected_loss": mean_se(loss),
        "expected_loss_analytic": float(
            (ds["exposure"] * ds["lgd"] * ds["p_horizon"]).sum()
        ),
        "loss_sd": {"value": sd, "se": sd_se},
        "expected_defaults": mean_se(ds["n_defaults"].values.astype(float)),
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
        el = mean_se(sl)
        sectors.append({
            "sector": str(s),
            "exposure": float(ds["exposure"].where(ds["customer_sector"] == s).sum()),
            "expected_loss": el,
            "expected_defaults": mean_se(sn),
            "share_of_expected_loss": el["value"] / el_total if el_total > 0 else float("nan"),
        })
    out["by_sector"] = sectors
    return _sections(ds, levels, out)


def path_weights(ds: xr.Dataset) -> LikelihoodRatios | None:
    """The likelihood ratios of an importance-sampling run (a ``log_weight`` variable and
    the shift θ in the ``z_shift`` attribute); None for plain Monte Carlo."""
    if "log_weight" not in ds or not np.any(ds["log_weight"].values != 0.0):
        return None
    lw = ds["log_weight"].values
    theta = np.atleast_1d(np.asarray(ds.attrs.get("z_shift", []), dtype=float))
    shift2 = float(theta @ theta)
    return LikelihoodRatios(np.exp(lw), 0.5 * shift2 - lw, shift2)


def _sections(ds: xr.Dataset, levels: list[float], out: dict[str, Any],
              lr: LikelihoodRatios | None = None) -> dict[str, Any]:
    """``out`` with the cash, insurance, supplier and credit-management metrics of the run,
    weighted by the likelihood ratios ``lr`` (None: plain)."""
    if "net_cash_flow" in ds:
        out["cash"] = cash_metrics(ds, levels, lr)
    if "policy" in ds.dims:
        out["insurance"] = insurance_metrics(ds, levels, lr)
    if "supplier_loss" in ds:
        out["suppliers"] = supplier_metrics(ds, levels)
    if "credit_management" in ds.attrs:
        out["actions"] = action_metrics(ds, lr)
    return out


def _mean(x: np.ndarray, lr: LikelihoodRatios | None) -> dict[str, float]:
    """:func:`mean_se`, or with likelihood ratios :func:`control_variate_mean`."""
    return mean_se(x) if lr is None else control_variate_mean(x, lr.w, lr.proj, lr.shift2)


def _var(x: np.ndarray, level: float, lr: LikelihoodRatios | None) -> dict[str, float]:
    """VaR (the ``level`` quantile) of ``x`` with its 95 % interval and the standard error
    read off it; from the weighted tail with likelihood ratios."""
    v, lo, hi = (value_at_risk(x, level) if lr is None
                 else weighted_value_at_risk(x, lr.w, level))
    return {"value": v, "ci_low": lo, "ci_high": hi, "se": (hi - lo) / (2 * Z95)}


def action_metrics(ds: xr.Dataset, lr: LikelihoodRatios | None = None) -> dict[str, Any]:
    """Credit management on the paths (binding limits, ``[actions]``), with Monte Carlo errors:
    lost sales and margin; with monitoring also late-payment interest, collection costs,
    alerts (customers reaching the most severe level) per path, true and false ones, the
    share of alerts that are true (``hit_rate``), the mean lead time of true alerts (days from
    the first period end at the most severe level to the default; alerts weighed equally) and
    the expected customers at each level per period end. ``lr``: the likelihood ratios of an
    importance-sampling run (which refuses monitoring: limits only)."""
    out: dict[str, Any] = {"mode": str(ds.attrs["credit_management"]),
                           "lost_sales": _mean(ds["lost_sales"].values, lr),
                           "lost_margin": _mean(ds["lost_margin"].values, lr)}
    if "n_alerts" not in ds:
        return out
    true = ds["n_true_alerts"].values.astype(float)
    lead = np.nan_to_num(ds["lead_time_days"].values) * true  # summed per path
    out.update({
        "late_interest": mean_se(ds["late_interest"].values),
        "collection_cost": mean_se(ds["collection_cost"].values),
        **{k: mean_se(ds[k].values.astype(float))
           for k in ("n_alerts", "n_true_alerts", "n_false_alerts")},
        "hit_rate": ratio_of_means(true, ds["n_alerts"].values.astype(float)),
        "lead_time_days": ratio_of_means(lead, true),
        "customers_at_level": {
            str(lv): [float(v) for v in ds["customers_at_level"].sel(alert_level=lv).values]
            for lv in ds["alert_level"].values},
    })
    return out


def _weighted_risk_metrics(ds: xr.Dataset, levels: list[float],
                           w: np.ndarray) -> dict[str, Any]:
    """:func:`risk_metrics` of an importance-sampling run: the same keys, every estimate
    weighted by w = exp(log_weight) (see "weighted estimators" above), standard errors by
    the weighted-sample delta method, plus ``importance_sampling``: the effective sample
    size of all paths (``effective_sample_size``) and, per level, of the paths beyond the VaR
    (``tail_effective_sample_size``, what the tail figures rest on), the mean weight, the
    shift, and P(L > VaR)."""
    loss = ds["loss"].values
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
        info = out["importance_sampling"]
        info.setdefault("p_loss_above_var", {})[key] = {"value": p, "se": p_se}
        info.setdefault("tail_effective_sample_size", {})[key] = tail_effective_sample_size(
            loss, w, v)
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



def _scaled(d: dict[str, float], by: float) -> dict[str, float]:
    if by == 0:
        return {"value": float("nan"), "se": float("nan")}
    return {"value": d["value"] / by, "se": d["se"] / abs(by)}


def insurance_metrics(ds: xr.Dataset, levels: list[float],
                      lr: LikelihoodRatios | None = None) -> dict[str, Any]:
    """The value of each policy variant's cover against ``none``, on the same paths.

    Every difference is variant − none per path, so its Monte Carlo error is that of a paired
    difference: the defaults, delays and LGDs common to both cancel. Per variant:

    * premium earned over the horizon (``premium``), premium paid, insured turnover;
    * expected net indemnity and retained loss; VaR and ES of the retained loss;
    * ``delta_expected_loss`` = E[retained − gross] (= −E[net indemnity]);
    * ``delta_var`` / ``delta_es``: VaR and ES of the retained loss less those of the gross
      loss (standard errors: :func:`paired_var_diff`, :func:`paired_es_diff`);
    * ``delta_p_buffer_breach`` / ``delta_p_line_breach``: change in the probability of a cash
      breach (paired indicator differences);
    * ``delta_cash_flow_at_risk``: change in cash-flow-at-risk of the net operating cash flow
      with premiums and insurer cash (paired quantile differences; the error of the mean
      cash flow it is measured from is left out);
    * ``expected_loss_ratio`` = E[net indemnity] / premium; ``net_cost_of_cover`` = premium −
      E[net indemnity]; ``es_reduction_per_premium`` = (ES_none − ES_variant) / premium.

    ``lr``: the likelihood ratios of an importance-sampling run; every estimate is then the
    weighted one (means by :func:`control_variate_mean`, quantiles and the paired
    differences from the weighted tail).
    """
    names = [str(x) for x in ds["policy"].values]
    base = names.index(NO_COVER)
    gross = ds["loss"].values
    retained = ds["retained_loss"].values
    indemnity = ds["indemnity"].values
    cur = ds.attrs.get("currency", "")
    ncf = ds["policy_net_cash_flow"].values
    mean_ncf = (ncf.mean(axis=0) if lr is None else
                np.array([_mean(ncf[:, v], lr)["value"] for v in range(ncf.shape[1])]))
    w = None if lr is None else lr.w
    short = mean_ncf[None, :] - ncf
    buffer = ds["policy_buffer_breach"].values.astype(float)
    line = ds["policy_line_breach"].values.astype(float)
    out: dict[str, Any] = {
        "currency": cur,
        "baseline": NO_COVER,
        "errors": "paired differences on the same paths (VaR: order-statistic errors "
                  "combined with the correlation of the exceedance indicators; ES: paired "
                  "Rockafellar-Uryasev influence functions)",
        "policies": {},
    }
    for v, name in enumerate(names):
        if v == base:
            continue
        prem = float(ds["premium"].values[v])
        ei = _mean(indemnity[:, v], lr)
        d_el = _mean(retained[:, v] - gross, lr)
        entry: dict[str, Any] = {
            "premium": prem,
            "premium_paid": float(ds["premium_paid"].values[v]),
            "annual_premium": float(ds["annual_premium"].values[v]),
            "insured_turnover": float(ds["insured_turnover"].values[v]),
            "premium_rate_on_insured_turnover": (
                float(ds["annual_premium"].values[v] / ds["insured_turnover"].values[v])
                if ds["insured_turnover"].values[v] > 0 else float("nan")),
            "expected_indemnity": ei,
            "expected_indemnity_cash": _mean(ds["indemnity_cash"].values[:, v], lr),
            "expected_retained_loss": _mean(retained[:, v], lr),
            "expected_n_claims": _mean(ds["n_claims"].values[:, v].astype(float), lr),
            "delta_expected_loss": d_el,
            "expected_loss_ratio": _scaled(ei, prem),
            "net_cost_of_cover": {"value": prem - ei["value"], "se": ei["se"]},
            "delta_p_buffer_breach": _mean(buffer[:, v] - buffer[:, base], lr),
            "delta_p_line_breach": _mean(line[:, v] - line[:, base], lr),
            "retained_var": {}, "retained_es": {}, "delta_var": {}, "delta_es": {},
            "delta_cash_flow_at_risk": {}, "es_reduction_per_premium": {},
        }
        for q in levels:
            key = f"{q:g}"
            entry["retained_var"][key] = _var(retained[:, v], q, lr)
            r_es, r_es_se = (expected_shortfall(retained[:, v], q) if w is None
                             else weighted_expected_shortfall(retained[:, v], w, q))
            entry["retained_es"][key] = {"value": r_es, "se": r_es_se}
            entry["delta_var"][key] = paired_var_diff(retained[:, v], gross, q, w)
            d_es = paired_es_diff(retained[:, v], gross, q, w)
            entry["delta_es"][key] = d_es
            entry["delta_cash_flow_at_risk"][key] = paired_var_diff(short[:, v],
                                                                     short[:, base], q, w)
            entry["es_reduction_per_premium"][key] = _scaled(
                {"value": -d_es["value"], "se": d_es["se"]}, prem)
        out["policies"][name] = entry
    return out


def insurance_frame(metrics: dict[str, Any], level: float) -> pd.DataFrame:
    """The value of each policy variant at one risk level, one row per variant, read from
    :func:`risk_metrics` (its ``insurance`` entry, computed at ``level`` among others).

    Returns
    -------
    pandas.DataFrame
        Rows: ``none`` (the gross loss: no cover, no premium, no indemnity) first, then each
        variant. Columns ``policy``, ``level``, ``expected_gross_loss``,
        ``expected_retained_loss`` (``_se``), ``var_retained`` (``_ci_low``, ``_ci_high``),
        ``es_retained`` (``_se``), ``premium``, ``expected_indemnity`` (``_se``), ``net_cost``
        (``_se``) = premium − expected net indemnity, ``tail_reduction`` (``_se``) = ES(gross)
        − ES(retained); money in book currency, ``_se`` standard errors (paired differences
        for the changes).
    """
    key = f"{level:g}"
    el, var, es = metrics["expected_loss"], metrics["var"][key], metrics["es"][key]
    zero = {"value": 0.0, "se": 0.0}
    rows = [(NO_COVER, el, var, es, 0.0, zero, zero, zero)]
    for name, p in metrics["insurance"]["policies"].items():
        d_es = p["delta_es"][key]
        rows.append((name, p["expected_retained_loss"], p["retained_var"][key],
                     p["retained_es"][key], p["premium"], p["expected_indemnity"],
                     p["net_cost_of_cover"], {"value": -d_es["value"], "se": d_es["se"]}))
    return pd.DataFrame([{
        "policy": name, "level": level, "expected_gross_loss": el["value"],
        "expected_retained_loss": r_el["value"], "expected_retained_loss_se": r_el["se"],
        "var_retained": r_var["value"], "var_retained_ci_low": r_var["ci_low"],
        "var_retained_ci_high": r_var["ci_high"],
        "es_retained": r_es["value"], "es_retained_se": r_es["se"], "premium": prem,
        "expected_indemnity": ind["value"], "expected_indemnity_se": ind["se"],
        "net_cost": cost["value"], "net_cost_se": cost["se"],
        "tail_reduction": red["value"], "tail_reduction_se": red["se"],
    } for name, r_el, r_var, r_es, prem, ind, cost, red in rows])


def _prob(x: np.ndarray, lr: LikelihoodRatios | None = None) -> dict[str, float]:
    """P(x) of a boolean per-path ``x`` with its binomial standard error, or with likelihood
    ratios the weighted mean of the indicator (:func:`control_variate_mean`)."""
    if lr is not None:
        return _mean(x.astype(float), lr)
    n = x.size
    p = float(x.mean())
    return {"value": p, "se": math.sqrt(max(p * (1 - p), 0.0) / n) if n else float("nan")}


def _dist(x: np.ndarray, levels: tuple[float, ...] = (0.05, 0.5, 0.95),
          lr: LikelihoodRatios | None = None) -> dict[str, Any]:
    """Mean (standard error) and quantiles of the finite values of ``x``; with likelihood
    ratios, the weighted mean (:func:`control_variate_mean`) and the quantiles of
    :func:`weighted_quantile`."""
    ok = np.isfinite(x)
    if lr is not None:
        if not ok.any():
            return {"value": float("nan"), "se": float("nan"), "quantiles": {}}
        w = lr.w
        # the mean over the finite values: a ratio of weighted means unless all are finite
        out: dict[str, Any] = (_mean(x, lr) if ok.all() else ratio_of_means(
            np.where(ok, w * np.where(ok, x, 0.0), 0.0), np.where(ok, w, 0.0)))
        out["quantiles"] = {f"{q:g}": weighted_quantile(x[ok], w[ok], q) for q in levels}
        return out
    x = x[ok]
    plain: dict[str, Any] = mean_se(x) if x.size else {"value": float("nan"),
                                                       "se": float("nan")}
    plain["quantiles"] = ({f"{q:g}": float(np.quantile(x, q)) for q in levels} if x.size
                          else {})
    return plain


#: The per-path supplier variables of :func:`supplier_metrics`, by their key there.
_SUPPLIER_KEYS = {"expected_defaults": "supplier_n_defaults",
                  "expected_prepayments_lost": "supplier_loss",
                  "expected_premium_cost": "supplier_premium_cost",
                  "expected_lost_sales": "supplier_lost_sales",
                  "expected_lost_margin": "supplier_lost_margin"}


def supplier_metrics(ds: xr.Dataset, levels: list[float]) -> dict[str, Any]:
    """Supplier risk of a run with a supplier table, with Monte Carlo errors.

    The expected number of supplier defaults, prepayments lost, replacement premium, lost
    sales and lost margin (standard errors); the supplier cost of a path, prepayments lost +
    premium + lost margin, its mean and its VaR at each level (95 % order-statistic
    interval); and per supplier its PD within the horizon beside its simulated default rate.
    """
    out: dict[str, Any] = {key: mean_se(ds[name].values.astype(float))
                           for key, name in _SUPPLIER_KEYS.items()}
    cost = (ds["supplier_loss"] + ds["supplier_premium_cost"]
            + ds["supplier_lost_margin"]).values
    out["expected_cost"] = mean_se(cost)
    out["cost_var"] = {}
    for q in levels:
        v, lo, hi = value_at_risk(cost, q)
        out["cost_var"][f"{q:g}"] = {"value": v, "ci_low": lo, "ci_high": hi,
                                     "se": (hi - lo) / (2 * Z95)}
    n = ds.sizes["path"]
    out["by_supplier"] = [
        {"supplier": str(sid), "sector": str(sec), "p_horizon": float(p),
         "default_rate": {"value": float(r), "se": math.sqrt(max(r * (1 - r), 0.0) / n)}}
        for sid, sec, p, r in zip(ds["supplier"].values, ds["supplier_sector"].values,
                                  ds["supplier_p_horizon"].values,
                                  ds["supplier_default_rate"].values, strict=True)]
    return out


def cash_metrics(ds: xr.Dataset, levels: list[float],
                 lr: LikelihoodRatios | None = None) -> dict[str, Any]:
    """Cash, DSO and working-capital metrics of a timeline run, with Monte Carlo errors.

    Cash-flow-at-risk at level q is E[NCF] − Q_{1−q}(NCF) for the net operating cash flow over
    the horizon (how far cash flow can fall short of its expectation), with the 95 % interval
    of the order statistic; probabilities carry binomial standard errors.

    With the likelihood ratios ``lr`` of an importance-sampling run every figure is the
    weighted one: means and probabilities (means of indicators) by
    :func:`control_variate_mean`,
    quantiles (CFaR, the lower quantiles of the minimum cash) from the weighted tail
    (:func:`weighted_value_at_risk`), and ``importance_sampling`` gives, per level, the
    effective sample size of the paths beyond the CFaR (``tail_effective_sample_size``) and
    of those breaching the credit line.
    """
    ncf = ds["net_cash_flow"].values
    short = (ncf.mean() if lr is None else _mean(ncf, lr)["value"]) - ncf
    cfar = {f"{q:g}": _var(short, q, lr) for q in levels}
    minc = ds["min_cash"].values
    min_cash_q = {}
    for q in levels:
        v = _var(-minc, q, lr)
        min_cash_q[f"{1 - q:.4g}"] = {"value": -v["value"], "ci_low": -v["ci_high"],
                                      "ci_high": -v["ci_low"]}
    first = ds["first_breach_period"].values
    periods = ds["period"].values
    breach_by_period = [
        {"period": str(periods[k]), **_prob(first == k, lr)} for k in range(periods.size)
    ]
    out = {
        "p_buffer_breach": _prob(ds["buffer_breach"].values, lr),
        "p_line_breach": _prob(ds["line_breach"].values, lr),
        "first_breach_by_period": breach_by_period,
        "cash_flow_at_risk": cfar,
        "net_cash_flow": _dist(ncf, lr=lr),
        "min_cash": {**_dist(minc, lr=lr), "lower_quantiles": min_cash_q},
        "peak_line_usage": _dist(ds["peak_line_usage"].values, lr=lr),
        "cash_gap": _dist(ds["cash_gap"].values, lr=lr),
        "dso_avg": _dist(ds["dso_avg"].values, lr=lr),
        "dso_end": _dist(ds["dso_end"].values, lr=lr),
        "peak_wcr": _dist(ds["peak_wcr"].values, lr=lr),
        "protracted_amount": _mean(ds["protracted_amount"].values, lr),
        "n_protracted": _mean(ds["n_protracted"].values.astype(float), lr),
        "series_stride": int(ds.attrs.get("series_stride", 1)),
    }
    if lr is not None:
        line = ds["line_breach"].values.astype(bool)
        out["importance_sampling"] = {
            "effective_sample_size": effective_sample_size(lr.w),
            "tail_effective_sample_size": {
                key: tail_effective_sample_size(short, lr.w, d["value"])
                for key, d in cfar.items()},
            "line_breach_effective_sample_size": effective_sample_size(lr.w[line]),
        }
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
    sup = metrics.get("suppliers")
    if sup:
        for key in (*_SUPPLIER_KEYS, "expected_cost"):
            add(f"suppliers.{key}", "", sup[key],
                "suppliers" if key == "expected_defaults" else cur)
        for key, d in sup["cost_var"].items():
            add("suppliers.cost_var", key, d, cur)
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


