"""Simulate into run folders: one run, or a scenario batch, checkpointed and resumable.

A run folder is claimed when the run starts (:mod:`portsim.workflow.claim`: created under its
final name, and locked, so no other process writes it), marked by an ``.incomplete`` file and
given the config that runs (the config's file with the ``paths`` and ``seed`` options
applied) and the checkpoint of finished chunks (:mod:`portsim.workflow.checkpoint`).
The result files follow, and the marker goes last, so a folder without ``.incomplete`` is one
run's whole output, and one with it can be finished by ``portsim run --resume``. A run that
fails before a chunk is kept removes its folder. The files themselves are written and read by
:mod:`portsim.workflow.folders`.
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from portsim import __version__
from portsim.config import RunConfig, ScenarioConfig, config_hash
from portsim.creditriskplus.analytic import summary as creditriskplus_summary
from portsim.data.book import Book
from portsim.engine.attribution import contributions_table
from portsim.errors import ConfigError, Problem
from portsim.inputs.model import ModelInputs
from portsim.results.comparison import (
    creditriskplus_by_scenario,
    scenario_comparison,
    scenario_paths,
    warning_value_summary,
)
from portsim.results.metrics import summary_table
from portsim.workflow import folders
from portsim.workflow.api import check_memory, creditriskplus, load_book, run_with, summarize
from portsim.workflow.backtest import write_early_warning
from portsim.workflow.batch import combine, plan_batch
from portsim.workflow.checkpoint import Checkpoint, RunIdentity
from portsim.workflow.claim import (
    FolderClaim,
    claim_auto,
    claim_existing,
    claim_new,
    refuse_taken,
)
from portsim.workflow.options import DEFAULT_OPTIONS, RunOptions

__all__ = [
    "BatchRunResult",
    "Interrupted",
    "RunResult",
    "default_batch_dir",
    "default_run_dir",
    "ran_config",
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


@dataclass
class BatchRunResult:
    """What :func:`run_batch_folder` made."""

    path: Path
    comparison: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    baseline: str
    scenario_dirs: dict[str, Path]


def _versions() -> dict[str, str]:
    import numba
    import numpy
    import scipy

    return {
        "portsim": __version__, "python": sys.version.split()[0], "numpy": numpy.__version__,
        "numba": numba.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
        "xarray": xr.__version__, "platform": platform.platform(),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stamped_dir(config: RunConfig, kind: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(config.output.dir) / f"{config.name}-{kind}-{stamp}"


def default_run_dir(config: RunConfig) -> Path:
    """``<output.dir>/<name>-<scenario>-<UTC time>`` (``-2``, ``-3`` … are added when that
    folder is taken, see :func:`portsim.workflow.claim.claim_auto`)."""
    return _stamped_dir(config, config.scenario.name)


def default_batch_dir(config: RunConfig) -> Path:
    """``<output.dir>/<name>-batch-<UTC time>`` (numbered as :func:`default_run_dir`)."""
    return _stamped_dir(config, "batch")


def _claim(out: str | Path | None, default: Path) -> FolderClaim:
    """The claim on ``out``, or on ``default`` (or a numbered name next to it) when None."""
    return claim_new(Path(out)) if out is not None else claim_auto(default)


class Interrupted(KeyboardInterrupt):
    """A run folder's run or resume was interrupted (Ctrl-C); ``folder`` is unfinished and
    ``portsim run --resume`` finishes it."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = folder


@contextmanager
def _holding(claim: FolderClaim, keep: Callable[[], bool] = lambda: True) -> Iterator[Path]:
    """Hold ``claim`` while the body writes its folder, and let it go at the end.

    When the body fails, the folder is kept for a resume if ``keep()``, else discarded
    (:meth:`~portsim.workflow.claim.FolderClaim.discard`); an interrupt is kept and raised
    again as :class:`Interrupted`.
    """
    try:
        yield claim.folder
    except KeyboardInterrupt as exc:
        claim.release()
        raise Interrupted(claim.folder) from exc
    except BaseException:
        if keep():
            claim.release()
        else:
            claim.discard()
        raise
    claim.release()


def _claim_unfinished(folder: Path, check: Callable[[Path], object]) -> FolderClaim:
    """The claim on an unfinished folder to resume: ``check(folder)`` (which raises when there
    is nothing to resume) passes before and again once the claim is held, since another
    process may have finished the folder meanwhile."""
    check(folder)
    claim = claim_existing(folder)
    try:
        check(folder)
    except BaseException:
        claim.release()
        raise
    return claim


def _with_simulation(config: RunConfig, **values: int) -> RunConfig:
    return config.model_copy(update={
        "simulation": config.simulation.model_copy(update=values)})


