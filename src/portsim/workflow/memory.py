"""The memory a run needs, estimated before it starts, and the refusal of a run that does
not fit in the memory the machine has available.

What a run allocates (``n`` paths, ``S`` sectors, ``P`` reporting periods, ``V`` policy
variants with ``none``, ``L`` risk levels, ``N`` customers; 8 bytes a number):

* **per path**, kept to the end (:class:`~portsim.engine.gather.SimOutput`): loss, defaults,
  log weight, by sector, the timeline's scalars (:data:`~portsim.results.schema.
  TIMELINE_SCALARS`) and every policy's (:data:`~portsim.results.schema.POLICY_SCALARS`);
  counted twice (the Dataset's typed copies and the files written from it), plus the
  metrics' sorting and the tail attribution's weights per level;
* **series**: the per-path × period cash and receivables (float32) of a timeline run, at most
  ``[output] series_budget_mb`` (a subsample of paths beyond it), three times (the kept
  series, and the float64 copy and sort of one of them for the fan-chart bands);
* **chunks**: an in-process run holds at most ``IN_FLIGHT × threads`` chunks at a time
  (:mod:`portsim.engine.local`), each with its result and its kernels' working arrays
  (per path and period: the timeline's flows, the cash arithmetic, each policy's insurer
  cash). A Dask run's chunks work on the workers, but their results come back to this
  process, which in the worst case (the first chunk finishing last) holds all of them before
  they are gathered in order: that is counted instead; the workers' memory is not checked;
* **contributions**: the second pass simulates tail paths again in batches of
  ``batch_cells`` path × customer cells (:func:`portsim.engine.attribution.
  tail_contributions`), 24 bytes a cell;
* **per customer**: the Dataset's customer variables.

The estimate is an upper bound of what the run allocates beyond the inputs already built
(tests compare it with the allocations measured by ``tracemalloc``); it leaves out the
interpreter and the libraries already loaded, which the available memory has already lost.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

from portsim.config import RunConfig
from portsim.engine.attribution import BATCH_CELLS
from portsim.engine.chunk import aligned_chunk
from portsim.engine.local import IN_FLIGHT, default_threads
from portsim.errors import ConfigError, Problem
from portsim.inputs.model import ModelInputs
from portsim.results.schema import POLICY_SCALARS, SERIES, TIMELINE_SCALARS
from portsim.workflow.options import RunOptions

__all__ = [
    "MemoryEstimate",
    "available_memory",
    "estimate_memory",
    "format_bytes",
    "memory_report",
    "require_memory",
]

_F = 8  # bytes of a float64 or int64
#: Numbers per path and period a running chunk works with: the timeline kernel's outputs
#: (6 flows), the per-flow sums and squares (12), the cash arithmetic (24) and the series
#: (3); and per policy variant its insurer cash in and out (2).
_CHUNK_PER_PERIOD = 6 + 12 + 24 + 3
_CHUNK_PER_POLICY_PERIOD = 2
#: Numbers per path of the metrics (sorting, tail sums) and of the attribution (weights).
_METRICS_PER_PATH = 16
_ATTRIBUTION_PER_PATH = 10
_ATTRIBUTION_PER_LEVEL = 4
#: Bytes of a claim event (5 int64, amount, LGD), and the events per path the timeline
#: kernel makes room for besides twice the expected defaults (:func:`portsim.engine.calls.
#: timeline`): the room is working memory, the events (at most as many) are in the result.
_EVENT_BYTES = 7 * _F
_EVENTS_PER_PATH = 8
#: Numbers per claim event and policy variant of the claims pass (qualifying loss, indemnity
#: before and after recoveries, cents and their rounding), and per event (order, customer).
_CLAIM_PER_POLICY = 5
_CLAIM_PER_EVENT = 4


class MemoryEstimate(NamedTuple):
    """The memory a run needs, in bytes, by what it is for (see the module docstring)."""

    n_paths: int
    per_path: int  # bytes per path kept to the end
    series: int
    chunks: int
    contributions: int
    customers: int

    @property
    def paths(self) -> int:
        """Bytes of the per-path outputs: ``per_path × n_paths``."""
        return self.per_path * self.n_paths

    @property
    def total(self) -> int:
        """Bytes of every part."""
        return self.paths + self.series + self.chunks + self.contributions + self.customers

    def describe(self) -> str:
        """One line: the total and its parts."""
        parts = [("per-path outputs", self.paths), ("series", self.series),
                 ("chunks", self.chunks), ("contributions", self.contributions),
                 ("customers", self.customers)]
        shown = ", ".join(f"{name} {format_bytes(b)}" for name, b in parts if b)
        return f"about {format_bytes(self.total)} for {self.n_paths:,} paths ({shown})"


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``"1.5 GiB"``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    k = 0
    while abs(n) >= 1024 and k < len(units) - 1:
        n /= 1024
        k += 1
    return f"{n:,.0f} B" if k == 0 else f"{n:,.1f} {units[k]}"


def estimate_memory(
    inputs: ModelInputs, config: RunConfig, options: RunOptions
) -> MemoryEstimate:
    """The memory a run of ``inputs`` with ``options`` needs (an upper bound, bytes).

    Parameters
    ----------
    inputs : ModelInputs
        The run's built inputs.
    config : RunConfig
        Its ``simulation.chunk_paths``, ``output.series_budget_mb`` and ``risk.levels``.
    options : RunOptions
        Paths, threads, Dask or not, contributions or not.
    """
    opts = options.resolved(config)
    n = opts.n_paths(config)
    n_sec, n_cust = len(inputs.sector_names), inputs.n_customers
    tl, pol = inputs.timeline, inputs.insurance
    n_per = tl.n_periods if tl is not None else 0
    n_pol = pol.n_policies if pol is not None else 0
    outputs = _F * (3 + 2 * n_sec)  # loss, defaults, log weight; by sector
    result = outputs  # a chunk's result per path
    working = 0  # a running chunk's working arrays per path
    events = 0.0  # room for claim events per path
    if tl is not None:
        events = _EVENTS_PER_PATH + 2.0 * float(inputs.p_horizon.sum())
        outputs += _F * len(TIMELINE_SCALARS)
        result += (_F * len(TIMELINE_SCALARS) + 4 * len(SERIES) * n_per
                   + math.ceil(_EVENT_BYTES * events))
        working += _F * n_per * _CHUNK_PER_PERIOD + math.ceil(_EVENT_BYTES * events)
    if pol is not None:
        outputs += _F * n_pol * len(POLICY_SCALARS)
        result += _F * n_pol * len(POLICY_SCALARS)
        working += _F * (n_pol * n_per * _CHUNK_PER_POLICY_PERIOD + math.ceil(
            events * (_CLAIM_PER_POLICY * n_pol + _CLAIM_PER_EVENT)))
    n_levels = len(config.risk.levels)
    per_path = 2 * outputs + _F * _METRICS_PER_PATH
    if opts.contributions:
        per_path += _F * (_ATTRIBUTION_PER_PATH + _ATTRIBUTION_PER_LEVEL * n_levels)
    series = 0
    if tl is not None:
        row = 4 * len(SERIES) * n_per
        stride = max(1, -(-n * row // int(config.output.series_budget_mb * 2**20)))
        series = 3 * row * -(-n // stride)
    per_chunk_customer = _F * n_cust * (2 + 2 * n_pol)
    m = min(aligned_chunk(config.simulation.chunk_paths), n)
    if opts.distributed:  # results of every chunk may wait on this process (see above)
        n_chunks = -(-n // m)
        chunks = result * n + per_chunk_customer * n_chunks
    else:  # ``threads`` chunks running, the others of those in flight done and waiting
        threads = opts.threads or default_threads()
        in_flight = min(IN_FLIGHT * threads, -(-n // m))
        running = min(threads, in_flight)
        chunks = (in_flight * (result * m + per_chunk_customer)
                  + running * working * m)
    contributions = 3 * _F * min(BATCH_CELLS, n * n_cust) if opts.contributions else 0
    customers = _F * n_cust * (32 + 8 * n_pol)
    return MemoryEstimate(n_paths=n, per_path=per_path, series=series, chunks=chunks,
                          contributions=contributions, customers=customers)


def memory_report(est: MemoryEstimate) -> str:
    """The estimate and the memory available, in one line (``portsim validate``)."""
    free = available_memory()
    return est.describe() + (f"; {format_bytes(free)} available" if free is not None else "")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation without swapping: psutil's
    ``virtual_memory().available`` if installed, else ``MemAvailable`` of ``/proc/meminfo``;
    None where neither is known."""
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024  # kB
    return None


def require_memory(
    inputs: ModelInputs, config: RunConfig, options: RunOptions,
    available: int | None = None,
) -> MemoryEstimate:
    """The run's :func:`estimate_memory`; raise :class:`~portsim.errors.ConfigError` when it
    is above the ``available`` memory (default :func:`available_memory`; not checked when
    unknown), with the estimate, the memory available and the ways to fit.
    """
    est = estimate_memory(inputs, config, options)
    if available is None:
        available = available_memory()
    if available is None or est.total <= available:
        return est
    fit = max(0, (available - (est.total - est.paths)) // max(est.per_path, 1))
    fixes = [f"run fewer paths (about {fit:,} fit)" if fit else "run fewer paths"]
    if est.series:
        fixes.append("lower [output] series_budget_mb")
    if not options.distributed:
        fixes.append("lower [simulation] chunk_paths or --threads, or run the chunks on Dask "
                     "(--workers, --scheduler)")
    fixes.append("the per-path results always come back to this process: run it on a "
                 "machine with more memory")
    raise ConfigError([Problem(
        "run", f"paths={est.n_paths:,}",
        f"needs {est.describe()}, but {format_bytes(available)} of memory is available",
        "; ".join(fixes),
    )], title="run does not fit in memory")
