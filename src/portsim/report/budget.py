"""The risk-budget section of ``portsim optimise``: the recommendation, the cost-against-risk
frontier with error bars (:func:`plot_frontier`), the chosen mix's cash fan chart against
doing nothing (:func:`plot_mix_fan`), the frontier table and the stress table (the chosen
mix's objective under each scenario next to the best mix for it: the regret). The command
writes the section as a self-contained ``report.html`` (:func:`portsim.report.html.page`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from portsim.report.plotting import PALETTE, axes, format_money, money_formatter
from portsim.report.sections import Section
from portsim.report.tables import Table, num, pct

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["frontier_levers", "optimise_section", "plot_frontier", "plot_mix_fan"]

#: Frontier columns that are not levers.
_NOT_LEVERS = {"budget", "budget_share", "is_default", "cost", "objective_in",
               "objective_in_se", "objective_out", "objective_out_se", "expected_loss",
               "expected_loss_se", "es", "es_se", "cfar", "cfar_se", "p_line_breach",
               "p_line_breach_se", "dso", "lost_margin", "action_cost"}


def _is_money(summary: dict[str, Any]) -> bool:
    return summary.get("metric") in ("es", "cfar")


def plot_frontier(frontier: pd.DataFrame, summary: dict[str, Any], ax: Axes | None = None
                  ) -> Axes:
    """The objective of the best mix against the budget, on the optimisation paths
    (gid ``in_sample``) and on the independent seed (gid ``out_of_sample``), with error bars
    of ± 2 standard errors; the default budget marked (gid ``default_budget``).

    Parameters
    ----------
    frontier : DataFrame
        ``frontier.csv``: ``budget``, ``objective_in``, ``objective_in_se``,
        ``objective_out``, ``objective_out_se``, ``is_default``.
    summary : dict
        ``optimise.json`` (``objective``, ``metric``, ``default_budget``).
    """
    ax = axes(ax)
    x = frontier["budget"].to_numpy(dtype=float)
    for col, colour, name, shift in (("objective_in", PALETTE.blue, "in_sample", -0.006),
                                     ("objective_out", PALETTE.orange, "out_of_sample", 0.006)):
        span = float(np.ptp(x)) if x.size > 1 else 1.0
        ax.errorbar(x + shift * span, frontier[col].to_numpy(dtype=float),
                    yerr=2 * frontier[f"{col}_se"].to_numpy(dtype=float), color=colour,
                    marker="o", ms=4, capsize=3, lw=1.4, gid=name,
                    label=("optimisation seed" if name == "in_sample" else "independent seed")
                    + " (± 2 s.e.)")
    ax.axvline(float(summary["default_budget"]), color=PALETTE.grey, ls="--", lw=1,
               gid="default_budget", label="default budget")
    ax.set_xlabel(f"yearly budget [{summary.get('currency', '')}]")
    ax.set_ylabel(str(summary["objective"]) if len(str(summary["objective"])) < 50
                  else "objective")
    ax.set_title("Best mix at each budget")
    ax.xaxis.set_major_formatter(money_formatter())
    if _is_money(summary):
        ax.yaxis.set_major_formatter(money_formatter())
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_mix_fan(fan: pd.DataFrame, buffer: float | None = None, ax: Axes | None = None
                 ) -> Axes:
    """Cash over the horizon with the chosen mix (gid ``chosen``) and doing nothing (gid
    ``nothing``): 5–95 % bands and medians.

    Parameters
    ----------
    fan : DataFrame
        ``fan.csv``: ``period_end_day``, ``band``, ``nothing``, ``chosen``.
    buffer : float, optional
        The minimum cash buffer, drawn as a line.
    """
    ax = axes(ax)
    for col, colour, name in (("nothing", PALETTE.grey, "doing nothing"),
                              ("chosen", PALETTE.blue, "chosen mix")):
        wide = fan.pivot(index="period_end_day", columns="band", values=col)
        x = wide.index.to_numpy(dtype=float)
        ax.fill_between(x, wide[0.05], wide[0.95], color=colour, alpha=0.18, lw=0,
                        gid=f"{col}_band")
        ax.plot(x, wide[0.5], color=colour, lw=1.8, marker="o", ms=3, gid=col,
                label=f"{name}: median, 5–95 % of paths")
    if buffer is not None:
        ax.axhline(buffer, color=PALETTE.orange, ls="--", lw=1.2, gid="min_cash_buffer",
                   label=f"minimum buffer {format_money(buffer)}")
    ax.set(xlabel="days after the as-of date", ylabel="cash after the credit line",
           title="Cash: chosen mix against doing nothing")
    ax.yaxis.set_major_formatter(money_formatter())
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax


def frontier_levers(row: pd.Series) -> str:
    """A frontier row's levers in a few words."""
    parts = []
    if row["policy"] != "none":
        parts.append(f"insurance {row['policy']}")
    for key in row.index:
        if str(key).startswith("factor_") and float(row[key]) > 5e-4:
            parts.append(f"factor {float(row[key]):.0%} {str(key).removeprefix('factor_')}")
    for key, words in (("line_extra", "line +"), ("reserve", "reserve "),
                       ("collection_spend", "collection ")):
        if float(row[key]) > 0:
            parts.append(words + format_money(float(row[key])))
    if row["action"] != "none":
        parts.append(f"action {row['action']}")
    return ", ".join(parts) or "nothing"


