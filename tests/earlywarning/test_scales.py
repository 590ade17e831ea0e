"""Tests of portsim.earlywarning.scales: the bureau payment index at its anchors and the
Altman scores (coefficients and zones of Altman 1968 / the 2018 review, worked by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from portsim.earlywarning.scales import ALTMAN, altman_ratios, altman_zone, payment_index

#: The bureau convention (REFERENCE.md, early warning): days beyond terms → index.
BUREAU_ANCHORS = [(0.0, 80.0), (15.0, 70.0), (30.0, 50.0), (60.0, 40.0), (90.0, 30.0),
                  (120.0, 20.0)]


@pytest.mark.parametrize(("days", "index"), BUREAU_ANCHORS)
def test_payment_index_reproduces_the_bureau_anchors(days: float, index: float) -> None:
    assert payment_index([days])[0] == pytest.approx(index)


def test_payment_index_between_anchors_and_at_the_ends() -> None:
    got = payment_index([7.5, 45.0, 105.0, -10.0, -20.0, -90.0, 200.0, np.nan])
    # halfway between 80/70, 50/40, 30/20, 80/100; then the flat ends; NaN stays NaN
    np.testing.assert_allclose(got[:7], [75.0, 45.0, 25.0, 90.0, 100.0, 100.0, 20.0])
    assert np.isnan(got[7])


def test_payment_index_is_monotone_non_increasing() -> None:
    days = np.linspace(-60.0, 200.0, 1001)
    assert np.all(np.diff(payment_index(days)) <= 0.0)


def test_altman_coefficients_and_zones_are_the_published_ones() -> None:
    assert ALTMAN["z"].coefficients == (1.2, 1.4, 3.3, 0.6, 1.0)
    assert (ALTMAN["z"].distress, ALTMAN["z"].safe) == (1.81, 2.99)
    assert ALTMAN["z_prime"].coefficients == (0.717, 0.847, 3.107, 0.420, 0.998)
    assert (ALTMAN["z_prime"].distress, ALTMAN["z_prime"].safe) == (1.23, 2.90)
    assert ALTMAN["z_double_prime"].coefficients == (6.56, 3.26, 6.72, 1.05, 0.0)
    # Z″'s own cut-offs, not Z′'s (a common mistake)
    assert (ALTMAN["z_double_prime"].distress, ALTMAN["z_double_prime"].safe) == (1.10, 2.60)


def test_altman_scores_of_a_hand_worked_statement() -> None:
    # TA 1000, CA 400, CL 250, TL 600, equity 400, RE 150, EBIT 80, sales 1200
    x = altman_ratios([1000.0], [400.0], [250.0], [600.0], [400.0], [150.0], [80.0], [1200.0])
    np.testing.assert_allclose(x[0], [0.15, 0.15, 0.08, 400.0 / 600.0, 1.2])
    # Z: 0.18 + 0.21 + 0.264 + 0.4 + 1.2 = 2.254 (grey: 1.81 … 2.99)
    assert ALTMAN["z"].score(x)[0] == pytest.approx(2.254)
    # Z′: 0.10755 + 0.12705 + 0.24856 + 0.28 + 1.1976 = 1.96076 (grey: 1.23 … 2.90)
    assert ALTMAN["z_prime"].score(x)[0] == pytest.approx(1.96076)
    # Z″: 0.984 + 0.489 + 0.5376 + 0.7 = 2.7106 (safe: > 2.60)
    assert ALTMAN["z_double_prime"].score(x)[0] == pytest.approx(2.7106)
    assert list(altman_zone([2.254], "z")) == ["grey"]
    assert list(altman_zone([2.7106], "z_double_prime")) == ["safe"]


def test_altman_zones_at_and_around_the_cut_offs() -> None:
    scores = [1.80, 1.81, 2.99, 3.00, np.nan]
    assert list(altman_zone(scores, "z")) == ["distress", "grey", "grey", "safe", ""]
    assert list(altman_zone([1.09, 1.10, 2.61], "z_double_prime")) == [
        "distress", "grey", "safe"]


def test_altman_ratios_are_nan_without_assets_or_liabilities() -> None:
    x = altman_ratios([0.0, 100.0], [1.0, 50.0], [1.0, 0.0], [1.0, 0.0], [1.0, 100.0],
                      [1.0, 0.0], [1.0, 0.0], [1.0, 0.0])
    assert np.isnan(x[0, [0, 1, 2, 4]]).all()
    assert x[0, 3] == 1.0
    assert np.isnan(ALTMAN["z_prime"].score(x)[0])
    assert np.isnan(x[1, 3])
    assert x[1, 0] == pytest.approx(0.5)
