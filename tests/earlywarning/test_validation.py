"""Validation metrics, each against an independent computation or a hand-worked case."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from sklearn.metrics import brier_score_loss, roc_auc_score

from portsim.earlywarning import validation as ev


def sample(n: int = 2000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes drawn from their PDs, PDs rounded so that scores tie."""
    rng = np.random.default_rng(seed)
    pd_ = np.round(1.0 / (1.0 + np.exp(-(rng.normal(size=n) * 1.2 - 2.5))), 3)
    return rng.random(n) < pd_, pd_


def test_auc_hand_worked_with_a_tie() -> None:
    # defaulter 0.9 is above all three non-defaulters (3), defaulter 0.4 ties one (½) and is
    # above two (2): AUC = 5.5 / 6
    res = ev.auc_delong([1, 1, 0, 0, 0], [0.9, 0.4, 0.4, 0.2, 0.1])
    assert res.auc == pytest.approx(5.5 / 6, abs=1e-15)
    assert res.gini == pytest.approx(2 * 5.5 / 6 - 1, abs=1e-15)


def test_auc_equals_sklearn() -> None:
    y, p = sample()
    assert ev.auc_delong(y, p).auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_delong_variance_equals_its_pairwise_definition() -> None:
    y, p = sample(n=300, seed=5)
    x, z = p[y], p[~y]
    psi_ = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    v10, v01 = psi_.mean(axis=1), psi_.mean(axis=0)
    var = v10.var(ddof=1) / x.size + v01.var(ddof=1) / z.size
    res = ev.auc_delong(y, p)
    assert res.se == pytest.approx(math.sqrt(var), rel=1e-12)
    half = stats.norm.ppf(0.975) * res.se
    assert (res.low, res.high) == pytest.approx((res.auc - half, res.auc + half), abs=1e-12)


def test_delong_se_matches_a_seeded_bootstrap() -> None:
    y, p = sample(n=3000, seed=7)
    rng = np.random.default_rng(11)
    n_boot = 2000
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, y.size, y.size)
        boots.append(roc_auc_score(y[idx], p[idx]))
    se_boot = float(np.std(boots, ddof=1))
    # the bootstrap SE itself has a relative standard error of about 1/sqrt(2(B-1))
    tol = 4 * se_boot / math.sqrt(2 * (n_boot - 1))
    assert abs(ev.auc_delong(y, p).se - se_boot) < tol


def test_ks_equals_scipy() -> None:
    y, p = sample()
    expected = stats.ks_2samp(p[y], p[~y]).statistic
    assert ev.ks_statistic(y, p) == pytest.approx(expected, abs=1e-12)


def test_brier_equals_sklearn() -> None:
    y, p = sample()
    assert ev.brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-15)
    assert set(ev.discrimination(y, p)) == {
        "auc", "auc_low", "auc_high", "gini", "gini_low", "gini_high", "ks", "ks_low",
        "ks_high", "brier", "brier_low", "brier_high"}


def test_brier_interval_covers_the_known_expected_brier() -> None:
    """PDs drawn from Beta(a, b), outcomes from the PDs: the expected Brier score is
    E[p(1 - p)] = a/(a+b) - a(a+1)/((a+b)(a+b+1)), and the 95 % intervals of 400 samples
    cover it about 95 % of the time with half-widths of 1.96 times the estimates' spread."""
    a, b, n, reps = 0.5, 20.0, 1000, 400
    truth = a / (a + b) - a * (a + 1) / ((a + b) * (a + b + 1))
    rng = np.random.default_rng(21)
    estimates, halves, covered = [], [], 0
    for _ in range(reps):
        p = rng.beta(a, b, n)
        res = ev.brier_interval(rng.random(n) < p, p)
        covered += res.low <= truth <= res.high
        estimates.append(res.estimate)
        halves.append((res.high - res.low) / 2)
    assert abs(covered / reps - 0.95) < 3 * math.sqrt(0.95 * 0.05 / reps)
    spread = float(np.std(estimates, ddof=1))  # relative standard error ~ 1/sqrt(2(reps-1))
    se = float(np.mean(halves)) / stats.norm.ppf(0.975)
    assert abs(se / spread - 1) < 4 / math.sqrt(2 * (reps - 1))


