"""Credit-insurance policy terms as arrays: cover per buyer, premiums, policy years.

:func:`build_policies` turns the config's ``[insurance.policies.NAME]`` tables, the book and
the timeline into :class:`PolicyInputs`, which :mod:`portsim.kernels.claims` applies to the claim
events of every path. The variant ``none`` (no cover, no premium) is always first, so every
variant is compared with it on the same paths.

Cover of a buyer (one policy; the first rule that applies)
----------------------------------------------------------
1. listed in ``excluded`` (e.g. affiliates): no cover;
2. an insurer credit limit (``buyer_limits`` in the config, else the book's
   ``insured_limit``) above 0: covered up to it at ``insured_percentage`` ("named");
3. ``discretionary_ceiling`` > 0 and the buyer's internal ``credit_limit`` in
   (0, ceiling]: covered up to that self-assessed credit limit at ``insured_percentage``
   ("discretionary");
4. ``unnamed_threshold`` > 0 and the buyer's exposure (or annual sales, ``unnamed_basis``)
   below it: covered up to the threshold at ``unnamed_percentage`` ("unnamed");
5. otherwise no cover.

A blank or zero ``insured_limit`` means "no insurer limit", so rules 3 and 4 may apply; a
buyer the insurer declined is listed in ``excluded``. Limits do not change over the horizon.

Premium
-------
Insured turnover is the planned annual sales (the book's ``annual_sales``, which the timeline
invoices over each 12 months) to buyers with cover. The annual premium is
``max(premium_rate × insured turnover, minimum_premium)``, the same for every policy year;
it is paid in advance in 1, 4 or 12 equal instalments per policy year
(``premium_schedule``), on the first day of cover of each year, quarter or month (day 1, the
day after the as-of date, for the first). Instalments due after the horizon are not paid
within it. The premium *earned* over
the horizon (the annual premium times the share of each policy year inside the horizon) is
what the value-of-cover metrics charge; for a horizon of whole policy years it equals the
premium paid.

Policy years are 12-month steps from the as-of date; a claim on day ``d`` falls in the year
``k`` with ``D_k < d ≤ D_{k+1}`` (``D_k`` the day ``k`` years after the as-of date). The
maximum liability (an amount, or a multiple of the annual premium) and the aggregate first
loss apply per policy year.

Maximum extension period
------------------------
With ``max_extension_days`` = E, the insured grants a buyer that has not paid an invoice by
its due date one postponement of E days without asking the insurer, and the extended due
date counts for every purpose of the policy (the usual "postponement of due date" clause):
the protracted default is claimable ``waiting period`` days after due + E rather than after
due. See :func:`portsim.engine.calls.apply_policies` for how the claim events change.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from portsim.config import PolicyConfig, RunConfig
from portsim.data import Book
from portsim.inputs.timeline import TimelineInputs
from portsim.kernels.codes import CoverType

__all__ = [
    "PolicyInputs",
    "build_policies",
    "policy_cover",
    "premium_terms",
]

_MONTHS_PER_INSTALMENT = {"annual": 12, "quarterly": 3, "monthly": 1}


class PolicyInputs(NamedTuple):
    """Policy terms as arrays; ``V`` variants (``none`` first), ``n`` customers, ``P`` periods.

    Money in book currency, fractions, days from the as-of date.
    """

    names: tuple[str, ...]  # (V,) "none" first
    cover_limit: np.ndarray  # (V, n) limit per buyer, 0 = no cover
    insured_pct: np.ndarray  # (V, n) insured percentage per buyer (0 without cover)
    cover_type: np.ndarray  # (V, n) int8, CoverType codes
    non_qualifying_loss: np.ndarray  # (V,)
    first_loss: np.ndarray  # (V,) per policy year
    before_cover: np.ndarray  # (V,) bool: first loss taken before the insured percentage
    max_liability: np.ndarray  # (V,) per policy year, inf = unlimited
    settlement_lag: np.ndarray  # (V,) int64 days
    max_extension: np.ndarray  # (V,) int64 days of the postponement of a due date, 0 = none
    insured_turnover: np.ndarray  # (V,) planned annual sales to covered buyers
    annual_premium: np.ndarray  # (V,)
    premium_cash: np.ndarray  # (V, P) premium paid per period
    premium_paid: np.ndarray  # (V,) paid within the horizon
    premium_earned: np.ndarray  # (V,) earned over the horizon
    year_of_day: np.ndarray  # (n_days + 2,) int64 policy year of each day
    n_years: int
    red_limit_factor: np.ndarray  # (V,) limit factor for deliveries after a buyer turns red
    cover_types: tuple[str, ...] = CoverType.labels()  # names of the cover_type codes

    @property
    def n_policies(self) -> int:
        return len(self.names)


def _year_starts(as_of: object, n_days: int) -> np.ndarray:
    """Days of the policy-year starts from the as-of date, up to the first at or after the
    horizon: ``D_0 = 0 < D_1 < … `` (int64)."""
    start = pd.Timestamp(as_of)
    out = [0]
    k = 1
    while out[-1] < n_days:
        out.append(int((start + pd.DateOffset(months=12 * k) - start).days))
        k += 1
    return np.asarray(out, dtype=np.int64)


def _instalment_days(as_of: object, n_days: int, months: int) -> np.ndarray:
    """Days of the premium instalments within the horizon: the first day of cover of every
    ``months``-month step from the as-of date (the day after the step's start)."""
    start = pd.Timestamp(as_of)
    out = []
    k = 0
    while True:
        d = int((start + pd.DateOffset(months=months * k) - start).days) + 1
        if d > n_days:
            break
        out.append(d)
        k += 1
    return np.asarray(out, dtype=np.int64)


def policy_cover(
    pol: PolicyConfig, book: Book, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cover of every buyer under one policy (the rules of the module docstring).

    Parameters
    ----------
    pol : PolicyConfig
        The policy's terms; ids it names that are not in ``index`` are ignored.
    book : Book
        Gives ``insured_limit``, ``credit_limit``, ``exposure`` and ``annual_sales``.
    index : dict of str to int
        Row of each customer id in the book.

    Returns
    -------
    limit : ndarray, shape (n_customers,)
        Cover limit per buyer, book currency (0: no cover).
    pct : ndarray, shape (n_customers,)
        Insured percentage per buyer, fraction (0 without cover).
    kind : ndarray of int8, shape (n_customers,)
        ``COVER_*`` code per buyer.
    """
    n = book.n_customers
    insurer = np.nan_to_num(np.asarray(book.insured_limit, dtype=float), nan=0.0)
    for cid, lim in pol.buyer_limits.items():
        if cid in index:
            insurer[index[cid]] = lim
    credit = np.nan_to_num(np.asarray(book.credit_limit, dtype=float), nan=0.0)
    basis = np.asarray(book.exposure if pol.unnamed_basis == "exposure" else book.annual_sales,
                       dtype=float)
    basis = np.nan_to_num(basis, nan=0.0)
    excluded = np.zeros(n, dtype=bool)
    for cid in pol.excluded:
        if cid in index:
            excluded[index[cid]] = True
    pct_unnamed = (pol.insured_percentage if pol.unnamed_percentage is None
                   else pol.unnamed_percentage)

    kind = np.full(n, CoverType.NONE, dtype=np.int8)
    limit = np.zeros(n)
    pct = np.zeros(n)
    named = ~excluded & (insurer > 0)
    discretionary = (~excluded & ~named & (pol.discretionary_ceiling > 0) & (credit > 0)
                     & (credit <= pol.discretionary_ceiling))
    unnamed = (~excluded & ~named & ~discretionary & (pol.unnamed_threshold > 0)
               & (basis < pol.unnamed_threshold))
    kind[excluded] = CoverType.EXCLUDED
    kind[named] = CoverType.NAMED
    kind[discretionary] = CoverType.DISCRETIONARY
    kind[unnamed] = CoverType.UNNAMED
    limit[named] = insurer[named]
    limit[discretionary] = credit[discretionary]
    limit[unnamed] = pol.unnamed_threshold
    pct[named | discretionary] = pol.insured_percentage
    pct[unnamed] = pct_unnamed
    pct[limit <= 0] = 0.0
    return limit, pct, kind


def premium_terms(pol: PolicyConfig, book: Book, limit: np.ndarray) -> tuple[float, float, float]:
    """Insured turnover, annual premium and maximum liability per policy year of a policy.

    Parameters
    ----------
    pol : PolicyConfig
        The policy's premium rate, minimum premium and maximum liability.
    book : Book
        Gives ``annual_sales``, book currency per year (blank: 0).
    limit : ndarray, shape (n_customers,)
        Cover limit per buyer (:func:`policy_cover`); buyers with a limit above 0 are insured.

    Returns
    -------
    insured_turnover, annual_premium, max_liability : float
        Book currency; the maximum liability is ``inf`` when the policy sets none.
    """
    sales = np.nan_to_num(np.asarray(book.annual_sales, dtype=float), nan=0.0)
    insured_turnover = float(sales[limit > 0].sum())
    premium = max(pol.premium_rate * insured_turnover, pol.minimum_premium)
    if pol.max_liability is not None:
        max_liab = float(pol.max_liability)
    elif pol.max_liability_multiple is not None:
        max_liab = pol.max_liability_multiple * premium
    else:
        max_liab = np.inf
    return insured_turnover, premium, max_liab


def build_policies(
    book: Book, config: RunConfig, timeline: TimelineInputs | None
) -> PolicyInputs | None:
    """The policy arrays for a config with an ``[insurance]`` section, else ``None``.

    Parameters
    ----------
    book : Book
        Gives the insurer limits (``insured_limit``), internal ``credit_limit``, ``exposure``
        and ``annual_sales`` per customer.
    config : RunConfig
        ``config.insurance`` holds the variants; needs ``config.timeline``.
    timeline : TimelineInputs
        The horizon's days and periods (premium instalments, policy years).

    Notes
    -----
    Customer ids of ``excluded`` / ``buyer_limits`` outside the book, and terms whose
    maximum liability is 0 or below the first loss, are refused before
    (:mod:`portsim.workflow.checks`); here such ids are ignored.
    """
    ins = config.insurance
    if ins is None:
        return None
    assert timeline is not None, "[insurance] needs a timeline"
    assert config.timeline is not None, "[insurance] needs a timeline"
    tl = timeline
    n = book.n_customers
    n_p = tl.n_periods
    index = {str(c): i for i, c in enumerate(book.customer_id)}

    starts = _year_starts(config.timeline.as_of, tl.n_days)  # D_0 .. D_Y (D_Y >= n_days)
    n_years = starts.size - 1
    days = np.arange(tl.n_days + 2)
    year_of_day = np.clip(np.searchsorted(starts[1:], days, side="left"), 0, n_years - 1)
    year_len = np.diff(starts).astype(float)
    inside = np.minimum(starts[1:], tl.n_days) - starts[:-1]
    earned_share = float((inside / year_len).sum())

    names = ["none"]
    limits = [np.zeros(n)]
    pcts = [np.zeros(n)]
    kinds = [np.full(n, CoverType.NONE, dtype=np.int8)]
    nql, fl, before, ml, lag, red, ext = [0.0], [0.0], [False], [np.inf], [0], [1.0], [0]
    acts = config.active_actions
    insurer_red = None if acts is None else acts.insurer_red_limit_factor
    turnover, annual, paid, earned = [0.0], [0.0], [0.0], [0.0]
    premium_cash = [np.zeros(n_p)]
    for name, pol in ins.policies.items():
        limit, pct, kind = policy_cover(pol, book, index)
        insured_turnover, premium, max_liab = premium_terms(pol, book, limit)
        months = _MONTHS_PER_INSTALMENT[pol.premium_schedule]
        inst_days = _instalment_days(config.timeline.as_of, tl.n_days, months)
        inst = premium * months / 12.0
        cash = np.bincount(tl.period_of_day[inst_days], minlength=n_p + 1)[:n_p] * inst

        names.append(name)
        limits.append(limit)
        pcts.append(pct)
        kinds.append(kind)
        nql.append(pol.non_qualifying_loss)
        fl.append(pol.first_loss)
        before.append(pol.first_loss_applies == "before_cover")
        ml.append(max_liab)
        lag.append(pol.settlement_lag_days)
        red.append(pol.red_limit_factor if insurer_red is None else insurer_red)
        ext.append(pol.max_extension_days or 0)
        turnover.append(insured_turnover)
        annual.append(premium)
        paid.append(float(cash.sum()))
        earned.append(premium * earned_share)
        premium_cash.append(cash.astype(float))

    c = np.ascontiguousarray
    return PolicyInputs(
        names=tuple(names),
        cover_limit=c(np.stack(limits)),
        insured_pct=c(np.stack(pcts)),
        cover_type=c(np.stack(kinds)),
        non_qualifying_loss=c(nql, dtype=float),
        first_loss=c(fl, dtype=float),
        before_cover=c(before, dtype=bool),
        max_liability=c(ml, dtype=float),
        settlement_lag=c(lag, dtype=np.int64),
        max_extension=c(ext, dtype=np.int64),
        insured_turnover=c(turnover, dtype=float),
        annual_premium=c(annual, dtype=float),
        premium_cash=c(np.stack(premium_cash)),
        premium_paid=c(paid, dtype=float),
        premium_earned=c(earned, dtype=float),
        year_of_day=c(year_of_day, dtype=np.int64),
        n_years=int(n_years),
        red_limit_factor=c(red, dtype=float),
    )
