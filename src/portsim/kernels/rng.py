"""Random streams for the numba kernels.

Each path owns one xoroshiro128++ state (two ``uint64`` words) per purpose (defaults, LGD,
payment delays …). The states come from :class:`numpy.random.SeedSequence`: paths are grouped
in blocks of :data:`BLOCK_PATHS`; block ``b`` is seeded by ``SeedSequence(seed,
spawn_key=(b,))`` — the same sequence as ``SeedSequence(seed).spawn(n)[b]`` — and its
``generate_state`` gives every path of the block its words. A path's draws therefore depend on
nothing but the seed and the path index: not on chunk size, threads, workers or finishing order.

The generator functions inline into the kernels (:func:`portsim.kernels.jit.kernel`); each takes
the state words and returns the draw with the new words, so the state stays in registers. As
Python (``NUMBA_DISABLE_JIT=1``) the ``uint64`` words wrap modulo 2⁶⁴ exactly as compiled.

References
----------
Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47 (2021)
(xoroshiro128++). Marsaglia & Tsang, "The ziggurat method for generating random variables",
J. Stat. Softw. 5(8) (2000); the layer index is taken from bits other than the value's, as
Doornik (2005) recommends. Marsaglia & Tsang, "A simple method for generating gamma
variables", ACM TOMS 26(3) (2000).
"""

from __future__ import annotations

import math

import numpy as np

from portsim.kernels.codes import Stream
from portsim.kernels.jit import kernel

__all__ = [
    "BLOCK_PATHS",
    "N_STREAMS",
    "ZIG_FN",
    "ZIG_KN",
    "ZIG_WN",
    "all_path_states",
    "block_words",
    "path_states",
]

BLOCK_PATHS = 256
"""Paths per seeding block (part of the reproducibility contract: never change it)."""

N_STREAMS = 4
"""Streams reserved per path (:class:`~portsim.kernels.codes.Stream`); index 3 is the
suppliers' (it was generated, unused, before they existed, so no other stream moved)."""

_U64 = np.uint64
_MASK7 = np.uint64(127)
_TWO_M53 = 1.0 / 9007199254740992.0
_TWO_M52 = 1.0 / 4503599627370496.0


def path_states(seed: int, start: int, stop: int, stream: Stream) -> np.ndarray:
    """xoroshiro128++ states of paths ``start .. stop-1`` for one stream.

    Parameters
    ----------
    seed : int
        The run's seed (non-negative).
    start, stop : int
        Global path indices, ``0 <= start < stop``.
    stream : Stream
        Purpose of the stream.

    Returns
    -------
    ndarray, shape (stop - start, 2), dtype uint64
    """
    return all_path_states(seed, start, stop)[:, stream, :].copy()


def block_words(seed: int, block: int) -> np.ndarray:
    """xoroshiro128++ states of every path and stream of one 256-path seeding block.

    Returns
    -------
    ndarray, shape (BLOCK_PATHS, N_STREAMS, 2), dtype uint64
        From ``SeedSequence(seed, spawn_key=(block,))``; the all-zero state, the one that
        xoroshiro forbids, is replaced (SeedSequence words are hashed, so it does not occur in
        practice, but the guard costs nothing).
    """
    words = np.random.SeedSequence(seed, spawn_key=(int(block),)).generate_state(
        2 * N_STREAMS * BLOCK_PATHS, np.uint64
    ).reshape(BLOCK_PATHS, N_STREAMS, 2)
    zero = (words[..., 0] == 0) & (words[..., 1] == 0)
    words[..., 0][zero] = np.uint64(0x9E3779B97F4A7C15)
    return words