def test_brier_interval_hand_worked() -> None:
    # squared errors 0.01, 0.64, 0.04, 0.25: mean 0.235, se = sd / 2 = 0.1405347; the
    # interval 0.235 -+ 0.2754 is clipped at 0
    res = ev.brier_interval([0, 1, 0, 1], [0.1, 0.2, 0.2, 0.5])
    half = stats.norm.ppf(0.975) * np.std([0.01, 0.64, 0.04, 0.25], ddof=1) / 2
    assert res.estimate == pytest.approx(0.235, abs=1e-15)
    assert (res.low, res.high) == pytest.approx((0.0, 0.235 + half), abs=1e-12)
    wide = ev.brier_interval(np.arange(400) % 4 == 1, np.tile([0.1, 0.2, 0.2, 0.5], 100))
    half = stats.norm.ppf(0.975) * np.std(np.tile([0.01, 0.64, 0.04, 0.25], 100),
                                          ddof=1) / 20
    assert (wide.low, wide.high) == pytest.approx((0.235 - half, 0.235 + half), abs=1e-12)
    assert ev.brier_interval([0, 1], [0.0, 1.0]) == ev.Interval(0.0, 0.0, 0.0)


def test_ks_interval_of_one_defaulter_and_one_survivor_is_the_point_one() -> None:
    # each group has one score: every replicate is the sample, so the band is empty
    assert ev.ks_interval([1, 0], [0.9, 0.1]) == ev.Interval(1.0, 1.0, 1.0)


def test_ks_interval_matches_a_brute_force_bootstrap() -> None:
    """The half-width c against the same quantile of sup|D* - D| computed by resampling
    indices within each group and evaluating the ECDFs with scipy: equal within the spread
    of the brute-force 95 % quantile (its order statistics j +- 3 sqrt(B q (1 - q)))."""
    y, p = sample(n=1500, seed=9)
    res = ev.ks_interval(y, p, replicates=2000, seed=4)
    c = res.high - res.estimate
    bad, good = p[y], p[~y]
    grid = np.unique(p)

    def gap(b: np.ndarray, g: np.ndarray) -> np.ndarray:
        return (stats.ecdf(g).cdf.evaluate(grid) - stats.ecdf(b).cdf.evaluate(grid))

    base = gap(bad, good)
    rng = np.random.default_rng(17)
    n_boot, q = 2000, 0.95
    dev = np.sort([np.max(np.abs(gap(rng.choice(bad, bad.size), rng.choice(good, good.size))
                                 - base)) for _ in range(n_boot)])
    spread = 3 * math.sqrt(n_boot * q * (1 - q))
    low, high = dev[int(n_boot * q - spread)], dev[int(n_boot * q + spread)]
    assert low <= c <= high
    assert res.estimate == pytest.approx(np.max(np.abs(base)), abs=1e-12)
    assert ev.ks_interval(y, p, replicates=2000, seed=4) == res  # seeded


def test_ks_interval_covers_the_known_ks() -> None:
    """Scores N(1, 1) for 150 defaulters and N(0, 1) for 900 survivors: the KS distance is
    2 Phi(1/2) - 1. The band is conservative: it covers at least 95 % of 150 samples (within
    3 binomial standard errors)."""
    truth = 2 * stats.norm.cdf(0.5) - 1
    rng = np.random.default_rng(8)
    y = np.r_[np.ones(150, dtype=bool), np.zeros(900, dtype=bool)]
    reps, covered = 150, 0
    for seed in range(reps):
        res = ev.ks_interval(y, np.r_[rng.normal(1, 1, 150), rng.normal(0, 1, 900)],
                             replicates=400, seed=seed)
        covered += res.low <= truth <= res.high
    assert covered / reps >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps)


