"""Run folders on disk: the name of every file, and the one place that writes and reads them.

A run folder (``portsim run``) holds::

    config.json         the resolved config, written when the run starts
    results.nc          the run's Dataset (netCDF, h5netcdf engine)
    summary.json        {"metrics": …, "provenance": …} (a batch adds "batch")
    summary.csv         the metrics as a table
    contributions.csv   Euler contributions by level, customer, sector and country (if made)
    run.json            provenance of the run: seeds, hashes, versions, execution, timings
    .incomplete         marker: the run has not finished (a note says how to resume)
    checkpoint.json, chunks/   the checkpoint (:mod:`portsim.workflow.checkpoint`)
    .lock               held by the process writing the folder (:mod:`portsim.workflow.claim`)

and a scenario batch folder also ``batch.json`` (what a resume needs), ``comparison.csv`` and
``scenarios/NAME/``, one run folder per scenario. The folder has its final name from the
start; every file is written under a temporary name and renamed (:func:`write_atomic`), and
the marker goes last, so a folder without ``.incomplete`` is whole. :func:`read_run` reads a
complete folder for the report; :func:`write_workbook` exports it (or the tables of a
``portsim ecl`` folder) as an Excel workbook.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xarray as xr

from portsim.config import RunConfig
from portsim.errors import ConfigError, Problem

if TYPE_CHECKING:
    from portsim.report.run import RunData

__all__ = [
    "BATCH_FILE",
    "CHUNKS_DIR",
    "COMPARISON_FILE",
    "CONFIG_FILE",
    "CONTRIBUTIONS_FILE",
    "LOCK",
    "MANIFEST",
    "MARKER",
    "RESULTS_FILE",
    "RUN_FILE",
    "SCENARIOS_DIR",
    "SUMMARY_CSV",
    "SUMMARY_JSON",
    "copy_files",
    "has_results",
    "is_batch_folder",
    "is_incomplete",
    "is_temporary",
    "json_safe",
    "mark_incomplete",
    "read_batch_info",
    "read_config",
    "read_json",
    "read_results",
    "read_run",
    "scenario_dir",
    "unmark_incomplete",
    "write_atomic",
    "write_batch_info",
    "write_config",
    "write_json",
    "write_report",
    "write_results",
    "write_run_info",
    "write_text_atomic",
    "write_workbook",
]

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.nc"
SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
CONTRIBUTIONS_FILE = "contributions.csv"
RUN_FILE = "run.json"
MARKER = ".incomplete"
LOCK = ".lock"
MANIFEST = "checkpoint.json"
CHUNKS_DIR = "chunks"
BATCH_FILE = "batch.json"
COMPARISON_FILE = "comparison.csv"
SCENARIOS_DIR = "scenarios"

# ------------------------------------------------------------------------------- writing


_TMP = ".tmp-"


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` with a temporary path next to ``path``, then rename it to ``path``.

    The temporary name starts with a dot and keeps the suffix (``.name.tmp-PID-TID.suffix``),
    for writers that add or check one; it is removed when the write fails.

    Raises
    ------
    OSError
        When the file cannot be written, with ``path`` (not the temporary name) as its
        ``filename``.
    """
    tmp = path.with_name(
        f".{path.stem}{_TMP}{os.getpid()}-{threading.get_ident()}{path.suffix}"
    )
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


