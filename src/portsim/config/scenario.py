"""Scenarios: economic assumptions overlaid on a run (``scenarios/*.toml``) — PD multipliers,
factor shifts and conditioning, correlation scaling, LGD, delays, sales, default events,
FX rates, the policy variants — and where each of their keys was written."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from portsim.config.actions import ActionsConfig
from portsim.config.base import KeyedValueError, Strict, folder_name
from portsim.config.locate import array_table_line, key_line, sets_key

__all__ = [
    "ASSET_CORRELATION_CAP",
    "CorrelationStress",
    "DefaultEvent",
    "DelayStress",
    "FactorCondition",
    "FactorShift",
    "LgdStress",
    "PdMultiplier",
    "SalesStress",
    "ScenarioConfig",
    "SupplierDefaultEvent",
]


class PdMultiplier(Strict):
    """Multipliers on the 1-year PD; the product of all that apply, capped at 1."""

    global_: float = Field(default=1.0, ge=0.0, le=1000.0, alias="global",
                           description="multiplies every PD")
    sector: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        default_factory=dict, description="multipliers by sector")
    country: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        default_factory=dict, description="multipliers by country")
    rating: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        default_factory=dict, description="multipliers by rating grade")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_Sd = Annotated[float, Field(ge=-10.0, le=10.0)]


class FactorShift(Strict):
    """Shift of the systematic factors' means, in standard deviations (negative: a bad year).

    The most specific entry applies to a factor: ``factor`` (by factor name: the sector with
    ``model.factors = "sector"``, ``"sector/country"`` with ``"sector_country"``, ``"all"``
    with ``"single"``), else ``sector`` (every factor of that sector), else ``global``.
    """

    global_: float = Field(default=0.0, ge=-10.0, le=10.0, alias="global",
                           description="shift of every factor [standard deviations]")
    sector: dict[str, _Sd] = Field(default_factory=dict, description="shifts by sector "
                                   "[standard deviations]")
    factor: dict[str, _Sd] = Field(default_factory=dict, description="shifts by factor name "
                                   "[standard deviations]")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FactorCondition(Strict):
    """Factors fixed at a value (standard deviations); the others follow their conditional
    distribution given them (mean Σ_rc·Σ_cc⁻¹·v, covariance Σ_rr − Σ_rc·Σ_cc⁻¹·Σ_cr)."""

    sector: dict[str, _Sd] = Field(default_factory=dict, description="every factor of a "
                                   "sector fixed at a value [standard deviations]")
    factor: dict[str, _Sd] = Field(default_factory=dict, description="a factor, by name, fixed "
                                   "at a value [standard deviations]")


#: Asset correlations scaled by a scenario are capped here (the idiosyncratic part stays > 0).
ASSET_CORRELATION_CAP = 0.99


class CorrelationStress(Strict):
    """Scaled correlations: asset correlations R (capped at 0.99) and the off-diagonal factor
    correlations (clipped to [−1, 1]; the matrix must stay positive semi-definite)."""

    asset_multiplier: float = Field(default=1.0, ge=0.0, le=100.0,
                                    description="R → min(R × multiplier, 0.99)")
    factor_multiplier: float = Field(default=1.0, ge=0.0, le=100.0,
                                     description="off-diagonal factor correlations × multiplier")


class LgdStress(Strict):
    """Loss given default: ``shift`` is added to every LGD mean, clipped to [0, 1]."""

    shift: float = Field(default=0.0, ge=-1.0, le=1.0,
                         description="added to every LGD mean, e.g. 0.1")


class DelayStress(Strict):
    """Payment behaviour. Combined with the config's ``[delays]``: the multipliers multiply and
    the shifts add, so a customer's mean delay becomes
    ``mean × delays.multiplier × multiplier + delays.shift_days + shift_days``."""

    shift_days: float = Field(default=0.0, ge=-365.0, le=730.0,
                              description="days added to every mean payment delay")
    multiplier: float = Field(default=1.0, ge=0.0, le=10.0,
                              description="multiplies every mean payment delay")
    terms_days: int | None = Field(default=None, ge=0, le=720,
                                   description="payment terms of every customer, replacing the "
                                   "book's payment_terms_days (invoices issued from the as-of "
                                   "date on; an invoices table keeps its due dates)")


class SalesStress(Strict):
    """Forward sales: every customer's ``annual_sales`` × (1 + ``change``)."""

    change: float = Field(default=0.0, ge=-1.0, le=10.0, description="-0.1 for 10 % less")


class DefaultEvent(Strict):
    """A named customer defaults on a date on every path (a deterministic event)."""

    customer: str = Field(description="customer_id in the book")
    date: _dt.date | None = Field(default=None, description="day of default; needed with a "
                              "[timeline] (after as_of, within the horizon)")
    description: str = Field(default="", description="free text (not used by the model)")


