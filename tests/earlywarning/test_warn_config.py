"""The ``[warn]`` config section: defaults, loading from TOML, clear errors, and no change to
configs without it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pydantic
import pytest

from portsim.config import RunConfig, WarnConfig, config_hash, load_config
from portsim.config.warn import parse_condition
from portsim.errors import ConfigError


def load(tmp_path: Path, text: str) -> RunConfig:
    path = tmp_path / "run.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_config(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return [str(p) for p in info.value.problems]


def test_absent_section_changes_neither_record_nor_hash() -> None:
    plain = RunConfig()
    assert plain.warn is None
    assert "warn" not in plain.resolved()
    with_warn = RunConfig(warn=WarnConfig())
    assert "warn" in with_warn.resolved()
    assert config_hash(with_warn) != config_hash(plain)
    assert RunConfig.model_validate(with_warn.resolved()) == with_warn


def test_defaults_are_the_documented_ones() -> None:
    cfg = WarnConfig()
    assert [lv.name for lv in cfg.levels] == ["green", "amber", "red"]
    assert [g.max_pd for g in cfg.grades] == [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.2, 1.0]
    assert [(r.level, r.when) for r in cfg.rules] == [("amber", ["pd >= 0.02"]),
                                                      ("red", ["pd >= 0.08"])]
    assert cfg.levels[2].prepayment == 1.0
    assert cfg.levels[0].terms_days is None
    assert cfg.severity("red") == 2


def test_toml_section_loads(tmp_path: Path) -> None:
    cfg = load(tmp_path, """
        name = "t"
        [warn]
        bins = 4
        min_features = 2
        [[warn.rules]]
        name = "overdue_60"
        level = "red"
        when = ["max_days_overdue > 60"]
        [[warn.rules]]
        name = "watch"
        level = "amber"
        when = ["pd >= 0.01", "dso_trend_days > 10"]
    """).warn
    assert cfg is not None
    assert (cfg.bins, cfg.min_features) == (4, 2)
    assert [r.name for r in cfg.rules] == ["overdue_60", "watch"]
    cond = cfg.rules[1].conditions[1]
    assert (cond.column, cond.op, cond.value) == ("dso_trend_days", ">", 10.0)


@pytest.mark.parametrize(("text", "parsed"), [
    ("pd>=0.05", ("pd", ">=", 0.05)),
    ("  max_days_overdue  >  60 ", ("max_days_overdue", ">", 60.0)),
    ("current_ratio < 1e-1", ("current_ratio", "<", 0.1)),
    ("grade_no != 3", ("grade_no", "!=", 3.0)),
])
def test_conditions_parse(text: str, parsed: tuple[str, str, float]) -> None:
    cond = parse_condition(text)
    assert (cond.column, cond.op, cond.value) == parsed


@pytest.mark.parametrize(("level", "when", "expected"), [
    ("red", "max_days_overdue >> 60",
     "warn.rules.0.when.0='max_days_overdue >> 60' (rule 'late') is not '<column> <op> "
     "<number>' with op one of > >= < <= == !=; write e.g. 'past_due_60_share > 0' or "
     "'pd >= 0.05'"),
    ("red", "pd > high", "warn.rules.0.when.0='pd > high' (rule 'late') compares with 'high', "
     "which is not a number"),
    ("purple", "pd > 0.5", "warn.rules.0.level='purple' (rule 'late') is not one of the "
     "levels; use one of ['green', 'amber', 'red']"),
])
def test_bad_rule_names_rule_and_fix(tmp_path: Path, level: str, when: str,
                                     expected: str) -> None:
    (msg,) = problems(tmp_path, f"""
        [warn]
        [[warn.rules]]
        name = "late"
        level = "{level}"
        when = ["{when}"]
    """)
    assert expected in msg


def test_master_scale_must_rise_and_end_at_one() -> None:
    with pytest.raises(pydantic.ValidationError, match="is not above the previous grade"):
        WarnConfig(grades=[{"name": "A", "max_pd": 0.01}, {"name": "B", "max_pd": 0.01},
                           {"name": "C", "max_pd": 1.0}])
    with pytest.raises(pydantic.ValidationError, match=r"must end with a grade whose max_pd"):
        WarnConfig(grades=[{"name": "A", "max_pd": 0.01}, {"name": "B", "max_pd": 0.5}])


def test_levels_need_two_unique_names() -> None:
    level = {"name": "ok", "review_months": 12, "credit_limit_multiplier": 1.0,
             "approval": "sales"}
    with pytest.raises(pydantic.ValidationError, match="needs at least two levels"):
        WarnConfig(levels=[level], rules=[])
    with pytest.raises(pydantic.ValidationError, match="is used twice"):
        WarnConfig(levels=[level, level], rules=[])


def test_index_bounds_and_unique_rule_names() -> None:
    with pytest.raises(pydantic.ValidationError, match="is not above index_pd_floor"):
        WarnConfig(index_pd_floor=0.1, index_pd_cap=0.05)
    rule = {"name": "r", "level": "red", "when": ["pd > 0.1"]}
    with pytest.raises(pydantic.ValidationError, match="is used twice"):
        WarnConfig(rules=[rule, rule])


def test_response_values_are_bounded(tmp_path: Path) -> None:
    (msg,) = problems(tmp_path, """
        [warn]
        [[warn.levels]]
        name = "ok"
        review_months = 12
        credit_limit_multiplier = 1.0
        approval = "sales"
        [[warn.levels]]
        name = "stop"
        review_months = 1
        credit_limit_multiplier = 0.0
        prepayment = 1.5
        approval = "cfo"
    """)
    assert "prepayment=1.5" in msg


def test_guide_example_loads(tmp_path: Path) -> None:
    guide = Path(__file__).resolve().parents[2] / "docs" / "guide" / "early-warning.md"
    section = guide.read_text(encoding="utf-8").split("## The PD model, alerts and validation")[1]
    block = section.split("```toml\n")[1].split("```")[0]
    cfg = load(tmp_path, block).warn
    assert cfg is not None
    assert [r.name for r in cfg.rules] == ["overdue_60", "pd_amber", "pd_red"]
    assert cfg.levels == WarnConfig().levels  # the example spells out the defaults


def test_credit_files_and_training_window(tmp_path: Path) -> None:
    cfg = load(tmp_path, """
        [warn]
        history = "credit/history.csv"
        defaults = "defaults.csv"
        train_months = 12
    """)
    assert cfg.warn is not None
    assert cfg.warn.files == {"history": "credit/history.csv", "defaults": "defaults.csv"}
    assert cfg.warn.train_months == 12
    assert cfg.warn.source == str(tmp_path / "run.toml")  # for the locations of bad paths
    assert cfg.resolve(cfg.warn.files["history"]) == tmp_path / "credit" / "history.csv"
    assert WarnConfig().train_months == 24
    assert WarnConfig().files == {}
    (problem,) = problems(tmp_path, """
        [warn]
        train_months = 0
    """)
    assert "train_months" in problem
