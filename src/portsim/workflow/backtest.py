"""``portsim backtest``: walk-forward backtest of the PD model and the alert levels.

Every month-end ``s`` whose 12 following months are observed by the end date is scored as
``portsim warn`` would have scored it then: the model is refitted at ``s`` on the last
``train_months`` month-ends whose outcome was known at ``s`` (ending 12 months before it),
with the features at ``s`` and the rules of ``[warn]``. Refitting at each date (rather than
fitting once before the first scored date) is what the command would have done in each month,
and lets the later dates use the defaults observed since. The first scored date is the first
with :data:`MIN_TRAIN_DATES` month-ends of training data.

The scored rows are the customers with invoices in the payment history by ``s`` (the others
have no data to warn on); their outcome is a default within the 12 months after ``s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from portsim.config import RunConfig
from portsim.config.locate import key_location
from portsim.earlywarning import (
    CreditFiles,
    backtest_levels,
    discrimination,
    hosmer_lemeshow,
    jeffreys_test,
    level_counts,
    level_migration,
    psi,
)
from portsim.errors import ConfigError, Problem
from portsim.report.html import page
from portsim.report.run import EarlyWarningData
from portsim.report.warn import backtest_section
from portsim.workflow.claim import claim_auto, claim_new
from portsim.workflow.folders import read_json, write_json, write_text_atomic
from portsim.workflow.warn import (
    HORIZON_MONTHS,
    FeatureCache,
    data_start,
    fit_as_of,
    model_card,
    month_ends,
    read_warn_inputs,
    score_as_of,
    training_dates,
    warn_as_of,
    warn_settings,
    write_csv,
)

__all__ = ["EARLY_WARNING_DIR", "MIN_TRAIN_DATES", "BacktestResult", "backtest_metrics",
           "backtest_panel", "outcome_end", "read_early_warning", "run_backtest",
           "write_early_warning"]

#: Month-ends of training data the first scored date needs.
MIN_TRAIN_DATES = 6
#: Hosmer–Lemeshow groups.
HL_GROUPS = 10
#: The folder, inside a run folder, of the early warning of a run whose config has [warn].
EARLY_WARNING_DIR = "early_warning"


def data_end(files: CreditFiles) -> pd.Timestamp:
    """The latest date in the credit files (invoice issue or payment, statement, signal,
    default)."""
    dates = [files.history["issue_date"], files.history["paid_date"],
             files.statements["available_date"], files.signals["date"],
             files.defaults["default_date"]]
    return pd.Timestamp(max(d.max() for d in dates if d.notna().any()))


def outcome_end(config: RunConfig, files: CreditFiles) -> date:
    """The date up to which outcomes are observed by default: ``[timeline] as_of``, else the
    latest date in the credit files."""
    return config.timeline.as_of if config.timeline is not None else data_end(files).date()


def backtest_panel(config: RunConfig, end: date | None = None, *,
                   files: CreditFiles | None = None,
                   cache: FeatureCache | None = None) -> pd.DataFrame:
    """The scores of every scored month-end and their outcomes.

    Parameters
    ----------
    config : RunConfig
        With ``[book]`` and ``[warn]``.
    end : date, optional
        Outcomes are observed up to this date; default :func:`outcome_end`.
    files : CreditFiles, optional
        The credit files of ``config`` (read when not given).
    cache : FeatureCache, optional
        Features already computed (one is made if not given).

    Returns
    -------
    DataFrame
        One row per scored customer and month-end: ``customer``, ``date``, ``pd``,
        ``pd_source``, ``grade``, ``level``, ``defaulted_12m`` (bool) and ``default_date``
        (the first default within the 12 months, NaT if none).
    """
    warn = warn_settings(config)
    files = read_warn_inputs(config) if files is None else files
    if end is None:
        end = outcome_end(config, files)
    last = pd.Timestamp(end) - pd.DateOffset(months=HORIZON_MONTHS)
    cache = FeatureCache() if cache is None else cache
    frames = []
    for s in month_ends(data_start(files), last):
        dates = training_dates(files, s, warn.train_months)
        if len(dates) < MIN_TRAIN_DATES:
            continue
        # the refits' in-sample metrics are not reported: no KS bootstrap
        model, panel = fit_as_of(files, dates, warn, cache, ks_replicates=0)
        table = score_as_of(files, model, panel, s, warn, cache)
        frames.append(_rows(files, table, s))
    if not frames:
        raise ConfigError([Problem(
            key_location(warn.source, ("warn",), "config [warn]"), f"end of outcomes {end}",
            f"leaves no month-end with {MIN_TRAIN_DATES} month-ends of training data before "
            "it and 12 observed months after it",
            "give a longer history (two years and a half at least)")])
    return pd.concat(frames, ignore_index=True)


def _rows(files: CreditFiles, table: pd.DataFrame, s: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``table`` (scores at ``s``) of customers with invoices by ``s``, with
    their outcomes."""
    h = files.history
    covered = np.zeros(files.book.n_customers, dtype=bool)
    covered[h["customer"].to_numpy()[(h["issue_date"] <= s).to_numpy()]] = True
    d = files.defaults
    window = (d["default_date"] > s) & (d["default_date"] <= s + pd.DateOffset(
        months=HORIZON_MONTHS))
    first = d[window].groupby("customer")["default_date"].min()
    default_date = first.reindex(np.arange(files.book.n_customers))
    rows = table[covered]
    return pd.DataFrame({
        "customer": rows.index.to_numpy(), "date": s, "pd": rows["pd"].to_numpy(),
        "pd_source": rows["pd_source"].to_numpy(), "grade": rows["grade"].to_numpy(),
        "level": rows["level"].to_numpy(),
        "defaulted_12m": default_date.notna().to_numpy()[covered],
        "default_date": default_date.to_numpy()[covered]})


