"""``portsim run`` (single runs, scenario batches, resuming), ``report``, ``export`` and
``validate``: the commands of run folders."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from portsim.cli.common import ConfigArg, ScenarioOpt, handled_errors, progress_bar, run_options
from portsim.cli.summary import print_comparison, print_creditriskplus_batch, print_summary

if TYPE_CHECKING:
    from portsim.config import RunConfig
    from portsim.workflow.options import RunOptions


class ReportFormat(StrEnum):
    """Output formats of ``portsim report``."""

    html = "html"
    pdf = "pdf"


def run_cmd(
    config: Annotated[Path | None, typer.Argument(
        help="run config (TOML), e.g. configs/example.toml; not needed with --resume")] = None,
    scenario: ScenarioOpt = None,
    paths: Annotated[int | None, typer.Option(min=1, help="number of paths")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="random seed")] = None,
    out: Annotated[Path | None, typer.Option(help="run folder to create")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="threads (default: all)")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="run on a local Dask cluster of N worker processes "
        "(needs portsim's 'distributed' extra)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="run on the Dask cluster with this scheduler address, e.g. tcp://host:8786")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="finish an interrupted run folder, computing only its missing chunks")] = None,
    keep_chunks: Annotated[bool, typer.Option(
        "--keep-chunks", help="keep the folder's chunks/ checkpoint after the run")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
    report: Annotated[bool, typer.Option(
        "--report", help="write report.html into the run folder when the run is complete")] = False,
    xlsx: Annotated[bool, typer.Option(
        "--xlsx", help="write results.xlsx into the run folder when the run is complete "
        "(needs portsim's 'excel' extra)")] = False,
    book: Annotated[Path | None, typer.Option(
        help="customers table replacing the config's [book] path, e.g. the book.csv of "
        "portsim warn")] = None,
) -> None:
    """Simulate a config and write a run folder (every chunk is checkpointed in it)."""
    from portsim.config import load_config
    from portsim.workflow.batch import expand_scenario_files
    from portsim.workflow.folders import is_batch_folder, write_report, write_workbook
    from portsim.workflow.runner import resume_folder, run_folder

    if config is None and resume is None:
        raise typer.BadParameter("give a CONFIG to run, or --resume RUN_DIR", param_hint="CONFIG")
    if config is None and scenario:
        raise typer.BadParameter("a scenario needs the CONFIG it overlays", param_hint="--scenario")
    for flag, value in (("--out", out), ("--book", book)):
        if resume is not None and value is not None:
            raise typer.BadParameter("--resume finishes the folder it names", param_hint=flag)
    options = run_options(paths=paths, seed=seed, threads=threads, workers=workers,
                           scheduler=scheduler, keep_chunks=keep_chunks)
    with handled_errors():
        files = expand_scenario_files(scenario or [])
        if len(files) > 1 or (resume is not None and is_batch_folder(resume)):
            folder = _run_batch(config, files, options, out=out, resume=resume, quiet=quiet,
                                book=book)
        else:
            cfg = (_with_book(load_config(config, files[0] if files else None), book)
                   if config is not None else None)
            with progress_bar(quiet, "simulating chunks", remaining=True) as bar:
                if resume is not None:
                    res = resume_folder(resume, config=cfg, options=options, progress=bar)
                else:
                    assert cfg is not None
                    res = run_folder(cfg, out, options=options, progress=bar)
            folder = res.path
            if quiet:
                typer.echo(str(folder))
            else:
                print_summary(res.metrics, folder)
        if report:
            written = write_report(folder)
            if not quiet:
                typer.echo(f"report: {written}")
        if xlsx:
            written = write_workbook(folder)
            if not quiet:
                typer.echo(f"workbook: {written}")


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a complete run folder (from portsim run)")],
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="html: one self-contained file; pdf: one page per section")
    ] = ReportFormat.html,
    out: Annotated[Path | None, typer.Option(
        help="file to write (default: RUN_DIR/report.html or report.pdf)")] = None,
) -> None:
    """Write the risk committee report of a run folder (HTML or PDF)."""
    from portsim.workflow.folders import write_report

    with handled_errors():
        typer.echo(str(write_report(run_dir, fmt.value, out)))


def export_cmd(
    run_dir: Annotated[Path, typer.Argument(
        help="a complete run folder (from portsim run), or the folder of portsim ecl, "
        "portsim warn or portsim optimise")],
    xlsx: Annotated[bool, typer.Option(
        "--xlsx", help="an Excel workbook (needs portsim's 'excel' extra)")] = False,
    out: Annotated[Path | None, typer.Option(
        help="file to write (default: RUN_DIR/results.xlsx, ecl.xlsx, warn.xlsx or "
        "optimise.xlsx)")] = None,
) -> None:
    """Export a run folder's figures for other tools."""
    from portsim.workflow.folders import write_workbook

    if not xlsx:
        raise typer.BadParameter("choose a format: --xlsx", param_hint="--xlsx")
    with handled_errors():
        typer.echo(str(write_workbook(run_dir, out)))