def is_temporary(path: Path) -> bool:
    """``path`` is the temporary file of :func:`write_atomic` (left only by a killed writer)."""
    return path.name.startswith(".") and _TMP in path.name


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (NaN, ±inf) replaced by None, for JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (non-finite floats as null), atomically."""
    write_text_atomic(path, json.dumps(json_safe(obj), indent=2) + "\n")


def mark_incomplete(folder: Path, note: str) -> None:
    """Put the ``.incomplete`` marker, holding ``note`` (how to finish the run), in ``folder``."""
    write_text_atomic(folder / MARKER, note)


def unmark_incomplete(folder: Path) -> None:
    """Remove the ``.incomplete`` marker: the folder is whole (the last step of a run)."""
    (folder / MARKER).unlink(missing_ok=True)


def is_incomplete(folder: Path) -> bool:
    """The folder holds the ``.incomplete`` marker: a run started there has not finished."""
    return (folder / MARKER).exists()


def is_batch_folder(run_dir: str | Path) -> bool:
    """The folder is a scenario batch (holds ``batch.json``)."""
    return (Path(run_dir) / BATCH_FILE).exists()


def scenario_dir(folder: Path, name: str) -> Path:
    """The run folder of scenario ``name`` inside the batch folder ``folder``."""
    return folder / SCENARIOS_DIR / name


def write_config(folder: Path, config: RunConfig) -> None:
    """``config.json``: the resolved config."""
    write_text_atomic(folder / CONFIG_FILE, json.dumps(config.resolved(), indent=2) + "\n")


def write_results(
    folder: Path,
    ds: xr.Dataset,
    tables: dict[str, pd.DataFrame],
    summary: dict[str, Any],
) -> None:
    """``results.nc``, the CSV tables and ``summary.json``.

    Parameters
    ----------
    folder : Path
    ds : xarray.Dataset
        Written to ``results.nc``.
    tables : dict of str to DataFrame
        CSV files by name (:data:`SUMMARY_CSV`, :data:`CONTRIBUTIONS_FILE`,
        :data:`COMPARISON_FILE`), written without the index.
    summary : dict
        ``summary.json``: ``metrics``, ``provenance`` and, for a batch, ``batch``.
    """
    write_atomic(folder / RESULTS_FILE, lambda p: ds.to_netcdf(p, engine="h5netcdf"))
    for name, table in tables.items():
        _write_csv(folder / name, table)
    write_json(folder / SUMMARY_JSON, summary)


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    write_atomic(path, lambda p: table.to_csv(p, index=False))


def copy_files(source: Path, folder: Path, names: tuple[str, ...]) -> None:
    """Copy the text files ``names`` of the run folder ``source`` into ``folder``."""
    for name in names:
        write_text_atomic(folder / name, (source / name).read_text(encoding="utf-8"))


def write_run_info(folder: Path, info: dict[str, Any]) -> None:
    """``run.json``: the run's provenance."""
    write_json(folder / RUN_FILE, info)


def write_batch_info(folder: Path, info: dict[str, Any]) -> None:
    """``batch.json``: the scenarios, baseline, kernel, seed and paths of a batch."""
    write_json(folder / BATCH_FILE, info)


# ------------------------------------------------------------------------------- reading


def read_json(path: Path, *, title: str, fix: str = "") -> dict[str, Any]:
    """A JSON object from ``path`` (empty when the file does not exist).

    Raises
    ------
    ConfigError
        Titled ``title`` when the file exists but cannot be read.
    """
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([Problem(str(path), "", f"cannot be read ({exc})", fix)],
                          title=title) from None
    return data if isinstance(data, dict) else {}


