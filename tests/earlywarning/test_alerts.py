"""Alerts: hand-worked rules, levels and responses; master scale; risk index; top features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portsim.config import WarnConfig
from portsim.earlywarning.alerts import assess, fired_rules, grade_of, risk_index, top_features
from portsim.errors import ConfigError

OVERDUE_RED = {"name": "overdue_60", "level": "red", "when": ["max_days_overdue > 60"]}


def config(**kwargs: object) -> WarnConfig:
    rules = [{"name": "pd_amber", "level": "amber", "when": ["pd >= 0.02"]},
             {"name": "pd_red", "level": "red", "when": ["pd >= 0.08"]}, OVERDUE_RED]
    return WarnConfig.model_validate({"rules": rules, **kwargs})


def scored(pd_: list[float], overdue: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    index = [f"C{i}" for i in range(len(pd_))]
    scores = pd.DataFrame({"pd": pd_, "pd_source": "model"}, index=index)
    features = pd.DataFrame({"max_days_overdue": overdue}, index=index)
    return scores, features


def test_invoice_61_days_overdue_is_red_whatever_its_pd() -> None:
    scores, features = scored([0.0001, 0.0001, 0.0001, 0.0001], [61, 60, np.nan, 0])
    out = assess(scores, features, config())
    assert list(out["level"]) == ["red", "green", "green", "green"]
    assert list(out["rules"]) == ["overdue_60", "", "", ""]
    assert out.loc["C0", "grade"] == "1"  # the grade follows the PD, not the trigger


def test_pd_thresholds_and_the_most_severe_rule_wins() -> None:
    scores, features = scored([0.0199, 0.02, 0.0799, 0.08, 0.05], [0, 0, 0, 0, 90])
    out = assess(scores, features, config())
    assert list(out["level"]) == ["green", "amber", "amber", "red", "red"]
    assert list(out["rules"]) == ["", "pd_amber", "pd_amber", "pd_amber, pd_red",
                                  "pd_amber, overdue_60"]


def test_a_rule_needs_all_its_conditions() -> None:
    rules = [{"name": "late_and_weak", "level": "amber",
              "when": ["max_days_overdue > 30", "pd >= 0.01"]}]
    cfg = WarnConfig.model_validate({"rules": rules})
    scores, features = scored([0.02, 0.005, 0.02], [31, 31, 30])
    assert list(assess(scores, features, cfg)["level"]) == ["amber", "green", "green"]


def test_each_level_gets_its_response() -> None:
    scores, features = scored([0.001, 0.03, 0.001], [0, 0, 75])
    out = assess(scores, features, config())
    assert list(out["review_months"]) == [12, 3, 1]
    assert list(out["credit_limit_multiplier"]) == [1.0, 0.75, 0.0]
    assert np.isnan(out.loc["C0", "terms_days"])  # green keeps the usual terms
    assert list(out["terms_days"][1:]) == [30.0, 0.0]
    assert list(out["prepayment"]) == [0.0, 0.0, 1.0]
    assert list(out["approval"]) == ["sales", "credit_manager", "finance_director"]


def test_rules_naming_unknown_columns_are_config_errors() -> None:
    scores, features = scored([0.01], [0])
    cfg = WarnConfig.model_validate({"rules": [
        {"name": "late", "level": "red", "when": ["max_day_overdue > 60"]},
        {"name": "weak", "level": "amber", "when": ["quick_ratio < 1"]}]})
    with pytest.raises(ConfigError) as info:
        fired_rules(pd.concat([scores[["pd"]], features], axis=1), cfg)
    msgs = [str(p) for p in info.value.problems]
    assert msgs[0] == ("[warn] rules: rules.0.when.0='max_day_overdue > 60' names "
                       "'max_day_overdue', which is neither pd, index nor a feature; did you "
                       "mean 'max_days_overdue'?")
    assert msgs[1].endswith("columns: pd, max_days_overdue")


def test_master_scale_bounds_are_inclusive() -> None:
    grades = WarnConfig().grades
    assert list(grade_of([0.0, 0.001, 0.0010001, 0.05, 0.2, 0.2001, 1.0], grades)) == [
        "1", "1", "2", "6", "8", "9", "9"]
    with pytest.raises(ValueError, match=r"PDs must be in \[0, 1\]"):
        grade_of([1.5], grades)


def test_risk_index_is_linear_in_log_odds_and_clipped() -> None:
    floor, cap = 0.001, 0.2
    odds_mid = np.sqrt(floor / (1 - floor) * cap / (1 - cap))  # halfway in log-odds
    idx = risk_index([0.0, floor, odds_mid / (1 + odds_mid), cap, 0.9], floor, cap)
    assert idx == pytest.approx([0.0, 0.0, 50.0, 100.0, 100.0], abs=1e-12)
    pds = np.linspace(0.0005, 0.3, 50)
    assert np.all(np.diff(risk_index(pds, floor, cap)) >= 0)


def test_top_features_and_none_for_priors() -> None:
    contrib = pd.DataFrame({"a": [0.5, -0.1], "b": [-0.2, 0.3], "c": [0.9, 0.0]},
                           index=["C0", "C1"])
    assert list(top_features(contrib, 2)) == ["c (+0.90), a (+0.50)", "b (+0.30), c (+0.00)"]
    scores = pd.DataFrame({"pd": [0.01, 0.01], "pd_source": ["model", "p_default"]},
                          index=["C0", "C1"])
    features = pd.DataFrame({"max_days_overdue": [0, 0]}, index=["C0", "C1"])
    out = assess(scores, features, config(top_features=1), contrib)
    assert list(out["top_features"]) == ["c (+0.90)", ""]
    assert list(out["pd_source"]) == ["model", "p_default"]