def optimise_section(frontier: pd.DataFrame, stress: pd.DataFrame | None, fan: pd.DataFrame,
                     summary: dict[str, Any]) -> Section:
    """The section of ``portsim optimise`` (module docstring); the arguments are the files
    of its folder (``frontier.csv``, ``stress.csv``, ``fan.csv``, ``optimise.json``)."""
    money = _is_money(summary)

    def obj(v: float, se: float) -> str:
        if money:
            return f"{num(v, 0)} ± {num(se, 0)}"
        if summary.get("metric") == "line_breach":
            return f"{pct(v, 2)} ± {pct(se, 2)}"
        return f"{v:.4g} ± {se:.2g}"

    sec = Section("optimise", "Risk budget")
    sec.text.append(str(summary["text"]))
    sec.text.append(
        f"Objective: minimise {summary['objective']}; costs are expected yearly costs "
        f"({summary['cost_basis']} basis). Every mix is priced on the same {summary['paths']:,} "
        f"simulated paths (seed {summary['seed']}); the chosen mix is priced again on "
        f"{summary['paths']:,} paths of the independent seed {summary['validation_seed']}, so "
        "the optimism of choosing on the same paths shows as the gap between the two.")
    sec.figures.append(("Frontier: the best mix's objective at each budget (± 2 s.e.)",
                        lambda ax: plot_frontier(frontier, summary, ax)))
    buffer = summary.get("min_cash_buffer")
    sec.figures.append(("Cash fan chart of the chosen mix at the default budget against "
                        "doing nothing (independent seed; insurer and factoring cash spread "
                        "over the periods as expected)",
                        lambda ax: plot_mix_fan(fan, None if buffer is None else float(buffer),
                                                ax)))
    rows = [[num(float(r["budget"]), 0) + (" (default)" if bool(r["is_default"]) else ""),
             frontier_levers(r), num(float(r["cost"]), 0),
             obj(float(r["objective_in"]), float(r["objective_in_se"])),
             obj(float(r["objective_out"]), float(r["objective_out_se"])),
             num(float(r["expected_loss"]), 0), num(float(r["es"]), 0), num(float(r["cfar"]), 0),
             pct(float(r["p_line_breach"]), 2), num(float(r["dso"]), 1),
             num(float(r["lost_margin"]), 0)]
            for _, r in frontier.iterrows()]
    level = f"{float(summary['level']) * 100:g} %"
    sec.tables.append(("Frontier (side effects on the independent seed)", Table(
        ["budget", "levers", "cost", "objective (optimisation seed)",
         "objective (independent seed)", "expected loss", f"ES {level}", f"CFaR {level}",
         "P(line breach)", "DSO", "lost margin"], rows, numeric={0, 2, 3, 4, 5, 6, 7, 8, 9, 10})))
    if stress is not None and not stress.empty:
        srows = [[str(r["scenario"]),
                  obj(float(r["objective_chosen"]), float(r["objective_chosen_se"])),
                  obj(float(r["objective_best"]), float(r["objective_best_se"])),
                  obj(float(r["regret"]), 0.0).split(" ±")[0], str(r["best_mix"])]
                 for _, r in stress.iterrows()]
        sec.text.append(
            f"Stress: the chosen mix under each scenario ({summary['stress_paths']:,} paths, "
            f"seed {summary['seed']}) next to the best mix for that scenario within the "
            f"default budget; to keep the run short the scenarios simulate "
            f"{summary['stress_scope']}. Regret = chosen − best.")
        sec.tables.append(("Stress scenarios: objective of the chosen mix and of the best mix",
                           Table(["scenario", "chosen mix", "best mix", "regret",
                                  "best mix's levers"], srows, numeric={1, 2, 3})))
    return sec
