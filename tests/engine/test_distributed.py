"""Dask runs and checkpoints: same answer everywhere, nothing lost, clear errors.

The Dask tests start real ``LocalCluster``s of spawned worker processes: one module-wide
cluster of two workers (reached through ``scheduler=ADDRESS``, as a user of a shared cluster
would), and one of a single worker started by ``portsim run --workers 1``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import distributed
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import portsim
import portsim.engine.local
from portsim.cli import app
from portsim.config import RunConfig, load_config
from portsim.engine.distributed import MissingExtraError, open_client
from portsim.errors import ConfigError, InputError
from portsim.inputs.model import ModelInputs
from portsim.workflow.folders import CHUNKS_DIR, MANIFEST, MARKER
from portsim.workflow.options import RunOptions
from portsim.workflow.runner import resume_folder, run_folder

pytestmark = pytest.mark.filterwarnings(
    # distributed times the creation of each nanny's scratch directory (in this process) and
    # warns past 1 s, which a loaded 2-core CI machine can reach; under filterwarnings = error
    # the warning would abort the cluster's start. It says nothing about portsim.
    "ignore:Creating scratch directories is taking a surprisingly long time:UserWarning"
)

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "configs" / "example_book.csv"
CHUNK = 1024  # a whole number of the engine's 256-path seeding blocks
N_CHUNKS = 24
N_PATHS = N_CHUNKS * CHUNK
CONFIG_TOML = f"""
name = "dist"
[book]
path = "{BOOK.as_posix()}"
[book.ratings]
AAA = 0.0001
AA = 0.0002
A = 0.0006
BBB = 0.002
BB = 0.008
B = 0.03
CCC = 0.15
[model.correlation]
default = 0.5
[simulation]
paths = {N_PATHS}
chunk_paths = {CHUNK}
seed = 4242
"""


def _timeless(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k != "simulate_seconds"}
    return out


def _assert_same(a: xr.Dataset, b: xr.Dataset) -> None:
    """Identical data and attrs (timing aside), and bit-identical per-path losses."""
    xr.testing.assert_identical(_timeless(a), _timeless(b))
    assert np.array_equal(a["loss"].values, b["loss"].values)


def _interrupt_after(k: int) -> Callable[[int, int], None]:
    """A progress callback that acts as a Ctrl-C once ``k`` chunks are done."""

    def progress(done: int, total: int) -> None:
        if done >= k:
            raise KeyboardInterrupt

    return progress


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "dist.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cfg(config_file: Path) -> RunConfig:
    return load_config(config_file)


@pytest.fixture(scope="module")
def reference(cfg: RunConfig) -> xr.Dataset:
    """The in-process result every other way of running must reproduce."""
    return portsim.run(cfg, threads=2)


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.Client]:
    """A local cluster of two spawned workers, shared by the module's tests."""
    with open_client(workers=2) as client:
        yield client


def _address(client: distributed.Client) -> str:
    return str(client.scheduler.address)


def _worker_facts() -> dict[str, object]:
    """How a worker process was set up; ``warm``: a kernel variant no test task uses is
    compiled, so the worker plugin's warmup ran (tasks here use the grouped kernel only)."""
    import numba
    import psutil

    from portsim.kernels import defaults as kernels

    return {
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "spawned": "spawn_main" in " ".join(psutil.Process().cmdline()),
        "warm": len(kernels.default_losses_per_customer.signatures) > 0,
    }


SET_UP = {"numba_threads": 1, "spawned": True, "warm": True}


# ----------------------------------------------------------------------------- same answer


def test_two_workers_agree_with_in_process(
    cluster: distributed.Client, cfg: RunConfig, reference: xr.Dataset
) -> None:
    workers = cluster.scheduler_info()["workers"]
    assert [w["nthreads"] for w in workers.values()] == [1, 1]
    assert list(cluster.run(_worker_facts).values()) == [SET_UP, SET_UP]
    seen: list[tuple[int, int]] = []
    ds = portsim.run(cfg, scheduler=_address(cluster),
                     progress=lambda done, total: seen.append((done, total)))
    _assert_same(ds, reference)
    assert seen == [(k, N_CHUNKS) for k in range(1, N_CHUNKS + 1)]


