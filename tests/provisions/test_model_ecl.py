"""Model ECL by simulation: hand-computed with deterministic inputs, within 4 standard errors
of the analytic expected loss with random ones and of the conditional one with delays, scenario
weights, the insurance line."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from portsim.errors import InputError
from portsim.provisions import EclOptions, compute_ecl, ecl_frame, parse_scenarios
from portsim.provisions.ageing import age, segment_of
from portsim.provisions.model import WeightedConfig, model_ecl
from portsim.provisions.tables import customer_frame

AS_OF = date(2026, 12, 31)
#: Days from the as-of date to each invoice's due date: one current invoice due in 20 days,
#: one due in 75 days, one 10 and one 100 days past due.
DUE_DAYS = (20, 75, -10, -100)


def _invoices(n: int, seed: int = 3) -> pd.DataFrame:
    """Four invoices per customer (:data:`DUE_DAYS`), random amounts, issued 2026-06-01."""
    rng = np.random.default_rng(seed)
    cust = np.repeat(np.arange(n), len(DUE_DAYS))
    days = np.tile(DUE_DAYS, n)
    return pd.DataFrame({
        "customer": cust,
        "amount": rng.uniform(100.0, 10_000.0, cust.size).round(2),
        "issue_date": pd.Timestamp("2026-06-01"),
        "due_date": pd.Timestamp(AS_OF) + pd.to_timedelta(days, unit="D"),
    })


def test_deterministic_inputs_give_the_hand_computed_ecl(make_book, make_timeline_config) -> None:
    # PD 1: the customer defaults on day 1, before any payment, every invoice is lost at its
    # LGD; PD 0: nothing is lost
    n = 6
    pd_ = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    lgd = np.array([0.4, 0.5, 0.7, 0.9, 0.3, 1.0])
    sector = np.array(["a", "b", "a", "b", "a", "b"])
    book = make_book(p_default=pd_, lgd=lgd, sector=sector)
    inv = _invoices(n)
    cfg = make_timeline_config(simulation={"paths": 256, "seed": 5})
    res = compute_ecl(book, inv, AS_OF, scenarios=[WeightedConfig(cfg, 1.0)])
    assert res.basis == "model"
    aged = res.aged
    loss = pd_[aged["customer"]] * lgd[aged["customer"]] * aged["amount"]
    by_hand = loss.groupby([aged["segment"], aged["bucket"]], observed=False).sum().unstack()
    got = res.model.ecl
    assert np.abs(got.to_numpy() - by_hand.to_numpy()).max() < 1e-6
    assert np.all(res.model.se.to_numpy() < 1e-9)
    assert res.model.total[0] == pytest.approx(loss.sum(), rel=1e-12)
    rows = ecl_frame(res)
    assert rows["ecl"].sum() == pytest.approx(loss.sum(), rel=1e-12)
    # per customer and bucket (the kernel's sums in cents: within a cent)
    per_customer = customer_frame(res)
    hand = loss.groupby([aged["customer"], aged["bucket"]], observed=True).sum()
    assert np.abs(per_customer["model_ecl"].to_numpy() - hand.to_numpy()).max() <= 0.01
    assert per_customer.index.tolist() == [f"C{c:03d}" for c in hand.index.get_level_values(0)]


def _analytic(inv: pd.DataFrame, pd_: np.ndarray, lgd: np.ndarray) -> float:
    """Expected loss with delays 0: a current invoice due on day d is lost when its customer
    defaults before day d, P = 1 − (1 − PD)^(d / 365.25); a past-due one is paid on day 1, lost
    only on a default in the first day (constant hazard −ln(1 − PD) per year)."""
    c = inv["customer"].to_numpy()
    d = np.maximum((inv["due_date"] - pd.Timestamp(AS_OF)).dt.days.to_numpy(), 1)
    p_loss = 1.0 - (1.0 - pd_[c]) ** (d / 365.25)
    return float((lgd[c] * inv["amount"].to_numpy() * p_loss).sum())


def test_random_inputs_within_4_se_of_the_analytic_loss(make_book, make_timeline_config) -> None:
    n = 40
    rng = np.random.default_rng(8)
    pd_ = rng.uniform(0.05, 0.4, n)
    lgd = rng.uniform(0.3, 0.8, n)
    book = make_book(p_default=pd_, lgd=lgd, lgd_sd=0.1, sector=np.where(
        np.arange(n) % 2 == 0, "a", "b"))
    inv = _invoices(n)
    cfg = make_timeline_config(simulation={"paths": 4096, "seed": 21})
    aged = age(inv, book, AS_OF)
    got = model_ecl(book, aged, segment_of(book, "sector"), [WeightedConfig(cfg, 1.0)],
                    as_of=AS_OF)
    value, se = got.total
    assert se > 0
    assert abs(value - _analytic(inv, pd_, lgd)) < 4 * se
    assert got.ecl.to_numpy().sum() == pytest.approx(value, rel=1e-12)


def test_scenario_weights_combine_the_scenarios_paths(make_book, make_timeline_config) -> None:
    n = 10
    book = make_book(p_default=0.1, lgd=0.5, sector="s", n=n)
    aged = age(_invoices(n), book, AS_OF)
    seg = segment_of(book, "sector")
    base = make_timeline_config(simulation={"paths": 512, "seed": 2})
    bad = make_timeline_config(simulation={"paths": 512, "seed": 2},
                               scenario={"pd_multiplier": {"global": 3.0}})

    def run(*sc: WeightedConfig) -> tuple[float, float]:
        return model_ecl(book, aged, seg, sc, as_of=AS_OF).total

    a, b = run(WeightedConfig(base, 1.0)), run(WeightedConfig(bad, 1.0))
    both = run(WeightedConfig(base, 0.25), WeightedConfig(bad, 0.75))
    assert b[0] > 2 * a[0]
    assert both[0] == pytest.approx(0.25 * a[0] + 0.75 * b[0], rel=1e-12)
    # the same seed in both: one path of the mixture is the weighted sum of two paths, whose
    # error is at most the weighted sum of the errors
    assert 0 < both[1] <= 0.25 * a[1] + 0.75 * b[1] + 1e-9


def test_scenario_files_and_weights(tmp_path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('name = "x"\n[timeline]\nas_of = 2026-12-31\n', encoding="utf-8")
    (tmp_path / "up.toml").write_text('name = "up"\n[pd_multiplier]\nglobal = 2.0\n',
                                      encoding="utf-8")
    up = tmp_path / "up.toml"
    got = parse_scenarios(config, [f"{up}=0.4", f"{up}=0.6"])
    assert [w.weight for w in got] == [0.4, 0.6]
    assert got[0].config.scenario.pd_multiplier.global_ == 2.0
    with pytest.raises(InputError, match=r"weights sum to 0\.9"):
        parse_scenarios(config, [f"{up}=0.4", f"{up}=0.5"])


def test_insurance_recovery_on_its_own_line(make_book, make_timeline_config) -> None:
    # PD 1, LGD 1 (no recoveries to share): every open invoice is lost on day 1 and an
    # insolvency claim; 90 % cover without thresholds pays 90 % of each covered buyer's loss
    n = 4
    book = make_book(p_default=1.0, lgd=1.0, sector="s", insured_limit=[1e9, 1e9, 0.0, 1e9],
                     n=n)
    inv = _invoices(n)
    cfg = make_timeline_config(
        simulation={"paths": 256, "seed": 3},
        insurance={"policies": {"p90": {"insured_percentage": 0.9, "premium_rate": 0.0}}})
    res = compute_ecl(book, inv, AS_OF, scenarios=[WeightedConfig(cfg, 1.0)],
                      options=EclOptions(segment="all"))
    ins = res.model.insurance
    assert ins["policy"].tolist() == ["p90"]
    covered = inv.loc[inv["customer"] != 2, "amount"].sum()
    assert ins["recovery"].iloc[0] == pytest.approx(0.9 * covered, rel=1e-9)
    assert res.model.total[0] == pytest.approx(inv["amount"].sum(), rel=1e-12)


def _conditional_loss_rate(due: int, pd_: float, mean: float, noise: float) -> float:
    """Loss rate (LGD 1) of an invoice due on day ``due`` and open at the as-of date: its
    payment day due + ⌊D + 0.5⌋, D ~ N(mean, noise²), given that it is day 1 or later; lost
    when the customer defaults before, P = 1 − (1 − PD)^(day / 365.25)."""
    from scipy import stats

    k = np.arange(1 - due, 1 - due + 400)
    pk = stats.norm.sf((k - 0.5 - mean) / noise) - stats.norm.sf((k + 0.5 - mean) / noise)
    lost = 1.0 - (1.0 - pd_) ** ((due + k) / 365.25)
    return float((pk * lost).sum() / pk.sum())


def test_open_invoices_lose_over_their_conditional_time_to_payment(
        make_book, make_timeline_config) -> None:
    # delays N(20, 15²) days; an invoice 46 days overdue is paid 46 days late or more, not on
    # day 1: the 1-30 and 31-60 buckets lose over the remaining time of their delays (moving
    # the shorter delays to day 1 instead gives 0.58 % for 1-30, against 0.87 % here)
    n, pd_ = 40, 0.2
    due_days = (15, -15, -46)  # current, 1-30, 31-60
    book = make_book(p_default=pd_, lgd=1.0, n=n)
    inv = pd.DataFrame({
        "customer": np.repeat(np.arange(n), len(due_days)),
        "amount": 1000.0,
        "issue_date": pd.Timestamp("2026-09-01"),
        "due_date": pd.Timestamp(AS_OF) + pd.to_timedelta(np.tile(due_days, n), unit="D"),
    })
    cfg = make_timeline_config(simulation={"paths": 4096, "seed": 13},
                               delays={"mean_days": 20, "noise_days": 15})
    got = model_ecl(book, age(inv, book, AS_OF), segment_of(book, "all"),
                    [WeightedConfig(cfg, 1.0)], as_of=AS_OF)
    gross = 1000.0 * n
    for bucket, due in zip(("current", "1-30", "31-60"), due_days, strict=True):
        rate = got.ecl[bucket].sum() / gross
        se = got.bucket_se[bucket] / gross
        expected = _conditional_loss_rate(due, pd_, 20.0, 15.0)
        assert se > 0
        assert abs(rate - expected) < 4 * se, (bucket, rate, expected, se)
