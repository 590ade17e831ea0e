"""The scenario stress: the book, PDs, payment delays and insurance under a scenario.

Scenario stress (``config.scenario``, a :class:`~portsim.config.ScenarioConfig`) is
applied when the inputs are built (:func:`portsim.inputs.model.build_inputs`), in this order;
an empty scenario changes nothing (bit for bit):

1. **book** (:func:`stressed_book`): LGD means + ``lgd.shift`` clipped to [0, 1] (a Beta sd
   is capped at 95 % of the largest a Beta of the new mean allows), ``annual_sales`` ×
   (1 + ``sales.change``), every customer's terms = ``delays.terms_days``; the amounts
   (exposure, credit and insured limits, annual sales) of the customers whose ``currency``
   is shocked by ``fx`` × (1 + the change), and so the amounts of the open invoices in that
   currency (:func:`stressed_invoices`): the rate into the book currency moves by the change;
2. **PDs** (:func:`stressed_pd`): global × sector × country × rating multipliers, capped at 1;
   the customers of ``default_events`` get PD 1 (see below);
3. **asset correlations**: R × ``correlation.asset_multiplier``, capped at 0.99;
4. **factors** (:func:`portsim.inputs.factors.factor_stress`): off-diagonal correlations ×
   ``factor_multiplier``; then factors of ``factor_condition`` are fixed at their values and
   the others get their conditional distribution (mean Σ_rc·Σ_cc⁻¹·v, covariance
   Σ_rr − Σ_rc·Σ_cc⁻¹·Σ_cr), which the kernels draw as y = y_shift + chol @ z with the
   conditioned rows of ``chol`` zero; then ``factor_shift`` moves the means of the
   unconditioned factors;
5. **payment delays and insurance** (:func:`effective_config`): the scenario's delay
   multiplier multiplies the config's ``delays.multiplier`` and its ``shift_days`` add to the
   config's; ``policies`` keeps only the named insurance variants, ``insurance =
   "withdrawn"`` drops them all.

Default events: a named customer defaults on every path — PD 1, so every kernel sees a
default with the draws it always makes (the customer still consumes its uniform or normal,
so the other customers' default draws are those of the run without the event); a timeline
run puts the default on the event's day (``ModelInputs.default_day``). The LGD is drawn on
every default from the LGD stream in customer order, as always.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from portsim.config import RunConfig, ScenarioConfig
from portsim.data import Book

__all__ = [
    "FX_COLUMNS",
    "LGD_SD_CAP",
    "default_events",
    "effective_config",
    "event_days",
    "fx_factor",
    "stressed_book",
    "stressed_invoices",
    "stressed_pd",
    "stressed_pd_of",
]


def stressed_pd(book: Book, config: RunConfig) -> np.ndarray:
    """1-year PDs after the scenario's multipliers (global × sector × country × rating, ≤ 1).

    Customers of the scenario's ``default_events`` are not set here (see
    :func:`portsim.inputs.model.build_inputs`, which gives them PD 1). A rating multiplier
    needs the book's ``rating`` column (checked before: :mod:`portsim.workflow.checks`).
    """
    return stressed_pd_of(book, config)


def stressed_pd_of(table: Any, config: RunConfig) -> np.ndarray:
    """:func:`stressed_pd` of any table with ``p_default``, ``sector``, ``country`` and
    ``rating`` arrays (the book, or the supplier table: suppliers are stressed like
    customers)."""
    m = config.scenario.pd_multiplier
    p_default = np.asarray(table.p_default, dtype=float)
    mult = np.full(p_default.shape[0], m.global_)
    for field, values in (("sector", m.sector), ("country", m.country), ("rating", m.rating)):
        col = getattr(table, field)
        if not values or col is None:  # no rating column: checked for the book
            continue
        for key, val in values.items():
            mult[col == key] *= val
    return np.minimum(p_default * mult, 1.0)


#: A shifted LGD's Beta sd is capped at this fraction of the largest sd, √(m(1 − m)).
LGD_SD_CAP = 0.95


def stressed_book(book: Book, scenario: ScenarioConfig) -> Book:
    """The book with the scenario's LGD shift, sales change, payment terms and FX changes
    applied.

    Parameters
    ----------
    book : Book
        The validated book.
    scenario : ScenarioConfig
        ``lgd.shift`` is added to every LGD mean, clipped to [0, 1], and a Beta LGD's sd is
        capped at ``LGD_SD_CAP`` × √(m(1 − m)) for the new mean m; ``annual_sales`` are
        multiplied by 1 + ``sales.change``; ``delays.terms_days`` replaces every
        customer's ``payment_terms_days``; the amounts of :data:`FX_COLUMNS` are multiplied
        by 1 + ``fx[currency]`` for the customers of an FX-shocked currency.

    Returns
    -------
    Book
        ``book`` itself when the scenario changes none of these.
    """
    upd: dict[str, np.ndarray] = {}
    if scenario.lgd.shift != 0.0:
        m = np.clip(np.asarray(book.lgd, dtype=float) + scenario.lgd.shift, 0.0, 1.0)
        sd = np.asarray(book.lgd_sd, dtype=float)
        upd["lgd"] = m
        upd["lgd_sd"] = np.where(sd > 0, np.minimum(sd, LGD_SD_CAP * np.sqrt(m * (1.0 - m))),
                                 sd)
    if scenario.sales.change != 0.0:
        upd["annual_sales"] = np.asarray(book.annual_sales, dtype=float) * (
            1.0 + scenario.sales.change)
    if scenario.delays.terms_days is not None:
        upd["payment_terms_days"] = np.full(book.n_customers,
                                            float(scenario.delays.terms_days))
    factor = fx_factor(book.currency, scenario)
    if factor is not None:
        for column in FX_COLUMNS:
            upd[column] = upd.get(column, getattr(book, column)) * factor
    return dataclasses.replace(book, **upd) if upd else book  # type: ignore[arg-type]


#: The book's amounts an FX shock moves (all money columns, in the customer's currency).
FX_COLUMNS = ("exposure", "credit_limit", "insured_limit", "annual_sales")


def fx_factor(codes: np.ndarray | None, scenario: ScenarioConfig) -> np.ndarray | None:
    """1 + the scenario's FX change of each row's currency, shape (n,); None when the
    scenario shocks none of the currencies in ``codes`` (or there are no codes)."""
    if codes is None or not scenario.fx:
        return None
    codes = np.asarray(codes, dtype=object)
    factor = np.ones(codes.shape[0])
    for code, change in scenario.fx.items():
        factor[codes == code] = 1.0 + change
    return factor if (factor != 1.0).any() else None


def stressed_invoices(invoices: pd.DataFrame | None,
                      scenario: ScenarioConfig) -> pd.DataFrame | None:
    """The open invoices with the amounts in an FX-shocked currency × (1 + the change).

    Parameters
    ----------
    invoices : DataFrame or None
        The open invoices (:func:`portsim.data.invoices.read_invoices`); only a table with a
        ``currency`` column can hold foreign-currency amounts.
    scenario : ScenarioConfig
        Its ``fx`` changes.

    Returns
    -------
    DataFrame or None
        ``invoices`` itself when nothing changes, else a copy with ``amount`` (book currency)
        scaled.
    """
    if invoices is None or "currency" not in invoices:
        return invoices
    factor = fx_factor(invoices["currency"].to_numpy(dtype=object), scenario)
    if factor is None:
        return invoices
    out = invoices.copy()
    out["amount"] = invoices["amount"].to_numpy(dtype=float) * factor
    return out


def effective_config(config: RunConfig) -> RunConfig:
    """The config with the scenario's payment-delay and insurance changes folded in.

    The scenario's ``delays.multiplier`` multiplies the config's ``delays.multiplier`` and its
    ``delays.shift_days`` add to the config's ``delays.shift_days``; ``policies`` keeps the
    named variants of ``[insurance.policies]`` (``none`` is always evaluated: a list of
    ``["none"]`` alone, like ``insurance = "withdrawn"``, leaves no variant and no
    ``[insurance]``). Only :func:`portsim.inputs.model.build_inputs` (and the checks) use the
    result; the run's recorded config keeps the scenario as written.
    """
    scen = config.scenario
    upd: dict[str, object] = {}
    d = scen.delays
    if d.shift_days != 0.0 or d.multiplier != 1.0:
        upd["delays"] = config.delays.model_copy(update={
            "shift_days": config.delays.shift_days + d.shift_days,
            "multiplier": config.delays.multiplier * d.multiplier})
    ins = config.insurance
    if ins is not None and (scen.insurance == "withdrawn" or scen.policies is not None):
        keep = [] if scen.insurance == "withdrawn" else [p for p in (scen.policies or [])
                                                         if p in ins.policies]
        upd["insurance"] = (ins.model_copy(update={"policies": {k: ins.policies[k]
                                                               for k in keep}})
                            if keep else None)
    return config.model_copy(update=upd) if upd else config


def default_events(book: Book, config: RunConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """(customers with an event, their default day) of the scenario; None without events.

    The day is counted from the as-of date with a timeline, and 0 (unused) without.
    """
    events = config.scenario.default_events
    if not events:
        return None
    index = {str(c): i for i, c in enumerate(book.customer_id)}
    tl = config.timeline
    cust = np.array([index[ev.customer] for ev in events], dtype=np.int64)
    days = np.array([(ev.date - tl.as_of).days if tl is not None and ev.date is not None
                     else 0 for ev in events], dtype=np.int64)
    return cust, days


def event_days(n: int, events: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per-customer default day of the scenario's events, shape (n,) int64 (0: none)."""
    days = np.zeros(n, dtype=np.int64)
    days[events[0]] = events[1]
    return days
