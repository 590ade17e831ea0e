"""Run folders: resolved config, ``results.nc``, ``summary.csv``, ``summary.json``, ``run.json``
and ``contributions.csv`` (Euler contributions by level, customer, sector and country).

A run folder is created when the run starts, marked by an ``.incomplete`` file and holding the
resolved config and the checkpoint of finished chunks (:mod:`portsim.workflow.checkpoint`).
Each result file is written under a temporary name and renamed; the marker goes last, so a
folder without ``.incomplete`` is whole, and one with it can be finished by
``portsim run --resume``.
"""

from __future__ import annotations

import hashlib
import json
import math
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
from portsim.config import RunConfig, config_hash
from portsim.data import Book
from portsim.engine.attribution import contributions_table
from portsim.errors import ConfigError, Problem
from portsim.results.metrics import summary_table
from portsim.workflow.api import load_book, run, summarize
from portsim.workflow.checkpoint import (
    MARKER,
    Checkpoint,
    RunIdentity,
    write_atomic,
    write_text_atomic,
)

__all__ = [
    "BatchRunResult",
    "RunResult",
    "default_batch_dir",
    "default_run_dir",
    "is_batch_folder",
    "resume_batch_folder",
    "resume_folder",
    "run_batch_folder",
    "run_folder",
]


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


def _input_files(config: RunConfig) -> dict[str, Path]:
    """The input files the config names that exist, by config key."""
    named = {"book.path": config.book.path, "book.invoices": config.book.invoices}
    return {key: config.resolve(p) for key, p in named.items()
            if p is not None and config.resolve(p).exists()}


