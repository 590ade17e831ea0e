"""The timeline kernel of portsim.kernels.timeline on hand-worked cases, called directly.

PDs of 0 and 1, zero payment-delay noise and fixed LGDs make every outcome deterministic: an
invoice of a customer that does not default is paid ``delay_mean`` days after its due date
(not before its issue, not before day 1), one that defaults with an infinite hazard defaults
on day 1. Horizon: 90 days in three 30-day periods; index 3 of ``period_of_day`` is "after the
horizon".
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from portsim.kernels.codes import DefaultMethod, EventKind, Stream
from portsim.kernels.timeline import timeline_paths

pytestmark = pytest.mark.jitoff

M = 3  # paths
N_DAYS = 90
PERIOD_OF_DAY = np.concatenate([[0], (np.arange(1, N_DAYS + 1) - 1) // 30, [3]]).astype(np.int64)
PROTRACTED_DAYS, RECOVERY_LAG, DPO, COGS = 60, 45, 30, 0.6


def _run(method: DefaultMethod, threshold: list[float], hazard: list[float],
         invoices: list[list[tuple[int, int, float]]], *, delay_mean: float = 0.0,
         event_day: list[int] | None = None, lgd: float = 0.4) -> dict[str, np.ndarray]:
    """Run the kernel on customers with the given copula thresholds, hazards and invoices
    ``(issue, due, amount)``; one factor, one group per customer, no delay noise."""
    n = len(threshold)
    thr = np.array(threshold)
    states = {s: np.ascontiguousarray(np.stack([np.arange(1, M + 1), np.full(M, 7 + s)], 1)
                                      .astype(np.uint64)) for s in Stream}
    inv = [row for rows in invoices for row in rows]
    out = {
        "loss": np.zeros(M), "ndef": np.zeros(M, np.int64), "sector_loss": np.zeros((M, 1)),
        "sector_ndef": np.zeros((M, 1), np.int64), "cust_loss": np.zeros(n, np.int64),
        "cust_ndef": np.zeros(n, np.int64), "collected": np.zeros((M, 4)),
        **{k: np.zeros((M, 3)) for k in ("written_off", "recovered", "issued_stop",
                                        "supplier_stop", "protracted")},
        "still_open": np.zeros(M), "pending": np.zeros(M), "n_prot": np.zeros(M, np.int64),
        "ev_int": np.zeros((64, 5), np.int64), "ev_float": np.zeros((64, 2)),
        "ev_count": np.zeros(1, np.int64), "logw": np.zeros(M),
    }
    loading, idio = np.full(n, 0.5), np.full(n, math.sqrt(0.75))
    timeline_paths(
        states[Stream.DEFAULT], states[Stream.LGD], states[Stream.DELAY],
        np.ones((1, 1)), np.zeros(1), np.zeros(1), 0.0, int(method),
        np.arange(n), np.zeros(n, np.int64), loading, idio, thr,
        np.zeros(n, np.int64), loading, idio, thr, np.array(hazard),
        np.zeros(n, np.int64) if event_day is None else np.array(event_day, np.int64),
        np.full(n, lgd), np.zeros(n), np.zeros(n), 0.0, np.zeros(n, np.int64),
        N_DAYS, PERIOD_OF_DAY,
        np.cumsum([0] + [len(r) for r in invoices]).astype(np.int64),
        np.array([r[2] for r in inv]), np.array([r[0] for r in inv], np.int64),
        np.array([r[1] for r in inv], np.int64),
        np.full(n, delay_mean), np.zeros(n), np.zeros(n), 0.0, np.linspace(-2.0, 2.0, 256),
        PROTRACTED_DAYS, RECOVERY_LAG, DPO, COGS,
        *out.values(),
    )
    out["events"] = out["ev_int"][: out["ev_count"][0]]
    out["event_values"] = out["ev_float"][: out["ev_count"][0]]
    return out


def _rows(*row: float) -> np.ndarray:
    """The same row on every path."""
    return np.tile(np.asarray(row, dtype=float), (M, 1))


@pytest.mark.parametrize("method", [DefaultMethod.PER_CUSTOMER, DefaultMethod.GROUPED])
def test_pd_zero_and_no_delay_collect_on_the_due_dates(method: DefaultMethod) -> None:
    # (issue, due, amount): an open invoice due on day 0 is paid on day 1; the last is due
    # after the horizon and stays open
    out = _run(method, [-np.inf], [0.01],
               [[(-20, 0, 500.0), (5, 35, 100.0), (40, 85, 200.0), (70, 100, 50.0)]])
    np.testing.assert_array_equal(out["collected"], _rows(500.0, 100.0, 200.0, 50.0))
    np.testing.assert_array_equal(out["still_open"], np.full(M, 50.0))
    for k in ("written_off", "recovered", "issued_stop", "supplier_stop", "protracted"):
        assert not out[k].any(), k
    assert not out["loss"].any()
    assert not out["ndef"].any()
    assert out["ev_count"][0] == 0


@pytest.mark.parametrize("method", [DefaultMethod.PER_CUSTOMER, DefaultMethod.GROUPED])
def test_pd_one_with_infinite_hazard_defaults_on_day_one(method: DefaultMethod) -> None:
    # open invoice 300 (due day 20): unpaid at the default, written off on day 1, 40 % lost,
    # 180 recovered on day 46; invoice 120 issued on day 10: never issued, nor its purchase
    # (60 % of it) paid on day 40
    out = _run(method, [np.inf], [np.inf], [[(-10, 20, 300.0), (10, 40, 120.0)]])
    loss = 0.4 * 300.0
    np.testing.assert_array_equal(out["loss"], np.full(M, loss))
    np.testing.assert_array_equal(out["ndef"], np.ones(M))
    np.testing.assert_array_equal(out["written_off"], _rows(300.0, 0.0, 0.0))
    np.testing.assert_array_equal(out["recovered"], _rows(0.0, 300.0 - loss, 0.0))
    np.testing.assert_array_equal(out["issued_stop"], _rows(120.0, 0.0, 0.0))
    np.testing.assert_array_equal(out["supplier_stop"], _rows(0.0, COGS * 120.0, 0.0))
    assert not out["collected"].any()
    np.testing.assert_array_equal(out["cust_loss"], [M * 12000])  # cents
    np.testing.assert_array_equal(out["cust_ndef"], [M])
    np.testing.assert_array_equal(out["events"], [[p, 0, 1, -1, EventKind.INSOLVENCY]
                                                  for p in range(M)])
    np.testing.assert_array_equal(out["event_values"], _rows(300.0, 0.4))


def test_default_event_on_its_day_with_the_recovery_after_the_horizon() -> None:
    # PD 0 but a scenario's default event on day 50: the invoice due on day 60 is unpaid then;
    # its recovery (day 95) falls after the horizon
    out = _run(DefaultMethod.GROUPED, [-np.inf], [0.01], [[(-5, 20, 70.0), (30, 60, 80.0)]],
               event_day=[50])
    np.testing.assert_array_equal(out["collected"], _rows(70.0, 0.0, 0.0, 0.0))
    np.testing.assert_array_equal(out["written_off"], _rows(0.0, 80.0, 0.0))
    np.testing.assert_array_equal(out["loss"], np.full(M, 0.4 * 80.0))
    np.testing.assert_array_equal(out["pending"], np.full(M, 80.0 - 0.4 * 80.0))
    assert not out["recovered"].any()
    np.testing.assert_array_equal(out["events"][:, 2], np.full(M, 50))


def test_a_late_payment_is_a_protracted_default_paid_after_all() -> None:
    # paid 70 days after its due date (day 0): protracted on day 60, paid on day 70
    out = _run(DefaultMethod.PER_CUSTOMER, [-np.inf], [0.01], [[(-30, 0, 100.0)]],
               delay_mean=70.0)
    np.testing.assert_array_equal(out["collected"], _rows(0.0, 0.0, 100.0, 0.0))
    np.testing.assert_array_equal(out["protracted"], _rows(0.0, 100.0, 0.0))
    np.testing.assert_array_equal(out["n_prot"], np.ones(M))
    np.testing.assert_array_equal(out["events"], [[p, 0, 60, 70, EventKind.PROTRACTED]
                                                  for p in range(M)])
    assert np.isnan(out["event_values"][:, 1]).all()
    assert not out["loss"].any()
