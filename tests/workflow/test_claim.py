"""Run folders are claimed: one process at a time writes a folder, whatever the timing.

Races are run for real: two ``portsim run`` processes on one ``--out``, two processes and many
pairs of threads on :func:`portsim.workflow.claim.claim_new`. A lock left by a killed process
is left by a real ``SIGKILL``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import xarray as xr

from portsim.config import RunConfig, load_config
from portsim.errors import ConfigError
from portsim.workflow import runner
from portsim.workflow.claim import (
    FolderBusyError,
    FolderClaim,
    FolderExistsError,
    claim_auto,
    claim_existing,
    claim_new,
)
from portsim.workflow.folders import CHUNKS_DIR, LOCK, MARKER
from portsim.workflow.options import RunOptions
from portsim.workflow.runner import (
    Interrupted,
    resume_batch_folder,
    resume_folder,
    run_batch_folder,
    run_folder,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "example.toml"
CONFIG_TOML = """
name = "claim"
[book]
path = "book.csv"
[simulation]
paths = 2048
chunk_paths = 256
seed = 11
threads = 1
"""
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
CLI = [sys.executable, "-c", "from portsim.cli import main; main()"]
#: ``portsim`` that imports everything, says ``ready`` and waits for the file ``argv[1]`` to
#: appear before it reads its arguments: processes started at once then race on a level field.
GATED_CLI = [sys.executable, "-c", """
import sys, time
from pathlib import Path
import portsim.workflow.runner
from portsim.cli import main
print("ready", flush=True)
go = Path(sys.argv.pop(1))
while not go.exists():
    time.sleep(0.001)
main()
"""]
BUSY = "is being written by another portsim run"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A book of 60 customers in three sectors and a default-only config writing its run
    folders under ``tmp_path/runs``."""
    rows = [f"C{i:03d},{('retail', 'energy', 'transport')[i % 3]},DE,{1000 + 37 * i},"
            f"{0.005 + 0.001 * (i % 20):.3f},0.45" for i in range(60)]
    (tmp_path / "book.csv").write_text(
        "\n".join(["customer_id,sector,country,exposure,p_default,lgd", *rows]) + "\n",
        encoding="utf-8")
    path = tmp_path / "claim.toml"
    path.write_text(CONFIG_TOML + f'[output]\ndir = "{(tmp_path / "runs").as_posix()}"\n',
                    encoding="utf-8")
    return path


@pytest.fixture
def cfg(config_file: Path) -> RunConfig:
    return load_config(config_file)


def _interrupt_after(k: int) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        if done >= k:
            raise KeyboardInterrupt

    return progress


def _interrupted_run(cfg: RunConfig, out: Path) -> Path:
    with pytest.raises(Interrupted) as info:
        run_folder(cfg, out, progress=_interrupt_after(2))
    assert info.value.folder == out
    assert (out / MARKER).exists()
    assert not (out / LOCK).exists()  # an interrupted run lets its claim go
    return out


# ----------------------------------------------------------------------------- real races


def test_two_processes_on_one_out_exactly_one_wins(tmp_path: Path) -> None:
    """Two ``portsim run`` on one ``--out`` with seeds 1 and 2, let go together once both
    have imported everything: the winner then holds the folder for seconds (12,000 paths with
    a timeline), so the other always finds it taken."""
    out, go = tmp_path / "X", tmp_path / "go"
    procs = {seed: _start_gated(
        go, "run", str(EXAMPLE), "--paths", "12000", "--seed", str(seed), "-q", "--out",
        str(out)) for seed in (1, 2)}
    go.touch()
    done = {seed: (p.wait(timeout=600), *p.communicate()) for seed, p in procs.items()}
    codes = sorted(code for code, _, _ in done.values())
    assert codes == [0, 1], done
    winner = next(seed for seed, (code, _, _) in done.items() if code == 0)
    _, _, loser_err = next(v for v in done.values() if v[0] == 1)
    assert f"{out}: {BUSY} (pid " in loser_err
    assert "Traceback" not in loser_err
    # the winner's folder is whole and all of one run
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "contributions.csv", "results.nc", "run.json", "summary.csv",
        "summary.json"]
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert int(ds.attrs["seed"]) == winner
    assert json.loads((out / "summary.json").read_text())["provenance"]["seed"] == winner
    assert json.loads((out / "run.json").read_text())["seed"] == winner
    assert json.loads((out / "config.json").read_text())["simulation"]["seed"] == winner


