"""The payment-timeline kernel against the default-only kernel and a NumPy timeline.

Run (about 3 minutes on 2 cores)::

    python -m pytest benchmarks/bench_timeline.py --benchmark-only \
        --benchmark-json=benchmarks/results/timeline.json
    python benchmarks/report.py benchmarks/results/timeline.json

A 10,000-customer book from ``tools/make_book.py`` (PDs by rating grade, payment terms of
30–90 days), 12 monthly periods, monthly forward invoices from each customer's annual sales
plus its open invoices (about 15 invoices per customer). Throughput is customer-paths per
second; the NumPy timeline draws fewer paths (it is much slower), which does not change a
throughput. Each case checks its mean loss or collections against the engine's.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from numpy_timeline import numpy_timeline
from portsim.config import RunConfig
from portsim.data.book import book_from_frame
from portsim.engine.local import simulate
from portsim.inputs.model import ModelInputs, build_inputs

ROOT = Path(__file__).resolve().parents[1]
N_CUSTOMERS = 10_000
PATHS = {"timeline": 8_192, "default": 65_536, "numpy": 256}


@pytest.fixture(scope="module")
def inputs() -> ModelInputs:
    make_book = runpy.run_path(str(ROOT / "tools" / "make_book.py"))["make_book"]
    frame = make_book(N_CUSTOMERS, 20261128)
    ratings = {"AAA": 0.0001, "AA": 0.0002, "A": 0.0006, "BBB": 0.002, "BB": 0.008,
               "B": 0.03, "CCC": 0.15}
    cfg = RunConfig.model_validate({
        "book": {"ratings": ratings},
        "model": {"correlation": {"default": 0.55}},
        "simulation": {"kernel": "per_customer", "chunk_paths": 1024},
        "timeline": {"as_of": "2026-12-31", "horizon_months": 12, "period": "month"},
        "delays": {"mean_days": 12, "sd_days": 6, "noise_days": 8,
                   "factor_sensitivity_days": 6},
    })
    book = book_from_frame(frame.drop(columns=["lgd_sd"]), ratings=ratings)
    return build_inputs(book, cfg)


def _info(benchmark: Any, n_paths: int, label: str) -> None:
    benchmark.extra_info.update({"customer_paths": N_CUSTOMERS * n_paths, "label": label})


def test_timeline_kernel(benchmark: Any, inputs: ModelInputs) -> None:
    n = PATHS["timeline"]
    _info(benchmark, n, "timeline")
    out = benchmark.pedantic(lambda: simulate(inputs, n_paths=n, seed=1, chunk_paths=1024),
                             rounds=3, warmup_rounds=1)
    assert out.flow_sum is not None
    inv = float(inputs.timeline.inv_amount.sum())  # type: ignore[union-attr]
    # most of what is invoiced is collected within the year
    assert 0.5 * inv < out.flow_sum[1].sum() / n < inv


def test_default_only_kernel(benchmark: Any, inputs: ModelInputs) -> None:
    x = inputs._replace(timeline=None)
    n = PATHS["default"]
    _info(benchmark, n, "default_only")
    out = benchmark.pedantic(lambda: simulate(x, n_paths=n, seed=1, chunk_paths=4096),
                             rounds=3, warmup_rounds=1)
    el = float((x.exposure * x.lgd_mean * x.p_horizon).sum())
    se = out.loss.std(ddof=1) / np.sqrt(n)
    assert abs(out.loss.mean() - el) < 5 * se


def test_numpy_timeline(benchmark: Any, inputs: ModelInputs) -> None:
    n = PATHS["numpy"]
    _info(benchmark, n, "numpy_timeline")
    res = benchmark.pedantic(lambda: numpy_timeline(inputs, n, seed=1), rounds=2,
                             warmup_rounds=1)
    ref = simulate(inputs, n_paths=2048, seed=2, chunk_paths=1024)
    assert ref.flow_sum is not None
    eng = ref.flow_sum[1] / 2048
    tot = res["collected"].sum(axis=1)
    se = tot.std(ddof=1) / np.sqrt(n)
    assert abs(tot.mean() - eng.sum()) < 6 * se + 1e-6 * eng.sum()
