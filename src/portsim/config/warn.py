"""Early-warning settings: the ``[warn]`` table (PD model, master scale, alert rules and the
response of each alert level); see :mod:`portsim.earlywarning`.

A config without ``[warn]`` is unchanged by it: the section is optional and nothing else
reads it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from portsim.config.base import Fraction, KeyedValueError, Strict

__all__ = ["Condition", "GradeBand", "LevelResponse", "WarnConfig", "WarnRule",
           "parse_condition"]

#: Comparison operators a rule's condition may use.
Operator = Literal[">", ">=", "<", "<=", "==", "!="]

_CONDITION = re.compile(
    r"^\s*(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S+)\s*$")


class Condition(Strict):
    """One parsed condition ``column op value``, e.g. ``past_due_60_share > 0``."""

    column: str
    op: Operator
    value: float


def parse_condition(text: str) -> Condition:
    """The condition a rule's ``when`` string states, or a ValueError saying why not.

    Parameters
    ----------
    text : str
        ``"<column> <op> <number>"``: a feature column (or ``pd``, ``index``), one of
        ``> >= < <= == !=`` and a number, e.g. ``"pd >= 0.05"``.
    """
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError("is not '<column> <op> <number>' with op one of > >= < <= == !=")
    try:
        value = float(match["value"])
    except ValueError:
        raise ValueError(f"compares with {match['value']!r}, which is not a number") from None
    return Condition(column=match["column"], op=match["op"], value=value)  # type: ignore[arg-type]


class WarnRule(Strict):
    """An alert rule: when every condition holds, the customer is at least at ``level``.

    Conditions compare a column of the feature frame, the model's ``pd`` or the risk
    ``index`` with a number; a missing value (NaN) makes the condition false. They are
    checked by :class:`WarnConfig`, which knows the rule's place in the list.
    """

    name: str = Field(min_length=1, description="names the rule in the output")
    level: str = Field(description="the level the rule raises a customer to")
    when: list[str] = Field(min_length=1, description="conditions, all of which must hold")

    @property
    def conditions(self) -> list[Condition]:
        """The parsed conditions, in order."""
        return [parse_condition(text) for text in self.when]


class LevelResponse(Strict):
    """An alert level and the response it calls for."""

    name: str = Field(min_length=1, description="the grade's name on the master scale")
    review_months: int = Field(ge=1, le=60, description="months between credit reviews")
    credit_limit_multiplier: float = Field(
        ge=0.0, le=10.0, description="multiplies the customer's credit limit (0: no new credit)")
    terms_days: int | None = Field(
        default=None, ge=0, le=365, description="payment terms in days (none: unchanged)")
    prepayment: Fraction = Field(default=0.0, description="share of each order paid in advance")
    approval: str = Field(min_length=1, description="who approves new credit")


class GradeBand(Strict):
    """One grade of the master scale: PDs above the previous band's bound, up to ``max_pd``."""

    name: str = Field(min_length=1, description="the alert level's name")
    max_pd: float = Field(gt=0.0, le=1.0, description="upper PD bound, inclusive")


def _default_grades() -> list[GradeBand]:
    bounds = (0.0010, 0.0025, 0.0050, 0.0100, 0.0250, 0.0500, 0.1000, 0.2000, 1.0)
    return [GradeBand(name=str(i + 1), max_pd=b) for i, b in enumerate(bounds)]


def _default_levels() -> list[LevelResponse]:
    return [
        LevelResponse(name="green", review_months=12, credit_limit_multiplier=1.0,
                      approval="sales"),
        LevelResponse(name="amber", review_months=3, credit_limit_multiplier=0.75,
                      terms_days=30, approval="credit_manager"),
        LevelResponse(name="red", review_months=1, credit_limit_multiplier=0.0,
                      terms_days=0, prepayment=1.0, approval="finance_director"),
    ]


def _default_rules() -> list[WarnRule]:
    return [
        WarnRule(name="pd_amber", level="amber", when=["pd >= 0.02"]),
        WarnRule(name="pd_red", level="red", when=["pd >= 0.08"]),
    ]


