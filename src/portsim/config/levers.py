"""The levers file of ``portsim optimise``: what a risk budget may be spent on, what each lever
costs, the objective and the budget grid (see ``configs/example_levers.toml``).

Every lever is optional; a file with only ``[budget]`` and ``[objective]`` chooses among the
config's insurance variants. Money in book currency, rates as fractions per year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from portsim.config.base import Fraction, KeyedValueError, Strict, folder_name

__all__ = [
    "ActionLever",
    "BudgetSettings",
    "CashReserveLever",
    "CollectionLever",
    "CreditLineLever",
    "FactoringLever",
    "FactoringSegment",
    "InsuranceLever",
    "LeversConfig",
    "ObjectiveSettings",
]


class BudgetSettings(Strict):
    """The budget and the grid of budgets the frontier is computed on."""

    default_share: float = Field(
        default=0.005, ge=0.0, le=1.0, description="default budget as a share of the book's "
        "annual sales (0.005: the practice of spending at least 0.5 % of revenue on risk "
        "management)")
    amount: float | None = Field(default=None, ge=0.0, description="default budget in book "
                                 "currency per year, replacing default_share × annual sales")
    grid_multiple: float = Field(default=2.0, gt=0.0, le=100.0, description="the frontier's "
                                 "budgets run from 0 to this multiple of the default budget")
    grid_points: int = Field(default=9, ge=2, le=200, description="number of budgets on the "
                             "frontier (equally spaced, the default budget among them when "
                             "grid_multiple × (grid_points − 1) is a whole number)")
    cost_basis: Literal["net", "gross"] = Field(
        default="net", description="'net': an insurance premium counts net of the expected "
        "indemnity and a factoring fee net of the expected credit loss transferred; "
        "'gross': the premium or fee alone")


class ObjectiveSettings(Strict):
    """What the optimiser minimises (every measure at ``level``)."""

    metric: Literal["es", "cfar", "line_breach", "weighted"] = Field(
        default="es", description="'es': expected shortfall of the retained credit loss; "
        "'cfar': cash-flow-at-risk (shortfall of the net cash flow below its mean); "
        "'line_breach': probability that the credit line cannot keep the cash buffer; "
        "'weighted': the sum of weights × each measure divided by its value when nothing is "
        "done (1 when that is 0)")
    level: float = Field(default=0.99, gt=0.5, lt=1.0, description="level of ES and "
                         "cash-flow-at-risk")
    weights: dict[Literal["es", "cfar", "line_breach"], float] = Field(
        default_factory=dict, description="weights of the measures with metric = 'weighted', "
        "e.g. { es = 1, line_breach = 0.5 }")

    @model_validator(mode="after")
    def _weights(self) -> ObjectiveSettings:
        if self.metric == "weighted":
            if not self.weights or not any(w > 0 for w in self.weights.values()):
                raise KeyedValueError(("weights",), self.weights, "needs a positive weight "
                                      "with metric = 'weighted'", "e.g. weights = { es = 1 }")
            if any(w < 0 for w in self.weights.values()):
                raise KeyedValueError(("weights",), self.weights, "has a negative weight")
        elif self.weights:
            raise KeyedValueError(("weights",), self.weights, f"is given with metric = "
                                  f"{self.metric!r}", "set metric = 'weighted' or remove it")
        return self


class InsuranceLever(Strict):
    """Which of the config's credit-insurance variants may be chosen (one at a time)."""

    variants: list[str] | None = Field(
        default=None, description="names of [insurance.policies] variants and 'none' (unset: "
        "all of them and 'none')")


class FactoringSegment(Strict):
    """Non-recourse factoring of a share of one sector's receivables."""

    fee: float = Field(ge=0.0, le=0.5, description="fee as a share of the factored annual "
                       "sales (discount and service charge)")
    advance_rate: Fraction = Field(default=0.85, description="share of a factored invoice "
                                   "paid at once by the factor")
    max_share: Fraction = Field(default=1.0, description="largest share of the sector that "
                                "may be factored")


class FactoringLever(Strict):
    """Factoring by sector: the share factored is chosen in [0, max_share]."""

    sectors: dict[str, FactoringSegment] = Field(
        default_factory=dict, description="segments that may be factored, by sector name")
    share_step: float = Field(default=0.25, gt=0.0, le=1.0, description="shares searched "
                              "on this grid when the objective is not 'es' (with 'es' the "
                              "shares are continuous, from the linear programme)")


