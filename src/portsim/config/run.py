"""Run settings (``configs/*.toml``): the book, the model choices, the simulation size, the
risk levels, the timeline, payment delays, the company's cash profile, the output, and the
scenario, insurance and early-warning sections they hold."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from portsim.config.actions import ActionsConfig
from portsim.config.base import Fraction, KeyedValueError, Strict, folder_name
from portsim.config.book import BookConfig, without_unset
from portsim.config.creditriskplus import CreditRiskPlusConfig
from portsim.config.insurance import InsuranceConfig
from portsim.config.scenario import ScenarioConfig
from portsim.config.suppliers import SuppliersConfig
from portsim.config.warn import WarnConfig

__all__ = [
    "BookConfig",
    "CompanyConfig",
    "CorrelationConfig",
    "DelayConfig",
    "DelayParams",
    "ModelConfig",
    "OutputConfig",
    "RiskConfig",
    "RunConfig",
    "SimulationConfig",
    "TimelineConfig",
    "config_hash",
]


class CorrelationConfig(Strict):
    """Correlation between the systematic factors.

    Every pair of factors gets ``default``; ``pairs`` overrides named pairs
    (``"construction|retail" = 0.7``); ``matrix`` with ``factors`` gives the whole matrix.
    """

    default: float = Field(default=0.5, ge=-1.0, le=1.0,
                           description="correlation of every pair of factors not named")
    pairs: dict[str, Annotated[float, Field(ge=-1.0, le=1.0)]] = Field(
        default_factory=dict, description="correlation of named pairs of factors, "
        "\"a|b\" = 0.7")
    factors: list[str] | None = Field(default=None, description="the factor names of the "
                                      "rows and columns of matrix")
    matrix: list[list[float]] | None = Field(default=None, description="the whole correlation "
                                             "matrix (symmetric, unit diagonal, PSD)")
    repair: bool = Field(
        default=False, description="replace a non-PSD matrix by the nearest PSD one, with a warning"
    )
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The config file the table was read from (for error locations), if known."""
        return self._source

    def __eq__(self, other: object) -> bool:
        """Equal settings: the file they were read from is not part of them."""
        if not isinstance(other, CorrelationConfig):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(), sort_keys=True))

    @model_validator(mode="after")
    def _matrix_needs_names(self) -> CorrelationConfig:
        if (self.matrix is None) != (self.factors is None):
            raise ValueError("give both 'factors' and 'matrix', or neither")
        return self


class ModelConfig(Strict):
    """Model choices."""

    horizon_years: float = Field(default=1.0, gt=0.0, le=30.0, description="horizon without "
                                 "a [timeline] (with one: timeline.horizon_months)")
    family: Literal["copula", "creditriskplus"] = Field(
        default="copula", description="the default model: 'copula' (Gaussian or Student-t "
        "latent variables, the factors of [model.correlation]) or 'creditriskplus' (gamma "
        "sector variables of [creditriskplus], fixed LGD; default-only runs without "
        "importance sampling)")
    factors: Literal["sector", "sector_country", "single"] = Field(
        default="sector", description="one systematic factor per sector, per sector and "
        "country, or one for all")
    copula: Literal["gaussian", "student_t"] = Field(
        default="gaussian", description="dependence of the latent variables; student_t adds "
        "tail dependence (needs dof)")
    dof: float | None = Field(default=None, gt=2.0, description="t-copula degrees of freedom")
    asset_correlation: Literal["basel"] | Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default="basel",
        description="asset correlation R for customers without one: 'basel' or a number",
    )
    lgd_factor_sensitivity: float = Field(
        default=0.0, ge=0.0, le=5.0, description="PD–LGD link: LGD mean rises when the factor falls"
    )
    correlation: CorrelationConfig = Field(default_factory=CorrelationConfig,
                                           description="correlation between the factors")

    @model_validator(mode="after")
    def _dof_with_t(self) -> ModelConfig:
        if self.copula == "student_t" and self.dof is None:
            raise ValueError("copula = 'student_t' needs 'dof' (degrees of freedom, e.g. dof = 8)")
        return self


