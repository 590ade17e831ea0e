"""Run folders: written by the runner through :mod:`portsim.workflow.folders`, read back by the
same module (the report reads through it too)."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from portsim.errors import ConfigError
from portsim.workflow import folders
from portsim.workflow.options import RunOptions
from portsim.workflow.runner import run_folder

SRC = Path(__file__).resolve().parents[2] / "src" / "portsim"


@pytest.fixture
def small_run(tmp_path: Path, make_book: Any, make_config: Any) -> Any:
    book = make_book(exposure=[100.0, 250.0, 80.0], p_default=[0.02, 0.05, 0.1],
                     lgd=[0.4, 0.5, 0.6], sector=["a", "b", "a"])
    cfg = make_config(simulation={"paths": 1000, "seed": 7, "chunk_paths": 256},
                      risk={"levels": [0.9, 0.99]})
    return run_folder(cfg, tmp_path / "run", book=book, options=RunOptions(keep_chunks=True)), cfg


def test_a_run_folder_is_read_back_as_it_was_written(small_run: Any) -> None:
    res, cfg = small_run
    names = {p.name for p in res.path.iterdir()}
    assert names == {folders.CONFIG_FILE, folders.RESULTS_FILE, folders.SUMMARY_JSON,
                     folders.SUMMARY_CSV, folders.RUN_FILE, folders.CONTRIBUTIONS_FILE,
                     folders.MANIFEST, folders.CHUNKS_DIR}  # keep_chunks: the checkpoint stays
    assert not folders.is_incomplete(res.path)
    assert not folders.is_batch_folder(res.path)

    run = folders.read_run(res.path)
    xr.testing.assert_identical(run.ds, res.dataset)
    assert run.path == res.path
    assert run.comparison is None
    assert run.config == json.loads(json.dumps(cfg.resolved()))
    assert (run.run_info["seed"], run.run_info["n_paths"]) == (7, 1000)
    assert run.run_info["execution"] == {"backend": "in-process", "threads": 1}
    assert run.provenance["seed"] == 7
    # summary.json holds the metrics as computed (non-finite numbers would be null)
    assert run.metrics == json.loads(json.dumps(folders.json_safe(res.metrics)))
    assert run.metrics["expected_loss"]["value"] == res.metrics["expected_loss"]["value"]

    ds, metrics = folders.read_results(res.path)
    assert np.array_equal(ds["loss"].values, res.dataset["loss"].values)
    assert metrics == run.metrics


def test_a_run_folder_builds_its_inputs_once(tmp_path: Path, make_book: Any, make_config: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The inputs checked before anything is written are the ones simulated: the book and
    config are checked and the inputs built once, and the run equals one without the check."""
    from portsim.workflow import api

    calls = []
    real = api.prepare
    monkeypatch.setattr(api, "prepare", lambda *a, **k: calls.append(1) or real(*a, **k))
    book = make_book(exposure=[100.0, 250.0], p_default=[0.02, 0.05], lgd=[0.4, 0.5])
    cfg = make_config(simulation={"paths": 500, "seed": 3})
    run = run_folder(cfg, tmp_path / "run", book=book)
    assert len(calls) == 1
    again = api.run_with(cfg, RunOptions(), book=book)
    np.testing.assert_array_equal(folders.read_results(run.path)[0]["loss"].values,
                                  again["loss"].values)


def test_a_batch_table_is_read_with_the_run(tmp_path: Path) -> None:
    ds = xr.Dataset({"loss": ("path", np.array([0.0, 1.5, 3.0]))})
    table = pd.DataFrame({"scenario": ["baseline", "recession"], "value": [1.0, 2.5]})
    metrics = {"expected_loss": {"value": 1.5, "se": math.nan}, "currency": "EUR"}
    folders.write_results(tmp_path, ds, {folders.COMPARISON_FILE: table},
                          {"metrics": metrics, "provenance": {"seed": 1}})
    folders.write_json(tmp_path / folders.CONFIG_FILE, {"name": "t"})
    run = folders.read_run(tmp_path)
    pd.testing.assert_frame_equal(run.comparison, table)
    assert run.metrics == {"expected_loss": {"value": 1.5, "se": None}, "currency": "EUR"}
    assert run.config == {"name": "t"}
    assert run.run_info == {}  # no run.json: empty, not an error
    assert any("holds no names" in n for n in run.notes)  # names come from results.nc only


def test_json_is_written_without_non_finite_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    folders.write_json(path, {"a": math.nan, "b": [1.0, -math.inf, (2, math.inf)], "c": "s"})
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": None, "b": [1.0, None,
                                                                             [2, None]], "c": "s"}
    assert folders.read_json(tmp_path / "absent.json", title="t") == {}
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read") as info:
        folders.read_json(tmp_path / "bad.json", title="cannot report")
    assert "cannot report" in str(info.value)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    def fail(p: Path) -> None:
        p.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        folders.write_atomic(tmp_path / "summary.csv", fail)
    assert list(tmp_path.iterdir()) == []


def test_read_run_refuses_what_is_not_a_complete_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder"):
        folders.read_run(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"results\.nc is missing"):
        folders.read_run(tmp_path)
    folders.mark_incomplete(tmp_path, "running\n")
    assert folders.is_incomplete(tmp_path)
    with pytest.raises(ConfigError, match="portsim run --resume"):
        folders.read_run(tmp_path)
    folders.unmark_incomplete(tmp_path)
    assert not folders.is_incomplete(tmp_path)


def _imported_names(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``from portsim… import name`` in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.module, a.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            and node.module.startswith("portsim") for a in node.names]


def test_the_command_line_imports_no_private_names() -> None:
    imported = [x for path in sorted((SRC / "cli").glob("*.py")) for x in _imported_names(path)]
    assert ("portsim.workflow.folders", "write_report") in imported  # the check sees imports
    assert [(m, n) for m, n in imported if n.startswith("_")] == []


def test_only_the_folders_module_names_run_folder_files() -> None:
    """No other module spells a run folder's file names (docstrings and messages aside)."""
    names = {folders.CONFIG_FILE, folders.RESULTS_FILE, folders.SUMMARY_JSON,
             folders.SUMMARY_CSV, folders.RUN_FILE, folders.CONTRIBUTIONS_FILE, folders.MARKER,
             folders.MANIFEST, folders.BATCH_FILE, folders.COMPARISON_FILE, folders.LOCK}
    for path in SRC.rglob("*.py"):
        if path == SRC / "workflow" / "folders.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals = {node.value for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        assert not literals & names, f"{path.relative_to(SRC)} names {literals & names}"
