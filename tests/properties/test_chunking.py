"""The same config and seed give the same Dataset for any chunk size and thread count: chunks
hold whole 256-path seeding blocks and every sum is kept per block (``portsim.engine.gather``).
Default-only runs (timeline runs: ``tests/engine/test_timeline.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import portsim
from properties.strategies import book_columns, model_sections

PATHS = 700  # 2.7 seeding blocks: chunks cut blocks in the middle
# how the run was executed (chunk_paths is in the config, hence its hash), not its result
RUN_ATTRS = ("simulate_seconds", "chunk_paths", "config_hash")


def _result(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in RUN_ATTRS}
    return out


@given(cols=book_columns(), sections=model_sections(
    kernels=("grouped", "per_customer", "skip")),
    chunk=st.integers(1, 2 * PATHS), threads=st.integers(1, 3))
def test_chunk_size_and_threads_do_not_change_results(
    cols: dict[str, Any], sections: dict[str, Any], chunk: int,
    threads: int, make_book: Any, make_config: Any,
) -> None:
    book = make_book(**cols)
    cfg = make_config(base=sections, simulation={"paths": PATHS})
    one = portsim.run(cfg.with_updates(simulation={"chunk_paths": PATHS}), book, threads=1,
                      contributions=False)
    other = portsim.run(cfg.with_updates(simulation={"chunk_paths": chunk}), book,
                        threads=threads, contributions=False)
    assert np.array_equal(one["loss"].values, other["loss"].values)
    xr.testing.assert_identical(_result(one), _result(other))
