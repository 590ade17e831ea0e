"""The timeline kernel of portsim.kernels.timeline on hand-worked cases, called directly.

PDs of 0 and 1, zero payment-delay noise and fixed LGDs make every outcome deterministic: an
invoice of a customer that does not default is paid ``delay_mean`` days after its due date
(not before its issue, not before day 1), one that defaults with an infinite hazard defaults
on day 1. Horizon: 90 days in three 30-day periods; index 3 of ``period_of_day`` is "after the
horizon". Open invoices with delay noise: a noise table of whole days and the delay stream's
bytes replayed, on days in periods of their own.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from portsim.config import ActionsConfig
from portsim.inputs.actions import action_arrays
from portsim.kernels.codes import DefaultMethod, EventKind, Stream
from portsim.kernels.rng import all_path_states, next_normal, next_u64
from portsim.kernels.timeline import timeline_paths

pytestmark = pytest.mark.jitoff

M = 3  # paths
N_DAYS = 90
PERIOD_OF_DAY = np.concatenate([[0], (np.arange(1, N_DAYS + 1) - 1) // 30, [3]]).astype(np.int64)
PROTRACTED_DAYS, RECOVERY_LAG, DPO, COGS = 60, 45, 30, 0.6


def path_states(m: int, stream: Stream) -> np.ndarray:
    """The states of one stream on the ``m`` paths of :func:`run_kernel`, (m, 2) uint64."""
    return np.ascontiguousarray(np.stack([np.arange(1, m + 1), np.full(m, 7 + stream)], 1)
                                .astype(np.uint64))


def run_kernel(method: DefaultMethod, threshold: list[float], hazard: list[float],
               invoices: list[list[tuple[int, int, float]]], *, delay_mean: float = 0.0,
               delay_sd: float = 0.0, delay_noise: float = 0.0,
               noise_table: np.ndarray | None = None, m: int = M,
               period_of_day: np.ndarray = PERIOD_OF_DAY, seed: int | None = None,
               event_day: list[int] | None = None, lgd: float = 0.4,
               credit_link: float = 0.0, drift_days: float = 0.0,
               drift_window: float = 182.625, actions: ActionsConfig | None = None,
               limits_bind: bool = False, credit_limit: list[float] | None = None,
               period_end_day: list[int] | None = None) -> dict[str, np.ndarray]:
    """Run the kernel on ``m`` paths of customers with the given copula thresholds, hazards
    and invoices ``(issue, due, amount)``; one factor, one group per customer, the same delay
    parameters for all (``noise_table`` (256,), default ``linspace(-2, 2, 256)``), the days
    ``1 .. len(period_of_day) - 2`` in ``period_of_day[-1]`` periods. The paths' streams
    start from :func:`path_states` (simple, for hand-worked draws), or with a ``seed`` from
    the engine's seeding (well mixed, for statistics). Credit management: ``actions``,
    ``limits_bind`` and ``credit_limit`` (default none) as :func:`action_arrays` takes them,
    the periods ending on ``period_end_day`` (default: the last day of each period)."""
    n = len(threshold)
    thr = np.array(threshold)
    n_periods = int(period_of_day[-1])
    if seed is None:
        states = {s: path_states(m, s) for s in Stream}
    else:
        every = all_path_states(seed, 0, m)
        states = {s: np.ascontiguousarray(every[:, s]) for s in Stream}
    inv = [row for rows in invoices for row in rows]
    out = {
        "loss": np.zeros(m), "ndef": np.zeros(m, np.int64), "sector_loss": np.zeros((m, 1)),
        "sector_ndef": np.zeros((m, 1), np.int64), "cust_loss": np.zeros(n, np.int64),
        "cust_ndef": np.zeros(n, np.int64), "collected": np.zeros((m, n_periods + 1)),
        **{k: np.zeros((m, n_periods)) for k in ("written_off", "recovered", "issued_stop",
                                                 "supplier_stop", "protracted")},
        "still_open": np.zeros(m), "pending": np.zeros(m), "n_prot": np.zeros(m, np.int64),
        "ev_int": np.zeros((64, 5), np.int64), "ev_float": np.zeros((64, 3)),
        "ev_count": np.zeros(1, np.int64), "logw": np.zeros(m),
    }
    act = action_arrays(actions, limits_bind,
                        np.full(n, np.nan) if credit_limit is None else np.array(credit_limit))
    out.update(lost_sales=np.zeros(m), interest=np.zeros((m, n_periods)),
               action_cost=np.zeros((m, n_periods)), alerts=np.zeros((m, 3), np.int64),
               lead_days=np.zeros(m),
               level_count=np.zeros((len(act.level_names), n_periods), np.int64))
    ends = (np.searchsorted(period_of_day[1:-1], np.arange(n_periods), side="right")
            if period_end_day is None else np.array(period_end_day)).astype(np.int64)
    named = {**act._asdict(), "period_end_day": ends}
    params = list(inspect.signature(getattr(timeline_paths, "py_func", timeline_paths))
                  .parameters)
    management = [named[k] for k in params[params.index("managed"):params.index("out_loss")]]
    loading, idio = np.full(n, 0.5), np.full(n, math.sqrt(0.75))
    timeline_paths(
        states[Stream.DEFAULT], states[Stream.LGD], states[Stream.DELAY],
        np.ones((1, 1)), np.zeros(1), np.zeros(1), 0.0, int(method),
        np.arange(n), np.zeros(n, np.int64), loading, idio, thr,
        np.zeros(n, np.int64), loading, idio, thr, np.array(hazard),
        np.zeros(n, np.int64) if event_day is None else np.array(event_day, np.int64),
        np.full(n, lgd), np.zeros(n), np.zeros(n), 0.0, np.zeros(n, np.int64),
        len(period_of_day) - 2, period_of_day,
        np.cumsum([0] + [len(r) for r in invoices]).astype(np.int64),
        np.array([r[2] for r in inv]), np.array([r[0] for r in inv], np.int64),
        np.array([r[1] for r in inv], np.int64),
        np.full(n, delay_mean), np.full(n, delay_sd), np.full(n, delay_noise), 0.0,
        np.linspace(-2.0, 2.0, 256) if noise_table is None else noise_table,
        credit_link, drift_days, drift_window,
        PROTRACTED_DAYS, RECOVERY_LAG, DPO, COGS, *management,
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
    out = run_kernel(method, [-np.inf], [0.01],
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
    out = run_kernel(method, [np.inf], [np.inf], [[(-10, 20, 300.0), (10, 40, 120.0)]])
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
    np.testing.assert_array_equal(out["event_values"], _rows(300.0, 0.4, 0.0))


def test_default_event_on_its_day_with_the_recovery_after_the_horizon() -> None:
    # PD 0 but a scenario's default event on day 50: the invoice due on day 60 is unpaid then;
    # its recovery (day 95) falls after the horizon
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], [[(-5, 20, 70.0), (30, 60, 80.0)]],
               event_day=[50])
    np.testing.assert_array_equal(out["collected"], _rows(70.0, 0.0, 0.0, 0.0))
    np.testing.assert_array_equal(out["written_off"], _rows(0.0, 80.0, 0.0))
    np.testing.assert_array_equal(out["loss"], np.full(M, 0.4 * 80.0))
    np.testing.assert_array_equal(out["pending"], np.full(M, 80.0 - 0.4 * 80.0))
    assert not out["recovered"].any()
    np.testing.assert_array_equal(out["events"][:, 2], np.full(M, 50))


def test_a_late_payment_is_a_protracted_default_paid_after_all() -> None:
    # paid 70 days after its due date (day 0): protracted on day 60, paid on day 70
    out = run_kernel(DefaultMethod.PER_CUSTOMER, [-np.inf], [0.01], [[(-30, 0, 100.0)]],
               delay_mean=70.0)
    np.testing.assert_array_equal(out["collected"], _rows(0.0, 0.0, 100.0, 0.0))
    np.testing.assert_array_equal(out["protracted"], _rows(0.0, 100.0, 0.0))
    np.testing.assert_array_equal(out["n_prot"], np.ones(M))
    np.testing.assert_array_equal(out["events"], [[p, 0, 60, 70, EventKind.PROTRACTED]
                                                  for p in range(M)])
    assert np.isnan(out["event_values"][:, 1]).all()
    assert not out["loss"].any()


#: Days 1 .. 200 each in a period of its own (column d − 1 of ``collected``; 200: after).
DAILY = np.concatenate([[0], np.arange(200), [200]]).astype(np.int64)


def _delay_bytes(m: int, n_invoices: int) -> np.ndarray:
    """The noise bytes of one customer's invoices on each path, (m, n_invoices): the delay
    stream draws the propensity η, then eight bytes per 64-bit draw, lowest first."""
    u64 = np.uint64  # a compiled call returns Python ints, which must go back as uint64
    out = np.empty((m, n_invoices), dtype=np.int64)
    for p, (d0, d1) in enumerate(path_states(m, Stream.DELAY)):
        _, d0, d1 = next_normal(d0, d1)
        for j in range(n_invoices):
            if j % 8 == 0:
                bits, d0, d1 = next_u64(u64(d0), u64(d1))
            out[p, j] = int(bits) >> (8 * (j % 8)) & 255
    return out


@pytest.mark.parametrize("event_day", [None, 60])
def test_open_invoices_are_paid_after_the_as_of_date_from_their_conditional_delay(
        event_day: int | None) -> None:
    # noise table: quantile k is k − 128 days (noise sd 1), propensity 31 days, PD 0; with a
    # default event on day 60 what is unpaid then is written off instead.
    # 30 days overdue (due −30): quantile k pays on day −30 + 31 + k − 128 = k − 127, so the
    # quantiles 128 .. 255 pay on days 1 .. 128; the byte b takes quantile 128 + ⌊b/2⌋, each
    # day two bytes of 256 (the clamp paid bytes 0 .. 128 on day 1).
    # 300 days overdue: no quantile pays on day 1 or later, so day 1 (as the clamp).
    # open, due on day 5: k − 92, quantiles 93 .. 255 (163 of them), byte b: 93 + ⌊163·b/256⌋.
    # forward (issued day 10, due 40): unchanged, max(40 + 31 + b − 128, 10) = max(b − 57, 10).
    m = 4
    kinds = [(-60, -30, 1.0)] * 12 + [(-330, -300, 1.0)] * 4 + [(-10, 5, 1.0)] * 8 \
        + [(10, 40, 1.0)] * 8
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], [kinds], delay_mean=31.0,
                     delay_noise=1.0, noise_table=np.arange(256) - 128.0, m=m,
                     period_of_day=DAILY, event_day=None if event_day is None else [event_day])
    b = _delay_bytes(m, len(kinds))
    paid = np.concatenate([1 + b[:, :12] // 2, np.ones((m, 4), np.int64),
                           1 + (163 * b[:, 16:24] >> 8), np.maximum(b[:, 24:] - 57, 10)], axis=1)
    assert np.bincount(1 + np.arange(256) // 2).tolist() == [0] + [2] * 128
    last = 201 if event_day is None else event_day  # paid before this day, else written off
    for p in range(m):
        days = paid[p][paid[p] < last]
        np.testing.assert_array_equal(out["collected"][p], np.bincount(days - 1, minlength=201))
        unpaid = np.zeros(200)
        if event_day is not None:
            unpaid[event_day - 1] = (paid[p] >= last).sum()
        np.testing.assert_array_equal(out["written_off"][p], unpaid)
    assert (paid[:, :12] > 1).any()  # not all on day 1
