"""Hypothesis strategies for the property tests: small books (as columns for ``make_book``)
and the config sections of a run (as dicts for ``make_config``).

Everything is data, so a failing example prints as something that can be pasted into a test.
Money is drawn in whole cents; probabilities and LGDs on a grid that includes the edges 0 and
1, where the kernels take their special branches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

SECTORS = ("construction", "retail", "energy")
COUNTRIES = ("DE", "FR")
AS_OF = "2026-12-31"

#: PDs with the edges (never / always defaults) and rating-like values that share groups.
PDS = st.one_of(st.sampled_from([0.0, 0.002, 0.02, 0.1, 1.0]),
                st.floats(0.0, 0.5, allow_subnormal=False))
CENTS = st.integers(0, 5_000_000).map(lambda c: c / 100)  # 0 .. 50,000.00
LGDS = st.one_of(st.sampled_from([0.0, 0.45, 1.0]), st.integers(1, 99).map(lambda k: k / 100))


@st.composite
def book_columns(draw: st.DrawFn, *, max_customers: int = 30, beta_lgd: bool = True,
                 trade: bool = False) -> dict[str, Any]:
    """Columns of a book of 1 to ``max_customers`` customers in up to three sectors and two
    countries; ``beta_lgd``: some customers get a Beta LGD (``lgd_sd`` below the largest
    possible standard deviation); ``trade``: payment terms and annual sales for a timeline."""
    n = draw(st.integers(1, max_customers))

    def column(elements: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(elements, min_size=n, max_size=n))

    lgd = np.array(column(LGDS))
    cols: dict[str, Any] = {
        "sector": column(st.sampled_from(SECTORS)),
        "country": column(st.sampled_from(COUNTRIES)),
        "exposure": column(CENTS),
        "p_default": column(PDS),
        "lgd": lgd.tolist(),
    }
    if beta_lgd:
        share = np.array(column(st.sampled_from([0.0, 0.3, 0.9])))
        cols["lgd_sd"] = (share * np.sqrt(lgd * (1.0 - lgd))).tolist()
    if trade:
        cols["payment_terms_days"] = column(st.sampled_from([0, 14, 30, 60, 90]))
        cols["annual_sales"] = column(st.integers(0, 50_000_000).map(lambda c: c / 100))
        cols["credit_limit"] = column(CENTS)
        cols["insured_limit"] = column(st.one_of(st.just(0.0), CENTS))
    return cols


def model_sections(*, kernels: tuple[str, ...] = ("grouped", "per_customer", "skip"),
                   ) -> st.SearchStrategy[dict[str, Any]]:
    """``model`` and ``simulation`` sections: factor structure, copula, correlations, the
    PD–LGD link and the kernel (paths and seed are the test's)."""
    model = st.fixed_dictionaries({
        "factors": st.sampled_from(["single", "sector", "sector_country"]),
        "asset_correlation": st.sampled_from([0.0, 0.1, 0.3, 0.6]),
        "correlation": st.fixed_dictionaries({"default": st.sampled_from([0.0, 0.4, 0.9])}),
        "lgd_factor_sensitivity": st.sampled_from([0.0, 0.5]),
    })
    copula = st.one_of(st.just({}), st.sampled_from([4.0, 10.0]).map(
        lambda dof: {"copula": "student_t", "dof": dof}))
    return st.builds(
        lambda m, c, k, seed: {"model": {**m, **c},
                               "simulation": {"kernel": k, "seed": seed}},
        model, copula, st.sampled_from(kernels), st.integers(0, 2**32 - 1),
    )


def timeline_sections() -> st.SearchStrategy[dict[str, Any]]:
    """``timeline``, ``delays`` and ``company`` sections: horizon, invoicing, payment delays
    (early to very late, with customer, factor and invoice noise) and a cash profile."""
    return st.fixed_dictionaries({
        "timeline": st.fixed_dictionaries({
            "as_of": st.just(AS_OF),
            "horizon_months": st.integers(1, 12),
            "invoice_frequency": st.sampled_from(["monthly", "weekly", "daily"]),
            "protracted_default_days": st.sampled_from([30, 90, 180]),
            "recovery_lag_days": st.sampled_from([0, 60, 400]),
        }),
        "delays": st.fixed_dictionaries({
            "mean_days": st.sampled_from([-5.0, 0.0, 12.0, 45.0, 150.0]),
            "sd_days": st.sampled_from([0.0, 5.0, 30.0]),
            "noise_days": st.sampled_from([0.0, 3.0, 20.0]),
            "factor_sensitivity_days": st.sampled_from([0.0, 8.0]),
        }),
        "company": st.fixed_dictionaries({
            "opening_cash": st.sampled_from([0.0, 2e5]),
            "credit_line": st.sampled_from([0.0, 1e5]),
            "fixed_outflows_monthly": st.sampled_from([0.0, 5e4]),
            "dpo_days": st.sampled_from([0, 45]),
        }),
    })


@st.composite
def policy_terms(draw: st.DrawFn) -> dict[str, Any]:
    """Terms of one credit-insurance policy: co-insurance, discretionary and unnamed-buyer
    cover, thresholds, an aggregate first loss before or after cover, a maximum liability as
    an amount (at least the first loss) or a premium multiple, lags, premium and a maximum
    extension period (or none)."""
    terms: dict[str, Any] = {
        "insured_percentage": draw(st.sampled_from([0.0, 0.5, 0.9, 1.0])),
        "discretionary_ceiling": draw(st.sampled_from([0.0, 5_000.0, 1e6])),
        "unnamed_threshold": draw(st.sampled_from([0.0, 10_000.0])),
        "unnamed_percentage": draw(st.sampled_from([0.5, 1.0])),
        "non_qualifying_loss": draw(st.sampled_from([0.0, 500.0, 20_000.0])),
        "first_loss_applies": draw(st.sampled_from(["after_cover", "before_cover"])),
        "settlement_lag_days": draw(st.sampled_from([0, 30, 400])),
        "premium_rate": draw(st.sampled_from([0.0, 0.003])),
        "minimum_premium": draw(st.sampled_from([0.0, 5_000.0])),
        "premium_schedule": draw(st.sampled_from(["annual", "quarterly", "monthly"])),
    }
    first_loss = draw(st.sampled_from([0.0, 1_000.0, 50_000.0]))
    cap = draw(st.sampled_from(["none", "amount", "multiple"]))
    if cap == "amount":
        terms["max_liability"] = first_loss + draw(st.sampled_from([1.0, 20_000.0, 1e7]))
    elif cap == "multiple":  # a first loss must stay below a cap known only with the premium
        first_loss = 0.0
        terms["max_liability_multiple"] = draw(st.sampled_from([0.5, 20.0]))
        terms["minimum_premium"] = 5_000.0  # a multiple of no premium is refused

    terms["first_loss"] = first_loss
    extension = draw(st.sampled_from([None, 30, 200]))
    if extension is not None:
        terms["max_extension_days"] = extension
    return terms
