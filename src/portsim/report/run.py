"""The run a report is made of: its Dataset, metrics, provenance and notes (:class:`RunData`),
from a run folder's files (:func:`run_from_files`, read by
:func:`portsim.workflow.folders.read_run`) or a Dataset in memory (:func:`from_dataset`).

Customer names come from the ``customer_name`` variable of ``results.nc``; a folder written
before names were stored shows its customers by id (and says so in the report's notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from portsim.report.plotting import baseline, risk_levels
from portsim.results.metrics import risk_metrics

__all__ = ["EarlyWarningData", "RunData", "from_dataset", "run_from_files"]


@dataclass(frozen=True)
class EarlyWarningData:
    """The early warning of a run whose config has ``[warn]``, as ``portsim warn`` and
    ``portsim backtest`` compute it on the run's credit files.

    Attributes
    ----------
    as_of : str
        The score date of the alert list and the end of the backtest's outcomes.
    levels : list of str
        The alert levels, least severe first.
    warnings : DataFrame
        The alert table (:func:`portsim.earlywarning.assess`), indexed by customer id.
    panel : DataFrame
        The backtest's scored rows (:func:`portsim.workflow.backtest.backtest_panel`).
    metrics : dict
        :func:`portsim.workflow.backtest.backtest_metrics` of ``panel``.
    """

    as_of: str
    levels: list[str]
    warnings: pd.DataFrame
    panel: pd.DataFrame
    metrics: dict[str, Any]


@dataclass
class RunData:
    """Everything the report shows about one run.

    Attributes
    ----------
    ds : xarray.Dataset
        The run's Dataset (``results.nc``), loaded into memory.
    metrics : dict
        ``summary.json["metrics"]`` (or :func:`portsim.results.metrics.risk_metrics` of ``ds``).
    provenance, run_info, config : dict
        ``summary.json["provenance"]``, ``run.json`` and ``config.json`` (empty when absent).
    path : Path or None
        The run folder.
    notes : list of str
        Things the reader should know (e.g. names not stored).
    comparison : DataFrame or None
        comparison table of a batch folder, when present.
    early_warning : EarlyWarningData or None
        The run's early warning, when its config has ``[warn]``.
    scenario_inputs : dict of str to dict of str to str
        Of a batch folder: each scenario's input files and their SHA-256 (its run folder's
        ``run.json`` ``input_sha256``), by scenario name; empty otherwise.
    """

    ds: xr.Dataset
    metrics: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    run_info: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    comparison: pd.DataFrame | None = None
    early_warning: EarlyWarningData | None = None
    scenario_inputs: dict[str, dict[str, str]] = field(default_factory=dict)

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
    """A :class:`RunData` for a Dataset in memory (metrics computed when not given:
    :func:`portsim.results.metrics.risk_metrics` of the baseline)."""
    if metrics is None:
        metrics = risk_metrics(baseline(ds), risk_levels(ds, levels))
    return RunData(ds=ds, metrics=metrics, config=dict(config or {}),
                   run_info=dict(run_info or {}))


def run_from_files(
    ds: xr.Dataset,
    *,
    summary: dict[str, Any],
    run_info: dict[str, Any],
    config: dict[str, Any],
    path: Path,
    comparison: pd.DataFrame | None,
    early_warning: EarlyWarningData | None = None,
    scenario_inputs: dict[str, dict[str, str]] | None = None,
) -> RunData:
    """A :class:`RunData` from the files of a complete run folder, as read by
    :func:`portsim.workflow.folders.read_run` (``results.nc``, ``summary.json``, ``run.json``,
    ``config.json``, of a batch the comparison table and each scenario's input hashes, and the
    early warning of a run with ``[warn]``; empty dicts for absent files).

    The metrics are computed from ``ds`` when ``summary.json`` has none.
    """
    run = RunData(
        ds=ds, metrics=summary.get("metrics") or {}, provenance=summary.get("provenance") or {},
        run_info=run_info, config=config, path=path, comparison=comparison,
        early_warning=early_warning,
        scenario_inputs=dict(scenario_inputs or {}),
    )
    if not run.metrics:
        run.metrics = risk_metrics(baseline(ds), risk_levels(ds))
        run.notes.append("summary.json is missing: the metrics were computed from results.nc.")
    if "customer_name" not in ds:
        run.notes.append("Customer names are not shown (this run's results.nc holds no names: "
                         "it was written before they were stored); customers appear by id.")
    return run

