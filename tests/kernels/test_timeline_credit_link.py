"""Payment delays linked to credit quality (``[timeline] delay_credit_link``) and lengthening
before a default (``predefault_drift_days``), in the timeline kernel called directly.

Statistics: one customer, loading 0.5 on one factor, PD 20 %, a hazard so small that its
default day is the last of the horizon (so its invoice is always paid first, and the observed
days beyond terms are the propensity's, rounded). With ρ > 0 the customers that default pay
later than the survivors by E[D | X < c] − E[D | X ≥ c], D = mean − sd·ρ·ε − f·Y + …, computed
here by numerical integration over the factor Y, within 4 Monte Carlo standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats
from test_timeline_kernel import DAILY, run_kernel

from portsim.kernels.codes import DefaultMethod

LOADING, IDIO = 0.5, math.sqrt(0.75)  # as run_kernel sets them
MEAN, SD = 20.0, 10.0
ISSUE, DUE = 1, 30


def _implied_gap(rho: float, p_default: float) -> float:
    """E[D | default] − E[D | survival] for D = MEAN + SD·(−ρ·ε + √(1 − ρ²)·η′), default when
    LOADING·Y + IDIO·ε < c = Φ⁻¹(p_default), Y, ε, η′ independent N(0, 1).

    E[ε·1{ε < (c − aY)/b}] = −φ((c − aY)/b), integrated over Y numerically; E[ε] = 0 gives
    the survivors' share: E[ε | survival] = −E[ε·1{default}] / (1 − p)."""
    c = special.ndtri(p_default)

    def inner(y: float) -> float:
        return -stats.norm.pdf((c - LOADING * y) / IDIO) * stats.norm.pdf(y)

    e_eps_def, _ = integrate.quad(inner, -12.0, 12.0, epsabs=1e-12)
    p, _ = integrate.quad(lambda y: stats.norm.cdf((c - LOADING * y) / IDIO)
                          * stats.norm.pdf(y), -12.0, 12.0, epsabs=1e-12)
    gap_eps = e_eps_def / p - (-e_eps_def) / (1.0 - p)  # E[ε | def] − E[ε | surv]
    return -SD * rho * gap_eps


@pytest.mark.parametrize("method", [DefaultMethod.PER_CUSTOMER, DefaultMethod.GROUPED])
def test_defaulters_pay_later_than_survivors_by_the_implied_gap(method: DefaultMethod) -> None:
    m, rho, p_default = 20000, 0.6, 0.2
    out = run_kernel(method, [float(special.ndtri(p_default))], [1e-9],
                     [[(ISSUE, DUE, 1.0)]], delay_mean=MEAN, delay_sd=SD,
                     m=m, period_of_day=DAILY, seed=23, credit_link=rho)
    collected = out["collected"]
    assert np.all(collected[:, :-1].sum(axis=1) == 1.0)  # paid within the 200 days
    dbt = collected[:, :-1].argmax(axis=1) + 1 - DUE
    defaulted = out["ndef"] == 1
    d, s = dbt[defaulted], dbt[~defaulted]
    gap = d.mean() - s.mean()
    se = math.sqrt(d.var(ddof=1) / d.size + s.var(ddof=1) / s.size)
    implied = _implied_gap(rho, p_default)
    assert implied > 10.0 * se  # the test can tell a link from none
    assert abs(gap - implied) < 4.0 * se, (gap, implied, se)
    # the link leaves the default draws alone: the same paths default as without it
    flat = run_kernel(method, [float(special.ndtri(p_default))], [1e-9],
                      [[(ISSUE, DUE, 1.0)]], delay_mean=MEAN, delay_sd=SD,
                      m=m, period_of_day=DAILY, seed=23)
    np.testing.assert_array_equal(flat["ndef"], out["ndef"])
    dbt_flat = flat["collected"][:, :-1].argmax(axis=1) + 1 - DUE
    assert abs(dbt_flat[defaulted].mean() - dbt_flat[~defaulted].mean()) < 4.0 * se


@pytest.mark.jitoff
def test_a_full_link_makes_the_propensity_the_credit_shock() -> None:
    # ρ = 1: the propensity is mean − sd·ε exactly (no delay normal); per-customer method, so
    # ε is the default stream's second normal (the first is the factor)
    from test_timeline_kernel import path_states

    from portsim.kernels.codes import Stream
    from portsim.kernels.rng import next_normal

    out = run_kernel(DefaultMethod.PER_CUSTOMER, [-np.inf], [0.01], [[(ISSUE, DUE, 1.0)]],
                     delay_mean=MEAN, delay_sd=SD, period_of_day=DAILY, credit_link=1.0)
    for p, (s0, s1) in enumerate(path_states(3, Stream.DEFAULT)):
        _, s0, s1 = next_normal(s0, s1)
        eps = next_normal(s0, s1)[0]
        paid = max(DUE + math.floor(MEAN - SD * eps + 0.5), ISSUE, 1)
        assert out["collected"][p, paid - 1] == 1.0


@pytest.mark.jitoff
def test_the_predefault_drift_delays_invoices_due_near_the_default() -> None:
    # default event on day 150, drift 20 days over a 182.625-day window, mean delay 5:
    # due 100 → 20·(1 − 50/182.625) = 14.52 days more: paid 100 + ⌊5 + 14.52 + 0.5⌋ = 120;
    # due 120 → 20·(1 − 30/182.625) = 16.71: paid 120 + ⌊22.21⌋ = 142;
    # due 10 (140 days before, within the window) → 20·(1 − 140/182.625) = 4.67: paid 20;
    # due −40 (190 days before: outside the window) → on time + 5: day 1 (open, clamped up);
    # without the default event no drift: 105, 125, 15
    invoices = [[(-70, -40, 1.0), (1, 10, 2.0), (70, 100, 4.0), (90, 120, 8.0)]]
    hit = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=5.0,
                     period_of_day=DAILY, event_day=[150], drift_days=20.0)
    calm = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], invoices, delay_mean=5.0,
                      period_of_day=DAILY, drift_days=20.0)
    for out, days in ((hit, (1, 20, 120, 142)), (calm, (1, 15, 105, 125))):
        expected = np.zeros(201)
        for d, a in zip(days, (1.0, 2.0, 4.0, 8.0), strict=True):
            expected[d - 1] += a
        np.testing.assert_array_equal(out["collected"], np.tile(expected, (3, 1)))
    assert not hit["written_off"].any()
