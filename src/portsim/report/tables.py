"""The report's tables, as text cells: headline metrics, the value of credit insurance and
supplier risk (both also printed by the command line), scenarios, concentration and
provenance.

Every number comes from :mod:`portsim.results` (the run's metrics, ``summary.json``, or the
Dataset); nothing here estimates anything. Cells are plain text: the HTML and PDF writers
escape them for their medium.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.report.plotting import baseline, customer_labels, format_money
from portsim.report.run import RunData

__all__ = [
    "Table",
    "comparison_file_table",
    "concentration",
    "concentration_tables",
    "fmt_value",
    "headline_table",
    "insurance_table",
    "num",
    "pct",
    "provenance_table",
    "scenario_table",
    "stride_text",
    "supplier_table",
    "warning_value_table",
]


@dataclass
class Table:
    """A table of text cells."""

    header: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    pdf_chars: dict[int, int] = field(default_factory=dict)  # column -> max length in PDF


# ----------------------------------------------------------------------------- formatting

def pct(x: float | None, digits: int = 2) -> str:
    """``x`` as a percentage with ``digits`` decimals; ``""`` for None/NaN."""
    return "" if x is None or not math.isfinite(x) else f"{x:.{digits}%}"


def num(x: float | None, digits: int = 2) -> str:
    """``x`` with thousands separators and ``digits`` decimals; ``""`` for None/NaN."""
    return "" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def _f(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    return None if v is None else float(v)


def fmt_value(kind: str, x: float | None) -> str:
    """A value of a kind: ``money`` (k / m / bn), ``probability`` (%), ``days`` or a count."""
    if kind == "money":
        return format_money(x, 4)
    if kind == "probability":
        return pct(x)
    if kind == "days":
        return num(x, 1)
    return num(x, 2)


def _fmt_error(kind: str, d: dict[str, Any]) -> str:
    lo, hi, se = _f(d, "ci_low"), _f(d, "ci_high"), _f(d, "se")
    if lo is not None and hi is not None:
        return f"95 % CI [{fmt_value(kind, lo)}, {fmt_value(kind, hi)}]"
    if se is not None and math.isfinite(se):
        text = (format_money(se, 3) if kind == "money" else pct(se, 2) if kind == "probability"
                else f"{se:.3g}")
        return f"± {text} (s.e.)"
    return ""


# ------------------------------------------------------------------------------ headline

def headline_table(run: RunData) -> pd.DataFrame:
    """The committee's headline metrics.

    Returns
    -------
    DataFrame
        Columns ``metric``, ``value``, ``error`` (text: ``± s.e.`` or ``95 % CI [lo, hi]``),
        ``units``, ``note`` and the numbers ``value_num``, ``se``, ``ci_low``, ``ci_high``.
    """
    m = run.metrics
    cur = run.currency
    units = {"money": cur, "probability": "probability", "days": "days", "count": "customers"}
    rows: list[dict[str, Any]] = []

    def add(name: str, kind: str, d: dict[str, Any] | float | None, note: str = "",
            unit: str | None = None, signed: bool = False) -> None:
        if d is None:
            return
        d = d if isinstance(d, dict) else {"value": d}
        value = fmt_value(kind, _f(d, "value"))
        if signed and value and not value.startswith("-"):
            value = "+" + value
        rows.append({
            "metric": name, "value": value,
            "error": _fmt_error(kind, d), "units": units.get(kind, "") if unit is None else unit,
            "note": note, "value_num": _f(d, "value"), "se": _f(d, "se"),
            "ci_low": _f(d, "ci_low"), "ci_high": _f(d, "ci_high"),
        })

    add("Total exposure", "money", m.get("total_exposure"))
    add("Expected loss", "money", m.get("expected_loss"))
    add("Loss standard deviation", "money", m.get("loss_sd"))
    add("Expected number of defaults", "count", m.get("expected_defaults"))
    for key, d in (m.get("var") or {}).items():
        add(f"Value-at-risk {float(key):.1%}", "money", d)
    for key, d in (m.get("es") or {}).items():
        add(f"Expected shortfall {float(key):.1%}", "money", d)
    cash = m.get("cash")
    if cash:
        add("P(cash breach: the credit line cannot keep the buffer)", "probability",
            cash.get("p_line_breach"))
        add("P(cash below the buffer without the credit line)", "probability",
            cash.get("p_buffer_breach"))
        for key, d in (cash.get("cash_flow_at_risk") or {}).items():
            add(f"Cash-flow-at-risk {float(key):.1%}", "money", d,
                "expected net cash flow minus its lower quantile")
        for key, name, kind in (("dso_avg", "DSO, average over the horizon", "days"),
                                ("peak_wcr", "Peak working-capital requirement", "money"),
                                ("min_cash", "Minimum cash balance", "money")):
            d = cash.get(key)
            if d:
                q = d.get("quantiles") or {}
                note = (f"mean; 5–95 % of paths: {fmt_value(kind, _f(q, '0.05'))} to "
                        f"{fmt_value(kind, _f(q, '0.95'))}") if q else "mean"
                add(name, kind, d, note)
    for name, p in ((m.get("insurance") or {}).get("policies") or {}).items():
        key = _ins_level(p)
        add(f"Insurance {name}: premium earned", "money", p.get("premium"))
        add(f"Insurance {name}: net cost of cover", "money", p.get("net_cost_of_cover"),
            "premium − expected net indemnity")
        d_es = (p.get("delta_es") or {}).get(key)
        if d_es:
            add(f"Insurance {name}: ES {float(key):.1%} reduction", "money",
                {**d_es, "value": -d_es["value"]}, "ES gross − ES retained (paired)")
        add(f"Insurance {name}: change in P(cash breach)", "probability",
            p.get("delta_p_line_breach"), "with cover − without (paired)", signed=True)
    return pd.DataFrame(rows, columns=["metric", "value", "error", "units", "note",
                                       "value_num", "se", "ci_low", "ci_high"])


def _ins_level(policy: dict[str, Any]) -> str:
    """The level key the insurance rows use: 0.99 when the run has it, else the highest."""
    levels = list(policy.get("delta_es") or {})
    return "0.99" if "0.99" in levels else (max(levels, key=float) if levels else "")


# ------------------------------------------------------------------------------ insurance

def insurance_table(metrics: dict[str, Any]) -> Table:
    """The value of cover: metric rows × policy-variant columns (variant − no cover, ± the
    standard errors of paired differences), from ``metrics["insurance"]``
    (:func:`portsim.results.metrics.insurance_metrics`). Shown by the report and the command
    line."""
    pols = (metrics.get("insurance") or {}).get("policies") or {}

    def pm(kind: str, d: dict[str, Any] | None, sign: float = 1.0) -> str:
        if not d or d.get("value") is None:
            return ""
        v = sign * float(d["value"])
        text = fmt_value(kind, v) if kind != "ratio" else f"{v:.2f}"
        se = d.get("se")
        if se is not None and math.isfinite(float(se)):
            err = (format_money(float(se), 3) if kind == "money" else
                   f"{float(se):.2f}" if kind == "ratio" else fmt_value(kind, float(se)))
            text += f" ± {err}"
        return text

    first = next(iter(pols.values()))
    key = _ins_level(first)
    lv = f"{float(key):.1%}" if key else ""
    spec: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("Premium earned over the horizon", lambda p: fmt_value("money", p.get("premium"))),
        ("Premium / insured turnover", lambda p: (
            f"{pct(p.get('premium_rate_on_insured_turnover'), 3)} of "
            f"{format_money(p.get('insured_turnover'))}")),
        ("Expected net indemnity", lambda p: pm("money", p.get("expected_indemnity"))),
        ("Expected loss ratio", lambda p: pm("probability", p.get("expected_loss_ratio"))),
        ("Net cost of cover", lambda p: pm("money", p.get("net_cost_of_cover"))),
        ("Expected retained loss", lambda p: pm("money", p.get("expected_retained_loss"))),
        ("Change in expected loss", lambda p: pm("money", p.get("delta_expected_loss"))),
    ]

    def at(kind: str, name: str, q: str) -> Callable[[dict[str, Any]], str]:
        return lambda p: pm(kind, (p.get(name) or {}).get(q))

    spec += [(f"Change in VaR {float(q):.1%}", at("money", "delta_var", q))
             for q in (first.get("delta_var") or {})]
    spec += [(f"Change in ES {float(q):.1%}", at("money", "delta_es", q))
             for q in (first.get("delta_es") or {})]
    if key:
        spec += [
            (f"ES {lv} reduction per unit of premium",
             at("ratio", "es_reduction_per_premium", key)),
            (f"Change in cash-flow-at-risk {lv}", at("money", "delta_cash_flow_at_risk", key)),
        ]
    spec += [
        ("Change in P(cash below the buffer without the line)",
         lambda p: pm("probability", p.get("delta_p_buffer_breach"))),
        ("Change in P(cash breach)", lambda p: pm("probability", p.get("delta_p_line_breach"))),
    ]

    def signed(name: str, text: str) -> str:
        return "+" + text if name.startswith("Change") and text[:1].isdigit() else text

    rows = [[name] + [signed(name, cell(p)) for p in pols.values()] for name, cell in spec]
    return Table(["Metric (variant − no cover)", *pols], rows, set(range(1, len(pols) + 1)))


# ------------------------------------------------------------------------------ suppliers

def supplier_table(metrics: dict[str, Any]) -> Table:
    """Supplier risk: expected defaults, prepayments lost, replacement premium, lost sales
    and margin, and the supplier cost (prepayments + premium + lost margin) with its VaR,
    from ``metrics["suppliers"]`` (:func:`portsim.results.metrics.supplier_metrics`). Shown
    by the report and the command line."""
    sup = metrics["suppliers"]

    def pm(d: dict[str, Any], kind: str = "money") -> str:
        return f"{fmt_value(kind, d['value'])} ± {fmt_value(kind, d['se'])}"

    rows = [
        ["Expected supplier defaults", pm(sup["expected_defaults"], "count")],
        ["Prepayments lost (expected)", pm(sup["expected_prepayments_lost"])],
        ["Replacement cost premium (expected)", pm(sup["expected_premium_cost"])],
        ["Sales lost while replacing (expected)", pm(sup["expected_lost_sales"])],
        ["Margin of the lost sales (expected)", pm(sup["expected_lost_margin"])],
        ["Supplier cost: prepayments + premium + margin (expected)",
         pm(sup["expected_cost"])],
    ]
    rows += [[f"Supplier cost VaR {float(q):.1%}",
              f"{fmt_value('money', d['value'])} [{fmt_value('money', d['ci_low'])}, "
              f"{fmt_value('money', d['ci_high'])}]"] for q, d in sup["cost_var"].items()]
    return Table(["Supplier risk over the horizon", "Value ± s.e. / 95 % CI"], rows, {1})


# ------------------------------------------------------------------------------ scenarios

def scenario_table(frame: pd.DataFrame, level: float) -> Table:
    """Headline metrics by scenario with their change against the baseline (the first row of
    ``frame``: :func:`portsim.results.comparison.scenario_frame`)."""
    q = level
    metrics = [("expected_loss", "Expected loss"), (f"var_{q:g}", f"VaR {q:.1%}"),
               (f"es_{q:g}", f"ES {q:.1%}")]
    if "p_line_breach" in frame:
        metrics.append(("p_line_breach", "P(cash breach)"))
    rows = []
    for _, r in frame.iterrows():
        row = [str(r["scenario"])]
        for col, _ in metrics:
            kind = "probability" if col.startswith("p_") else "money"
            row.append(fmt_value(kind, float(r[col])))
            ch = float(r[f"{col}_change"])
            change_pct = float(r[f"{col}_change_pct"])
            sign = "+" if ch >= 0 else "−"
            row.append("" if r["scenario"] == frame["scenario"].iloc[0] else
                       f"{sign}{fmt_value(kind, abs(ch))} ({change_pct:+.1%})")
        rows.append(row)
    header = ["Scenario"]
    for _, name in metrics:
        header += [name, "change vs baseline"]
    return Table(header, rows, set(range(1, len(header))))


def warning_value_table(frame: pd.DataFrame, level: float) -> Table:
    """The value of early warning: one row per action policy, each change against the
    baseline without actions ± its paired standard error
    (:func:`portsim.results.comparison.warning_value_frame`). Shown by the report and the
    command line."""
    spec = [("Policy", "", ""), ("Loss avoided", "loss_avoided", "money"),
            (f"Change in ES {level:.1%}", "es_change", "money"),
            (f"Change in CFaR {level:.1%}", "cash_flow_at_risk_change", "money"),
            ("Change in P(cash breach)", "p_line_breach_change", "probability"),
            ("Change in DSO (days)", "dso_change", "days"),
            ("Margin lost", "margin_lost", "money"),
            ("Net value", "net_value", "money")]

    def cell(r: Any, col: str, kind: str) -> str:
        v, se = float(r[col]), float(r[f"{col}_se"])
        if not math.isfinite(v):
            return ""
        sign = "+" if v >= 0 and col.endswith("_change") else "−" if v < 0 else ""
        err = format_money(se, 3) if kind == "money" else fmt_value(kind, se)
        return f"{sign}{fmt_value(kind, abs(v))} ± {err}"

    rows = [[str(r["scenario"])] + [cell(r, col, kind) for _, col, kind in spec[1:]]
            for _, r in frame.iterrows()]
    return Table([name for name, _, _ in spec], rows, set(range(1, len(spec))))


def comparison_file_table(c: pd.DataFrame) -> tuple[str, Table]:
    """A batch folder's comparison table, shown as it is (caption, table)."""
    return ("Scenario comparison (the batch's table, as written)", Table(
        [str(x) for x in c.columns],
        [[_cell(v) for v in row] for row in c.itertuples(index=False)],
        {i for i, dt in enumerate(c.dtypes) if dt.kind in "if"}))


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else (format_money(v, 4) if abs(v) >= 1e3
                                                else f"{v:.4g}")
    return str(v)


