"""The random streams of portsim.kernels.rng: xoroshiro128++, uniforms, ziggurat normals, gammas.

Generators are driven through small ``@njit`` wrappers, as the kernels use them; the bit-level
tests are marked ``jitoff`` and also run as Python (``NUMBA_DISABLE_JIT=1``). Statistical
tolerances are 4 standard errors; KS and chi-square tests use the significance level
``P_MIN``; seeds are fixed.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest
from scipy import stats

from portsim.kernels.codes import Stream
from portsim.kernels.rng import (
    next_gamma,
    next_normal,
    next_open_uniform,
    next_u64,
    next_uniform,
    path_states,
)

P_MIN = 1e-4
Z = 4.0
MASK64 = (1 << 64) - 1


@nb.njit
def _u64s(s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i], s0, s1 = next_u64(s0, s1)
    return out


@nb.njit
def _uniforms(s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1 = next_uniform(s0, s1)
    return out


@nb.njit
def _open_uniforms(s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1 = next_open_uniform(s0, s1)
    return out


@nb.njit
def _normals(s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1 = next_normal(s0, s1)
    return out


@nb.njit
def _gammas(shape, s0, s1, n):  # type: ignore[no-untyped-def]
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1 = next_gamma(shape, s0, s1)
    return out


def state(seed: int, path: int = 0) -> tuple[np.uint64, np.uint64]:
    s = path_states(seed, path, path + 1, Stream.DEFAULT)[0]
    return s[0], s[1]


# ------------------------------------------------------------------------------------------
# xoroshiro128++ bit for bit
# ------------------------------------------------------------------------------------------


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK64


def xoroshiro128pp(s0: int, s1: int, n: int) -> list[int]:
    """Pure-Python xoroshiro128++ (Blackman & Vigna, prng.di.unimi.it/xoroshiro128plusplus.c)."""
    out = []
    for _ in range(n):
        out.append((_rotl((s0 + s1) & MASK64, 17) + s0) & MASK64)
        s1 ^= s0
        s0 = _rotl(s0, 49) ^ s1 ^ ((s1 << 21) & MASK64)
        s1 = _rotl(s1, 28)
    return out


def splitmix64(seed: int) -> tuple[int, int]:
    """Two SplitMix64 outputs, the usual way of seeding xoroshiro from one 64-bit word."""
    words = []
    for _ in range(2):
        seed = (seed + 0x9E3779B97F4A7C15) & MASK64
        z = seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        words.append(z ^ (z >> 31))
    return words[0], words[1]


@pytest.mark.jitoff
@pytest.mark.parametrize(
    ("s0", "s1"),
    [(1, 2), (MASK64, 1), (0x9E3779B97F4A7C15, 0xDEADBEEFCAFEF00D), (1 << 63, 0)],
)
def test_xoroshiro_matches_python_reference(s0: int, s1: int) -> None:
    got = _u64s(np.uint64(s0), np.uint64(s1), 10)
    assert [int(x) for x in got] == xoroshiro128pp(s0, s1, 10)


@pytest.mark.jitoff
def test_xoroshiro_matches_python_reference_on_seeded_states() -> None:
    for path in (0, 255, 256, 10_000):
        s0, s1 = state(2024, path)
        got = _u64s(s0, s1, 10)
        assert [int(x) for x in got] == xoroshiro128pp(int(s0), int(s1), 10)


@pytest.mark.jitoff
@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        # Published known-answer values "generated from reference implementation"
        # (Bitcoin Core, src/test/xoroshiro128plusplus_tests.cpp), state from SplitMix64.
        (0, [0x6F68E1E7E2646EE1, 0xBF971B7F454094AD, 0x48F2DE556F30DE38, 0x6EA7C59F89BBFC75]),
        (0x1A26F3FA8546B47A,
         [0xC8DC5E08D844AC7D, 0x5B5F1F6D499DAD1B, 0xBEB0031F93313D6F, 0xBFBCF4F43A264497]),
    ],
)
def test_xoroshiro_published_known_answers(seed: int, expected: list[int]) -> None:
    s0, s1 = splitmix64(seed)
    assert xoroshiro128pp(s0, s1, 4) == expected  # the Python reference itself is right
    assert [int(x) for x in _u64s(np.uint64(s0), np.uint64(s1), 4)] == expected


# ------------------------------------------------------------------------------------------
# uniforms
# ------------------------------------------------------------------------------------------


@pytest.mark.jitoff
def test_uniform_is_the_top_53_bits_and_open_uniform_the_top_52() -> None:
    s0, s1 = state(5)
    raw = _u64s(s0, s1, 1000)
    u = _uniforms(s0, s1, 1000)
    np.testing.assert_array_equal(u, (raw >> np.uint64(11)).astype(float) * 2.0**-53)
    uo = _open_uniforms(s0, s1, 1000)
    np.testing.assert_array_equal(uo, ((raw >> np.uint64(12)).astype(float) + 0.5) * 2.0**-52)


# The state (0, 2^64 - 1) makes xoroshiro128++ output 2^64 - 1, the largest possible draw:
# result = rotl(s0 + s1, 17) + s0 = rotl(2^64 - 1, 17) = 2^64 - 1.
ALL_ONES = (np.uint64(0), np.uint64(MASK64))


@pytest.mark.jitoff
def test_extreme_outputs_of_the_crafted_states() -> None:
    assert xoroshiro128pp(0, MASK64, 1) == [MASK64]
    assert int(_u64s(*ALL_ONES, 1)[0]) == MASK64


# The state (1, 2^64 − 2) makes it output 0, the smallest draw: s0 + s1 = 2^64 − 1, whose
# rotation is 2^64 − 1 again, plus s0 = 1 wraps to 0.
ALL_ZEROS = (np.uint64(1), np.uint64(MASK64 - 1))


@pytest.mark.jitoff
def test_uniform_at_the_smallest_output_is_zero_and_open_uniform_is_not() -> None:
    assert xoroshiro128pp(1, MASK64 - 1, 1) == [0]
    assert int(_u64s(*ALL_ZEROS, 1)[0]) == 0
    assert _uniforms(*ALL_ZEROS, 1)[0] == 0.0
    assert _open_uniforms(*ALL_ZEROS, 1)[0] == 2.0**-53  # (0 + ½)·2⁻⁵²


@pytest.mark.jitoff
def test_uniform_stays_below_one_at_the_largest_output() -> None:
    u = _uniforms(*ALL_ONES, 1)[0]
    assert u == 1.0 - 2.0**-53
    assert u < 1.0


@pytest.mark.jitoff
def test_open_uniform_stays_below_one_at_the_largest_output() -> None:
    u = _open_uniforms(*ALL_ONES, 1)[0]
    assert 0.0 < u < 1.0


def test_uniforms_are_uniform_on_unit_interval() -> None:
    n = 2_000_000
    u = _uniforms(*state(6), n)
    assert u.min() >= 0.0
    assert u.max() < 1.0
    assert abs(u.mean() - 0.5) < Z * math.sqrt(1 / 12 / n)
    assert stats.kstest(u, "uniform").pvalue > P_MIN
    uo = _open_uniforms(*state(7), n)
    assert uo.min() > 0.0
    assert uo.max() < 1.0
    # equidistribution of pairs (u_i, u_{i+1}) on a 16 × 16 grid: chi-square
    cells = (np.floor(u[0::2] * 16) * 16 + np.floor(u[1::2] * 16)).astype(np.int64)
    assert stats.chisquare(np.bincount(cells, minlength=256)).pvalue > P_MIN


# ------------------------------------------------------------------------------------------
# normals (ziggurat)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def normals() -> np.ndarray:
    return _normals(*state(20261128), 2_000_000)


def test_normal_mean_and_variance(normals: np.ndarray) -> None:
    n = normals.size
    assert abs(normals.mean()) < Z / math.sqrt(n)
    assert abs(normals.var(ddof=1) - 1.0) < Z * math.sqrt(2.0 / n)  # Var(s^2) = 2/n
    # skewness 0 (se sqrt(6/n)) and kurtosis 3 (se sqrt(24/n))
    assert abs(stats.skew(normals)) < Z * math.sqrt(6.0 / n)
    assert abs(stats.kurtosis(normals)) < Z * math.sqrt(24.0 / n)


def test_normal_ks(normals: np.ndarray) -> None:
    assert stats.kstest(normals, "norm").pvalue > P_MIN


@pytest.mark.parametrize("x", [-3.5, -2.0, 2.0, 3.5, 3.6])
def test_normal_tail_frequencies(normals: np.ndarray, x: float) -> None:
    # |x| = 3.6 lies beyond the ziggurat base strip (r = 3.4426): the tail algorithm.
    n = normals.size
    p = float(stats.norm.cdf(x)) if x < 0 else float(stats.norm.sf(x))
    freq = float((normals < x).mean() if x < 0 else (normals > x).mean())
    assert abs(freq - p) < Z * math.sqrt(p * (1 - p) / n), (x, freq, p)


def test_normal_streams_of_different_paths_are_uncorrelated() -> None:
    n = 200_000
    a = _normals(*state(1, 0), n)
    b = _normals(*state(1, 1), n)
    assert abs(np.corrcoef(a, b)[0, 1]) < Z / math.sqrt(n)
    # and consecutive draws of one stream neither
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < Z / math.sqrt(n)


# ------------------------------------------------------------------------------------------
# gamma
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [0.5, 3.0])
def test_gamma_mean_variance_and_ks(shape: float) -> None:
    n = 1_000_000
    g = _gammas(shape, *state(33), n)
    assert g.min() > 0.0
    # Gamma(k, 1): mean k, variance k; Var(s^2) ≈ (mu4 − sigma^4)/n with mu4 = 3k² + 6k.
    assert abs(g.mean() - shape) < Z * math.sqrt(shape / n)
    assert abs(g.var(ddof=1) - shape) < Z * math.sqrt((2 * shape**2 + 6 * shape) / n)
    assert stats.kstest(g, stats.gamma(shape).cdf).pvalue > P_MIN
