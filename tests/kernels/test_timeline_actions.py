"""Credit management in the timeline kernel on hand-worked cases: binding credit limits,
monitoring rules on the simulated invoices and the actions of each alert level.

Periods of 30 days end on days 30, 60 and 90 (:data:`PERIOD_OF_DAY` of the kernel tests);
LGD 0.4, cost of goods 60 % paid 30 days after purchase; PD 0 unless a default event forces
the default; zero delay noise, so every payment day is the due date plus the delay.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_timeline_kernel import COGS, M, run_kernel

from portsim.config import ActionsConfig
from portsim.inputs.actions import action_arrays
from portsim.kernels.codes import DefaultMethod
from portsim.kernels.timeline import _quiet

pytestmark = pytest.mark.jitoff

NEVER = 1000.0  # a delay that pays nothing within the horizon


def _actions(red: dict[str, object], when: str, **table: object) -> ActionsConfig:
    """Levels green and red (with the actions ``red``), one rule raising to red."""
    return ActionsConfig.model_validate({
        "levels": [{"name": "green"}, {"name": "red", **red}],
        "rules": [{"name": "r", "level": "red", "when": [when]}], **table})


@pytest.mark.parametrize(("limit", "shipped_day_40"), [(300.0, True), (299.99, False)])
def test_a_credit_limit_binds_exactly_at_the_limit(limit: float, shipped_day_40: bool) -> None:
    # nothing is paid: open 100 at the as-of date; day 10: 100 + 100 = 200 ships; day 40:
    # 200 + 100 = 300 ships at a limit of 300 (exactly at it), not at 299.99; day 70: 150
    # more is over the limit either way. Refused: not issued, nor its goods bought (day 70 +
    # 30 is after the horizon)
    invoices = [[(-10, 20, 100.0), (10, 40, 100.0), (40, 70, 100.0), (70, 100, 150.0)]]
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=NEVER,
                     limits_bind=True, credit_limit=[limit])
    lost_40 = 0.0 if shipped_day_40 else 100.0
    np.testing.assert_array_equal(out["lost_sales"], np.full(M, 150.0 + lost_40))
    np.testing.assert_array_equal(out["issued_stop"],
                                  np.tile([0.0, lost_40, 150.0], (M, 1)))
    np.testing.assert_array_equal(out["supplier_stop"],
                                  np.tile([0.0, 0.0, COGS * lost_40], (M, 1)))
    np.testing.assert_array_equal(out["still_open"], np.full(M, 300.0 - lost_40))
    # without binding limits everything ships (and the kernel runs its plain loop)
    free = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=NEVER,
                      credit_limit=[limit])
    assert not free["lost_sales"].any()
    np.testing.assert_array_equal(free["still_open"], np.full(M, 450.0))


@pytest.mark.parametrize("monitored", [False, True])
def test_what_is_paid_no_longer_counts_against_the_limit(monitored: bool) -> None:
    # paid 5 days late, limit 250: on day 40 the open invoice (paid on day 25) is settled and
    # the one of day 10 (due 40) still open: 100 + 100 ≤ 250 ships; on day 70 the invoice of
    # day 40 (due 70) is open and that of day 10 (paid 45) settled: 100 + 150 = 250 ships;
    # with monitoring (rules that never fire) the same
    invoices = [[(-10, 20, 100.0), (10, 40, 100.0), (40, 70, 100.0), (70, 100, 150.0)]]
    act = _actions({}, "dbt > 1000") if monitored else None
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=5.0,
                     limits_bind=True, credit_limit=[250.0], actions=act)
    assert not out["lost_sales"].any()
    np.testing.assert_array_equal(out["collected"], np.tile([100.0, 100.0, 100.0, 150.0],
                                                            (M, 1)))


@pytest.mark.parametrize(("threshold", "red_day"), [(15, 30), (25, 60)])
def test_a_defaulting_customer_turns_red_and_stop_shipping_caps_its_loss(
        threshold: int, red_day: int) -> None:
    # a default event on day 85, nothing paid before it: the open invoice due on day 10 is
    # 20 days overdue at the end of day 30 and 50 at day 60; the rule "oldest overdue > 15"
    # fires on day 30, "> 25" on day 60 — red there, and shipping stops from the next day.
    # Planned: 10 on each of days 15, 30, 45, 60, 75 (due 30 days later).
    invoices = [[(-20, 10, 100.0), *((d, d + 30, 10.0) for d in (15, 30, 45, 60, 75))]]
    act = _actions({"stop_shipping": True}, f"oldest_overdue_days > {threshold}")
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=NEVER,
                     event_day=[85], actions=act)
    open_at_red = 100.0 + 10.0 * sum(d <= red_day for d in (15, 30, 45, 60, 75))
    planned_after = 10.0 * sum(d > red_day for d in (15, 30, 45, 60, 75))
    np.testing.assert_allclose(out["loss"], np.full(M, 0.4 * open_at_red), rtol=1e-15)
    np.testing.assert_array_equal(out["written_off"][:, 2], np.full(M, open_at_red))
    np.testing.assert_array_equal(out["lost_sales"], np.full(M, planned_after))
    # levels at the period ends 30, 60 (85 is the default: no later review), counted per path
    red_from = 0 if red_day == 30 else 1
    expected = np.zeros((2, 3), np.int64)
    expected[0, :red_from] = M
    expected[1, red_from:2] = M
    np.testing.assert_array_equal(out["level_count"], expected)
    np.testing.assert_array_equal(out["alerts"], np.tile([1, 1, 0], (M, 1)))
    np.testing.assert_array_equal(out["lead_days"], np.full(M, 85.0 - red_day))
    # without actions the same customer loses LGD × everything shipped before day 85
    calm = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=NEVER,
                      event_day=[85])
    np.testing.assert_allclose(calm["loss"], np.full(M, 0.4 * 150.0), rtol=1e-15)


def test_a_false_alert_is_a_red_customer_that_survives() -> None:
    # paid 70 days late, no default: red at day 60 (oldest overdue 50 > 40), a false alert
    invoices = [[(-20, 10, 100.0), (15, 45, 10.0)]]
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=70.0,
                     actions=_actions({}, "oldest_overdue_days > 40"))
    np.testing.assert_array_equal(out["alerts"], np.tile([1, 0, 1], (M, 1)))
    assert not out["lead_days"].any()
    np.testing.assert_array_equal(out["level_count"], [[M, 0, 0], [0, M, M]])


def test_late_payment_interest_matches_a_hand_computation() -> None:
    # green charges 10.15 % a year (ECB 2.15 % + 8 points), 80 % collected, on the days each
    # invoice is overdue: the open invoice of 50 due on day 5 and paid 20 days late (day 25)
    # brings 50·0.1015·20/365·0.8 in the first period; the invoice of 1000 due on day 40 and
    # paid on day 60 brings 1000·0.1015·20/365·0.8 in the second. From day 60 on the customer
    # is red (its invoices due in the last 25 days were paid 20 days late), which charges 1 %
    # a year: the invoice of 300 due on day 70, paid on day 90, brings 300·0.01·20/365·0.8.
    act = ActionsConfig.model_validate({
        "levels": [{"name": "green", "late_interest_rate": 0.1015},
                   {"name": "red", "late_interest_rate": 0.01}],
        "rules": [{"name": "r", "level": "red", "when": ["dbt >= 20"]}],
        "interest_collection_rate": 0.8, "window_days": 25})
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01],
                     [[(-20, 5, 50.0), (10, 40, 1000.0), (40, 70, 300.0)]], delay_mean=20.0,
                     actions=act)
    green, red = 0.1015 * 20 / 365.0 * 0.8, 0.01 * 20 / 365.0 * 0.8
    np.testing.assert_allclose(out["interest"],
                               np.tile([50.0 * green, 1000.0 * green, 300.0 * red], (M, 1)),
                               rtol=1e-14)
    np.testing.assert_array_equal(out["level_count"], [[M, 0, 0], [0, M, M]])


def test_terms_prepayment_retention_and_collection_escalation() -> None:
    # red from the first period end (the rule always holds): the invoice of 100 on day 45
    # keeps 80 % (20 lost), 25 % of that prepaid on day 45 (20), the 60 on credit due in 10
    # days (day 55) and paid 20 − 5 = 15 days late (day 70); costs: 7 for coming to red
    # (day 31) and 2 for the invoice (day 45). The open invoice is untouched.
    red = {"terms_days": 10, "prepaid_share": 0.25, "sales_retention": 0.8,
           "collection_shift_days": 5.0, "collection_cost_per_invoice": 2.0,
           "collection_cost_per_customer": 7.0}
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01],
                     [[(-20, 5, 50.0), (45, 75, 100.0)]], delay_mean=20.0,
                     actions=_actions(red, "oldest_overdue_days >= 0"))
    np.testing.assert_array_equal(out["collected"], np.tile([50.0, 20.0, 60.0, 0.0], (M, 1)))
    np.testing.assert_array_equal(out["lost_sales"], np.full(M, 20.0))
    np.testing.assert_array_equal(out["issued_stop"], np.tile([0.0, 20.0, 0.0], (M, 1)))
    np.testing.assert_array_equal(out["supplier_stop"], np.tile([0.0, 0.0, COGS * 20.0],
                                                                (M, 1)))
    np.testing.assert_array_equal(out["action_cost"], np.tile([0.0, 9.0, 0.0], (M, 1)))


def test_the_insurer_cancels_the_limit_of_a_red_buyer_for_later_deliveries() -> None:
    # red at day 30 (no actions of our own): of the 150 unpaid at the default on day 85, the
    # open 100 is a protracted claim on day 70 (due 10 + 60) and the insolvency claims the
    # other 50, of which 30 was delivered after day 30 (days 45, 60, 75)
    from portsim.engine.calls import apply_policies
    from portsim.kernels.codes import EventKind

    invoices = [[(-20, 10, 100.0), *((d, d + 30, 10.0) for d in (15, 30, 45, 60, 75))]]
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=NEVER,
                     event_day=[85], actions=_actions({}, "oldest_overdue_days > 15"), m=1)
    np.testing.assert_array_equal(out["events"], [[0, 0, 70, -1, EventKind.PROTRACTED],
                                                  [0, 0, 85, -1, EventKind.INSOLVENCY]])
    np.testing.assert_array_equal(out["event_values"], [[100.0, np.nan, 0.0],
                                                        [50.0, 0.4, 30.0]])
    # limit 1000 at 100 %: unchanged (factor 1), cancelled (0: the 20 delivered before red
    # only), cut to 130 (100 + 20 used before, so 10 of the later 30)
    factors = np.array([1.0, 0.0, 0.13])
    days = np.arange(92)
    claims = apply_policies(
        out["events"], out["event_values"][:, 0], out["event_values"][:, 1], path_start=0,
        n_paths=1, cover_limit=np.full((3, 1), 1000.0), insured_pct=np.ones((3, 1)),
        non_qualifying_loss=np.zeros(3), first_loss=np.zeros(3),
        before_cover=np.zeros(3, bool), max_liability=np.full(3, np.inf),
        settlement_lag=np.zeros(3, np.int64), year_of_day=np.zeros(92, np.int64), n_years=1,
        period_of_day=np.minimum((days - 1).clip(0) // 30, 3).astype(np.int64), n_days=90,
        recovery_lag_days=45, events_after=out["event_values"][:, 2],
        red_limit_factor=factors)
    np.testing.assert_allclose(claims.qualifying.sum(axis=0), [150.0, 120.0, 130.0],
                               rtol=1e-15)


@pytest.mark.parametrize(("when", "late", "util", "quiet"), [
    ("dbt > 30", 29, np.nan, True),  # at most 29 days late: dbt ≤ 29 cannot exceed 30
    ("dbt > 30", 30, np.nan, False),  # a mean of 30s may round above 30
    ("dbt >= 30", 29, np.nan, True),
    ("dbt >= 30", 30, np.nan, False),
    ("oldest_overdue_days > 60", 59, np.nan, True),
    ("oldest_overdue_days > 60", 61, np.nan, False),
    ("dbt < 5", 0, np.nan, False),  # a good payer can fire a "less than" rule
    ("dbt == 0", 0, np.nan, False),
    ("dbt != 0", 0, np.nan, True),  # every feature is 0 (or NaN)
    ("limit_utilisation > 0.8", 100, np.nan, True),  # no limit: never fires
    ("limit_utilisation > 0.8", 100, 0.8, True),
    ("limit_utilisation > 0.8", 100, 0.81, False),
])
def test_a_review_is_skipped_only_when_no_rule_can_fire(when: str, late: int, util: float,
                                                        quiet: bool) -> None:
    a = action_arrays(_actions({}, when), False, np.array([1.0]))
    assert _quiet(late, util, a.rule_level, a.cond_start, a.cond_feature, a.cond_op,
                  a.cond_value) == quiet
