"""Payment delays of the timeline kernel against the delay distribution, within Monte Carlo
standard errors: an invoice already overdue at the as-of date is paid from the delays longer
than its days overdue (it was not paid by then), not on the next day."""

from __future__ import annotations

import numpy as np
from scipy import stats
from test_timeline_kernel import DAILY, run_kernel

from portsim.inputs.timeline import noise_table
from portsim.kernels.codes import DefaultMethod

MEAN, SD, NOISE = 20.0, 10.0, 15.0  # delay propensity mean + SD·η (per path), noise sd; days
DUE = -30  # 30 days overdue at the as-of date (day 0)


def _conditional_mean_day() -> float:
    """E[paid day | paid on day 1 or later] of an invoice due on day ``DUE``: paid day
    DUE + ⌊D + 0.5⌋ with D ~ N(MEAN + SD·η, NOISE²) given η, averaged over η ~ N(0, 1)."""
    eta = np.linspace(-8.0, 8.0, 8001)
    weight = stats.norm.pdf(eta)
    weight /= weight.sum()
    k = np.arange(1 - DUE, 1 - DUE + 400)  # ⌊D + 0.5⌋ = k pays on day DUE + k ≥ 1
    prop = MEAN + SD * eta[:, None]
    pk = stats.norm.sf((k - 0.5 - prop) / NOISE) - stats.norm.sf((k + 0.5 - prop) / NOISE)
    given_eta = (pk * (DUE + k)).sum(axis=1) / pk.sum(axis=1)
    return float((weight * given_eta).sum())


def test_an_overdue_invoice_is_paid_at_its_conditional_mean_delay() -> None:
    m, per_path = 4000, 16
    out = run_kernel(DefaultMethod.GROUPED, [-np.inf], [0.01], [[(-60, DUE, 1.0)] * per_path],
                     delay_mean=MEAN, delay_sd=SD, delay_noise=NOISE,
                     noise_table=noise_table(), m=m, period_of_day=DAILY, seed=11)
    collected = out["collected"]
    assert collected[:, -1].sum() == 0.0  # all paid within the 200 days
    mean_day = collected[:, :-1] @ np.arange(1, 201) / per_path  # per path (m,)
    se = mean_day.std(ddof=1) / np.sqrt(m)  # the invoices of a path share its propensity
    expected = _conditional_mean_day()
    assert abs(mean_day.mean() - expected) < 4.0 * se, (mean_day.mean(), expected, se)
    # (moving every shorter delay to day 1 instead pays it on day 1 with probability
    # P(D < 30.5) = 0.72, D ~ N(20, 10² + 15²), and on day 4.0 on average: 9.9 here)
