"""The ``portsim`` command line.

Exit codes: 0 success; 1 invalid input (every problem is printed with where and why), a file
or folder that cannot be read or written (one line: the path and the reason), or a run folder
that another run is writing; 2 usage error (a bad option value, an ``--out`` that already holds
files); 3 ``portsim stress`` did not reach its target; 130 interrupted. Heavy modules are
imported inside the commands so ``--help`` answers fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd

    from portsim.config import RunConfig
    from portsim.workflow.options import RunOptions

T = TypeVar("T")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Monte Carlo engine for the credit risk of a receivables book.",
    pretty_exceptions_enable=False,
)

ConfigArg = Annotated[Path, typer.Argument(help="run config (TOML), e.g. configs/example.toml")]
ScenarioOpt = Annotated[
    list[str] | None, typer.Option(
        "--scenario", "-s", help="scenario file overlaid on the config; repeat it, or give a "
        "quoted pattern like 'scenarios/*.toml', to run a batch compared on common random "
        "numbers")
]


#: ``portsim stress``: the target is not reached within the searched range.
EXIT_NOT_FOUND = 3


@contextmanager
def _errors() -> Iterator[None]:
    """What a user can fix, as messages: input problems exit 1 listing every problem, an
    ``--out`` that holds files is a usage error (2), an ``OSError`` exits 1 with one line (the
    path and the reason), Ctrl-C 130 saying how to finish the folder."""
    from portsim.errors import InputError
    from portsim.workflow.claim import FolderExistsError
    from portsim.workflow.runner import Interrupted

    try:
        yield
    except FolderExistsError as exc:
        p = exc.problems[0]
        raise typer.BadParameter(f"{p.where} {p.rule}; {p.fix}", param_hint="--out") from None
    except Interrupted as exc:
        typer.echo(f"interrupted; finish it with: portsim run --resume {exc.folder}", err=True)
        raise typer.Exit(code=130) from None
    except (InputError, OSError) as exc:
        text = (f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError)
                and exc.filename is not None else str(exc))
        typer.echo(f"error: {text}", err=True)
        raise typer.Exit(code=1) from None


def _console() -> Any:
    """A rich console; not a terminal: wide enough that no table is cut to 80 columns."""
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=100_000)


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    for low, div, suffix, digits in ((1e9, 1e9, "bn", 2), (1e6, 1e6, "m", 2), (1e4, 1e3, "k", 1)):
        if abs(x) >= low:
            return f"{x / div:,.{digits}f}{suffix}"
    return f"{x:,.4g}"


def _print_summary(metrics: dict[str, Any], path: Path | None) -> None:
    from rich.table import Table

    cur = metrics["currency"]
    t = Table(title=f"Credit loss over the horizon ({metrics['n_paths']:,} paths, {cur})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("± s.e. / 95 % CI", justify="right")
    el = metrics["expected_loss"]
    t.add_row("total exposure", _fmt(metrics["total_exposure"]), "")
    t.add_row("expected loss", _fmt(el["value"]), f"± {_fmt(el['se'])}")
    t.add_row("loss std. dev.", _fmt(metrics["loss_sd"]["value"]),
              f"± {_fmt(metrics['loss_sd']['se'])}")
    t.add_row("expected defaults", f"{metrics['expected_defaults']['value']:.2f}",
              f"± {metrics['expected_defaults']['se']:.2f}")
    for key, v in metrics["var"].items():
        t.add_row(f"VaR {float(key):.1%}", _fmt(v["value"]),
                  f"[{_fmt(v['ci_low'])}, {_fmt(v['ci_high'])}]")
    for key, v in metrics["es"].items():
        t.add_row(f"ES {float(key):.1%}", _fmt(v["value"]), f"± {_fmt(v['se'])}")
    con = _console()
    con.print(t)
    cash = metrics.get("cash")
    if cash:
        c = Table(title=f"Cash over the horizon ({cur})")
        c.add_column("metric")
        c.add_column("value", justify="right")
        c.add_column("± s.e. / 95 % CI", justify="right")
        for key, label in (("p_buffer_breach", "P(cash below buffer without the line)"),
                           ("p_line_breach", "P(line cannot keep the buffer)")):
            c.add_row(label, f"{cash[key]['value']:.2%}", f"± {cash[key]['se']:.2%}")
        for key, v in cash["cash_flow_at_risk"].items():
            c.add_row(f"cash-flow-at-risk {float(key):.1%}", _fmt(v["value"]),
                      f"[{_fmt(v['ci_low'])}, {_fmt(v['ci_high'])}]")
        for key, label in (("min_cash", "minimum cash (mean)"),
                           ("peak_line_usage", "peak line usage (mean)"),
                           ("cash_gap", "cash gap (mean)"), ("dso_avg", "DSO, average (days)"),
                           ("dso_end", "DSO at horizon (days)"),
                           ("peak_wcr", "peak working capital req. (mean)")):
            d = cash[key]
            q = d["quantiles"]
            c.add_row(label, _fmt(d["value"]),
                      f"± {_fmt(d['se'])}; 5-95 %: {_fmt(q.get('0.05'))} to {_fmt(q.get('0.95'))}")
        con.print(c)
    if metrics.get("insurance"):
        con.print(_insurance_table(metrics))
    if metrics.get("creditriskplus"):
        con.print(_creditriskplus_table(metrics))
    top = sorted(metrics["by_sector"], key=lambda s: -s["expected_loss"]["value"])[:5]
    con.print("largest sectors by expected loss: " + ", ".join(
        f"{s['sector']} {s['share_of_expected_loss']:.0%}" for s in top))
    if path is not None:
        con.print(f"run folder: {path}")


def _creditriskplus_table(metrics: dict[str, Any]) -> Any:
    """The run's expected loss, VaR and ES beside the CreditRisk+ model's of the same book."""
    from rich.table import Table

    crp = metrics["creditriskplus"]
    t = Table(title=f"CreditRisk+ of the same book ({metrics['currency']}, exact)")
    t.add_column("metric")
    t.add_column("this run", justify="right")
    t.add_column("CreditRisk+", justify="right")
    t.add_row("expected loss", _fmt(metrics["expected_loss"]["value"]),
              _fmt(crp["expected_loss"]))
    t.add_row("loss std. dev.", _fmt(metrics["loss_sd"]["value"]), _fmt(crp["loss_sd"]))
    for name, label in (("var", "VaR"), ("es", "ES")):
        for key, v in metrics[name].items():
            t.add_row(f"{label} {float(key):.1%}", _fmt(v["value"]), _fmt(crp[name][key]))
    return t


def _short(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits with k / m / bn (for narrow tables)."""
    ax = abs(x)
    for div, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if ax >= div:
            return f"{float(f'{x / div:.{digits}g}'):g}{suffix}"
    return f"{float(f'{x:.{digits}g}'):g}"