def test_metrics_refuse_one_class_and_nan() -> None:
    with pytest.raises(ValueError, match="needs defaulted and non-defaulted"):
        ev.auc_delong([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="scores hold NaN"):
        ev.brier_score([0, 1], [0.1, np.nan])


def test_jeffreys_test_against_integrated_beta_density() -> None:
    # grade A: 100 obligors, 5 defaults at PD 2 % (too low); grade B: 200, 2 defaults at 2 %
    grade = ["A"] * 100 + ["B"] * 200
    y = np.zeros(300, dtype=bool)
    y[:5] = True
    y[100:102] = True
    out = ev.jeffreys_test(grade, y, np.full(300, 0.02))
    for name, n, d in (("A", 100, 5), ("B", 200, 2)):
        a, b = d + 0.5, n - d + 0.5
        density = lambda t, a=a, b=b: t ** (a - 1) * (1 - t) ** (b - 1)  # noqa: E731
        beta_fn = math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
        p_value = integrate.quad(density, 0, 0.02, epsabs=0, epsrel=1e-12)[0] / beta_fn
        binom_p = sum(math.comb(n, k) * 0.02**k * 0.98 ** (n - k) for k in range(d, n + 1))
        row = out.loc[name]
        assert (row["n"], row["defaults"]) == (n, d)
        assert row["p_value"] == pytest.approx(p_value, rel=1e-6)
        assert row["binomial_p"] == pytest.approx(binom_p, rel=1e-9)
        assert row["jeffreys_low"] < d / n < row["jeffreys_high"]
    assert out.loc["A", "rejected"]
    assert not out.loc["B", "rejected"]


def test_hosmer_lemeshow_against_two_class_formula() -> None:
    y, p = sample(n=1000, seed=9)
    p = p + np.linspace(0, 1e-6, p.size)  # distinct PDs: the groups are unambiguous
    groups = pd.qcut(stats.rankdata(p), 10, labels=False)
    stat = 0.0
    for g in range(10):
        m = groups == g
        o1, e1, n = y[m].sum(), p[m].sum(), m.sum()
        stat += (o1 - e1) ** 2 / e1 + ((n - o1) - (n - e1)) ** 2 / (n - e1)
    res = ev.hosmer_lemeshow(y, p, groups=10)
    assert res.statistic == pytest.approx(stat, rel=1e-10)
    assert res.dof == 8
    assert res.p_value == pytest.approx(stats.chi2.sf(stat, 8), rel=1e-10)
    assert res.p_value > 1e-3  # the PDs the outcomes were drawn from fit
    assert ev.hosmer_lemeshow(y, np.minimum(2 * p, 1 - 1e-9)).p_value < 1e-6


def test_psi_hand_worked() -> None:
    # (−.15)ln(.4) + (−.05)ln(.8) + .05 ln(1.2) + .15 ln(1.6) = 0.22822
    value = ev.psi_from_shares([0.25] * 4, [0.1, 0.2, 0.3, 0.4])
    assert value == pytest.approx(0.228218, abs=1e-6)


def test_psi_of_periods() -> None:
    rng = np.random.default_rng(2)
    before = rng.normal(size=5000)
    assert ev.psi(before, before) == 0.0
    assert ev.psi(before, rng.normal(size=5000)) < 0.1  # same population
    assert ev.psi(before, rng.normal(loc=1.0, size=5000)) > 0.25  # shifted


def backtest_panel() -> pd.DataFrame:
    dates = pd.to_datetime(["2024-09-30", "2024-12-31", "2025-03-31"] * 3)
    return pd.DataFrame({
        "customer": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
        "date": dates,
        "level": ["green", "amber", "red", "green", "amber", "green", "green", "green", "red"],
        "pd": [0.01, 0.03, 0.10, 0.01, 0.02, 0.01, 0.005, 0.005, 0.09],
        "defaulted_12m": [True] * 3 + [False] * 6,
        "default_date": [pd.Timestamp("2025-06-30")] * 3 + [pd.NaT] * 6,
    })


def test_backtest_hand_worked() -> None:
    out = ev.backtest_levels(backtest_panel())
    assert list(out.index) == ["green", "amber", "red"]
    assert list(out["n"]) == [5, 2, 2]
    assert list(out["default_rate"]) == pytest.approx([1 / 5, 1 / 2, 1 / 2])
    assert out.loc["amber", "mean_pd"] == pytest.approx(0.025)
    # red: hit A 2025-03 of A's 3 default rows; false alarm C 2025-03 of 6 quiet rows
    assert out.loc["red", "hit_rate"] == pytest.approx(1 / 3)
    assert out.loc["red", "false_alarm_rate"] == pytest.approx(1 / 6)
    assert out.loc["red", "noise_to_signal"] == pytest.approx(0.5)
    # amber or worse: A's amber and red; B's amber and C's red
    assert out.loc["amber", "hit_rate"] == pytest.approx(2 / 3)
    assert out.loc["amber", "false_alarm_rate"] == pytest.approx(2 / 6)
    assert out.loc["green", "noise_to_signal"] == pytest.approx(1.0)
    # first red 2025-03-31, default 2025-06-30: 91 days; first amber 2024-12-31: 181 days
    assert out.loc["red", "lead_time_months"] == pytest.approx(91 / ev.DAYS_PER_MONTH)
    assert out.loc["amber", "lead_time_months"] == pytest.approx(181 / ev.DAYS_PER_MONTH)
    assert list(out["signalled_defaulters"]) == [1, 1, 1]


def test_backtest_signals_after_the_default_do_not_lead() -> None:
    panel = backtest_panel()
    panel.loc[2, "date"] = pd.Timestamp("2025-09-30")  # A's red comes after its default
    out = ev.backtest_levels(panel)
    assert out.loc["red", "signalled_defaulters"] == 0
    assert np.isnan(out.loc["red", "lead_time_months"])


def test_backtest_checks_its_panel() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        ev.backtest_levels(backtest_panel().drop(columns="default_date"))
    with pytest.raises(ValueError, match=r"levels \['red'\] are not among"):
        ev.backtest_levels(backtest_panel(), levels=("green", "amber"))