# -------------------------------------------------------------------------- concentration

def concentration(run: RunData, top: int = 10) -> dict[str, Any]:
    """Concentration of the book.

    Returns
    -------
    dict
        ``indices`` (DataFrame: top-``top`` share and Herfindahl index of exposure by customer
        and by sector, effective numbers 1/HHI, top-``top`` share of expected loss),
        ``by_exposure`` and ``by_expected_loss`` (the ``top`` customers: id, name, sector,
        exposure, shares, expected loss, PD) and ``sectors`` (exposure, expected loss ± s.e.,
        shares; by expected loss).
    """
    ds = baseline(run.ds)
    ids = np.asarray(ds["customer"].values).astype(str)
    names = customer_labels(ds)
    sector = np.asarray(ds["customer_sector"].values).astype(str)
    exp = np.asarray(ds["exposure"].values, dtype=float)
    el = np.asarray(ds["customer_expected_loss"].values, dtype=float)
    pdef = np.asarray(ds["p_default"].values, dtype=float)
    tot, el_tot = exp.sum(), el.sum()
    exp_share = exp / tot if tot > 0 else np.zeros_like(exp)
    el_share = el / el_tot if el_tot > 0 else np.zeros_like(el)
    cust = pd.DataFrame({"customer_id": ids, "name": names, "sector": sector, "exposure": exp,
                         "exposure_share": exp_share, "expected_loss": el,
                         "expected_loss_share": el_share, "p_default": pdef})
    sectors = np.asarray(ds["sector"].values).astype(str)
    sl = np.asarray(ds["sector_loss"].transpose("path", "sector").values, dtype=float)
    n = sl.shape[0]
    s_exp = np.array([exp[sector == s].sum() for s in sectors])
    s_el = sl.mean(axis=0)
    s_el_se = sl.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(s_el.size, np.nan)
    sec = pd.DataFrame({
        "sector": sectors, "exposure": s_exp,
        "exposure_share": s_exp / tot if tot > 0 else 0.0,
        "expected_loss": s_el, "expected_loss_se": s_el_se,
        "expected_loss_share": s_el / s_el.sum() if s_el.sum() > 0 else 0.0,
    }).sort_values("expected_loss", ascending=False, kind="stable").reset_index(drop=True)
    hhi = float((exp_share**2).sum())
    s_share = np.asarray(sec["exposure_share"], dtype=float)
    s_hhi = float((s_share**2).sum())
    k = min(top, ids.size)
    indices = pd.DataFrame([
        {"index": f"Top-{k} customers' share of exposure",
         "value": float(np.sort(exp_share)[::-1][:k].sum()), "kind": "probability"},
        {"index": f"Top-{k} customers' share of expected loss",
         "value": float(np.sort(el_share)[::-1][:k].sum()), "kind": "probability"},
        {"index": "Herfindahl index of exposure (customers)", "value": hhi, "kind": "index"},
        {"index": "Effective number of customers (1 / HHI)",
         "value": 1.0 / hhi if hhi > 0 else float("nan"), "kind": "count"},
        {"index": "Herfindahl index of exposure (sectors)", "value": s_hhi, "kind": "index"},
        {"index": "Effective number of sectors (1 / HHI)",
         "value": 1.0 / s_hhi if s_hhi > 0 else float("nan"), "kind": "count"},
    ])
    return {
        "indices": indices,
        "by_exposure": cust.sort_values("exposure", ascending=False, kind="stable")
        .head(top).reset_index(drop=True),
        "by_expected_loss": cust.sort_values("expected_loss", ascending=False, kind="stable")
        .head(top).reset_index(drop=True),
        "sectors": sec,
    }


