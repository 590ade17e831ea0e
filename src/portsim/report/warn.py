"""The early-warning sections and their one-page HTML reports.

:func:`warn_section` is the alert list of ``portsim warn`` (customers per level, the customers
above the least severe level with their PD, grade, rules and the features behind the score);
:func:`backtest_section` the backtest of ``portsim backtest`` (model metrics, the levels'
default rates and signal quality, the Jeffreys test per grade, the level migration matrix)
with the ROC curve (:func:`plot_roc`), the PD calibration chart (:func:`plot_calibration`)
and the customers per level over time (:func:`plot_level_counts`).
Each command writes its section as a self-contained ``report.html``
(:func:`portsim.report.html.page`); :func:`early_warning_section` joins the alert list and the
backtest's figures in the report of a run whose config has ``[warn]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from portsim.report.plotting import PALETTE, axes
from portsim.report.run import EarlyWarningData
from portsim.report.sections import Section
from portsim.report.tables import Table, num, pct

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["backtest_figures", "backtest_section", "backtest_summary", "early_warning_section",
           "migration_table", "plot_calibration", "plot_level_counts", "plot_roc", "roc_points",
           "warn_section"]

#: Customers listed in the alert list at most.
ALERT_ROWS = 50
#: Customers listed in the alert list of the run report at most.
RUN_ALERT_ROWS = 15
#: Bar colours of the levels, least severe first (cycled beyond six levels).
LEVEL_COLOURS = (PALETTE.green, PALETTE.orange, PALETTE.red, PALETTE.purple, PALETTE.blue,
                 PALETTE.grey)


def roc_points(defaulted: ArrayLike, score: ArrayLike) -> tuple[NDArray[np.float64],
                                                                 NDArray[np.float64]]:
    """The ROC curve: false-positive and true-positive rates at every distinct threshold.

    Parameters
    ----------
    defaulted : array_like of bool, shape (n,)
    score : array_like of float, shape (n,)
        Higher = riskier.

    Returns
    -------
    fpr, tpr : ndarray of float, shape (k + 1,)
        From (0, 0) to (1, 1), one point per distinct score (ties move both rates at once),
        highest score first; the area under it is the AUC with ties counting one half.
    """
    y = np.asarray(defaulted, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # last row of each distinct score
    tp = np.cumsum(y)[last]
    fp = np.cumsum(~y)[last]
    return (np.r_[0.0, fp / max(int((~y).sum()), 1)], np.r_[0.0, tp / max(int(y.sum()), 1)])


def plot_roc(defaulted: ArrayLike, score: ArrayLike, ax: Axes | None = None) -> Axes:
    """The ROC curve (gid ``roc``) over the chance diagonal."""
    ax = axes(ax)
    fpr, tpr = roc_points(defaulted, score)
    ax.plot([0, 1], [0, 1], color=PALETTE.grey, lw=0.8, ls="--")
    ax.plot(fpr, tpr, color=PALETTE.blue, lw=1.5, gid="roc")
    ax.set(xlabel="false-alarm rate (non-defaulters signalled)",
           ylabel="hit rate (defaulters signalled)", xlim=(0, 1), ylim=(0, 1))
    return ax


def plot_calibration(grades: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Default rate against mean PD per grade, with the Jeffreys intervals (gid
    ``grades``), on log axes over the diagonal.

    Parameters
    ----------
    grades : DataFrame
        :func:`~portsim.earlywarning.jeffreys_test`: ``mean_pd``, ``default_rate``,
        ``jeffreys_low``, ``jeffreys_high`` per grade.
    """
    ax = axes(ax)
    p = grades["mean_pd"].to_numpy(dtype=np.float64)
    rate = grades["default_rate"].to_numpy(dtype=np.float64)
    low = grades["jeffreys_low"].to_numpy(dtype=np.float64)
    high = grades["jeffreys_high"].to_numpy(dtype=np.float64)
    span = (min(p.min(), low[low > 0].min(initial=p.min())) / 2, max(p.max(), high.max()) * 2)
    ax.plot(span, span, color=PALETTE.grey, lw=0.8, ls="--")
    ax.errorbar(p, rate, yerr=[np.maximum(rate - low, 0), np.maximum(high - rate, 0)],
                fmt="o", color=PALETTE.blue, capsize=3, gid="grades")
    for name, x, y in zip(grades.index, p, rate, strict=True):
        ax.annotate(str(name), (x, max(y, span[0])), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=span[0])  # linear near 0: grades without defaults
    ax.set(xlabel="mean PD of the grade", ylabel="default rate within 12 months", xlim=span,
           ylim=(0.0, span[1]))
    return ax