def _insurance_table(metrics: dict[str, Any]) -> Any:
    """The report's table of the value of cover (:func:`portsim.report.tables.insurance_table`)
    as a rich table."""
    from rich.table import Table

    from portsim.report.tables import insurance_table

    tab = insurance_table(metrics)
    t = Table(title=f"Credit insurance: value of cover against none ({metrics['currency']}; "
                    "± s.e. of paired differences on the same paths)")
    for i, name in enumerate(tab.header):
        t.add_column(name, justify="right" if i in tab.numeric else "left")
    for row in tab.rows:
        t.add_row(*row)
    return t


class ReportFormat(StrEnum):
    """Output formats of ``portsim report``."""

    html = "html"
    pdf = "pdf"


def _run_options(**values: Any) -> RunOptions:
    """:class:`~portsim.workflow.options.RunOptions` of the command's flags; a combination
    that cannot run is a usage error naming the flag."""
    from portsim.workflow.options import RunOptions, RunOptionsError

    try:
        return RunOptions(**values)
    except RunOptionsError as exc:
        def flag(name: str) -> str:
            return "--" + name.replace("_", "-")

        raise typer.BadParameter(exc.text(flag), param_hint=flag(exc.option)) from None


@contextmanager
def _progress_bar(quiet: bool, title: str, *, remaining: bool
                  ) -> Iterator[Callable[..., None] | None]:
    """A transient progress bar titled ``title``; yields ``update(done, total, title=None)``
    (None when ``quiet``)."""
    if quiet:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress("[progress.description]{task.description}", *columns,
                  *([TimeRemainingColumn()] if remaining else []), transient=True) as bar:
        task = bar.add_task(title, total=None)

        def update(done: int, total: int, title: str | None = None) -> None:
            bar.update(task, description=title, completed=done, total=total)  # None: kept

        yield update