class SimulationConfig(Strict):
    """Monte Carlo size, seed and execution."""

    paths: int = Field(default=100_000, ge=1, le=10**9, description="Monte Carlo paths")
    seed: int = Field(default=20261128, ge=0, description="seed of every path's random streams")
    chunk_paths: int = Field(default=8192, ge=1, le=10**7, description="paths per chunk (the "
                             "unit of work of a thread or Dask worker; results do not depend "
                             "on it)")
    threads: int | None = Field(default=None, ge=1, le=1024, description="threads (unset: "
                                "numba's default, the number of cores)")
    kernel: Literal["auto", "grouped", "per_customer", "skip"] = Field(
        default="auto", description="default kernel: auto chooses from the book; grouped "
        "draws by group of like customers, per_customer one draw each, skip jumps to the "
        "defaulting customers")
    tail_sampling: Literal["plain", "importance"] = Field(
        default="plain", description="'importance': shift the systematic factors towards the "
        "loss tail (Glasserman-Li) and weight every path by its likelihood ratio")
    tail_level: float = Field(default=0.999, gt=0.0, lt=1.0, description="risk level the "
                              "importance-sampling shift is chosen for")


class RiskConfig(Strict):
    """Risk measures to report."""

    levels: list[Annotated[float, Field(gt=0.0, lt=1.0)]] = Field(
        default_factory=lambda: [0.95, 0.99, 0.995, 0.999],
        description="risk levels of VaR, ES and cash-flow-at-risk (at least one)",
    )

    @field_validator("levels")
    @classmethod
    def _sorted_unique(cls, v: list[float]) -> list[float]:
        if not v:
            raise ValueError("needs at least one risk level, e.g. levels = [0.99]")
        return sorted(set(v))


class TimelineConfig(Strict):
    """The invoice-by-invoice timeline over the horizon (turns on collections and cash)."""

    as_of: date = Field(description="as-of date: open invoices are those unpaid on this day")
    horizon_months: int = Field(default=12, ge=1, le=120,
                                description="horizon from the as-of date, in calendar months")
    period: Literal["month", "week"] = Field(default="month",
                                             description="length of a period of the series")
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
    recovery_lag_days: int = Field(default=180, ge=0, le=3650, description="days from a "
                                   "default to the recovery (1 − LGD) of its receivables")
    delay_credit_link: float = Field(
        default=0.0, ge=-1.0, le=1.0, description="correlation ρ of a customer's delay "
        "propensity with its own credit deterioration (minus its idiosyncratic credit shock): "
        "> 0, customers that default paid later beforehand; 0: delays independent of it"
    )
    predefault_drift_days: float = Field(
        default=0.0, ge=-365.0, le=365.0, description="days later an invoice due on the "
        "default day is paid, falling linearly to 0 for one due predefault_months earlier"
    )
    predefault_months: float = Field(
        default=6.0, gt=0.0, le=60.0, description="months before a default over which "
        "payments drift later (see predefault_drift_days)"
    )
    limits_bind: bool = Field(
        default=False, description="ship a new invoice only while the customer's open amount "
        "plus it stays within the book's credit_limit; what is refused is lost sales"
    )

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            if len(v) != 12:
                raise ValueError(f"needs 12 monthly weights, got {len(v)}")
            if sum(v) <= 0:
                raise ValueError("weights must not all be zero")
        return v


class DelayParams(Strict):
    """Payment-delay parameters in days (beyond the due date)."""

    mean_days: float | None = Field(default=None, ge=-365.0, le=730.0,
                                    description="mean delay (unset: [delays] mean_days)")
    sd_days: float | None = Field(default=None, ge=0.0, le=365.0, description="standard "
                                  "deviation of the propensity (unset: [delays] sd_days)")
    noise_days: float | None = Field(default=None, ge=0.0, le=365.0, description="invoice "
                                     "noise (unset: [delays] noise_days)")