def ran_config(config: RunConfig, options: RunOptions) -> RunConfig:
    """The config that a run of ``config`` with ``options`` runs: ``simulation.paths`` and
    ``seed`` set to the run's (written to the run folder's ``config.json`` and hashed in its
    results). Where it runs (threads, Dask) changes no result and is kept in ``run.json``."""
    return _with_simulation(config, paths=options.n_paths(config),
                            seed=options.run_seed(config))


def _model_hash(config: RunConfig) -> str:
    """:func:`portsim.config.config_hash` with ``simulation.paths`` and ``seed`` at fixed
    values: what a resume must match besides the seed and the number of paths."""
    return config_hash(_with_simulation(config, paths=1, seed=0))


def _input_files(config: RunConfig) -> dict[str, Path]:
    """The input files the config names that exist, by config key."""
    named = {"book.path": config.book.path, "book.invoices": config.book.invoices,
             "suppliers.path": None if config.suppliers is None else config.suppliers.path}
    if config.warn is not None:
        named.update({f"warn.{key}": path for key, path in config.warn.files.items()})
    return {key: config.resolve(p) for key, p in named.items()
            if p is not None and config.resolve(p).exists()}


def _identity(config: RunConfig, book: Book, options: RunOptions) -> RunIdentity:
    """What the chunks of a run of ``config`` on ``book`` with ``options`` depend on."""
    return RunIdentity(
        config_hash=_model_hash(config), book_sha256=book.sha256,
        seed=options.run_seed(config), n_paths=options.n_paths(config),
        chunk_paths=config.simulation.chunk_paths,
        input_sha256={k: _sha256(p) for k, p in _input_files(config).items()},
    )


# ------------------------------------------------------------------------------ one run