def test_cli_workers_starts_a_local_cluster(
    config_file: Path, reference: xr.Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(config_file), "--workers", "1", "--out", str(out),
                                   "-q"])
    assert res.exit_code == 0, res.output
    # the nanny puts it into this process's environment to spawn the worker; it is taken back
    assert "NUMBA_NUM_THREADS" not in os.environ
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        _assert_same(ds.load(), reference)
    run_info = json.loads((out / "run.json").read_text())
    assert run_info["execution"] == {"backend": "dask-local", "workers": 1}
    assert not (out / MARKER).exists()
    assert not (out / CHUNKS_DIR).exists()


def test_timeline_outputs_survive_checkpoint_and_dask(
    cluster: distributed.Client, tmp_path: Path
) -> None:
    """Every ChunkResult field (arrays, float32 series, None) goes through files and Dask."""
    cfg = load_config(ROOT / "configs" / "example.toml")
    assert cfg.timeline is not None, "this test needs the example's [timeline]"
    cfg = cfg.with_updates(simulation={"paths": 1280, "chunk_paths": 256})
    expected = portsim.run(cfg, threads=2)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_folder(cfg, out, options=RunOptions(threads=1), progress=_interrupt_after(2))
    # the config from config.json
    res = resume_folder(out, options=RunOptions(scheduler=_address(cluster)))
    _assert_same(res.dataset, expected)


# ----------------------------------------------------------------------------- nothing lost


def test_in_process_resume_computes_only_missing_chunks(
    cfg: RunConfig, reference: xr.Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_folder(cfg, out, options=RunOptions(threads=2), progress=_interrupt_after(3))
    assert (out / MARKER).exists()
    assert json.loads((out / MANIFEST).read_text())["status"] == "running"
    assert sorted(p.name for p in (out / CHUNKS_DIR).iterdir()) == [
        f"chunk-{k:06d}.npz" for k in range(3)
    ]
    assert not (out / "results.nc").exists()

    computed: list[int] = []
    real = portsim.engine.local.run_chunk

    def counting(inputs: ModelInputs, seed: int, start: int, stop: int) -> object:
        computed.append(start)
        return real(inputs, seed, start, stop)

    monkeypatch.setattr(portsim.engine.local, "run_chunk", counting)
    res = resume_folder(out, options=RunOptions(threads=2))
    assert sorted(computed) == [k * CHUNK for k in range(3, N_CHUNKS)]
    _assert_same(res.dataset, reference)
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "contributions.csv", "results.nc", "run.json", "summary.csv",
        "summary.json",
    ]
    assert json.loads((out / "run.json").read_text())["chunks_reused"] == 3


