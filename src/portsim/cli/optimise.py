"""``portsim optimise``: the risk budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from portsim.cli.common import ConfigArg, fmt_short, handled_errors, progress_bar, run_options


def optimise_cmd(
    config: ConfigArg,
    levers: Annotated[Path, typer.Option(
        help="levers file (TOML), e.g. configs/example_levers.toml")],
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s", help="stress scenario for the regret table; repeat it, or give a "
        "quoted pattern like 'scenarios/*.toml'")] = None,
    paths: Annotated[int | None, typer.Option(min=1, help="paths of each run")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="optimisation seed")] = None,
    validation_seed: Annotated[int | None, typer.Option(
        min=0, help="independent seed the chosen mixes are priced again on (default: seed + "
        "1)")] = None,
    stress_paths: Annotated[int | None, typer.Option(
        min=1, help="paths of each stress run (default: half of --paths)")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="threads (default: all)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder to create")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Spend a yearly risk budget on the mix of levers that lowers the objective most.

    Writes frontier.csv, chosen_mix.toml (a config overlay), report.html and more into a
    folder, and prints the recommendation."""
    import textwrap

    from portsim.config import load_config, load_levers
    from portsim.workflow.batch import expand_scenario_files
    from portsim.workflow.optimise import optimise_budget, write_optimise

    options = run_options(paths=paths, seed=seed, threads=threads)
    with handled_errors():
        cfg = load_config(config)
        lev = load_levers(levers)
        files = expand_scenario_files(scenario or [])
        with progress_bar(quiet, "simulating", remaining=False) as bar:
            res = optimise_budget(
                cfg, lev, options=options, validation_seed=validation_seed, scenarios=files,
                stress_paths=stress_paths, config_file=config,
                progress=None if bar is None else lambda d, t, title: bar(d, t, title))
        folder = write_optimise(res, cfg, out)
    s = res.summary

    def fmt(v: float) -> str:
        if s["metric"] in ("es", "cfar"):
            return f"{fmt_short(v)} {s['currency']}"
        return f"{v:.2%}" if s["metric"] == "line_breach" else f"{v:.4g}"

    def say(text: str) -> None:
        typer.echo(textwrap.fill(text, width=100, break_on_hyphens=False))

    say(s["text"])
    if res.stress is not None and not res.stress.empty:
        worst = res.stress.loc[res.stress["regret"].idxmax()]
        if worst["regret"] > 0:
            say(f"Under stress the largest regret is in {worst['scenario']}: "
                f"{fmt(worst['objective_chosen'])} against {fmt(worst['objective_best'])} "
                f"for the best mix there ({worst['best_mix']}).")
        else:
            say(f"The chosen mix is also the best within the budget under each of the "
                f"{len(res.stress)} stress scenarios.")
    typer.echo(f"frontier: {len(res.frontier)} budgets; the chosen mix as a config overlay: "
               f"{folder / 'chosen_mix.toml'}")
    typer.echo(f"wrote {folder}")
