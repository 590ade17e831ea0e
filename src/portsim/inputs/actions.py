"""Credit management on the paths: the ``[actions]`` levels and rules, and binding credit
limits, as arrays for :mod:`portsim.kernels.timeline`.

Without ``[actions]`` (in the config or its scenario) and with ``[timeline] limits_bind``
false, :attr:`ActionInputs.managed` is false and the timeline kernel runs as before; the
arrays then describe one level without actions and no rules.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from portsim.config import RunConfig
from portsim.config.actions import ActionLevel, ActionsConfig
from portsim.data import Book
from portsim.kernels.codes import Compare, Feature

__all__ = ["ActionInputs", "action_arrays", "build_actions"]


class ActionInputs(NamedTuple):
    """Arrays of credit management (``n`` customers, ``L`` levels, ``R`` rules, ``C``
    conditions)."""

    managed: bool  # limits bind or levels are monitored
    limits_bind: bool
    credit_limit: np.ndarray  # (n,) book currency; inf: no limit
    level_names: tuple[str, ...]  # (L,)
    window_days: int
    interest_collection: float
    lv_limit_mult: np.ndarray  # (L,)
    lv_terms: np.ndarray  # (L,) int64 days; −1: the book's terms
    lv_prepaid: np.ndarray  # (L,)
    lv_stop: np.ndarray  # (L,) bool
    lv_retention: np.ndarray  # (L,)
    lv_shift: np.ndarray  # (L,) days
    lv_cost_invoice: np.ndarray  # (L,)
    lv_cost_customer: np.ndarray  # (L,)
    lv_interest: np.ndarray  # (L,) annual rate
    rule_level: np.ndarray  # (R,) int64
    cond_start: np.ndarray  # (R + 1,) int64
    cond_feature: np.ndarray  # (C,) int64 Feature codes
    cond_op: np.ndarray  # (C,) int64 Compare codes
    cond_value: np.ndarray  # (C,)

    @property
    def monitored(self) -> bool:
        """Levels are monitored (``[actions]`` is simulated)."""
        return len(self.level_names) > 1


def build_actions(book: Book, config: RunConfig) -> ActionInputs:
    """The credit-management arrays of a book under a config with a ``[timeline]``.

    Parameters
    ----------
    book : Book
        Gives ``credit_limit`` (NaN: no limit).
    config : RunConfig
        ``config.active_actions`` (the scenario's ``[actions]``, else the config's) and
        ``[timeline] limits_bind``.
    """
    assert config.timeline is not None, "build_actions needs config.timeline"
    return action_arrays(config.active_actions, config.timeline.limits_bind,
                         np.asarray(book.credit_limit, dtype=float))


def action_arrays(act: ActionsConfig | None, limits_bind: bool, credit_limit: np.ndarray
                  ) -> ActionInputs:
    """The arrays of an ``[actions]`` table (or none) for customers with these limits.

    Parameters
    ----------
    act : ActionsConfig or None
        None: one level without actions, no rules.
    limits_bind : bool
        ``[timeline] limits_bind``; limits also bind with ``act.limits_bind``.
    credit_limit : ndarray, shape (n,)
        Book currency; NaN or inf: no limit.
    """
    levels = [ActionLevel(name="none")] if act is None else act.levels
    bind = limits_bind or (act is not None and act.limits_bind)
    rules = [] if act is None else act.rules
    names = [lv.name for lv in levels]
    conditions = [rule.conditions for rule in rules]

    def col(key: str, dtype: type = float) -> np.ndarray:
        return np.array([getattr(lv, key) for lv in levels], dtype=dtype)

    return ActionInputs(
        managed=bool(bind or act is not None),
        limits_bind=bool(bind),
        credit_limit=np.ascontiguousarray(
            np.where(np.isfinite(credit_limit), credit_limit, np.inf), dtype=float),
        level_names=tuple(names),
        window_days=91 if act is None else int(act.window_days),
        interest_collection=1.0 if act is None else float(act.interest_collection_rate),
        lv_limit_mult=col("limit_multiplier"),
        lv_terms=np.array([-1 if lv.terms_days is None else lv.terms_days for lv in levels],
                          dtype=np.int64),
        lv_prepaid=col("prepaid_share"),
        lv_stop=col("stop_shipping", bool),
        lv_retention=col("sales_retention"),
        lv_shift=col("collection_shift_days"),
        lv_cost_invoice=col("collection_cost_per_invoice"),
        lv_cost_customer=col("collection_cost_per_customer"),
        lv_interest=col("late_interest_rate"),
        rule_level=np.array([names.index(r.level) for r in rules], dtype=np.int64),
        cond_start=np.cumsum([0, *(len(c) for c in conditions)]).astype(np.int64),
        cond_feature=np.array([Feature.of(c.column) for cs in conditions for c in cs],
                              dtype=np.int64),
        cond_op=np.array([Compare.of(c.op) for cs in conditions for c in cs], dtype=np.int64),
        cond_value=np.array([c.value for cs in conditions for c in cs], dtype=float),
    )