def plot_level_counts(counts: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Customers per level at each score date as stacked bars (gid ``level-<name>``), the
    least severe level at the bottom.

    Parameters
    ----------
    counts : DataFrame, shape (dates, levels)
        :func:`~portsim.earlywarning.level_counts`: customers per level, indexed by date.
    """
    ax = axes(ax)
    x = np.arange(len(counts))
    bottom = np.zeros(len(counts))
    for i, name in enumerate(counts.columns):
        n = counts[name].to_numpy(dtype=np.float64)
        ax.bar(x, n, bottom=bottom, width=0.8, color=LEVEL_COLOURS[i % len(LEVEL_COLOURS)],
               label=str(name), gid=f"level-{name}")
        bottom += n
    ax.set_xticks(x, [pd.Timestamp(day).strftime("%Y-%m") for day in counts.index],
                  rotation=45, ha="right")
    ax.set(xlabel="score date (month-end)", ylabel="customers")
    ax.legend(title="level", fontsize=8)
    return ax


def warn_section(warnings: pd.DataFrame, levels: Sequence[str], as_of: str,
                 limit: int = ALERT_ROWS) -> Section:
    """The alert list of ``portsim warn``.

    Parameters
    ----------
    warnings : DataFrame
        :func:`~portsim.earlywarning.assess`, indexed by customer id.
    levels : sequence of str
        The level names, least severe first.
    as_of : str
        The score date.
    limit : int
        Customers listed in the alert list at most.
    """
    rank = warnings["level"].map({name: i for i, name in enumerate(levels)})
    sec = Section("warn", f"Early warning as of {as_of}")
    sec.text.append(
        "12-month PD per customer from the payment history, financial statements and "
        "external signals known at the date (pd source 'model'), else the book's PD; the "
        "level is the most severe among the rules that fired.")
    counts = [[name, num(float((rank == i).sum()), 0),
               pct(float(warnings["pd"][rank == i].mean()), 2) if (rank == i).any() else ""]
              for i, name in enumerate(levels)]
    sec.tables.append(("Customers per level", Table(["level", "customers", "mean PD"], counts,
                                                    numeric={1, 2})))
    alerts = warnings[rank > 0].assign(_rank=rank[rank > 0]).sort_values(
        ["_rank", "pd"], ascending=False).head(limit)
    rows = [[str(cid), str(r["level"]), pct(float(r["pd"]), 2), str(r["grade"]),
             str(r["pd_source"]), str(r["rules"]), str(r["top_features"])]
            for cid, r in alerts.iterrows()]
    shown = f"the {len(rows)} most severe" if len(rows) < int((rank > 0).sum()) else "all"
    sec.tables.append((f"Alert list ({shown}, most severe and highest PD first)", Table(
        ["customer", "level", "PD", "grade", "PD source", "rules", "features behind the score"],
        rows, numeric={2})))
    return sec


def _migration_table(migration: pd.DataFrame, names: list[str]) -> Table:
    """The migration matrix: one row per level moved from, one column per level moved to,
    each cell the count with its share of the row."""
    mig = migration.set_index(["from_level", "to_level"])

    def cell(a: str, b: str) -> str:
        share = pct(float(mig.loc[(a, b), "share"]), 1)
        return num(float(mig.loc[(a, b), "count"]), 0) + (f" ({share})" if share else "")

    return Table(["from / to", *names, "customers"],
                 [[a, *[cell(a, b) for b in names], num(float(mig.loc[a, "count"].sum()), 0)]
                  for a in names], numeric=set(range(1, len(names) + 2)))


def backtest_summary(metrics: dict[str, Any]) -> str:
    """The backtest in one paragraph: what was scored, AUC, Gini, KS, Brier, Hosmer–Lemeshow
    and PSI (``metrics`` as in :func:`backtest_section`)."""
    m, scored = metrics["model"], metrics["scored"]
    return (
        f"{scored['rows']:,} customer-months scored at {scored['dates']} month-ends "
        f"({scored['first_date']} to {scored['last_date']}), each with a model refitted on "
        f"the outcomes known then; {scored['defaults']:,} followed by a default within 12 "
        f"months. AUC {m['auc']:.3f} (95 % {m['auc_low']:.3f}–{m['auc_high']:.3f}), Gini "
        f"{m['gini']:.3f}, KS {m['ks']:.3f} ({m['ks_low']:.3f}–{m['ks_high']:.3f}), Brier "
        f"{m['brier']:.4f} ({m['brier_low']:.4f}–{m['brier_high']:.4f}), Hosmer–Lemeshow p-value "
        f"{m['hosmer_lemeshow']['p_value']:.3g}, PSI first to last date {m['psi']:.3f}.")


def migration_table(metrics: dict[str, Any]) -> tuple[str, Table]:
    """The captioned level migration matrix of the backtest (``metrics`` as in
    :func:`backtest_section`)."""
    return ("Level migration to the next scored month-end (customers scored at both; share "
            "of the row)", _migration_table(metrics["migration"], list(metrics["level_counts"])))


def backtest_figures(panel: pd.DataFrame, metrics: dict[str, Any]
                     ) -> list[tuple[str, Callable[[Axes], Axes]]]:
    """The captioned ROC curve, PD calibration chart and customers per level over time of the
    backtest (``panel`` and ``metrics`` as in :func:`backtest_section`)."""
    y = panel["defaulted_12m"].to_numpy(dtype=bool)
    p = panel["pd"].to_numpy(dtype=np.float64)
    grades, counts = metrics["grades"], metrics["level_counts"]
    return [("ROC curve of the PDs", lambda ax: plot_roc(y, p, ax)),
            ("PD calibration per grade (Jeffreys 95 % intervals)",
             lambda ax: plot_calibration(grades, ax)),
            ("Customers per level at each scored month-end",
             lambda ax: plot_level_counts(counts, ax))]


def backtest_section(panel: pd.DataFrame, metrics: dict[str, Any]) -> Section:
    """The backtest of ``portsim backtest``: metrics, levels, grades, migration, ROC,
    calibration and the customers per level over time.

    Parameters
    ----------
    panel : DataFrame
        The scored rows (``defaulted_12m``, ``pd``).
    metrics : dict
        :func:`portsim.workflow.backtest.backtest_metrics`-shaped: ``scored``, ``model``,
        ``levels``, ``grades``, ``level_counts`` and ``migration``.
    """
    sec = Section("backtest", "Backtest of the early warning", [backtest_summary(metrics)])
    lv = metrics["levels"]
    sec.tables.append(("Alert levels (signal: this level or worse)", Table(
        ["level", "rows", "mean PD", "default rate", "hit rate", "false-alarm rate",
         "noise-to-signal", "lead time (months)"],
        [[str(name), num(r["n"], 0), pct(r["mean_pd"], 2), pct(r["default_rate"], 2),
          pct(r["hit_rate"], 1), pct(r["false_alarm_rate"], 1), num(r["noise_to_signal"], 3),
          num(r["lead_time_months"], 1)] for name, r in lv.iterrows()],
        numeric=set(range(1, 8)))))
    gr = metrics["grades"]
    sec.tables.append(("Grades: Jeffreys test (small p-value: the PD is too low)", Table(
        ["grade", "rows", "defaults", "mean PD", "default rate", "Jeffreys 95 %", "p-value"],
        [[str(name), num(r["n"], 0), num(r["defaults"], 0), pct(r["mean_pd"], 2),
          pct(r["default_rate"], 2),
          f"{pct(r['jeffreys_low'], 2)}–{pct(r['jeffreys_high'], 2)}", f"{r['p_value']:.3g}"]
         for name, r in gr.iterrows()], numeric=set(range(1, 7)))))
    sec.tables.append(migration_table(metrics))
    sec.figures += backtest_figures(panel, metrics)
    return sec


def early_warning_section(ew: EarlyWarningData) -> Section:
    """The early-warning section of the run report: the customers per level and the alert
    list of :func:`warn_section` (the :data:`RUN_ALERT_ROWS` most severe), the backtest in a
    paragraph, the level migration matrix, the ROC curve, the PD calibration chart and the
    customers per level over time of :func:`backtest_section`."""
    alerts = warn_section(ew.warnings, ew.levels, ew.as_of, limit=RUN_ALERT_ROWS)
    return Section("early-warning", f"Early warning as of {ew.as_of}",
                   [*alerts.text, "Backtest: " + backtest_summary(ew.metrics)],
                   [*alerts.tables, migration_table(ew.metrics)],
                   backtest_figures(ew.panel, ew.metrics))
