"""Run folders: resolved config, ``results.nc``, ``summary.csv``, ``summary.json``, ``run.json``.

A run folder is written under a temporary name next to its final place and renamed when every
file is complete, so a folder that exists is always whole.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xarray as xr

from portsim import __version__
from portsim.api import run, summarize
from portsim.book import Book
from portsim.config import RunConfig, config_hash
from portsim.errors import ConfigError, Problem
from portsim.results import summary_table

__all__ = ["RunResult", "default_run_dir", "run_folder"]


@dataclass
class RunResult:
    """What :func:`run_folder` made."""

    path: Path
    dataset: xr.Dataset
    metrics: dict[str, Any]


def _versions() -> dict[str, str]:
    import numba
    import numpy
    import pandas
    import scipy

    return {
        "portsim": __version__, "python": sys.version.split()[0], "numpy": numpy.__version__,
        "numba": numba.__version__, "scipy": scipy.__version__, "pandas": pandas.__version__,
        "xarray": xr.__version__, "platform": platform.platform(),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def default_run_dir(config: RunConfig) -> Path:
    """``<output.dir>/<name>-<scenario>-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(config.output.dir) / f"{config.name}-{config.scenario.name}-{stamp}"


def run_folder(
    config: RunConfig,
    out: str | Path | None = None,
    *,
    book: Book | None = None,
    paths: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Simulate and write a run folder.

    Parameters
    ----------
    config : RunConfig
    out : path, optional
        The run folder to create (must not exist); default :func:`default_run_dir`.
    book, paths, seed, threads, progress
        As in :func:`portsim.run`.
    """
    target = Path(out) if out is not None else default_run_dir(config)
    if target.exists() and any(target.iterdir()):
        raise ConfigError([Problem(str(target), "--out", "already exists and is not empty",
                                   "choose another folder or remove it")])
    t0 = time.perf_counter()
    ds = run(config, book, paths=paths, seed=seed, threads=threads, progress=progress)
    t_sim = time.perf_counter() - t0
    metrics = summarize(ds, list(config.risk.levels))

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        resolved = config.model_dump(mode="json", by_alias=True)
        (tmp / "config.json").write_text(json.dumps(resolved, indent=2) + "\n")
        ds.to_netcdf(tmp / "results.nc", engine="h5netcdf")
        summary_table(metrics).to_csv(tmp / "summary.csv", index=False)
        (tmp / "summary.json").write_text(
            json.dumps(_clean({"metrics": metrics, "provenance": _provenance(ds)}), indent=2)
            + "\n"
        )
        inputs_hashes = {}
        if config.book.path is not None:
            book_path = config.resolve(config.book.path)
            if book_path.exists():
                inputs_hashes[str(book_path)] = _sha256(book_path)
        run_info = {
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": int(ds.attrs["seed"]),
            "n_paths": int(ds.attrs["n_paths"]),
            "config_hash": config_hash(config),
            "input_sha256": inputs_hashes,
            "book_sha256": ds.attrs.get("book_sha256"),
            "versions": _versions(),
            "timings_seconds": {
                "simulate": float(ds.attrs.get("simulate_seconds", float("nan"))),
                "run_total": time.perf_counter() - t0,
                "load_and_simulate": t_sim,
            },
            "kernel": ds.attrs.get("kernel"),
        }
        (tmp / "run.json").write_text(json.dumps(_clean(run_info), indent=2) + "\n")
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunResult(path=target, dataset=ds, metrics=metrics)


def _provenance(ds: xr.Dataset) -> dict[str, Any]:
    keep = ("portsim_version", "seed", "n_paths", "config_name", "config_hash", "scenario",
            "book_source", "book_sha256", "kernel", "copula", "horizon_years", "n_customers")
    return {k: (v.item() if hasattr(v, "item") else v)
            for k, v in ds.attrs.items() if k in keep}
