"""The run a report is made of: its Dataset, metrics, provenance and notes (:class:`RunData`),
from a run folder (:func:`load_run`) or a Dataset in memory (:func:`from_dataset`).

Customer names come from the ``customer_name`` variable of ``results.nc``; a folder written
before names were stored shows its customers by id (and says so in the report's notes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from portsim.errors import ConfigError, Problem
from portsim.report.plotting import baseline, risk_levels
from portsim.results.metrics import risk_metrics

__all__ = ["COMPARISON_FILE", "RunData", "from_dataset", "load_run"]

#: A scenario comparison table a batch run may leave in its folder (shown as it is).
COMPARISON_FILE = "comparison.csv"


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
    """A :class:`RunData` for a Dataset in memory (metrics computed when not given:
    :func:`portsim.results.metrics.risk_metrics` of the baseline)."""
    if metrics is None:
        metrics = risk_metrics(baseline(ds), risk_levels(ds, levels))
    return RunData(ds=ds, metrics=metrics, config=dict(config or {}),
                   run_info=dict(run_info or {}))


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
        run.metrics = risk_metrics(baseline(ds), risk_levels(ds))
        run.notes.append("summary.json is missing: the metrics were computed from results.nc.")
    if "customer_name" not in ds:
        run.notes.append("Customer names are not shown (this run's results.nc holds no names: "
                         "it was written before they were stored); customers appear by id.")
    if (d / COMPARISON_FILE).exists():
        run.comparison = pd.read_csv(d / COMPARISON_FILE)
    return run

