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
    top = sorted(metrics["by_sector"], key=lambda s: -s["expected_loss"]["value"])[:5]
    con.print("largest sectors by expected loss: " + ", ".join(
        f"{s['sector']} {s['share_of_expected_loss']:.0%}" for s in top))
    if path is not None:
        con.print(f"run folder: {path}")


@app.command("run")
def run_cmd(
    config: ConfigArg,
    scenario: ScenarioOpt = None,
    paths: Annotated[int | None, typer.Option(min=1, help="number of paths")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="random seed")] = None,
    out: Annotated[Path | None, typer.Option(help="run folder to create")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="threads (default: all)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
) -> None:
    """Simulate a config and write a run folder."""
    from portsim.config import load_config
    from portsim.errors import InputError
    from portsim.runner import run_folder

    try:
        cfg = load_config(config, scenario)
        if quiet:
            res = run_folder(cfg, out, paths=paths, seed=seed, threads=threads)
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

                res = run_folder(cfg, out, paths=paths, seed=seed, threads=threads,
                                 progress=tick)
    except InputError as exc:
        _fail(exc)
        return
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
