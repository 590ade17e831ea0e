"""Scenario files (schema, errors with lines and hints, the shipped library), scenario batches on
common random numbers (comparison, run folders, resume) and the ``stress`` command."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

import portsim
from portsim.cli import app
from portsim.config import load_config, load_scenario
from portsim.errors import ConfigError
from portsim.workflow.api import prepare
from portsim.workflow.batch import expand_scenario_files, load_scenarios, run_batch
from portsim.workflow.folders import MARKER
from portsim.workflow.options import RunOptions
from portsim.workflow.runner import resume_batch_folder, run_batch_folder

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted((ROOT / "scenarios").glob("*.toml"))
EXAMPLE = ROOT / "configs" / "example.toml"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(config: Path, scenario: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        prepare(load_config(config, scenario))
    return [str(p) for p in info.value.problems]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A book of 48 customers with a timeline and two insurance policies; returns run.toml."""
    rng = np.random.default_rng(4)
    n = 48
    pd.DataFrame({
        "customer_id": [f"K{i:02d}" for i in range(n)],
        "sector": np.where(np.arange(n) % 3 == 0, "construction", "retail"),
        "country": np.where(np.arange(n) % 2 == 0, "DE", "FR"),
        "exposure": rng.uniform(5e3, 5e4, n).round(2),
        "rating": np.tile(["BB", "B", "CCC"], n // 3),
        "lgd": 0.5,
        "insured_limit": 3e4,
        "payment_terms_days": 30,
        "annual_sales": rng.uniform(1e5, 6e5, n).round(2),
    }).to_csv(tmp_path / "book.csv", index=False)
    return write(tmp_path, "run.toml", """
        name = "scen"

        [book]
        path = "book.csv"
        sectors = ["construction", "retail"]
        ratings = { BB = 0.01, B = 0.04, CCC = 0.15 }

        [model]
        factors = "sector"
        correlation = { default = 0.5 }

        [simulation]
        paths = 512
        seed = 77
        chunk_paths = 256
        threads = 1

        [risk]
        levels = [0.95, 0.99]

        [timeline]
        as_of = 2026-12-31
        horizon_months = 6

        [company]
        opening_cash = 500_000
        credit_line = 400_000
        min_cash_buffer = 100_000
        fixed_outflows_monthly = 150_000

        [insurance.policies.whole]
        premium_rate = 0.002

        [insurance.policies.xol]
        first_loss = 20_000
        premium_rate = 0.001
    """)


# ------------------------------------------------------------------------------ the library


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_shipped_library_validates_against_the_example(path: Path) -> None:
    cfg = load_config(EXAMPLE, path)
    assert cfg.scenario.name == path.stem
    assert cfg.scenario.description
    assert path.read_text(encoding="utf-8").startswith("#")  # says where its numbers come from
    prepare(cfg)


def test_library_is_the_documented_one() -> None:
    assert {p.stem for p in LIBRARY} == {
        "baseline", "mild_recession", "severe_recession", "construction_shock",
        "china_payment_behaviour", "largest_customer_fails", "insurance_withdrawn",
        "delays_plus_30"}


def test_validate_command_checks_a_library_scenario() -> None:
    result = CliRunner().invoke(app, ["validate", str(EXAMPLE), "--scenario",
                                      str(ROOT / "scenarios" / "largest_customer_fails.toml")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: 2000 customers")


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(("body", "expected"), [
    ("""
     name = "x"
     [factor_shfit]
     global = -1
     """, "{f} line 2: 'factor_shfit' is not a known key; did you mean 'factor_shift'?"),
    ("""
     name = "x"
     [pd_multiplier]
     global = -1
     """, "{f} line 3: pd_multiplier.global=-1 Input should be greater than or equal to 0"),
    ("""
     name = "x"
     [factor_shift]
     global = -20
     """, "{f} line 3: factor_shift.global=-20 Input should be greater than or equal to -10"),
    ("""
     name = "x"
     [factor_condition]
     sector = { constrction = -2.0 }
     """, "{f} line 3: factor_condition.sector.constrction is not a sector of the book; did "
          "you mean 'construction'?"),
    ("""
     name = "x"
     [pd_multiplier]
     country = { FRA = 2.0, DK = 1.5 }
     rating = { CC = 2.0 }
     """, "{f} line 3: pd_multiplier.country.FRA is not a country of the book; did you mean "
          "'FR'?|{f} line 3: pd_multiplier.country.DK is not a country of the book; "
          "countries: DE, FR|{f} line 4: pd_multiplier.rating.CC is not a rating of the "
          "book; did you mean 'CCC'?"),
    ("""
     name = "x"
     [factor_shift]
     factor = { retial = -1 }
     """, "{f} line 3: factor_shift.factor.retial is not a factor of the model (model.factors "
          "= 'sector'); did you mean 'retail'?"),
    ("""
     name = "x"

     [[default_events]]
     customer = "K01"
     date = 2027-02-01

     [[default_events]]
     description = "the second"
     customer = "k04"
     date = 2027-03-01
     """, "{f} line 9: default_events[1].customer='k04' is not a customer of the book; did "
          "you mean 'K04'?"),
    ("""
     name = "x"

     [[default_events]]
     customer = "K01"
     date = 2027-09-01
     """, "{f} line 5: default_events[0].date=2027-09-01 is outside the horizon (2026-12-31, "
          "2027-06-30]; give a day after the as-of date, within the horizon"),
    ("""
     name = "x"
     policies = ["none", "wole"]
     """, "{f} line 2: policies[1]='wole' is not a policy of the config; did you mean "
          "'whole'?"),
    ("""
     name = "x"
     [delays]
     shift_days = 10
     policies = ["none"]
     """, "{f} line 4: 'delays.policies' is not a known key; 'policies' is a top-level key: "
          "move it above the first [table] header (in TOML a key below a header belongs to "
          "that table)"),
    ("""
     name = "x"
     insurance = "withdrawn"
     policies = ["none"]
     """, "{f} line 3: policies=['none'] is given with insurance = 'withdrawn'; give one of "
          "them"),
    ("""
     name = "x"
     [correlation]
     asset_multiplier = 1.2
     factor_multipler = 2
     """, "{f} line 4: 'correlation.factor_multipler' is not a known key; did you mean "
          "'factor_multiplier'?"),
])
def test_bad_scenarios_name_file_line_and_fix(
    project: Path, tmp_path: Path, body: str, expected: str
) -> None:
    f = write(tmp_path, "bad.toml", textwrap.dedent(body))
    assert problems(project, f) == expected.format(f=f).split("|")


def test_errors_in_an_extended_file_point_into_it(project: Path, tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.toml", """
        name = "parent"
        [sales]
        change = -2
    """)
    child = write(tmp_path, "child.toml", """
        extends = "parent"
        name = "child"
    """)
    assert problems(project, child) == [
        f"{parent} line 3: sales.change=-2 Input should be greater than or equal to -1"]
    missing = write(tmp_path, "orphan.toml", 'extends = "parnet"\n')
    assert problems(project, missing) == [
        f"{missing} line 1: extends='parnet' names no scenario file in {tmp_path}; did you "
        "mean 'parent'?"]


def test_a_scenario_without_a_name_is_named_after_its_file(tmp_path: Path) -> None:
    f = write(tmp_path, "my_stress.toml", "[lgd]\nshift = 0.05\n")
    assert load_scenario(f).name == "my_stress"


# ------------------------------------------------------------------------------ bit for bit


def test_a_scenario_that_changes_nothing_reproduces_the_baseline_bit_for_bit(
    project: Path, tmp_path: Path
) -> None:
    noop = write(tmp_path, "noop.toml", """
        name = "noop"
        policies = ["none", "whole", "xol"]
        [pd_multiplier]
        global = 1.0
        sector = { construction = 1.0 }
        [factor_shift]
        global = 0.0
        [correlation]
        asset_multiplier = 1.0
        factor_multiplier = 1.0
        [lgd]
        shift = 0.0
        [delays]
        shift_days = 0
        multiplier = 1
        [sales]
        change = 0
    """)
    base = portsim.run(load_config(project), contributions=False)
    same = portsim.run(load_config(project, noop), contributions=False)
    assert not load_config(project, noop).scenario.is_identity  # the stress path was taken
    for name in base.data_vars:
        np.testing.assert_array_equal(same[name].values, base[name].values, err_msg=name)


# ------------------------------------------------------------------------------ batches


@pytest.fixture
def library(tmp_path: Path) -> list[Path]:
    d = tmp_path / "scen"
    d.mkdir()
    write(d, "baseline.toml", 'name = "baseline"\n')
    write(d, "recession.toml", """
        extends = "baseline"
        name = "recession"
        [pd_multiplier]
        global = 2.0
        [factor_shift]
        global = -0.5
    """)
    write(d, "slow_payers.toml", """
        name = "slow_payers"
        [delays]
        shift_days = 20
    """)
    write(d, "no_cover.toml", 'name = "no_cover"\ninsurance = "withdrawn"\n')
    return expand_scenario_files([str(d / "*.toml")])


def test_batch_compares_on_common_random_numbers(project: Path, library: list[Path]) -> None:
    cfg = load_config(project)
    assert [p.stem for p in library] == ["baseline", "no_cover", "recession", "slow_payers"]
    res = run_batch(cfg, load_scenarios(library, cfg.book.sectors))
    assert list(res.paths["scenario"].values) == ["baseline", "no_cover", "recession",
                                                  "slow_payers"]
    t = res.comparison.set_index(["scenario", "metric", "level", "policy"])
    base = t.xs("baseline")
    assert (base["diff"] == 0).all()
    assert (base["diff_se"] == 0).all()
    # a scenario in a batch is the same run as alone (same seed, paths and kernel)
    alone = portsim.run(load_config(project, library[2]), contributions=False)
    rec = t.loc[("recession", "expected_loss", "", "")]
    assert rec["value"] == alone["loss"].values.mean()
    # the paired difference has a much smaller error than the two estimates together
    b_el = t.loc[("baseline", "expected_loss", "", "")]
    assert rec["diff_se"] < 0.8 * np.hypot(rec["se"], b_el["se"])
    # PDs up, factors down: at least as many defaults on every path (the timeline's loss is
    # not monotone path by path: an earlier default day leaves a different amount unpaid)
    nd = res.paths["n_defaults"]
    assert np.all(nd.sel(scenario="recession") >= nd.sel(scenario="baseline"))
    loss = res.paths["loss"]
    # slower payments: the same defaults on every path, longer DSO (and more unpaid at default)
    np.testing.assert_array_equal(nd.sel(scenario="slow_payers"), nd.sel(scenario="baseline"))
    assert np.all(res.paths["dso_avg"].sel(scenario="slow_payers")
                  > res.paths["dso_avg"].sel(scenario="baseline"))
    assert t.loc[("slow_payers", "dso_avg", "", "")]["diff"] > 15
    # no cover: the "with cover" figures are those without cover
    ret = res.paths["retained_loss"].sel(scenario="no_cover")
    np.testing.assert_array_equal(ret.sel(policy="whole"), loss.sel(scenario="no_cover"))
    assert t.loc[("no_cover", "retained_expected_loss", "", "whole")]["diff"] > 0


def test_batch_names_must_be_unique(project: Path, tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", 'name = "same"\n[lgd]\nshift = 0.1\n')
    b = write(tmp_path, "b.toml", 'name = "same"\n[lgd]\nshift = 0.2\n')
    cfg = load_config(project)
    with pytest.raises(ConfigError, match="name='same' is used by 2 scenarios"):
        run_batch(cfg, load_scenarios([a, b], cfg.book.sectors))


def test_glob_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="matches no file"):
        expand_scenario_files([str(tmp_path / "nothing*.toml")])


def test_batch_folder_and_resume(project: Path, library: list[Path], tmp_path: Path) -> None:
    cfg = load_config(project)
    scens = load_scenarios([library[0], library[2]], cfg.book.sectors)  # baseline, recession
    out = tmp_path / "batch"

    def interrupt(name: str, done: int, total: int) -> None:
        if name == "recession" and done == 1:  # after the first of its two chunks
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch_folder(cfg, scens, out, progress=interrupt)
    assert (out / MARKER).exists()
    assert (out / "scenarios" / "recession" / MARKER).exists()
    assert not (out / "comparison.csv").exists()
    res = resume_batch_folder(out)
    assert not (out / MARKER).exists()
    assert {p.name for p in out.iterdir()} >= {
        "batch.json", "comparison.csv", "results.nc", "summary.json", "config.json",
        "run.json", "scenarios"}
    assert sorted(p.name for p in (out / "scenarios").iterdir()) == ["baseline", "recession"]
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert ds["loss"].dims == ("scenario", "path")
        assert "cash_band" in ds  # the baseline's other variables
    # the resumed batch is the uninterrupted one
    fresh = run_batch(cfg, scens).comparison
    fresh = fresh[fresh["policy"] != "none"].reset_index(drop=True)
    assert (out / "comparison.csv").read_text() == fresh.to_csv(index=False)
    assert res.baseline == "baseline"


def test_cli_batch_and_single_scenario(project: Path, library: list[Path],
                                       tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli_batch"
    r = runner.invoke(app, ["run", str(project), "--scenario", str(library[0]), "--scenario",
                            str(library[2]), "--paths", "256", "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    assert "Scenarios on common random numbers" in r.stdout
    assert "recession" in r.stdout
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"baseline", "recession"}
    single = tmp_path / "single"
    r = runner.invoke(app, ["run", str(project), "-s", str(library[2]), "--paths", "256",
                            "--quiet", "--out", str(single)])
    assert r.exit_code == 0, r.stderr
    assert (single / "results.nc").exists()
    assert not (single / "batch.json").exists()
    assert json.loads((single / "config.json").read_text())["scenario"]["name"] == "recession"


def test_cli_stress(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "stress.json"
    r = CliRunner().invoke(app, ["stress", str(project), "--target", "p_line_breach>0.5",
                                 "--direction", "delay_shift", "--paths", "256", "--json",
                                 str(out)])
    assert r.exit_code == 0, r.stderr
    assert "delay_shift = " in r.stdout
    assert "the mildest value with p_line_breach>0.5" \
        in r.stdout
    res = json.loads(out.read_text())
    assert res["found"]
    assert res["value"] > 0
    bad = CliRunner().invoke(app, ["stress", str(project), "--target", "es_99>1m"])
    assert bad.exit_code == 2  # a usage error
    assert "level99isoutside(0,1)" in "".join(bad.stderr.replace("│", "").split())


@pytest.mark.slow
def test_library_batch_on_the_example(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE)
    res = run_batch(cfg, load_scenarios(LIBRARY, cfg.book.sectors),
                    options=RunOptions(paths=1000))
    t = res.comparison.set_index(["scenario", "metric", "level", "policy"])
    for name in ("mild_recession", "severe_recession", "construction_shock",
                 "largest_customer_fails"):
        assert t.loc[(name, "expected_loss", "", "")]["diff"] > 0, name
    assert (t.loc[("severe_recession", "expected_loss", "", "")]["value"]
            > t.loc[("mild_recession", "expected_loss", "", "")]["value"])
    assert t.loc[("largest_customer_fails", "expected_defaults", "", "")]["diff"] == 1.0
    assert 90 < t.loc[("china_payment_behaviour", "dso_avg", "", "")]["value"] < 98