class CreditLineLever(Strict):
    """A larger committed credit line."""

    extra: list[float] = Field(default_factory=lambda: [0.0], description="candidate "
                               "amounts added to [company] credit_line; 0 is always one "
                               "[book currency]")
    commitment_fee: float = Field(default=0.0, ge=0.0, le=0.2, description="yearly fee "
                                  "on the extra committed amount (fraction)")

    @model_validator(mode="after")
    def _extra(self) -> CreditLineLever:
        _check_amounts(self.extra, "extra")
        return self


class CashReserveLever(Strict):
    """A cash reserve held on top of the opening cash."""

    amounts: list[float] = Field(default_factory=lambda: [0.0], description="candidate "
                                 "reserves; 0 is always one [book currency]")
    opportunity_cost_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="yearly "
                                         "return given up on the reserve (fraction)")

    @model_validator(mode="after")
    def _amounts(self) -> CashReserveLever:
        _check_amounts(self.amounts, "amounts")
        return self


class CollectionLever(Strict):
    """Collection spend and its response curve: a spend ``x`` a year removes
    ``max_days_removed × (1 − 2^(−x / half_spend))`` days from every mean payment delay
    (simulated as a delay shift on the same random numbers)."""

    spend: list[float] = Field(default_factory=lambda: [0.0], description="candidate yearly "
                               "spends; 0 is always one [book currency]")
    max_days_removed: float = Field(default=0.0, ge=0.0, le=365.0, description="days of "
                                    "delay removed by an unlimited spend")
    half_spend: float = Field(default=1.0, gt=0.0, description="spend that removes half of "
                              "max_days_removed [book currency per year]")

    @model_validator(mode="after")
    def _spend(self) -> CollectionLever:
        _check_amounts(self.spend, "spend")
        return self

    def days_removed(self, spend: float) -> float:
        """Days removed from every mean delay by a yearly ``spend``."""
        return float(self.max_days_removed * (1.0 - 2.0 ** (-spend / self.half_spend)))


class ActionLever(Strict):
    """An action policy given as a scenario overlay file with an ``[actions]`` table (terms,
    prepayment, limits, stop shipping, collection escalation, late-payment interest). Its
    yearly cost is simulated: the mean of the run's per-path ``lost_margin`` +
    ``collection_cost`` − ``late_interest`` (the interest collected), a year, plus ``cost``."""

    name: str = Field(description="names the action in the frontier and the report")
    file: str = Field(description="scenario overlay file, relative to the levers file")
    cost: float = Field(default=0.0, ge=0.0, description="further yearly cost not simulated "
                        "[book currency]")

    @model_validator(mode="after")
    def _name(self) -> ActionLever:
        if self.name == "none":
            raise KeyedValueError(("name",), self.name, "is reserved for no action")
        folder_name(self.name, "the action's name")
        return self


class LeversConfig(Strict):
    """The levers file of ``portsim optimise``."""

    budget: BudgetSettings = Field(default_factory=BudgetSettings,
                                   description="the budget and its grid")
    objective: ObjectiveSettings = Field(default_factory=ObjectiveSettings,
                                         description="what is minimised")
    insurance: InsuranceLever = Field(default_factory=InsuranceLever,
                                      description="credit-insurance variants")
    factoring: FactoringLever = Field(default_factory=FactoringLever,
                                      description="non-recourse factoring by sector")
    credit_line: CreditLineLever = Field(default_factory=CreditLineLever,
                                         description="extra committed credit line")
    cash_reserve: CashReserveLever = Field(default_factory=CashReserveLever,
                                           description="cash reserve")
    collection: CollectionLever = Field(default_factory=CollectionLever,
                                        description="collection spend")
    action: list[ActionLever] = Field(default_factory=list, description="action policies "
                                      "([[action]] tables)")
    base_dir: str = Field(default=".", description="folder the action files are relative to")
    _source: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_actions(self) -> LeversConfig:
        names = [a.name for a in self.action]
        for k, n in enumerate(names):
            if n in names[:k]:
                raise KeyedValueError(("action",), n, f"(entry {k}) names a second action "
                                      f"{n!r}", "give each action its own name")
        return self

    @property
    def source(self) -> str | None:
        """The levers file it was read from, if known (for error locations)."""
        return self._source

    def action_path(self, action: ActionLever) -> Path:
        """The action's overlay file, resolved against the levers file's folder."""
        p = Path(action.file).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p


def _check_amounts(values: list[float], key: str) -> None:
    if not values:
        raise KeyedValueError((key,), values, "is empty", "give at least one amount, e.g. [0]")
    for k, v in enumerate(values):
        if v < 0:
            raise KeyedValueError((key,), v, f"(entry {k}) is negative")
    if len(set(values)) != len(values):
        raise KeyedValueError((key,), values, "lists an amount twice")

