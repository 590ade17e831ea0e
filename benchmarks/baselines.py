"""Reference implementations of the portsim default model, for benchmarks and cross-checks.

The model (``docs/design.md``, "Model inputs", Gaussian copula with fixed LGD): customer ``i``
has exposure ``e_i``, LGD ``l_i``, horizon PD ``p_i``, asset correlation ``R_i`` and factor
index ``f(i)``. On each path the factors are ``Y = chol @ z`` with ``z ~ N(0, I_K)``, the latent
variable is ``X_i = sqrt(R_i) * Y[f(i)] + sqrt(1 - R_i) * eps_i`` and the customer defaults iff
``X_i < Phi^-1(p_i)``. The path loss is ``sum_i e_i * l_i * 1{default_i}``.

Three implementations live here, all returning one loss per path:

* :func:`numpy_losses` -- a vectorised NumPy baseline (one core by default, ``workers=2``
  for a threaded run).
* :func:`creditriskengine_single_factor_losses` / :func:`creditriskengine_multi_factor_losses`
  -- adapters around ``creditriskengine.portfolio.copula``.
* :func:`riskpy_losses` -- adapter around ``riskpy.credit.credit_portfolio_loss`` (one factor).

``benchmarks/PEERS.md`` documents the peer APIs and how the adapters bridge them to the model.
Running this file (``python benchmarks/baselines.py``) measures throughput on a rated book.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

__all__ = [
    "RATING_PD",
    "Book",
    "creditriskengine_multi_factor_losses",
    "creditriskengine_single_factor_losses",
    "factor_loadings",
    "numpy_losses",
    "rating_book",
    "riskpy_losses",
]

#: Target number of (customer, path) cells per NumPy chunk: two float64 buffers of this many
#: cells stay inside a 2 MiB L2 cache, which measured ~30 % faster than 32 MiB chunks.
_NUMPY_CHUNK_CELLS = 2**17
#: Smallest NumPy chunk in paths, so that very large books still gather contiguous rows.
_NUMPY_MIN_CHUNK = 16
#: Target cells per creditriskengine call. It materialises ~5 float64 arrays of this size
#: (about 170 MB at 2**22 cells), so the adapter has to split the paths into calls.
_CRE_CHUNK_CELLS = 2**22

#: One-year PDs of the seven rating grades used by :func:`rating_book`.
RATING_PD: dict[str, float] = {
    "AAA": 0.0001,
    "AA": 0.0002,
    "A": 0.0006,
    "BBB": 0.002,
    "BB": 0.008,
    "B": 0.03,
    "CCC": 0.15,
}
#: Share of customers in each grade (most customers in BBB to B).
_RATING_SHARE = (0.02, 0.04, 0.09, 0.30, 0.30, 0.20, 0.05)


class Book(NamedTuple):
    """Model inputs of a synthetic book, in the argument order of the loss functions.

    Attributes
    ----------
    exposure, lgd, p, R : ndarray of float64, shape (n,)
        Exposure, fixed LGD, horizon PD and asset correlation per customer.
    factor : ndarray of int64, shape (n,)
        Factor index per customer, in ``0..K-1``.
    corr : ndarray of float64, shape (K, K)
        Factor correlation matrix.
    """

    exposure: NDArray[np.float64]
    lgd: NDArray[np.float64]
    p: NDArray[np.float64]
    R: NDArray[np.float64]
    factor: NDArray[np.int64]
    corr: NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Input checks shared by every implementation
# --------------------------------------------------------------------------------------------


def _check_book(
    exposure: ArrayLike,
    lgd: ArrayLike,
    p: ArrayLike,
    R: ArrayLike,
    factor: ArrayLike,
    corr: ArrayLike,
) -> tuple[NDArray[np.float64], ...]:
    """Validate and convert the model inputs.

    Returns
    -------
    tuple
        ``(exposure, lgd, p, R, factor, corr, chol)`` as C-contiguous arrays; ``R`` is
        broadcast to the book size, ``factor`` is int64 and ``chol`` is the lower Cholesky
        factor of ``corr``.
    """
    e = np.ascontiguousarray(exposure, dtype=np.float64)
    n = e.shape[0]
    if e.ndim != 1 or n == 0:
        raise ValueError("exposure must be a non-empty 1-d array")
    l_ = np.ascontiguousarray(np.broadcast_to(np.asarray(lgd, dtype=np.float64), (n,)))
    p_ = np.ascontiguousarray(np.broadcast_to(np.asarray(p, dtype=np.float64), (n,)))
    r_ = np.ascontiguousarray(np.broadcast_to(np.asarray(R, dtype=np.float64), (n,)))
    f_ = np.ascontiguousarray(np.broadcast_to(np.asarray(factor), (n,)))
    if not np.issubdtype(f_.dtype, np.integer):
        raise ValueError("factor must hold integers")
    f_ = f_.astype(np.int64)
    c_ = np.atleast_2d(np.asarray(corr, dtype=np.float64))
    k = c_.shape[0]
    if c_.shape != (k, k):
        raise ValueError(f"corr must be square, got shape {c_.shape}")
    if not (np.all(np.isfinite(e)) and np.all(e >= 0)):
        raise ValueError("exposure must be finite and >= 0")
    if not np.all((l_ >= 0) & (l_ <= 1)):
        raise ValueError("lgd must be in [0, 1]")
    if not np.all((p_ >= 0) & (p_ <= 1)):
        raise ValueError("p must be in [0, 1]")
    if not np.all((r_ >= 0) & (r_ < 1)):
        raise ValueError("R must be in [0, 1)")
    if f_.min() < 0 or f_.max() >= k:
        raise ValueError(f"factor indices must be in 0..{k - 1}")
    if not (np.allclose(c_, c_.T) and np.allclose(np.diag(c_), 1.0)):
        raise ValueError("corr must be a symmetric matrix with unit diagonal")
    chol = np.linalg.cholesky(c_)  # raises LinAlgError unless positive definite
    return e, l_, p_, r_, f_, c_, chol


def _seeds(seed: int | None, n_chunks: int) -> list[np.random.SeedSequence]:
    """Independent child seeds, one per chunk of paths, from one root seed."""
    return np.random.SeedSequence(seed).spawn(n_chunks)


# --------------------------------------------------------------------------------------------
# NumPy baseline
# --------------------------------------------------------------------------------------------


class _Prepared(NamedTuple):
    """Per-book precomputation of :func:`numpy_losses` (customers sorted by group)."""

    chol: NDArray[np.float64]  # (K, K)
    g_factor: NDArray[np.int64]  # (G,) factor of each group
    g_a: NDArray[np.float64]  # (G, 1) threshold / sqrt(1 - R)
    g_b: NDArray[np.float64]  # (G, 1) -sqrt(R / (1 - R))
    group: NDArray[np.int64]  # (n,) group of each (sorted) customer
    severity: NDArray[np.float64]  # (n,) exposure * lgd of each (sorted) customer


def _prepare(
    e: NDArray[np.float64],
    l_: NDArray[np.float64],
    p_: NDArray[np.float64],
    r_: NDArray[np.float64],
    f_: NDArray[np.int64],
    chol: NDArray[np.float64],
) -> _Prepared:
    """Thresholds, groups of customers sharing ``(factor, a, b)`` and severities."""
    idio = np.sqrt(1.0 - r_)
    a = ndtri(p_) / idio  # +-inf at p = 1 / p = 0: always / never defaults
    b = -np.sqrt(r_) / idio
    uniq, group = np.unique(
        np.column_stack([f_.astype(np.float64), a, b]), axis=0, return_inverse=True
    )
    group = group.reshape(-1)
    # Customers sorted by group, so the gather reads each group row for a run of customers.
    order = np.argsort(group, kind="stable")
    return _Prepared(
        chol=chol,
        g_factor=np.ascontiguousarray(uniq[:, 0].astype(np.int64)),
        g_a=np.ascontiguousarray(uniq[:, 1:2]),
        g_b=np.ascontiguousarray(uniq[:, 2:3]),
        group=np.ascontiguousarray(group[order].astype(np.int64)),
        severity=np.ascontiguousarray((e * l_)[order]),
    )


def _numpy_run(
    prep: _Prepared, rng: np.random.Generator, out: NDArray[np.float64], chunk: int
) -> None:
    """Fill ``out`` (one slot per path) chunk by chunk from one generator."""
    n_paths = out.shape[0]
    n_cust = prep.severity.shape[0]
    n_groups = prep.g_factor.shape[0]
    k = prep.chol.shape[0]
    chunk = min(chunk, max(n_paths, 1))
    z_buf = np.empty(k * chunk)
    y_buf = np.empty(k * chunk)
    cg_buf = np.empty(n_groups * chunk)
    eps_buf = np.empty(n_cust * chunk)
    gather = n_groups < n_cust  # else every customer is its own group: no gather needed
    cond_buf = np.empty(n_cust * chunk) if gather else cg_buf
    for start in range(0, n_paths, chunk):
        m = min(chunk, n_paths - start)
        # Contiguous prefixes of the flat buffers, shaped for this (possibly short) chunk.
        z = z_buf[: k * m].reshape(k, m)
        y = y_buf[: k * m].reshape(k, m)
        cond_g = cg_buf[: n_groups * m].reshape(n_groups, m)
        cond = cond_buf[: n_cust * m].reshape(n_cust, m)
        eps = eps_buf[: n_cust * m].reshape(n_cust, m)
        rng.standard_normal(out=z)
        np.matmul(prep.chol, z, out=y)
        np.take(y, prep.g_factor, axis=0, out=cond_g)
        cond_g *= prep.g_b
        cond_g += prep.g_a
        if gather:
            np.take(cond_g, prep.group, axis=0, out=cond)
        rng.standard_normal(out=eps)
        np.less(eps, cond, out=eps)  # 1.0 where the customer defaults
        np.matmul(prep.severity, eps, out=out[start : start + m])


def numpy_losses(
    exposure: ArrayLike,
    lgd: ArrayLike,
    p: ArrayLike,
    R: ArrayLike,
    factor: ArrayLike,
    corr: ArrayLike,
    n_paths: int,
    seed: int | None,
    chunk: int | None = None,
    workers: int = 1,
) -> NDArray[np.float64]:
    """Simulate per-path portfolio losses with vectorised NumPy.

    The default condition ``sqrt(R) Y_f + sqrt(1 - R) eps < t`` is rewritten as
    ``eps < a + b Y_f`` with ``a = t / sqrt(1 - R)`` and ``b = -sqrt(R / (1 - R))``.
    Customers sharing ``(f, a, b)`` form a group (a rated book has few), so the conditional
    thresholds are computed once per group and path and gathered to customers. Paths are
    processed in chunks laid out customer-major, ``(n_customers, chunk)``, in preallocated
    buffers: one ``standard_normal(out=...)`` fill, one gather, one in-place comparison and
    one matrix-vector product (BLAS) per chunk. Drawing the normals is most of the run time.

    Parameters
    ----------
    exposure, lgd, p, R : array_like, shape (n,)
        Exposure (>= 0), fixed LGD in [0, 1], horizon PD in [0, 1] and asset correlation in
        [0, 1) per customer; scalars are broadcast.
    factor : array_like of int, shape (n,)
        Factor index of each customer, in ``0..K-1``.
    corr : array_like, shape (K, K)
        Factor correlation matrix (symmetric, unit diagonal, positive definite); a scalar
        ``1.0`` means one factor.
    n_paths : int
        Number of Monte Carlo paths.
    seed : int or None
        Seed of ``np.random.default_rng`` (``workers == 1``) or root of the per-worker seeds.
    chunk : int, optional
        Paths per chunk. Default ``max(16, 2**17 // n)``, i.e. two buffers of about 1 MiB
        that stay in L2 cache; memory is about ``16 * n * chunk`` bytes per worker plus the
        output.
    workers : int, default 1
        Threads. The default runs on one core (NumPy's generator and ufuncs are
        single-threaded; only the small BLAS product may use more). With ``workers > 1`` the
        paths are split into ``workers`` contiguous slices, slice ``j`` drawn by
        ``default_rng(SeedSequence(seed).spawn(workers)[j])`` in its own thread; NumPy releases
        the GIL while filling and in the ufuncs, so the threads run in parallel.

    Returns
    -------
    ndarray of float64, shape (n_paths,)
        Portfolio loss on each path.

    Notes
    -----
    Deterministic for a given ``(seed, chunk, workers)``. The draws depend on ``chunk`` and
    ``workers`` because one stream fills the buffers in order (factor draws, then
    idiosyncratic draws, chunk after chunk).
    """
    e, l_, p_, r_, f_, _, chol = _check_book(exposure, lgd, p, R, factor, corr)
    if n_paths < 0:
        raise ValueError("n_paths must be >= 0")
    if chunk is None:
        chunk = max(_NUMPY_MIN_CHUNK, _NUMPY_CHUNK_CELLS // e.shape[0])
    if chunk < 1 or workers < 1:
        raise ValueError("chunk and workers must be >= 1")
    prep = _prepare(e, l_, p_, r_, f_, chol)
    losses = np.empty(n_paths, dtype=np.float64)
    if workers == 1:
        _numpy_run(prep, np.random.default_rng(seed), losses, chunk)
        return losses
    bounds = np.linspace(0, n_paths, workers + 1).astype(np.int64)
    children = _seeds(seed, workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [
            pool.submit(
                _numpy_run,
                prep,
                np.random.default_rng(children[j]),
                losses[bounds[j] : bounds[j + 1]],
                chunk,
            )
            for j in range(workers)
        ]
        for job in jobs:
            job.result()
    return losses


# --------------------------------------------------------------------------------------------
# creditriskengine adapters
# --------------------------------------------------------------------------------------------


def _cre_chunks(n_paths: int, n_cust: int, chunk: int | None, even: bool) -> list[int]:
    """Split ``n_paths`` into chunk sizes for creditriskengine calls."""
    if chunk is None:
        chunk = max(2, _CRE_CHUNK_CELLS // n_cust)
    if even:
        chunk = max(2, chunk - chunk % 2)
    sizes = [chunk] * (n_paths // chunk)
    if n_paths % chunk:
        sizes.append(n_paths % chunk)
    return sizes


def _cre_lgd(lgd: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    """LGD with zeros where ``p == 0``.

    creditriskengine floors PDs at 1e-10 before taking ``Phi^-1``, so a customer with
    ``p = 0`` would still default with probability 1e-10; a zero LGD removes its loss exactly.
    """
    return np.where(p > 0.0, lgd, 0.0)


def creditriskengine_single_factor_losses(
    exposure: ArrayLike,
    lgd: ArrayLike,
    p: ArrayLike,
    R: ArrayLike,
    factor: ArrayLike,
    corr: ArrayLike,
    n_paths: int,
    seed: int | None,
    chunk: int | None = None,
    antithetic: bool = False,
) -> NDArray[np.float64]:
    """Per-path losses from ``creditriskengine.portfolio.copula.simulate_single_factor``.

    The peer simulates ``A_i = sqrt(rho) Z + sqrt(1 - rho) eps_i`` with ONE scalar ``rho`` for
    the whole book, so this adapter accepts only books where every customer has the same
    ``R`` (in ``(0, 1)``) and the same factor index. For other books use
    :func:`creditriskengine_multi_factor_losses`, which handles per-customer ``R`` and
    correlated factors exactly.

    Parameters
    ----------
    exposure, lgd, p, R, factor, corr
        As in :func:`numpy_losses`.
    n_paths : int
        Number of paths.
    seed : int or None
        Root seed; chunk ``j`` gets ``SeedSequence(seed).spawn(n_chunks)[j]``.
    chunk : int, optional
        Paths per peer call (the peer holds the whole ``(paths, customers)`` matrix several
        times); default ``2**22 // n`` paths, about 170 MB peak. Rounded down to even.
    antithetic : bool, default False
        Passed to the peer. ``True`` makes path ``j + m/2`` the mirror image of path ``j``
        within each chunk of ``m`` paths (``Z -> -Z``, ``eps -> -eps``): the mean stays
        unbiased but the paths are no longer independent, which breaks i.i.d. error bars and
        order-statistic quantile bands.

    Returns
    -------
    ndarray of float64, shape (n_paths,)
        Portfolio loss on each path.

    Raises
    ------
    ValueError
        If ``R`` or ``factor`` differ between customers, ``R`` is not in ``(0, 1)`` (raised by
        the peer) or ``antithetic`` is set with an odd ``n_paths``.
    """
    from creditriskengine.portfolio.copula import simulate_single_factor

    e, l_, p_, r_, f_, _, _ = _check_book(exposure, lgd, p, R, factor, corr)
    if not np.all(r_ == r_[0]):
        raise ValueError(
            "creditriskengine simulate_single_factor takes one scalar rho; R differs between "
            "customers (use creditriskengine_multi_factor_losses)"
        )
    if not np.all(f_ == f_[0]):
        raise ValueError("customers load on different factors: not a one-factor book")
    if antithetic and n_paths % 2:
        raise ValueError("antithetic=True needs an even n_paths (the peer drops the odd path)")
    rho = float(r_[0])
    l_ = _cre_lgd(l_, p_)
    sizes = _cre_chunks(n_paths, e.shape[0], chunk, even=antithetic)
    out = np.empty(n_paths, dtype=np.float64)
    start = 0
    for size, child in zip(sizes, _seeds(seed, len(sizes)), strict=True):
        # The peer types seed as int | None and passes it to default_rng, which also takes a
        # SeedSequence. With antithetic=True and an odd size it returns size - 1 paths.
        got = simulate_single_factor(
            p_, l_, e, rho, n_simulations=size, seed=child, antithetic=antithetic
        )
        if got.shape[0] != size:
            raise RuntimeError(f"peer returned {got.shape[0]} paths for {size} requested")
        out[start : start + size] = got
        start += size
    return out


def factor_loadings(R: ArrayLike, factor: ArrayLike, chol: ArrayLike) -> NDArray[np.float64]:
    """Loadings on independent factors equivalent to the correlated-factor model.

    ``sqrt(R_i) * Y[f(i)] = sqrt(R_i) * chol[f(i), :] @ z``, so the row of customer ``i`` is
    ``sqrt(R_i) * chol[f(i), :]``. Its squared norm is ``R_i`` because the rows of the
    Cholesky factor of a correlation matrix have unit norm.

    Parameters
    ----------
    R : array_like, shape (n,)
        Asset correlations.
    factor : array_like of int, shape (n,)
        Factor index per customer.
    chol : array_like, shape (K, K)
        Lower Cholesky factor of the factor correlation matrix.

    Returns
    -------
    ndarray of float64, shape (n, K)
        Loading matrix ``W`` with ``A = z @ W.T + sqrt(1 - sum(W**2, 1)) * eps``.
    """
    chol = np.asarray(chol, dtype=np.float64)
    return np.sqrt(np.asarray(R, dtype=np.float64))[:, None] * chol[np.asarray(factor)]


def creditriskengine_multi_factor_losses(
    exposure: ArrayLike,
    lgd: ArrayLike,
    p: ArrayLike,
    R: ArrayLike,
    factor: ArrayLike,
    corr: ArrayLike,
    n_paths: int,
    seed: int | None,
    chunk: int | None = None,
) -> NDArray[np.float64]:
    """Per-path losses from ``creditriskengine.portfolio.copula.simulate_multi_factor``.

    The peer simulates ``A = z @ W.T + sqrt(1 - sum_k W_ik^2) eps`` with independent factors
    ``z ~ N(0, I_K)`` and a loading matrix ``W`` of shape ``(n, K)``. Passing
    ``W = factor_loadings(R, factor, chol)`` reproduces the portsim model exactly, including
    per-customer ``R`` and correlated factors.

    Parameters
    ----------
    exposure, lgd, p, R, factor, corr
        As in :func:`numpy_losses`.
    n_paths : int
        Number of paths.
    seed : int or None
        Root seed; chunk ``j`` gets ``SeedSequence(seed).spawn(n_chunks)[j]``.
    chunk : int, optional
        Paths per peer call; default ``2**22 // n`` paths (the peer holds about five float64
        ``(paths, customers)`` arrays at once, about 170 MB).

    Returns
    -------
    ndarray of float64, shape (n_paths,)
        Portfolio loss on each path.
    """
    from creditriskengine.portfolio.copula import simulate_multi_factor

    e, l_, p_, r_, f_, _, chol = _check_book(exposure, lgd, p, R, factor, corr)
    w = factor_loadings(r_, f_, chol)
    l_ = _cre_lgd(l_, p_)
    sizes = _cre_chunks(n_paths, e.shape[0], chunk, even=False)
    out = np.empty(n_paths, dtype=np.float64)
    start = 0
    for size, child in zip(sizes, _seeds(seed, len(sizes)), strict=True):
        out[start : start + size] = simulate_multi_factor(
            p_, l_, e, w, n_simulations=size, seed=child
        )
        start += size
    return out


# --------------------------------------------------------------------------------------------
# riskpy adapter
# --------------------------------------------------------------------------------------------


def riskpy_losses(
    exposure: ArrayLike,
    lgd: ArrayLike,
    p: ArrayLike,
    R: ArrayLike,
    factor: ArrayLike,
    corr: ArrayLike,
    n_paths: int,
    seed: int | None,
) -> NDArray[np.float64]:
    """Per-path losses from ``riskpy.credit.credit_portfolio_loss`` (one factor only).

    The peer simulates ``A_i = sqrt(rho_i) Z + sqrt(1 - rho_i) eps_i`` with one systematic
    ``Z`` and per-exposure ``rho_i``, PDs, LGDs and EADs, and blocks the paths itself (4 M
    cells per block), so no chunking is needed here. It has no multi-factor model.

    Parameters
    ----------
    exposure, lgd, p, R, factor, corr
        As in :func:`numpy_losses`; every customer must have the same factor index.
    n_paths : int
        Number of paths (the peer's ``trials``, must be >= 1).
    seed : int or None
        Passed to the peer's ``np.random.default_rng``.

    Returns
    -------
    ndarray of float64, shape (n_paths,)
        Portfolio loss on each path (``Result.values``).

    Raises
    ------
    ValueError
        If customers load on different factors.
    """
    from riskpy.credit import credit_portfolio_loss

    e, l_, p_, r_, f_, _, _ = _check_book(exposure, lgd, p, R, factor, corr)
    if not np.all(f_ == f_[0]):
        raise ValueError("riskpy.credit_portfolio_loss is one-factor only")
    result = credit_portfolio_loss(p_, l_, e, r_, trials=n_paths, seed=seed)
    return np.asarray(result.values, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Synthetic rated book and throughput measurement
# --------------------------------------------------------------------------------------------


def rating_book(
    n: int,
    n_factors: int = 1,
    *,
    asset_correlation: float = 0.15,
    factor_correlation: float = 0.5,
    seed: int = 20240601,
) -> Book:
    """A synthetic book with PDs from seven rating grades.

    Parameters
    ----------
    n : int
        Number of customers.
    n_factors : int, default 1
        Number of sector factors; customers are assigned uniformly at random.
    asset_correlation : float, default 0.15
        Common asset correlation ``R`` (common so that the one-scalar-rho peer can run).
    factor_correlation : float, default 0.5
        Off-diagonal entry of the equicorrelated factor correlation matrix.
    seed : int
        Seed of the book generator.

    Returns
    -------
    Book
        Grades drawn with shares AAA 2 %, AA 4 %, A 9 %, BBB 30 %, BB 30 %, B 20 %, CCC 5 %;
        log-normal exposures (median 50,000); LGDs uniform on [0.25, 0.65].
    """
    rng = np.random.default_rng(seed)
    pds = np.array(list(RATING_PD.values()))
    p = pds[rng.choice(pds.size, size=n, p=_RATING_SHARE)]
    exposure = np.round(rng.lognormal(np.log(50_000.0), 1.0, size=n), 2)
    lgd = rng.uniform(0.25, 0.65, size=n)
    r = np.full(n, asset_correlation)
    factor = rng.integers(0, n_factors, size=n).astype(np.int64)
    corr = np.full((n_factors, n_factors), factor_correlation)
    np.fill_diagonal(corr, 1.0)
    return Book(exposure, lgd, p, r, factor, corr)


def _time(
    fn: Callable[..., NDArray[np.float64]], book: Book, n_paths: int, repeat: int
) -> tuple[float, float, float, float]:
    """Best and median wall time, CPU/wall ratio of the best run and mean loss.

    One warm-up call (imports, caches) precedes ``repeat`` timed calls with the same seed.
    CPU time is ``time.process_time`` (all threads of the process), so a CPU/wall ratio near
    2 means both cores were busy.
    """
    fn(*book, max(2, n_paths // 10), 1)
    walls, ratios = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        losses = fn(*book, n_paths, 2)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        walls.append(wall)
        ratios.append(cpu / wall)
    best = int(np.argmin(walls))
    return walls[best], float(np.median(walls)), ratios[best], float(losses.mean())


def main(argv: list[str] | None = None) -> None:
    """Print throughput (customer-paths per second) of every implementation."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    impls: dict[str, Callable[..., NDArray[np.float64]]] = {
        "numpy_losses": numpy_losses,
        "numpy_losses workers=2": lambda *a: numpy_losses(*a, workers=2),
        "creditriskengine multi_factor": creditriskengine_multi_factor_losses,
        "creditriskengine single_factor": creditriskengine_single_factor_losses,
        "creditriskengine single_factor antithetic": lambda *a: (
            creditriskengine_single_factor_losses(*a, antithetic=True)
        ),
        "riskpy credit_portfolio_loss": riskpy_losses,
    }
    cells = args.customers * args.paths
    print(f"{args.customers} customers x {args.paths} paths, best / median of {args.repeat}")
    print(
        f"{'implementation':42s} {'K':>3s} {'best s':>7s} {'best c-p/s':>11s} "
        f"{'median c-p/s':>12s} {'cpu/wall':>8s} {'mean/EL':>8s}"
    )
    for k in (1, 10):
        book = rating_book(args.customers, k)
        el = float(np.sum(book.exposure * book.lgd * book.p))
        for name, fn in impls.items():
            if k > 1 and ("single" in name or "riskpy" in name):
                continue  # one-factor peers
            best, median, ratio, mean = _time(fn, book, args.paths, args.repeat)
            print(
                f"{name:42s} {k:3d} {best:7.2f} {cells / best:11.3e} {cells / median:12.3e} "
                f"{ratio:8.2f} {mean / el:8.3f}"
            )


if __name__ == "__main__":
    main()