@app.command("run")
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
    options = _run_options(paths=paths, seed=seed, threads=threads, workers=workers,
                           scheduler=scheduler, keep_chunks=keep_chunks)
    with _errors():
        files = expand_scenario_files(scenario or [])
        if len(files) > 1 or (resume is not None and is_batch_folder(resume)):
            folder = _run_batch(config, files, options, out=out, resume=resume, quiet=quiet,
                                book=book)
        else:
            cfg = (_with_book(load_config(config, files[0] if files else None), book)
                   if config is not None else None)
            with _progress_bar(quiet, "simulating chunks", remaining=True) as bar:
                if resume is not None:
                    res = resume_folder(resume, config=cfg, options=options, progress=bar)
                else:
                    assert cfg is not None
                    res = run_folder(cfg, out, options=options, progress=bar)
            folder = res.path
            if quiet:
                typer.echo(str(folder))
            else:
                _print_summary(res.metrics, folder)
        if report:
            written = write_report(folder)
            if not quiet:
                typer.echo(f"report: {written}")
        if xlsx:
            written = write_workbook(folder)
            if not quiet:
                typer.echo(f"workbook: {written}")


@app.command("report")
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

    with _errors():
        typer.echo(str(write_report(run_dir, fmt.value, out)))


@app.command("export")
def export_cmd(
    run_dir: Annotated[Path, typer.Argument(
        help="a complete run folder (from portsim run) or an ecl folder (from portsim ecl)")],
    xlsx: Annotated[bool, typer.Option(
        "--xlsx", help="an Excel workbook (needs portsim's 'excel' extra)")] = False,
    out: Annotated[Path | None, typer.Option(
        help="file to write (default: RUN_DIR/results.xlsx, or ecl.xlsx)")] = None,
) -> None:
    """Export a run folder's figures for other tools."""
    from portsim.workflow.folders import write_workbook

    if not xlsx:
        raise typer.BadParameter("choose a format: --xlsx", param_hint="--xlsx")
    with _errors():
        typer.echo(str(write_workbook(run_dir, out)))


@app.command("validate")
def validate_cmd(config: ConfigArg, scenario: ScenarioOpt = None) -> None:
    """Check a config and its book (and each scenario) without simulating."""
    from portsim.config import load_config
    from portsim.workflow.api import prepare
    from portsim.workflow.batch import expand_scenario_files, load_scenarios, plan_batch
    from portsim.workflow.memory import memory_report, require_memory
    from portsim.workflow.options import DEFAULT_OPTIONS

    with _errors():
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
    with _progress_bar(quiet, "scenarios", remaining=False) as bar:
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
        _print_comparison(res.comparison, res.baseline, res.metrics[res.baseline])
        typer.echo(f"batch folder: {res.path} (one run folder per scenario in scenarios/, "
                   "comparison.csv)")
    return res.path


