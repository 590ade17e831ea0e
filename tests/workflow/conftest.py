"""Fixtures of the workflow tests: a copy of the shipped example to edit."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
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


def _cut_credit_files(folder: Path, t: pd.Timestamp, paid_later: str) -> None:
    """Drop every row of the copied example credit files dated after ``t``; a payment after
    ``t`` is moved to ``paid_later`` (``""``: unpaid, its ``paid_amount`` blanked)."""
    h = pd.read_csv(folder / "example_credit_history.csv", dtype=str, keep_default_na=False)
    h = h[pd.to_datetime(h["issue_date"]) <= t].copy()
    late = (pd.to_datetime(h["paid_date"].replace("", None)) > t).to_numpy()
    h.loc[late, "paid_date"] = paid_later
    if not paid_later:
        h.loc[late, "paid_amount"] = ""
    h.to_csv(folder / "example_credit_history.csv", index=False)
    for name, column in (("example_statements.csv", "available_date"),
                         ("example_signals.csv", "date"),
                         ("example_defaults.csv", "default_date")):
        table = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        table[pd.to_datetime(table[column]) <= t].to_csv(folder / name, index=False)


@pytest.fixture
def cut_credit_files() -> Callable[[Path, pd.Timestamp, str], None]:
    """``cut(folder, t, paid_later)``: drop every row of the example credit files copied into
    ``folder`` dated after ``t``, and move the payments after ``t`` to ``paid_later``
    (``""``: unpaid)."""
    return _cut_credit_files
