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
from portsim.data.suppliers import SupplierTable
from portsim.engine import calls
from portsim.engine.chunk import run_chunk
from portsim.inputs.model import ModelInputs, build_inputs
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
    timeline (and insurance and suppliers), and for the CreditRisk+ kernel with each kind of
    count, plus the tail pass's per-customer losses; keyed by case."""
    book = book_from_frame(pd.DataFrame({
        "customer_id": ["a", "b", "c"], "sector": ["s", "s", "t"], "country": ["X", "X", "X"],
        "exposure": [1.0, 2.0, 3.0], "p_default": [0.5, 0.2, 0.2], "lgd": [0.5, 0.4, 0.3],
        "lgd_sd": [0.1, 0.0, 0.2], "annual_sales": [12.0, 24.0, 36.0],
        "credit_limit": [2.0, 5.0, 8.0],
    }), source="<kernel cases>")
    f = np.asarray
    suppliers = SupplierTable(  # with a timeline: the supplier kernel too
        supplier_id=f(["p", "q"], dtype=object), name=f(["p", "q"], dtype=object),
        sector=f(["s", "t"], dtype=object), country=f(["X", "X"], dtype=object),
        p_default=f([0.6, 0.3]), asset_correlation=f([0.4, np.nan]), prepayment=f([5.0, 1.0]),
        monthly_purchases=f([3.0, 2.0]), replacement_months=f([1.0, 2.0]),
        dependent_sales_share=f([0.7, 0.5]), replacement_premium=f([0.2, 0.1]), rating=None,
        row=f([2, 3]), source="<kernel cases>", sha256="")
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
                x = build_inputs(book, cfg, suppliers=suppliers)
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
                    _tail(out, case, x, states, lgd_states)
    for counts in ("poisson", "bernoulli"):  # CreditRisk+ (model.family): default-only
        cfg = RunConfig.model_validate({
            "model": {"family": "creditriskplus"},
            "creditriskplus": {"defaults": counts, "variance": 2.0,
                               "weights": {"t": {"s": 0.3, "t": 0.5}}}})
        x = build_inputs(book, cfg)
        for name, value in vars(run_chunk(x, SEED, 0, PATHS)).items():
            if isinstance(value, np.ndarray):
                out[f"creditriskplus-{counts}:{name}"] = value
        _tail(out, f"creditriskplus-{counts}", x, states, lgd_states)
    return out


def _tail(out: dict[str, np.ndarray], case: str, x: ModelInputs, states: np.ndarray,
          lgd_states: np.ndarray) -> None:
    """The tail pass's per-customer losses of every path, into ``out``."""
    tail = calls.customer_losses_of_paths(x, states, lgd_states)
    for name, value in zip(("cents", "loss", "log_weight"), tail, strict=True):
        out[f"{case}:tail_{name}"] = value


if __name__ == "__main__":
    np.savez(sys.argv[1], **kernel_cases())
