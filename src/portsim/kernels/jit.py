"""The one place the kernels are compiled.

Every kernel is a plain Python function decorated with :func:`kernel`, which compiles it with
the project's numba options (``cache=True``, so workers load the machine code from numba's
on-disk cache). With ``NUMBA_DISABLE_JIT=1`` in the environment the function stays Python, so
it can be stepped through in a debugger and its lines count in coverage; it then gives the same
numbers as the compiled code (``tests/kernels/test_jit_off.py`` checks it).

The one difference the Python path must hide is integer overflow: xoroshiro128++ relies on
``uint64`` arithmetic wrapping modulo 2⁶⁴, which compiled code does silently and NumPy scalars
do with a ``RuntimeWarning`` (an error under the test suite's ``filterwarnings``). The Python
path therefore runs each kernel under ``numpy.errstate(over="ignore")``; the wrapped values
are the same.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

__all__ = ["JIT_ENABLED", "kernel"]

JIT_ENABLED: bool = not nb.config.DISABLE_JIT
"""False when ``NUMBA_DISABLE_JIT=1``: the kernels then run as Python."""


def _python(fn: Any) -> Any:
    """``fn`` run with NumPy's overflow warnings off, as compiled code runs it."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(over="ignore"):
            return fn(*args, **kwargs)

    run.__name__ = fn.__name__
    run.__qualname__ = fn.__qualname__
    run.__doc__ = fn.__doc__
    run.__module__ = fn.__module__
    run.__wrapped__ = fn  # type: ignore[attr-defined]  # inspect.signature follows it
    return run


def kernel(*, inline: bool = False, nogil: bool = False) -> Any:
    """Decorator: compile a kernel with the project's options, or keep it Python.

    Parameters
    ----------
    inline : bool
        Inline the function into its callers at numba's IR level (small helpers on the hot
        path, such as the random-number generators).
    nogil : bool
        Release the GIL while it runs (the kernels the thread pool calls).

    Returns
    -------
    callable
        The decorator; it returns a numba dispatcher, or with the JIT off a Python function
        (typed ``Any``, as numba's dispatchers are for the type checker).
    """

    def wrap(fn: Any) -> Any:
        if not JIT_ENABLED:
            return _python(fn)
        return nb.njit(cache=True, nogil=nogil, inline="always" if inline else "never")(fn)

    return wrap
