"""The claims kernel of portsim.kernels.claims on a hand-made event list, called directly.

Path 0 has three insolvencies (already in processing order: by day, customer, kind), path 1
none. Two policy variants take the first loss after and before the insured percentage; both
have a per-buyer non-qualifying threshold of 1,000, a first loss of 1,000, a maximum
liability of 10,000, settlement 30 days after the claim and recoveries 180 days after the
default. Horizon 360 days in twelve 30-day periods, one policy year.

Worked by hand (after cover | before cover):

* buyer 0, day 50, unpaid 12,345.67, LGD 0.6, limit 10,000, 90 %: qualifying 10,000;
  0.9·10,000 − 1,000 = 8,000 | 0.9·(10,000 − 1,000) = 8,100 (liability left 2,000 | 1,900);
  the insurer's share of recoveries 0.4 × that: 3,200 | 3,240;
* buyer 2, day 60, unpaid 800.25: below the threshold, held, never indemnified;
* buyer 1, day 70, unpaid 4,000, LGD 0.5, limit 5,000, 80 %: 0.8·4,000 = 3,200 capped by the
  liability left: 2,000 | 1,900; share 1,000 | 950.

Cash: indemnities in on days 80 and 100 (periods 2 and 3), recovery shares out on days 230
and 250 (periods 7 and 8).
"""

from __future__ import annotations

import numpy as np
import pytest

from portsim.kernels.claims import CLAIM_SCALARS, claims_kernel
from portsim.kernels.codes import EventKind

pytestmark = pytest.mark.jitoff

N_DAYS = 360
PERIOD_OF_DAY = np.concatenate([[0], (np.arange(1, N_DAYS + 1) - 1) // 30, [12]]).astype(np.int64)
CENT = 0.005  # "exact to the cent"


def _run() -> dict[str, np.ndarray]:
    ins = EventKind.INSOLVENCY
    m, v, e = 2, 2, 3  # paths, policy variants, events
    out = {"q": np.zeros((e, v)), "gross": np.zeros((e, v)), "net": np.zeros((e, v)),
           "scalars": np.zeros((m, v, len(CLAIM_SCALARS))), "cash_in": np.zeros((m, v, 12)),
           "cash_out": np.zeros((m, v, 12))}
    per_policy = np.ones((1, v), dtype=np.int64)  # the same day, amount and order for both
    claims_kernel(
        np.array([0, 3, 3]), np.array([0, 2, 1]),
        np.array([-1, -1, -1]), np.array([ins, ins, ins], dtype=np.int64),
        np.array([0.6, 0.5, 0.5]), np.array([[50], [60], [70]]) * per_policy,
        np.array([[12_345.67], [800.25], [4_000.00]]) * per_policy,
        np.arange(e)[:, None] * per_policy,
        np.tile([10_000.0, 5_000.0, 10_000.0], (v, 1)), np.tile([0.9, 0.8, 0.9], (v, 1)),
        np.full(v, 1_000.0), np.full(v, 1_000.0), np.array([False, True]),
        np.full(v, 10_000.0), np.full(v, 30), np.zeros(N_DAYS + 2, dtype=np.int64), 1,
        PERIOD_OF_DAY, N_DAYS, 180, np.zeros(e), np.ones(v), *out.values(),
    )
    return out


def _scalar(out: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The named per-path sum, shape (paths, variants)."""
    return out["scalars"][:, :, CLAIM_SCALARS.index(name)]


def test_indemnities_per_event_to_the_cent() -> None:
    out = _run()
    np.testing.assert_allclose(out["q"], [[10_000.0, 10_000.0], [0.0, 0.0],
                                          [4_000.0, 4_000.0]], rtol=0, atol=CENT)
    np.testing.assert_allclose(out["gross"], [[8_000.0, 8_100.0], [0.0, 0.0],
                                              [2_000.0, 1_900.0]], rtol=0, atol=CENT)
    np.testing.assert_allclose(out["net"], [[4_800.0, 4_860.0], [0.0, 0.0],
                                            [1_000.0, 950.0]], rtol=0, atol=CENT)


@pytest.mark.parametrize(("name", "expected"), [
    ("qualifying_loss", [14_000.0, 14_000.0]),
    ("indemnity_before_recoveries", [10_000.0, 10_000.0]),  # the maximum liability, used up
    ("insurer_recovery_share", [4_200.0, 4_190.0]),
    ("indemnity", [5_800.0, 5_810.0]),
    ("indemnity_cash", [5_800.0, 5_810.0]),
    ("n_claims", [2.0, 2.0]),
])
def test_path_sums_to_the_cent(name: str, expected: list[float]) -> None:
    got = _scalar(_run(), name)
    np.testing.assert_allclose(got[0], expected, rtol=0, atol=CENT)
    assert not got[1].any()  # the path without events


def test_cash_in_and_out_by_period() -> None:
    out = _run()
    cash_in = np.zeros((2, 12))
    cash_in[:, 2] = [8_000.0, 8_100.0]
    cash_in[:, 3] = [2_000.0, 1_900.0]
    cash_out = np.zeros((2, 12))
    cash_out[:, 7] = [3_200.0, 3_240.0]
    cash_out[:, 8] = [1_000.0, 950.0]
    np.testing.assert_allclose(out["cash_in"][0], cash_in, rtol=0, atol=CENT)
    np.testing.assert_allclose(out["cash_out"][0], cash_out, rtol=0, atol=CENT)
    assert not out["cash_in"][1].any()
    assert not out["cash_out"][1].any()