class DelayConfig(Strict):
    """Payment delays: delay = propensity + invoice noise, lengthened by a bad factor.

    A customer's propensity on a path is ``mean_days + sd_days·η − factor_sensitivity_days·Y``
    (η ~ N(0, 1) per customer and path, Y the customer's systematic factor); each invoice adds
    noise with standard deviation ``noise_days``. Values come from the book's
    ``delay_mean_days``/``delay_sd_days``/``delay_noise_days`` columns where given, else from
    ``rating`` overrides, else ``sector`` overrides, else these defaults.
    """

    mean_days: float = Field(default=10.0, ge=-365.0, le=730.0,
                             description="mean payment delay beyond the due date")
    sd_days: float = Field(default=5.0, ge=0.0, le=365.0, description="standard deviation of "
                           "a customer's propensity across paths")
    noise_days: float = Field(default=5.0, ge=0.0, le=365.0, description="standard deviation "
                              "of each invoice's own noise")
    factor_sensitivity_days: float = Field(default=5.0, ge=0.0, le=365.0, description="days "
                                           "added per −1 sd of the customer's factor")
    shift_days: float = Field(default=0.0, ge=-365.0, le=730.0,
                              description="added to every delay (scenarios)")
    multiplier: float = Field(default=1.0, ge=0.0, le=10.0,
                              description="multiplies every propensity mean (scenarios)")
    sector: dict[str, DelayParams] = Field(default_factory=dict,
                                           description="overrides by sector")
    rating: dict[str, DelayParams] = Field(default_factory=dict,
                                           description="overrides by rating grade")


class CompanyConfig(Strict):
    """The company's cash profile (money in book currency, per month where stated)."""

    opening_cash: float = Field(default=0.0, description="cash at the as-of date "
                                "[book currency]")
    credit_line: float = Field(default=0.0, ge=0.0, description="the credit line that keeps "
                               "cash at the buffer [book currency]")
    min_cash_buffer: float = Field(default=0.0, ge=0.0, description="the minimum cash balance "
                                   "[book currency]")
    fixed_outflows_monthly: float = Field(default=0.0, ge=0.0, description="fixed payments "
                                          "[book currency per month]")
    other_receipts_monthly: float = Field(default=0.0, ge=0.0, description="receipts other "
                                          "than collections [book currency per month]")
    cogs_share: Fraction = Field(default=0.7, description="cost of goods as a share of sales")
    dpo_days: int = Field(default=45, ge=0, le=365, description="days payable outstanding")
    dio_days: float = Field(default=40.0, ge=0.0, le=730.0,
                            description="days inventory outstanding")


class OutputConfig(Strict):
    """Where run folders go: relative to the working directory, as a user expects."""

    dir: str = Field(default="runs", description="folder of the run folders, relative to "
                     "the working directory")
    series_budget_mb: float = Field(
        default=256.0, gt=0.0, description="memory for per-path × period series; beyond it a "
        "fixed subsample of paths is kept for the fan charts"
    )