def concentration_tables(run: RunData, top: int = 10) -> list[tuple[str, Table]]:
    """The concentration section's tables (caption, table): indices, the ``top`` customers by
    exposure and by expected loss, sectors (:func:`concentration`)."""
    c = concentration(run, top)
    idx = Table(["Index", "Value"], [
        [r["index"], pct(r["value"], 1) if r["kind"] == "probability" else
         f"{r['value']:.4f}" if r["kind"] == "index" else num(r["value"], 1)]
        for _, r in c["indices"].iterrows()
    ], {1})

    def customers(df: pd.DataFrame) -> Table:
        return Table(["#", "Customer", "Id", "Sector", "Exposure", "Share", "Expected loss",
                      "EL share", "PD (1 y)"], [
            [str(i + 1), str(r["name"]), str(r["customer_id"]), str(r["sector"]),
             format_money(r["exposure"], 4), pct(r["exposure_share"]),
             format_money(r["expected_loss"], 4), pct(r["expected_loss_share"]),
             pct(r["p_default"])]
            for i, (_, r) in enumerate(df.iterrows())
        ], {0, 4, 5, 6, 7, 8}, {1: 26})

    sectors = Table(["Sector", "Exposure", "Share", "Expected loss", "EL share"], [
        [str(r["sector"]), format_money(r["exposure"], 4), pct(r["exposure_share"]),
         f"{format_money(r['expected_loss'], 4)} ± {format_money(r['expected_loss_se'])}",
         pct(r["expected_loss_share"])]
        for _, r in c["sectors"].iterrows()
    ], {1, 2, 3, 4})
    return [
        ("", idx),
        (f"Largest {top} customers by exposure", customers(c["by_exposure"])),
        (f"Largest {top} customers by expected loss", customers(c["by_expected_loss"])),
        ("Sectors by expected loss", sectors),
    ]