def _print_comparison(table: Any, baseline: str, base_metrics: dict[str, Any]) -> None:
    """The comparison table (:func:`portsim.results.comparison.scenario_comparison`'s rows, one
    row per scenario by :func:`portsim.results.comparison.comparison_frame`): per scenario
    the headline metrics and, below each, the difference to the baseline ± its paired
    standard error."""
    from rich.table import Table

    from portsim.results.comparison import comparison_frame

    levels = sorted({str(x) for x in table["level"] if str(x) not in ("", "nan")}, key=float)
    key = "0.99" if "0.99" in levels else (levels[-1] if levels else "")
    cur = base_metrics.get("currency", "")
    n = base_metrics.get("n_paths", 0)

    def cell(r: Any, name: str, kind: str) -> str:
        if name not in r or r[name] != r[name]:  # metric or scenario not in the table
            return ""
        value, diff, se = r[name], r[f"{name}_change"], r[f"{name}_change_se"]
        if kind == "p":
            top, change, err = f"{value:.1%}", f"{diff:+.1%}", _short(100 * se, 2) + "%"
        elif kind == "days":
            top, change, err = f"{value:.1f}", f"{diff:+.1f}", _short(se, 1)
        else:
            top = _short(value)
            change = ("+" if diff >= 0 else "-") + _short(abs(diff))
            err = _short(se, 2)
        if r["scenario"] == baseline:
            return top
        return f"{top}\n[dim]{change}\n±{err}[/dim]"

    def name(metric: str, level: str) -> str:
        return f"{metric}_{level}" if level else metric

    lv = f"{100 * float(key):g}%" if key else ""
    cols = [("EL", "expected_loss", "", "m"), (f"VaR {lv}", "var", key, "m"),
            (f"ES {lv}", "es", key, "m")]
    if (table["metric"] == "p_line_breach").any():
        cols += [("P(line)", "p_line_breach", "", "p"),
                 (f"CFaR {lv}", "cash_flow_at_risk", key, "m"),
                 ("DSO", "dso_avg", "", "days")]
    t = Table(title=f"Scenarios on common random numbers ({n:,} paths, {cur}): expected "
                    f"loss, VaR, ES, P(line cannot keep the buffer), cash-flow-at-risk, "
                    f"average DSO (days); below each value its difference to {baseline} "
                    f"and the paired s.e.")
    t.add_column("scenario", no_wrap=True)
    for label, *_ in cols:
        t.add_column(label, justify="right")
    frame = comparison_frame(table, [(m, level) for _, m, level, _ in cols], baseline)
    for _, r in frame.iterrows():
        t.add_row(str(r["scenario"]), *(cell(r, name(m, level), k) for _, m, level, k in cols))
    con = _console()
    con.print(t)
    pols = [p for p in dict.fromkeys(table["policy"].fillna("")) if p]
    if pols:
        c = Table(title=f"With credit insurance: ES {lv} of the retained loss and P(line) "
                        f"with premiums and indemnities, by policy (a scenario without the "
                        f"policy has no cover)")
        c.add_column("scenario", no_wrap=True)
        for p in pols:
            c.add_column(f"{p} ES", justify="right")
            c.add_column(f"{p} P(line)", justify="right")
        frames = [comparison_frame(table, [("retained_es", key), ("policy_p_line_breach", "")],
                                   baseline, policy=p) for p in pols]
        for i, s in enumerate(frame["scenario"]):
            c.add_row(str(s), *(x for f in frames for x in (
                cell(f.iloc[i], name("retained_es", key), "m"),
                cell(f.iloc[i], "policy_p_line_breach", "p"))))
        con.print(c)


@app.command("stress")
def stress_cmd(
    config: ConfigArg,
    target: Annotated[str, typer.Option(
        help="the target, METRIC>VALUE: p_line_breach>0.05, p_buffer_breach>0.5, "
        "es_0.99>5m, var_0.99>3m, expected_loss>1m, cfar_0.99>10m, dso>90, "
        "expected_defaults>80")],
    direction: Annotated[str, typer.Option(
        help="what is made worse: pd_multiplier, factor_shift, factor_shift:SECTOR, "
        "lgd_shift, delay_shift (days) or sales_change")] = "pd_multiplier",
    scenario: Annotated[str | None, typer.Option(
        "--scenario", "-s", help="scenario file to start from (default: the config's)")
    ] = None,
    paths: Annotated[int | None, typer.Option(min=1, help="paths per evaluation")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="random seed (all evaluations)")
                    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="threads (default: all)")] = None,
    rtol: Annotated[float, typer.Option(min=1e-9, help="relative width at which bisection "
                                        "stops")] = 1e-3,
    max_evaluations: Annotated[int, typer.Option(min=3, help="cap on simulations")] = 40,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="write the result (and every evaluation) to this JSON file")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="only the result line")] = False,
) -> None:
    """Reverse stress test: the mildest scenario along a direction that hits a target.

    Exits 3 (after writing ``--json``) when the target is not reached."""
    import math

    from portsim.config import load_config
    from portsim.workflow.api import load_book
    from portsim.workflow.stress import parse_direction, parse_target, reverse_stress

    options = _run_options(paths=paths, seed=seed, threads=threads)
    tgt = _usage(parse_target, "--target", target)
    with _errors():
        cfg = load_config(config, scenario)
        book = load_book(cfg)
    dirn = _usage(parse_direction, "--direction", direction, cfg, book)

    def fmt(v: float, se: bool = False) -> str:
        if tgt.metric.startswith("p_"):
            return f"{v:.2%}"
        if tgt.metric in ("dso", "expected_defaults"):
            return f"{v:.2f}"
        return _short(v, 2 if se else 4)

    def show(x: float, value: float, se: float, hit: bool) -> None:
        if not quiet:
            typer.echo(f"  {dirn.label} = {x:<10.6g} {tgt.label} = {fmt(value)} ± "
                       f"{fmt(se, True)}{'  (target hit)' if hit else ''}")

    if not quiet:
        typer.echo(f"searching {dirn.label} for {tgt.text} ...")
    with _errors():
        res = reverse_stress(cfg, tgt, dirn, book=book, options=options, rtol=rtol,
                             max_evaluations=max_evaluations, on_evaluation=show)
        if json_out is not None:
            from portsim.workflow.folders import write_json

            write_json(json_out, res.to_dict())
    if res.found:
        unit = f" {dirn.unit}" if dirn.unit not in ("", "x") else ""
        line = (f"{dirn.label} = {res.value:.4g}{unit} ± {res.se:.2g} (s.e.): the mildest "
                f"value with {tgt.text}" if res.value != dirn.start else res.message)
        typer.echo(line)
        if not quiet and res.value != dirn.start:
            typer.echo(f"  bracket [{res.bracket[0]:.6g}, {res.bracket[1]:.6g}]; {tgt.label} "
                       f"{fmt(res.metric['value'])} ± {fmt(res.metric['se'], True)} at its "
                       f"upper end, {fmt(res.baseline_metric['value'])} without stress; slope "
                       f"{res.slope:.4g} per unit; {len(res.evaluations)} runs of "
                       f"{res.n_paths:,} paths, seed {res.seed}")
        return
    at_end = math.isclose(res.bracket[1], dirn.limit)
    typer.echo(f"not found: {tgt.label} reaches {fmt(res.metric['value'])} at "
               f"{dirn.label} = {res.bracket[1]:.6g}, the end of the searched range, "
               f"without {tgt.text}" if at_end else f"not found: {res.message}")
    raise typer.Exit(code=EXIT_NOT_FOUND)