def run_folder(
    config: RunConfig,
    out: str | Path | None = None,
    *,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Simulate and write a run folder, checkpointing every chunk as it finishes.

    The folder is claimed at the start (:mod:`portsim.workflow.claim`), marked
    ``.incomplete``, with ``config.json`` (:func:`ran_config`) and the checkpoint
    (:mod:`portsim.workflow.checkpoint`); each result file is written under a temporary name
    and renamed, and the marker is removed last, so a folder without ``.incomplete`` is whole.
    An interrupted run (Ctrl-C, a crash) is finished by :func:`resume_folder`; one that fails
    before a chunk is kept leaves no folder (an empty folder given as ``out`` stays empty).

    Parameters
    ----------
    config : RunConfig
    out : path, optional
        The run folder to create (must not exist or be empty); default
        :func:`default_run_dir`.
    book : Book, optional
        Default: read ``config.book.path``.
    options : RunOptions
        Paths, seed, where to run, ``keep_chunks`` (see
        :class:`~portsim.workflow.options.RunOptions`).
    progress : callable(done, total), optional
        Called after each chunk.

    Raises
    ------
    portsim.workflow.claim.FolderExistsError, portsim.workflow.claim.FolderBusyError
        When ``out`` holds files, or another process is writing it.
    Interrupted
        On Ctrl-C, once the folder is claimed.
    """
    if out is not None:
        refuse_taken(Path(out))  # before the book is read
    t0 = time.perf_counter()
    book = load_book(config) if book is None else book
    inputs = check_memory(config, options, book)  # every problem before anything is written
    config = ran_config(config, options)  # paths and seed: the inputs do not depend on them
    identity = _identity(config, book, options)
    claim = _claim(out, default_run_dir(config))
    ckpt = Checkpoint(claim.folder, identity)
    with _holding(claim, keep=lambda: bool(ckpt.done())):
        ckpt.begin()
        folders.write_config(ckpt.run_dir, config)
        return _complete(ckpt, config, book, options, t0=t0, progress=progress,
                         inputs=inputs)


def resume_folder(
    run_dir: str | Path,
    *,
    config: RunConfig | None = None,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
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
    options : RunOptions
        ``paths`` and ``seed`` default to the run's, and when given must be the run's; where
        to run and ``keep_chunks`` may differ from the first attempt's.
    progress : callable(done, total), optional
        Called after each chunk.

    Raises
    ------
    portsim.workflow.claim.FolderBusyError
        When another process is writing the folder.
    Interrupted
        On Ctrl-C.
    """
    t0 = time.perf_counter()
    with _holding(_claim_unfinished(Path(run_dir), Checkpoint.open)) as folder:
        ckpt = Checkpoint.open(folder)
        if config is None:
            config = folders.read_config(folder, fix=f"give the run's config too: portsim "
                                         f"run --resume {folder}")
        book = load_book(config) if book is None else book
        options = replace(
            options,
            paths=options.paths if options.paths is not None else ckpt.identity.n_paths,
            seed=options.seed if options.seed is not None else ckpt.identity.seed)
        config = ran_config(config, options)
        problems = ckpt.mismatches(_identity(config, book, options))
        if problems:
            raise ConfigError(problems, title=f"cannot resume {folder}")
        return _complete(ckpt, config, book, options, t0=t0, progress=progress)


def _provenance(ds: xr.Dataset) -> dict[str, Any]:
    keep = ("portsim_version", "seed", "n_paths", "config_name", "config_hash", "scenario",
            "book_source", "book_sha256", "kernel", "copula", "model_family",
            "horizon_years", "n_customers", "tail_sampling", "tail_level")
    return {k: (v.item() if hasattr(v, "item") else v)
            for k, v in ds.attrs.items() if k in keep}


def _complete(
    ckpt: Checkpoint,
    config: RunConfig,
    book: Book,
    options: RunOptions,
    *,
    t0: float,
    progress: Callable[[int, int], None] | None,
    inputs: ModelInputs | None = None,
) -> RunResult:
    """Simulate the chunks the checkpoint lacks and write the result files into its folder
    (``inputs``: already built from ``config`` and ``book``, see :func:`run_with`), with the
    early warning of a config with ``[warn]``
    (:func:`~portsim.workflow.backtest.write_early_warning`)."""
    target = ckpt.run_dir
    reused = len(ckpt.done())
    opts = replace(options, paths=ckpt.identity.n_paths, seed=ckpt.identity.seed)
    ds = run_with(config, opts, book=book, progress=progress, store=ckpt, inputs=inputs)
    t_sim = time.perf_counter() - t0
    metrics = summarize(ds, list(config.risk.levels))
    if config.creditriskplus is not None and config.creditriskplus.compare:
        metrics["creditriskplus"] = creditriskplus_summary(
            creditriskplus(config, book), tuple(str(s) for s in ds["sector"].values))
    tables = {folders.SUMMARY_CSV: summary_table(metrics)}
    if "es_contribution" in ds:
        tables[folders.CONTRIBUTIONS_FILE] = contributions_table(ds)
    folders.write_results(target, ds, tables,
                          {"metrics": metrics, "provenance": _provenance(ds)})
    if config.warn is not None:
        write_early_warning(config, target)
    folders.write_run_info(target, {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": int(ds.attrs["seed"]),
        "n_paths": int(ds.attrs["n_paths"]),
        "config_hash": config_hash(config),
        "input_sha256": {str(p): _sha256(p) for p in _input_files(config).values()},
        "book_sha256": ds.attrs.get("book_sha256"),
        "versions": _versions(),
        "execution": opts.resolved(config).execution(),
        "chunks_reused": reused,
        "timings_seconds": {
            "simulate": float(ds.attrs.get("simulate_seconds", float("nan"))),
            "run_total": time.perf_counter() - t0,
            "load_and_simulate": t_sim,
        },
        "kernel": ds.attrs.get("kernel"),
    })
    ckpt.finish(keep_chunks=options.keep_chunks)
    return RunResult(path=target, dataset=ds, metrics=metrics)


# ------------------------------------------------------------------------ scenario batches


def run_batch_folder(
    config: RunConfig,
    scenarios: list[ScenarioConfig],
    out: str | Path | None = None,
    *,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: Callable[[str, int, int], None] | None = None,
) -> BatchRunResult:
    """Run a scenario batch on common random numbers and write a batch run folder.

    The folder holds::

        batch.json           the scenarios (name, file, resolved run config), baseline,
                             kernel, seed and paths: what a resume needs
        scenarios/NAME/      a complete run folder per scenario (see :func:`run_folder`),
                             each checkpointed, so an interrupted batch resumes
        comparison.csv       :func:`portsim.results.comparison.scenario_comparison` (one row per
                             scenario, metric, level and policy; differences to the baseline
                             with paired standard errors)
        results.nc           the baseline's Dataset, whose per-path headline variables
                             (:data:`portsim.results.comparison.SCENARIO_PATH_VARS` and the policy
                             ones) have a ``scenario`` dimension: every scenario's values
        summary.json         the baseline's metrics and ``batch``: the baseline, the
                             scenarios and, when runs carry ``lost_margin``, the
                             ``value_of_early_warning`` rows
                             (:func:`portsim.results.comparison.warning_value_frame`);
                             with ``[creditriskplus] compare = true``,
                             ``batch.creditriskplus`` holds every scenario's figures beside
                             CreditRisk+'s (:func:`portsim.results.comparison.
                             creditriskplus_by_scenario`)
        summary.csv, config.json, run.json
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
    book : Book, optional
        Default: read ``config.book.path``.
    options : RunOptions
        As in :func:`run_folder`, the same for every scenario.
    progress : callable(scenario, done, total), optional
        Called after each chunk of each scenario.

    Raises
    ------
    FolderExistsError, FolderBusyError, Interrupted
        As :func:`run_folder`.
    """
    if out is not None:
        refuse_taken(Path(out))  # before the book is read
    book = load_book(config) if book is None else book
    plan = plan_batch(config, scenarios, book)  # every problem before anything is written
    check_memory(plan.configs[plan.baseline], options, book)
    info = {
        "format": 1,
        "baseline": plan.baseline,
        "kernel": plan.kernel,
        "seed": options.run_seed(config),
        "n_paths": options.n_paths(config),
        "policies": list(plan.policies),
        "scenarios": [{"name": name, "source": plan.sources.get(name),
                       "config": ran_config(cfg, options).resolved()}
                      for name, cfg in plan.configs.items()],
    }
    claim = _claim(out, default_batch_dir(config))
    scenarios_dir = folders.scenario_dir(claim.folder, "")
    with _holding(claim, keep=lambda: any(scenarios_dir.glob("*"))) as target:
        folders.mark_incomplete(target, f"scenario batch in progress; finish it with: "
                                f"portsim run --resume {target}\n")
        folders.write_batch_info(target, info)
        return _complete_batch(target, info, book, options, progress=progress)


def _unfinished_batch(folder: Path) -> None:
    """Refuse to resume what is not an unfinished batch folder."""
    if not folders.is_incomplete(folder):
        raise ConfigError([Problem(str(folder), "--resume", "is a finished batch folder; "
                                   "nothing to resume")], title="cannot resume")
    folders.read_batch_info(folder)


def resume_batch_folder(
    run_dir: str | Path,
    *,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: Callable[[str, int, int], None] | None = None,
) -> BatchRunResult:
    """Finish an interrupted batch: complete scenarios are read back, interrupted ones
    resumed from their checkpoints (:func:`resume_folder`), missing ones run. The paths and
    seed are the batch's, whatever ``options`` says.

    Raises
    ------
    ConfigError
        When the folder is a finished batch or has no readable ``batch.json``.
    portsim.workflow.claim.FolderBusyError
        When another process is writing it.
    """
    with _holding(_claim_unfinished(Path(run_dir), _unfinished_batch)) as target:
        info = folders.read_batch_info(target)
        if book is None:
            first = RunConfig.model_validate(info["scenarios"][0]["config"])
            book = load_book(first)
        return _complete_batch(target, info, book, options, progress=progress)


def _complete_batch(
    target: Path,
    info: dict[str, Any],
    book: Book,
    options: RunOptions,
    *,
    progress: Callable[[str, int, int], None] | None,
) -> BatchRunResult:
    t0 = time.perf_counter()
    baseline = str(info["baseline"])
    configs = {s["name"]: RunConfig.model_validate(s["config"]) for s in info["scenarios"]}
    policies = tuple(info.get("policies") or ())
    all_policies = ("none", *policies) if policies else ()
    opts = replace(options, paths=int(info["n_paths"]), seed=int(info["seed"]))
    base_ds: xr.Dataset | None = None
    parts: dict[str, xr.Dataset] = {}
    metrics: dict[str, dict[str, Any]] = {}
    dirs: dict[str, Path] = {}
    for name, cfg in configs.items():
        sub = folders.scenario_dir(target, name)
        dirs[name] = sub
        tick = None if progress is None else (lambda d, t, n=name: progress(n, d, t))
        if folders.is_incomplete(sub):
            res = resume_folder(sub, config=cfg, book=book, options=opts, progress=tick)
            ds, m = res.dataset, res.metrics
        elif folders.has_results(sub):
            ds, m = folders.read_results(sub)
        else:
            res = run_folder(cfg, sub, book=book, options=opts, progress=tick)
            ds, m = res.dataset, res.metrics
        metrics[name] = m
        parts[name] = scenario_paths(ds, all_policies)
        if name == baseline:
            base_ds = ds
        del ds
    assert base_ds is not None
    combined = combine(parts, all_policies)
    levels = list(configs[baseline].risk.levels)
    table = scenario_comparison(combined, levels, baseline)
    table = table[table["policy"] != "none"].reset_index(drop=True)  # "none" = gross rows
    batch: dict[str, Any] = {"baseline": baseline, "scenarios": list(configs),
                             "comparison": folders.COMPARISON_FILE}
    crp = creditriskplus_by_scenario(metrics)
    if crp:
        batch["creditriskplus"] = crp
    value = warning_value_summary(table, baseline, levels)
    if value is not None:
        batch["value_of_early_warning"] = value
    folders.write_results(target, _batch_dataset(base_ds, combined),
                          {folders.COMPARISON_FILE: table}, {
        "metrics": metrics[baseline], "provenance": _provenance(base_ds), "batch": batch,
    })
    folders.copy_files(dirs[baseline], target, (folders.CONFIG_FILE, folders.SUMMARY_CSV))
    folders.write_run_info(target, {
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
    })
    folders.unmark_incomplete(target)
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
