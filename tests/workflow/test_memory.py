"""The memory a run needs: an upper bound of what a run allocates (measured with tracemalloc),
and a run too large for the machine refused before it starts, by ``run`` and ``validate``."""

from __future__ import annotations

import shutil
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portsim.cli import app
from portsim.config import RunConfig, load_config
from portsim.errors import ConfigError
from portsim.workflow import runner
from portsim.workflow.api import prepare, run_with, summarize
from portsim.workflow.memory import available_memory, estimate_memory, require_memory
from portsim.workflow.options import RunOptions

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "example.toml"


@pytest.fixture(scope="module")
def example() -> RunConfig:
    return load_config(EXAMPLE)


@pytest.fixture(scope="module")
def default_only(example: RunConfig) -> RunConfig:
    """The example without timeline, cash and insurance (its book and model as they are)."""
    book = example.book.model_copy(update={"invoices": None})
    return example.model_copy(update={"timeline": None, "insurance": None, "book": book})


def measured_peak(config: RunConfig, options: RunOptions) -> tuple[int, int]:
    """Peak bytes traced while a run and its summary are computed (kernels already compiled,
    inputs built before), and the nbytes of the run's Dataset."""
    book, _ = prepare(config)
    run_with(config, RunOptions(paths=300, threads=1), book=book)  # compiled before tracing
    tracemalloc.start()
    try:
        ds = run_with(config, options, book=book)
        summarize(ds)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, ds.nbytes


@pytest.mark.parametrize(
    ("which", "options"),
    [
        ("example", RunOptions(paths=3000, threads=2)),  # timeline, cash, three policies
        ("example", RunOptions(paths=3000, threads=2, contributions=False)),
        ("default_only", RunOptions(paths=60_000, threads=2)),
    ],
)
def test_the_estimate_bounds_what_a_run_allocates(
    request: pytest.FixtureRequest, which: str, options: RunOptions
) -> None:
    config: RunConfig = request.getfixturevalue(which)
    _, inputs = prepare(config)
    est = estimate_memory(inputs, config, options)
    peak, nbytes = measured_peak(config, options)
    assert peak <= est.total
    assert nbytes <= est.paths + est.series + est.customers  # what the Dataset keeps
    assert est.total < 10 * peak  # an upper bound, not a figure too large to mean anything


def test_more_memory_than_available_is_refused_with_the_estimate_and_the_fixes(
    example: RunConfig,
) -> None:
    options = RunOptions(paths=5_000_000, threads=2)
    _, inputs = prepare(example)
    est = estimate_memory(inputs, example, options)
    assert require_memory(inputs, example, options, available=est.total) == est
    with pytest.raises(ConfigError) as info:
        require_memory(inputs, example, options, available=est.total - 1)
    (problem,) = info.value.problems
    assert info.value.title == "run does not fit in memory"
    assert problem.what == "paths=5,000,000"
    assert problem.rule.startswith(f"needs {est.describe()}, but ")
    assert "series_budget_mb" in problem.fix
    assert "--workers" in problem.fix
    # the number of paths it proposes does fit
    fit = int(problem.fix.split("about ")[1].split(" fit")[0].replace(",", ""))
    assert 0 < fit < 5_000_000
    fewer = estimate_memory(inputs, example, RunOptions(paths=fit, threads=2))
    assert fewer.total <= est.total - 1


def test_available_memory_from_proc_meminfo_without_psutil(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        pytest.skip("no /proc/meminfo on this system")
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil raises ImportError
    got = available_memory()
    kib = next(int(line.split()[1]) for line in meminfo.read_text().splitlines()
               if line.startswith("MemAvailable:"))
    assert got is not None
    assert abs(got - kib * 1024) < 2**30  # read again a moment later: within 1 GiB


def test_a_huge_run_is_refused_within_a_second(tmp_path: Path) -> None:
    assert runner.run_folder is not None  # the run stack imported before the clock starts
    out = tmp_path / "huge"
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["run", str(EXAMPLE), "--paths", str(10**12),
                                      "--out", str(out)])
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 1
    assert elapsed < 1.0
    assert "run does not fit in memory" in result.stderr
    assert "paths=1,000,000,000,000 needs about" in result.stderr
    assert "of memory is available; run fewer paths (about" in result.stderr
    assert not out.exists()


def test_validate_reports_the_estimate_and_refuses_a_config_too_large(tmp_path: Path) -> None:
    ok = CliRunner().invoke(app, ["validate", str(EXAMPLE)])
    assert ok.exit_code == 0
    assert "\nmemory: about " in ok.stdout
    assert " for 20,000 paths (per-path outputs " in ok.stdout
    for name in ("example_book.csv", "example_invoices.csv"):
        shutil.copy(EXAMPLE.parent / name, tmp_path / name)
    text = EXAMPLE.read_text(encoding="utf-8").replace("paths = 20000 ",
                                                       "paths = 1_000_000_000 ")
    (tmp_path / "big.toml").write_text(text, encoding="utf-8")
    big = CliRunner().invoke(app, ["validate", str(tmp_path / "big.toml")])
    assert big.exit_code == 1
    assert "paths=1,000,000,000 needs about" in big.stderr
