"""The ``[actions]`` table: rules on simulated features only, levels known, a timeline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portsim.config import ActionsConfig, RunConfig
from portsim.config.actions import SIMULATED_FEATURES
from portsim.kernels.codes import Compare, Feature


def test_the_simulated_features_are_the_kernel_codes() -> None:
    assert Feature.labels() == SIMULATED_FEATURES
    assert [Compare.of(op) for op in (">", ">=", "<", "<=", "==", "!=")] == list(Compare)


@pytest.mark.parametrize(("rule", "message"), [
    ({"name": "a", "level": "red", "when": ["pd > 0.1"]}, "not simulated"),
    ({"name": "a", "level": "purple", "when": ["dbt > 1"]}, "not one of the levels"),
    ({"name": "a", "level": "red", "when": ["dbt >> 1"]}, "op one of"),
])
def test_a_bad_rule_is_refused_with_the_reason(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ActionsConfig.model_validate({"rules": [rule]})


def test_actions_need_a_timeline() -> None:
    with pytest.raises(ValidationError, match="needs a \\[timeline\\]"):
        RunConfig.model_validate({"actions": {}})
    with pytest.raises(ValidationError, match="needs a \\[timeline\\]"):
        RunConfig.model_validate({"scenario": {"actions": {}}})


def test_the_scenario_actions_replace_the_configs() -> None:
    own = {"levels": [{"name": "a"}, {"name": "b"}], "rules": []}
    cfg = RunConfig.model_validate({"timeline": {"as_of": "2026-12-31"}, "actions": own})
    assert cfg.active_actions is not None
    assert cfg.active_actions.levels[0].name == "a"
    scen = cfg.model_copy(update={"scenario": cfg.scenario.model_copy(
        update={"actions": ActionsConfig()})})
    assert scen.active_actions is not None
    assert [lv.name for lv in scen.active_actions.levels] == ["green", "amber", "red"]