def validate_cmd(config: ConfigArg, scenario: ScenarioOpt = None) -> None:
    """Check a config and its book (and each scenario) without simulating."""
    from portsim.config import load_config
    from portsim.workflow.api import prepare
    from portsim.workflow.batch import expand_scenario_files, load_scenarios, plan_batch
    from portsim.workflow.memory import memory_report, require_memory
    from portsim.workflow.options import DEFAULT_OPTIONS

    with handled_errors():
        files = expand_scenario_files(scenario or [])
        cfg = load_config(config, files[0] if len(files) == 1 else None)
        book, inputs = prepare(cfg)
        memory = require_memory(inputs, cfg, DEFAULT_OPTIONS)
        if len(files) > 1:
            plan = plan_batch(cfg, load_scenarios(files, cfg.book.sectors), book)
    typer.echo(
        f"ok: {book.n_customers} customers, {len(inputs.sector_names)} sectors, "
        f"{len(inputs.factor_names)} factors, total exposure {book.exposure.sum():,.2f} "
        f"{cfg.book.currency}, kernel {inputs.kernel}"
    )
    typer.echo(f"memory: {memory_report(memory)}")
    if len(files) > 1:
        typer.echo(f"ok: {len(plan.configs)} scenarios ({', '.join(plan.configs)}), baseline "
                   f"{plan.baseline}, kernel {plan.kernel} for all")


def _with_book(config: RunConfig, book: Path | None) -> RunConfig:
    """``config`` with ``[book] path`` set to ``book`` (absolute), when given."""
    if book is None:
        return config
    return config.model_copy(update={"book": config.book.model_copy(
        update={"path": str(book.resolve())})})


def _run_batch(
    config: Path | None, files: list[Path], options: RunOptions, *, out: Path | None,
    resume: Path | None, quiet: bool, book: Path | None = None,
) -> Path:
    """``portsim run CONFIG --scenario A --scenario B …``: a scenario batch folder (returned)."""
    from portsim.config import load_config
    from portsim.workflow.batch import load_scenarios
    from portsim.workflow.runner import resume_batch_folder, run_batch_folder

    if resume is not None and (config is not None or files):
        raise typer.BadParameter("--resume of a batch folder takes neither CONFIG nor "
                                 "--scenario (the folder's batch.json has them)",
                                 param_hint="--resume")
    with progress_bar(quiet, "scenarios", remaining=False) as bar:
        tick = None if bar is None else (
            lambda name, done, total: bar(done, total, f"scenario {name}"))
        if resume is not None:
            res = resume_batch_folder(resume, options=options, progress=tick)
        else:
            assert config is not None
            cfg = _with_book(load_config(config), book)
            res = run_batch_folder(cfg, load_scenarios(files, cfg.book.sectors), out,
                                   options=options, progress=tick)
    if quiet:
        typer.echo(str(res.path))
    else:
        print_comparison(res.comparison, res.baseline, res.metrics[res.baseline])
        print_creditriskplus_batch(res.metrics)
        typer.echo(f"batch folder: {res.path} (one run folder per scenario in scenarios/, "
                   "comparison.csv)")
    return res.path
