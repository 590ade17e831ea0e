"""The report's content, shared by the HTML and PDF writers: its sections in order (headline,
loss, cash, suppliers, insurance, scenarios, early warning, concentration, provenance), each
with text, tables (:mod:`portsim.report.tables`) and figures, and the report's title.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portsim.report.cash_figures import plot_cash_fan, plot_dso, plot_wcr
from portsim.report.comparison_figures import (
    plot_insurance_losses,
    plot_insurance_value,
    plot_scenarios,
    plot_warning_value,
)
from portsim.report.figures import (
    plot_exceedance,
    plot_loss_histogram,
    plot_sector_shares,
    plot_top_customers,
)
from portsim.report.plotting import baseline, default_level, has_cash, has_insurance, has_scenarios
from portsim.report.run import RunData
from portsim.report.tables import (
    Table,
    comparison_file_table,
    concentration_tables,
    headline_table,
    insurance_table,
    provenance_table,
    scenario_table,
    stride_text,
    supplier_table,
    warning_value_table,
)
from portsim.results.comparison import comparison_level, scenario_frame, warning_value_frame

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["NO_CASH_SENTENCE", "Section", "sections", "title"]

NO_CASH_SENTENCE = (
    "This run has no payment timeline (no [timeline] section in its config), so there are no "
    "cash, DSO or working-capital results; add [timeline] and [company] sections to the "
    "config to simulate them."
)


@dataclass
class Section:
    """A section of the report: text paragraphs, captioned tables, captioned figures (each a
    function drawing on the Axes it is given)."""

    key: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)
    figures: list[tuple[str, Callable[[Axes], Axes]]] = field(default_factory=list)


def _headline_section(run: RunData) -> Section:
    t = headline_table(run)
    n = int(run.metrics.get("n_paths") or run.ds.sizes.get("path", 0))
    table = Table(["Metric", "Value", "Monte Carlo error", "Units", "Note"],
                   t[["metric", "value", "error", "units", "note"]].astype(str).values.tolist(),
                   {1, 2})
    return Section("headline", "Headline", [
        f"Estimates from {n:,} simulated paths, money in {run.currency}. ± is one standard "
        "error; a 95 % confidence interval comes from the order statistics of the simulated "
        "paths.",
    ], [("", table)])


def _loss_section(run: RunData) -> Section:
    levels = run.levels
    return Section("loss", "Loss distribution", [
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


def _cash_section(run: RunData) -> Section:
    ds = baseline(run.ds)
    if not has_cash(ds):
        return Section("cash", "Cash, DSO and working capital", [NO_CASH_SENTENCE])
    cur = run.currency
    text = [
        f"Cash balance at the end of each period after drawing on the credit line, in {cur}: "
        "the line keeps cash at the minimum buffer as long as it lasts, so cash below the "
        "buffer means the line is exhausted (a cash breach); cash before the line below "
        "buffer − credit line is the same event.",
    ]
    if "cash_series" in ds:
        n_s = ds.sizes.get("sample_path", 0)
        text.append(f"Bands from {n_s:,} stored paths ({stride_text(ds)}, "
                    f"{ds.attrs.get('series_dtype', 'float')}).")
    return Section("cash", "Cash, DSO and working capital", text, figures=[
        ("Fan chart of the cash balance with the minimum buffer",
         lambda ax: plot_cash_fan(run.ds, ax)),
        ("Distribution of days sales outstanding", lambda ax: plot_dso(run.ds, ax)),
        ("Distribution of the peak working-capital requirement",
         lambda ax: plot_wcr(run.ds, ax)),
    ])



def _insurance_section(run: RunData) -> Section | None:
    if not has_insurance(run.ds):
        return None
    return Section("insurance", "Credit insurance", [
        f"Every policy variant is applied to the same simulated paths as the variant without "
        f"cover ('none'), so the changes are paired differences with small Monte Carlo error "
        f"(± one standard error). Money in {run.currency}. Net cost of cover = premium − "
        "expected net indemnity (after the insurer's share of recoveries); a negative change "
        "in VaR or ES is the tail risk the cover removes.",
    ], [("", insurance_table(run.metrics))], figures=[
        ("Gross and retained loss by policy variant",
         lambda ax: plot_insurance_losses(run.ds, ax, metrics=run.metrics)),
        ("Premium against expected indemnity and tail reduction",
         lambda ax: plot_insurance_value(run.ds, ax, metrics=run.metrics)),
    ])



def _supplier_section(run: RunData) -> Section | None:
    if not run.metrics.get("suppliers"):
        return None
    return Section("suppliers", "Supplier risk", [
        f"Suppliers default on the customers' factors (same paths, same factor draws). A "
        f"default loses the prepayments outstanding, costs the replacement's premium on the "
        f"purchases until it is replaced, and the share of sales that depends on it for as "
        f"long; the margin of those sales is lost. Money in {run.currency}, within the "
        f"horizon; the cash timeline above includes these flows.",
    ], [("", supplier_table(run.metrics))])


def _scenario_section(run: RunData) -> Section | None:
    if not has_scenarios(run.ds) and run.comparison is None:
        return None
    sec = Section("scenarios", "Scenarios")
    if has_scenarios(run.ds):
        q = default_level(run.ds)
        fr = scenario_frame(run.ds, q)
        sec.text.append(f"Headline metrics by scenario, money in {run.currency}; changes are "
                        f"against the baseline ({fr['scenario'].iloc[0]}).")
        sec.tables.append(("", scenario_table(fr, q)))
        sec.figures.append(("Headline metrics by scenario",
                            lambda ax: plot_scenarios(run.ds, ax, q)))
    if run.comparison is not None:
        if "metric" in run.comparison and (run.comparison["metric"] == "lost_margin").any():
            _warning_value(sec, run, run.comparison)
        sec.tables.append(comparison_file_table(run.comparison))
    return sec


def _warning_value(sec: Section, run: RunData, table: pd.DataFrame) -> None:
    """The value of early warning of a batch whose runs carry ``lost_margin``: its text,
    table and chart (the baseline is the scenario without actions)."""
    names = list(dict.fromkeys(str(s) for s in table["scenario"]))
    base = str(run.run_info.get("baseline") or "")
    if base not in names:
        base = "baseline" if "baseline" in names else names[0]
    levels = [float(x) for x in table["level"].dropna().astype(str) if x not in ("", "nan")]
    q = comparison_level(levels) if levels else default_level(run.ds)
    fr = warning_value_frame(table, base, q)
    sec.text.append(
        f"Value of early warning: each action policy against {base} (no actions) on the same "
        f"paths, money in {run.currency}, ± the standard errors of paired differences. Loss "
        f"avoided is the fall in expected loss, margin lost the rise in expected lost margin "
        f"(sales the policy refused × (1 − cogs share)); net value = loss avoided − margin "
        f"lost. A run without actions has lost margin 0 by construction.")
    sec.tables.append(("Value of early warning", warning_value_table(fr, q)))
    sec.figures.append(("Loss avoided against margin lost, by action policy",
                        lambda ax: plot_warning_value(fr, ax, run.currency)))


def _concentration_section(run: RunData, top: int = 10) -> Section:
    return Section("concentration", "Concentration", [
        f"Exposure is the open receivable at the as-of date, expected loss (EL) the Monte Carlo "
        f"mean over paths; money in {run.currency}. The Herfindahl index (HHI) is the sum of "
        "squared exposure shares; 1 / HHI is the number of equal customers (or sectors) with "
        "the same concentration.",
    ], concentration_tables(run, top), figures=[
        ("Largest customers by exposure",
         lambda ax: plot_top_customers(run.ds, ax, by="exposure", top=top)),
        ("Sectors: share of exposure and of expected loss",
         lambda ax: plot_sector_shares(run.ds, ax)),
    ])


def _provenance_section(run: RunData) -> Section:
    p = provenance_table(run)
    return Section("provenance", "Provenance", list(run.notes),
                   [("", Table(["Item", "Value"], p.values.tolist(), pdf_chars={1: 160}))])


def sections(run: RunData) -> list[Section]:
    """The report's sections, in order (suppliers, insurance, scenarios and early warning only
    when the run has them)."""
    # imported here: portsim.report.warn builds on Section, defined above
    from portsim.report.warn import early_warning_section

    out = [_headline_section(run), _loss_section(run), _cash_section(run)]
    for extra in (_supplier_section(run), _insurance_section(run), _scenario_section(run)):
        if extra is not None:
            out.append(extra)
    if run.early_warning is not None:
        out.append(early_warning_section(run.early_warning))
    out += [_concentration_section(run), _provenance_section(run)]
    return out


def title(run: RunData) -> tuple[str, str]:
    """The report's title and subtitle (scenario, as-of date, paths, currency)."""
    cfg = run.config
    name = cfg.get("name") or run.ds.attrs.get("config_name") or "run"
    scen = (cfg.get("scenario") or {}).get("name") or run.ds.attrs.get("scenario") or ""
    sub = [f"scenario {scen}" if scen else "",
           f"as of {run.ds.attrs['as_of']}" if "as_of" in run.ds.attrs else "",
           f"{int(run.metrics.get('n_paths') or run.ds.sizes.get('path', 0)):,} paths",
           f"money in {run.currency}" if run.currency else ""]
    return f"Credit risk report: {name}", " · ".join(s for s in sub if s)