def test_dask_resume_recomputes_nothing_done(
    cluster: distributed.Client, cfg: RunConfig, reference: xr.Dataset, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_folder(cfg, out, options=RunOptions(scheduler=_address(cluster)),
                   progress=_interrupt_after(4))
    first = {p.name: p.stat() for p in (out / CHUNKS_DIR).glob("chunk-*.npz")}
    assert len(first) == 4  # each chunk is saved as its task finishes, before progress

    with distributed.get_task_stream(cluster) as stream:
        res = CliRunner().invoke(app, ["run", "--resume", str(out), "--scheduler",
                                       _address(cluster), "--keep-chunks", "-q"])
    assert res.exit_code == 0, res.output
    ran = [t for t in stream.data if str(t["key"]).startswith("portsim-chunk-")]
    assert len(ran) == N_CHUNKS - 4
    for name, st in first.items():  # the kept chunks were read, not written again
        now = (out / CHUNKS_DIR / name).stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert len(list((out / CHUNKS_DIR).glob("chunk-*.npz"))) == N_CHUNKS
    assert json.loads((out / MANIFEST).read_text())["status"] == "complete"
    assert not (out / MARKER).exists()
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        _assert_same(ds.load(), reference)


def test_killed_worker_is_replaced_and_result_unchanged(
    cluster: distributed.Client, cfg: RunConfig, reference: xr.Dataset
) -> None:
    pids = cluster.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed: list[int] = []

    def kill_once(done: int, total: int) -> None:
        if done == 3 and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    ds = portsim.run(cfg, scheduler=_address(cluster), progress=kill_once)
    assert killed == [victim]
    _assert_same(ds, reference)
    cluster.wait_for_workers(2, timeout=60)
    after = cluster.run(os.getpid)
    assert victim not in after.values()
    assert len(after) == 2
    # the replacement was spawned with one numba thread and warmed up by the plugin
    assert list(cluster.run(_worker_facts).values()) == [SET_UP, SET_UP]


def test_resume_refuses_other_inputs(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_bytes(BOOK.read_bytes())
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(CONFIG_TOML.replace(BOOK.as_posix(), book.as_posix()), encoding="utf-8")
    cfg = load_config(cfg_path)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_folder(cfg, out, options=RunOptions(threads=1), progress=_interrupt_after(1))

    runner = CliRunner()
    res = runner.invoke(app, ["run", "--resume", str(out), "--seed", "1", "--paths", "99"])
    assert res.exit_code == 1
    assert "seed=1 does not match" in res.output
    assert "n_paths=99 does not match" in res.output

    other = cfg.with_updates(model={"lgd_factor_sensitivity": 0.5})
    with pytest.raises(ConfigError, match="config_hash="):
        resume_folder(out, config=other)

    book.write_bytes(book.read_bytes() + b"\n")  # same customers, other bytes: another file
    with pytest.raises(ConfigError, match=r"book\.path") as info:
        resume_folder(out)
    assert "book_sha256=" in str(info.value)
    assert (out / MARKER).exists()  # a refused resume leaves the folder as it was


def test_resume_of_a_finished_or_foreign_folder_is_refused(
    cfg: RunConfig, tmp_path: Path
) -> None:
    done = run_folder(cfg.with_updates(simulation={"paths": 500}), tmp_path / "done").path
    with pytest.raises(ConfigError, match="finished run folder"):
        resume_folder(done)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"no \.incomplete marker"):
        resume_folder(tmp_path / "empty")


# ----------------------------------------------------------------------------- errors


def test_missing_extra_is_named(cfg: RunConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "portsim.engine.distributed")
    # the re-imported module defines its error class anew: check by base class and name
    with pytest.raises(InputError, match=r"pip install 'portsim\[distributed\]'") as info:
        portsim.run(cfg, workers=1, paths=100)
    assert isinstance(info.value, ImportError)
    assert type(info.value).__name__ == MissingExtraError.__name__


def test_threads_with_dask_is_refused(cfg: RunConfig) -> None:
    with pytest.raises(ValueError, match="one thread"):
        portsim.run(cfg, threads=2, workers=1)


def test_missing_extra_exits_1_from_the_cli_and_leaves_no_folder(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "portsim.engine.distributed")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(config_file), "--workers", "2", "--out", str(out)])
    assert res.exit_code == 1
    assert "pip install 'portsim[distributed]'" in res.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a CONFIG"),
        (["{cfg}", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["{cfg}", "--workers", "2", "--threads", "2"], "one thread"),
        (["--resume", "{tmp}", "--out", "{tmp}"], "--resume finishes"),
    ],
)
def test_conflicting_options_are_usage_errors(
    args: list[str], message: str, config_file: Path, tmp_path: Path
) -> None:
    argv = ["run", *(a.format(cfg=config_file, tmp=tmp_path) for a in args)]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 2
    assert message in res.output
