"""The delay–credit link calibration: the Gauss–Hermite conditional means against their closed
form, and ρ and the pre-default drift recovered from histories generated with known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from portsim.earlywarning.delaylink import calibrate_delay_link, shock_means

START = pd.Timestamp("2023-01-01")
MONTHS = 36
YEARS = 2.0  # defaults fall in the last 24 months


def test_shock_means_equal_the_closed_form() -> None:
    # (eps, X) are jointly normal with Cov = sqrt(1 - a^2): E[eps 1{X < c}] = -sqrt(1-a^2) phi(c)
    p = np.array([0.002, 0.03, 0.2, 0.6])
    a = np.array([0.0, 0.3, 0.5, 0.7])
    joint = -np.sqrt(1 - a**2) * stats.norm.pdf(special.ndtri(p))
    m_default, m_survive = shock_means(p, a)
    assert m_default == pytest.approx(joint.sum() / p.sum(), rel=1e-10)
    assert m_survive == pytest.approx(-joint.sum() / (1 - p).sum(), rel=1e-10)
    with pytest.raises(ValueError, match="PDs in"):
        shock_means([0.0], [0.2])


def generate(rho: float, drift: float, months: int, *, n: int = 4000, delay_mean: float = 12.0,
             delay_sd: float = 8.0, noise: float = 5.0, loading: float = 0.4,
             seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Monthly invoices due 30 days after issue for ``n`` customers over 36 months, paid per
    the timeline's model (own factor per customer, so the factor integral is exact; no factor
    term in the delays). A customer defaults iff its latent X is below the threshold of its PD
    over two years, on a uniform day of the last 24 months; it is invoiced up to its default
    and an invoice paid after its default is unpaid. Returns history, defaults and PDs."""
    rng = np.random.default_rng(seed)
    p12 = rng.uniform(0.02, 0.12, n)
    y, eps, eta = rng.standard_normal((3, n))
    x = loading * y + np.sqrt(1 - loading**2) * eps
    defaulted = x < special.ndtri(1 - (1 - p12) ** YEARS)
    first = START + pd.DateOffset(months=MONTHS - 24)
    span = (START + pd.DateOffset(months=MONTHS) - first).days
    default_day = first + pd.to_timedelta(rng.integers(0, span, n), unit="D")
    propensity = delay_mean + delay_sd * (-rho * eps + np.sqrt(1 - rho**2) * eta)
    issue = pd.date_range(START, periods=MONTHS, freq="MS")
    cust = np.repeat(np.arange(n), MONTHS)
    issued = np.tile(issue.to_numpy(), n)
    due = issued + np.timedelta64(30, "D")
    t_default = np.where(defaulted[cust], default_day.to_numpy()[cust],
                         np.datetime64("2100-01-01"))
    before = (t_default - due) / np.timedelta64(1, "D")
    extra = drift * np.clip(1 - before / (months * 30.4375), 0, None)
    delay = np.rint(propensity[cust] + noise * rng.standard_normal(cust.size)
                    + np.where(before >= 0, extra, 0.0))
    paid = due + delay.astype("timedelta64[D]")
    keep = issued <= t_default
    paid = np.where(paid <= t_default, paid, np.datetime64("NaT"))
    history = pd.DataFrame({"customer": cust, "due_date": due, "paid_date": paid})[keep]
    defaults = pd.DataFrame({"customer": np.flatnonzero(defaulted),
                             "default_date": default_day[defaulted]})
    return history.reset_index(drop=True), defaults, p12


@pytest.mark.parametrize(("rho", "drift", "months"), [(0.5, 30.0, 6), (-0.3, 60.0, 9)])
def test_known_link_and_drift_are_recovered(rho: float, drift: float, months: int) -> None:
    history, defaults, p12 = generate(rho, drift, months)
    res = calibrate_delay_link(history, defaults, p12, np.full(p12.size, 0.4), 8.0,
                               years=YEARS, predefault_months=months)
    assert res.defaulters > 200
    assert res.drift_invoices > 1000
    assert abs(res.delay_credit_link - rho) < 2 * res.delay_credit_link_se
    assert abs(res.predefault_drift_days - drift) < 2 * res.predefault_drift_days_se
    assert res.delay_credit_link_se < 0.1
    assert res.predefault_drift_days_se < 0.1 * drift
    lines = res.toml()
    assert lines[0] == "[timeline]"
    assert lines[1] == f"delay_credit_link = {res.delay_credit_link:.3f}"
    assert lines[2] == f"predefault_drift_days = {res.predefault_drift_days:.1f}"
    assert lines[3] == f"predefault_months = {months}"


def test_the_guard_removes_the_bias_of_invoices_unpaid_at_the_default() -> None:
    # invoice noise of 15 days: many of the last invoices are paid after the default
    history, defaults, p12 = generate(-0.5, 60.0, 6, noise=15.0, seed=2)
    loading = np.full(p12.size, 0.4)
    res = calibrate_delay_link(history, defaults, p12, loading, 8.0, years=YEARS)
    assert res.guard_days > 0
    assert abs(res.predefault_drift_days - 60.0) < 2 * res.predefault_drift_days_se
    # without it, the late payments of the last invoices are missing: the drift is too low
    biased = calibrate_delay_link(history, defaults, p12, loading, 8.0, years=YEARS,
                                  guard_days=0)
    assert biased.guard_days == 0
    assert biased.predefault_drift_days < 60.0 - 4 * biased.predefault_drift_days_se


def test_no_defaulters_leave_the_estimates_nan() -> None:
    history, defaults, p12 = generate(0.0, 10.0, 6, n=200)
    res = calibrate_delay_link(history, defaults.iloc[:0], p12, np.full(p12.size, 0.4), 8.0,
                               years=YEARS)
    assert np.isnan(res.delay_credit_link)
    assert np.isnan(res.predefault_drift_days)
    assert res.toml() == []