class RunConfig(Strict):
    """Everything a run needs."""

    name: str = Field(default="run", description="names the run's folder")
    description: str = Field(default="",
                             description="free text, kept in the run folder's config")
    book: BookConfig = Field(default_factory=BookConfig, description="the customers table")
    model: ModelConfig = Field(default_factory=ModelConfig, description="model choices")
    simulation: SimulationConfig = Field(default_factory=SimulationConfig,
                                         description="Monte Carlo size, seed and execution")
    risk: RiskConfig = Field(default_factory=RiskConfig, description="risk levels")
    output: OutputConfig = Field(default_factory=OutputConfig, description="run folders")
    timeline: TimelineConfig | None = Field(default=None, description="payment timing and "
                                            "cash (unset: losses only)")
    delays: DelayConfig = Field(default_factory=DelayConfig, description="payment delays")
    company: CompanyConfig = Field(default_factory=CompanyConfig,
                                   description="the company's cash profile")
    scenario: ScenarioConfig = Field(default_factory=ScenarioConfig, description="the "
                                     "scenario's keys (see Scenario file)")
    insurance: InsuranceConfig | None = Field(default=None, description="credit-insurance "
                                              "policy variants (needs a [timeline])")
    actions: ActionsConfig | None = Field(
        default=None, description="credit management on the paths: monitoring rules and the "
        "actions of each alert level (needs a [timeline]; a scenario's [actions] replaces it)")
    warn: WarnConfig | None = Field(default=None, description="early warning: the credit "
                                    "files, PD model, grades, alert levels and rules")
    creditriskplus: CreditRiskPlusConfig | None = Field(
        default=None, description="the CreditRisk+ model of the same book (a second opinion)")
    suppliers: SuppliersConfig | None = Field(
        default=None, description="the supplier table: supplier defaults on the customers' "
        "factors, their cost and lost sales in the cash timeline (needs a [timeline])")
    base_dir: str = Field(default=".", description="folder relative paths are resolved against")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return folder_name(v, "the run's folder")

    @model_validator(mode="after")
    def _one_horizon(self) -> RunConfig:
        if self.timeline is not None and "horizon_years" in self.model.model_fields_set:
            raise ValueError("with a [timeline] the horizon is timeline.horizon_months; "
                             "remove model.horizon_years")
        if self.suppliers is not None and self.timeline is None:
            raise KeyedValueError(("suppliers",), "[suppliers]", "needs a [timeline]",
                                  "supplier failures act through the cash timeline; add "
                                  "[timeline] with as_of = 2026-12-31")
        if self.timeline is None:
            for keys, value in ((("actions",), self.actions),
                                (("scenario", "actions"), self.scenario.actions)):
                if value is not None:
                    raise KeyedValueError(keys, "[actions]", "needs a [timeline]",
                                          "actions act on the simulated invoices; add "
                                          "[timeline] with as_of = 2026-12-31")
        if self.insurance is not None:
            if self.timeline is None:
                raise KeyedValueError(("insurance",), "[insurance]", "needs a [timeline]",
                                      "claims come from the payment timeline; add [timeline] "
                                      "with as_of = 2026-12-31")
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

        ``model.horizon_years`` is left out when a timeline sets the horizon, and so are the
        book's currency and CSV keys left unset (:func:`portsim.config.book.without_unset`).
        """
        data = _without_unset(self.model_dump(mode="json", by_alias=True))
        if self.timeline is not None:
            data["model"].pop("horizon_years", None)
        return data

    @property
    def active_actions(self) -> ActionsConfig | None:
        """The ``[actions]`` simulated: the scenario's when it has one, else the config's."""
        return self.scenario.actions if self.scenario.actions is not None else self.actions

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
    """SHA-256 of the resolved config (without its folder and the keys left unset that
    :meth:`RunConfig.resolved` leaves out), for provenance."""
    data = _without_unset(config.model_dump(mode="json", by_alias=True, exclude={"base_dir"}))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


#: ``[timeline]`` keys added after the first release, with the defaults that leave the model
#: as it was: a config dump leaves them out at those values.
_TIMELINE_LATER: dict[str, object] = {
    "delay_credit_link": 0.0, "predefault_drift_days": 0.0, "predefault_months": 6.0,
    "limits_bind": False,
}


def _without_unset(data: dict[str, Any]) -> dict[str, Any]:
    """A config dump without the ``[book]`` keys left unset, an empty scenario ``[fx]``, no
    scenario supplier default events, an absent ``[warn]``, ``[creditriskplus]``,
    ``[suppliers]`` or ``[actions]`` (also in the scenario), the default ``model.family`` and
    ``creditriskplus.defaults``, the later ``[timeline]`` keys, a policy's
    ``red_limit_factor`` at its default and ``max_extension_days`` left unset, so a config
    that does not use them records (and hashes) as it did before they existed."""
    data["book"] = without_unset(data["book"])
    for section in ("warn", "creditriskplus", "suppliers", "actions"):
        if data.get(section) is None:
            data.pop(section, None)
    if data["scenario"].get("actions", 0) is None:
        data["scenario"].pop("actions")
    for pol in ((data.get("insurance") or {}).get("policies") or {}).values():
        if pol.get("red_limit_factor") == 1.0:
            pol.pop("red_limit_factor")
        if pol.get("max_extension_days") is None:
            pol.pop("max_extension_days", None)
    if data.get("timeline") is not None:
        for key, value in _TIMELINE_LATER.items():
            if data["timeline"].get(key) == value:
                data["timeline"].pop(key)
    if data["model"].get("family") == "copula":
        data["model"].pop("family")
    if (data.get("creditriskplus") or {}).get("defaults") == "poisson":
        data["creditriskplus"].pop("defaults")
    for key in ("fx", "supplier_default_events"):
        if not data["scenario"].get(key):
            data["scenario"].pop(key, None)
    return data
