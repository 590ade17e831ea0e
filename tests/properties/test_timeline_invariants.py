"""Invariants of every path of a timeline run with credit insurance, for any small book,
delays and policy terms: ``0 ≤ retained loss ≤ gross loss`` (the net indemnity is at least 0
and at most LGD × unpaid per buyer, ``portsim.kernels.claims``), and the accounting identity
opening receivables + invoiced = collected + written off + still open, with written off = loss
+ recovered + recovery pending. Both sides are sums of the same amounts in different orders:
they agree to rounding, 1e-10 of the amounts (as in ``tests/engine/test_timeline.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import portsim
from portsim.inputs.model import build_inputs
from properties.strategies import book_columns, model_sections, policy_terms, timeline_sections

PATHS = 200


@given(cols=book_columns(trade=True), sections=model_sections(
    kernels=("grouped", "per_customer")), timeline=timeline_sections(),
    policies=st.lists(policy_terms(), min_size=1, max_size=3))
def test_retained_loss_and_accounting_identity(cols: dict[str, Any], sections: dict[str, Any],
                                               timeline: dict[str, Any],
                                               policies: list[dict[str, Any]],
                                               make_book: Any, make_config: Any) -> None:
    book = make_book(**cols)
    cfg = make_config(base={**sections, **timeline}, simulation={"paths": PATHS},
                      insurance={"policies": {f"p{k}": t for k, t in enumerate(policies)}})
    ds = portsim.run(cfg, book, contributions=False)
    loss = ds["loss"].values[:, None]
    retained = ds["retained_loss"].values
    indemnity = ds["indemnity"].values
    assert np.all(indemnity >= 0.0)
    assert np.all(retained <= loss)
    assert np.all(retained >= -1e-10 * (loss + 1.0))
    tl = build_inputs(book, cfg).timeline
    assert tl is not None
    lhs = tl.opening_ar + ds["invoiced"].values
    rhs = ds["collected"].values + ds["written_off"].values + ds["still_open"].values
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        ds["written_off"].values,
        ds["loss"].values + ds["recovered"].values + ds["recovery_pending"].values,
        rtol=1e-10, atol=1e-6)
