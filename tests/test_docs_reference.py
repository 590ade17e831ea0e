"""The generated references cover the code: every key of every config model is in the config
reference with a description (a new key without one fails here), every command and option of
the CLI is in the CLI reference."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel

import portsim.config as config_pkg
from portsim.cli import app
from portsim.config import base, book, creditriskplus, insurance, levers, run, scenario

# the folder relative paths are resolved against: set by the loader, never written in a file
NOT_IN_FILES = {(config_pkg.RunConfig, "base_dir"), (config_pkg.LeversConfig, "base_dir")}


@pytest.fixture(scope="module")
def reference(load_tool: Callable[[str], ModuleType]) -> ModuleType:
    return load_tool("config_reference")


def _config_models() -> list[type[BaseModel]]:
    """Every model with keys defined in the config modules, found independently of the tool."""
    found = []
    for module in (base, book, creditriskplus, insurance, levers, run, scenario):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, BaseModel) and obj.__module__ == module.__name__
                    and obj.model_fields):
                found.append(obj)
    return found


def _toml_keys(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()
            if (model, name) not in NOT_IN_FILES}


def test_every_key_of_every_config_model_is_documented(reference: ModuleType) -> None:
    models = _config_models()
    assert len(models) >= 20  # the discovery above finds the models, not nothing
    by_model: dict[type[BaseModel], list] = {}
    for section in reference.sections():
        by_model.setdefault(section.model, []).append(section)
    missing = [m.__name__ for m in models if m not in by_model]
    assert not missing, f"config models not in the reference: {missing}"
    undescribed = []
    for model, sections in by_model.items():
        for section in sections:
            assert {r.key for r in section.rows} == _toml_keys(model), section.header
            undescribed += [f"{section.header or '(top level)'} {r.key}"
                            for r in section.rows if not r.description]
    assert not undescribed, ("give these fields a Field(description=...) in "
                             f"src/portsim/config/: {undescribed}")


def test_every_table_and_key_is_in_the_rendered_page(reference: ModuleType) -> None:
    text = reference.render()
    for section in reference.sections():
        if section.header:
            assert f"``{section.header}``\n" in text
        for row in section.rows:
            assert f"   * - ``{row.key}``\n" in text


def _row(reference: ModuleType, header: str, key: str, document: str = "Run config") -> Any:
    (section,) = [s for s in reference.sections()
                  if s.header == header and s.document == document]
    (row,) = [r for r in section.rows if r.key == key]
    return row


def test_rows_give_type_default_unit_and_description(reference: ModuleType) -> None:
    r = _row(reference, "[timeline]", "recovery_lag_days")
    assert (r.type, r.default, r.unit) == ("integer (>= 0, <= 3650)", "180", "days")
    r = _row(reference, "[company]", "opening_cash")  # unit from the description's [...]
    assert (r.type, r.default, r.unit) == ("float", "0.0", "book currency")
    assert r.description == "cash at the as-of date"
    r = _row(reference, "[model]", "asset_correlation")
    assert (r.type, r.default) == ('"basel" or float (>= 0.0, < 1.0)', '"basel"')
    assert _row(reference, "[timeline]", "as_of").default == "required"
    r = _row(reference, "[pd_multiplier]", "global", "Scenario file")  # the alias of global_
    assert r.type == "float (>= 0.0, <= 1000.0)"
    r = _row(reference, "[delays]", "shift_days", "Scenario file")
    assert r.description == "days added to every mean payment delay"
    assert _row(reference, "[book]", "fx_rates").type == "table of name = float (> 0.0)"
    assert _row(reference, "[delays]", "sector").type == "tables [delays.sector.NAME]"
    headers = [s.header for s in reference.sections()]
    assert "[[default_events]]" in headers
    assert "[insurance.policies.NAME]" in headers
    assert "[book.invoices_dialect]" in headers


def test_cli_reference_has_every_command_and_option(load_tool: Callable[[str], ModuleType]
                                                    ) -> None:
    text = load_tool("cli_reference").render()
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"run", "validate", "stress", "report"} <= set(commands)
    for name, command in commands.items():
        assert f"``portsim {name}``" in text
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in text, (name, opt)
            if param.help:
                assert " ".join(param.help.split())[:40] in text, (name, param.name)
