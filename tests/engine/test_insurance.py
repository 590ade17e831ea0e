"""Credit insurance: policy terms on claim events, variants on the same paths, value of cover."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import portsim
from portsim.config import RunConfig, load_config
from portsim.data.book import Book
from portsim.engine import calls
from portsim.engine.chunk import run_chunk
from portsim.engine.local import simulate
from portsim.errors import ConfigError
from portsim.inputs.model import build_inputs
from portsim.kernels.claims import CLAIM_SCALARS
from portsim.kernels.codes import EventKind
from portsim.results.estimators import paired_es_diff, paired_var_diff
from portsim.results.metrics import summary_table

AS_OF = "2026-12-31"

# ----------------------------------------------------------------- the kernel, by hand

N_DAYS = 360
# 12 periods of 30 days: day d ≥ 1 is in period (d − 1) // 30; index 12 is "after the horizon"
PERIOD_OF_DAY = np.concatenate([[0], (np.arange(1, N_DAYS + 1) - 1) // 30, [12]])
YEAR_OF_DAY = np.zeros(N_DAYS + 2, dtype=np.int64)  # one policy year


def _apply(
    events: list[tuple[int, int, int, int, int, float, float]], *, limit: list[float],
    pct: float | list[float] = 0.9, nql: float = 0.0, first_loss: float = 0.0,
    before: bool = False, max_liability: float = np.inf, lag: int = 30,
    recovery_lag: int = 180, n_paths: int = 1, ext: int = 0,
) -> calls.ClaimsOutcome:
    """One policy on events ``(path, customer, day, paid_day, kind, amount, lgd)``."""
    ev = np.array([e[:5] for e in events], dtype=np.int64).reshape(-1, 5)
    pcts = np.broadcast_to(np.asarray(pct, dtype=float), (len(limit),))
    return calls.apply_policies(
        ev, np.array([e[5] for e in events]), np.array([e[6] for e in events]),
        path_start=0, n_paths=n_paths, cover_limit=np.array([limit], dtype=float),
        insured_pct=np.array([pcts]) * (np.array([limit]) > 0),
        non_qualifying_loss=np.array([nql]), first_loss=np.array([first_loss]),
        before_cover=np.array([before]), max_liability=np.array([max_liability]),
        settlement_lag=np.array([lag]), year_of_day=YEAR_OF_DAY, n_years=1,
        period_of_day=PERIOD_OF_DAY, n_days=N_DAYS, recovery_lag_days=recovery_lag,
        max_extension=np.array([ext]),
    )


INS, PROT = EventKind.INSOLVENCY, EventKind.PROTRACTED
# Four insolvencies on day 100 (path 0): limits A 50,000, B 20,000, C 10,000, D 0 (excluded)
#   A 30,000.50 unpaid (LGD 0.6) → qualifying 30,000.50
#   B 25,000.00 unpaid (LGD 0.5) → capped at its limit: 20,000.00
#   C    800.25 unpaid           → below the non-qualifying threshold 1,000: ignored
#   D  5,000.00 unpaid           → no cover
# qualifying loss X = 50,000.50; insured percentage 90 %, first loss F = 10,000
FOUR = [(0, 0, 100, -1, INS, 30_000.50, 0.6), (0, 1, 100, -1, INS, 25_000.00, 0.5),
        (0, 2, 100, -1, INS, 800.25, 0.4), (0, 3, 100, -1, INS, 5_000.00, 0.5)]
LIMITS = [50_000.0, 20_000.0, 10_000.0, 0.0]


@pytest.mark.parametrize(("before", "max_liability", "expected"), [
    # after cover: 0.9 × 50,000.50 = 45,000.45, less F: 35,000.45 (below M = 100,000)
    (False, 100_000.0, 35_000.45),
    # before cover: 0.9 × (50,000.50 − 10,000) = 0.9 × 40,000.50 = 36,000.45
    (True, 100_000.0, 36_000.45),
    # capped by the maximum liability M = 30,000 in both settings
    (False, 30_000.0, 30_000.00),
    (True, 30_000.0, 30_000.00),
])
def test_hand_worked_indemnity(before: bool, max_liability: float, expected: float) -> None:
    out = _apply(FOUR, limit=LIMITS, nql=1_000.0, first_loss=10_000.0, before=before,
                 max_liability=max_liability)
    gross = out.scalars[0, 0, CLAIM_SCALARS.index("indemnity_before_recoveries")]
    q = out.scalars[0, 0, CLAIM_SCALARS.index("qualifying_loss")]
    assert q == pytest.approx(50_000.50, abs=0.005)
    assert gross == pytest.approx(expected, abs=0.005)
    by_customer = dict(zip(out.order, out.indemnity_before_recoveries[:, 0], strict=True))
    assert by_customer[2] == 0.0  # below the threshold
    assert by_customer[3] == 0.0  # no cover


def test_hand_worked_net_indemnity_and_cash() -> None:
    # after cover, F = 10,000: events in customer order on the same day;
    #   A: 0.9 × 30,000.50 = 27,000.45, of which 10,000 is the first loss → 17,000.45
    #   B: 0.9 × 20,000    = 18,000.00                                   → 18,000.00
    # net of the insurer's share of recoveries (indemnity × LGD):
    #   17,000.45 × 0.6 = 10,200.27; 18,000 × 0.5 = 9,000 → 19,200.27
    out = _apply(FOUR, limit=LIMITS, nql=1_000.0, first_loss=10_000.0)
    col = CLAIM_SCALARS.index
    s = out.scalars[0, 0]
    assert s[col("indemnity")] == pytest.approx(19_200.27, abs=0.005)
    assert s[col("insurer_recovery_share")] == pytest.approx(35_000.45 - 19_200.27, abs=0.005)
    assert s[col("n_claims")] == 2
    # indemnity paid on day 100 + 30 = 130 (period (130 − 1) // 30 = 4); the insurer's share
    # of the recoveries on day 100 + 180 = 280 (period 9)
    assert out.cash_in[0, 0, 4] == pytest.approx(35_000.45, abs=0.005)
    assert out.cash_out[0, 0, 9] == pytest.approx(35_000.45 - 19_200.27, abs=0.005)
    assert np.count_nonzero(out.cash_in) == 1
    assert np.count_nonzero(out.cash_out) == 1
    assert s[col("indemnity_cash")] == pytest.approx(19_200.27, abs=0.005)
    # a recovery before the indemnity is netted from it: lag 200 > recovery lag 180
    late = _apply(FOUR, limit=LIMITS, nql=1_000.0, first_loss=10_000.0, lag=200)
    assert late.cash_in[0, 0, (300 - 1) // 30] == pytest.approx(19_200.27, abs=0.005)
    assert not late.cash_out.any()


def test_below_the_non_qualifying_threshold_nothing_is_paid() -> None:
    # every buyer's claims stay below 1,000: 999.99, 500.00 and 300.00 + 600.00 = 900.00
    events = [(0, 0, 50, -1, INS, 999.99, 1.0), (0, 1, 60, -1, INS, 500.00, 1.0),
              (0, 2, 70, -1, PROT, 300.00, 1.0), (0, 2, 90, -1, INS, 600.00, 1.0)]
    out = _apply(events, limit=[1e6, 1e6, 1e6], nql=1_000.0)
    assert not out.scalars.any()
    assert not out.cash_in.any()
    # one more cent on buyer 2 crosses the threshold: 300 + 700.00 = 1,000.00 qualifies,
    # both claims released at the second (day 90): 0.9 × 1,000 = 900.00 on day 120 (period 3)
    events[3] = (0, 2, 90, -1, INS, 700.00, 1.0)
    out = _apply(events, limit=[1e6, 1e6, 1e6], nql=1_000.0)
    col = CLAIM_SCALARS.index
    assert out.scalars[0, 0, col("qualifying_loss")] == pytest.approx(1_000.00, abs=0.005)
    assert out.scalars[0, 0, col("indemnity")] == pytest.approx(900.00, abs=0.005)
    assert out.cash_in[0, 0, 3] == pytest.approx(900.00, abs=0.005)


def test_limit_used_across_a_buyers_claims_and_mixed_percentages() -> None:
    # buyer 0 (limit 9,000, 90 %): protracted claim never paid (day 50) of 8,000, then its
    # insolvency (day 200, LGD 0.5) of 2,000 → qualifying 8,000 + min(2,000, 1,000) = 9,000
    # buyer 1 (limit 5,000, unnamed at 70 %): insolvency day 150 of 7,000 → qualifying 5,000
    # before cover, F = 6,000, in day order:
    #   day  50, buyer 0: 8,000 − 6,000 = 2,000 × 0.9 = 1,800.00 (first loss used up)
    #   day 150, buyer 1: 5,000 × 0.7            = 3,500.00
    #   day 200, buyer 0: 1,000 × 0.9            =   900.00   → 6,200.00
    # after cover, F = 6,000:
    #   day  50: 0.9 × 8,000 = 7,200 − 6,000     = 1,200.00
    #   day 150: 0.7 × 5,000                     = 3,500.00
    #   day 200: 0.9 × 1,000                     =   900.00   → 5,600.00
    events = [(0, 0, 50, -1, PROT, 8_000.0, np.nan), (0, 0, 200, -1, INS, 2_000.0, 0.5),
              (0, 1, 150, -1, INS, 7_000.0, 0.8)]
    col = CLAIM_SCALARS.index
    for before, expected in ((True, 6_200.0), (False, 5_600.0)):
        out = _apply(events, limit=[9_000.0, 5_000.0], pct=[0.9, 0.7], first_loss=6_000.0,
                     before=before)
        assert out.scalars[0, 0, col("qualifying_loss")] == pytest.approx(14_000.0, abs=0.005)
        assert out.scalars[0, 0, col("indemnity_before_recoveries")] == pytest.approx(
            expected, abs=0.005)
    # the protracted claim of a buyer that defaults later takes the buyer's LGD (0.5):
    # after cover, net = (1,200 + 900) × 0.5 + 3,500 × 0.8 = 1,050 + 2,800 = 3,850.00
    assert out.scalars[0, 0, col("indemnity")] == pytest.approx(3_850.0, abs=0.005)


def test_an_advance_is_refunded_and_a_claim_paid_before_settlement_is_withdrawn() -> None:
    # protracted default on day 110, the buyer pays on day 170 after all
    events = [(0, 0, 110, 170, PROT, 10_000.0, np.nan)]
    out = _apply(events, limit=[20_000.0], lag=20)
    # advance 9,000 on day 130 (period 4), refunded on day 170 (period 5); not indemnity
    assert out.cash_in[0, 0, 4] == pytest.approx(9_000.0)
    assert out.cash_out[0, 0, 5] == pytest.approx(9_000.0)
    assert not out.scalars[0, 0, :4].any()
    withdrawn = _apply(events, limit=[20_000.0], lag=60)  # settlement day 170: paid by then
    assert not withdrawn.cash_in.any()
    assert not withdrawn.cash_out.any()


# Maximum extension period: buyer 0's invoice (10,000) is in protracted default on day 100
# and paid on day 200; buyer 1's (8,000) on day 100 and never paid: it defaults on day 150
# with 5,000 more unpaid (LGD 0.5). Limits 100,000, 90 %, settlement 30 days, recoveries 180.
EXTENDED = [(0, 0, 100, 200, PROT, 10_000.0, np.nan), (0, 1, 100, -1, PROT, 8_000.0, np.nan),
            (0, 1, 150, -1, INS, 5_000.0, 0.5)]
_Q_INDEX, _GROSS_INDEX = (CLAIM_SCALARS.index(k) for k in ("qualifying_loss",
                                                               "indemnity_before_recoveries"))


@pytest.mark.parametrize(("ext", "advance", "refund", "prot_q", "ins_q", "cash_in"), [
    # no extension: the advance of 9,000 on day 130 (period 4) is refunded on day 200
    # (period 6); buyer 1's 8,000 claimed on day 100 (paid day 130, period 4), its insolvency
    # 5,000 on day 150 (paid day 180, period 5)
    (0, {4: 9_000.0}, {6: 9_000.0}, 8_000.0, 5_000.0, {4: 9_000.0 + 7_200.0, 5: 4_500.0}),
    # 30 days: claimable on day 130, before the default: paid day 160 (period 5), and the
    # advance comes on day 160 (period 5)
    (30, {5: 9_000.0}, {6: 9_000.0}, 8_000.0, 5_000.0, {5: 9_000.0 + 7_200.0 + 4_500.0}),
    # 60 days: day 160, buyer 0 still unpaid: advance on day 190 (period 6); buyer 1
    # defaults (day 150) before day 160: its 8,000 joins the insolvency claim of 13,000
    (60, {6: 9_000.0}, {6: 9_000.0}, 0.0, 13_000.0, {5: 11_700.0, 6: 9_000.0}),
    # 120 days: day 220, buyer 0 paid on day 200: no claim at all
    (120, {}, {}, 0.0, 13_000.0, {5: 11_700.0}),
])
def test_maximum_extension_period_by_hand(ext: int, advance: dict[int, float],
                                          refund: dict[int, float], prot_q: float,
                                          ins_q: float, cash_in: dict[int, float]) -> None:
    out = _apply(EXTENDED, limit=[100_000.0, 100_000.0], ext=ext)
    by_event = dict(zip(out.order.tolist(), out.qualifying[:, 0].tolist(), strict=True))
    assert by_event[0] == 0.0  # an advance is not a qualifying loss
    assert by_event[1] == pytest.approx(prot_q)
    assert by_event[2] == pytest.approx(ins_q)
    # buyer 1's qualifying loss and indemnity are the same whatever the extension
    assert out.scalars[0, 0, _Q_INDEX] == pytest.approx(13_000.0)
    assert out.scalars[0, 0, _GROSS_INDEX] == pytest.approx(11_700.0)
    want_in = np.zeros(12)
    for k, v in cash_in.items():
        want_in[k] = v
    want_out = np.zeros(12)
    want_out[10] = 5_850.0  # the insurer's half of the recoveries, day 330
    for k, v in refund.items():
        want_out[k] += v
    np.testing.assert_allclose(out.cash_in[0, 0], want_in, atol=0.005)
    np.testing.assert_allclose(out.cash_out[0, 0], want_out, atol=0.005)
    for k, v in advance.items():  # the advance is in the period's cash from the insurer
        assert out.cash_in[0, 0, k] >= v


def test_maximum_extension_past_the_horizon_and_policies_apart() -> None:
    # a protracted default on day 340 paid on day 400 (after the 360-day horizon), no lag:
    # without extension an advance on day 340; with 30 days the claim day 370 is past the
    # horizon: nothing
    late = [(0, 0, 340, 400, PROT, 10_000.0, np.nan)]
    assert _apply(late, limit=[20_000.0], lag=0).cash_in[0, 0, 11] == pytest.approx(9_000.0)
    assert not _apply(late, limit=[20_000.0], lag=0, ext=30).cash_in.any()
    # policies with different extensions in one call: each as on its own (its own days and
    # order: with a first loss the order of the claims within the year matters)
    ev = np.array([e[:5] for e in EXTENDED], dtype=np.int64)
    amount = np.array([e[5] for e in EXTENDED])
    lgd = np.array([e[6] for e in EXTENDED])
    both = calls.apply_policies(
        ev, amount, lgd, path_start=0, n_paths=1, cover_limit=np.full((2, 2), 100_000.0),
        insured_pct=np.full((2, 2), 0.9), non_qualifying_loss=np.zeros(2),
        first_loss=np.full(2, 6_000.0), before_cover=np.array([False, False]),
        max_liability=np.full(2, np.inf), settlement_lag=np.array([30, 30]),
        year_of_day=YEAR_OF_DAY, n_years=1, period_of_day=PERIOD_OF_DAY, n_days=N_DAYS,
        recovery_lag_days=180, max_extension=np.array([0, 60]))
    for v, ext in enumerate((0, 60)):
        alone = _apply(EXTENDED, limit=[100_000.0, 100_000.0], first_loss=6_000.0, ext=ext)
        np.testing.assert_array_equal(both.scalars[:, v], alone.scalars[:, 0])
        np.testing.assert_array_equal(both.cash_in[:, v], alone.cash_in[:, 0])
        np.testing.assert_array_equal(both.qualifying[:, v], alone.qualifying[:, 0])
    # first loss 6,000 after cover. No extension, day 100: buyer 0's advance 9,000 − 6,000
    # (the first loss not used up by an advance) and buyer 1's 7,200 − 6,000, paid on day 130.
    # 60 days: the insolvency claim first (day 150), 11,700 − 6,000 paid on day 180, then the
    # advance of 9,000 in full (the first loss is used up) on day 190
    assert both.cash_in[0, 0, 4] == pytest.approx(3_000.0 + 1_200.0)
    assert both.cash_in[0, 1, 5] == pytest.approx(5_700.0)
    assert both.cash_in[0, 1, 6] == pytest.approx(9_000.0)

# ----------------------------------------------------------------- real runs

def _insured_limit(rng: np.random.Generator, exposure: np.ndarray) -> np.ndarray:
    n = exposure.size
    return np.where(np.arange(n) % 3 == 0, 0.0, (exposure * rng.uniform(0.3, 1.5, n)).round(-2))


BUYERS: dict[str, Any] = {  # make_trade_book(n, **BUYERS): the buyers of the insured runs
    "seed": 4, "prefix": "K", "exposure": (1_000, 60_000), "annual_sales": (20_000, 400_000),
    "derived": {
        "p_default": lambda rng, e: np.where(np.arange(e.size) % 4 == 0, 0.25, 0.08),
        "credit_limit": lambda rng, e: (e * 1.2).round(-3),
        "insured_limit": _insured_limit,
    },
    "lgd_sd": 0.2, "payment_terms_days": 30,
}


POLICIES: dict[str, Any] = {
    "broad": {"insured_percentage": 0.9, "discretionary_ceiling": 30_000,
              "unnamed_threshold": 20_000, "unnamed_percentage": 0.7,
              "excluded": ["K001", "K004"], "non_qualifying_loss": 2_000,
              "first_loss": 20_000, "max_liability_multiple": 20, "settlement_lag_days": 45,
              "premium_rate": 0.004, "minimum_premium": 10_000,
              "premium_schedule": "quarterly"},
    "xl": {"insured_percentage": 0.95, "first_loss": 150_000,
           "first_loss_applies": "before_cover", "max_liability": 250_000,
           "settlement_lag_days": 10, "premium_rate": 0.002},
}


INSURED: dict[str, Any] = {  # make_config(base=INSURED, insurance=COVER): the insured runs
    "simulation": {"paths": 1_500, "seed": 9, "chunk_paths": 512},
    "model": {"correlation": {"default": 0.5}},
    "timeline": {"as_of": AS_OF, "horizon_months": 12, "protracted_default_days": 60},
    "delays": {"mean_days": 20, "sd_days": 15, "noise_days": 15, "factor_sensitivity_days": 10},
    "company": {"opening_cash": 2e6, "credit_line": 1e6, "min_cash_buffer": 5e5,
                "fixed_outflows_monthly": 1e6, "cogs_share": 0.6},
}
COVER: dict[str, Any] = {"policies": POLICIES}


@pytest.fixture(scope="module")
def insured(make_trade_book: Any, make_config: Any) -> tuple[Book, RunConfig, Any]:
    book = make_trade_book(60, **BUYERS)
    cfg = make_config(base=INSURED, insurance=COVER)
    return book, cfg, portsim.run(cfg, book)


def test_invariants_on_every_path(insured: tuple[Book, RunConfig, Any],
                                  make_config: Any) -> None:
    book, cfg, ds = insured
    assert list(ds["policy"].values) == ["none", "broad", "xl"]
    ind = ds["indemnity"].values
    gross = ds["indemnity_before_recoveries"].values
    loss = ds["loss"].values
    assert ind[:, 0].max() == 0.0
    assert float(ind[:, 1].mean()) > 0
    assert float(ind[:, 2].max()) > 0
    assert np.all(ind >= 0.0)
    assert np.all(ind <= gross + 1e-9)
    ml = ds["max_liability"].values
    assert np.all(gross <= ml[None, :] + 1e-6)
    assert float(gross[:, 2].max()) == pytest.approx(250_000.0)  # the cap binds on some path
    np.testing.assert_array_equal(ds["retained_loss"].values, loss[:, None] - ind)
    assert np.all(ds["retained_loss"].values >= -1e-6)
    # gross loss is the same for every variant: the run without insurance has the same loss
    plain = portsim.run(make_config(base=INSURED), book)
    np.testing.assert_array_equal(plain["loss"].values, loss)
    np.testing.assert_array_equal(ds["retained_loss"].values[:, 0], loss)

    # per event and buyer, from the chunks' own claim events
    inputs = build_inputs(book, cfg)
    pol = inputs.insurance
    assert pol is not None
    assert inputs.timeline is not None
    excluded = np.isin(np.asarray(book.customer_id), POLICIES["broad"]["excluded"])
    assert np.all(pol.cover_limit[1, excluded] == 0)
    for start, stop in ((0, 512), (512, 1024)):
        r = run_chunk(inputs, 9, start, stop)
        assert r.events_int is not None
        assert r.events_amount is not None
        out = calls.policy_claims(inputs, r.events_int, r.events_amount, r.events_lgd,
                                  path_start=start, n_paths=stop - start)
        ev = r.events_int[out.order]
        path, cust = ev[:, 0] - start, ev[:, 1]
        m, n = stop - start, book.n_customers
        for v in range(pol.n_policies):
            q = out.qualifying[:, v]
            per_buyer = np.zeros((m, n))
            np.add.at(per_buyer, (path, cust), q)
            assert np.all(per_buyer <= pol.cover_limit[v][None, :] + 1e-6)
            insured_share = np.zeros(m)
            np.add.at(insured_share, path, pol.insured_pct[v, cust] * q)
            gross_v = ds["indemnity_before_recoveries"].values[start:stop, v]
            assert np.all(gross_v <= np.minimum(pol.max_liability[v], insured_share) + 1e-6)
            assert not out.indemnity[pol.cover_limit[v, cust] == 0, v].any()
        assert not out.indemnity[excluded[ev[:, 1]], 1].any()
        np.testing.assert_array_equal(
            out.scalars[:, :, CLAIM_SCALARS.index("indemnity")],
            ds["indemnity"].values[start:stop])
    exp_ind = ds["customer_expected_indemnity"].sel(policy="broad").values
    assert np.all(exp_ind[excluded] == 0)


def test_variants_do_not_affect_each_other(insured: tuple[Book, RunConfig, Any],
                                           make_config: Any) -> None:
    book, _, ds = insured
    alone = portsim.run(make_config(base=INSURED, insurance={"policies": {"xl": POLICIES["xl"]}}),
                        book)
    for name in ("indemnity", "retained_loss", "policy_net_cash_flow", "policy_min_cash"):
        np.testing.assert_array_equal(alone[name].sel(policy="xl").values,
                                      ds[name].sel(policy="xl").values)
    # the variant "none" has exactly the cash of the run without insurance
    for name in ("min_cash", "net_cash_flow", "line_breach", "buffer_breach", "cash_gap"):
        np.testing.assert_array_equal(ds[f"policy_{name}"].sel(policy="none").values,
                                      ds[name].values)


def test_cash_includes_premium_and_insurer_flows(insured: tuple[Book, RunConfig, Any]) -> None:
    _, _, ds = insured
    ncf = ds["policy_net_cash_flow"]
    diff = (ncf - ncf.sel(policy="none")).values
    # net cash flow with cover = without + net insurer cash − premiums paid in the horizon
    np.testing.assert_allclose(
        diff, ds["indemnity_cash"].values - ds["premium_paid"].values[None, :], atol=1e-5)
    np.testing.assert_allclose(ds["indemnity"].values,
                               ds["indemnity_cash"].values
                               + ds["insurer_settlement_pending"].values, atol=1e-6)
    # quarterly premium in advance: periods 0, 3, 6 and 9 of a monthly 12-month horizon
    prem = ds["premium_cash"].sel(policy="broad").values
    assert np.flatnonzero(prem).tolist() == [0, 3, 6, 9]
    assert prem.sum() == pytest.approx(float(ds["annual_premium"].sel(policy="broad")))
    assert float(ds["premium"].sel(policy="xl")) == float(ds["premium_paid"].sel(policy="xl"))


def test_value_of_cover_metrics(insured: tuple[Book, RunConfig, Any]) -> None:
    _, _, ds = insured
    m = portsim.summarize(ds, [0.95, 0.99])
    ins = m["insurance"]
    assert list(ins["policies"]) == ["broad", "xl"]
    broad = ins["policies"]["broad"]
    ind = ds["indemnity"].sel(policy="broad").values
    assert broad["delta_expected_loss"]["value"] == pytest.approx(-ind.mean())
    assert broad["delta_expected_loss"]["se"] == pytest.approx(ind.std(ddof=1) / np.sqrt(ind.size))
    prem = float(ds["premium"].sel(policy="broad"))
    assert broad["net_cost_of_cover"]["value"] == pytest.approx(prem - ind.mean())
    assert broad["expected_loss_ratio"]["value"] == pytest.approx(ind.mean() / prem)
    d_es = broad["delta_es"]["0.99"]
    assert d_es["value"] < 0
    assert broad["es_reduction_per_premium"]["0.99"]["value"] == pytest.approx(
        -d_es["value"] / prem)
    table = summary_table(m)
    rows = table[table["metric"] == "insurance.broad.delta_es"]
    assert rows["level"].tolist() == ["0.95", "0.99"]


def test_paired_standard_errors_match_the_spread_of_replications() -> None:
    # synthetic paired losses: L = A + B, two lognormal parts with atoms at 0; cover pays
    # 90 % of A up to 3, R = L − 0.9·min(A, 3). Over many independent replications the sd of
    # the estimated differences ≈ the mean reported standard error.
    rng = np.random.default_rng(2)
    reps, n, q = 300, 4_000, 0.95
    est: dict[str, list[float]] = {"es": [], "var": []}
    se: dict[str, list[float]] = {"es": [], "var": []}
    for _ in range(reps):
        a = np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(0.0, 1.0, n))
        b = np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(0.0, 1.0, n))
        loss = a + b
        ret = loss - 0.9 * np.minimum(a, 3.0)
        for key, f in (("es", paired_es_diff), ("var", paired_var_diff)):
            d = f(ret, loss, q)
            est[key].append(d["value"])
            se[key].append(d["se"])
    for key in est:
        spread = float(np.std(est[key], ddof=1))
        # the sd of 300 estimates is known to about 1/√(2·299) ≈ 4 %; 4 of those: ±16 %,
        # plus the order-statistic se of VaR is a coarser estimate (its own spread ~10 %)
        tol = 0.16 if key == "es" else 0.3
        assert abs(float(np.mean(se[key])) / spread - 1.0) < tol, (key, spread, np.mean(se[key]))


def test_protracted_claim_after_waiting_period_and_settlement_lag(make_book: Any,
                                                                  make_config: Any) -> None:
    # a buyer with PD 0 paying 150 days late; one open invoice issued on day −10, due day 20:
    # protracted default on day 20 + 90 = 110 (the waiting period), paid on day 170.
    # Advance 0.9 × 10,000 = 9,000 on day 110 + 20 = 130 (May, period 4: days 121-151),
    # refunded on day 170 (June, period 5: days 152-181). Gross loss and indemnity are 0.
    # (A second, uninsured customer with forward sales; its late invoices are not covered.)
    book = make_book(customer_id=["LATE", "OTHER"], sector="s", country="DE",
                     exposure=[10_000.0, 0.0], p_default=0.0, lgd=0.5,
                     insured_limit=[50_000.0, 0.0], annual_sales=[0.0, 120_000.0])
    cfg = make_config(
        simulation={"paths": 8, "seed": 1},
        timeline={"as_of": AS_OF, "horizon_months": 12, "protracted_default_days": 90},
        delays={"mean_days": 150, "sd_days": 0, "noise_days": 0, "factor_sensitivity_days": 0},
        insurance={"policies": {"p": {"insured_percentage": 0.9, "settlement_lag_days": 20,
                                      "waiting_period_days": 90, "premium_rate": 0.0}}},
    )
    invoices = pd.DataFrame({"customer": [0], "amount": [10_000.0],
                             "issue_date": [pd.Timestamp(AS_OF) - pd.Timedelta(days=10)],
                             "due_date": [pd.Timestamp(AS_OF) + pd.Timedelta(days=20)]})
    inputs = build_inputs(book, cfg, open_invoices=invoices)
    assert inputs.timeline is not None
    assert inputs.insurance is not None
    out = simulate(inputs, n_paths=8, seed=1, chunk_paths=8, threads=1)
    ev = run_chunk(inputs, 1, 0, 8).events_int
    assert ev is not None
    ev = ev[ev[:, 1] == 0]
    assert len(ev) == 8  # one claim per path, after the waiting period
    assert set(ev[:, 2]) == {110}
    assert set(ev[:, 3]) == {170}
    expected = np.zeros(12)
    expected[4], expected[5] = 9_000.0, -9_000.0
    np.testing.assert_allclose(out.policy_flow_sum[1] / 8, expected)  # type: ignore[index]
    assert not out.policy_flow_sum[0].any()  # type: ignore[index]
    assert float(np.abs(out.loss).max()) == 0.0
    cols = portsim.results.schema.POLICY_SCALARS
    assert not out.policy_scalars[:, :, cols.index("indemnity")].any()  # type: ignore[index]
    # with a settlement lag of 60 days the buyer pays (day 170) before the insurer: no cash
    cfg60 = cfg.with_updates(insurance={"policies": {"p": {
        "insured_percentage": 0.9, "settlement_lag_days": 60, "premium_rate": 0.0}}})
    out60 = simulate(build_inputs(book, cfg60, open_invoices=invoices), n_paths=8, seed=1,
                     chunk_paths=8, threads=1)
    assert not out60.policy_flow_sum.any()  # type: ignore[union-attr]
    # a maximum extension period of 60 days: the waiting period runs from day 20 + 60, so the
    # claim would be on day 170, the day the buyer pays: no claim, no cash
    cfg_ext = cfg.with_updates(insurance={"policies": {"p": {
        "insured_percentage": 0.9, "settlement_lag_days": 20, "premium_rate": 0.0,
        "max_extension_days": 60}}})
    inputs_ext = build_inputs(book, cfg_ext, open_invoices=invoices)
    assert inputs_ext.insurance is not None
    assert inputs_ext.insurance.max_extension.tolist() == [0, 60]
    out_ext = simulate(inputs_ext, n_paths=8, seed=1, chunk_paths=8, threads=1)
    assert not out_ext.policy_flow_sum.any()  # type: ignore[union-attr]
    np.testing.assert_array_equal(out_ext.loss, out.loss)
    # recorded when set; a config without it records (and hashes) as before the key existed
    assert cfg_ext.resolved()["insurance"]["policies"]["p"]["max_extension_days"] == 60
    assert "max_extension_days" not in cfg.resolved()["insurance"]["policies"]["p"]


def test_without_insurance_no_policy_dimension(insured: tuple[Book, RunConfig, Any],
                                               make_config: Any) -> None:
    book, _, ds = insured
    plain = portsim.run(make_config(base=INSURED), book)
    assert "policy" not in plain.dims
    assert not [v for v in plain.data_vars if "policy" in plain[v].dims]
    assert "insurance" not in portsim.summarize(plain)
    # every variable of the plain run is in the insured run, unchanged
    for name in plain.data_vars:
        np.testing.assert_array_equal(plain[name].values, ds[name].values, err_msg=name)


def test_results_do_not_depend_on_chunking_or_threads(make_trade_book: Any,
                                                      make_config: Any) -> None:
    book = make_trade_book(30, **BUYERS)
    cfg = make_config(base=INSURED, insurance={"policies": {"xl": POLICIES["xl"]}},
                      simulation={"paths": 700, "seed": 3, "chunk_paths": 256})
    a = portsim.run(cfg, book)
    b = portsim.run(cfg.with_updates(simulation={"chunk_paths": 512}), book, threads=2)
    for name in a.data_vars:
        if "policy" in a[name].dims:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_premium_and_cover_types(make_trade_book: Any, make_config: Any) -> None:
    book = make_trade_book(60, **BUYERS)
    inputs = build_inputs(book, make_config(
        base=INSURED, insurance=COVER,
        timeline={"as_of": AS_OF, "horizon_months": 18, "protracted_default_days": 60}))
    pol = inputs.insurance
    assert pol is not None
    assert inputs.timeline is not None
    names = dict(enumerate(pol.cover_types))
    kinds = [names[k] for k in pol.cover_type[1]]
    assert kinds[1] == "excluded"
    assert kinds[4] == "excluded"
    ins = np.asarray(book.insured_limit)
    credit = np.asarray(book.credit_limit)
    exposure = np.asarray(book.exposure)
    for i, k in enumerate(kinds):
        if k == "named":
            assert pol.cover_limit[1, i] == ins[i] > 0
        elif k == "discretionary":
            assert ins[i] == 0
            assert 0 < credit[i] <= 30_000
            assert pol.cover_limit[1, i] == credit[i]
        elif k == "unnamed":
            assert exposure[i] < 20_000
            assert pol.insured_pct[1, i] == 0.7
    assert {"named", "discretionary", "excluded"} <= set(kinds)
    sales = np.asarray(book.annual_sales)
    turnover = sales[pol.cover_limit[1] > 0].sum()
    assert pol.annual_premium[1] == pytest.approx(max(0.004 * turnover, 10_000))
    # an 18-month horizon: 1.5 policy years earned; quarterly instalments in months 0, 3, 6,
    # 9, 12, 15 are all paid within it
    n_days = inputs.timeline.n_days
    year2 = (pd.Timestamp(AS_OF) + pd.DateOffset(years=1) - pd.Timestamp(AS_OF)).days
    year3 = (pd.Timestamp(AS_OF) + pd.DateOffset(years=2) - pd.Timestamp(AS_OF)).days
    earned = pol.annual_premium[1] * (1 + (n_days - year2) / (year3 - year2))  # 2028: 366 d
    assert pol.premium_earned[1] == pytest.approx(earned)
    assert pol.premium_paid[1] == pytest.approx(1.5 * pol.annual_premium[1])
    assert pol.n_years == 2
    assert pol.year_of_day[year2] == 0
    assert pol.year_of_day[year2 + 1] == 1


# ----------------------------------------------------------------- config errors

def _write(tmp_path: Path, buyers: Book, policy: str,
           timeline: str = "protracted_default_days = 90") -> Path:
    book = tmp_path / "book.csv"
    buyers.to_frame().to_csv(book, index=False)
    cfg = tmp_path / "run.toml"
    cfg.write_text(f"""name = "t"
