"""``portsim warmup``: the kernels compiled ahead of the first run."""

from __future__ import annotations

import typer


def warmup_cmd() -> None:
    """Compile the kernels into numba's cache, so later runs (and workers) start at once."""
    from portsim.engine.warmup import warmup

    typer.echo(f"kernels ready in {warmup():.1f} s")