def _usage(parse: Callable[..., T], flag: str, *args: Any) -> T:
    """``parse(*args)``; the input problems it raises are usage errors of ``flag``."""
    from portsim.errors import InputError

    try:
        return parse(*args)
    except InputError as exc:
        raise typer.BadParameter("; ".join(str(p).removeprefix(f"{flag}: ")
                                           for p in exc.problems), param_hint=flag) from None


@app.command("calibrate")
def calibrate_cmd(
    history: Annotated[Path, typer.Argument(
        help="payment history: invoice_id, customer_id, amount, issue_date, due_date, "
        "paid_date (blank while unpaid); .csv, .parquet or .xlsx")],
    book: Annotated[Path, typer.Option(help="customers table the history belongs to")],
    out: Annotated[Path, typer.Option(
        help="book to write, with delay_mean_days, delay_sd_days, delay_noise_days filled")],
    config: Annotated[Path | None, typer.Option(
        help="run config whose [book] ratings, sectors, CSV dialect keys and FX rates are "
        "used to read the book and the history")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="cut-off date YYYY-MM-DD: invoices unpaid then are right-censored "
        "(default: the latest issue or payment date in the history)")] = None,
    min_invoices: Annotated[int, typer.Option(
        min=2, help="paid invoices a customer needs for its own estimates")] = 3,
    min_customers: Annotated[int, typer.Option(
        min=2, help="customers with own estimates a sector needs for its own estimates")] = 3,
) -> None:
    """Estimate payment-delay parameters per customer from a payment history and write a
    book with them."""
    from portsim.config import RunConfig, load_config
    from portsim.data import estimate_delays, write_calibrated_book
    from portsim.data.configured import load_book, load_history

    cutoff = None if as_of is None else _iso_date(as_of)
    with _errors():
        cfg = load_config(config) if config is not None else RunConfig()
        customers = load_book(cfg, book)
        hist = load_history(cfg, history, customers, as_of=cutoff)
        est = estimate_delays(hist, customers, min_invoices=min_invoices,
                              min_customers=min_customers, as_of=cutoff, source=history.name)
        written = write_calibrated_book(customers, est.customers, out)
    _print_calibration(est, written)


