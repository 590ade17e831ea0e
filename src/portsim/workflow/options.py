"""How a run is made: :class:`RunOptions`, the one object the runners pass along.

The options override the config's ``[simulation]`` values (``paths``, ``seed``, ``threads``),
choose where the chunks run (in-process, a local Dask cluster of ``workers`` processes, or the
cluster at ``scheduler``), and say what a run folder keeps (``keep_chunks``) and whether the
tail contributions are computed (``contributions``). None of them changes a result except
``paths`` and ``seed``. Who watches a run (a progress callback) and where its chunks are kept
(a run folder's checkpoint) are not options: they are passed next to them.

The combination is checked once, when the object is made: :class:`RunOptionsError` names the
option to blame, in the words of the Python API or, through :meth:`RunOptionsError.text`, of
the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portsim.config import RunConfig

__all__ = ["DEFAULT_OPTIONS", "RunOptions", "RunOptionsError"]


class RunOptionsError(ValueError):
    """A value or combination of :class:`RunOptions` that cannot run.

    Parameters
    ----------
    names : tuple of str
        The options involved, the one to blame first (field names, e.g. ``"threads"``).
    rule : str
        What is wrong, with ``{0}``, ``{1}`` … where the options' names go.
    """

    def __init__(self, names: tuple[str, ...], rule: str) -> None:
        self.names = names
        self.rule = rule
        super().__init__(f"{names[0]}: {self.text()}")

    @property
    def option(self) -> str:
        """The option to blame."""
        return self.names[0]

    def text(self, name: Callable[[str], str] = str) -> str:
        """The rule with the options named by ``name`` (e.g. ``lambda n: "--" + n``)."""
        return self.rule.format(*(name(n) for n in self.names))


@dataclass(frozen=True)
class RunOptions:
    """What a run may change besides its config; the same for every runner.

    Parameters
    ----------
    paths : int, optional
        Number of paths (default: the config's ``simulation.paths``); at least 1.
    seed : int, optional
        The run's seed (default: the config's ``simulation.seed``); 0 or more.
    threads : int, optional
        Threads of an in-process run (default: the config's ``simulation.threads``, else all
        CPUs); not with ``workers`` or ``scheduler`` (a Dask worker runs one thread).
    workers : int, optional
        Run on a local Dask cluster of this many worker processes (needs
        ``pip install 'portsim[distributed]'``); see :mod:`portsim.engine.distributed`.
    scheduler : str, optional
        Run on the Dask cluster whose scheduler is at this address, e.g. ``"tcp://host:8786"``;
        not with ``workers``. Without either, the run stays in-process; the result is the same.
    keep_chunks : bool
        A run folder keeps ``chunks/`` and ``checkpoint.json`` after a successful run
        (default: delete them). Only the run-folder runners read it.
    contributions : bool
        Add the Euler contributions to VaR and ES by customer, sector and country and the
        concentration figures (a second pass over the tail paths; see
        :mod:`portsim.engine.attribution`). Default True; scenario batches and the reverse
        stress test run without them.

    Raises
    ------
    RunOptionsError
        For a value out of range or options that do not go together.
    """

    paths: int | None = None
    seed: int | None = None
    threads: int | None = None
    workers: int | None = None
    scheduler: str | None = None
    keep_chunks: bool = False
    contributions: bool = True

    def __post_init__(self) -> None:
        for name, low in (("paths", 1), ("seed", 0), ("threads", 1), ("workers", 1)):
            value = getattr(self, name)
            if value is not None and value < low:
                raise RunOptionsError((name,), f"{{0}}={value} must be at least {low}")
        if self.workers is not None and self.scheduler is not None:
            raise RunOptionsError(("workers", "scheduler"), "give {0} or {1}, not both")
        if self.threads is not None and self.distributed:
            raise RunOptionsError(("threads",), "a Dask worker runs one thread")

    @property
    def distributed(self) -> bool:
        """The run goes to Dask (``workers`` or ``scheduler`` given)."""
        return self.workers is not None or self.scheduler is not None

    def n_paths(self, config: RunConfig) -> int:
        """The number of paths: ``paths``, else the config's."""
        return self.paths if self.paths is not None else config.simulation.paths

    def run_seed(self, config: RunConfig) -> int:
        """The seed: ``seed``, else the config's."""
        return self.seed if self.seed is not None else config.simulation.seed

    def resolved(self, config: RunConfig) -> RunOptions:
        """These options with ``paths``, ``seed`` and (in-process) ``threads`` taken from the
        config where not given; ``threads`` stays None when the config leaves it to the
        number of CPUs."""
        threads = (self.threads if self.threads is not None or self.distributed
                   else config.simulation.threads)
        return replace(self, paths=self.n_paths(config), seed=self.run_seed(config),
                       threads=threads)

    def execution(self) -> dict[str, Any]:
        """Where the run went, for ``run.json``: backend and workers, scheduler or threads."""
        if self.workers is not None:
            return {"backend": "dask-local", "workers": self.workers}
        if self.scheduler is not None:
            return {"backend": "dask", "scheduler": self.scheduler}
        return {"backend": "in-process", "threads": self.threads}


#: No overrides: the config's paths, seed and threads, in-process, with contributions.
DEFAULT_OPTIONS = RunOptions()
