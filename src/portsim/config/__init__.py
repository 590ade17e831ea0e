"""Run settings: pydantic models of the config, scenario and insurance tables; TOML
loading with ``extends`` and scenario overlays; errors that name file, key and line.

``from portsim.config import RunConfig, load_config`` — the modules are :mod:`.run` (run
settings), :mod:`.book` (the ``[book]`` table: files, CSV dialects, currencies),
:mod:`.scenario`, :mod:`.insurance`, :mod:`.warn` (early warning), :mod:`.actions` (credit
management on the paths), :mod:`.suppliers`, :mod:`.levers` (the levers file of
``portsim optimise``), :mod:`.creditriskplus` (the CreditRisk+ second opinion),
:mod:`.loading` (files, ``extends``, overlays) and :mod:`.locate` (key lines, did-you-mean).
"""

from portsim.config.actions import ActionLevel, ActionsConfig
from portsim.config.base import KeyedValueError
from portsim.config.book import BookConfig, TableDialect
from portsim.config.creditriskplus import CreditRiskPlusConfig
from portsim.config.insurance import InsuranceConfig, PolicyConfig
from portsim.config.levers import LeversConfig
from portsim.config.loading import apply_scenario, load_config, load_levers, load_scenario
from portsim.config.locate import did_you_mean, key_location
from portsim.config.run import (
    CompanyConfig,
    CorrelationConfig,
    DelayConfig,
    DelayParams,
    ModelConfig,
    OutputConfig,
    RiskConfig,
    RunConfig,
    SimulationConfig,
    TimelineConfig,
    config_hash,
)
from portsim.config.scenario import (
    ASSET_CORRELATION_CAP,
    CorrelationStress,
    DefaultEvent,
    DelayStress,
    FactorCondition,
    FactorShift,
    LgdStress,
    PdMultiplier,
    SalesStress,
    ScenarioConfig,
    SupplierDefaultEvent,
)
from portsim.config.suppliers import SuppliersConfig
from portsim.config.warn import GradeBand, LevelResponse, WarnConfig, WarnRule

__all__ = [
    "ASSET_CORRELATION_CAP",
    "ActionLevel",
    "ActionsConfig",
    "BookConfig",
    "CompanyConfig",
    "CorrelationConfig",
    "CorrelationStress",
    "CreditRiskPlusConfig",
    "DefaultEvent",
    "DelayConfig",
    "DelayParams",
    "DelayStress",
    "FactorCondition",
    "FactorShift",
    "GradeBand",
    "InsuranceConfig",
    "KeyedValueError",
    "LevelResponse",
    "LeversConfig",
    "LgdStress",
    "ModelConfig",
    "OutputConfig",
    "PdMultiplier",
    "PolicyConfig",
    "RiskConfig",
    "RunConfig",
    "SalesStress",
    "ScenarioConfig",
    "SimulationConfig",
    "SupplierDefaultEvent",
    "SuppliersConfig",
    "TableDialect",
    "TimelineConfig",
    "WarnConfig",
    "WarnRule",
    "apply_scenario",
    "config_hash",
    "did_you_mean",
    "key_location",
    "load_config",
    "load_levers",
    "load_scenario",
]
