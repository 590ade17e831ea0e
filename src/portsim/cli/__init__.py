"""The ``portsim`` command line.

Exit codes: 0 success; 1 invalid input (every problem is printed with where and why), a file
or folder that cannot be read or written (one line: the path and the reason), or a run folder
that another run is writing; 2 usage error (a bad option value, an ``--out`` that already holds
files); 3 ``portsim stress`` did not reach its target; 130 interrupted. Heavy modules are
imported inside the commands so ``--help`` answers fast.
"""

from __future__ import annotations

import sys

import typer

from portsim.cli import books, optimise, run, stress, warmup

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Monte Carlo engine for the credit risk of a receivables book.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[book] path" stays as written
)

# ``--help`` lists the commands in this order.
for _name, _command in (("run", run.run_cmd), ("report", run.report_cmd),
                        ("export", run.export_cmd), ("validate", run.validate_cmd),
                        ("stress", stress.stress_cmd), ("optimise", optimise.optimise_cmd),
                        ("calibrate", books.calibrate_cmd),
                        ("ecl", books.ecl_cmd), ("warn", books.warn_cmd),
                        ("backtest", books.backtest_cmd), ("warmup", warmup.warmup_cmd)):
    app.command(_name)(_command)


def main() -> None:
    """Entry point of the ``portsim`` script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
