"""Shared fixtures: small books and run configs built in Python (no files).

The factories are session fixtures (so Hypothesis tests may use them too):

* ``make_book(n=None, **columns)``: a book from columns, everything else defaulted;
* ``make_trade_book(n=40, seed=1, ...)``: a book with random exposures and annual sales, for
  runs with a payment timeline;
* ``make_config(base=None, model=..., simulation=..., **sections)``: a run config, the
  sections given updating those of ``base`` key by key;
* ``make_timeline_config(**sections)``: ``make_config`` on :data:`TIMELINE_BASE`, a 12-month
  timeline with zero payment delays and a company cash profile.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from functools import cache, partial
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from portsim.config import RunConfig
from portsim.data import Book, book_from_frame

BookFactory = Callable[..., Book]
ConfigFactory = Callable[..., RunConfig]
#: A column computed from the book's random generator and its exposures (n,).
Derived = Callable[[np.random.Generator, np.ndarray], Any]

AS_OF = "2026-12-31"

# Property tests are deterministic (derandomized, no example database) and short: a failure
# in CI is reproducible by running the same test again. Examples hold a simulation each, so
# there is no deadline; drawing a book of 30 customers is not "too slow".
settings.register_profile(
    "portsim", max_examples=20, deadline=None, derandomize=True, database=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("portsim")


TIMELINE_BASE: dict[str, Any] = {
    "simulation": {"paths": 400, "seed": 7, "chunk_paths": 128, "threads": 1},
    "timeline": {"as_of": AS_OF, "horizon_months": 12},
    "delays": {"mean_days": 0, "sd_days": 0, "noise_days": 0, "factor_sensitivity_days": 0},
    "company": {"opening_cash": 1e6, "credit_line": 5e5, "min_cash_buffer": 2e5,
                "fixed_outflows_monthly": 2e5, "cogs_share": 0.6, "dpo_days": 30,
                "dio_days": 20},
}
"""Sections of :func:`_make_timeline_config`: every invoice is paid on its due date."""


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


def _make_trade_book(
    n: int = 40, *, seed: int = 1, prefix: str = "C",
    exposure: tuple[float, float] = (1_000.0, 50_000.0),
    annual_sales: tuple[float, float] = (50_000.0, 500_000.0),
    derived: Mapping[str, Derived] | None = None, **columns: Any,
) -> Book:
    """A book of ``n`` customers trading on credit, drawn from ``default_rng(seed)``.

    Ids ``{prefix}000, …``; sectors alternate ``retail`` / ``construction`` (country DE);
    exposure and annual sales uniform on the given ranges (in cents); payment terms 30 days
    for every third customer, else 60; LGD 0.6, PD 0. ``derived`` columns are computed, in
    order, from the generator and the exposures, between the exposure and the sales draws;
    ``columns`` override or add any other column.
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    expo = rng.uniform(*exposure, n).round(2)
    extra = {name: f(rng, expo) for name, f in (derived or {}).items()}
    sales = rng.uniform(*annual_sales, n).round(2)
    cols: dict[str, Any] = {
        "customer_id": [f"{prefix}{k:03d}" for k in range(n)],
        "sector": np.where(i % 2 == 0, "retail", "construction"),
        "country": "DE",
        "exposure": expo,
        "p_default": 0.0,
        "lgd": 0.6,
        "payment_terms_days": np.where(i % 3 == 0, 30, 60),
        "annual_sales": sales,
        **extra,
        **columns,
    }
    return _make_book(n, **cols)


def _make_config(
    *, base: Mapping[str, Any] | None = None, model: dict[str, Any] | None = None,
    simulation: dict[str, Any] | None = None, **sections: Any,
) -> RunConfig:
    """A run config from ``base`` with the sections given: a section that is a table in both
    is updated key by key, anything else is set. ``simulation`` defaults to 1 thread so
    timings stay predictable."""
    data: dict[str, Any] = dict(base or {})
    given = {"model": model, "simulation": simulation, **sections}
    for key, value in given.items():
        if value is None and key in ("model", "simulation"):
            continue
        if isinstance(value, Mapping) and isinstance(data.get(key), Mapping):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    data.setdefault("model", {})
    data["simulation"] = {"threads": 1, **data.get("simulation", {})}
    return RunConfig.model_validate(data)


_make_timeline_config = partial(_make_config, base=TIMELINE_BASE)


@pytest.fixture(scope="session")
def make_book() -> BookFactory:
    """``make_book(n=None, **columns) -> Book`` (see :func:`_make_book`)."""
    return _make_book


@pytest.fixture(scope="session")
def make_trade_book() -> BookFactory:
    """``make_trade_book(n=40, seed=1, prefix="C", ...) -> Book`` (see
    :func:`_make_trade_book`)."""
    return _make_trade_book


@pytest.fixture(scope="session")
def make_config() -> ConfigFactory:
    """``make_config(base=None, model={...}, simulation={...}, **sections) -> RunConfig``."""
    return _make_config


@pytest.fixture(scope="session")
def make_timeline_config() -> ConfigFactory:
    """``make_timeline_config(**sections) -> RunConfig`` on :data:`TIMELINE_BASE`."""
    return _make_timeline_config


ROOT = Path(__file__).resolve().parents[1]


@cache
def _load_tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_tool() -> Callable[[str], ModuleType]:
    """``load_tool("make_book")``: a script of ``tools/`` imported as a module (once)."""
    return _load_tool


@pytest.fixture
def optbinning_module() -> Any:
    """The optbinning package (the ``warn-optimal`` extra): the test is skipped without it,
    unless ``PORTSIM_REQUIRE_OPTBINNING`` is set (``.ci/run`` installs the extra and sets it),
    when its absence fails."""
    if os.environ.get("PORTSIM_REQUIRE_OPTBINNING"):
        import optbinning

        return optbinning
    return pytest.importorskip("optbinning")