def _start_gated(go: Path, *args: str) -> subprocess.Popen[str]:
    """A ``portsim`` process with ``args``, started and waiting for the file ``go``."""
    proc = subprocess.Popen([*GATED_CLI, str(go), *args], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def test_claim_new_race_between_threads_has_one_winner(tmp_path: Path) -> None:
    for k in range(40):
        folder = tmp_path / f"f{k}"
        gate = threading.Barrier(2)
        won: list[FolderClaim] = []
        lost: list[Exception] = []

        def claim(folder: Path = folder, gate: threading.Barrier = gate,
                  won: list[FolderClaim] = won, lost: list[Exception] = lost) -> None:
            gate.wait()
            try:
                won.append(claim_new(folder))
            except (FolderBusyError, FolderExistsError) as exc:
                lost.append(exc)

        threads = [threading.Thread(target=claim) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, (k, lost)
        assert len(lost) == 1, (k, lost)
        assert isinstance(lost[0], FolderBusyError), (k, lost)
        won[0].release()
        assert list(folder.iterdir()) == []


_CLAIMER = """
import sys, time
from pathlib import Path
from portsim.workflow.claim import claim_new, FolderBusyError
print("ready", flush=True)
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
try:
    claim = claim_new(Path(sys.argv[1]))
except FolderBusyError as exc:
    print("busy:", exc)
    sys.exit(1)
print("won")
time.sleep(3.0)  # still holding while the other process tries
claim.release()
"""


def test_claim_new_race_between_processes_has_one_winner(tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _CLAIMER, str(tmp_path / "X"), str(go)],
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:  # both imported and waiting at the gate
        assert p.stdout is not None
        assert p.stdout.readline() == "ready\n"
    go.touch()
    results = [(p.wait(timeout=120), p.communicate()[0]) for p in procs]
    assert sorted(code for code, _ in results) == [0, 1], results
    assert any("pid " in text and BUSY in text for _, text in results), results
    assert list((tmp_path / "X").iterdir()) == []


# ----------------------------------------------------------------------------- resumes


def test_a_folder_being_resumed_is_refused_to_a_second_resume(
    cfg: RunConfig, tmp_path: Path
) -> None:
    out = _interrupted_run(cfg, tmp_path / "run")
    with claim_existing(out):  # another process resuming it
        with pytest.raises(FolderBusyError, match=f"{BUSY} \\(pid {os.getpid()} on "):
            resume_folder(out)
        res = subprocess.run([*CLI, "run", "--resume", str(out), "-q"], env=ENV,
                             capture_output=True, text=True, timeout=600, check=False)
        assert res.returncode == 1
        assert f"error: folder in use: 1 problem(s)\n  - {out}: {BUSY}" in res.stderr
        assert (out / MARKER).exists()
    assert resume_folder(out).path == out
    assert not (out / MARKER).exists()


def test_a_lock_left_by_a_killed_process_does_not_block_a_resume(
    cfg: RunConfig, tmp_path: Path
) -> None:
    out = _interrupted_run(cfg, tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from portsim.workflow.claim import claim_existing; "
         "claim_existing(Path(sys.argv[1])); print('held', flush=True); time.sleep(600)",
         str(out)], env=ENV, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(FolderBusyError, match=f"pid {holder.pid} on "):
        resume_folder(out)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    holder.stdout.close()
    assert f"pid {holder.pid}" in (out / LOCK).read_text()  # the stale lock file stays...
    res = resume_folder(out)  # ...and does not block
    assert res.path == out
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_resume_removes_what_killed_writers_left(cfg: RunConfig, tmp_path: Path) -> None:
    out = _interrupted_run(cfg, tmp_path / "run")
    (out / ".results.tmp-99999-1.nc").write_bytes(b"half a file")
    (out / CHUNKS_DIR / ".chunk-000005.tmp-99999-1.npz").write_bytes(b"half a chunk")
    resume_folder(out, options=RunOptions(keep_chunks=True))
    left = [p.relative_to(out) for p in out.rglob("*") if "tmp" in p.name or p.name == LOCK]
    assert left == []


def test_a_finished_batch_is_not_resumed(
    cfg: RunConfig, tmp_path: Path
) -> None:
    out = tmp_path / "batch"
    run_batch_folder(cfg, [], out, options=RunOptions(paths=512))
    assert not (out / LOCK).exists()
    with pytest.raises(ConfigError, match="finished batch folder; nothing to resume"):
        resume_batch_folder(out)


def test_a_batch_folder_being_written_is_refused(cfg: RunConfig, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    with claim_new(out):
        with pytest.raises(FolderBusyError):
            run_batch_folder(cfg, [], out, options=RunOptions(paths=512))
    with pytest.raises(Interrupted):
        run_batch_folder(cfg, [], out, options=RunOptions(paths=1024),
                         progress=lambda name, done, total: _interrupt_after(2)(done, total))
    with claim_existing(out), pytest.raises(FolderBusyError):
        resume_batch_folder(out)
    res = resume_batch_folder(out)
    assert res.path == out
    assert not (out / MARKER).exists()


# ----------------------------------------------------------------------------- names


def test_auto_names_never_collide(cfg: RunConfig, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    stamped = tmp_path / "runs" / "claim-base-20261206-010203"  # two runs in one second
    monkeypatch.setattr(runner, "default_run_dir", lambda config: stamped)
    first = run_folder(cfg, options=RunOptions(paths=256)).path
    second = run_folder(cfg, options=RunOptions(paths=256)).path
    assert (first, second) == (stamped, stamped.with_name(stamped.name + "-2"))
    with claim_new(stamped.with_name(stamped.name + "-3")):  # being written: skipped too
        assert claim_auto(stamped).folder == stamped.with_name(stamped.name + "-4")


def test_two_processes_without_out_get_two_folders(config_file: Path, tmp_path: Path) -> None:
    procs = [subprocess.Popen([*CLI, "run", str(config_file), "-q"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    folders = {out.strip() for _, out, _ in results}
    assert len(folders) == 2
    assert {Path(f).parent for f in folders} == {tmp_path / "runs"}


# ----------------------------------------------------------------------------- failures


def test_a_run_failing_before_any_chunk_leaves_no_folder(
    cfg: RunConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(runner, "run_with", fail)
    with pytest.raises(MemoryError):
        run_folder(cfg, tmp_path / "new" / "run")
    assert not (tmp_path / "new" / "run").exists()
    given = tmp_path / "empty"
    given.mkdir()
    with pytest.raises(MemoryError):
        run_folder(cfg, given)
    assert list(given.iterdir()) == []  # an empty folder given as --out stays as it was


def test_an_unfinished_folder_is_not_taken_by_a_new_run(cfg: RunConfig, tmp_path: Path) -> None:
    out = _interrupted_run(cfg, tmp_path / "run")
    with pytest.raises(FolderExistsError, match=f"portsim run --resume {out}"):
        run_folder(cfg, out)
    (out / LOCK).write_text("pid 1 on gone since 2026-01-01\n")  # a killed run's lock
    with pytest.raises(FolderExistsError, match="holds an unfinished run"):
        run_folder(cfg, out)
