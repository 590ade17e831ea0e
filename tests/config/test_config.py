"""Config and scenario loading: messages with file, key, line and fix; overlays; correlations."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest

import portsim
from portsim.config import RunConfig, config_hash, load_config, load_scenario
from portsim.data import Book
from portsim.errors import ConfigError, InputError, Problem
from portsim.inputs.model import build_inputs
from portsim.workflow.checks import check_run
from reference import mc_mean_se


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(path: Path, scenario: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, scenario)
    assert isinstance(info.value, InputError)  # the CLI maps it to exit code 1
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------------------------
# Unknown keys, bad values, bad TOML
# ------------------------------------------------------------------------------------------


def test_unknown_keys_name_line_and_suggest(tmp_path: Path) -> None:
    path = write(tmp_path, "run.toml", """
        nmae = "x"

        [model]
        factors = "single"
        coupla = "gaussian"

        [simulation]
        paths = 100
        seeed = 3
    """)
    assert sorted(problems(path)) == [
        f"{path} line 1: 'nmae' is not a known key; did you mean 'name'?",
        f"{path} line 5: 'model.coupla' is not a known key; did you mean 'copula'?",
        f"{path} line 9: 'simulation.seeed' is not a known key; did you mean 'seed'?",
    ]


def test_unknown_table_names_its_header_line(tmp_path: Path) -> None:
    path = write(tmp_path, "run.toml", """
        name = "x"

        [simulaton]
        paths = 100
    """)
    assert problems(path) == [
        f"{path} line 3: 'simulaton' is not a known key; did you mean 'simulation'?"
    ]


def test_unknown_key_without_a_near_name_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "run.toml", """
        [risk]
        confidence = 0.99
    """)
    (line,) = problems(path)
    assert line == f"{path} line 2: 'risk.confidence' is not a known key; known keys: levels"


@pytest.mark.parametrize(
    ("body", "line", "what", "rule"),
    [
        ("[simulation]\npaths = -5", 2, "simulation.paths=-5", "greater than or equal to 1"),
        ("[simulation]\nseed = \"abc\"", 2, "simulation.seed='abc'", "valid integer"),
        ("[simulation]\nkernel = \"fast\"", 2, "simulation.kernel='fast'",
         "Input should be 'auto', 'grouped'"),
        ("[model]\ncopula = \"gauss\"", 2, "model.copula='gauss'", "'gaussian' or 'student_t'"),
        ("[model]\nhorizon_years = 0", 2, "model.horizon_years=0", "greater than 0"),
        ("name = \"x\"\n[model.correlation]\ndefault = 1.5", 3,
         "model.correlation.default=1.5", "less than or equal to 1"),
        ("[risk]\nlevels = [0.99, 1.5]", 2, "risk.levels=1.5", "less than 1"),
        ("[book.ratings]\nAAA = 5", 2, "book.ratings.AAA=5", "less than or equal to 1"),
    ],
)
def test_bad_values_name_key_value_and_line(
    tmp_path: Path, body: str, line: int, what: str, rule: str
) -> None:
    path = tmp_path / "run.toml"
    path.write_text(body + "\n", encoding="utf-8")
    (message,) = problems(path)
    assert message.startswith(f"{path} line {line}: {what} "), message
    assert rule in message


@pytest.mark.parametrize("value", ["1.0", '"basle"'])
def test_bad_asset_correlation_is_one_problem_naming_the_key(tmp_path: Path, value: str) -> None:
    path = tmp_path / "run.toml"
    path.write_text(f"[model]\nasset_correlation = {value}\n", encoding="utf-8")
    messages = problems(path)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{path} line 2: model.asset_correlation=")


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "run.toml", """
        [model]
        copula = "gauss"
        dof = 1

        [simulation]
        paths = 0
    """)
    lines = problems(path)
    assert len(lines) == 3
    assert [m.split(":")[0] for m in lines] == [f"{path} line {n}" for n in (2, 3, 6)]
    with pytest.raises(ConfigError, match=r"invalid config: 3 problem\(s\)"):
        load_config(path)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "run.toml", """
        name = "x"
        [model]
        factors = sector
    """)
    (message,) = problems(path)
    assert message.startswith(f"{path} line 3:")
    assert "is not valid TOML" in message


def test_missing_config_file(tmp_path: Path) -> None:
    (message,) = problems(tmp_path / "nope.toml")
    assert " ".join(message.split()) == f"{tmp_path / 'nope.toml'}: config file not found"


def test_problem_without_a_key_has_single_spacing() -> None:
    assert str(Problem("run.toml", "", "config file not found")) == (
        "run.toml: config file not found")


def test_student_t_without_dof(tmp_path: Path) -> None:
    path = write(tmp_path, "run.toml", """
        name = "x"

        [model]
        copula = "student_t"
    """)
    (message,) = problems(path)
    assert message.startswith(f"{path} line 3: model ")
    assert "copula = 'student_t' needs 'dof'" in message
    with pytest.raises(pydantic.ValidationError, match="needs 'dof'"):
        RunConfig.model_validate({"model": {"copula": "student_t"}})
    with pytest.raises(pydantic.ValidationError, match="greater than 2"):
        RunConfig.model_validate({"model": {"copula": "student_t", "dof": 2}})
    cfg = RunConfig.model_validate({"model": {"copula": "student_t", "dof": 2.5}})
    assert cfg.model.dof == 2.5


# ------------------------------------------------------------------------------------------
# extends
# ------------------------------------------------------------------------------------------


def test_extends_merges_tables_and_child_wins(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", """
        name = "base"
        description = "from the base"

        [model]
        factors = "single"
        copula = "student_t"
        dof = 8

        [simulation]
        paths = 5000
        seed = 7
    """)
    child = write(tmp_path, "child.toml", """
        extends = "base.toml"
        name = "child"

        [model]
        dof = 4

        [simulation]
        paths = 100
    """)
    cfg = load_config(child)
    assert cfg.name == "child"
    assert cfg.description == "from the base"
    assert (cfg.model.factors, cfg.model.copula, cfg.model.dof) == ("single", "student_t", 4)
    assert (cfg.simulation.paths, cfg.simulation.seed) == (100, 7)
    assert Path(cfg.base_dir) == tmp_path.resolve()


def test_extends_chain_reaches_the_grandparent(tmp_path: Path) -> None:
    write(tmp_path, "grand.toml", """
        name = "grand"
        [simulation]
        seed = 7
        chunk_paths = 1234
    """)
    write(tmp_path, "parent.toml", """
        extends = "grand.toml"
        [simulation]
        paths = 555
    """)
    child = write(tmp_path, "child.toml", """
        extends = "parent.toml"
        description = "child"
    """)
    cfg = load_config(child)
    assert cfg.simulation.paths == 555
    assert (cfg.name, cfg.simulation.seed, cfg.simulation.chunk_paths) == ("grand", 7, 1234)


def test_error_in_extended_config_names_the_parent_file(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.toml", """
        [model]
        horizon_years = 2
        factros = "single"
    """)
    child = write(tmp_path, "child.toml", """
        extends = "parent.toml"
        name = "child"
    """)
    (message,) = problems(child)
    assert message.startswith(f"{parent} line 3: 'model.factros' is not a known key")


# ------------------------------------------------------------------------------------------
# Scenarios
# ------------------------------------------------------------------------------------------

SECTORS = ["construction", "retail"]


@pytest.fixture
def run_toml(tmp_path: Path) -> Path:
    return write(tmp_path, "run.toml", """
        name = "scen"

        [book]
        sectors = ["construction", "retail"]

        [model]
        factors = "sector"
        correlation = { default = 0.4 }

        [simulation]
        paths = 20000
        seed = 99
        chunk_paths = 4096
    """)


@pytest.fixture
def scen_book(make_book: Any) -> Book:
    n = 40
    return make_book(
        sector=["construction", "retail"] * (n // 2),
        exposure=100.0 * (1 + np.arange(n) % 5),
        lgd=0.5,
        p_default=np.tile([0.01, 0.02, 0.05, 0.6], n // 4),
        asset_correlation=0.2,
    )


@pytest.mark.parametrize("kernel", ["grouped", "per_customer"])
def test_global_pd_multiplier_raises_losses(
    tmp_path: Path, run_toml: Path, scen_book: Book, kernel: str
) -> None:
    scen = write(tmp_path, "stress.toml", """
        name = "stress"
        [pd_multiplier]
        global = 2.0
    """)
    base_cfg = load_config(run_toml).with_updates(simulation={"kernel": kernel})
    stress_cfg = load_config(run_toml, scen).with_updates(simulation={"kernel": kernel})
    assert stress_cfg.scenario.name == "stress"
    assert stress_cfg.scenario.pd_multiplier.global_ == 2.0
    base = portsim.run(base_cfg, scen_book)
    stress = portsim.run(stress_cfg, scen_book)
    pd2 = np.minimum(2 * scen_book.p_default, 1.0)
    np.testing.assert_allclose(stress["p_default"].values, pd2, rtol=1e-15)
    assert stress.attrs["scenario"] == "stress"
    # Same seed, higher thresholds: every path loses at least as much (common random numbers).
    assert np.all(stress["loss"].values >= base["loss"].values)
    loss = stress["loss"].values
    assert loss.mean() > base["loss"].values.mean()
    exact = float((scen_book.exposure * scen_book.lgd * pd2).sum())
    assert abs(loss.mean() - exact) < 4 * mc_mean_se(loss)
    # PD 0.6 × 2 is capped at 1: those customers default on every path
    np.testing.assert_array_equal(stress["customer_default_rate"].values[pd2 == 1.0], 1.0)


def test_sector_pd_multiplier_moves_only_its_sector(
    tmp_path: Path, run_toml: Path, scen_book: Book
) -> None:
    scen = write(tmp_path, "retail.toml", """
        name = "retail-stress"

        [pd_multiplier.sector]
        retail = 1.5
    """)
    base = portsim.run(load_config(run_toml), scen_book)
    stress = portsim.run(load_config(run_toml, scen), scen_book)
    untouched = "construction"
    np.testing.assert_array_equal(stress["sector_loss"].sel(sector=untouched).values,
                                  base["sector_loss"].sel(sector=untouched).values)
    hit_s, hit_b = (d["sector_loss"].sel(sector="retail").values for d in (stress, base))
    assert np.all(hit_s >= hit_b)
    diff = hit_s - hit_b
    assert diff.mean() > 4 * mc_mean_se(diff)


def test_unknown_sector_in_scenario_suggests_the_close_one(
    tmp_path: Path, run_toml: Path
) -> None:
    scen = write(tmp_path, "typo.toml", """
        name = "typo"

        [pd_multiplier.sector]
        retail = 1.2
        constrution = 2.0
    """)
    (message,) = problems(run_toml, scen)
    assert message == (f"{scen} line 5: pd_multiplier.sector.constrution is not a sector of the "
                       "book; did you mean 'construction'?")


def test_unknown_key_in_scenario(tmp_path: Path, run_toml: Path) -> None:
    scen = write(tmp_path, "bad.toml", """
        name = "bad"
        [pd_multipler]
        global = 2
    """)
    (message,) = problems(run_toml, scen)
    assert message == (f"{scen} line 2: 'pd_multipler' is not a known key; did you mean "
                       "'pd_multiplier'?")


def test_scenario_extends_chain(tmp_path: Path) -> None:
    write(tmp_path, "s_base.toml", """
        name = "base"
        [pd_multiplier]
        global = 1.5
        [pd_multiplier.sector]
        retail = 3.0
    """)
    write(tmp_path, "s_mid.toml", """
        extends = "s_base"
        name = "mid"
        [pd_multiplier.sector]
        construction = 2.0
    """)
    top = write(tmp_path, "s_top.toml", """
        extends = "s_mid"
        description = "top"
    """)
    scen = load_scenario(top, SECTORS)
    assert (scen.name, scen.description) == ("mid", "top")
    assert scen.pd_multiplier.global_ == 1.5
    assert scen.pd_multiplier.sector == {"retail": 3.0, "construction": 2.0}
    loop = write(tmp_path, "s_loop.toml", 'extends = "s_loop"\n')
    with pytest.raises(ConfigError, match="is circular"):
        load_scenario(loop)


# ------------------------------------------------------------------------------------------
# Factor correlations (checked when the book's factors are known)
# ------------------------------------------------------------------------------------------

THREE = ["a", "b", "c"]


@pytest.fixture
def three_sector_book(make_book: Any) -> Book:
    return make_book(sector=THREE * 4, p_default=0.05, asset_correlation=0.2)


def correlation_config(make_config: Any, **correlation: Any) -> RunConfig:
    return make_config(model={"factors": "sector", "correlation": correlation},
                       simulation={"paths": 500, "seed": 1})


def correlation_problems(book: Book, cfg: RunConfig) -> list[str]:
    return [str(p) for p in check_run(cfg, book)]


def test_default_and_pairs_build_the_matrix(three_sector_book: Book, make_config: Any) -> None:
    cfg = correlation_config(make_config, default=0.3, pairs={"a|c": 0.8})
    inputs = build_inputs(three_sector_book, cfg)
    assert inputs.factor_names == tuple(THREE)
    np.testing.assert_array_equal(inputs.corr, [[1, 0.3, 0.8], [0.3, 1, 0.3], [0.8, 0.3, 1]])
    np.testing.assert_allclose(inputs.chol @ inputs.chol.T, inputs.corr, atol=1e-15)
    bad = correlation_config(make_config, pairs={"a|x": 0.5})
    (message,) = correlation_problems(three_sector_book, bad)
    assert message == ("config [model.correlation]: pairs.'a|x' names 'x', which is not a "
                       "factor of the model (model.factors = 'sector'); factors: a, b, c")
    (message,) = correlation_problems(three_sector_book,
                                      correlation_config(make_config, pairs={"a|b|c": 0.5}))
    assert "pairs.'a|b|c' must name two factors as 'a|b'; factors: a, b, c" in message


@pytest.mark.parametrize(
    ("matrix", "rule"),
    [
        ([[1, 0.2, 0.3], [0.5, 1, 0.1], [0.3, 0.1, 1]], "is not symmetric"),
        ([[1, 0.2, 0.3], [0.2, 0.9, 0.1], [0.3, 0.1, 1]], "must have a unit diagonal"),
        ([[1, 0.2], [0.2, 1]], "must be square with one row per factor (3 factors)"),
    ],
)
def test_bad_correlation_matrix(
    three_sector_book: Book, make_config: Any, matrix: list[list[float]], rule: str
) -> None:
    cfg = correlation_config(make_config, factors=THREE, matrix=matrix)
    (message,) = correlation_problems(three_sector_book, cfg)
    assert message.startswith("config [model.correlation]: ")
    assert rule in message


def test_matrix_must_cover_every_factor(three_sector_book: Book, make_config: Any) -> None:
    cfg = correlation_config(make_config, factors=["a", "b", "z"],
                             matrix=[[1, 0.1, 0.1], [0.1, 1, 0.1], [0.1, 0.1, 1]])
    (message,) = correlation_problems(three_sector_book, cfg)
    assert "factors lacks c" in message
    with pytest.raises(pydantic.ValidationError, match="give both 'factors' and 'matrix'"):
        correlation_config(make_config, factors=THREE)


NOT_PSD = [[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]


def test_not_psd_reports_smallest_eigenvalue(three_sector_book: Book, make_config: Any) -> None:
    smallest = float(np.linalg.eigvalsh(np.array(NOT_PSD)).min())
    assert smallest < -0.5
    cfg = correlation_config(make_config, factors=THREE, matrix=NOT_PSD)
    (message,) = correlation_problems(three_sector_book, cfg)
    assert f"is not positive semi-definite (smallest eigenvalue {smallest:.4g})" in message
    assert "set repair = true" in message


def test_repair_warns_and_proceeds(three_sector_book: Book, make_config: Any) -> None:
    cfg = correlation_config(make_config, factors=THREE, matrix=NOT_PSD, repair=True)
    with pytest.warns(UserWarning, match="not positive semi-definite"):
        inputs = build_inputs(three_sector_book, cfg)
    corr = inputs.corr
    np.testing.assert_allclose(np.diag(corr), 1.0, rtol=1e-12)
    np.testing.assert_allclose(corr, corr.T, atol=1e-15)
    assert np.linalg.eigvalsh(corr).min() > -1e-12
    np.testing.assert_allclose(inputs.chol @ inputs.chol.T, corr, atol=1e-12)
    # signs of the requested correlations survive the repair
    assert np.all(np.sign(corr) == np.sign(np.array(NOT_PSD)))
    with pytest.warns(UserWarning, match="not positive semi-definite"):
        ds = portsim.run(cfg, three_sector_book)
    assert ds.sizes["path"] == 500
    assert np.isfinite(ds["loss"].values).all()


def test_singular_but_valid_matrix_is_accepted(three_sector_book: Book, make_config: Any) -> None:
    # correlation 1 between a and b: PSD but singular; no error, no warning
    cfg = correlation_config(make_config, factors=THREE,
                             matrix=[[1, 1, 0.5], [1, 1, 0.5], [0.5, 0.5, 1]])
    inputs = build_inputs(three_sector_book, cfg)
    np.testing.assert_allclose(inputs.chol @ inputs.chol.T, inputs.corr, atol=1e-12)
    np.testing.assert_allclose(inputs.chol[1], inputs.chol[0], atol=1e-12)  # Y_b = Y_a
    ds = portsim.run(cfg, three_sector_book)
    assert np.isfinite(ds["loss"].values).all()


# ------------------------------------------------------------------------------------------
# The resolved config
# ------------------------------------------------------------------------------------------


def test_config_round_trips_and_hash_tracks_content(run_toml: Path) -> None:
    cfg = load_config(run_toml)
    again = RunConfig.model_validate(cfg.model_dump(mode="json", by_alias=True))
    assert again == cfg
    assert config_hash(again) == config_hash(cfg)
    assert config_hash(cfg.with_updates(simulation={"seed": 100})) != config_hash(cfg)
    # the folder a config was read from is not part of its identity
    moved = cfg.model_copy(update={"base_dir": "/elsewhere"})
    assert config_hash(moved) == config_hash(cfg)


@pytest.mark.parametrize(("line", "expect"), [
    ('name = "../../escaped"', "name='../../escaped' must start with a letter or digit"),
    ('name = "/tmp/anywhere"', "it names the run's folder"),
    ("[risk]\nlevels = []", "needs at least one risk level"),
])
def test_names_that_become_paths_and_empty_levels_are_refused(
    tmp_path: Path, line: str, expect: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert expect in text
    assert f"{path} line" in text