def all_path_states(seed: int, start: int, stop: int) -> np.ndarray:
    """The states of every stream of paths ``start .. stop-1`` at once.

    Each block's words are generated once for all its streams (generating them is most of the
    cost of seeding), so a chunk needing several streams pays once.

    Returns
    -------
    ndarray, shape (stop - start, N_STREAMS, 2), dtype uint64
        ``[:, stream, :]`` is what :func:`path_states` gives for that stream.
    """
    out = np.empty((stop - start, N_STREAMS, 2), dtype=np.uint64)
    b0, b1 = start // BLOCK_PATHS, (stop - 1) // BLOCK_PATHS
    for b in range(b0, b1 + 1):
        words = block_words(seed, b)
        lo, hi = max(start, b * BLOCK_PATHS), min(stop, (b + 1) * BLOCK_PATHS)
        out[lo - start : hi - start] = words[lo - b * BLOCK_PATHS : hi - b * BLOCK_PATHS]
    return out


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables of the 128-layer normal ziggurat (Marsaglia & Tsang 2000, RNOR)."""
    kn = np.zeros(128, dtype=np.int64)
    wn = np.zeros(128)
    fn = np.zeros(128)
    m1 = 2147483648.0
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


ZIG_KN, ZIG_WN, ZIG_FN = _ziggurat_tables()


@kernel(inline=True)
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << _U64(k)) | (x >> _U64(64 - k))


@kernel(inline=True)
def next_u64(s0: np.uint64, s1: np.uint64) -> tuple[np.uint64, np.uint64, np.uint64]:
    """One xoroshiro128++ step: ``(output, s0, s1)``."""
    result = _rotl(s0 + s1, 17) + s0
    s1 = s1 ^ s0
    s0 = _rotl(s0, 49) ^ s1 ^ (s1 << _U64(21))
    s1 = _rotl(s1, 28)
    return result, s0, s1


@kernel(inline=True)
def next_uniform(s0: np.uint64, s1: np.uint64) -> tuple[float, np.uint64, np.uint64]:
    """Uniform on [0, 1) with 53 random bits: ``(u, s0, s1)``."""
    r, s0, s1 = next_u64(s0, s1)
    return float(r >> _U64(11)) * _TWO_M53, s0, s1


@kernel(inline=True)
def next_open_uniform(s0: np.uint64, s1: np.uint64) -> tuple[float, np.uint64, np.uint64]:
    """Uniform on (0, 1) (never 0, safe for logs): ``(u, s0, s1)``."""
    r, s0, s1 = next_u64(s0, s1)
    # 52 bits + ½ is exact in a double, so the result is strictly inside (0, 1)
    return (float(r >> _U64(12)) + 0.5) * _TWO_M52, s0, s1


@kernel()
def _normal_tail(hz, iz, s0, s1):
    """Slow path of the ziggurat (about 2.7 % of draws: layer 1 and the strip edges)."""
    kn, wn, fn = ZIG_KN, ZIG_WN, ZIG_FN
    r = 3.442619855899
    while True:
        x = hz * wn[iz]
        if iz == 0:
            while True:
                u1, s0, s1 = next_open_uniform(s0, s1)
                u2, s0, s1 = next_open_uniform(s0, s1)
                x = -math.log(u1) / r
                y = -math.log(u2)
                if y + y >= x * x:
                    break
            return (r + x if hz > 0 else -r - x), s0, s1
        u, s0, s1 = next_uniform(s0, s1)
        if fn[iz] + u * (fn[iz - 1] - fn[iz]) < math.exp(-0.5 * x * x):
            return x, s0, s1
        w, s0, s1 = next_u64(s0, s1)
        hz = np.int64(np.int32(w >> _U64(32)))
        iz = np.int64(w & _MASK7)
        if abs(hz) < kn[iz]:
            return hz * wn[iz], s0, s1


@kernel(inline=True)
def next_normal(s0: np.uint64, s1: np.uint64):
    """Standard normal by the 128-layer ziggurat: ``(z, s0, s1)``.

    The value uses the upper 32 bits of one xoroshiro output, the layer its lowest 7 bits.
    The tables are module globals, which numba freezes into the machine code: passing them
    as arguments would cost reference counting on every draw.
    """
    kn, wn = ZIG_KN, ZIG_WN
    w, s0, s1 = next_u64(s0, s1)
    hz = np.int64(np.int32(w >> _U64(32)))
    iz = np.int64(w & _MASK7)
    if abs(hz) < kn[iz]:
        return hz * wn[iz], s0, s1
    return _normal_tail(hz, iz, s0, s1)


@kernel()
def next_gamma(shape: float, s0, s1):
    """Gamma(shape, 1) by Marsaglia & Tsang (2000); boosted for shape < 1."""
    boost = 1.0
    if shape < 1.0:
        u, s0, s1 = next_open_uniform(s0, s1)
        boost = u ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x, s0, s1 = next_normal(s0, s1)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u, s0, s1 = next_open_uniform(s0, s1)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost, s0, s1