def _print_calibration(est: Any, path: Path) -> None:
    from rich import box
    from rich.table import Table

    def pm(value: float, se: float) -> str:
        if value != value:  # NaN
            return "—"
        return f"{value:.1f}±{se:.1f}" if se == se else f"{value:.1f}"

    t = Table(title=f"Payment delays in days after due ({est.n_paid:,} paid invoices; "
                    f"{est.n_unpaid:,} unpaid at {est.as_of.isoformat()}, treated as censored)",
              box=box.SIMPLE_HEAD)
    longest = max((len(str(x)) for x in est.sectors["sector"]), default=6)
    t.add_column("sector", min_width=min(longest, 24))
    for col in ("customers", "own", "paid/unpaid", "mean", "noise sd", "prop. sd"):
        t.add_column(col, justify="right", no_wrap=True)
    for row in est.sectors.sort_values("sector").itertuples(index=False):
        sd = pm(row.delay_sd_days, row.delay_sd_se)
        if row.source == "book":
            sd += " (book)"
        t.add_row(row.sector, f"{row.n_customers:,}", f"{row.n_own:,}",
                  f"{row.n_paid:,}/{row.n_unpaid:,}",
                  pm(row.delay_mean_days, row.delay_mean_se),
                  pm(row.delay_noise_days, row.delay_noise_se), sd)
    con = _console()
    con.print(t)
    counts = est.customers["source"].value_counts()
    own = int(counts.get("customer", 0))
    shrunk = int(counts.get("sector", 0) + counts.get("book", 0))
    con.print(f"{own:,} customers with their own mean and noise sd ('own'); {shrunk:,} with "
              "too few paid invoices get their sector's values. prop. sd: the spread of the "
              "customers' mean delays within the sector ('(book)': too few customers in the "
              "sector, book-level values)")
    con.print(f"wrote {path}")


@app.command("ecl")
def ecl_cmd(
    config: ConfigArg,
    as_of: Annotated[list[str], typer.Option(
        "--as-of", help="as-of date YYYY-MM-DD; give two for the movement of the allowance")],
    history: Annotated[Path | None, typer.Option(
        help="payment history (as for calibrate): open items at other dates than [timeline] "
        "as_of, and historical loss rates by roll rates")] = None,
    rates: Annotated[str | None, typer.Option(
        help="given loss rate per bucket, fractions, e.g. 0.003,0.016,0.036,0.066,0.106")] = None,
    buckets: Annotated[str, typer.Option(
        help="upper bounds of the past-due buckets, days")] = "30,60,90",
    segment: Annotated[str, typer.Option(
        help="all, sector, country, rating, customer_id or another column of the book")
    ] = "sector",
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s", help="FILE=WEIGHT, repeated: weighted scenarios of the model ECL "
        "(weights sum to 1)")] = None,
    window_months: Annotated[int, typer.Option(help="months of roll rates")] = 12,
    write_off_days: Annotated[int, typer.Option(
        help="days past due after which an unpaid invoice of the history is written off")] = 180,
    model: Annotated[bool, typer.Option(help="simulate the model ECL (needs [timeline])")] = True,
    paths: Annotated[int | None, typer.Option(min=2, help="paths per scenario")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="threads (default: all)")] = None,
    out: Annotated[Path, typer.Option(help="folder for ecl.csv and the other tables")] = Path(
        "ecl"),
) -> None:
    """Lifetime expected credit loss of the open invoices (IFRS 9 provision matrix)."""
    from datetime import date

    from rich.table import Table

    from portsim import provisions as prov
    from portsim.report.ecl import ecl_section, render_ecl_html

    try:
        dates = [date.fromisoformat(d) for d in as_of]
    except ValueError:
        raise typer.BadParameter(f"{as_of} are not dates YYYY-MM-DD",
                                 param_hint="--as-of") from None
    if not 1 <= len(set(dates)) == len(dates) <= 2:
        raise typer.BadParameter("give one or two different dates", param_hint="--as-of")
    with _errors():
        bounds = prov.parse_bounds(buckets)
        given = None if rates is None else prov.parse_rates(rates, prov.bucket_labels(bounds))
        options = prov.EclOptions(
            bounds=bounds, segment=segment, window_months=window_months,
            rates=None if given is None else tuple(given), write_off_days=write_off_days,
            model=model, n_paths=paths, threads=threads)
        results = prov.run_ecl(config, dates, history_path=history, scenarios=scenario or [],
                               options=options)
        written = prov.write_outputs(results, out)
        written.append(out / "report.html")
        written[-1].write_text(render_ecl_html(results), encoding="utf-8")
    con = _console()
    section = ecl_section(results)
    for caption, t in section.tables:
        shown = Table(title=caption)
        for i, head in enumerate(t.header):
            shown.add_column(head, justify="right" if i in t.numeric else "left")
        for row in t.rows:
            shown.add_row(*row)
        con.print(shown)
    con.print(section.text[0])
    con.print(f"wrote {', '.join(str(p) for p in written)}")


