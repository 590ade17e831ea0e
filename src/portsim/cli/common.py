"""What every ``portsim`` command shares: the argument and option types, the exit codes of
input problems, the console, number formats, the run options, the progress bar and usage
errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from portsim.workflow.options import RunOptions

T = TypeVar("T")

ConfigArg = Annotated[Path, typer.Argument(help="run config (TOML), e.g. configs/example.toml")]
ScenarioOpt = Annotated[
    list[str] | None, typer.Option(
        "--scenario", "-s", help="scenario file overlaid on the config; repeat it, or give a "
        "quoted pattern like 'scenarios/*.toml', to run a batch compared on common random "
        "numbers")
]


@contextmanager
def handled_errors() -> Iterator[None]:
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


def console() -> Any:
    """A rich console; not a terminal: wide enough that no table is cut to 80 columns."""
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=100_000)


def fmt_amount(x: float | None) -> str:
    """``x`` with bn / m (2 decimals) or k (1 decimal, from 10k), else to 4 significant digits;
    None as an empty cell."""
    if x is None:
        return ""
    for low, div, suffix, digits in ((1e9, 1e9, "bn", 2), (1e6, 1e6, "m", 2), (1e4, 1e3, "k", 1)):
        if abs(x) >= low:
            return f"{x / div:,.{digits}f}{suffix}"
    return f"{x:,.4g}"


def fmt_short(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits with k / m / bn (for narrow tables)."""
    ax = abs(x)
    for div, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if ax >= div:
            return f"{float(f'{x / div:.{digits}g}'):g}{suffix}"
    return f"{float(f'{x:.{digits}g}'):g}"


def run_options(**values: Any) -> RunOptions:
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
def progress_bar(quiet: bool, title: str, *, remaining: bool
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


def usage(parse: Callable[..., T], flag: str, *args: Any) -> T:
    """``parse(*args)``; the input problems it raises are usage errors of ``flag``."""
    from portsim.errors import InputError

    try:
        return parse(*args)
    except InputError as exc:
        raise typer.BadParameter("; ".join(str(p).removeprefix(f"{flag}: ")
                                           for p in exc.problems), param_hint=flag) from None
