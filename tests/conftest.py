"""Shared fixtures: small books and run configs built in Python (no files)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from portsim.config import RunConfig
from portsim.data import Book, book_from_frame

BookFactory = Callable[..., Book]
ConfigFactory = Callable[..., RunConfig]


def _make_book(n: int | None = None, **columns: Any) -> Book:
    """A validated book from columns (scalars are broadcast to ``n`` rows).

    Defaults: ids ``C000, C001, …``, sector ``"s"``, country ``"XX"``, exposure 1, lgd 1.
    """
    if n is None:
        n = max((len(v) for v in columns.values() if np.ndim(v) == 1), default=1)
    base: dict[str, Any] = {
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "sector": "s",
        "country": "XX",
        "exposure": 1.0,
        "lgd": 1.0,
    }
    base.update(columns)
    frame = pd.DataFrame({k: (list(v) if np.ndim(v) == 1 else [v] * n) for k, v in base.items()})
    return book_from_frame(frame)


def _make_config(
    *, model: dict[str, Any] | None = None, simulation: dict[str, Any] | None = None,
    **sections: Any,
) -> RunConfig:
    """A run config; ``simulation`` defaults to 1 thread so timings stay predictable."""
    return RunConfig.model_validate(
        {"model": model or {}, "simulation": {"threads": 1, **(simulation or {})}, **sections}
    )


@pytest.fixture(scope="session")
def make_book() -> BookFactory:
    """``make_book(n=None, **columns) -> Book`` (see :func:`_make_book`)."""
    return _make_book


@pytest.fixture(scope="session")
def make_config() -> ConfigFactory:
    """``make_config(model={...}, simulation={...}, **sections) -> RunConfig``."""
    return _make_config
