"""Fixtures of the workflow tests: a copy of the shipped example to edit."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """``copy(config)``: the shipped configs and tables copied into a fresh folder under
    ``tmp_path``; returns the copy of ``config`` (e.g. ``"example_warn.toml"``)."""
    count = iter(range(1_000_000))

    def copy(config: str) -> Path:
        folder = tmp_path / f"configs{next(count)}"
        folder.mkdir()
        for path in CONFIGS.iterdir():
            if path.suffix in (".toml", ".csv"):
                shutil.copy(path, folder / path.name)
        return folder / config

    return copy