def _iso_date(text: str, flag: str = "--as-of") -> date:
    """The date ``text`` (YYYY-MM-DD), or a usage error of ``flag``."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=flag) from None


def _print_frame(con: Any, caption: str, frame: pd.DataFrame) -> None:
    """Print ``frame`` as a table, its index first; numbers to 4 significant digits."""
    from rich.table import Table

    shown = Table(title=caption)
    shown.add_column(str(frame.index.name or ""))
    for column in frame.columns:
        numeric = frame[column].dtype.kind in "fiu"
        shown.add_column(str(column), justify="right" if numeric else "left")
    for key, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        shown.add_row(str(key), *(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    con.print(shown)


@app.command("warn")
def warn_cmd(
    config: ConfigArg,
    as_of: Annotated[str, typer.Option("--as-of", help="score date YYYY-MM-DD: no data "
                                       "dated after it is used")],
    out: Annotated[Path | None, typer.Option(
        help="folder to create (default: a new one under [output] dir)")] = None,
) -> None:
    """Score each customer's 12-month PD and alert level from the credit files of [warn];
    write warnings.csv, model.json and book.csv (the book with the new PDs)."""
    from portsim.config import load_config
    from portsim.workflow.warn import WARN_FILES, run_warn

    day = _iso_date(as_of)
    with _errors():
        res = run_warn(load_config(config), day, out)
    w = res.warnings
    con = _console()
    _print_frame(con, f"alert levels as of {day}", w.groupby("level", sort=False).agg(
        customers=("pd", "size"), mean_pd=("pd", "mean"), max_pd=("pd", "max")))
    _print_frame(con, "highest PDs of the model (rules and responses: warnings.csv)",
                 w[w["pd_source"] == "model"].nlargest(8, "pd")[
                     ["pd", "grade", "level", "top_features"]])
    con.print(f"wrote {res.folder}: {', '.join(WARN_FILES)}\n"
              f"simulate on the new PDs: portsim run {config} --book {res.folder / 'book.csv'}")


@app.command("backtest")
def backtest_cmd(
    config: ConfigArg,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="end of the observed outcomes YYYY-MM-DD (default: [timeline] "
        "as_of, else the latest date in the credit files)")] = None,
    out: Annotated[Path | None, typer.Option(
        help="folder to create (default: a new one under [output] dir)")] = None,
) -> None:
    """Walk-forward backtest of the PD model and the alert levels of [warn]: every month-end
    scored with the data known then; write backtest.csv and backtest.json."""
    from portsim.config import load_config
    from portsim.workflow.backtest import run_backtest

    end = None if as_of is None else _iso_date(as_of)
    with _errors():
        res = run_backtest(load_config(config), out, end)
    con = _console()
    m, scored = res.metrics["model"], res.metrics["scored"]
    con.print(f"scored {scored['rows']} customer-months at {scored['dates']} month-ends "
              f"({scored['first_date']} to {scored['last_date']}), {scored['defaults']} "
              f"followed by a default within 12 months\n"
              f"AUC {m['auc']:.3f} (95 % {m['auc_low']:.3f}–{m['auc_high']:.3f}), Gini "
              f"{m['gini']:.3f}, KS {m['ks']:.3f}, Brier {m['brier']:.4f}, Hosmer–Lemeshow "
              f"p {m['hosmer_lemeshow']['p_value']:.3g}, PSI {m['psi']:.3f}")
    _print_frame(con, "alert levels (signal: this level or worse)", res.metrics["levels"])
    _print_frame(con, "grades: Jeffreys test", res.metrics["grades"])
    con.print(f"wrote {res.folder}: backtest.csv, backtest.json, report.html")


@app.command("warmup")
def warmup_cmd() -> None:
    """Compile the kernels into numba's cache, so later runs (and workers) start at once."""
    from portsim.engine.warmup import warmup

    typer.echo(f"kernels ready in {warmup():.1f} s")


def main() -> None:
    """Entry point of the ``portsim`` script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
