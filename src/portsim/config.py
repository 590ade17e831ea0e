"""Run settings and scenarios: pydantic models, TOML loading, overlays.

A run config (``configs/*.toml``) names the book, the model choices, the simulation size and
the risk levels. A scenario (``scenarios/*.toml``) overlays economic assumptions on it. Errors
name the file, the key and its line, the rule and a fix, and list every problem at once.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

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
    "BookConfig",
    "CompanyConfig",
    "CorrelationConfig",
    "DelayConfig",
    "DelayParams",
    "InsuranceConfig",
    "KeyedValueError",
    "ModelConfig",
    "PdMultiplier",
    "PolicyConfig",
    "RiskConfig",
    "RunConfig",
    "ScenarioConfig",
    "SimulationConfig",
    "TimelineConfig",
    "apply_scenario",
    "config_hash",
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
    ``excluded`` customers and all others are not covered. See :mod:`portsim.policy`.
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

    global_: float = Field(default=1.0, ge=0.0, alias="global")
    sector: dict[str, Annotated[float, Field(ge=0.0)]] = Field(default_factory=dict)
    country: dict[str, Annotated[float, Field(ge=0.0)]] = Field(default_factory=dict)
    rating: dict[str, Annotated[float, Field(ge=0.0)]] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ScenarioConfig(_Strict):
    """Economic assumptions overlaid on a run."""

    name: str = "baseline"
    description: str = ""
    pd_multiplier: PdMultiplier = Field(default_factory=PdMultiplier)


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
        merged.setdefault(_clean_loc(loc), []).append(dict(detail))
    problems = []
    for keys, errs in merged.items():
        path, text, _ = next((lay for lay in layers if _sets_key(lay[2], keys)), layers[0])
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
            problems.append(Problem(where, f"'{dotted}'", "is not a known key", fix))
            continue
        shown = "" if isinstance(value, dict) else f"={value!r}"
        msgs = list(dict.fromkeys(e["msg"].removeprefix("Value error, ") for e in errs))
        problems.append(Problem(where, f"{dotted}{shown}", "; or ".join(msgs), fix))
    return problems


def _known_keys(model: type[BaseModel], keys: list[str]) -> list[str]:
    m: Any = model
    for k in keys:
        field = m.model_fields.get(k) or next(
            (f for f in m.model_fields.values() if f.alias == k), None
        )
        if field is None:
            return []
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            m = ann
        else:
            return []
    return sorted(f.alias or n for n, f in m.model_fields.items() if n != "base_dir")


def load_scenario(path: str | Path, sectors: list[str] | None = None) -> ScenarioConfig:
    """Read a scenario file (TOML), following ``extends`` to its parent in the same folder."""
    path = Path(path)
    data, text = _read_toml(path, "scenario")
    seen = {path.resolve()}
    while "extends" in data:
        parent_name = str(data.pop("extends"))
        parent = (path.parent / parent_name).with_suffix(".toml")
        if parent.resolve() in seen:
            raise ConfigError([Problem(str(path), f"extends={parent_name!r}", "is circular")])
        seen.add(parent.resolve())
        pdata, _ = _read_toml(parent, "scenario")
        data = _deep_merge(pdata, data)  # the parent's own 'extends' continues the chain
    try:
        scen = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            _problems_from_validation(exc, [(path, text, data)], ScenarioConfig)
        ) from None
    if sectors is not None:
        bad = [s for s in scen.pd_multiplier.sector if s not in sectors]
        if bad:
            probs = []
            for s in bad:
                close = difflib.get_close_matches(s, sectors, n=1)
                line = _key_line(text, ("pd_multiplier", "sector", s))
                probs.append(
                    Problem(
                        f"{path} line {line}" if line else str(path),
                        f"pd_multiplier.sector.{s}",
                        "is not a sector of the book",
                        f"did you mean '{close[0]}'?" if close
                        else f"sectors: {', '.join(sectors)}",
                    )
                )
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
    """The config with its scenario replaced."""
    return config.model_copy(update={"scenario": scenario})
