"""``portsim stress``: the reverse stress test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from portsim.cli.common import ConfigArg, fmt_short, handled_errors, run_options, usage

#: ``portsim stress``: the target is not reached within the searched range.
EXIT_NOT_FOUND = 3


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

    options = run_options(paths=paths, seed=seed, threads=threads)
    tgt = usage(parse_target, "--target", target)
    with handled_errors():
        cfg = load_config(config, scenario)
        book = load_book(cfg)
    dirn = usage(parse_direction, "--direction", direction, cfg, book)

    def fmt(v: float, se: bool = False) -> str:
        if tgt.metric.startswith("p_"):
            return f"{v:.2%}"
        if tgt.metric in ("dso", "expected_defaults"):
            return f"{v:.2f}"
        return fmt_short(v, 2 if se else 4)

    def show(x: float, value: float, se: float, hit: bool) -> None:
        if not quiet:
            typer.echo(f"  {dirn.label} = {x:<10.6g} {tgt.label} = {fmt(value)} ± "
                       f"{fmt(se, True)}{'  (target hit)' if hit else ''}")

    if not quiet:
        typer.echo(f"searching {dirn.label} for {tgt.text} ...")
    with handled_errors():
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