def run_folder(
    config: RunConfig,
    out: str | Path | None = None,
    *,
    book: Book | None = None,
    paths: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    keep_chunks: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Simulate and write a run folder, checkpointing every chunk as it finishes.

    The folder is created at the start, marked ``.incomplete``, with ``config.json`` and the
    checkpoint (:mod:`portsim.workflow.checkpoint`); each result file is written under a temporary
    name and renamed, and the marker is removed last, so a folder without ``.incomplete`` is
    whole. An interrupted run (Ctrl-C, a crash) is finished by :func:`resume_folder`.

    Parameters
    ----------
    config : RunConfig
    out : path, optional
        The run folder to create (must not exist or be empty); default
        :func:`default_run_dir`.
    book, paths, seed, threads, workers, scheduler, progress
        As in :func:`portsim.run`.
    keep_chunks : bool
        Keep ``chunks/`` and ``checkpoint.json`` after a successful run (default: delete).
    """
    target = Path(out) if out is not None else default_run_dir(config)
    if target.exists() and any(target.iterdir()):
        raise ConfigError([Problem(str(target), "--out", "already exists and is not empty",
                                   "choose another folder or remove it")])
    t0 = time.perf_counter()
    book = load_book(config) if book is None else book
    sim = config.simulation
    identity = RunIdentity(
        config_hash=config_hash(config), book_sha256=book.sha256,
        seed=seed if seed is not None else sim.seed,
        n_paths=paths if paths is not None else sim.paths, chunk_paths=sim.chunk_paths,
        input_sha256={k: _sha256(p) for k, p in _input_files(config).items()},
    )
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    ckpt = Checkpoint.start(target, identity)
    resolved = config.resolved()
    write_text_atomic(target / "config.json", json.dumps(resolved, indent=2) + "\n")
    try:
        return _complete(ckpt, config, book, t0=t0, threads=threads, workers=workers,
                         scheduler=scheduler, keep_chunks=keep_chunks, progress=progress)
    except Exception:
        if not ckpt.done():  # nothing computed that a resume could use
            shutil.rmtree(target)
            if not created:
                target.mkdir()
        raise


def resume_folder(
    run_dir: str | Path,
    *,
    config: RunConfig | None = None,
    book: Book | None = None,
    paths: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    keep_chunks: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Finish an interrupted run folder: load its finished chunks, compute only the others.

    The result is identical to that of an uninterrupted run (on any backend). The run is
    refused, with every reason, when the config, book, another input file, the seed, the
    number of paths or the portsim version differ from those the run was started with.

    Parameters
    ----------
    run_dir : path
        A folder made by :func:`run_folder` that still holds ``.incomplete``.
    config : RunConfig, optional
        Default: the folder's ``config.json``; when given, it must hash the same.
    book : Book, optional
        Default: read ``config.book.path``; it must be the book the run started with.
    paths, seed : int, optional
        Default: the run's; when given, they must be the run's.
    threads, workers, scheduler, keep_chunks, progress
        As in :func:`run_folder`; they may differ from the first attempt's.
    """
    t0 = time.perf_counter()
    ckpt = Checkpoint.open(run_dir)
    if config is None:
        stored = ckpt.run_dir / "config.json"
        try:
            config = RunConfig.model_validate_json(stored.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError([Problem(str(stored), "", f"cannot be read ({exc})",
                                       f"give the run's config too: portsim run --resume "
                                       f"{ckpt.run_dir} CONFIG")],
                              title="cannot resume") from None
    book = load_book(config) if book is None else book
    wanted = RunIdentity(
        config_hash=config_hash(config), book_sha256=book.sha256,
        seed=seed if seed is not None else ckpt.identity.seed,
        n_paths=paths if paths is not None else ckpt.identity.n_paths,
        chunk_paths=config.simulation.chunk_paths,
        input_sha256={k: _sha256(p) for k, p in _input_files(config).items()},
    )
    problems = ckpt.mismatches(wanted)
    if problems:
        raise ConfigError(problems, title=f"cannot resume {ckpt.run_dir}")
    return _complete(ckpt, config, book, t0=t0, threads=threads, workers=workers,
                     scheduler=scheduler, keep_chunks=keep_chunks, progress=progress)


def _complete(
    ckpt: Checkpoint,
    config: RunConfig,
    book: Book,
    *,
    t0: float,
    threads: int | None,
    workers: int | None,
    scheduler: str | None,
    keep_chunks: bool,
    progress: Callable[[int, int], None] | None,
) -> RunResult:
    """Simulate the chunks the checkpoint lacks and write the result files into its folder."""
    target = ckpt.run_dir
    reused = len(ckpt.done())
    ds = run(config, book, paths=ckpt.identity.n_paths, seed=ckpt.identity.seed,
             threads=threads, workers=workers, scheduler=scheduler, progress=progress,
             store=ckpt)
    t_sim = time.perf_counter() - t0
    metrics = summarize(ds, list(config.risk.levels))

    write_atomic(target / "results.nc", lambda p: ds.to_netcdf(p, engine="h5netcdf"))
    write_atomic(target / "summary.csv",
                  lambda p: summary_table(metrics).to_csv(p, index=False))
    if "es_contribution" in ds:
        write_atomic(target / "contributions.csv",
                     lambda p: contributions_table(ds).to_csv(p, index=False))
    write_text_atomic(
        target / "summary.json",
        json.dumps(_clean({"metrics": metrics, "provenance": _provenance(ds)}), indent=2) + "\n",
    )
    if workers is not None:
        execution: dict[str, Any] = {"backend": "dask-local", "workers": workers}
    elif scheduler is not None:
        execution = {"backend": "dask", "scheduler": scheduler}
    else:
        execution = {"backend": "in-process",
                     "threads": threads if threads is not None else config.simulation.threads}
    run_info = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": int(ds.attrs["seed"]),
        "n_paths": int(ds.attrs["n_paths"]),
        "config_hash": config_hash(config),
        "input_sha256": {str(p): _sha256(p) for p in _input_files(config).values()},
        "book_sha256": ds.attrs.get("book_sha256"),
        "versions": _versions(),
        "execution": execution,
        "chunks_reused": reused,
        "timings_seconds": {
            "simulate": float(ds.attrs.get("simulate_seconds", float("nan"))),
            "run_total": time.perf_counter() - t0,
            "load_and_simulate": t_sim,
        },
        "kernel": ds.attrs.get("kernel"),
    }
    write_text_atomic(target / "run.json", json.dumps(_clean(run_info), indent=2) + "\n")
    ckpt.finish(keep_chunks=keep_chunks)
    return RunResult(path=target, dataset=ds, metrics=metrics)


def _provenance(ds: xr.Dataset) -> dict[str, Any]:
    keep = ("portsim_version", "seed", "n_paths", "config_name", "config_hash", "scenario",
            "book_source", "book_sha256", "kernel", "copula", "horizon_years", "n_customers",
            "tail_sampling", "tail_level")
    return {k: (v.item() if hasattr(v, "item") else v)
            for k, v in ds.attrs.items() if k in keep}


# ------------------------------------------------------------------------ scenario batches

#: Files of a batch run folder (see :func:`run_batch_folder`).
BATCH_FILE = "batch.json"
COMPARISON_FILE = "comparison.csv"
SCENARIOS_DIR = "scenarios"


@dataclass
class BatchRunResult:
    """What :func:`run_batch_folder` made."""

    path: Path
    comparison: Any  # pandas.DataFrame
    metrics: dict[str, dict[str, Any]]
    baseline: str
    scenario_dirs: dict[str, Path]


def default_batch_dir(config: RunConfig) -> Path:
    """``<output.dir>/<name>-batch-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(config.output.dir) / f"{config.name}-batch-{stamp}"


def run_batch_folder(
    config: RunConfig,
    scenarios: list[Any],
    out: str | Path | None = None,
    *,
    book: Book | None = None,
    paths: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    keep_chunks: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> BatchRunResult:
    """Run a scenario batch on common random numbers and write a batch run folder.

    The folder holds::

        batch.json           the scenarios (name, file, resolved run config), baseline,
                             kernel, seed and paths: what a resume needs
        scenarios/NAME/      a complete run folder per scenario (see :func:`run_folder`),
                             each checkpointed, so an interrupted batch resumes
        comparison.csv       :func:`portsim.results.metrics.scenario_comparison` (one row per
                             scenario, metric, level and policy; differences to the baseline
                             with paired standard errors)
        results.nc           the baseline's Dataset, whose per-path headline variables
                             (:data:`portsim.results.metrics.SCENARIO_PATH_VARS` and the policy
                             ones) have a ``scenario`` dimension: every scenario's values
        summary.json, summary.csv, config.json, run.json
                             the baseline's summary and config, the batch's provenance

    so ``portsim report BATCH`` reports the baseline with a scenario section, and
    ``portsim report BATCH/scenarios/NAME`` one scenario. ``.incomplete`` marks the folder
    until the end; :func:`resume_batch_folder` finishes it.

    Parameters
    ----------
    config : RunConfig
        The base config.
    scenarios : list of ScenarioConfig
        The scenarios (:func:`portsim.workflow.batch.load_scenarios`); the baseline is the one
        named ``baseline``, else the config's own scenario (see
        :func:`portsim.workflow.batch.plan_batch`).
    out : path, optional
        The folder (must not exist or be empty); default :func:`default_batch_dir`.
    book, paths, seed, threads, workers, scheduler, keep_chunks
        As in :func:`run_folder`, the same for every scenario.
    progress : callable(scenario, done, total), optional
        Called after each chunk of each scenario.
    """
    from portsim.workflow.batch import plan_batch

    target = Path(out) if out is not None else default_batch_dir(config)
    if target.exists() and any(target.iterdir()):
        raise ConfigError([Problem(str(target), "--out", "already exists and is not empty",
                                   "choose another folder or remove it")])
    book = load_book(config) if book is None else book
    plan = plan_batch(config, scenarios, book)  # every problem before anything is written
    sim = config.simulation
    info = {
        "format": 1,
        "baseline": plan.baseline,
        "kernel": plan.kernel,
        "seed": seed if seed is not None else sim.seed,
        "n_paths": paths if paths is not None else sim.paths,
        "policies": list(plan.policies),
        "scenarios": [{"name": name, "source": plan.sources.get(name),
                       "config": cfg.resolved()}
                      for name, cfg in plan.configs.items()],
    }
    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target / MARKER, f"scenario batch in progress; finish it with: portsim "
                      f"run --resume {target}\n")
    write_text_atomic(target / BATCH_FILE, json.dumps(_clean(info), indent=2) + "\n")
    return _complete_batch(target, info, book, threads=threads, workers=workers,
                           scheduler=scheduler, keep_chunks=keep_chunks, progress=progress)


def resume_batch_folder(
    run_dir: str | Path,
    *,
    book: Book | None = None,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    keep_chunks: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> BatchRunResult:
    """Finish an interrupted batch: complete scenarios are read back, interrupted ones
    resumed from their checkpoints (:func:`resume_folder`), missing ones run."""
    target = Path(run_dir)
    try:
        info = json.loads((target / BATCH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([Problem(str(target / BATCH_FILE), "", f"cannot be read ({exc})",
                                   "give a batch folder made by portsim run with several "
                                   "--scenario")], title="cannot resume") from None
    if book is None:
        first = RunConfig.model_validate(info["scenarios"][0]["config"])
        book = load_book(first)
    return _complete_batch(target, info, book, threads=threads, workers=workers,
                           scheduler=scheduler, keep_chunks=keep_chunks, progress=progress)


def is_batch_folder(run_dir: str | Path) -> bool:
    """The folder is a scenario batch (holds ``batch.json``)."""
    return (Path(run_dir) / BATCH_FILE).exists()


def _complete_batch(
    target: Path,
    info: dict[str, Any],
    book: Book,
    *,
    threads: int | None,
    workers: int | None,
    scheduler: str | None,
    keep_chunks: bool,
    progress: Callable[[str, int, int], None] | None,
) -> BatchRunResult:
    from portsim.results.metrics import scenario_comparison, scenario_paths
    from portsim.workflow.batch import combine

    t0 = time.perf_counter()
    baseline = str(info["baseline"])
    configs = {s["name"]: RunConfig.model_validate(s["config"]) for s in info["scenarios"]}
    policies = tuple(info.get("policies") or ())
    base_ds: xr.Dataset | None = None
    parts: dict[str, xr.Dataset] = {}
    metrics: dict[str, dict[str, Any]] = {}
    dirs: dict[str, Path] = {}
    for name, cfg in configs.items():
        sub = target / SCENARIOS_DIR / name
        dirs[name] = sub
        tick = None if progress is None else (lambda d, t, n=name: progress(n, d, t))
        kw: dict[str, Any] = {"book": book, "threads": threads, "workers": workers,
                              "scheduler": scheduler, "keep_chunks": keep_chunks,
                              "progress": tick}
        if (sub / MARKER).exists():
            res = resume_folder(sub, config=cfg, **kw)
            ds, m = res.dataset, res.metrics
        elif (sub / "results.nc").exists():
            with xr.open_dataset(sub / "results.nc", engine="h5netcdf") as f:
                ds = f.load()
            m = json.loads((sub / "summary.json").read_text(encoding="utf-8"))["metrics"]
        else:
            res = run_folder(cfg, sub, paths=int(info["n_paths"]), seed=int(info["seed"]),
                             **kw)
            ds, m = res.dataset, res.metrics
        metrics[name] = m
        all_policies = (("none", *policies) if policies else ())
        parts[name] = scenario_paths(ds, all_policies)
        if name == baseline:
            base_ds = ds
        del ds
    assert base_ds is not None
    combined = combine(parts, tuple(("none", *policies)) if policies else ())
    levels = list(configs[baseline].risk.levels)
    table = scenario_comparison(combined, levels, baseline)
    table = table[table["policy"] != "none"].reset_index(drop=True)  # "none" = gross rows
    results = _batch_dataset(base_ds, combined)
    write_atomic(target / "results.nc", lambda p: results.to_netcdf(p, engine="h5netcdf"))
    write_atomic(target / COMPARISON_FILE, lambda p: table.to_csv(p, index=False))
    base_dir = dirs[baseline]
    for name in ("config.json", "summary.csv"):
        text = (base_dir / name).read_text(encoding="utf-8")
        write_text_atomic(target / name, text)
    write_text_atomic(target / "summary.json", json.dumps(_clean({
        "metrics": metrics[baseline], "provenance": _provenance(base_ds),
        "batch": {"baseline": baseline, "scenarios": list(configs),
                  "comparison": COMPARISON_FILE},
    }), indent=2) + "\n")
    run_info = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "batch": True,
        "baseline": baseline,
        "scenarios": {n: str(d.relative_to(target)) for n, d in dirs.items()},
        "kernel": info["kernel"],
        "seed": int(info["seed"]),
        "n_paths": int(info["n_paths"]),
        "book_sha256": book.sha256,
        "versions": _versions(),
        "common_random_numbers": "every scenario runs the same seed, paths and kernel",
        "timings_seconds": {"run_total": time.perf_counter() - t0},
    }
    write_text_atomic(target / "run.json", json.dumps(_clean(run_info), indent=2) + "\n")
    (target / MARKER).unlink(missing_ok=True)
    return BatchRunResult(path=target, comparison=table, metrics=metrics, baseline=baseline,
                          scenario_dirs=dirs)


def _batch_dataset(base: xr.Dataset, combined: xr.Dataset) -> xr.Dataset:
    """The baseline's Dataset with the per-path comparison variables of every scenario (dim
    ``scenario``) in place of its own."""
    ds = base.drop_vars([v for v in combined.data_vars if v in base])
    same_policies = ("policy" not in combined.dims or (
        "policy" in base.dims and list(base["policy"].values) == list(combined["policy"].values)))
    extra = combined if same_policies else combined.drop_dims("policy")
    out = xr.merge([ds, extra], compat="override", combine_attrs="override")
    out.attrs = dict(base.attrs)
    out.attrs["scenarios"] = ", ".join(str(s) for s in combined["scenario"].values)
    return out