def backtest_metrics(panel: pd.DataFrame, levels: list[str]) -> dict[str, Any]:
    """The backtest's figures over the scored rows of :func:`backtest_panel`.

    Returns
    -------
    dict
        ``scored`` (dates, rows, defaults, first and last date); ``model``: ``auc`` with its
        DeLong 95 % interval (``auc_low``, ``auc_high``), ``gini``, ``ks`` and ``brier``
        with theirs (:func:`~portsim.earlywarning.discrimination`), ``hosmer_lemeshow``
        (statistic, dof, p-value), ``psi`` (the PDs of the last scored date against the
        first); ``levels`` and ``grades``: DataFrames of
        :func:`~portsim.earlywarning.backtest_levels` and
        :func:`~portsim.earlywarning.jeffreys_test`; ``level_counts`` and ``migration``:
        DataFrames of :func:`~portsim.earlywarning.level_counts` (customers per level at
        each scored date) and :func:`~portsim.earlywarning.level_migration` (moves between
        levels from one scored date to the next).
    """
    y = panel["defaulted_12m"].to_numpy(dtype=bool)
    p = panel["pd"].to_numpy(dtype=np.float64)
    hl = hosmer_lemeshow(y, p, groups=HL_GROUPS)
    dates = panel["date"]
    model = {**discrimination(y, p),
             "hosmer_lemeshow": {"statistic": hl.statistic, "dof": hl.dof,
                                 "p_value": hl.p_value},
             "psi": psi(p[(dates == dates.min()).to_numpy()],
                        p[(dates == dates.max()).to_numpy()])}
    scored = {"dates": int(dates.nunique()), "rows": int(y.size), "defaults": int(y.sum()),
              "first_date": str(dates.min().date()), "last_date": str(dates.max().date())}
    return {"scored": scored, "model": model,
            "levels": backtest_levels(panel, levels),
            "grades": jeffreys_test(panel["grade"], y, p),
            "level_counts": level_counts(panel, levels),
            "migration": level_migration(panel, levels)}


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`run_backtest` wrote: the folder, the scored panel and the metrics."""

    folder: Path
    panel: pd.DataFrame
    metrics: dict[str, Any]


def run_backtest(config: RunConfig, out: str | Path | None = None,
                 end: date | None = None) -> BacktestResult:
    """Backtest the early warning of ``config`` and write ``backtest.csv`` (per level and
    per grade), ``migration.csv`` (the level migration matrix), ``backtest.json`` (every
    figure, with the customers per level at each scored date) and ``report.html`` (with the
    ROC curve, the PD calibration chart and the customers per level over time) into ``out``.

    Parameters
    ----------
    config : RunConfig
    out : str or Path, optional
        A new folder (an existing one must be empty); default
        ``<output.dir>/<name>-backtest`` (numbered when taken).
    end : date, optional
        See :func:`backtest_panel`.
    """
    panel = backtest_panel(config, end)
    levels = [lv.name for lv in warn_settings(config).levels]
    metrics = backtest_metrics(panel, levels)
    claim = (claim_new(Path(out)) if out is not None
             else claim_auto(Path(config.output.dir) / f"{config.name}-backtest"))
    table = pd.concat([
        metrics["levels"].reset_index().rename(columns={"level": "group"}).assign(kind="level"),
        metrics["grades"].reset_index().rename(columns={"grade": "group"}).assign(kind="grade"),
    ], ignore_index=True)
    table = table[["kind", "group", *[c for c in table.columns if c not in ("kind", "group")]]]
    with claim:
        write_csv(claim.folder / "backtest.csv", table, index=False)
        write_csv(claim.folder / "migration.csv", metrics["migration"], index=False)
        write_json(claim.folder / "backtest.json", {
            "scored": metrics["scored"], "model": metrics["model"],
            "levels": metrics["levels"].reset_index().to_dict(orient="records"),
            "grades": metrics["grades"].reset_index().to_dict(orient="records"),
            "level_counts": [{"date": str(day.date()), **row} for day, row in
                             metrics["level_counts"].to_dict(orient="index").items()]})
        write_text_atomic(claim.folder / "report.html", page(
            "Backtest of the early warning", config.name, [backtest_section(panel, metrics)]))
    return BacktestResult(folder=claim.folder, panel=panel, metrics=metrics)


def write_early_warning(config: RunConfig, folder: Path) -> None:
    """Score the book and backtest the early warning of ``config`` (which has ``[warn]``), as
    ``portsim warn --as-of END`` and ``portsim backtest`` would with END = :func:`outcome_end`,
    and write ``warnings.csv``, ``model.json`` and ``panel.csv`` (the backtest's scored rows)
    into ``folder/early_warning`` for the run report (:func:`read_early_warning`).
    """
    files = read_warn_inputs(config)
    end = outcome_end(config, files)
    cache = FeatureCache()  # the score date is a month-end of the backtest's
    model, warnings = warn_as_of(config, end, files, cache)
    panel = backtest_panel(config, end, files=files, cache=cache)
    target = folder / EARLY_WARNING_DIR
    target.mkdir(exist_ok=True)
    write_csv(target / "warnings.csv", warnings, index=True)
    write_json(target / "model.json", model_card(config, files, model, end))
    write_csv(target / "panel.csv", panel, index=False)


def read_early_warning(folder: Path, config: dict[str, Any]) -> EarlyWarningData | None:
    """The early warning :func:`write_early_warning` wrote into the run ``folder`` (None when
    it holds none), with the backtest's metrics computed from its scored rows.

    Parameters
    ----------
    folder : Path
        A complete run folder.
    config : dict
        Its ``config.json`` (the alert levels of ``[warn]``).
    """
    source = folder / EARLY_WARNING_DIR
    if not (source / "panel.csv").exists():
        return None
    levels = [str(lv["name"]) for lv in config["warn"]["levels"]]
    text = {"customer": str, "customer_id": str, "grade": str, "level": str}
    warnings = pd.read_csv(source / "warnings.csv", index_col="customer_id", dtype=text)
    warnings[["rules", "top_features"]] = warnings[["rules", "top_features"]].fillna("")
    panel = pd.read_csv(source / "panel.csv", dtype=text, parse_dates=["date", "default_date"])
    card = read_json(source / "model.json", title="cannot report")
    return EarlyWarningData(as_of=str(card["as_of"]), levels=levels, warnings=warnings,
                            panel=panel, metrics=backtest_metrics(panel, levels))
