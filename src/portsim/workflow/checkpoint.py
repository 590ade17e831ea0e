"""Checkpoints: every finished chunk of a run is kept in its run folder, so nothing is lost.

A run folder that is being simulated holds::

    RUN_DIR/.incomplete         marker: the folder is not a finished run (a note says how to resume)
    RUN_DIR/config.json         the resolved config (written by the runner at the start)
    RUN_DIR/checkpoint.json     manifest: what the chunks belong to (see :class:`RunIdentity`)
    RUN_DIR/chunks/chunk-000123.npz   one file per finished chunk (its index in the run)

Each chunk file is written under a temporary name and renamed (:func:`os.replace`), so a file
that exists is whole, and a process killed at any moment (Ctrl-C, a lost worker, a killed
driver) leaves only whole chunks behind. Files are not ``fsync``-ed: a power cut may lose the
chunks written in the last seconds, never corrupt the result (a missing chunk is recomputed).
Resuming (``portsim run --resume RUN_DIR``) loads the finished chunks and computes only the
others; because a chunk's result depends only on the inputs, the seed and its path range, the
result is identical to that of an uninterrupted run.

A chunk file stores every field of :class:`portsim.engine.chunk.ChunkResult` by name (arrays as
they are, scalars as 0-d arrays, ``None`` listed), read through :func:`dataclasses.fields`, so
fields added to ``ChunkResult`` are kept without changes here. Only the process that holds the
folder's claim (:mod:`portsim.workflow.claim`) writes or resumes it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from portsim import __version__
from portsim.engine.chunk import ChunkResult, chunk_ranges
from portsim.errors import ConfigError, Problem
from portsim.workflow.folders import (
    CHUNKS_DIR,
    MANIFEST,
    RUN_FILE,
    is_incomplete,
    mark_incomplete,
    unmark_incomplete,
    write_atomic,
    write_text_atomic,
)

__all__ = ["Checkpoint", "RunIdentity"]

_FORMAT = 2  # 2: config_hash leaves out the paths and seed (checked on their own)
_META = "__portsim_meta__"


@dataclass(frozen=True)
class RunIdentity:
    """What a run's chunks depend on; a resume must match it exactly.

    Parameters
    ----------
    config_hash : str
        :func:`portsim.config.config_hash` of the resolved config with ``simulation.paths``
        and ``seed`` at fixed values (they are checked on their own).
    book_sha256 : str
        ``Book.sha256`` of the book simulated.
    seed, n_paths, chunk_paths : int
        The run's seed, number of paths and paths per chunk.
    input_sha256 : dict of str to str
        SHA-256 of every input file the config names (book, invoices …), by path.
    portsim_version : str
        Chunks of another version are not mixed in (the kernels may differ).
    """

    config_hash: str
    book_sha256: str
    seed: int
    n_paths: int
    chunk_paths: int
    input_sha256: dict[str, str] = field(default_factory=dict)
    portsim_version: str = __version__

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The run's chunks, ``[(start, stop), ...]``
        (:func:`portsim.engine.chunk.chunk_ranges`)."""
        return chunk_ranges(self.n_paths, self.chunk_paths)


_WHY = {
    "config_hash": "the config differs from the one the run was started with",
    "book_sha256": "the book differs from the one the run was started with",
    "seed": "the seed differs",
    "n_paths": "the number of paths differs",
    "chunk_paths": "the chunk size differs",
    "input_sha256": "an input file changed since the run started",
    "portsim_version": "the run was started by another portsim version",
}


def _short(value: Any) -> Any:
    """Long hashes shown by their first 12 characters."""
    if isinstance(value, str) and len(value) > 20:
        return value[:12] + "…"
    if isinstance(value, dict):
        return f"{len(value)} file hash(es)"
    return value