# ----------------------------------------------------------------------------- provenance

def provenance_table(run: RunData) -> pd.DataFrame:
    """Where the numbers come from: run, inputs, model, versions, timings (item, value)."""
    ds, ri, cfg = run.ds, run.run_info, run.config
    scen = cfg.get("scenario") or {}
    timings = ri.get("timings_seconds") or {}
    versions = ri.get("versions") or {}
    rows: list[tuple[str, Any]] = [
        ("Config", cfg.get("name") or ds.attrs.get("config_name")),
        ("Config description", cfg.get("description")),
        ("Scenario", scen.get("name") or ds.attrs.get("scenario")),
        ("Scenario description", scen.get("description")),
        ("Config hash (SHA-256)", ri.get("config_hash") or ds.attrs.get("config_hash")),
        ("Book", ds.attrs.get("book_source")),
        ("Book SHA-256", ri.get("book_sha256") or ds.attrs.get("book_sha256")),
        ("As-of date", ds.attrs.get("as_of")),
        ("Horizon (years)", num(_float(ds.attrs.get("horizon_years")), 2)),
        ("Seed", ri.get("seed", ds.attrs.get("seed"))),
        ("Paths", _int_text(ri.get("n_paths", ds.attrs.get("n_paths")))),
        ("Customers", _int_text(ds.attrs.get("n_customers", ds.sizes.get("customer")))),
        ("Model", ds.attrs.get("model_family")),
        ("Copula", ds.attrs.get("copula")),
        ("Kernel", ri.get("kernel") or ds.attrs.get("kernel")),
        ("Run created (UTC)", ri.get("created_utc")),
        ("Run time (s)", num(_float(timings.get("run_total")), 1)),
        ("Simulation time (s)", num(_float(timings.get("simulate",
                                                          ds.attrs.get("simulate_seconds"))), 1)),
        ("Execution", _compact(ri.get("execution"))),
        ("Versions", ", ".join(f"{k} {v}" for k, v in versions.items() if k != "platform")),
        ("Platform", versions.get("platform")),
    ]
    if "cash_series" in ds:
        n_s = ds.sizes.get("sample_path", 0)
        rows.append(("Per-period series", f"{n_s:,} of {_int_text(ds.attrs.get('n_paths'))} "
                     f"paths ({stride_text(ds)}), stored as "
                     f"{ds.attrs.get('series_dtype', 'float')}"))
    rows.append(("Report made (UTC)", datetime.now(UTC).isoformat(timespec="seconds")))
    return pd.DataFrame([(k, str(v)) for k, v in rows if v not in (None, "")],
                        columns=["item", "value"])


def stride_text(ds: xr.Dataset) -> str:
    """Which paths the per-period series keep: ``every path`` or ``one path in k``."""
    k = int(ds.attrs.get("series_stride", 1))
    return "every path" if k <= 1 else f"one path in {k}"


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _int_text(v: Any) -> str:
    f = _float(v)
    return "" if f is None else f"{int(f):,}"


def _compact(v: Any) -> str | None:
    if not isinstance(v, dict):
        return None if v is None else str(v)
    return ", ".join(f"{k}={val}" for k, val in v.items() if val is not None)
