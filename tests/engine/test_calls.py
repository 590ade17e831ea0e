"""The checked kernel calls of portsim.engine.calls, and the codes of portsim.kernels.codes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from portsim.engine import calls
from portsim.inputs.model import ModelInputs, build_inputs
from portsim.kernels.codes import CoverType, DefaultMethod, EventKind, Stream
from portsim.kernels.rng import path_states


@pytest.fixture
def inputs(make_book: Any, make_config: Any) -> ModelInputs:
    book = make_book(4, p_default=[0.01, 0.02, 0.05, 0.2], exposure=[1.0, 2.0, 3.0, 4.0])
    return build_inputs(book, make_config(simulation={"kernel": "grouped"}))


def _states(m: int = 8) -> tuple[np.ndarray, np.ndarray]:
    return path_states(1, 0, m, Stream.DEFAULT), path_states(1, 0, m, Stream.LGD)


@pytest.mark.parametrize("method", list(DefaultMethod))
def test_default_losses_fill_outputs_of_the_right_shapes(inputs: ModelInputs,
                                                         method: DefaultMethod) -> None:
    out = calls.default_losses(inputs._replace(kernel=method.label), *_states())
    assert out.loss.shape == out.n_defaults.shape == out.log_weight.shape == (8,)
    assert out.customer_loss.shape == (4,)
    # the per-path and per-customer counts tell the same defaults
    assert out.n_defaults.sum() == out.customer_n_defaults.sum()
    assert out.sector_n_defaults.sum() == out.n_defaults.sum()


def test_tail_pass_gives_each_paths_customer_losses(inputs: ModelInputs) -> None:
    states, lgd_states = _states()
    cents, loss, _ = calls.customer_losses_of_paths(inputs, states, lgd_states)
    chunk = calls.default_losses(inputs, states, lgd_states)
    np.testing.assert_array_equal(cents.sum(axis=0), chunk.customer_loss)
    np.testing.assert_array_equal(loss, chunk.loss)


@pytest.mark.parametrize(("field", "bad", "message"), [
    ("exposure", lambda a: a.astype(np.float32), "'exposure': expected a C-contiguous float64"),
    ("loading", lambda a: np.repeat(a, 2)[::2], "not C-contiguous"),
    ("group", lambda a: a[:-1], r"'group': .* shape \(4,\), got int64 \(3,\)"),
])
def test_a_wrong_array_is_named(inputs: ModelInputs, field: str, bad: object,
                                message: str) -> None:
    x = inputs._replace(**{field: bad(getattr(inputs, field))})  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        calls.default_losses(x, *_states())


def test_wrong_states_and_kernel_names_are_refused(inputs: ModelInputs) -> None:
    states, lgd_states = _states()
    with pytest.raises(ValueError, match="'lgd_states'"):
        calls.default_losses(inputs, states, lgd_states[:4])
    with pytest.raises(ValueError, match="'states'"):
        calls.default_losses(inputs, states.astype(np.int64), lgd_states)
    with pytest.raises(ValueError, match="'grouped', 'skip'"):
        calls.default_losses(inputs._replace(kernel="fast"), states, lgd_states)
    with pytest.raises(ValueError, match="group_start and group_perm"):
        calls.default_losses(inputs._replace(kernel="skip", group_perm=None), states,
                             lgd_states)
    with pytest.raises(ValueError, match=r"\[timeline\]"):
        calls.timeline(inputs, 0, states, lgd_states, states)


def test_codes_and_the_names_users_write() -> None:
    # config strings and the names in results files are the labels: never renumber or rename
    assert DefaultMethod.labels() == ("per_customer", "grouped", "skip")
    assert DefaultMethod.of("per_customer") is DefaultMethod.PER_CUSTOMER
    assert CoverType.labels() == ("none", "named", "discretionary", "unnamed", "excluded")
    assert [int(k) for k in EventKind] == [0, 1]
    assert [int(s) for s in Stream] == [0, 1, 2, 3]
    assert Stream.SUPPLIER == 3  # the stream index 3 generated, unused, before suppliers