class Checkpoint:
    """The finished chunks of one run, kept in its run folder.

    Implements :class:`portsim.engine.local.ChunkStore`: ``done`` / ``load`` / ``save`` by chunk
    start. Made for a new run (then :meth:`begin`) or by :meth:`open` (resume).
    """

    def __init__(self, run_dir: Path, identity: RunIdentity) -> None:
        self.run_dir = Path(run_dir)
        self.identity = identity
        self.chunk_dir = self.run_dir / CHUNKS_DIR
        self._ranges = identity.ranges
        self._index = {a: k for k, (a, _) in enumerate(self._ranges)}

    # ------------------------------------------------------------------ lifecycle

    def begin(self) -> None:
        """Mark the run folder (which must exist) incomplete and write the manifest."""
        mark_incomplete(
            self.run_dir,
            f"This run has not finished. Resume it with:\n  portsim run --resume {self.run_dir}\n",
        )
        self.chunk_dir.mkdir(exist_ok=True)
        self._write_manifest("running")

    @classmethod
    def open(cls, run_dir: str | Path) -> Checkpoint:
        """The checkpoint of an unfinished run folder.

        Raises
        ------
        ConfigError
            When the folder is missing, finished, or has no readable manifest.
        """
        run_dir = Path(run_dir)
        where = str(run_dir)
        if not run_dir.is_dir():
            raise ConfigError([Problem(where, "--resume", "is not a folder")],
                              title="cannot resume")
        path = run_dir / MANIFEST
        if not is_incomplete(run_dir):
            rule = ("is a finished run folder; nothing to resume" if (run_dir / RUN_FILE).exists()
                    else "is not an unfinished portsim run folder (no .incomplete marker)")
            raise ConfigError([Problem(where, "--resume", rule)], title="cannot resume")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            names = {f.name for f in fields(RunIdentity)}
            identity = RunIdentity(**{k: v for k, v in data.items() if k in names})
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                [Problem(str(path), "", f"cannot be read ({exc})",
                         "the run cannot be resumed; start it again")],
                title="cannot resume",
            ) from None
        return cls(run_dir, identity)

    def mismatches(self, identity: RunIdentity) -> list[Problem]:
        """Every way ``identity`` differs from the run's (empty when it may resume)."""
        problems = []
        mine = asdict(self.identity)
        for name, value in asdict(identity).items():
            was = mine[name]
            if was == value:
                continue
            if name == "input_sha256":
                changed = sorted(k for k in set(was) | set(value) if was.get(k) != value.get(k))
                what = ", ".join(changed)
            else:
                what = f"{name}={_short(value)}"
            problems.append(Problem(
                str(self.run_dir / MANIFEST), what,
                f"does not match the run's (was {_short(was)}): {_WHY[name]}",
                "resume with the original inputs, or start a new run",
            ))
        return problems

    def finish(self, *, keep_chunks: bool = False) -> None:
        """Mark the run finished: drop the marker and (unless kept) the chunks and manifest."""
        self._write_manifest("complete")
        unmark_incomplete(self.run_dir)
        if not keep_chunks:
            shutil.rmtree(self.chunk_dir, ignore_errors=True)
            (self.run_dir / MANIFEST).unlink(missing_ok=True)

    def _write_manifest(self, status: str) -> None:
        data = {
            "format": _FORMAT,
            "status": status,
            **asdict(self.identity),
            "n_chunks": len(self._ranges),
            "updated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_text_atomic(self.run_dir / MANIFEST, json.dumps(data, indent=2) + "\n")

    # ------------------------------------------------------------------ chunk store

    def _path(self, start: int) -> Path:
        return self.chunk_dir / f"chunk-{self._index[start]:06d}.npz"

    def done(self) -> set[int]:
        """Starts (first path index) of the chunks already kept."""
        out = set()
        for p in self.chunk_dir.glob("chunk-*.npz"):
            k = p.stem.removeprefix("chunk-")
            if k.isdigit() and int(k) < len(self._ranges):
                out.add(self._ranges[int(k)][0])
        return out

    def save(self, result: ChunkResult) -> None:
        """Keep a finished chunk (atomically: temporary file, then rename)."""
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, list[str]] = {"none": [], "scalar": []}
        for f in fields(result):
            value = getattr(result, f.name)
            if value is None:
                meta["none"].append(f.name)
            elif isinstance(value, np.ndarray):
                arrays[f.name] = value
            else:
                meta["scalar"].append(f.name)
                arrays[f.name] = np.asarray(value)
        arrays[_META] = np.asarray(json.dumps(meta))
        write_atomic(self._path(result.start),
                     lambda tmp: np.savez(tmp, allow_pickle=False, **arrays))

    def load(self, start: int) -> ChunkResult:
        """A kept chunk, exactly as it was saved.

        Raises
        ------
        ConfigError
            When the file cannot be read or holds another path range.
        """
        path = self._path(start)
        stop = self._ranges[self._index[start]][1]
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z[_META]))
                kw: dict[str, Any] = {name: None for name in meta["none"]}
                for f in fields(ChunkResult):
                    if f.name in z.files:
                        kw[f.name] = z[f.name].item() if f.name in meta["scalar"] else z[f.name]
            result = ChunkResult(**kw)
            if (result.start, result.stop) != (start, stop):
                raise ValueError(f"holds paths {result.start}..{result.stop - 1}, "
                                 f"expected {start}..{stop - 1}")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                [Problem(str(path), "", f"cannot be used ({exc})",
                         "delete the file and resume again: that chunk will be recomputed")],
                title="cannot resume",
            ) from None
        return result
