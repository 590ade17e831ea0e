"""RunOptions: one object for how a run is made, checked once, with messages naming the option
(by field name in Python, by flag on the command line)."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import portsim
from portsim.cli import app
from portsim.workflow.options import DEFAULT_OPTIONS, RunOptions, RunOptionsError


@pytest.mark.parametrize(
    ("values", "option", "message"),
    [
        ({"threads": 2, "workers": 1}, "threads", "a Dask worker runs one thread"),
        ({"threads": 2, "scheduler": "tcp://h:8786"}, "threads", "a Dask worker runs one thread"),
        ({"workers": 2, "scheduler": "tcp://h:8786"}, "workers",
         "give workers or scheduler, not both"),
        ({"paths": 0}, "paths", "paths=0 must be at least 1"),
        ({"seed": -1}, "seed", "seed=-1 must be at least 0"),
        ({"threads": 0}, "threads", "threads=0 must be at least 1"),
        ({"workers": 0}, "workers", "workers=0 must be at least 1"),
    ],
)
def test_a_combination_that_cannot_run_is_refused(values: dict[str, Any], option: str,
                                                   message: str) -> None:
    with pytest.raises(RunOptionsError) as info:
        RunOptions(**values)
    assert isinstance(info.value, ValueError)
    assert info.value.option == option
    assert info.value.text() == message
    assert str(info.value) == f"{option}: {message}"


def test_the_command_line_names_the_flags() -> None:
    with pytest.raises(RunOptionsError) as info:
        RunOptions(workers=2, scheduler="tcp://h:8786", keep_chunks=True)
    assert info.value.text(lambda n: "--" + n) == "give --workers or --scheduler, not both"


def test_options_are_frozen_and_compare_by_value() -> None:
    opts = RunOptions(paths=100, seed=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.paths = 200  # type: ignore[misc]
    assert opts == RunOptions(paths=100, seed=3)
    assert DEFAULT_OPTIONS == RunOptions()
    assert not DEFAULT_OPTIONS.distributed
    assert RunOptions(scheduler="tcp://h:8786").distributed


def test_resolved_takes_what_is_not_given_from_the_config(make_config: Any) -> None:
    cfg = make_config(simulation={"paths": 5000, "seed": 11, "threads": 3})
    assert RunOptions().resolved(cfg) == RunOptions(paths=5000, seed=11, threads=3)
    assert RunOptions(paths=7, seed=0, threads=1).resolved(cfg) == RunOptions(
        paths=7, seed=0, threads=1)
    # a Dask run has no thread count: the config's is for in-process runs
    assert RunOptions(workers=2).resolved(cfg) == RunOptions(paths=5000, seed=11, workers=2)
    assert (RunOptions(paths=9).n_paths(cfg), RunOptions().run_seed(cfg)) == (9, 11)


def test_execution_record() -> None:
    assert RunOptions(threads=4).execution() == {"backend": "in-process", "threads": 4}
    assert RunOptions(workers=2).execution() == {"backend": "dask-local", "workers": 2}
    assert RunOptions(scheduler="tcp://h:1").execution() == {"backend": "dask",
                                                            "scheduler": "tcp://h:1"}


def test_portsim_run_checks_the_options_before_reading_anything(make_config: Any) -> None:
    cfg = make_config(book={"path": "no/such/book.csv"})  # would fail if it were read
    with pytest.raises(RunOptionsError, match="one thread"):
        portsim.run(cfg, threads=2, workers=1)
    assert portsim.RunOptions is RunOptions


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--threads", "2", "--workers", "2"], "Invalid value for --threads: a Dask worker runs "
                                                "one thread"),
        (["--workers", "2", "--scheduler", "tcp://h:8786"],
         "Invalid value for --workers: give --workers or --scheduler, not both"),
    ],
)
def test_cli_usage_errors_name_the_flag(tmp_path: Path, flags: list[str], message: str) -> None:
    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent("""
        name = "x"
        [book]
        path = "missing.csv"
    """), encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(config), "--out", str(out), *flags])
    assert res.exit_code == 2
    assert message in " ".join(res.stderr.replace("│", " ").split())
    assert not out.exists()