class SupplierDefaultEvent(Strict):
    """A named supplier (of ``[suppliers]``) defaults on a date on every path."""

    supplier: str = Field(description="supplier_id in the supplier table")
    date: _dt.date = Field(description="day of default (after as_of, within the horizon)")
    description: str = Field(default="", description="free text (not used by the model)")


class ScenarioConfig(Strict):
    """Economic assumptions overlaid on a run (a scenario file, see ``scenarios/``).

    Every part is optional; an empty scenario reproduces the config's run bit for bit. How
    each part is applied: :mod:`portsim.inputs.stress`.
    """

    name: str = Field(default="baseline", description="names the scenario and its folder in "
                      "a batch (unset: the file's name)")
    description: str = Field(default="", description="free text (not used by the model)")
    pd_multiplier: PdMultiplier = Field(default_factory=PdMultiplier,
                                        description="multipliers on the 1-year PD")
    factor_shift: FactorShift = Field(default_factory=FactorShift,
                                      description="shifts of the factors' means")
    factor_condition: FactorCondition = Field(default_factory=FactorCondition,
                                              description="factors fixed at a value")
    correlation: CorrelationStress = Field(default_factory=CorrelationStress,
                                           description="scaled correlations")
    lgd: LgdStress = Field(default_factory=LgdStress, description="loss given default")
    delays: DelayStress = Field(default_factory=DelayStress, description="payment behaviour")
    sales: SalesStress = Field(default_factory=SalesStress, description="forward sales")
    default_events: list[DefaultEvent] = Field(default_factory=list, description="named "
                                               "customers that default on every path")
    supplier_default_events: list[SupplierDefaultEvent] = Field(
        default_factory=list, description="named suppliers that default on every path")
    fx: dict[str, Annotated[float, Field(gt=-1.0, le=10.0)]] = Field(
        default_factory=dict, description="relative change of a currency's FX rate into the "
        "book currency: USD = -0.10 means the USD rate falls 10 %, so every USD amount is "
        "worth 10 % less in book currency")
    policies: list[str] | None = Field(
        default=None, description="credit-insurance variants to evaluate (of the config's "
        "[insurance.policies]; 'none' is always evaluated)")
    insurance: Literal["as_configured", "withdrawn"] = Field(
        default="as_configured", description="'withdrawn': no policy variant (no cover)")
    actions: ActionsConfig | None = Field(
        default=None, description="credit management on the paths (replaces the config's "
        "[actions]; unset: the config's)")
    _layers: list[tuple[str, dict[str, Any]]] = PrivateAttr(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return folder_name(v, "the scenario's folder")

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioConfig:
        if self.insurance == "withdrawn" and self.policies is not None:
            raise KeyedValueError(("policies",), self.policies, "is given with "
                                  "insurance = 'withdrawn'", "give one of them")
        if self.policies is not None and len(set(self.policies)) != len(self.policies):
            raise KeyedValueError(("policies",), self.policies, "names a policy twice")
        seen: set[str] = set()
        for ev in self.default_events:
            if ev.customer in seen:
                raise KeyedValueError(("default_events",), ev.customer,
                                      "has two default events", "keep one")
            seen.add(ev.customer)
        suppliers = [ev.supplier for ev in self.supplier_default_events]
        for sid in suppliers:
            if suppliers.count(sid) > 1:
                raise KeyedValueError(("supplier_default_events",), sid,
                                      "has two default events", "keep one")
        for table in ("sector", "factor"):
            both = set(getattr(self.factor_shift, table)) & set(
                getattr(self.factor_condition, table))
            if both:
                name = sorted(both)[0]
                raise KeyedValueError(
                    ("factor_shift", table, name), getattr(self.factor_shift, table)[name],
                    f"shifts a factor that factor_condition.{table} fixes",
                    "a conditioned factor has no distribution left to shift: keep one of them")
        return self

    @property
    def is_identity(self) -> bool:
        """Nothing is changed: the run equals the config's own run bit for bit."""
        return self.model_dump(exclude={"name", "description"}) == ScenarioConfig().model_dump(
            exclude={"name", "description"})

    @property
    def source(self) -> str | None:
        """The scenario file (the last of its ``extends`` chain) it was read from, if any."""
        return self._layers[0][0] if self._layers else None

    def locate(self, keys: tuple[str | int, ...]) -> str:
        """``"FILE line N"`` of the key at ``keys`` (list positions as ints) in the nearest
        file of the ``extends`` chain that sets it; ``scenario 'NAME'`` when unknown."""
        fallback = f"scenario '{self.name}'"
        clean = tuple(str(k) for k in keys if not isinstance(k, int))
        array_entry = len(keys) >= 2 and isinstance(keys[1], int)
        for path, raw in self._layers:
            if not sets_key(raw, clean[:1] if array_entry else clean):
                continue
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError:
                return path
            line = None
            if array_entry:  # an entry of an array of tables
                line = array_table_line(text, str(keys[0]), int(keys[1]),
                                         str(keys[2]) if len(keys) > 2 else None)
            line = line or key_line(text, clean)
            return f"{path} line {line}" if line else path
        return fallback
