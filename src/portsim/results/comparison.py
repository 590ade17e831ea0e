"""Scenario comparison on common random numbers: the per-path variables each scenario's run
keeps (:func:`scenario_paths`), and the headline metrics of every scenario with their paired
differences to the baseline (:func:`scenario_comparison`), and that table one row per scenario
(:func:`comparison_frame`, read by the report's table and figure and by the command line),
and the CreditRisk+ figures of each scenario beside its run's (:func:`creditriskplus_by_scenario`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.results.estimators import (
    Z95,
    expected_shortfall,
    paired_es_diff,
    paired_mean,
    paired_quantile_diff,
    value_at_risk,
)
from portsim.results.schema import COMPARISON_COORDS, SCENARIO_DIM

__all__ = [
    "SCENARIO_PATH_VARS",
    "SCENARIO_POLICY_VARS",
    "WARNING_VALUE_COLUMNS",
    "comparison_frame",
    "comparison_level",
    "creditriskplus_by_scenario",
    "scenario_comparison",
    "scenario_frame",
    "scenario_paths",
    "warning_value_frame",
    "warning_value_summary",
]

#: Per-path variables a scenario batch keeps for every scenario (dims ``scenario, path``; the
#: policy ones also ``policy``), when the runs have them.
SCENARIO_PATH_VARS = ("loss", "n_defaults", "buffer_breach", "line_breach", "net_cash_flow",
                      "dso_avg", "lost_margin")
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
        One scenario's run (:func:`portsim.results.dataset.build_dataset`).
    policies : sequence of str
        Policy variants to report "with cover" figures for (the base config's, without
        ``none``). A variant the run did not evaluate (its scenario withdrew or deselected it)
        gets the figures without cover: retained loss = gross loss, cash without premium or
        indemnity.

    Returns
    -------
    xarray.Dataset
        :data:`SCENARIO_PATH_VARS` present in ``ds`` (dim ``path``; ``lost_margin`` only when
        the run has credit management, ``ds.attrs["credit_management"]``) and, with ``policies``,
        :data:`SCENARIO_POLICY_VARS` (dims ``path, policy``), attrs kept.
    """
    # lost margin only from a run with credit management (binding limits or [actions]): every
    # timeline run carries it, at zero without them
    keep = [k for k in SCENARIO_PATH_VARS
            if k in ds and (k != "lost_margin" or "credit_management" in ds.attrs)]
    out = xr.Dataset({k: ds[k] for k in keep})
    if policies:
        have = [str(p) for p in ds["policy"].values] if "policy" in ds.dims else []
        for var, plain in SCENARIO_POLICY_VARS.items():
            if plain not in ds:
                continue
            cols = [ds[var].sel(policy=p).values if p in have and var in ds
                    else ds[plain].values for p in policies]
            attrs = dict(ds[var].attrs) if var in ds else dict(ds[plain].attrs)
            out[var] = (("path", "policy"), np.stack(cols, axis=1), attrs)
        out.coords["policy"] = ("policy", list(policies), _coord_attrs("policy"))
    out.attrs = {k: v for k, v in ds.attrs.items()
                 if k in ("currency", "seed", "n_paths", "scenario", "kernel",
                          "credit_management")}
    return out


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
        ``policy_cash_flow_at_risk`` (with cover). With ``lost_margin`` (the margin of the
        sales a run's actions refused, per path): ``lost_margin`` (its mean) and
        ``loss_and_lost_margin`` (the mean of loss + lost margin per path, whose paired
        difference is the net value of the actions, see :func:`warning_value_frame`).
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
        mean, d = paired_mean(x, xb)
        add(s, f"{metric}expected_loss", "", policy, mean, d, float(xb.mean()), cur)
        for q in levels:
            key = f"{q:g}"
            v, lo, hi = value_at_risk(x, q)
            vb = value_at_risk(xb, q)[0]
            add(s, f"{metric}var", key, policy, {"value": v, "se": (hi - lo) / (2 * Z95)},
                paired_quantile_diff(x, xb, q), vb, cur)
            es, es_se = expected_shortfall(x, q)
            add(s, f"{metric}es", key, policy, {"value": es, "se": es_se},
                paired_es_diff(x, xb, q), expected_shortfall(xb, q)[0], cur)

    def cash_rows(s: str, prefix: str, policy: str, brk: np.ndarray, brk_b: np.ndarray,
                  ncf: np.ndarray, ncf_b: np.ndarray) -> None:
        p, d = paired_mean(brk.astype(float), brk_b.astype(float))
        add(s, f"{prefix}p_line_breach", "", policy, p, d, float(brk_b.mean()), "1")
        short, short_b = ncf.mean() - ncf, ncf_b.mean() - ncf_b
        for q in levels:
            v, lo, hi = value_at_risk(short, q)
            add(s, f"{prefix}cash_flow_at_risk", f"{q:g}", policy,
                {"value": v, "se": (hi - lo) / (2 * Z95)},
                paired_quantile_diff(short, short_b, q),
                value_at_risk(short_b, q)[0], cur)

    pols = [str(p) for p in paths["policy"].values] if "policy" in paths.dims else []
    for i, s in enumerate(names):
        sub, base = paths.isel(scenario=i), paths.isel(scenario=b)
        loss_rows(s, "", "", sub["loss"].values, base["loss"].values)
        nd, nd_b = (x["n_defaults"].values.astype(float) for x in (sub, base))
        mean, d = paired_mean(nd, nd_b)
        add(s, "expected_defaults", "", "", mean, d, float(nd_b.mean()), "customers")
        if "line_breach" in paths:
            bb, bb_b = (x["buffer_breach"].values.astype(float) for x in (sub, base))
            mean, d = paired_mean(bb, bb_b)
            add(s, "p_buffer_breach", "", "", mean, d, float(bb_b.mean()), "1")
            cash_rows(s, "", "", sub["line_breach"].values, base["line_breach"].values,
                      sub["net_cash_flow"].values, base["net_cash_flow"].values)
            dso, dso_b = sub["dso_avg"].values, base["dso_avg"].values
            mean, d = paired_mean(dso, dso_b)
            add(s, "dso_avg", "", "", mean, d, float(np.nanmean(dso_b)), "days")
        if "lost_margin" in paths:
            lm, lm_b = sub["lost_margin"].values, base["lost_margin"].values
            mean, d = paired_mean(lm, lm_b)
            add(s, "lost_margin", "", "", mean, d, float(lm_b.mean()), cur)
            tot, tot_b = sub["loss"].values + lm, base["loss"].values + lm_b
            mean, d = paired_mean(tot, tot_b)
            add(s, "loss_and_lost_margin", "", "", mean, d, float(tot_b.mean()), cur)
        for j, pol in enumerate(pols):
            loss_rows(s, "retained_", pol, sub["retained_loss"].values[:, j],
                      base["retained_loss"].values[:, j])
            if "policy_line_breach" in paths:
                cash_rows(s, "policy_", pol, sub["policy_line_breach"].values[:, j],
                          base["policy_line_breach"].values[:, j],
                          sub["policy_net_cash_flow"].values[:, j],
                          base["policy_net_cash_flow"].values[:, j])
    return pd.DataFrame(rows)


def creditriskplus_by_scenario(metrics: Mapping[str, Mapping[str, Any]]
                               ) -> dict[str, dict[str, Any]]:
    """Each scenario's expected loss, loss standard deviation, VaR and ES: its run's, with
    their Monte Carlo errors, beside the exact CreditRisk+ figures of the same book under the
    same scenario (``[creditriskplus] compare = true``).

    Parameters
    ----------
    metrics : mapping of str to dict
        Each scenario's summary (:func:`portsim.summarize`), with the ``creditriskplus`` key
        the run folder adds (:func:`portsim.creditriskplus.analytic.summary`).

    Returns
    -------
    dict
        By scenario (those whose summary has CreditRisk+ figures, in the order given):
        ``expected_loss`` and ``loss_sd`` as ``{"run", "run_se", "creditriskplus"}``, ``var``
        and ``es`` keyed by level (``"0.99"``) as ``{"run", "run_se", "creditriskplus"}``
        (the VaR's ``run_se`` from its 95 % confidence interval); money in book currency.
        Empty when no scenario has them.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, m in metrics.items():
        crp = m.get("creditriskplus")
        if not crp:
            continue
        row: dict[str, Any] = {
            key: {"run": float(m[key]["value"]), "run_se": float(m[key]["se"]),
                  "creditriskplus": float(crp[key])}
            for key in ("expected_loss", "loss_sd")}
        row["var"] = {q: {"run": float(v["value"]),
                          "run_se": float(v["ci_high"] - v["ci_low"]) / (2 * Z95),
                          "creditriskplus": float(crp["var"][q])}
                      for q, v in m["var"].items() if q in crp["var"]}
        row["es"] = {q: {"run": float(v["value"]), "run_se": float(v["se"]),
                         "creditriskplus": float(crp["es"][q])}
                     for q, v in m["es"].items() if q in crp["es"]}
        out[str(name)] = row
    return out


def _coord_attrs(name: str) -> dict[str, str]:
    var = COMPARISON_COORDS[name]
    return {"units": var.units, "long_name": var.long_name}


def comparison_level(levels: list[float] | tuple[float, ...]) -> float:
    """The single level of a comparison summary: 0.99 when among ``levels``, else the
    highest."""
    return 0.99 if any(math.isclose(q, 0.99) for q in levels) else max(levels)


def comparison_frame(
    table: pd.DataFrame, columns: list[tuple[str, str]], baseline: str, policy: str = ""
) -> pd.DataFrame:
    """The long :func:`scenario_comparison` table as one row per scenario (baseline first).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`scenario_comparison`'s rows (also as read back from ``comparison.csv``).
    columns : list of (metric, level)
        The metrics to show, ``level`` ``""`` for those without one (e.g.
        ``("expected_loss", "")``, ``("var", "0.99")``); a metric the table lacks is left out.
    baseline : str
        The scenario shown first.
    policy : str
        The policy variant of the rows (``""``: without cover).

    Returns
    -------
    pandas.DataFrame
        Column ``scenario`` and, for each metric ``m`` (named ``metric`` or
        ``metric_level``): ``m`` (value), ``m_se``, ``m_change`` (difference to the baseline),
        ``m_change_se`` (its paired standard error) and ``m_change_pct`` (fraction of the
        baseline's value).
    """
    level = table["level"].astype(object).fillna("").astype(str).replace("nan", "")
    pol = table["policy"].astype(object).fillna("").astype(str)
    names = list(dict.fromkeys(str(s) for s in table["scenario"]))
    order = [baseline, *(s for s in names if s != baseline)]
    out = pd.DataFrame({"scenario": order})
    for metric, lv in columns:
        rows = table[(table["metric"] == metric) & (level == lv) & (pol == policy)]
        if rows.empty:
            continue
        rows = rows.set_index(rows["scenario"].astype(str)).reindex(order)
        key = f"{metric}_{lv}" if lv else metric
        for suffix, col in (("", "value"), ("_se", "se"), ("_change", "diff"),
                            ("_change_se", "diff_se"), ("_change_pct", "change_pct")):
            out[key + suffix] = rows[col].to_numpy(dtype=float)
    return out


def scenario_frame(ds: xr.Dataset, level: float) -> pd.DataFrame:
    """Headline metrics of each scenario of a Dataset with a ``scenario`` dimension and their
    change against the baseline (the scenario named ``"baseline"``, else the first).

    :func:`scenario_comparison` of the Dataset's per-path variables, one row per scenario
    (:func:`comparison_frame`):
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


#: The columns of :func:`warning_value_frame` (each with ``_se``), and the comparison metric
#: and sign they come from: +1 the change against the baseline, −1 the change reversed (an
#: amount avoided).
WARNING_VALUE_COLUMNS = {
    "loss_avoided": ("expected_loss", "", -1),
    "es_change": ("es", "LEVEL", 1),
    "cash_flow_at_risk_change": ("cash_flow_at_risk", "LEVEL", 1),
    "p_line_breach_change": ("p_line_breach", "", 1),
    "dso_change": ("dso_avg", "", 1),
    "margin_lost": ("lost_margin", "", 1),
    "net_value": ("loss_and_lost_margin", "", -1),
}


def warning_value_frame(table: pd.DataFrame, baseline: str, level: float) -> pd.DataFrame:
    """The value of early warning: what each action policy changes against a baseline without
    actions, on common random numbers.

    Read off :func:`scenario_comparison`'s table of a batch whose baseline takes no actions
    and whose other scenarios each apply an action policy. A run that does not carry
    ``lost_margin`` (one without actions, or a timeline that refuses no sales) has lost
    margin 0 by construction: :func:`portsim.workflow.batch.combine` gives it zeros.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`scenario_comparison`'s rows (or ``comparison.csv`` read back).
    baseline : str
        The scenario without actions.
    level : float
        The level of the ES and cash-flow-at-risk changes.

    Returns
    -------
    pandas.DataFrame
        One row per scenario other than the baseline: ``scenario`` and each column of
        :data:`WARNING_VALUE_COLUMNS` with its paired standard error (``_se``):
        ``loss_avoided`` = −Δ expected loss, ``es_change`` = Δ ES, ``cash_flow_at_risk_change``
        = Δ cash-flow-at-risk, ``p_line_breach_change`` = Δ P(line breach), ``dso_change`` =
        Δ mean average DSO (days), ``margin_lost`` = Δ expected lost margin, ``net_value`` =
        −Δ E[loss + lost margin] (loss avoided less margin lost, with the standard error of
        the per-path difference, not the two errors combined). Money in book currency; a
        metric the table lacks (no timeline) is NaN.
    """
    key = f"{level:g}"
    cols = [(m, key if lv == "LEVEL" else lv) for m, lv, _ in WARNING_VALUE_COLUMNS.values()]
    wide = comparison_frame(table, cols, baseline)
    out = pd.DataFrame({"scenario": wide["scenario"].iloc[1:].to_numpy()})
    for name, (metric, lv, sign) in WARNING_VALUE_COLUMNS.items():
        col = f"{metric}_{key}" if lv == "LEVEL" else metric
        if f"{col}_change" in wide:
            out[name] = sign * wide[f"{col}_change"].iloc[1:].to_numpy()
            out[f"{name}_se"] = wide[f"{col}_change_se"].iloc[1:].to_numpy()
        else:
            out[name] = out[f"{name}_se"] = np.nan
    return out


def warning_value_summary(table: pd.DataFrame, baseline: str, levels: list[float]
                          ) -> dict[str, Any] | None:
    """The value of early warning as ``summary.json`` holds it, or None when no run of the
    batch carries ``lost_margin`` (no action policy in the batch).

    Returns
    -------
    dict or None
        ``baseline``, ``level`` (:func:`comparison_level` of ``levels``), ``currency`` and
        ``policies``: the rows of :func:`warning_value_frame` as records.
    """
    if not (table["metric"] == "lost_margin").any():
        return None
    q = comparison_level(levels)
    units = table.loc[table["metric"] == "expected_loss", "units"]
    return {"baseline": baseline, "level": q,
            "currency": str(units.iloc[0]) if len(units) else "",
            "policies": warning_value_frame(table, baseline, q).to_dict(orient="records")}
