"""Compiling every kernel variant ahead of a run, so that workers find it in numba's cache."""

from __future__ import annotations

import time

from portsim.engine.chunk import run_chunk

__all__ = ["warmup"]


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel variant on a tiny book; seconds taken.

    Covers both default methods, both copulas, with and without the timeline (with the
    insurance kernel), and the CreditRisk+ kernel with either kind of count, so that workers
    started later find every kernel in numba's on-disk cache.
    """
    import pandas as pd

    from portsim.config import RunConfig
    from portsim.data.book import book_from_frame
    from portsim.inputs.model import build_inputs

    t0 = time.perf_counter()
    book = book_from_frame(pd.DataFrame({
        "customer_id": ["a", "b"], "sector": ["s", "s"], "country": ["X", "X"],
        "exposure": [1.0, 2.0], "p_default": [0.5, 0.2], "lgd": [0.5, 0.4],
        "lgd_sd": [0.1, 0.0], "annual_sales": [12.0, 24.0],
    }), source="<warmup>")
    for kernel in ("grouped", "per_customer"):
        for model in ({}, {"copula": "student_t", "dof": 5.0}):
            for timeline in (None, {"as_of": "2026-12-31", "horizon_months": 2}):
                cfg = RunConfig.model_validate({
                    "model": {**model, "lgd_factor_sensitivity": 0.1},
                    "simulation": {"kernel": kernel}, "timeline": timeline,
                    # the insurance kernel with the timeline
                    "insurance": (None if timeline is None
                                  else {"policies": {"w": {"premium_rate": 0.0025}}}),
                })
                run_chunk(build_inputs(book, cfg), 0, 0, 4)
    for model in ({}, {"copula": "student_t", "dof": 5.0}):  # the skip sampler: no timeline
        cfg = RunConfig.model_validate({"model": {**model, "lgd_factor_sensitivity": 0.1},
                                        "simulation": {"kernel": "skip"}})
        run_chunk(build_inputs(book, cfg), 0, 0, 4)
    for counts in ("poisson", "bernoulli"):  # CreditRisk+: default-only
        cfg = RunConfig.model_validate({"model": {"family": "creditriskplus"},
                                        "creditriskplus": {"defaults": counts}})
        run_chunk(build_inputs(book, cfg), 0, 0, 4)
    return time.perf_counter() - t0
