"""The risk committee report of a run: tables, figures, one self-contained HTML file or a PDF.

:func:`load_run` reads a run folder (``results.nc``, ``summary.json``, ``run.json``,
``config.json``); :func:`from_dataset` wraps a Dataset from a notebook. :func:`render_html`
returns the HTML text (figures embedded as base64 PNG, styles inline, a Content-Security-Policy
that forbids any network access and any script) and :func:`render_pdf` the bytes of a PDF with
one page per section. Writing the files is the command line's job (``portsim report``).

Sections: headline metrics with Monte Carlo errors; loss distribution and exceedance curve;
cash, DSO and working capital (runs with a timeline; otherwise a sentence says why not);
credit insurance (when the run has policy variants); scenarios (when the run compares
scenarios, or the folder has a ``comparison.csv``); concentration; provenance.

Customer names are untrusted text: every string is escaped for HTML, and ``$`` is escaped for
matplotlib's mathtext. A Dataset with a ``customer_name`` variable supplies the names; a run
folder's ``results.nc`` holds only ids, so :func:`load_run` reads the names from the run's book
(path from ``config.json``) when the file is unchanged (same SHA-256 as in ``run.json``) —
that is why this module imports :mod:`portsim.data.book`, a layer to its left.

Figures are drawn on :class:`matplotlib.figure.Figure` objects, never through pyplot, so the
report needs no display and does not touch the backend of a notebook it is called from.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim.errors import ConfigError, Problem
from portsim.report.figures import (
    INSURANCE_VARS,
    baseline,
    customer_labels,
    default_level,
    format_money,
    has_cash,
    has_insurance,
    has_scenarios,
    insurance_frame,
    plot_cash_fan,
    plot_dso,
    plot_exceedance,
    plot_insurance_losses,
    plot_insurance_value,
    plot_loss_histogram,
    plot_scenarios,
    plot_sector_shares,
    plot_top_customers,
    plot_wcr,
    risk_levels,
    scenario_frame,
    tex_safe,
)
from portsim.results.metrics import risk_metrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COMPARISON_FILE",
    "RunData",
    "concentration",
    "from_dataset",
    "headline_table",
    "load_run",
    "provenance_table",
    "render_html",
    "render_pdf",
]

#: A scenario comparison table a batch run may leave in its folder (shown as it is).
COMPARISON_FILE = "comparison.csv"

NO_CASH_SENTENCE = (
    "This run has no payment timeline (no [timeline] section in its config), so there are no "
    "cash, DSO or working-capital results; add [timeline] and [company] sections to the "
    "config to simulate them."
)


@dataclass
class RunData:
    """Everything the report shows about one run.

    Attributes
    ----------
    ds : xarray.Dataset
        The run's Dataset (``results.nc``), loaded into memory; ``customer_name`` added when
        the names could be read from the book.
    metrics : dict
        ``summary.json["metrics"]`` (or :func:`portsim.results.metrics.risk_metrics` of ``ds``).
    provenance, run_info, config : dict
        ``summary.json["provenance"]``, ``run.json`` and ``config.json`` (empty when absent).
    path : Path or None
        The run folder.
    notes : list of str
        Things the reader should know (e.g. names not available).
    comparison : DataFrame or None
        :data:`COMPARISON_FILE` of the folder, when present.
    """

    ds: xr.Dataset
    metrics: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    run_info: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    comparison: pd.DataFrame | None = None

    @property
    def currency(self) -> str:
        return str(self.metrics.get("currency") or self.ds.attrs.get("currency", ""))

    @property
    def levels(self) -> list[float]:
        if self.metrics.get("var"):
            return [float(k) for k in self.metrics["var"]]
        return risk_levels(self.ds)


def from_dataset(
    ds: xr.Dataset,
    *,
    levels: Sequence[float] | None = None,
    metrics: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    run_info: dict[str, Any] | None = None,
) -> RunData:
    """A :class:`RunData` for a Dataset in memory (metrics computed when not given)."""
    notes: list[str] = []
    if metrics is None:
        metrics, notes = _metrics(ds, levels)
    return RunData(ds=ds, metrics=metrics, config=dict(config or {}),
                   run_info=dict(run_info or {}), notes=notes)


def _metrics(ds: xr.Dataset, levels: Sequence[float] | None = None
             ) -> tuple[dict[str, Any], list[str]]:
    """:func:`portsim.results.metrics.risk_metrics` of the baseline; when the Dataset lacks some of
    the insurance variables those need, the metrics without them (the report's insurance
    section then works from the retained loss alone)."""
    base = baseline(ds)
    qs = risk_levels(ds, levels)
    try:
        return risk_metrics(base, qs), []
    except KeyError as exc:
        if INSURANCE_VARS["dim"] not in base.dims:
            raise
        return risk_metrics(base.drop_dims(INSURANCE_VARS["dim"]), qs), [
            f"The insurance metrics of summary.json could not be computed ({exc}); the "
            "insurance section is computed from the retained loss."]


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([Problem(str(path), "", f"cannot be read ({exc})")],
                          title="cannot report") from None
    return data if isinstance(data, dict) else {}


def load_run(run_dir: str | Path) -> RunData:
    """Read a complete run folder for the report.

    Raises
    ------
    ConfigError
        When the folder does not exist, is incomplete (``.incomplete``) or has no
        ``results.nc``.
    """
    d = Path(run_dir)
    where = str(d)
    if not d.is_dir():
        raise ConfigError([Problem(where, "", "is not a folder",
                                   "give a run folder written by portsim run")],
                          title="cannot report")
    if (d / ".incomplete").exists():
        raise ConfigError([Problem(where, "", "is an unfinished run",
                                   f"finish it first: portsim run --resume {d}")],
                          title="cannot report")
    if not (d / "results.nc").exists():
        raise ConfigError([Problem(where, "results.nc", "is missing",
                                   "give a run folder written by portsim run")],
                          title="cannot report")
    with xr.open_dataset(d / "results.nc", engine="h5netcdf") as f:
        ds = f.load()
    summary = _read_json(d / "summary.json")
    run = RunData(
        ds=ds, metrics=summary.get("metrics") or {}, provenance=summary.get("provenance") or {},
        run_info=_read_json(d / "run.json"), config=_read_json(d / "config.json"), path=d,
    )
    if not run.metrics:
        run.metrics, run.notes = _metrics(ds)
        run.notes.append("summary.json is missing: the metrics were computed from results.nc.")
    if "customer_name" not in ds:
        names, why = _book_names(run)
        if names is not None:
            run.ds = ds.assign(customer_name=("customer", names,
                                              {"units": "", "long_name": "customer name"}))
        else:
            run.notes.append(f"Customer names are not shown ({why}); customers appear by id.")
    if (d / COMPARISON_FILE).exists():
        run.comparison = pd.read_csv(d / COMPARISON_FILE)
    return run


def _book_names(run: RunData) -> tuple[np.ndarray | None, str]:
    """Names of the Dataset's customers from the run's book file, if it is unchanged.

    The book is found from ``config.json`` (``book.path`` relative to ``base_dir``) and read
    with :func:`portsim.data.book.read_book`; its SHA-256 must be the one in ``run.json``.
    """
    from portsim.data import BookWarning, read_book
    from portsim.errors import InputError

    book_cfg = run.config.get("book") or {}
    if not book_cfg.get("path"):
        return None, "config.json names no book file"
    path = Path(str(book_cfg["path"])).expanduser()
    if not path.is_absolute():
        path = Path(str(run.config.get("base_dir", "."))) / path
    want = run.run_info.get("book_sha256") or run.ds.attrs.get("book_sha256")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BookWarning)  # shown when the run was made
            book = read_book(path, ratings=book_cfg.get("ratings"),
                             sectors=book_cfg.get("sectors"))
    except (InputError, OSError, ValueError, TypeError) as exc:
        return None, f"the book {path} cannot be read: {str(exc).splitlines()[0]}"
    if want and book.sha256 != want:
        return None, f"the book {path} has changed since the run"
    by_id = dict(zip(np.asarray(book.customer_id).astype(str),
                     np.asarray(book.name).astype(str), strict=True))
    ids = np.asarray(run.ds["customer"].values).astype(str)
    if not all(i in by_id for i in ids):
        return None, f"the book {path} does not list every customer of the run"
    return np.array([by_id[i] for i in ids]), ""


# --------------------------------------------------------------------------------- tables

def _pct(x: float | None, digits: int = 2) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:.{digits}%}"


def _num(x: float | None, digits: int = 2) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def _f(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    return None if v is None else float(v)


def _fmt_value(kind: str, x: float | None) -> str:
    if kind == "money":
        return format_money(x, 4)
    if kind == "probability":
        return _pct(x)
    if kind == "days":
        return _num(x, 1)
    return _num(x, 2)


def _fmt_error(kind: str, d: dict[str, Any]) -> str:
    lo, hi, se = _f(d, "ci_low"), _f(d, "ci_high"), _f(d, "se")
    if lo is not None and hi is not None:
        return f"95 % CI [{_fmt_value(kind, lo)}, {_fmt_value(kind, hi)}]"
    if se is not None and math.isfinite(se):
        text = (format_money(se, 3) if kind == "money" else _pct(se, 2) if kind == "probability"
                else f"{se:.3g}")
        return f"± {text} (s.e.)"
    return ""


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
        value = _fmt_value(kind, _f(d, "value"))
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
                note = (f"mean; 5–95 % of paths: {_fmt_value(kind, _f(q, '0.05'))} to "
                        f"{_fmt_value(kind, _f(q, '0.95'))}") if q else "mean"
                add(name, kind, d, note)
    pols = (m.get("insurance") or {}).get("policies") or {}
    if pols:
        for name, p in pols.items():
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
    elif has_insurance(run.ds):
        fr = insurance_frame(run.ds)
        for _, r in fr[fr["policy"] != "none"].iterrows():
            q = float(r["level"])
            add(f"Insurance {r['policy']}: premium earned", "money", r["premium"])
            add(f"Insurance {r['policy']}: net cost of cover", "money",
                {"value": r["net_cost"], "se": r["net_cost_se"]},
                "premium − expected net indemnity")
            add(f"Insurance {r['policy']}: ES {q:.1%} reduction", "money",
                {"value": r["tail_reduction"], "se": r["tail_reduction_se"]},
                "ES gross − ES retained (paired)")
    return pd.DataFrame(rows, columns=["metric", "value", "error", "units", "note",
                                       "value_num", "se", "ci_low", "ci_high"])


def _ins_level(policy: dict[str, Any]) -> str:
    """The level key the insurance rows use: 0.99 when the run has it, else the highest."""
    levels = list(policy.get("delta_es") or {})
    return "0.99" if "0.99" in levels else (max(levels, key=float) if levels else "")


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
        ("Horizon (years)", _num(_float(ds.attrs.get("horizon_years")), 2)),
        ("Seed", ri.get("seed", ds.attrs.get("seed"))),
        ("Paths", _int_text(ri.get("n_paths", ds.attrs.get("n_paths")))),
        ("Customers", _int_text(ds.attrs.get("n_customers", ds.sizes.get("customer")))),
        ("Copula", ds.attrs.get("copula")),
        ("Kernel", ri.get("kernel") or ds.attrs.get("kernel")),
        ("Run created (UTC)", ri.get("created_utc")),
        ("Run time (s)", _num(_float(timings.get("run_total")), 1)),
        ("Simulation time (s)", _num(_float(timings.get("simulate",
                                                          ds.attrs.get("simulate_seconds"))), 1)),
        ("Execution", _compact(ri.get("execution"))),
        ("Versions", ", ".join(f"{k} {v}" for k, v in versions.items() if k != "platform")),
        ("Platform", versions.get("platform")),
    ]
    if "cash_series" in ds:
        n_s = ds.sizes.get("sample_path", 0)
        rows.append(("Per-period series", f"{n_s:,} of {_int_text(ds.attrs.get('n_paths'))} "
                     f"paths ({_stride_text(ds)}), stored as "
                     f"{ds.attrs.get('series_dtype', 'float')}"))
    rows.append(("Report made (UTC)", datetime.now(UTC).isoformat(timespec="seconds")))
    return pd.DataFrame([(k, str(v)) for k, v in rows if v not in (None, "")],
                        columns=["item", "value"])


def _stride_text(ds: xr.Dataset) -> str:
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


# ------------------------------------------------------------------------ shared content

@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    pdf_chars: dict[int, int] = field(default_factory=dict)  # column -> max length in PDF


@dataclass
class _Section:
    key: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, _Table]] = field(default_factory=list)
    figures: list[tuple[str, Callable[[Axes], Axes]]] = field(default_factory=list)


def _headline_section(run: RunData) -> _Section:
    t = headline_table(run)
    n = int(run.metrics.get("n_paths") or run.ds.sizes.get("path", 0))
    table = _Table(["Metric", "Value", "Monte Carlo error", "Units", "Note"],
                   t[["metric", "value", "error", "units", "note"]].astype(str).values.tolist(),
                   {1, 2})
    return _Section("headline", "Headline", [
        f"Estimates from {n:,} simulated paths, money in {run.currency}. ± is one standard "
        "error; a 95 % confidence interval comes from the order statistics of the simulated "
        "paths.",
    ], [("", table)])


def _loss_section(run: RunData) -> _Section:
    levels = run.levels
    return _Section("loss", "Loss distribution", [
        "Credit loss over the horizon, one value per simulated path: expected loss, value-at-"
        "risk (VaR) and expected shortfall (ES) at the run's levels are marked. The exceedance "
        "curve gives the probability that the loss exceeds each amount; the band is the 95 % "
        "Wilson interval of each probability.",
    ], figures=[
        ("Histogram of the credit loss with expected loss, VaR and ES",
         lambda ax: plot_loss_histogram(run.ds, ax, levels)),
        ("Loss exceedance curve on a log scale with its confidence band",
         lambda ax: plot_exceedance(run.ds, ax, levels)),
    ])


def _cash_section(run: RunData) -> _Section:
    ds = baseline(run.ds)
    if not has_cash(ds):
        return _Section("cash", "Cash, DSO and working capital", [NO_CASH_SENTENCE])
    cur = run.currency
    text = [
        f"Cash balance at the end of each period after drawing on the credit line, in {cur}: "
        "the line keeps cash at the minimum buffer as long as it lasts, so cash below the "
        "buffer means the line is exhausted (a cash breach); cash before the line below "
        "buffer − credit line is the same event.",
    ]
    if "cash_series" in ds:
        n_s = ds.sizes.get("sample_path", 0)
        text.append(f"Bands from {n_s:,} stored paths ({_stride_text(ds)}, "
                    f"{ds.attrs.get('series_dtype', 'float')}).")
    return _Section("cash", "Cash, DSO and working capital", text, figures=[
        ("Fan chart of the cash balance with the minimum buffer",
         lambda ax: plot_cash_fan(run.ds, ax)),
        ("Distribution of days sales outstanding", lambda ax: plot_dso(run.ds, ax)),
        ("Distribution of the peak working-capital requirement",
         lambda ax: plot_wcr(run.ds, ax)),
    ])


def _insurance_table(run: RunData) -> _Table:
    """Metric rows × policy columns: from ``metrics.insurance`` (summary.json) when present,
    else computed from the Dataset (:func:`portsim.report.figures.insurance_frame`)."""
    pols = (run.metrics.get("insurance") or {}).get("policies") or {}
    if not pols:
        fr = insurance_frame(run.ds)
        q = float(fr["level"].iloc[0])
        cols = [("premium", "Premium earned", ""),
                ("expected_indemnity", "Expected net indemnity", "expected_indemnity_se"),
                ("net_cost", "Net cost of cover", "net_cost_se"),
                ("expected_retained_loss", "Expected retained loss",
                 "expected_retained_loss_se"),
                ("es_retained", f"ES {q:.1%} of the retained loss", "es_retained_se"),
                ("tail_reduction", f"ES {q:.1%} reduction", "tail_reduction_se")]
        rows = [[name] + [_fmt_value("money", float(r[col])) + (
            f" ± {format_money(float(r[se]))}" if se else "") for _, r in fr.iterrows()]
                for col, name, se in cols]
        return _Table(["Metric", *[str(p) for p in fr["policy"]]], rows,
                      set(range(1, len(fr) + 1)))

    def pm(kind: str, d: dict[str, Any] | None, sign: float = 1.0) -> str:
        if not d or d.get("value") is None:
            return ""
        v = sign * float(d["value"])
        text = _fmt_value(kind, v) if kind != "ratio" else f"{v:.2f}"
        se = d.get("se")
        if se is not None and math.isfinite(float(se)):
            err = (format_money(float(se), 3) if kind == "money" else
                   f"{float(se):.2f}" if kind == "ratio" else _fmt_value(kind, float(se)))
            text += f" ± {err}"
        return text

    first = next(iter(pols.values()))
    key = _ins_level(first)
    lv = f"{float(key):.1%}" if key else ""
    spec: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("Premium earned over the horizon", lambda p: _fmt_value("money", p.get("premium"))),
        ("Premium / insured turnover", lambda p: (
            f"{_pct(p.get('premium_rate_on_insured_turnover'), 3)} of "
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
    return _Table(["Metric (variant − no cover)", *pols], rows, set(range(1, len(pols) + 1)))


def _insurance_section(run: RunData) -> _Section | None:
    if not has_insurance(run.ds):
        return None
    return _Section("insurance", "Credit insurance", [
        f"Every policy variant is applied to the same simulated paths as the variant without "
        f"cover ('none'), so the changes are paired differences with small Monte Carlo error "
        f"(± one standard error). Money in {run.currency}. Net cost of cover = premium − "
        "expected net indemnity (after the insurer's share of recoveries); a negative change "
        "in VaR or ES is the tail risk the cover removes.",
    ], [("", _insurance_table(run))], figures=[
        ("Gross and retained loss by policy variant",
         lambda ax: plot_insurance_losses(run.ds, ax)),
        ("Premium against expected indemnity and tail reduction",
         lambda ax: plot_insurance_value(run.ds, ax)),
    ])


def _scenario_section(run: RunData) -> _Section | None:
    if not has_scenarios(run.ds) and run.comparison is None:
        return None
    sec = _Section("scenarios", "Scenarios")
    if has_scenarios(run.ds):
        q = default_level(run.ds)
        fr = scenario_frame(run.ds, [q])
        metrics = [("expected_loss", "Expected loss"), (f"var_{q:g}", f"VaR {q:.1%}"),
                   (f"es_{q:g}", f"ES {q:.1%}")]
        if "p_line_breach" in fr:
            metrics.append(("p_line_breach", "P(cash breach)"))
        rows = []
        for _, r in fr.iterrows():
            row = [str(r["scenario"])]
            for col, _ in metrics:
                kind = "probability" if col.startswith("p_") else "money"
                row.append(_fmt_value(kind, float(r[col])))
                ch = float(r[f"{col}_change"])
                pct = float(r[f"{col}_change_pct"])
                sign = "+" if ch >= 0 else "−"
                row.append("" if r["scenario"] == fr["scenario"].iloc[0] else
                           f"{sign}{_fmt_value(kind, abs(ch))} ({pct:+.1%})")
            rows.append(row)
        header = ["Scenario"]
        for _, name in metrics:
            header += [name, "change vs baseline"]
        sec.text.append(f"Headline metrics by scenario, money in {run.currency}; changes are "
                        f"against the baseline ({fr['scenario'].iloc[0]}).")
        sec.tables.append(("", _Table(header, rows, set(range(1, len(header))))))
        sec.figures.append(("Headline metrics by scenario",
                            lambda ax: plot_scenarios(run.ds, ax, q)))
    if run.comparison is not None:
        c = run.comparison
        sec.tables.append((f"Scenario comparison ({COMPARISON_FILE})", _Table(
            [str(x) for x in c.columns],
            [[_cell(v) for v in row] for row in c.itertuples(index=False)],
            {i for i, dt in enumerate(c.dtypes) if dt.kind in "if"})))
    return sec


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else (format_money(v, 4) if abs(v) >= 1e3
                                                else f"{v:.4g}")
    return str(v)


def _concentration_section(run: RunData, top: int = 10) -> _Section:
    c = concentration(run, top)
    idx = _Table(["Index", "Value"], [
        [r["index"], _pct(r["value"], 1) if r["kind"] == "probability" else
         f"{r['value']:.4f}" if r["kind"] == "index" else _num(r["value"], 1)]
        for _, r in c["indices"].iterrows()
    ], {1})

    def customers(df: pd.DataFrame) -> _Table:
        return _Table(["#", "Customer", "Id", "Sector", "Exposure", "Share", "Expected loss",
                       "EL share", "PD (1 y)"], [
            [str(i + 1), str(r["name"]), str(r["customer_id"]), str(r["sector"]),
             format_money(r["exposure"], 4), _pct(r["exposure_share"]),
             format_money(r["expected_loss"], 4), _pct(r["expected_loss_share"]),
             _pct(r["p_default"])]
            for i, (_, r) in enumerate(df.iterrows())
        ], {0, 4, 5, 6, 7, 8}, {1: 26})

    sectors = _Table(["Sector", "Exposure", "Share", "Expected loss", "EL share"], [
        [str(r["sector"]), format_money(r["exposure"], 4), _pct(r["exposure_share"]),
         f"{format_money(r['expected_loss'], 4)} ± {format_money(r['expected_loss_se'])}",
         _pct(r["expected_loss_share"])]
        for _, r in c["sectors"].iterrows()
    ], {1, 2, 3, 4})
    return _Section("concentration", "Concentration", [
        f"Exposure is the open receivable at the as-of date, expected loss (EL) the Monte Carlo "
        f"mean over paths; money in {run.currency}. The Herfindahl index (HHI) is the sum of "
        "squared exposure shares; 1 / HHI is the number of equal customers (or sectors) with "
        "the same concentration.",
    ], [
        ("", idx),
        (f"Largest {top} customers by exposure", customers(c["by_exposure"])),
        (f"Largest {top} customers by expected loss", customers(c["by_expected_loss"])),
        ("Sectors by expected loss", sectors),
    ], figures=[
        ("Largest customers by exposure",
         lambda ax: plot_top_customers(run.ds, ax, by="exposure", top=top)),
        ("Sectors: share of exposure and of expected loss",
         lambda ax: plot_sector_shares(run.ds, ax)),
    ])


def _provenance_section(run: RunData) -> _Section:
    p = provenance_table(run)
    return _Section("provenance", "Provenance", list(run.notes),
                    [("", _Table(["Item", "Value"], p.values.tolist(), pdf_chars={1: 160}))])


def _sections(run: RunData) -> list[_Section]:
    out = [_headline_section(run), _loss_section(run), _cash_section(run)]
    for extra in (_insurance_section(run), _scenario_section(run)):
        if extra is not None:
            out.append(extra)
    out += [_concentration_section(run), _provenance_section(run)]
    return out


def _title(run: RunData) -> tuple[str, str]:
    cfg = run.config
    name = cfg.get("name") or run.ds.attrs.get("config_name") or "run"
    scen = (cfg.get("scenario") or {}).get("name") or run.ds.attrs.get("scenario") or ""
    sub = [f"scenario {scen}" if scen else "",
           f"as of {run.ds.attrs['as_of']}" if "as_of" in run.ds.attrs else "",
           f"{int(run.metrics.get('n_paths') or run.ds.sizes.get('path', 0)):,} paths",
           f"money in {run.currency}" if run.currency else ""]
    return f"Credit risk report: {name}", " · ".join(s for s in sub if s)


# --------------------------------------------------------------------------------- HTML

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
       margin: 0 auto; max-width: 1220px; padding: 24px 28px 48px; line-height: 1.4; }
h1 { font-size: 26px; margin: 0 0 4px; color: #1f4e79; }
h2 { font-size: 20px; margin: 34px 0 8px; color: #1f4e79; border-bottom: 2px solid #1f4e79;
     padding-bottom: 3px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.sub { color: #555; margin: 0 0 14px; }
p.note { color: #444; font-size: 14px; max-width: 1000px; }
nav a { margin-right: 14px; color: #1f4e79; font-size: 14px; }
table { border-collapse: collapse; font-size: 13.5px; margin: 6px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left;
         vertical-align: top; }
th { background: #eef3f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; }
figure { margin: 0; flex: 1 1 560px; max-width: 600px; }
figure img { width: 100%; height: auto; border: 1px solid #e3e3e3; }
figcaption { font-size: 12.5px; color: #555; }
"""


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _html_table(t: _Table) -> str:
    def cls(i: int) -> str:
        return ' class="num"' if i in t.numeric else ""

    head = "".join(f"<th{cls(i)}>{_esc(h)}</th>" for i, h in enumerate(t.header))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{_esc(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in t.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _new_figure(width: float = 6.4, height: float = 4.2) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _png(draw: Callable[[Axes], Axes], dpi: int = 110) -> str:
    fig, ax = _new_figure()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(run: RunData) -> str:
    """The report as one self-contained HTML page (figures as base64 PNG, no scripts)."""
    title, sub = _title(run)
    sections = _sections(run)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="sub">{_esc(sub)}</p>',
        "<nav>" + "".join(f'<a href="#{s.key}">{_esc(s.title)}</a>' for s in sections)
        + "</nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{s.key}"><h2>{_esc(s.title)}</h2>')
        parts += [f'<p class="note">{_esc(t)}</p>' for t in s.text]
        for caption, t in s.tables:
            if caption:
                parts.append(f"<h3>{_esc(caption)}</h3>")
            parts.append(_html_table(t))
        if s.figures:
            parts.append('<div class="figs">')
            for caption, draw in s.figures:
                parts.append(f'<figure><img alt="{_esc(caption)}" '
                             f'src="data:image/png;base64,{_png(draw)}">'
                             f"<figcaption>{_esc(caption)}</figcaption></figure>")
            parts.append("</div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------- PDF

_A4_LANDSCAPE = (11.69, 8.27)
_LEFT, _WIDTH = 0.04, 0.92


def _pdf_header(fig: Figure, title: str, sub: str = "") -> float:
    """Write the page title; return the top of the free area (figure fraction)."""
    fig.text(_LEFT, 0.955, tex_safe(title), fontsize=17, weight="bold", color="#1f4e79",
             va="top")
    if sub:
        fig.text(_LEFT, 0.915, tex_safe(sub), fontsize=10, color="#555555", va="top")
        return 0.88
    return 0.9


def _pdf_paragraphs(fig: Figure, texts: Sequence[str], top: float, width: int = 160) -> float:
    import textwrap

    y = top
    for t in texts:
        lines = textwrap.wrap(t, width)
        fig.text(_LEFT, y, tex_safe("\n".join(lines)), fontsize=9, va="top", color="#333333",
                 linespacing=1.4)
        y -= 0.022 * len(lines) + 0.014
    return y


def _table_height(t: _Table, fontsize: float, caption: str) -> float:
    """Figure-fraction height of a matplotlib table (rows sized by the font) and caption."""
    row = fontsize * 1.9 / 72 / _A4_LANDSCAPE[1]
    return (len(t.rows) + 1) * row + (0.035 if caption else 0.0)


def _pdf_table(fig: Figure, rect: tuple[float, float, float, float], t: _Table,
               caption: str, fontsize: float) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    if caption:
        ax.set_title(tex_safe(caption), fontsize=10, loc="left", pad=4)
    cells = [[tex_safe(_pdf_cell(c, t.pdf_chars.get(k, 80))) for k, c in enumerate(row)]
             for row in t.rows] or [[""] * len(t.header)]
    from matplotlib.transforms import Bbox

    tab = ax.table(cellText=cells, colLabels=[tex_safe(h) for h in t.header],
                   bbox=Bbox.from_bounds(0.0, 0.0, 1.0, 1.0), cellLoc="left", colLoc="left")
    tab.auto_set_font_size(False)
    tab.set_fontsize(fontsize)
    tab.auto_set_column_width(list(range(len(t.header))))
    for (r, c), cell in tab.get_celld().items():
        cell.set_edgecolor("#dddddd")
        cell.set_linewidth(0.5)
        if r == 0:
            cell.set_facecolor("#eef3f8")
            cell.get_text().set_fontweight("bold")
        if c in t.numeric:
            cell.get_text().set_horizontalalignment("right")
            cell._loc = "right"  # type: ignore[attr-defined]  # no public setter for it


def _pdf_cell(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pdf_tables(fig: Figure, tables: Sequence[tuple[str, _Table]], top: float, *,
                columns: int = 1, fontsize: float = 8.0) -> float:
    """Tables stacked in ``columns`` columns (each to the shorter column) below ``top``;
    returns the lowest bottom edge."""
    if not tables:
        return top
    cols = [top] * min(columns, len(tables))
    w = _WIDTH / len(cols)
    for cap, t in tables:
        c = int(np.argmax(cols))
        h = _table_height(t, fontsize, cap)
        y = cols[c] - h
        _pdf_table(fig, (_LEFT + c * w, y, w - 0.03, h - (0.035 if cap else 0.0)), t, cap,
                   fontsize)
        cols[c] = y - 0.03
    return min(cols)


def _pdf_figures(fig: Figure, figures: Sequence[tuple[str, Callable[[Axes], Axes]]],
                 top: float) -> None:
    """Figures below ``top``: one wide, two side by side, or one large and two stacked.

    They are laid out by constrained layout in a subfigure, so long tick labels (customer
    names) fit; the header and tables above are placed by hand on the page.
    """
    fig.set_layout_engine("constrained")
    sub = np.asarray(fig.subfigures(2, 1, height_ratios=[1.0 - top, top])).ravel()[1]
    n = len(figures)
    if n == 3:
        axd = sub.subplot_mosaic([["0", "1"], ["0", "2"]], width_ratios=[1.25, 1.0])
        axes = [axd["0"], axd["1"], axd["2"]]
    else:
        axes = list(np.atleast_1d(sub.subplots(1, max(n, 1))))
    for (_, draw), ax in zip(figures, axes, strict=False):
        draw(ax)


def _pdf_pages(run: RunData) -> list[Figure]:
    """The PDF's pages as figures: a section per page; a section with several tables and
    figures gets a page of tables and one of figures."""
    from matplotlib.figure import Figure

    title, sub = _title(run)
    pages: list[Figure] = []
    for i, s in enumerate(_sections(run)):
        fig = Figure(figsize=_A4_LANDSCAPE)
        pages.append(fig)
        top = _pdf_header(fig, title if i == 0 else s.title, sub if i == 0 else "")
        if i == 0:
            fig.text(_LEFT, top, tex_safe(s.title), fontsize=13, weight="bold",
                     color="#1f4e79", va="top")
            top -= 0.045
        top = _pdf_paragraphs(fig, s.text, top)
        if not s.figures:
            _pdf_tables(fig, s.tables, top, fontsize=8.5)
            continue
        if len(s.tables) > 1:
            _pdf_tables(fig, s.tables, top, columns=2, fontsize=6.5)
            fig = Figure(figsize=_A4_LANDSCAPE)
            pages.append(fig)
            top = _pdf_header(fig, f"{s.title} (continued)")
        elif s.tables:
            top = _pdf_tables(fig, s.tables, top, fontsize=7.5)
        _pdf_figures(fig, s.figures, top)
    return pages


def render_pdf(run: RunData) -> bytes:
    """The report as PDF bytes: one A4 landscape page per section (tables as matplotlib
    tables, the same figures as the HTML report)."""
    from matplotlib.backends.backend_pdf import PdfPages

    title, _ = _title(run)
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": title, "Creator": "portsim"}) as pdf:
        for fig in _pdf_pages(run):
            pdf.savefig(fig)
    return buf.getvalue()
