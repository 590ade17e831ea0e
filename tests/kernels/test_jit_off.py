"""The kernels give the same numbers compiled and as Python (``NUMBA_DISABLE_JIT=1``).

The Python path is what a debugger steps through and what coverage sees, so it must be the
same computation: every array of a small run of each kernel is compared bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from kernel_cases import kernel_cases

from portsim.kernels import defaults
from portsim.kernels.jit import JIT_ENABLED
from portsim.results.schema import ACTION_SCALARS, TIMELINE_SCALARS

CASES = Path(__file__).with_name("kernel_cases.py")


def test_the_python_kernels_give_the_compiled_numbers(tmp_path: Path) -> None:
    out = tmp_path / "python.npz"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-W", "error", str(CASES), str(out)], env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    compiled = kernel_cases()
    with np.load(out) as python:
        assert sorted(python.files) == sorted(compiled)
        for key, value in compiled.items():
            np.testing.assert_array_equal(python[key], value, err_msg=key)
    # the cases are not trivial: defaults, claim events and importance weights occur
    assert compiled["grouped-gaussian-True:n_defaults"].sum() > 0
    assert compiled["per_customer-student_t-True:events_int"].shape[0] > 0
    assert np.all(compiled["skip-gaussian-False:log_weight"] != 0.0)
    # repeated defaults: a Poisson count beyond the first is drawn somewhere
    single = compiled["creditriskplus-bernoulli:tail_cents"].max(axis=0)  # one default each
    assert np.all(single > 0)
    assert np.any(compiled["creditriskplus-poisson:tail_cents"] > single)
    assert compiled["grouped-student_t-True:supplier_n_defaults"].sum() > 0
    acted = compiled["grouped-gaussian-True-actions:action_scalars"]
    assert acted[:, ACTION_SCALARS.index("n_alerts")].sum() > 0
    lost = TIMELINE_SCALARS.index("lost_sales")
    assert compiled["grouped-gaussian-True-actions:timeline_scalars"][:, lost].sum() > 0


def test_the_jit_switch_is_the_environment_variable() -> None:
    if JIT_ENABLED:
        assert hasattr(defaults.default_losses_grouped, "signatures")  # a numba dispatcher
    code = ("from portsim.kernels import defaults, jit; "
            "assert not jit.JIT_ENABLED; "
            "assert not hasattr(defaults.default_losses_grouped, 'signatures')")
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
