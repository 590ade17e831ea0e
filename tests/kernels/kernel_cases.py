"""Small runs of every kernel, for comparing the compiled kernels with their Python twins.

``python tests/kernels/kernel_cases.py OUT.npz`` saves :func:`kernel_cases` to ``OUT.npz``;
``tests/kernels/test_jit_off.py`` runs it with ``NUMBA_DISABLE_JIT=1`` and compares.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from portsim.config import ActionsConfig, RunConfig
from portsim.data.book import book_from_frame
from portsim.engine import calls
from portsim.engine.chunk import run_chunk
from portsim.inputs.model import build_inputs
from portsim.kernels.codes import Stream
from portsim.kernels.rng import all_path_states

PATHS = 40
SEED = 7
TIMELINE = {"as_of": "2026-12-31", "horizon_months": 3}
ACTIONS = ActionsConfig.model_validate({
    "limits_bind": True, "insurer_red_limit_factor": 0.5,
    "levels": [{"name": "g"}, {"name": "a", "terms_days": 10, "prepaid_share": 0.5,
                                "late_interest_rate": 0.1, "collection_shift_days": 3.0},
               {"name": "r", "stop_shipping": True, "collection_cost_per_customer": 1.0}],
    "rules": [{"name": "x", "level": "a", "when": ["dbt > 0"]},
              {"name": "y", "level": "r", "when": ["oldest_overdue_days >= 10",
                                                   "limit_utilisation > 0.5"]}],
})


def kernel_cases() -> dict[str, np.ndarray]:
    """Every array a chunk returns, for each default method, copula and with or without the
    timeline (and insurance), plus the tail pass's per-customer losses; keyed by case."""
    book = book_from_frame(pd.DataFrame({
        "customer_id": ["a", "b", "c"], "sector": ["s", "s", "t"], "country": ["X", "X", "X"],
        "exposure": [1.0, 2.0, 3.0], "p_default": [0.5, 0.2, 0.2], "lgd": [0.5, 0.4, 0.3],
        "lgd_sd": [0.1, 0.0, 0.2], "annual_sales": [12.0, 24.0, 36.0],
        "credit_limit": [2.0, 5.0, 8.0],
    }), source="<kernel cases>")
    every = all_path_states(SEED, 0, PATHS)
    states = np.ascontiguousarray(every[:, Stream.DEFAULT])
    lgd_states = np.ascontiguousarray(every[:, Stream.LGD])
    out: dict[str, np.ndarray] = {}
    for kernel in ("grouped", "per_customer", "skip"):
        for model in ({}, {"copula": "student_t", "dof": 5.0}):
            for timeline in ([None] if kernel == "skip" else [None, TIMELINE]):
                cfg = RunConfig.model_validate({
                    "model": {**model, "lgd_factor_sensitivity": 0.1},
                    "simulation": {"kernel": kernel}, "timeline": timeline,
                    "insurance": (None if timeline is None
                                  else {"policies": {"w": {"premium_rate": 0.0025}}}),
                })
                x = build_inputs(book, cfg)
                x = x._replace(z_shift=np.full(x.chol.shape[0], -0.5))  # importance weights
                case = f"{kernel}-{model.get('copula', 'gaussian')}-{timeline is not None}"
                for name, value in vars(run_chunk(x, SEED, 0, PATHS)).items():
                    if isinstance(value, np.ndarray):
                        out[f"{case}:{name}"] = value
                if timeline is not None and model == {}:
                    # credit management: delays linked to credit, limits, monitoring, actions
                    acted = build_inputs(book, cfg.model_copy(update={
                        "timeline": cfg.timeline.model_copy(update={  # type: ignore[union-attr]
                            "delay_credit_link": 0.5, "predefault_drift_days": 20.0}),
                        "actions": ACTIONS}))
                    for name, value in vars(run_chunk(acted, SEED, 0, PATHS)).items():
                        if isinstance(value, np.ndarray):
                            out[f"{case}-actions:{name}"] = value
                if timeline is None:
                    tail = calls.customer_losses_of_paths(x, states, lgd_states)
                    for name, value in zip(("cents", "loss", "log_weight"), tail, strict=True):
                        out[f"{case}:tail_{name}"] = value
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **kernel_cases())