[book]
path = "book.csv"

[timeline]
as_of = 2026-12-31
{timeline}

[insurance.policies.main]
premium_rate = 0.002
{policy}
""", encoding="utf-8")
    return cfg


def _error(tmp_path: Path, buyers: Book, policy: str, **kw: str) -> str:
    path = _write(tmp_path, buyers, policy, **kw)
    def load() -> None:
        portsim.workflow.api.prepare(load_config(path))

    with pytest.raises(ConfigError) as err:
        load()
    return str(err.value)


@pytest.mark.parametrize(("policy", "expected"), [
    ("insured_percentage = 1.5", ["line 11", "insured_percentage=1.5", "less than or equal"]),
    ("buyer_limits = { K001 = -5 }", ["line 11", "buyer_limits.K001=-5"]),
    ("discretionary_ceiling = -1", ["line 11", "discretionary_ceiling=-1"]),
    ("max_liability = 1000\nfirst_loss = 5000",
     ["line 12", "first_loss=5000", "above max_liability=1000"]),
    ("max_liability_multiple = 2\nfirst_loss = 1e9",
     ["line 12", "first_loss=1000000000.0", "maximum liability"]),
    ('excluded = ["K01"]', ["line 11", "'K01'", "did you mean 'K001'?"]),
    ("buyer_limits = { K0003 = 5 }", ["line 11", "'K0003'", "did you mean 'K003'?"]),
    ("waiting_period_days = 60",
     ["line 11", "waiting_period_days=60", "timeline.protracted_default_days=90"]),
    ("premium_schedule = 'weekly'", ["line 11", "premium_schedule"]),
    ("max_extension_days = 0", ["line 11", "max_extension_days=0", "greater than or equal"]),
])
def test_config_errors_name_key_and_line(tmp_path: Path, policy: str, expected: list[str],
                                         make_trade_book: Any) -> None:
    msg = _error(tmp_path, make_trade_book(5, **BUYERS), policy)
    for part in expected:
        assert part in msg, msg


def test_reserved_name_and_missing_timeline(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[insurance.policies.none]\npremium_rate = 0.001\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 1.*'none' is reserved"):
        load_config(path)
    path.write_text("[insurance.policies.a]\npremium_rate = 0.001\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 1.*needs a \[timeline\]"):
        load_config(path)


