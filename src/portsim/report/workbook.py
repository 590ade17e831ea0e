"""The run as an Excel workbook, for the finance desk: one sheet per table, numbers as numbers.

:func:`run_sheets` turns a :class:`~portsim.report.run.RunData` into sheets (:class:`Sheet`):
the headline figures with their errors (the report's :func:`~portsim.report.tables.
headline_table`), sectors, the Euler contributions by sector and country and the largest
contributors at each risk level, the cash and receivables bands per period, the insurance
variants, the scenario comparison of a batch folder and the provenance (seed, versions,
input hashes). :func:`ecl_sheets` does the same for the tables of a ``portsim ecl`` folder
(provision matrix, disclosure, movement), :func:`warn_sheets` for a ``portsim warn`` folder
(the alerts, customers per level, the model card). :func:`save_workbook` writes the sheets with
openpyxl (the ``excel`` extra): frozen header row, column widths, number formats (thousands
separators for amounts, percentages for probabilities, shares and rates).

Every number is the stored one (``summary.json``, ``results.nc``, the CSV files), not rounded
for show: the cell holds it to 16 significant digits (openpyxl writes ``%.16g``; Excel
computes with 15) and the format only changes how Excel shows it. Missing values (NaN, null)
are empty cells.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from portsim.errors import InputError, Problem
from portsim.report.plotting import baseline, customer_labels
from portsim.report.run import RunData
from portsim.report.tables import headline_table, provenance_table

__all__ = ["ECL_SHEETS", "MONEY", "PERCENT", "RATE", "Sheet", "ecl_sheets", "optimise_sheets",
           "run_sheets", "save_workbook", "warn_sheets"]

#: Number formats: amounts in book currency, probabilities and shares, loss rates, counts.
MONEY = "#,##0"
PERCENT = "0.00%"
RATE = "0.000%"
LEVEL = "0.0%"
NUMBER = "#,##0.00"
DAYS = "#,##0.0"
COUNT = "#,##0"
_MAX_WIDTH = 60
#: Number format by the units of a row (``headline_table``, ``comparison.csv``); else MONEY.
_UNIT_FORMATS = {"probability": PERCENT, "1": PERCENT, "days": DAYS, "customers": NUMBER}


@dataclass
class Sheet:
    """One worksheet: a table with a header row.

    Attributes
    ----------
    title : str
        Sheet name (at most 31 characters, Excel's limit).
    frame : DataFrame
        The cells; the column names are the header. Numbers are written as numbers.
    formats : dict of str to str
        Number format by column.
    row_formats : list of str, optional
        Number format by row, for the numeric columns without a column format (a table whose
        rows hold different kinds: amounts, probabilities, days).
    """

    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    row_formats: list[str] | None = None


# ---------------------------------------------------------------------------- run folder

def run_sheets(run: RunData) -> list[Sheet]:
    """The sheets of a run: headline, sectors, contributions, cash, insurance, scenarios and
    provenance; a sheet whose data the run does not hold is left out."""
    m = run.metrics
    sheets = [_headline(run)]
    if m.get("by_sector"):
        sheets.append(_sectors(m["by_sector"]))
    levels = (m.get("contributions") or {}).get("levels") or {}
    if levels:
        names = _customer_names(run)
        sheets += [
            _contributions("Sector contributions", "sector", "Sector", levels, "by_sector"),
            _contributions("Country contributions", "country", "Country", levels, "by_country"),
            _contributions("Largest contributors", "customer_id", "Customer id", levels,
                           "top_customers", names),
        ]
    if "cash_band" in run.ds:
        sheets.append(_cash(run))
    policies = (m.get("insurance") or {}).get("policies") or {}
    if policies:
        sheets.append(_insurance(policies))
    if run.comparison is not None:
        sheets.append(_comparison(run.comparison))
    sheets.append(_provenance(run))
    return sheets


def _headline(run: RunData) -> Sheet:
    h = headline_table(run)
    frame = pd.DataFrame({
        "Metric": h["metric"], "Value": h["value_num"], "Standard error": h["se"],
        "95 % CI low": h["ci_low"], "95 % CI high": h["ci_high"], "Units": h["units"],
        "Note": h["note"],
    })
    return Sheet("Headline", frame,
                 row_formats=[_UNIT_FORMATS.get(u, MONEY) for u in h["units"]])


def _value(d: Any, key: str = "value") -> float | None:
    """``d[key]`` of a ``{"value", "se", …}`` dict; a number is its own value, no error."""
    if isinstance(d, dict):
        d = d.get(key)
    elif key != "value":
        return None
    return None if d is None else float(d)


def _sectors(by_sector: Sequence[Mapping[str, Any]]) -> Sheet:
    frame = pd.DataFrame([{
        "Sector": s["sector"], "Exposure": s.get("exposure"),
        "Expected loss": _value(s.get("expected_loss")),
        "Expected loss s.e.": _value(s.get("expected_loss"), "se"),
        "Expected defaults": _value(s.get("expected_defaults")),
        "Expected defaults s.e.": _value(s.get("expected_defaults"), "se"),
        "Share of expected loss": s.get("share_of_expected_loss"),
    } for s in by_sector])
    return Sheet("Sectors", frame, {
        "Exposure": MONEY, "Expected loss": MONEY, "Expected loss s.e.": MONEY,
        "Expected defaults": NUMBER, "Expected defaults s.e.": NUMBER,
        "Share of expected loss": PERCENT})


#: Columns of a contributions sheet: (header, key in summary.json, format).
_CONTRIBUTION_COLUMNS = (
    ("Exposure", "exposure", MONEY),
    ("ES contribution", "es_contribution", MONEY),
    ("ES contribution s.e.", "es_contribution_se", MONEY),
    ("Share of ES", "es_share", PERCENT),
    ("VaR contribution", "var_contribution", MONEY),
    ("VaR contribution s.e.", "var_contribution_se", MONEY),
)


def _contributions(title: str, key: str, header: str, levels: Mapping[str, Any], part: str,
                   names: Mapping[str, str] | None = None) -> Sheet:
    """Euler contributions to ES and VaR at every level (rows: level, then the part's
    entries as ``summary.json`` orders them)."""
    rows = []
    for level, d in levels.items():
        for r in d.get(part) or []:
            row: dict[str, Any] = {"Risk level": float(level), header: r[key]}
            if names is not None:
                row["Name"] = names.get(str(r[key]), "")
            row.update({h: r.get(k) for h, k, _ in _CONTRIBUTION_COLUMNS})
            rows.append(row)
    columns = ["Risk level", header, *([] if names is None else ["Name"]),
               *(h for h, _, _ in _CONTRIBUTION_COLUMNS)]
    return Sheet(title, pd.DataFrame(rows, columns=columns),
                 {"Risk level": LEVEL, **{h: f for h, _, f in _CONTRIBUTION_COLUMNS}})


def _customer_names(run: RunData) -> dict[str, str]:
    ds = baseline(run.ds)
    ids = np.asarray(ds["customer"].values).astype(str)
    return dict(zip(ids, customer_labels(ds), strict=True))


def _cash(run: RunData) -> Sheet:
    """The quantiles of cash (and receivables) across paths at the end of each period, and
    the probability that the first breach falls in the period."""
    ds = baseline(run.ds)
    periods = [str(p) for p in ds["period"].values]
    frame = pd.DataFrame({"Period end": periods})
    formats = {}
    for var, name in (("cash_band", "Cash"), ("receivables_band", "Receivables")):
        if var not in ds:
            continue
        band = ds[var].transpose("band", "period")
        for q, values in zip(band["band"].values, band.values, strict=True):
            col = f"{name} {float(q):.0%} quantile"
            frame[col] = values.astype(float)
            formats[col] = MONEY
    first = {str(r["period"]): r for r in
             (run.metrics.get("cash") or {}).get("first_breach_by_period") or []}
    if first:
        frame["P(first cash breach)"] = [_value(first.get(p)) for p in periods]
        frame["P(first cash breach) s.e."] = [_value(first.get(p), "se") for p in periods]
        formats.update({"P(first cash breach)": PERCENT, "P(first cash breach) s.e.": PERCENT})
    return Sheet("Cash by period", frame, formats)


def _insurance_format(key: str) -> str:
    if key == "premium_rate_on_insured_turnover":
        return RATE
    if "ratio" in key or key.startswith("delta_p_"):
        return PERCENT
    if key == "es_reduction_per_premium" or key.startswith("expected_n_"):
        return NUMBER
    return MONEY


def _insurance(policies: Mapping[str, Mapping[str, Any]]) -> Sheet:
    """Every figure of every policy variant (against no cover), one row per figure and level,
    named as in ``summary.json``."""
    rows, formats = [], []
    for policy, p in policies.items():
        for key, v in p.items():
            entries = ([(float(q), d) for q, d in v.items()]
                       if isinstance(v, dict) and "value" not in v else [(None, v)])
            for level, d in entries:
                rows.append({"Policy": policy, "Figure": key, "Risk level": level,
                             "Value": _value(d), "Standard error": _value(d, "se"),
                             "95 % CI low": _value(d, "ci_low"),
                             "95 % CI high": _value(d, "ci_high")})
                formats.append(_insurance_format(key))
    return Sheet("Insurance", pd.DataFrame(rows), {"Risk level": LEVEL}, formats)


def _comparison(table: pd.DataFrame) -> Sheet:
    """A batch folder's comparison table as written, each row in its own units."""
    frame = table.copy()
    units = frame["units"].astype(str).tolist() if "units" in frame else []
    fmt = [_UNIT_FORMATS.get(u, MONEY) for u in units] or None
    formats = {c: PERCENT for c in frame.columns if str(c).endswith("pct")}
    if "level" in frame:
        formats["level"] = LEVEL
    return Sheet("Scenarios", frame, formats, fmt)


def _provenance(run: RunData) -> Sheet:
    """The report's provenance rows, every input file's SHA-256 (of a batch folder: of every
    scenario) and when the workbook was made."""
    prov = provenance_table(run)
    rows = [(k, v) for k, v in prov.itertuples(index=False) if k != "Report made (UTC)"]
    rows += [(f"SHA-256 of {path}", digest)
             for path, digest in (run.run_info.get("input_sha256") or {}).items()]
    rows += [(f"SHA-256 of {path} (scenario {name})", digest)
             for name, files in run.scenario_inputs.items() for path, digest in files.items()]
    rows.append(("Workbook made (UTC)", datetime.now(UTC).isoformat(timespec="seconds")))
    return Sheet("Provenance", pd.DataFrame(rows, columns=["Item", "Value"]))


# ---------------------------------------------------------------------------- ECL folder

#: Sheets of a ``portsim ecl`` folder: (sheet title, table name) in workbook order.
ECL_SHEETS = (("Provision matrix", "ecl"), ("Disclosure", "disclosure"),
              ("Movement", "movement"), ("Historical rates", "historical"),
              ("Insurance recoveries", "insurance"), ("Customers", "ecl_customers"))

#: Columns of ``historical.csv`` that are shares of the amount observed in a bucket.
_ROLL_SHARES = ("paid", "stay", "roll_forward", "written_off")


def _ecl_format(column: str) -> str:
    if "rate" in column:
        return RATE
    if column in _ROLL_SHARES:
        return PERCENT
    if column.startswith("n_"):
        return COUNT
    return MONEY


def ecl_sheets(tables: Mapping[str, pd.DataFrame]) -> list[Sheet]:
    """The sheets of a ``portsim ecl`` folder from its tables by name (``ecl``,
    ``disclosure`` and, when written, ``movement``, ``historical``, ``insurance``,
    ``ecl_customers``): rates as percentages, amounts with thousands separators."""
    sheets = []
    for title, name in ECL_SHEETS:
        if name not in tables:
            continue
        frame = tables[name]
        formats = {str(c): _ecl_format(str(c)) for c, dt in frame.dtypes.items()
                   if dt.kind in "if"}
        sheets.append(Sheet(title, frame, formats))
    return sheets


# --------------------------------------------------------------------------- warn folder

#: Number formats of the columns of ``warnings.csv`` (others: text).
_WARN_FORMATS = {"pd": RATE, "index": NUMBER, "review_months": COUNT,
                 "credit_limit_multiplier": NUMBER, "terms_days": COUNT, "prepayment": PERCENT}


def warn_sheets(warnings: pd.DataFrame, card: Mapping[str, Any]) -> list[Sheet]:
    """The sheets of a ``portsim warn`` folder: "Alerts" (``warnings.csv`` as it is), "Levels"
    (customers, mean and largest PD per level, least severe first as in the responses),
    "Model" (each feature's coefficient) and "Model card" (the card's scalar entries: as-of
    date, target, intercept, default rate, training window, in-sample metrics).

    Parameters
    ----------
    warnings : DataFrame
        ``warnings.csv`` of the folder.
    card : mapping
        ``model.json`` of the folder (:meth:`portsim.earlywarning.PdModel.card` and ``as_of``).
    """
    alerts = Sheet("Alerts", warnings, {c: f for c, f in _WARN_FORMATS.items()
                                        if c in warnings})
    order = list(dict.fromkeys(warnings["level"]))
    by_level = warnings.groupby("level", sort=False)["pd"]
    levels = pd.DataFrame({"level": order,
                           "customers": [int(by_level.size()[lv]) for lv in order],
                           "mean_pd": [float(by_level.mean()[lv]) for lv in order],
                           "max_pd": [float(by_level.max()[lv]) for lv in order]})
    features = pd.DataFrame([(f["name"], f["coefficient"]) for f in card["features"]],
                            columns=["feature", "coefficient"])
    rows: list[tuple[str, Any]] = []
    for key, value in card.items():
        if isinstance(value, Mapping):
            rows += _flat(key, value)
        elif not isinstance(value, list):
            rows.append((key, value))
    return [alerts,
            Sheet("Levels", levels, {"customers": COUNT, "mean_pd": RATE, "max_pd": RATE}),
            Sheet("Model", features, {"coefficient": NUMBER}),
            Sheet("Model card", pd.DataFrame(rows, columns=["Item", "Value"]))]


def optimise_sheets(frontier: pd.DataFrame, stress: pd.DataFrame | None) -> list[Sheet]:
    """The sheets of a ``portsim optimise`` folder: "frontier" (``frontier.csv`` as it is) and,
    with stress scenarios, "stress" (``stress.csv``)."""
    def fmt(c: str) -> str:
        if c.startswith(("factor_", "budget_share", "p_line_breach")):
            return PERCENT
        return DAYS if c == "dso" else MONEY

    sheets = [Sheet("frontier", frontier, {c: fmt(c) for c in frontier.columns
                                           if frontier[c].dtype.kind == "f"})]
    if stress is not None:
        sheets.append(Sheet("stress", stress, {c: MONEY for c in stress.columns
                                               if stress[c].dtype.kind == "f"}))
    return sheets


def _flat(prefix: str, entries: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(prefix.key, value)`` of a nested mapping's scalar entries, depth first."""
    rows: list[tuple[str, Any]] = []
    for key, value in entries.items():
        if isinstance(value, Mapping):
            rows += _flat(f"{prefix}.{key}", value)
        elif not isinstance(value, list):
            rows.append((f"{prefix}.{key}", value))
    return rows


# -------------------------------------------------------------------------------- writing

def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError as exc:
        raise InputError([Problem("Excel workbooks (--xlsx)", "need the package 'openpyxl',",
                                  "which is not installed", "pip install 'portsim[excel]'")],
                         title="missing optional dependency") from exc
    return openpyxl


def _cell_value(v: Any) -> Any:
    """A cell's value: numbers as Python numbers, NaN and None as an empty cell."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, bool | int | float | str):
        return v
    return str(v)


def _shown_width(v: Any) -> int:
    if isinstance(v, float):
        return len(f"{v:,.2f}")
    if isinstance(v, int):
        return len(f"{v:,}")
    return 0 if v is None else len(str(v))


def save_workbook(sheets: Sequence[Sheet], path: str | Path) -> None:
    """Write ``sheets`` to the ``.xlsx`` file ``path``: a bold, frozen header row, column
    widths that fit the values (at most 60 characters) and the sheets' number formats.

    Raises
    ------
    InputError
        When openpyxl (the ``excel`` extra) is not installed.
    """
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(wb.create_sheet(sheet.title[:31]), sheet)
    wb.save(str(path))


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    """Fill the write-only worksheet ``ws`` with ``sheet``."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    columns = [str(c) for c in sheet.frame.columns]
    rows = [[_cell_value(v) for v in row]
            for row in sheet.frame.itertuples(index=False, name=None)]
    for j, name in enumerate(columns):
        width = max([len(name), *(_shown_width(r[j]) for r in rows)])
        ws.column_dimensions[get_column_letter(j + 1)].width = min(width + 2, _MAX_WIDTH)

    def cell(value: Any, fmt: str | None = None, font: Any = None) -> Any:
        c = WriteOnlyCell(ws, value=value)
        if fmt is not None and isinstance(value, int | float) and not isinstance(value, bool):
            c.number_format = fmt
        if font is not None:
            c.font = font
        return c

    bold = Font(bold=True)
    ws.append([cell(name, font=bold) for name in columns])
    for i, row in enumerate(rows):
        by_row = None if sheet.row_formats is None else sheet.row_formats[i]
        ws.append([cell(v, sheet.formats.get(name, by_row))
                   for name, v in zip(columns, row, strict=True)])
