"""Claims on run folders: one process at a time writes a run folder.

A run (or a resume) writes its folder only while it holds the folder's lock, an exclusive
:func:`fcntl.flock` on the file ``.lock`` inside it, taken without waiting. The operating
system releases the lock when its process ends, however it ends (Ctrl-C, a crash, an
out-of-memory kill), so a lock left by a killed run never blocks a ``--resume``; the file
itself holds who took it (pid, host, time), for the message of a process that finds it taken.
The file is removed when the claim is released, so a finished folder holds no lock.

Claiming a new folder (:func:`claim_new`) creates it when missing and refuses one that holds
anything but a lock file (:class:`FolderExistsError`, a usage error) or that another process
holds (:class:`FolderBusyError`); the check is made again once the lock is held, so of two
processes started together on one folder exactly one goes on. :func:`claim_auto` claims a
dated folder name, adding ``-2``, ``-3`` … when the name is taken, so two runs started in the
same second never share a folder. :func:`claim_existing` claims a folder to resume it and
removes the temporary files that a killed writer left behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from portsim.errors import InputError, Problem
from portsim.workflow.folders import CHUNKS_DIR, LOCK, is_incomplete, is_temporary

__all__ = [
    "FolderBusyError",
    "FolderClaim",
    "FolderExistsError",
    "claim_auto",
    "claim_existing",
    "claim_new",
    "refuse_taken",
]

_ATTEMPTS = 1000  # numbered names tried by claim_auto, and lock attempts of a moving file


class FolderBusyError(InputError):
    """The folder is being written by another process (its lock is held)."""

    def __init__(self, folder: Path, holder: str, fix: str) -> None:
        super().__init__([Problem(str(folder), "", f"is being written by another portsim "
                                  f"run ({holder})", fix)], title="folder in use")


class FolderExistsError(InputError):
    """A new run's folder already holds files (a usage error: choose another folder)."""

    def __init__(self, folder: Path) -> None:
        rule = "already exists and is not empty"
        fix = "choose another --out, or remove the folder"
        if is_incomplete(folder):
            rule = "already exists and holds an unfinished run"
            fix = f"finish it with: portsim run --resume {folder}; or choose another --out"
        super().__init__([Problem(str(folder), "--out", rule, fix)], title="cannot run")


class FolderClaim:
    """The lock on one run folder, held until :meth:`release` (or the end of a ``with``).

    Parameters
    ----------
    folder : Path
        The claimed folder.
    fd : int
        Open descriptor of its lock file, holding the lock.
    created : bool
        The claim created the folder (so :meth:`discard` removes it, not only its content).
    """

    def __init__(self, folder: Path, fd: int, *, created: bool) -> None:
        self.folder = folder
        self.created = created
        self._fd: int | None = fd

    def release(self) -> None:
        """Remove the lock file and let the lock go; the folder stays as it is."""
        if self._fd is None:
            return
        (self.folder / LOCK).unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def discard(self) -> None:
        """Remove what was written into the folder (the folder too, if the claim created it)
        and let the lock go: for a run that failed before anything worth resuming."""
        if self.created:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            for p in self.folder.iterdir():
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.name != LOCK:
                    p.unlink()
        self.release()

    def __enter__(self) -> FolderClaim:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _lock(folder: Path) -> int | None:
    """An open descriptor holding the lock of ``folder`` (creating its lock file), or None
    when another process holds it."""
    path = folder / LOCK
    for _ in range(_ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n"
                     .encode())
            return fd
        os.close(fd)  # its holder released and removed the file meanwhile: lock the new one
    return None


def _holder(folder: Path) -> str:
    """Who holds the lock of ``folder``, as its lock file says. A holder that has just taken
    the lock writes its line a moment later: an empty file is read again for up to a second."""
    for _ in range(50):
        try:
            text = (folder / LOCK).read_text(encoding="utf-8").strip()
        except OSError:
            return "process unknown"
        if text:
            return text
        time.sleep(0.02)
    return "process unknown"


def _others(folder: Path) -> bool:
    """``folder`` holds something besides its lock file."""
    return any(p.name != LOCK for p in folder.iterdir())


def refuse_taken(folder: Path) -> None:
    """Refuse, before any work, a new run's folder that cannot be claimed.

    Reads only: a folder holding files but no lock file is finished (or not a run folder);
    one with a lock file is checked when it is claimed (:func:`claim_new`).

    Raises
    ------
    FolderExistsError
        When ``folder`` is a file, or a folder holding files and no lock file.
    """
    if folder.exists() and (not folder.is_dir()
                            or (_others(folder) and not (folder / LOCK).exists())):
        raise FolderExistsError(folder)


def claim_new(folder: Path) -> FolderClaim:
    """Claim ``folder`` for a new run: create it (and its parents) unless it is an empty folder.

    Raises
    ------
    FolderExistsError
        When it holds files (a finished run, an unfinished one, anything else).
    FolderBusyError
        When another process holds it.
    OSError
        When it cannot be created or its lock file cannot be written.
    """
    refuse_taken(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    fd = _lock(folder)
    if fd is None:
        raise FolderBusyError(folder, _holder(folder), "wait for it to finish or choose "
                              "another --out")
    claim = FolderClaim(folder, fd, created=created)
    if _others(folder):  # a run finished, or one was killed, since the first look
        claim.release()
        raise FolderExistsError(folder)
    return claim


def claim_auto(folder: Path) -> FolderClaim:
    """Claim ``folder``, or the first of ``folder-2``, ``folder-3`` … that is free.

    Raises
    ------
    FolderExistsError
        When none of a thousand names is free.
    OSError
        As :func:`claim_new`.
    """
    for k in range(1, _ATTEMPTS + 1):
        name = folder if k == 1 else folder.with_name(f"{folder.name}-{k}")
        try:
            return claim_new(name)
        except (FolderExistsError, FolderBusyError):
            continue
    raise FolderExistsError(folder)


def claim_existing(folder: Path) -> FolderClaim:
    """Claim an unfinished run folder to resume it, and remove the temporary files of
    writers that were killed (no other process can be writing it now).

    Raises
    ------
    FolderBusyError
        When another process holds it (a run or a resume still going).
    """
    fd = _lock(folder)
    if fd is None:
        raise FolderBusyError(
            folder, _holder(folder),
            f"wait for it to finish. A lock is let go when its process ends, however it "
            f"ends; if that process runs on another machine that was lost, delete "
            f"{folder / LOCK} and resume again")
    for sub in (folder, folder / CHUNKS_DIR):
        if sub.is_dir():
            for p in sub.iterdir():
                if is_temporary(p):
                    p.unlink()
    return FolderClaim(folder, fd, created=False)
