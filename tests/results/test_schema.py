"""The results schema and the one Dataset builder: every variable the builder writes has the
dims, ``units`` and ``long_name`` of :mod:`portsim.results.schema`; customer names and
countries are in the Dataset (with or without contributions) and survive ``results.nc``.

The shipped example (timeline, two insurance variants, contributions) covers the builder's
variables; a small book in Python covers an importance-sampling run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import portsim
from portsim.config import load_config
from portsim.inputs import importance
from portsim.results.comparison import scenario_paths
from portsim.results.schema import COMPARISON_COORDS, EXACT_LONG_NAMES, VARIABLES, Var, attrs
from portsim.workflow.api import load_book, prepare

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "example.toml"


@pytest.fixture(scope="module")
def example() -> tuple[xr.Dataset, Any]:
    """The example's Dataset (600 paths) and its book."""
    cfg = load_config(EXAMPLE)
    book = load_book(cfg)
    return portsim.run(cfg, book, paths=600, seed=4, threads=1), book


def _matches(var: Var, currency: str, got: dict[str, Any]) -> bool:
    """``got`` has the schema's units, and a long name that is the schema's template with
    its fields (``{dim}``, ``{method}``, …) filled in."""
    pattern = re.sub(r"\\\{[a-z_]+\\\}", ".+", re.escape(var.long_name))
    return (got.get("units") == var.units.format(cur=currency)
            and re.fullmatch(pattern, str(got.get("long_name", ""))) is not None)


def test_every_variable_is_in_the_schema(example: tuple[xr.Dataset, Any]) -> None:
    ds, _ = example
    cur = ds.attrs["currency"]
    assert cur == "EUR"
    written = set(ds.variables)
    assert {"loss", "retained_loss", "cash_band", "es_contribution", "country_es_contribution",
            "granularity_adjustment", "customer_name", "customer_country"} <= written
    for name in written:
        var = VARIABLES[name]  # a KeyError names a variable the schema lacks
        assert ds[name].dims == var.dims, name
        assert _matches(var, cur, ds[name].attrs), (name, ds[name].attrs)


def test_schema_attrs_fill_currency_and_fields() -> None:
    assert attrs("loss", "CHF") == {"units": "CHF", "long_name": "credit loss over the horizon"}
    assert attrs("p_default", "CHF")["units"] == "1"
    assert attrs("dso_avg", "CHF")["units"] == "days"
    assert attrs("cover_type", "CHF", cover_types="named, none")["long_name"] == (
        "cover of the buyer: named, none")
    assert attrs("sector_es_contribution", "CHF")["long_name"] == (
        "Euler contribution to ES by sector")


def test_names_and_countries_survive_results_nc(example: tuple[xr.Dataset, Any],
                                                 tmp_path: Path) -> None:
    ds, book = example
    assert ds["customer"].values.tolist() == list(book.customer_id)
    assert ds["customer_name"].values.tolist() == [str(x) for x in book.name]
    assert ds["customer_country"].values.tolist() == [str(x) for x in book.country]
    assert "Keller & Söhne Healthcare GmbH" in ds["customer_name"].values
    ds.to_netcdf(tmp_path / "results.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "results.nc", engine="h5netcdf") as back:
        for name in ("customer_name", "customer_country"):
            assert back[name].values.tolist() == ds[name].values.tolist()
            assert back[name].attrs == ds[name].attrs


def test_countries_without_contributions(make_book: Any, make_config: Any) -> None:
    book = make_book(3, name=["Alpha AG", "Beta & Co", "Gamma <x>"],
                     country=["CH", "DE", "CH"], p_default=0.05)
    ds = portsim.run(make_config(), book, paths=256, seed=1, contributions=False)
    assert "es_contribution" not in ds
    assert ds["customer_country"].values.tolist() == ["CH", "DE", "CH"]
    assert ds["customer_name"].values.tolist() == ["Alpha AG", "Beta & Co", "Gamma <x>"]
    assert ds["customer_name"].attrs == attrs("customer_name", "EUR")


def test_importance_run_has_exact_moments(make_book: Any, make_config: Any) -> None:
    book = make_book(20, p_default=np.linspace(0.001, 0.02, 20),
                     exposure=np.linspace(1.0, 5.0, 20), lgd=0.6)
    cfg = make_config(simulation={"tail_sampling": "importance", "tail_level": 0.99},
                      model={"asset_correlation": 0.2})
    ds = portsim.run(cfg, book, paths=512, seed=2)
    _, inputs = prepare(cfg, book)
    p_def, el = importance.exact_customer_moments(inputs)
    assert np.array_equal(ds["customer_expected_loss"].values, el)
    assert np.array_equal(ds["customer_default_rate"].values, p_def)
    for name, long_name in EXACT_LONG_NAMES.items():
        assert ds[name].attrs == {"units": VARIABLES[name].units.format(cur="EUR"),
                                  "long_name": long_name}
    assert ds["log_weight"].attrs == attrs("log_weight", "EUR")
    assert ds["customer_country"].values.tolist() == ["XX"] * 20


def test_scenario_paths_keep_the_schema_attrs(example: tuple[xr.Dataset, Any]) -> None:
    ds, _ = example
    policies = [str(p) for p in ds["policy"].values]
    paths = scenario_paths(ds, policies)
    assert paths["policy"].attrs == {"units": "", "long_name": COMPARISON_COORDS["policy"]
                                     .long_name}
    for name in paths.data_vars:
        assert paths[name].attrs == ds[name].attrs, name
