"""Scenario batches on common random numbers.

A **batch** runs several scenarios of one config with the same seed and number of paths.
Every path's random streams depend only on the seed and the path index, so every scenario
sees the same underlying draws (common random numbers): the differences between scenarios
are estimated path by path, with the small standard errors of paired differences. For that
the kernel is the same in every scenario: ``kernel = "auto"`` is resolved once, for the
baseline, and the skip sampler (whose draws depend on the default probabilities) is replaced
by the grouped kernel, which draws one uniform per customer and path whatever the PDs. So a
default-only run's defaults are monotone in the PDs path by path.

Nothing here writes files or prints; :mod:`portsim.workflow.runner` writes batch run folders
and the CLI prints.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from portsim.config import RunConfig, ScenarioConfig, apply_scenario, load_scenario
from portsim.data.book import Book
from portsim.errors import ConfigError, Problem
from portsim.results.comparison import scenario_comparison, scenario_paths
from portsim.workflow.api import load_book, prepare, run_with, summarize
from portsim.workflow.options import DEFAULT_OPTIONS, RunOptions

__all__ = [
    "BASELINE",
    "BatchPlan",
    "BatchResult",
    "batch_kernel",
    "combine",
    "expand_scenario_files",
    "load_scenarios",
    "pin_kernel",
    "plan_batch",
    "run_batch",
]

BASELINE = "baseline"


def expand_scenario_files(patterns: Sequence[str | Path]) -> list[Path]:
    """Scenario files from paths and glob patterns (``scenarios/*.toml``), in the order given
    (a pattern's matches sorted), each file once.

    Raises
    ------
    ConfigError
        For a pattern that matches nothing or a file that does not exist.
    """
    out: list[Path] = []
    problems = []
    for pat in patterns:
        text = str(pat)
        if Path(text).exists() or not any(c in text for c in "*?["):
            matches = [text] if Path(text).exists() else []
        else:
            matches = sorted(glob.glob(text))
        if not matches:
            problems.append(Problem(text, "--scenario", "matches no file" if
                                    any(c in text for c in "*?[") else "scenario file not found",
                                    "give a scenario file, e.g. scenarios/mild_recession.toml, "
                                    "or a quoted pattern like 'scenarios/*.toml'"))
        for m in matches:
            p = Path(m)
            if all(p.resolve() != q.resolve() for q in out):
                out.append(p)
    if problems:
        raise ConfigError(problems)
    return out


def load_scenarios(files: Sequence[str | Path], sectors: list[str] | None = None
                   ) -> list[ScenarioConfig]:
    """Every scenario file (:func:`portsim.config.load_scenario`), with the problems of all
    files reported at once; ``sectors``: the config's ``[book] sectors``, if any."""
    scens: list[ScenarioConfig] = []
    problems: list[Problem] = []
    for f in files:
        try:
            scens.append(load_scenario(f, sectors))
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return scens


@dataclass
class BatchPlan:
    """The scenarios of a batch, each as a complete run config, baseline first.

    Attributes
    ----------
    configs : dict of str to RunConfig
        By scenario name, baseline first; every config has the same resolved kernel.
    baseline : str
        Name of the scenario the others are compared with.
    kernel : str
        The kernel every scenario runs (see the module docstring).
    policies : tuple of str
        The base config's insurance variants (without ``none``): the comparison reports
        "with cover" figures for each, in every scenario.
    sources : dict of str to str or None
        The scenario file of each scenario (None for the config's own scenario).
    """

    configs: dict[str, RunConfig]
    baseline: str
    kernel: str
    policies: tuple[str, ...]
    sources: dict[str, str | None] = field(default_factory=dict)


def pin_kernel(config: RunConfig, kernel: str) -> RunConfig:
    """``config`` with ``simulation.kernel`` set to ``kernel``."""
    return config.model_copy(update={
        "simulation": config.simulation.model_copy(update={"kernel": kernel})})


def batch_kernel(config: RunConfig, book: Book) -> str:
    """The kernel every scenario of a batch (or a stress search) on ``config`` runs: the
    config's, with ``"auto"`` resolved for the config itself and ``"skip"`` replaced by
    ``"grouped"`` (see the module docstring); left as it is for ``model.family =
    "creditriskplus"``, whose kernel does not depend on it."""
    if config.simulation.tail_sampling != "plain":
        raise ConfigError([Problem(
            "config [simulation]", f"tail_sampling={config.simulation.tail_sampling!r}",
            "is not supported for scenario batches and stress tests yet (each scenario would "
            "get its own importance-sampling shift, so the paths would not be common)",
            'use tail_sampling = "plain"')])
    kernel: str = config.simulation.kernel
    if config.model.family != "copula":  # one kernel, the same draws whatever the PDs
        return kernel
    if kernel == "auto":
        kernel = prepare(config, book)[1].kernel
    return "grouped" if kernel == "skip" else kernel


def plan_batch(
    config: RunConfig,
    scenarios: list[ScenarioConfig],
    book: Book,
    *,
    check: bool = True,
) -> BatchPlan:
    """Check a batch and resolve each scenario's run config.

    Parameters
    ----------
    config : RunConfig
        The base config (its own ``[scenario]`` is the baseline unless a scenario is named
        ``baseline``).
    scenarios : list of ScenarioConfig
        From :func:`load_scenarios`; names must be unique.
    book : Book
        The validated book.
    check : bool
        Build every scenario's inputs once, so that problems against the book (unknown
        customers, dates outside the horizon, …) are reported before anything is simulated.

    Raises
    ------
    ConfigError
        Every problem of every scenario.
    """
    problems: list[Problem] = []
    names = [s.name for s in scenarios]
    for name in sorted({n for n in names if names.count(n) > 1}):
        files = [str(s.source) for s in scenarios if s.name == name]
        problems.append(Problem(", ".join(files), f"name={name!r}", "is used by "
                                f"{len(files)} scenarios", "give each scenario its own name"))
    if BASELINE in names:
        baseline = BASELINE
        ordered = [s for s in scenarios if s.name == BASELINE] + [
            s for s in scenarios if s.name != BASELINE]
    else:
        own = config.scenario
        baseline = own.name
        if own.name in names:
            problems.append(Problem(str(scenarios[names.index(own.name)].source),
                                    f"name={own.name!r}", "is the name of the config's own "
                                    "scenario, the batch's baseline",
                                    f"rename it, or add {BASELINE}.toml to the batch"))
        ordered = [own, *scenarios]
    configs: dict[str, RunConfig] = {}
    for scen in ordered:
        try:
            configs[scen.name] = apply_scenario(config, scen)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    kernel = batch_kernel(configs[baseline], book)
    configs = {k: pin_kernel(c, kernel) for k, c in configs.items()}
    if check:
        for cfg in configs.values():
            try:
                prepare(cfg, book)
            except ConfigError as exc:
                problems += exc.problems
        if problems:
            raise ConfigError(problems)
    policies = tuple(config.insurance.policies) if config.insurance is not None else ()
    return BatchPlan(configs=configs, baseline=baseline, kernel=kernel, policies=policies,
                     sources={s.name: s.source for s in ordered})


@dataclass
class BatchResult:
    """What :func:`run_batch` returns.

    Attributes
    ----------
    paths : xarray.Dataset
        Per-path headline variables with dims ``scenario, path`` (and ``policy``), see
        :func:`portsim.results.comparison.scenario_paths`.
    comparison : pandas.DataFrame
        :func:`portsim.results.comparison.scenario_comparison` against the baseline.
    metrics : dict of str to dict
        :func:`portsim.summarize` of each scenario's run.
    baseline : str
        The baseline scenario's name.
    """

    paths: xr.Dataset
    comparison: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    baseline: str


def combine(datasets: dict[str, xr.Dataset], policies: tuple[str, ...]) -> xr.Dataset:
    """The per-path comparison variables of each scenario's run, stacked along ``scenario``.

    When some runs carry ``lost_margin`` (the margin of sales their actions refused), a run
    without it gets zeros: a run that takes no actions refuses no sales, so its lost margin
    is 0 by construction.
    """
    parts = [scenario_paths(ds, policies) for ds in datasets.values()]
    margin = next((p["lost_margin"] for p in parts if "lost_margin" in p), None)
    if margin is not None:
        parts = [p if "lost_margin" in p else p.assign(lost_margin=xr.zeros_like(margin))
                 for p in parts]
    out = xr.concat(parts, dim="scenario", combine_attrs="drop_conflicts")
    out.coords["scenario"] = ("scenario", list(datasets),
                              {"units": "", "long_name": "scenario"})
    return out


def run_batch(
    config: RunConfig,
    scenarios: list[ScenarioConfig],
    *,
    book: Book | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: Callable[[str, int, int], None] | None = None,
) -> BatchResult:
    """Run every scenario on common random numbers and compare them with the baseline.

    Parameters
    ----------
    config : RunConfig
        The base config.
    scenarios : list of ScenarioConfig
        The scenarios (see :func:`plan_batch` for the baseline).
    book : Book, optional
        Default: read ``config.book.path``.
    options : RunOptions
        Paths, seed and where to run, the same for every scenario; the runs are made
        without contributions.
    progress : callable(scenario, done, total), optional
        Called after each chunk of each scenario.

    Returns
    -------
    BatchResult
    """
    book = load_book(config) if book is None else book
    plan = plan_batch(config, scenarios, book)
    opts = replace(options, contributions=False)
    datasets: dict[str, xr.Dataset] = {}
    metrics: dict[str, dict[str, Any]] = {}
    for name, cfg in plan.configs.items():
        tick = None if progress is None else (lambda d, t, n=name: progress(n, d, t))
        ds = run_with(cfg, opts, book=book, progress=tick)
        metrics[name] = summarize(ds, list(cfg.risk.levels))
        datasets[name] = scenario_paths(ds, plan.policies)
    combined = combine(datasets, plan.policies)
    table = scenario_comparison(combined, list(config.risk.levels), plan.baseline)
    return BatchResult(paths=combined, comparison=table, metrics=metrics,
                       baseline=plan.baseline)
