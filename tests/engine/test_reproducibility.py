"""Reproducibility: a path's draws depend on the seed and the path index only.

Same config and seed → the same Dataset, bit for bit, whatever the thread count or chunk size
(docs/design.md, "Randomness"); a single path simulated alone equals its row of a full run;
the seeding contract of :func:`portsim.kernels.rng.path_states` holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

import portsim
from portsim.data.book import Book
from portsim.engine.chunk import run_chunk
from portsim.inputs.model import build_inputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import (
    BLOCK_PATHS,
    N_STREAMS,
    path_states,
)

KERNELS = ["grouped", "per_customer"]
COPULAS = {"gaussian": {}, "student_t": {"copula": "student_t", "dof": 6.0}}
PATHS = 3_000  # 11.7 seeding blocks: chunks below cut blocks in the middle
SEED = 20261128
RUN_ATTRS = ("simulate_seconds", "chunk_paths")  # how the run was executed, not its result


@pytest.fixture(scope="module")
def book(make_book: Any) -> Book:
    """40 customers, 3 sectors × 2 countries, rating-like PDs (shared groups) and a few odd
    ones, non-dyadic exposures, Beta LGD on half: every kernel branch is exercised."""
    n = 40
    pds = np.array([0.002, 0.01, 0.03, 0.1] * 10)
    pds[::9] = [0.0137, 0.0561, 0.2, 0.0005, 0.077]
    return make_book(
        sector=np.array(["a", "b", "c", "a", "b"] * 8),
        country=np.array(["DE", "FR"] * 20),
        exposure=1234.567 * (1 + np.arange(n) % 9) / 7,
        p_default=pds,
        lgd=0.45,
        lgd_sd=np.where(np.arange(n) % 2 == 0, 0.2, 0.0),
        asset_correlation=np.where(np.arange(n) % 3 == 0, np.nan, 0.2),
    )


def config(make_config: Any, kernel: str, copula: str, **simulation: Any) -> Any:
    return make_config(
        model={"factors": "sector_country", "lgd_factor_sensitivity": 0.3,
               "correlation": {"default": 0.5}, **COPULAS[copula]},
        simulation={"paths": PATHS, "seed": SEED, "kernel": kernel, **simulation},
    )


def result(ds: xr.Dataset, drop: tuple[str, ...] = ()) -> xr.Dataset:
    """The Dataset without the attributes that record how the run was executed."""
    out = ds.drop_vars(list(drop))
    for key in RUN_ATTRS:
        out.attrs.pop(key, None)
    return out


def assert_same(a: xr.Dataset, b: xr.Dataset) -> None:
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values), name
    xr.testing.assert_identical(a, b)  # coords, attrs (provenance) and dtypes as well


@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_thread_count_does_not_change_results(
    kernel: str, copula: str, book: Book, make_config: Any
) -> None:
    cfg = config(make_config, kernel, copula, chunk_paths=256)
    one = portsim.run(cfg, book, threads=1)
    two = portsim.run(cfg, book, threads=2)
    assert one.attrs["kernel"] == kernel
    assert_same(result(one), result(two))


@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_chunk_size_does_not_change_results(
    kernel: str, copula: str, book: Book, make_config: Any
) -> None:
    runs = [portsim.run(config(make_config, kernel, copula, chunk_paths=c), book, threads=t)
            for c, t in ((100, 1), (1000, 2), (4096, 2))]
    # chunk_paths is a config key, so the config hash differs; nothing else may.
    for ds in runs:
        del ds.attrs["config_hash"]
    for other in runs[1:]:
        assert_same(result(runs[0]), result(other))


@pytest.mark.parametrize("kernel", KERNELS)
def test_different_seeds_give_different_paths(
    kernel: str, book: Book, make_config: Any
) -> None:
    cfg = config(make_config, kernel, "gaussian", chunk_paths=1000)
    a = portsim.run(cfg, book)
    b = portsim.run(cfg, book, seed=SEED + 1)
    assert b.attrs["seed"] == SEED + 1
    assert not np.array_equal(a["n_defaults"].values, b["n_defaults"].values)
    assert not np.array_equal(a["loss"].values, b["loss"].values)


def test_kernels_are_different_draws_of_the_same_model(book: Book, make_config: Any) -> None:
    a = portsim.run(config(make_config, "grouped", "gaussian"), book)
    b = portsim.run(config(make_config, "per_customer", "gaussian"), book)
    assert a.attrs["kernel"] == "grouped"
    assert b.attrs["kernel"] == "per_customer"
    assert not np.array_equal(a["loss"].values, b["loss"].values)


@pytest.mark.parametrize("copula", list(COPULAS))
@pytest.mark.parametrize("kernel", KERNELS)
def test_single_path_alone_equals_its_row(
    kernel: str, copula: str, book: Book, make_config: Any
) -> None:
    cfg = config(make_config, kernel, copula, chunk_paths=700)
    full = portsim.run(cfg, book)
    inputs = build_inputs(book, cfg)
    for k in (0, 1, 255, 256, 257, 699, 700, 1500, PATHS - 1):
        one = run_chunk(inputs, SEED, k, k + 1)
        assert (one.start, one.stop) == (k, k + 1)
        assert one.loss[0] == full["loss"].values[k], k
        assert one.n_defaults[0] == full["n_defaults"].values[k], k
        np.testing.assert_array_equal(one.sector_loss[0], full["sector_loss"].values[k])
        np.testing.assert_array_equal(one.sector_n_defaults[0],
                                      full["sector_n_defaults"].values[k])
        assert one.customer_n_defaults.sum() == one.n_defaults[0]


def test_any_range_of_paths_equals_the_same_rows(book: Book, make_config: Any) -> None:
    inputs = build_inputs(book, config(make_config, "per_customer", "student_t"))
    whole = run_chunk(inputs, SEED, 0, 1100)
    for a, b in ((0, 1), (100, 700), (255, 513), (512, 1100)):
        part = run_chunk(inputs, SEED, a, b)
        np.testing.assert_array_equal(part.loss, whole.loss[a:b])
        np.testing.assert_array_equal(part.sector_n_defaults, whole.sector_n_defaults[a:b])


# ------------------------------------------------------------------------------------------
# path_states: the seeding contract
# ------------------------------------------------------------------------------------------


def test_block_size_is_part_of_the_contract() -> None:
    assert BLOCK_PATHS == 256
    assert [int(s) for s in Stream] == [0, 1, 2, 3]
    assert max(Stream) < N_STREAMS


@pytest.mark.parametrize("stream", list(Stream))
def test_path_states_follow_the_documented_seed_sequence(stream: Stream) -> None:
    seed, n_blocks = 12345, 4
    states = path_states(seed, 0, n_blocks * BLOCK_PATHS, stream)
    assert states.shape == (n_blocks * BLOCK_PATHS, 2)
    assert states.dtype == np.uint64
    assert states.flags.c_contiguous
    children = np.random.SeedSequence(seed).spawn(n_blocks)
    for b in range(n_blocks):
        words = children[b].generate_state(2 * N_STREAMS * BLOCK_PATHS, np.uint64)
        expected = words.reshape(BLOCK_PATHS, N_STREAMS, 2)[:, stream, :]
        np.testing.assert_array_equal(states[b * BLOCK_PATHS : (b + 1) * BLOCK_PATHS], expected)
        # spawn_key=(b,) is the same sequence
        alone = np.random.SeedSequence(seed, spawn_key=(b,))
        np.testing.assert_array_equal(
            alone.generate_state(2 * N_STREAMS * BLOCK_PATHS, np.uint64), words)


def test_a_path_gets_the_same_state_whatever_the_range() -> None:
    seed = 7
    full = path_states(seed, 0, 1000, Stream.DEFAULT)
    for k in (0, 1, 254, 255, 256, 257, 511, 512, 999):
        np.testing.assert_array_equal(path_states(seed, k, k + 1, Stream.DEFAULT)[0], full[k])
    for a, b in ((0, 256), (100, 700), (255, 257), (256, 512), (300, 1000)):
        np.testing.assert_array_equal(path_states(seed, a, b, Stream.DEFAULT), full[a:b])
    # ranges far out: block index only
    far = path_states(seed, 10**6, 10**6 + 300, Stream.DEFAULT)
    np.testing.assert_array_equal(far[10:20], path_states(seed, 10**6 + 10, 10**6 + 20, 0))


def test_path_states_are_distinct_and_never_zero() -> None:
    streams = [path_states(99, 0, 2 * BLOCK_PATHS, s) for s in range(N_STREAMS)]
    other_seed = path_states(100, 0, 2 * BLOCK_PATHS, Stream.DEFAULT)
    everything = np.concatenate([*streams, other_seed])
    assert np.unique(everything, axis=0).shape[0] == everything.shape[0]
    assert not np.any((everything[:, 0] == 0) & (everything[:, 1] == 0))
