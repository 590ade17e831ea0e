"""The ``portsim`` command line.

Exit codes: 0 success, 1 invalid input (every problem is printed with where and why),
2 usage error. Heavy modules are imported inside the commands so ``--help`` answers fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Monte Carlo engine for the credit risk of a receivables book.",
    pretty_exceptions_enable=False,
)

ConfigArg = Annotated[Path, typer.Argument(help="run config (TOML), e.g. configs/example.toml")]
ScenarioOpt = Annotated[
    Path | None, typer.Option("--scenario", "-s", help="scenario file overlaid on the config")
]


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=1)


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:,.2f}bn"
    if ax >= 1e6:
        return f"{x / 1e6:,.2f}m"
    if ax >= 1e4:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.4g}"


def _print_summary(metrics: dict[str, Any], path: Path | None) -> None:
    from rich.console import Console
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
    con = Console()
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
    top = sorted(metrics["by_sector"], key=lambda s: -s["expected_loss"]["value"])[:5]
    con.print("largest sectors by expected loss: " + ", ".join(
        f"{s['sector']} {s['share_of_expected_loss']:.0%}" for s in top))
    if path is not None:
        con.print(f"run folder: {path}")


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
        "(pip install 'portsim[distributed]')")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="run on the Dask cluster with this scheduler address, e.g. tcp://host:8786")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="finish an interrupted run folder, computing only its missing chunks")] = None,
    keep_chunks: Annotated[bool, typer.Option(
        "--keep-chunks", help="keep the folder's chunks/ checkpoint after the run")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
) -> None:
    """Simulate a config and write a run folder (every chunk is checkpointed in it)."""
    from portsim.config import load_config
    from portsim.errors import InputError
    from portsim.runner import RunResult, default_run_dir, resume_folder, run_folder

    if config is None and resume is None:
        raise typer.BadParameter("give a CONFIG to run, or --resume RUN_DIR", param_hint="CONFIG")
    if config is None and scenario is not None:
        raise typer.BadParameter("a scenario needs the CONFIG it overlays", param_hint="--scenario")
    if resume is not None and out is not None:
        raise typer.BadParameter("--resume finishes the folder it names", param_hint="--out")
    if workers is not None and scheduler is not None:
        raise typer.BadParameter("give --workers or --scheduler, not both", param_hint="--workers")
    if threads is not None and (workers is not None or scheduler is not None):
        raise typer.BadParameter("a Dask worker runs one thread", param_hint="--threads")
    target = resume
    try:
        cfg = load_config(config, scenario) if config is not None else None
        if resume is None:
            assert cfg is not None
            target = out if out is not None else default_run_dir(cfg)

        def go(progress: Any) -> RunResult:
            if resume is not None:
                return resume_folder(resume, config=cfg, paths=paths, seed=seed,
                                     threads=threads, workers=workers, scheduler=scheduler,
                                     keep_chunks=keep_chunks, progress=progress)
            assert cfg is not None
            return run_folder(cfg, target, paths=paths, seed=seed, threads=threads,
                              workers=workers, scheduler=scheduler, keep_chunks=keep_chunks,
                              progress=progress)

        if quiet:
            res = go(None)
        else:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress("[progress.description]{task.description}", BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                          transient=True) as bar:
                task = bar.add_task("simulating chunks", total=None)

                def tick(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                res = go(tick)
    except InputError as exc:
        _fail(exc)
        return
    except KeyboardInterrupt:
        if target is not None and (target / ".incomplete").exists():
            typer.echo(f"interrupted; finish the run with: portsim run --resume {target}",
                       err=True)
        raise typer.Exit(code=130) from None
    if quiet:
        typer.echo(str(res.path))
    else:
        _print_summary(res.metrics, res.path)


@app.command("validate")
def validate_cmd(config: ConfigArg, scenario: ScenarioOpt = None) -> None:
    """Check a config and its book without simulating."""
    from portsim.api import prepare
    from portsim.config import load_config
    from portsim.errors import InputError

    try:
        cfg = load_config(config, scenario)
        book, inputs = prepare(cfg)
    except InputError as exc:
        _fail(exc)
        return
    typer.echo(
        f"ok: {book.n_customers} customers, {len(inputs.sector_names)} sectors, "
        f"{len(inputs.factor_names)} factors, total exposure {book.exposure.sum():,.2f} "
        f"{cfg.book.currency}, kernel {inputs.kernel}"
    )


@app.command("warmup")
def warmup_cmd() -> None:
    """Compile the kernels into numba's cache, so later runs (and workers) start at once."""
    from portsim.engine import warmup

    typer.echo(f"kernels ready in {warmup():.1f} s")


def main() -> None:
    """Entry point of the ``portsim`` script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
