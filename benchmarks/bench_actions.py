"""The timeline kernel with credit management against the same kernel without it.

Run (about 2 minutes on 2 cores)::

    python -m pytest benchmarks/bench_actions.py --benchmark-only \
        --benchmark-json=benchmarks/results/actions.json
    python benchmarks/report.py benchmarks/results/actions.json

The book and timeline of ``bench_timeline.py`` (10,000 customers, about 15 invoices each, 12
monthly periods). Cases, each in the same session: no credit management (the plain loop, the
baseline); binding credit limits only; monitoring with three levels and the two rules of the
default ``[actions]`` (days beyond terms over 91 days, oldest overdue invoice), amber with
tighter terms, 20 % prepaid and late-payment interest, red stopping shipments, limits
binding. The target is at most 1.5× the plain timeline per customer-path. Each case checks
that the defaults are the plain run's (common random numbers) and what credit management
changed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bench_timeline import N_CUSTOMERS
from bench_timeline import inputs as timeline_inputs  # noqa: F401 (a fixture)
from portsim.config import ActionsConfig
from portsim.engine.gather import SimOutput
from portsim.engine.local import simulate
from portsim.inputs.actions import action_arrays
from portsim.inputs.model import ModelInputs
from portsim.results.schema import TIMELINE_SCALARS

PATHS = 4096
ACTIONS = ActionsConfig.model_validate({
    "limits_bind": True,
    "levels": [{"name": "green"},
               {"name": "amber", "terms_days": 30, "prepaid_share": 0.2,
                "late_interest_rate": 0.1015},
               {"name": "red", "stop_shipping": True}],
})
CASES = {"plain": None, "limits": "limits", "actions": ACTIONS}


def _with(x: ModelInputs, case: str) -> ModelInputs:
    tl = x.timeline
    assert tl is not None
    limit = 3.0 * x.exposure  # the generated book has none: 3 × the open amount at as-of
    spec = CASES[case]
    acts = action_arrays(spec if isinstance(spec, ActionsConfig) else None, spec is not None,
                         limit)
    return x._replace(timeline=tl._replace(actions=acts))


@pytest.fixture(scope="module")
def plain(timeline_inputs: ModelInputs) -> SimOutput:  # noqa: F811
    return simulate(_with(timeline_inputs, "plain"), n_paths=PATHS, seed=1, chunk_paths=1024)


@pytest.mark.parametrize("case", list(CASES))
def test_timeline_with_credit_management(benchmark: Any, timeline_inputs: ModelInputs,  # noqa: F811
                                         plain: SimOutput, case: str) -> None:
    x = _with(timeline_inputs, case)
    benchmark.extra_info.update({"customer_paths": N_CUSTOMERS * PATHS, "label": case})
    out = benchmark.pedantic(lambda: simulate(x, n_paths=PATHS, seed=1, chunk_paths=1024),
                             rounds=3, warmup_rounds=1)
    np.testing.assert_array_equal(out.n_defaults, plain.n_defaults)
    assert out.timeline_scalars is not None
    assert plain.timeline_scalars is not None
    lost = out.timeline_scalars[:, TIMELINE_SCALARS.index("lost_sales")]
    assert (lost.mean() > 0) == (case != "plain")