def read_config(folder: Path, *, fix: str) -> RunConfig:
    """The run's config from its ``config.json``.

    Raises
    ------
    ConfigError
        When the file is missing or is not a valid config; ``fix`` says what to do instead.
    """
    stored = folder / CONFIG_FILE
    try:
        return RunConfig.model_validate_json(stored.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([Problem(str(stored), "", f"cannot be read ({exc})", fix)],
                          title="cannot resume") from None


def read_batch_info(folder: Path) -> dict[str, Any]:
    """A batch folder's ``batch.json``.

    Raises
    ------
    ConfigError
        When it is missing or cannot be read.
    """
    path = folder / BATCH_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([Problem(str(path), "", f"cannot be read ({exc})",
                                   "give a batch folder made by portsim run with several "
                                   "--scenario")], title="cannot resume") from None
    return data


def _read_dataset(folder: Path) -> xr.Dataset:
    with xr.open_dataset(folder / RESULTS_FILE, engine="h5netcdf") as f:
        return f.load()


def has_results(folder: Path) -> bool:
    """The folder holds ``results.nc``."""
    return (folder / RESULTS_FILE).exists()


def read_results(folder: Path) -> tuple[xr.Dataset, dict[str, Any]]:
    """A complete run's Dataset (loaded into memory) and the metrics of its ``summary.json``."""
    summary = read_json(folder / SUMMARY_JSON, title="cannot resume")
    return _read_dataset(folder), summary["metrics"]


def read_run(run_dir: str | Path) -> RunData:
    """Read a complete run folder for the report (:mod:`portsim.report`).

    ``results.nc``, ``summary.json``, ``run.json``, ``config.json`` and, when present,
    ``comparison.csv`` and the early warning (:func:`portsim.workflow.backtest.read_early_warning`)
    are read here and handed to
    :func:`portsim.report.run.run_from_files`.

    Raises
    ------
    ConfigError
        When the folder does not exist, is incomplete (``.incomplete``) or has no
        ``results.nc``, or a JSON file cannot be read.
    """
    from portsim.report.run import run_from_files
    from portsim.workflow.backtest import read_early_warning  # it writes through this module

    d = Path(run_dir)
    where = str(d)
    if not d.is_dir():
        raise ConfigError([Problem(where, "", "is not a folder",
                                   "give a run folder written by portsim run")],
                          title="cannot report")
    if is_incomplete(d):
        raise ConfigError([Problem(where, "", "is an unfinished run",
                                   f"finish it first: portsim run --resume {d}")],
                          title="cannot report")
    if not has_results(d):
        raise ConfigError([Problem(where, RESULTS_FILE, "is missing",
                                   "give a run folder written by portsim run")],
                          title="cannot report")
    ds = _read_dataset(d)
    summary = read_json(d / SUMMARY_JSON, title="cannot report")
    comparison = (pd.read_csv(d / COMPARISON_FILE) if (d / COMPARISON_FILE).exists()
                  else None)
    run_info = read_json(d / RUN_FILE, title="cannot report")
    config = read_json(d / CONFIG_FILE, title="cannot report")
    return run_from_files(
        ds, summary=summary, run_info=run_info, config=config, path=d, comparison=comparison,
        early_warning=read_early_warning(d, config),
        scenario_inputs=_scenario_inputs(d, run_info))


def _scenario_inputs(folder: Path, run_info: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Of a batch folder (``run.json`` names its scenario folders): each scenario's input
    files and their SHA-256, from the scenario folder's ``run.json``; else empty."""
    if not run_info.get("batch"):
        return {}
    out: dict[str, dict[str, str]] = {}
    for name, sub in (run_info.get("scenarios") or {}).items():
        info = read_json(folder / str(sub) / RUN_FILE, title="cannot report")
        out[str(name)] = {str(k): str(v) for k, v in (info.get("input_sha256") or {}).items()}
    return out


def write_report(run_dir: str | Path, fmt: str = "html", out: str | Path | None = None) -> Path:
    """Render the report of a complete run folder (``fmt``: ``"html"`` or ``"pdf"``) and write
    it atomically to ``out`` (default ``RUN_DIR/report.html`` or ``report.pdf``); returns the
    path written.

    Raises
    ------
    ConfigError
        As :func:`read_run`.
    OSError
        When the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")  # the report draws on Figure objects; no display, ever
    from portsim.report.html import render_html
    from portsim.report.pdf import render_pdf

    run = read_run(run_dir)
    target = Path(out) if out is not None else Path(run_dir) / f"report.{fmt}"
    if fmt == "pdf":
        data = render_pdf(run)
        write_atomic(target, lambda p: p.write_bytes(data))
    else:
        write_text_atomic(target, render_html(run))
    return target


def write_workbook(folder: str | Path, out: str | Path | None = None) -> Path:
    """Export a complete run folder (:func:`read_run`; a batch folder adds its comparison), a
    ``portsim ecl`` folder (``ecl.csv``, ``disclosure.csv``, …), a ``portsim warn`` folder
    (``warnings.csv``, ``model.json``) or a ``portsim optimise`` folder (``frontier.csv``,
    ``stress.csv``) as an Excel workbook written atomically to ``out`` (default
    ``FOLDER/results.xlsx``, ``FOLDER/ecl.xlsx``, ``FOLDER/warn.xlsx`` or
    ``FOLDER/optimise.xlsx``); returns
    the path written (:mod:`portsim.report.workbook`).

    Raises
    ------
    ConfigError
        Titled "cannot export", as :func:`read_run`, for a folder that is none of these.
    InputError
        When openpyxl (the ``excel`` extra) is not installed.
    OSError
        When the file cannot be written.
    """
    from portsim.report.workbook import (
        ECL_SHEETS,
        ecl_sheets,
        optimise_sheets,
        run_sheets,
        save_workbook,
        warn_sheets,
    )

    d = Path(folder)
    if has_results(d):
        kind = "results"
    elif (d / f"{ECL_SHEETS[0][1]}.csv").exists():
        kind = "ecl"
    elif (d / "warnings.csv").exists() and (d / "model.json").exists():
        kind = "warn"
    elif (d / "frontier.csv").exists() and (d / "optimise.json").exists():
        kind = "optimise"
    else:
        kind = "results"  # read_run says what is missing
    if kind == "ecl":
        sheets = ecl_sheets({name: pd.read_csv(d / f"{name}.csv") for _, name in ECL_SHEETS
                             if (d / f"{name}.csv").exists()})
    elif kind == "optimise":
        sheets = optimise_sheets(pd.read_csv(d / "frontier.csv"),
                                 pd.read_csv(d / "stress.csv") if (d / "stress.csv").exists()
                                 else None)
    elif kind == "warn":
        sheets = warn_sheets(pd.read_csv(d / "warnings.csv", dtype={"customer_id": str}),
                             read_json(d / "model.json", title="cannot export"))
    else:
        try:
            run = read_run(d)
        except ConfigError as exc:
            raise ConfigError(exc.problems, title="cannot export") from None
        sheets = run_sheets(run)
    target = Path(out) if out is not None else d / f"{kind}.xlsx"
    write_atomic(target, lambda p: save_workbook(sheets, p))
    return target
