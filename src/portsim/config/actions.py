"""Credit management inside the simulation: the ``[actions]`` table (monitoring rules on each
path's simulated invoices, and the actions of each alert level); see
:mod:`portsim.kernels.timeline`.

At each period end the rules are evaluated per customer on the invoices simulated so far on
the path; the customer's level is the most severe level among the rules that fire (else the
first), and that level's actions apply to the invoices issued from the next day on. The rules
use the syntax of the early-warning ``[warn]`` rules (:class:`~portsim.config.warn.WarnRule`),
on the columns that can be computed from simulated invoices (:data:`SIMULATED_FEATURES`).

The same table may sit in a scenario file, where it replaces the config's: an action policy is
a scenario, and a batch compares policies on common random numbers. A config without
``[actions]`` (and a scenario without one) is unchanged by it.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from portsim.config.base import Fraction, KeyedValueError, Strict
from portsim.config.warn import WarnRule, parse_condition

__all__ = ["SIMULATED_FEATURES", "ActionLevel", "ActionsConfig"]

#: The columns a rule may test, computed per customer at a period end ``T`` from the invoices
#: simulated on the path: ``dbt`` — amount-weighted days beyond terms, max(paid − due, 0), of
#: the invoices due in the last ``window_days`` and paid or overdue by ``T`` (an unpaid one
#: counts to ``T``, a lower bound, as in the early-warning features); ``oldest_overdue_days``
#: — days past due at ``T`` of the oldest invoice still open (0 when none is overdue);
#: ``limit_utilisation`` — amount open at ``T`` over the book's ``credit_limit`` (no limit:
#: the condition is false).
SIMULATED_FEATURES = ("dbt", "oldest_overdue_days", "limit_utilisation")

class ActionLevel(Strict):
    """An alert level and what credit management does to a customer at it.

    Actions apply to the invoices issued while the customer is at the level (from the day
    after the period end at which it got there); late-payment interest accrues on every
    overdue invoice of the customer over the periods it spends at the level. A sensible
    ``late_interest_rate`` is the EU statutory rate for late payment in commercial
    transactions, the central bank's reference rate plus 8 points (Directive 2011/7/EU,
    art. 2(6)): 0.1015 with the ECB's main refinancing rate at 2.15 % (from June 2025).
    """

    name: str = Field(min_length=1, description="the level's name (the rules raise customers "
                      "to it)")
    limit_multiplier: float = Field(default=1.0, ge=0.0, le=10.0, description="multiplies "
                                    "the book's credit_limit; below 1 the limit binds at this "
                                    "level even without limits_bind")
    terms_days: int | None = Field(default=None, ge=0, le=365, description="payment terms "
                                   "of new invoices, days (unset: the book's)")
    prepaid_share: Fraction = Field(default=0.0, description="share of each new invoice paid "
                                    "on its issue day (never at risk)")
    stop_shipping: bool = Field(default=False, description="no new invoices: every planned "
                                "sale is lost")
    sales_retention: Fraction = Field(default=1.0, description="share of the planned sales "
                                      "the customer keeps buying at this level (customers "
                                      "who leave when terms tighten)")
    collection_shift_days: float = Field(default=0.0, ge=0.0, le=365.0, description="days "
                                         "earlier new invoices are paid (collection "
                                         "escalation), never before their issue")
    collection_cost_per_invoice: float = Field(default=0.0, ge=0.0, description="cost of "
                                               "collecting each new invoice at this level")
    collection_cost_per_customer: float = Field(default=0.0, ge=0.0, description="cost each "
                                                "time a customer comes to this level")
    late_interest_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="annual "
                                      "rate charged on the customer's overdue invoices for "
                                      "the days they are overdue while it is at this level "
                                      "(EU statutory: reference rate + 8 points, e.g. "
                                      "0.1015)")


def _default_levels() -> list[ActionLevel]:
    return [ActionLevel(name="green"), ActionLevel(name="amber"), ActionLevel(name="red")]


def _default_rules() -> list[WarnRule]:
    return [
        WarnRule(name="slow_payer", level="amber", when=["dbt > 30"]),
        WarnRule(name="overdue_60", level="red", when=["oldest_overdue_days > 60"]),
    ]


class ActionsConfig(Strict):
    """The ``[actions]`` table: alert levels (least severe first) with their actions, the
    rules that raise customers to them, and the settings the features and actions share.

    Every level's actions default to none, so the defaults monitor without acting: the
    alerts, hit rates and lead times of the rules are measured on the simulated paths.
    """

    window_days: int = Field(default=91, ge=1, le=730, description="the rolling window of "
                             "the dbt feature: invoices due in the last window_days")
    limits_bind: bool = Field(default=False, description="credit limits bind (as [timeline] "
                              "limits_bind) at every level")
    interest_collection_rate: Fraction = Field(default=1.0, description="share of the late-"
                                               "payment interest charged that is collected, "
                                               "when the invoice is paid")
    insurer_red_limit_factor: Fraction | None = Field(
        default=None, description="the insurer's reaction assumed with these actions: "
        "replaces every policy's red_limit_factor (0: the insurer cancels the limit of a buyer "
        "at the most severe level for later deliveries; unset: the policies' own)")
    levels: list[ActionLevel] = Field(default_factory=_default_levels, description="alert "
                                      "levels, least severe first (default green, amber, red, "
                                      "without actions)")
    rules: list[WarnRule] = Field(default_factory=_default_rules, description="rules: a "
                                  "level when all conditions hold, on the columns dbt, "
                                  "oldest_overdue_days and limit_utilisation (default amber "
                                  "at dbt > 30, red at oldest_overdue_days > 60)")

    @model_validator(mode="after")
    def _consistent(self) -> ActionsConfig:
        names = [lv.name for lv in self.levels]
        if len(names) < 2:
            raise KeyedValueError(("levels",), names, "needs at least two levels",
                                  "list them least severe first, e.g. green, amber, red")
        for key, values in (("levels", names), ("rules", [r.name for r in self.rules])):
            seen: set[str] = set()
            for i, name in enumerate(values):
                if name in seen:
                    raise KeyedValueError((key, str(i), "name"), name, "is used twice",
                                          "give each a different name")
                seen.add(name)
        for i, rule in enumerate(self.rules):
            for j, text in enumerate(rule.when):
                try:
                    column = parse_condition(text).column
                except ValueError as exc:
                    raise KeyedValueError(("rules", str(i), "when", str(j)), text,
                                          f"(rule {rule.name!r}) {exc}",
                                          "write e.g. 'oldest_overdue_days > 60'") from None
                if column not in SIMULATED_FEATURES:
                    raise KeyedValueError(("rules", str(i), "when", str(j)), text,
                                          f"(rule {rule.name!r}) tests {column!r}, which is "
                                          "not simulated", f"use one of {SIMULATED_FEATURES}")
            if rule.level not in names:
                raise KeyedValueError(("rules", str(i), "level"), rule.level,
                                      f"(rule {rule.name!r}) is not one of the levels",
                                      f"use one of {names}")
        return self

    def severity(self, level: str) -> int:
        """The rank of ``level`` (0 = least severe)."""
        return [lv.name for lv in self.levels].index(level)