class WarnConfig(Strict):
    """The ``[warn]`` table: the credit files and the training window, the PD model's
    settings, the master scale, the risk index, the alert levels (least severe first) with
    their responses, and the alert rules.

    A customer's level is the most severe level among the rules that fire, else the first
    (least severe) level.
    """

    history: str | None = Field(default=None, description="payment history with partial "
                                "payments and disputes (relative to the config file)")
    statements: str | None = Field(default=None, description="financial statements")
    signals: str | None = Field(default=None, description="external signals: grades, legal "
                                "events")
    defaults: str | None = Field(default=None, description="past defaults (the outcomes)")
    train_months: int = Field(default=24, ge=1, le=240, description="month-ends the PD model "
                              "is trained on: the last ones whose 12 following months are "
                              "observed by the as-of date")
    bins: int = Field(default=5, ge=2, le=50, description="bins per feature, at most with "
                      "binning = 'optimal' (plus one bin for missing values)")
    binning: Literal["quantile", "optimal"] = Field(
        default="quantile", description="'quantile': cut each feature at its quantiles; "
        "'optimal': optbinning's optimal binning (pip install 'portsim[warn-optimal]')")
    regularisation: float = Field(default=1.0, gt=0.0, description="inverse L2 strength C of "
                                  "the logistic regression (smaller: stronger)")
    min_features: int = Field(default=3, ge=1, description="a customer with fewer features "
                              "available gets its prior PD instead of the model's")
    top_features: int = Field(default=3, ge=0, le=20, description="features listed per "
                              "customer as the largest contributions to the score")
    index_pd_floor: float = Field(default=0.0003, gt=0.0, lt=1.0,
                                  description="PD at index 0 (lower PDs also score 0)")
    index_pd_cap: float = Field(default=0.30, gt=0.0, lt=1.0,
                                description="PD at index 100 (higher PDs also score 100)")
    grades: list[GradeBand] = Field(
        default_factory=_default_grades,
        description="the master scale: grades by upper PD bound, rising to 1 (default 1-9)")
    levels: list[LevelResponse] = Field(
        default_factory=_default_levels,
        description="alert levels, least severe first, each with its response "
        "(default green, amber, red)")
    rules: list[WarnRule] = Field(
        default_factory=_default_rules,
        description="alert rules: a level when all conditions hold (default amber at "
        "PD >= 2 %, red at PD >= 8 %)")
    _source: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> WarnConfig:
        _check_scale(self.grades)
        if len(self.levels) < 2:
            raise KeyedValueError(("levels",), [lv.name for lv in self.levels], "needs at "
                                  "least two levels", "list them least severe first, e.g. "
                                  "green, amber, red")
        _unique([lv.name for lv in self.levels], "levels")
        if self.index_pd_cap <= self.index_pd_floor:
            raise KeyedValueError(("index_pd_cap",), self.index_pd_cap,
                                  f"is not above index_pd_floor={self.index_pd_floor}")
        names = [lv.name for lv in self.levels]
        _unique([r.name for r in self.rules], "rules")
        for i, rule in enumerate(self.rules):
            for j, text in enumerate(rule.when):
                try:
                    parse_condition(text)
                except ValueError as exc:
                    raise KeyedValueError(("rules", str(i), "when", str(j)), text,
                                          f"(rule {rule.name!r}) {exc}", "write e.g. "
                                          "'past_due_60_share > 0' or 'pd >= 0.05'") from None
            if rule.level not in names:
                raise KeyedValueError(("rules", str(i), "level"), rule.level,
                                      f"(rule {rule.name!r}) is not one of the levels",
                                      f"use one of {names}")
        return self

    @property
    def source(self) -> str | None:
        """The config file the section was read from (for error locations), if known."""
        return self._source

    @property
    def files(self) -> dict[str, str]:
        """The credit files the section names, by key (``history``, ``statements``,
        ``signals``, ``defaults``), as written in the config."""
        named = {"history": self.history, "statements": self.statements,
                 "signals": self.signals, "defaults": self.defaults}
        return {key: path for key, path in named.items() if path is not None}

    def severity(self, level: str) -> int:
        """The rank of ``level`` (0 = least severe)."""
        return [lv.name for lv in self.levels].index(level)


def _check_scale(grades: list[GradeBand]) -> None:
    """A ValueError unless the bands' bounds rise and the last is 1."""
    _unique([g.name for g in grades], "grades")
    for i in range(1, len(grades)):
        if grades[i].max_pd <= grades[i - 1].max_pd:
            raise KeyedValueError(("grades", str(i), "max_pd"), grades[i].max_pd,
                                  f"is not above the previous grade's {grades[i - 1].max_pd}",
                                  "list the grades from the lowest PD up")
    if not grades or grades[-1].max_pd != 1.0:
        raise KeyedValueError(("grades",), [g.max_pd for g in grades],
                              "must end with a grade whose max_pd is 1.0",
                              "so that every PD has a grade")


def _unique(names: list[str], key: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise KeyedValueError((key, str(i), "name"), name, "is used twice",
                                  "give each a different name")
        seen.add(name)

