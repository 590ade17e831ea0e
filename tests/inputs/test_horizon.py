"""The horizon of a timeline run in years: calendar months / 12, so a 12-month timeline gives
exactly the 1-year PD, whatever the days of its months."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from portsim.inputs.model import build_inputs

P1 = np.array([0.0, 0.002, 0.03, 0.15, 1.0])


@pytest.mark.parametrize("as_of", ["2026-12-31", "2027-12-31", "2028-02-29", "2027-01-31"])
def test_a_twelve_month_timeline_gives_the_one_year_pd(
    make_book: Any, make_timeline_config: Any, as_of: str
) -> None:
    # 365 days from 2026-12-31, 366 over the leap year 2028, 365 from a 29 February
    book = make_book(p_default=P1, annual_sales=1e5)
    cfg = make_timeline_config(timeline={"as_of": as_of, "horizon_months": 12})
    x = build_inputs(book, cfg)
    assert x.horizon_years == 1.0
    np.testing.assert_allclose(x.p_horizon, P1, rtol=1e-14, atol=0.0)


@pytest.mark.parametrize("months", [1, 3, 6, 18, 24])
def test_n_months_give_the_pd_of_n_twelfths_of_a_year(
    make_book: Any, make_timeline_config: Any, months: int
) -> None:
    # constant hazard: P(default within t years) = 1 − (1 − p)^t, t = months / 12 (the
    # tolerance: 1 − (1 − p)^t cancels to about 1e-16 / 1.7e-4 relative)
    book = make_book(p_default=P1, annual_sales=1e5)
    cfg = make_timeline_config(timeline={"as_of": "2027-01-31", "horizon_months": months})
    x = build_inputs(book, cfg)
    t = months / 12.0
    assert x.horizon_years == t
    np.testing.assert_allclose(x.p_horizon, 1.0 - (1.0 - P1) ** t, rtol=1e-11, atol=0.0)
