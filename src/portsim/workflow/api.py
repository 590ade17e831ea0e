"""The Python API: load a config and its book, simulate, summarise.

>>> import portsim
>>> cfg = portsim.load_config("configs/example.toml")
>>> ds = portsim.run(cfg, paths=20_000)
>>> portsim.summarize(ds)["es"]["0.99"]            # doctest: +SKIP
{'value': ..., 'se': ...}

Nothing here prints or writes files; :mod:`portsim.workflow.runner` and the CLI do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from portsim import __version__
from portsim.config import CreditRiskPlusConfig, RunConfig, config_hash
from portsim.creditriskplus.analytic import CreditRiskPlusResult, analyse
from portsim.creditriskplus.model import build_model
from portsim.data import Book
from portsim.data.configured import load_book, load_open_invoices, load_suppliers
from portsim.engine import attribution
from portsim.engine.gather import SimOutput
from portsim.engine.local import ChunkStore, simulate
from portsim.errors import BookError, ConfigError, InputError, Problem
from portsim.inputs import importance
from portsim.inputs.model import ModelInputs, auto_kernel, build_inputs
from portsim.results.dataset import build_dataset, is_weighted
from portsim.results.metrics import risk_metrics
from portsim.workflow.checks import check_config, check_run
from portsim.workflow.memory import require_memory
from portsim.workflow.options import RunOptions

__all__ = [
    "check_memory",
    "creditriskplus",
    "load_book",
    "load_invoices",
    "prepare",
    "run",
    "run_with",
    "summarize",
]


def load_invoices(config: RunConfig, book: Book) -> pd.DataFrame | None:
    """Read and validate the open invoices named in ``config.book.invoices`` (None if unset).

    Raises :class:`~portsim.errors.ConfigError` when invoices are named without a
    ``[timeline]`` (they feed the payment timeline), :class:`~portsim.errors.BookError` for
    an invalid invoices table (see :func:`portsim.data.invoices.read_invoices`).
    """
    _invoices_need_timeline(config)
    if config.book.invoices is None or config.timeline is None:
        return None
    return load_open_invoices(config, book, config.timeline.as_of)


def _invoices_need_timeline(config: RunConfig) -> None:
    if config.book.invoices is not None and config.timeline is None:
        raise ConfigError([Problem(
            "config [book]", f"invoices={config.book.invoices!r}",
            "needs a [timeline] table (open invoices feed the payment timeline)",
            "add [timeline] with as_of = 2026-12-31 (the date the invoices are open at), "
            "or remove invoices",
        )])


def prepare(config: RunConfig, book: Book | None = None) -> tuple[Book, ModelInputs]:
    """Validate the book (and open invoices and supplier table, if named), check the config
    and its scenario against the book (:func:`portsim.workflow.checks.check_run`) and build
    the kernel inputs, without simulating.

    Every problem is reported at once: those of the book (or of the invoices) with those of
    the config against the book; when the book cannot be read, with those of the config
    that need no book (:func:`portsim.workflow.checks.check_config`).

    Raises
    ------
    BookError
        For an invalid book or invoices table (and a config without problems).
    ConfigError
        Listing every problem of the config against the book (and a valid book).
    InputError
        Listing the problems of both.
    """
    _invoices_need_timeline(config)  # before reading anything
    book_error: BookError | None = None
    invoices = suppliers = None
    try:
        book = load_book(config) if book is None else book
        invoices = load_invoices(config, book)
    except BookError as exc:
        book_error = exc
    try:
        suppliers = load_suppliers(config)
    except BookError as exc:
        book_error = exc if book_error is None else BookError(
            book_error.problems + exc.problems, title=f"{book_error.title}; {exc.title}")
    config_problems = (check_config(config) if book is None
                       else check_run(config, book, invoices, suppliers))
    if book_error is not None and config_problems:
        raise InputError(book_error.problems + config_problems, title="invalid book and config")
    if book_error is not None:
        raise book_error
    if config_problems:
        raise ConfigError(config_problems)
    assert book is not None
    inputs = build_inputs(book, config, invoices, suppliers)
    return book, _with_tail_sampling(config, inputs)


def check_memory(
    config: RunConfig, options: RunOptions, book: Book | None = None
) -> ModelInputs:
    """:func:`prepare` and :func:`portsim.workflow.memory.require_memory`: a run that does
    not fit in the memory available is refused (:class:`~portsim.errors.ConfigError`) before
    anything is written; returns the inputs built, for :func:`run_with` (``inputs=``)."""
    _, inputs = prepare(config, book)
    require_memory(inputs, config, options)
    return inputs


def _with_tail_sampling(config: RunConfig, inputs: ModelInputs) -> ModelInputs:
    """With ``tail_sampling = "importance"``: the factor shift for ``tail_level``
    (:func:`portsim.inputs.importance.find_shift`), and for ``kernel = "auto"`` the kernel chosen
    again with the default probabilities under the shifted measure."""
    sim = config.simulation
    if sim.tail_sampling != "importance":
        return inputs
    theta = importance.find_shift(inputs, sim.tail_level)
    x = inputs._replace(z_shift=theta)
    if sim.kernel == "auto":
        n_groups = x.group_factor.shape[0]
        size = np.bincount(x.group, minlength=n_groups)
        p_q = importance.sampling_default_probability(x, theta)
        group_pd = np.bincount(x.group, weights=p_q, minlength=n_groups) / np.maximum(size, 1)
        x = x._replace(kernel=auto_kernel(size, group_pd, timeline=x.timeline is not None))
    return x


def _provenance(config: RunConfig, book: Book, inputs: ModelInputs, out: SimOutput) -> dict:
    """The run's provenance attributes (``model_family`` instead of ``copula`` for the
    CreditRisk+ family)."""
    prov = {
        "portsim_version": __version__,
        "seed": out.seed,
        "n_paths": out.n_paths,
        "chunk_paths": out.chunk_paths,
        "kernel": out.kernel,
        "config_name": config.name,
        "config_hash": config_hash(config),
        "scenario": config.scenario.name,
        "book_source": book.source,
        "book_sha256": book.sha256,
        "n_customers": book.n_customers,
        "n_factors": len(inputs.factor_names),
        "copula": config.model.copula,
        "dof": inputs.dof,
        "horizon_years": inputs.horizon_years,
        "risk_levels": np.asarray(config.risk.levels, dtype=float),
        "tail_sampling": config.simulation.tail_sampling,
        "tail_level": config.simulation.tail_level,
        "z_shift": (np.zeros(len(inputs.factor_names)) if inputs.z_shift is None
                    else np.asarray(inputs.z_shift, dtype=float)),
    }
    if config.model.family == "creditriskplus":
        crp = config.creditriskplus or CreditRiskPlusConfig()
        del prov["copula"]
        prov["model_family"] = f"creditriskplus, {crp.defaults} defaults"
    return prov


def run(
    config: RunConfig,
    book: Book | None = None,
    *,
    paths: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    contributions: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> xr.Dataset:
    """Simulate a config and return the results Dataset.

    The keywords are those of :class:`~portsim.workflow.options.RunOptions` (which checks
    them); :func:`run_with` takes the options object itself.

    Parameters
    ----------
    config : RunConfig
        From :func:`portsim.load_config` (or built in Python).
    book : Book, optional
        Use this book instead of reading ``config.book.path``.
    paths, seed, threads, workers, scheduler, contributions
        See :class:`~portsim.workflow.options.RunOptions`.
    progress : callable(done, total), optional
        Called after each chunk.

    Returns
    -------
    xarray.Dataset
        See :func:`run_with`.
    """
    options = RunOptions(paths=paths, seed=seed, threads=threads, workers=workers,
                         scheduler=scheduler, contributions=contributions)
    return run_with(config, options, book=book, progress=progress)


def run_with(
    config: RunConfig,
    options: RunOptions,
    *,
    book: Book | None = None,
    progress: Callable[[int, int], None] | None = None,
    store: ChunkStore | None = None,
    inputs: ModelInputs | None = None,
) -> xr.Dataset:
    """Simulate a config with the given options and return the results Dataset.

    Parameters
    ----------
    config : RunConfig
        From :func:`portsim.load_config` (or built in Python).
    options : RunOptions
        Paths, seed and where to run; ``contributions`` adds the Euler contributions
        (see :class:`~portsim.workflow.options.RunOptions`).
    book : Book, optional
        Use this book instead of reading ``config.book.path``.
    progress : callable(done, total), optional
        Called after each chunk.
    store : ChunkStore, optional
        Finished chunks are loaded from it and new ones saved to it (a run folder's
        checkpoint, :class:`portsim.workflow.checkpoint.Checkpoint`).
    inputs : ModelInputs, optional
        Already built and checked by :func:`prepare` (or :func:`check_memory`) from this
        config (its paths and seed aside) and ``book``, which must then be given: they are
        not read, checked and built again.

    Raises
    ------
    InputError
        For invalid inputs (:func:`prepare`), and a run that does not fit in the memory
        available (:func:`portsim.workflow.memory.require_memory`), before simulating.

    Returns
    -------
    xarray.Dataset
        Per-path ``loss`` and ``n_defaults`` (dim ``path``), by sector and by customer, with
        ``units``/``long_name`` attrs and provenance attrs; with importance sampling the
        per-path ``log_weight``; with ``contributions`` the ``level`` dimension and its
        contribution variables; built by :func:`portsim.results.dataset.build_dataset`; see
        :func:`summarize`.
    """
    opts = options.resolved(config)
    if inputs is None:
        book, inputs = prepare(config, book)
    elif book is None:
        raise ValueError("inputs built by prepare need the book they were built from")
    require_memory(inputs, config, opts)
    common: dict[str, Any] = {
        "n_paths": opts.n_paths(config), "seed": opts.run_seed(config),
        "chunk_paths": config.simulation.chunk_paths, "progress": progress,
        "series_budget_mb": config.output.series_budget_mb, "store": store,
    }
    if opts.distributed:
        from portsim.engine.distributed import simulate_distributed

        out = simulate_distributed(inputs, workers=opts.workers, scheduler=opts.scheduler,
                                   **common)
    else:
        out = simulate(inputs, threads=opts.threads, **common)
    exact: tuple[np.ndarray, np.ndarray | None] | None = None
    if inputs.z_shift is not None and np.any(inputs.z_shift != 0.0):
        # the kernels' per-customer sums are under the shifted measure: exact values instead
        p_exact, el_exact = importance.exact_customer_moments(inputs)
        # a timeline's loss is on the unpaid invoices: its sums are weighted (engine.chunk)
        exact = (p_exact, None if inputs.timeline is not None else el_exact)
    contribs: list[attribution.Contributions] = []
    conc = None
    if opts.contributions:
        contribs = attribution.tail_contributions(
            inputs, out.seed, out.loss, list(config.risk.levels),
            log_weight=out.log_weight if is_weighted(out.log_weight) else None,
            labels={"country": np.asarray(book.country)},
        )
        conc = attribution.concentration(
            inputs.exposure, inputs.p_horizon, inputs.lgd_mean,
            np.nan_to_num(np.asarray(book.lgd_sd, dtype=float)), inputs.asset_correlation)
    provenance = {**_provenance(config, book, inputs, out),
                  "simulate_seconds": out.timings.get("simulate_seconds", float("nan"))}
    return build_dataset(out, inputs, currency=config.book.currency, provenance=provenance,
                         customer_names=book.name, customer_countries=book.country,
                         exact_moments=exact, contributions=contribs, concentration=conc)


def creditriskplus(config: RunConfig, book: Book | None = None) -> CreditRiskPlusResult:
    """The CreditRisk+ figures of the config's book (under its scenario), without simulating.

    The model is the ``[creditriskplus]`` table's (its defaults when the config has none) on
    the inputs :func:`prepare` builds: the horizon PDs, exposures, mean LGDs and sectors (see
    :mod:`portsim.creditriskplus`).

    Returns
    -------
    CreditRiskPlusResult
        Expected loss, VaR and ES at ``config.risk.levels`` and their Euler contributions.
    """
    book, inputs = prepare(config, book)
    crp = config.creditriskplus if config.creditriskplus is not None else CreditRiskPlusConfig()
    return analyse(build_model(inputs, crp), tuple(config.risk.levels))


def summarize(ds: xr.Dataset, levels: list[float] | None = None) -> dict[str, Any]:
    """Risk metrics with Monte Carlo errors (see :func:`portsim.results.metrics.risk_metrics`)."""
    if levels is None:
        levels = [float(x) for x in np.atleast_1d(ds.attrs.get("risk_levels", [0.99]))]
    metrics = risk_metrics(ds, levels)
    if "es_contribution" in ds:
        metrics["contributions"] = attribution.contributions_summary(ds)
        metrics["concentration"] = attribution.concentration_summary(ds)
    return metrics
