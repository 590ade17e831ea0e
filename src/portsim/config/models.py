"""Run settings and scenarios: pydantic models, TOML loading, overlays.

A run config (``configs/*.toml``) names the book, the model choices, the simulation size and
the risk levels. A scenario (``scenarios/*.toml``) overlays economic assumptions on it. Errors
name the file, the key and its line, the rule and a fix, and list every problem at once.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from portsim.errors import ConfigError, Problem

__all__ = [
    "ASSET_CORRELATION_CAP",
    "BookConfig",
    "CompanyConfig",
    "CorrelationConfig",
    "CorrelationStress",
    "DefaultEvent",
    "DelayConfig",
    "DelayParams",
    "DelayStress",
    "FactorCondition",
    "FactorShift",
    "InsuranceConfig",
    "KeyedValueError",
    "LgdStress",
    "ModelConfig",
    "PdMultiplier",
    "PolicyConfig",
    "RiskConfig",
    "RunConfig",
    "SalesStress",
    "ScenarioConfig",
    "SimulationConfig",
    "TimelineConfig",
    "apply_scenario",
    "config_hash",
    "did_you_mean",
    "key_location",
    "load_config",
    "load_scenario",
]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class KeyedValueError(ValueError):
    """A validation error about one key below the model that raises it (so its line is found).

    Parameters
    ----------
    keys : tuple of str
        Path of the key relative to the model being validated, e.g. ``("first_loss",)``.
    value : object
        The offending value, quoted in the message.
    rule : str
        The rule it breaks.
    fix : str
        How to fix it; may be empty.
    """

    def __init__(self, keys: tuple[str, ...], value: Any, rule: str, fix: str = "") -> None:
        self.keys = keys
        self.value = value
        self.rule = rule
        self.fix = fix
        dotted = ".".join(keys)
        super().__init__(f"{dotted}={value!r} {rule}" + (f"; {fix}" if fix else ""))


class BookConfig(_Strict):
    """Where the customers table is and how to read it."""

    path: str | None = Field(
        default=None, description="customers table (.csv, .parquet, .xlsx), relative to the config"
    )
    ratings: dict[str, Fraction] | None = Field(
        default=None, description="rating grade → 1-year probability of default"
    )
    sectors: list[str] | None = Field(
        default=None, description="allowed sectors; a book sector outside it is an error"
    )
    currency: str = "EUR"
    invoices: str | None = Field(
        default=None, description="open invoices table at the as-of date (optional)"
    )


class CorrelationConfig(_Strict):
    """Correlation between the systematic factors.

    Every pair of factors gets ``default``; ``pairs`` overrides named pairs
    (``"construction|retail" = 0.7``); ``matrix`` with ``factors`` gives the whole matrix.
    """

    default: float = Field(default=0.5, ge=-1.0, le=1.0)
    pairs: dict[str, Annotated[float, Field(ge=-1.0, le=1.0)]] = Field(default_factory=dict)
    factors: list[str] | None = None
    matrix: list[list[float]] | None = None
    repair: bool = Field(
        default=False, description="replace a non-PSD matrix by the nearest PSD one, with a warning"
    )

    @model_validator(mode="after")
    def _matrix_needs_names(self) -> CorrelationConfig:
        if (self.matrix is None) != (self.factors is None):
            raise ValueError("give both 'factors' and 'matrix', or neither")
        return self


class ModelConfig(_Strict):
    """Model choices."""

    horizon_years: float = Field(default=1.0, gt=0.0, le=30.0)
    factors: Literal["sector", "sector_country", "single"] = "sector"
    copula: Literal["gaussian", "student_t"] = "gaussian"
    dof: float | None = Field(default=None, gt=2.0, description="t-copula degrees of freedom")
    asset_correlation: Literal["basel"] | Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default="basel",
        description="asset correlation R for customers without one: 'basel' or a number",
    )
    lgd_factor_sensitivity: float = Field(
        default=0.0, ge=0.0, le=5.0, description="PD–LGD link: LGD mean rises when the factor falls"
    )
    correlation: CorrelationConfig = Field(default_factory=CorrelationConfig)

    @model_validator(mode="after")
    def _dof_with_t(self) -> ModelConfig:
        if self.copula == "student_t" and self.dof is None:
            raise ValueError("copula = 'student_t' needs 'dof' (degrees of freedom, e.g. dof = 8)")
        return self


class SimulationConfig(_Strict):
    """Monte Carlo size, seed and execution."""

    paths: int = Field(default=100_000, ge=1, le=10**9)
    seed: int = Field(default=20261128, ge=0)
    chunk_paths: int = Field(default=8192, ge=1, le=10**7)
    threads: int | None = Field(default=None, ge=1, le=1024)
    kernel: Literal["auto", "grouped", "per_customer", "skip"] = "auto"
    tail_sampling: Literal["plain", "importance"] = Field(
        default="plain", description="'importance': shift the systematic factors towards the "
        "loss tail (Glasserman-Li) and weight every path by its likelihood ratio")
    tail_level: float = Field(default=0.999, gt=0.0, lt=1.0, description="risk level the "
                              "importance-sampling shift is chosen for")


class RiskConfig(_Strict):
    """Risk measures to report."""

    levels: list[Annotated[float, Field(gt=0.0, lt=1.0)]] = Field(
        default_factory=lambda: [0.95, 0.99, 0.995, 0.999]
    )

    @field_validator("levels")
    @classmethod
    def _sorted_unique(cls, v: list[float]) -> list[float]:
        return sorted(set(v))


class TimelineConfig(_Strict):
    """The invoice-by-invoice timeline over the horizon (turns on collections and cash)."""

    as_of: date = Field(description="as-of date: open invoices are those unpaid on this day")
    horizon_months: int = Field(default=12, ge=1, le=120)
    period: Literal["month", "week"] = "month"
    invoice_frequency: Literal["monthly", "weekly", "daily"] = Field(
        default="monthly", description="how often forward sales are invoiced"
    )
    seasonality: list[Annotated[float, Field(ge=0.0)]] | None = Field(
        default=None, description="12 monthly sales weights (January first), mean 1"
    )
    protracted_default_days: int = Field(
        default=90, ge=0, le=720, description="an invoice unpaid this long after due is a "
        "protracted default"
    )
    recovery_lag_days: int = Field(default=180, ge=0, le=3650)

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            if len(v) != 12:
                raise ValueError(f"needs 12 monthly weights, got {len(v)}")
            if sum(v) <= 0:
                raise ValueError("weights must not all be zero")
        return v


class DelayParams(_Strict):
    """Payment-delay parameters in days (beyond the due date)."""

    mean_days: float | None = Field(default=None, ge=-365.0, le=730.0)
    sd_days: float | None = Field(default=None, ge=0.0, le=365.0)
    noise_days: float | None = Field(default=None, ge=0.0, le=365.0)


class DelayConfig(_Strict):
    """Payment delays: delay = propensity + invoice noise, lengthened by a bad factor.

    A customer's propensity on a path is ``mean_days + sd_days·η − factor_sensitivity_days·Y``
    (η ~ N(0, 1) per customer and path, Y the customer's systematic factor); each invoice adds
    noise with standard deviation ``noise_days``. Values come from the book's
    ``delay_mean_days``/``delay_sd_days``/``delay_noise_days`` columns where given, else from
    ``rating`` overrides, else ``sector`` overrides, else these defaults.
    """

    mean_days: float = Field(default=10.0, ge=-365.0, le=730.0)
    sd_days: float = Field(default=5.0, ge=0.0, le=365.0)
    noise_days: float = Field(default=5.0, ge=0.0, le=365.0)
    factor_sensitivity_days: float = Field(default=5.0, ge=0.0, le=365.0)
    shift_days: float = Field(default=0.0, ge=-365.0, le=730.0,
                              description="added to every delay (scenarios)")
    multiplier: float = Field(default=1.0, ge=0.0, le=10.0,
                              description="multiplies every propensity mean (scenarios)")
    sector: dict[str, DelayParams] = Field(default_factory=dict)
    rating: dict[str, DelayParams] = Field(default_factory=dict)


class CompanyConfig(_Strict):
    """The company's cash profile (money in book currency, per month where stated)."""

    opening_cash: float = 0.0
    credit_line: float = Field(default=0.0, ge=0.0)
    min_cash_buffer: float = Field(default=0.0, ge=0.0)
    fixed_outflows_monthly: float = Field(default=0.0, ge=0.0)
    other_receipts_monthly: float = Field(default=0.0, ge=0.0)
    cogs_share: Fraction = Field(default=0.7, description="cost of goods as a share of sales")
    dpo_days: int = Field(default=45, ge=0, le=365, description="days payable outstanding")
    dio_days: float = Field(default=40.0, ge=0.0, le=730.0,
                            description="days inventory outstanding")


class OutputConfig(_Strict):
    """Where run folders go: relative to the working directory, as a user expects."""

    dir: str = "runs"
    series_budget_mb: float = Field(
        default=256.0, gt=0.0, description="memory for per-path × period series; beyond it a "
        "fixed subsample of paths is kept for the fan charts"
    )


_POLICY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


class PolicyConfig(_Strict):
    """Terms of one credit-insurance policy variant (money in book currency, fractions).

    Cover per buyer: an insurer limit (the book's ``insured_limit``, or ``buyer_limits``) at
    ``insured_percentage``; else, when ``discretionary_ceiling`` > 0 and the buyer's internal
    ``credit_limit`` is positive and at most the ceiling, a discretionary limit equal to that
    credit limit; else, when ``unnamed_threshold`` > 0 and the buyer's exposure (or annual
    sales) is below it, unnamed-buyer cover up to the threshold at ``unnamed_percentage``;
    ``excluded`` customers and all others are not covered. See :mod:`portsim.inputs.policy`.
    """

    description: str = ""
    insured_percentage: Fraction = Field(
        default=0.9, description="share of the qualifying loss indemnified (co-insurance)"
    )
    buyer_limits: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=dict, description="insurer credit limits by customer id, replacing "
        "the book's insured_limit (0: no insurer limit)"
    )
    discretionary_ceiling: float = Field(
        default=0.0, ge=0.0, description="buyers without an insurer limit are covered up to "
        "their own credit_limit when it is at most this ceiling (0: no discretionary cover)"
    )
    unnamed_threshold: float = Field(
        default=0.0, ge=0.0, description="buyers without a limit whose exposure (or annual "
        "sales) is below this are covered up to it (0: no unnamed-buyer cover)"
    )
    unnamed_basis: Literal["exposure", "annual_sales"] = "exposure"
    unnamed_percentage: Fraction | None = Field(
        default=None, description="insured percentage of unnamed-buyer cover (default: "
        "insured_percentage)"
    )
    excluded: list[str] = Field(
        default_factory=list, description="customer ids never covered (e.g. affiliates)"
    )
    non_qualifying_loss: float = Field(
        default=0.0, ge=0.0, description="a buyer's qualifying loss below this is ignored"
    )
    first_loss: float = Field(
        default=0.0, ge=0.0, description="aggregate first loss kept per policy year"
    )
    first_loss_applies: Literal["after_cover", "before_cover"] = Field(
        default="after_cover", description="after_cover: deducted from the indemnity at the "
        "insured percentage; before_cover: deducted from the qualifying loss"
    )
    max_liability: float | None = Field(
        default=None, gt=0.0, description="maximum indemnity per policy year (amount)"
    )
    max_liability_multiple: float | None = Field(
        default=None, gt=0.0, description="maximum indemnity per policy year as a multiple "
        "of the annual premium"
    )
    waiting_period_days: int | None = Field(
        default=None, ge=0, le=720, description="protracted-default waiting period after the "
        "due date; must equal timeline.protracted_default_days (the default)"
    )
    settlement_lag_days: int = Field(
        default=30, ge=0, le=3650, description="days from a claim to the indemnity payment"
    )
    premium_rate: Fraction = Field(description="premium as a fraction of insured turnover")
    minimum_premium: float = Field(default=0.0, ge=0.0, description="per policy year")
    premium_schedule: Literal["annual", "quarterly", "monthly"] = Field(
        default="annual", description="premium instalments, each paid in advance"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PolicyConfig:
        if self.max_liability is not None and self.max_liability_multiple is not None:
            raise KeyedValueError(
                ("max_liability_multiple",), self.max_liability_multiple,
                "is given together with max_liability",
                "give the maximum liability as an amount or as a multiple of the premium",
            )
        if self.max_liability is not None and self.first_loss > self.max_liability:
            raise KeyedValueError(
                ("first_loss",), self.first_loss,
                f"is above max_liability={self.max_liability!r}",
                "the first loss kept per policy year must not exceed the maximum liability",
            )
        seen: set[str] = set()
        for cid in self.excluded:
            if cid in seen:
                raise KeyedValueError(("excluded",), cid, "is listed twice")
            seen.add(cid)
        return self


class InsuranceConfig(_Strict):
    """Credit-insurance policy variants, all evaluated on the same simulated claims.

    ``[insurance.policies.NAME]`` tables; the variant ``none`` (no cover) is always added
    first, and the value of each variant's cover is measured against it.
    """

    policies: dict[str, PolicyConfig] = Field(description="policy variants by name")
    _source: str | None = PrivateAttr(default=None)

    @field_validator("policies")
    @classmethod
    def _names(cls, v: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
        if not v:
            raise ValueError("needs at least one [insurance.policies.NAME] table")
        for name in v:
            if name == "none":
                raise KeyedValueError((name,), name, "is reserved for the variant without cover",
                                      "choose another name")
            if not _POLICY_NAME.match(name):
                raise KeyedValueError((name,), name, "is not a valid policy name",
                                      "use letters, digits, '_' and '-', starting with a letter")
        return v

    @property
    def source(self) -> str | None:
        """The config file the section was read from (for error locations), if known."""
        return self._source


class PdMultiplier(_Strict):
    """Multipliers on the 1-year PD; the product of all that apply, capped at 1."""

    global_: float = Field(default=1.0, ge=0.0, le=1000.0, alias="global")
    sector: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(default_factory=dict)
    country: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(default_factory=dict)
    rating: dict[str, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_Sd = Annotated[float, Field(ge=-10.0, le=10.0)]


class FactorShift(_Strict):
    """Shift of the systematic factors' means, in standard deviations (negative: a bad year).

    The most specific entry applies to a factor: ``factor`` (by factor name: the sector with
    ``model.factors = "sector"``, ``"sector/country"`` with ``"sector_country"``, ``"all"``
    with ``"single"``), else ``sector`` (every factor of that sector), else ``global``.
    """

    global_: float = Field(default=0.0, ge=-10.0, le=10.0, alias="global")
    sector: dict[str, _Sd] = Field(default_factory=dict)
    factor: dict[str, _Sd] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FactorCondition(_Strict):
    """Factors fixed at a value (standard deviations); the others follow their conditional
    distribution given them (mean Σ_rc·Σ_cc⁻¹·v, covariance Σ_rr − Σ_rc·Σ_cc⁻¹·Σ_cr)."""

    sector: dict[str, _Sd] = Field(default_factory=dict)
    factor: dict[str, _Sd] = Field(default_factory=dict)


#: Asset correlations scaled by a scenario are capped here (the idiosyncratic part stays > 0).
ASSET_CORRELATION_CAP = 0.99


class CorrelationStress(_Strict):
    """Scaled correlations: asset correlations R (capped at 0.99) and the off-diagonal factor
    correlations (clipped to [−1, 1]; the matrix must stay positive semi-definite)."""

    asset_multiplier: float = Field(default=1.0, ge=0.0, le=100.0,
                                    description="R → min(R × multiplier, 0.99)")
    factor_multiplier: float = Field(default=1.0, ge=0.0, le=100.0,
                                     description="off-diagonal factor correlations × multiplier")


class LgdStress(_Strict):
    """Loss given default: ``shift`` is added to every LGD mean, clipped to [0, 1]."""

    shift: float = Field(default=0.0, ge=-1.0, le=1.0)


class DelayStress(_Strict):
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


class SalesStress(_Strict):
    """Forward sales: every customer's ``annual_sales`` × (1 + ``change``)."""

    change: float = Field(default=0.0, ge=-1.0, le=10.0, description="-0.1 for 10 % less")


class DefaultEvent(_Strict):
    """A named customer defaults on a date on every path (a deterministic event)."""

    customer: str = Field(description="customer_id in the book")
    date: _dt.date | None = Field(default=None, description="day of default; needed with a "
                              "[timeline] (after as_of, within the horizon)")
    description: str = ""


_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class ScenarioConfig(_Strict):
    """Economic assumptions overlaid on a run (a scenario file, see ``scenarios/``).

    Every part is optional; an empty scenario reproduces the config's run bit for bit. How
    each part is applied: :mod:`portsim.inputs.model`.
    """

    name: str = "baseline"
    description: str = ""
    pd_multiplier: PdMultiplier = Field(default_factory=PdMultiplier)
    factor_shift: FactorShift = Field(default_factory=FactorShift)
    factor_condition: FactorCondition = Field(default_factory=FactorCondition)
    correlation: CorrelationStress = Field(default_factory=CorrelationStress)
    lgd: LgdStress = Field(default_factory=LgdStress)
    delays: DelayStress = Field(default_factory=DelayStress)
    sales: SalesStress = Field(default_factory=SalesStress)
    default_events: list[DefaultEvent] = Field(default_factory=list)
    policies: list[str] | None = Field(
        default=None, description="credit-insurance variants to evaluate (of the config's "
        "[insurance.policies]; 'none' is always evaluated)")
    insurance: Literal["as_configured", "withdrawn"] = Field(
        default="as_configured", description="'withdrawn': no policy variant (no cover)")
    _layers: list[tuple[str, dict[str, Any]]] = PrivateAttr(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _SCENARIO_NAME.match(v):
            raise ValueError("must start with a letter or digit and hold only letters, digits, "
                             "'_', '-' and '.' (it names the scenario's folder)")
        return v

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
            if not _sets_key(raw, clean[:1] if array_entry else clean):
                continue
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError:
                return path
            line = None
            if array_entry:  # an entry of an array of tables
                line = _array_table_line(text, str(keys[0]), int(keys[1]),
                                         str(keys[2]) if len(keys) > 2 else None)
            line = line or _key_line(text, clean)
            return f"{path} line {line}" if line else path
        return fallback


class RunConfig(_Strict):
    """Everything a run needs."""

    name: str = "run"
    description: str = ""
    book: BookConfig = Field(default_factory=BookConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    timeline: TimelineConfig | None = None
    delays: DelayConfig = Field(default_factory=DelayConfig)
    company: CompanyConfig = Field(default_factory=CompanyConfig)
    scenario: ScenarioConfig = Field(default_factory=ScenarioConfig)
    insurance: InsuranceConfig | None = None
    base_dir: str = Field(default=".", description="folder relative paths are resolved against")

    @model_validator(mode="after")
    def _one_horizon(self) -> RunConfig:
        if self.timeline is not None and "horizon_years" in self.model.model_fields_set:
            raise ValueError("with a [timeline] the horizon is timeline.horizon_months; "
                             "remove model.horizon_years")
        if self.insurance is not None:
            if self.timeline is None:
                raise KeyedValueError(("insurance",), "[insurance]", "needs a [timeline]",
                                      "claims come from the payment timeline; add [timeline] "
                                      "with as_of = 2026-12-31")
            if getattr(self.simulation, "tail_sampling", "plain") != "plain":
                raise KeyedValueError(
                    ("simulation", "tail_sampling"), self.simulation.tail_sampling,
                    "is not supported with [insurance] yet",
                    "the value-of-cover metrics weigh every path equally; use "
                    "tail_sampling = 'plain'")
            wait = self.timeline.protracted_default_days
            for name, pol in self.insurance.policies.items():
                if pol.waiting_period_days is not None and pol.waiting_period_days != wait:
                    raise KeyedValueError(
                        ("insurance", "policies", name, "waiting_period_days"),
                        pol.waiting_period_days,
                        f"differs from timeline.protracted_default_days={wait}",
                        "the timeline's protracted_default_days is the waiting period: make "
                        "them equal, or leave waiting_period_days out",
                    )
        return self

    def resolved(self) -> dict[str, Any]:
        """Every setting as JSON-ready data that validates back to this config.

        ``model.horizon_years`` is left out when a timeline sets the horizon.
        """
        data = self.model_dump(mode="json", by_alias=True)
        if self.timeline is not None:
            data["model"].pop("horizon_years", None)
        return data

    def resolve(self, path: str) -> Path:
        """A path from the config, resolved against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def with_updates(self, **sections: dict[str, Any]) -> RunConfig:
        """A copy with some keys of some sections replaced, validated again."""
        data = self.model_dump(by_alias=True, exclude_unset=True)
        for sec, upd in sections.items():
            if isinstance(data.get(sec), dict):
                data[sec] = {**data[sec], **upd}
            else:
                data[sec] = upd
        return RunConfig.model_validate(data)


def config_hash(config: RunConfig) -> str:
    """SHA-256 of the resolved config (without its folder), for provenance."""
    data = config.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# ----------------------------------------------------------------------------- loading

def _read_toml(path: Path, kind: str) -> tuple[dict[str, Any], str]:
    if not path.exists():
        raise ConfigError([Problem(str(path), "", f"{kind} file not found")])
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"{path} line {m.group(1)}" if m else str(path)
        raise ConfigError([Problem(where, "", f"is not valid TOML ({exc})")]) from None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _key_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the TOML key at ``loc`` (best effort), else the line of its table."""
    keys = [str(k) for k in loc if not isinstance(k, int)]
    table: list[str] = []
    best: int | None = None
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
    keyre = re.compile(r'^\s*("?)([A-Za-z0-9_\-.| ]+?)\1\s*=')
    for no, line in enumerate(text.splitlines(), start=1):
        h = header.match(line)
        if h:
            table = [t.strip().strip('"') for t in h.group(1).split(".")]
            if table == keys or (keys and table[: len(keys)] == keys):
                best = best or no  # the table itself, or the first table below it
            continue
        k = keyre.match(line)
        if k:
            path = table + [t.strip().strip('"') for t in k.group(2).split(".")]
            if path == keys:
                return no
            if keys[: len(path)] == path and best is None:
                best = no
    return best


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str, ...]:
    """The TOML key path of an error: list indices and pydantic's union tags dropped."""
    return tuple(str(k) for k in loc
                 if not isinstance(k, int) and not re.search(r"[\[\]()]|^[a-z]+-[a-z-]+$", str(k)))


def _sets_key(data: dict[str, Any], keys: tuple[str, ...]) -> bool:
    node: Any = data
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return False
        node = node[k]
    return True


def _array_table_line(text: str, name: str, index: int, key: str | None) -> int | None:
    """1-based line of ``key`` in the ``index``-th ``[[name]]`` table of ``text`` (or of that
    table's header when the key is not in it); None when there is no such table."""
    header = re.compile(r"^\s*\[\[\s*" + re.escape(name) + r"\s*\]\]")
    other = re.compile(r"^\s*\[")
    keyre = re.compile(r"^\s*" + re.escape(key) + r"\s*=") if key else None
    count = -1
    found: int | None = None
    for no, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            count += 1
            if count == index:
                found = no
                continue
            if found is not None:
                break
        elif found is not None:
            if other.match(line):
                break
            if keyre is not None and keyre.match(line):
                return no
    return found


def _problems_from_validation(
    exc: ValidationError,
    layers: list[tuple[Path, str, dict[str, Any]]],
    model: type[BaseModel],
) -> list[Problem]:
    """One problem per bad key, located in the nearest file of the ``extends`` chain that
    sets it (``layers`` = [(path, text, raw data)], child first)."""
    merged: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for detail in exc.errors():
        loc = tuple(detail["loc"])
        keyed = (detail.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedValueError):  # a model's check about one of its keys
            loc = loc + keyed.keys
        merged.setdefault(_clean_loc(loc), []).append({**detail, "loc": loc})
    problems = []
    for keys, errs in merged.items():
        path, text, _ = next((lay for lay in layers if _sets_key(lay[2], keys)), layers[0])
        raw = errs[0]["loc"]
        line = None
        if text and len(raw) >= 2 and isinstance(raw[1], int):  # in an array of tables
            line = _array_table_line(text, str(raw[0]), raw[1],
                                     str(raw[2]) if len(raw) > 2 else None)
        if line is None:
            line = _key_line(text, keys) if text and keys else None
        where = f"{path} line {line}" if line else str(path)
        dotted = ".".join(keys) or "(top level)"
        err = errs[0]
        keyed = (err.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedValueError):
            problems.append(Problem(where, f"{dotted}={keyed.value!r}", keyed.rule, keyed.fix))
            continue
        value = err.get("input")
        fix = ""
        if err["type"] == "extra_forbidden":
            known = _known_keys(model, list(keys[:-1]))
            close = difflib.get_close_matches(keys[-1], known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            if len(keys) > 1 and keys[-1] in _known_keys(model, []):
                fix = (f"'{keys[-1]}' is a top-level key: move it above the first [table] "
                       "header (in TOML a key below a header belongs to that table)")
            problems.append(Problem(where, f"'{dotted}'", "is not a known key", fix))
            continue
        shown = "" if isinstance(value, dict) else f"={value!r}"
        msgs = list(dict.fromkeys(e["msg"].removeprefix("Value error, ") for e in errs))
        problems.append(Problem(where, f"{dotted}{shown}", "; or ".join(msgs), fix))
    return problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds, looking inside ``list[...]`` and ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _known_keys(model: type[BaseModel], keys: list[str]) -> list[str]:
    m: Any = model
    for k in keys:
        field = m.model_fields.get(k) or next(
            (f for f in m.model_fields.values() if f.alias == k), None
        )
        if field is None:
            return []
        m = _model_of(field.annotation)
        if m is None:
            return []
    return sorted(f.alias or n for n, f in m.model_fields.items() if n != "base_dir")


def did_you_mean(name: str, choices: list[str] | tuple[str, ...], what: str) -> str:
    """A fix for an unknown ``name``: the closest of ``choices``, else the choices
    (``what`` names them, e.g. ``"sectors"``)."""
    same = [c for c in choices if c.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, list(choices), n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(list(choices)[:12]) + (", …" if len(choices) > 12 else "")
    return f"{what}: {shown}" if choices else f"the config has no {what}"


def load_scenario(path: str | Path, sectors: list[str] | None = None) -> ScenarioConfig:
    """Read a scenario file (TOML), following ``extends`` to its parent.

    ``extends = "baseline"`` names a scenario file in the same folder (``.toml`` may be
    omitted); the child's keys replace the parent's, tables merge key by key, and the chain
    may be of any depth. A scenario without a ``name`` anywhere in its chain is named after its
    file.

    Parameters
    ----------
    path : str or Path
        The scenario file, e.g. ``scenarios/severe_recession.toml``.
    sectors : list of str, optional
        The config's ``[book] sectors``: sector names in the scenario are checked against it
        (else they are checked against the book before the inputs are built).

    Raises
    ------
    ConfigError
        Every problem, with file, key, line and a fix (in the file of the chain that sets
        the key).
    """
    path = Path(path)
    data, text = _read_toml(path, "scenario")
    layers = [(path, text, dict(data))]
    seen = {path.resolve()}
    while "extends" in layers[-1][2]:
        child = layers[-1][0]
        parent_name = str(layers[-1][2]["extends"])
        parent = child.parent / (parent_name if parent_name.endswith(".toml")
                                 else parent_name + ".toml")
        if parent.resolve() in seen:
            raise ConfigError([Problem(str(child), f"extends={parent_name!r}", "is circular")])
        if not parent.exists():
            line = _key_line(layers[-1][1], ("extends",))
            others = sorted(p.stem for p in child.parent.glob("*.toml") if p != child)
            raise ConfigError([Problem(f"{child} line {line}" if line else str(child),
                                       f"extends={parent_name!r}",
                                       f"names no scenario file in {child.parent}",
                                       did_you_mean(parent_name, others, "scenarios there"))])
        seen.add(parent.resolve())
        pdata, ptext = _read_toml(parent, "scenario")
        layers.append((parent, ptext, pdata))
    data = {}
    for _, _, layer in reversed(layers):
        data = _deep_merge(data, {k: v for k, v in layer.items() if k != "extends"})
    data.setdefault("name", path.stem)
    try:
        scen = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems_from_validation(exc, layers, ScenarioConfig)) from None
    scen._layers = [(str(p), raw) for p, _, raw in layers]
    if sectors is not None:
        probs = [Problem(scen.locate((table, "sector", s)), f"{table}.sector.{s}",
                         "is not a sector of the book", did_you_mean(s, sectors, "sectors"))
                 for table in ("pd_multiplier", "factor_shift", "factor_condition")
                 for s in getattr(scen, table).sector if s not in sectors]
        if probs:
            raise ConfigError(probs)
    return scen


def load_config(path: str | Path, scenario: str | Path | None = None) -> RunConfig:
    """Read a run config (TOML), following ``extends``, and overlay a scenario file.

    Parameters
    ----------
    path : str or Path
        The run config, e.g. ``configs/example.toml``.
    scenario : str or Path, optional
        A scenario file whose assumptions replace the config's ``[scenario]`` table.

    Raises
    ------
    ConfigError
        Listing every problem with file, key, line, rule and fix.
    """
    path = Path(path)
    data, text = _read_toml(path, "config")
    # the chain child → parent → grandparent …, each parent relative to the file naming it
    layers = [(path, text, dict(data))]
    seen = {path.resolve()}
    while "extends" in layers[-1][2]:
        child = layers[-1][0]
        parent = child.parent / str(layers[-1][2]["extends"])
        if parent.resolve() in seen:
            raise ConfigError([Problem(str(child), f"extends={parent.name!r}", "is circular")])
        seen.add(parent.resolve())
        pdata, ptext = _read_toml(parent, "config")
        layers.append((parent, ptext, pdata))
    data = {}
    for _, _, layer in reversed(layers):
        data = _deep_merge(data, {k: v for k, v in layer.items() if k != "extends"})
    data.setdefault("base_dir", str(path.resolve().parent))
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems_from_validation(exc, layers, RunConfig)) from None
    if cfg.insurance is not None:
        cfg.insurance._source = str(path)  # for the book-dependent checks' error locations
    if scenario is not None:
        cfg = apply_scenario(cfg, load_scenario(scenario, cfg.book.sectors))
    return cfg


def key_location(source: str | None, loc: tuple[str, ...], fallback: str) -> str:
    """``"FILE line N"`` of the TOML key at ``loc`` in the config file ``source``.

    For problems found after loading (e.g. against the book); ``fallback`` when the file or
    the key cannot be found.
    """
    if source is None:
        return fallback
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError:
        return fallback
    line = _key_line(text, loc)
    return f"{source} line {line}" if line else source


def apply_scenario(config: RunConfig, scenario: ScenarioConfig) -> RunConfig:
    """The config with its scenario replaced, after the checks that need only the config.

    The scenario's policy names must be the config's ``[insurance.policies]`` (or ``none``)
    and its sectors in ``[book] sectors`` when that list is given; the checks against the
    book (sectors, countries, ratings, factors, customers, event dates) are made before the
    inputs are built (:func:`portsim.workflow.checks.check_run`), and the stress itself when
    they are built (:mod:`portsim.inputs.stress`), so applying another scenario to the result
    replaces this one.

    Raises
    ------
    ConfigError
        Every problem, located in the scenario file.
    """
    problems = []
    if scenario.policies is not None:
        names = [] if config.insurance is None else list(config.insurance.policies)
        for k, pol in enumerate(scenario.policies):
            if pol != "none" and pol not in names:
                rule = ("is not a policy of the config" if names else
                        "is a policy, but the config has no [insurance] section")
                problems.append(Problem(scenario.locate(("policies",)),
                                        f"policies[{k}]={pol!r}", rule,
                                        did_you_mean(pol, ["none", *names], "policies")))
    sectors = config.book.sectors
    if sectors is not None:
        problems += [Problem(scenario.locate((table, "sector", s)), f"{table}.sector.{s}",
                             "is not a sector of the book", did_you_mean(s, sectors, "sectors"))
                     for table in ("pd_multiplier", "factor_shift", "factor_condition")
                     for s in getattr(scenario, table).sector if s not in sectors]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"scenario": scenario})
