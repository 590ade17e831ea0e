"""Reading config and scenario files: TOML, the ``extends`` chain (each parent relative to
the file naming it), scenario overlays; every problem located in the file that sets the key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from portsim.config.levers import LeversConfig
from portsim.config.locate import did_you_mean, key_line, problems_from_validation
from portsim.config.run import RunConfig
from portsim.config.scenario import ScenarioConfig
from portsim.errors import ConfigError, Problem

__all__ = ["apply_scenario", "load_config", "load_levers", "load_scenario"]


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


_Layer = tuple[Path, str, dict[str, Any]]


def _read_chain(
    path: Path, kind: str, parent_of: Callable[[_Layer], tuple[Path, str]]
) -> tuple[list[_Layer], dict[str, Any]]:
    """The files of ``path``'s ``extends`` chain as (path, text, keys), child first, and their
    keys merged (a child's keys replace its parent's; tables merge key by key).

    ``parent_of(layer)`` gives the file a layer extends and its name as the message shows it
    (raising when there is no such file).
    """
    data, text = _read_toml(path, kind)
    layers = [(path, text, dict(data))]
    seen = {path.resolve()}
    while "extends" in layers[-1][2]:
        child = layers[-1][0]
        parent, shown = parent_of(layers[-1])
        if parent.resolve() in seen:
            raise ConfigError([Problem(str(child), f"extends={shown!r}", "is circular")])
        seen.add(parent.resolve())
        pdata, ptext = _read_toml(parent, kind)
        layers.append((parent, ptext, pdata))
    merged: dict[str, Any] = {}
    for _, _, layer in reversed(layers):
        merged = _deep_merge(merged, {k: v for k, v in layer.items() if k != "extends"})
    return layers, merged


def _config_parent(layer: _Layer) -> tuple[Path, str]:
    """A config's parent: the path in ``extends``, relative to the file naming it."""
    parent = layer[0].parent / str(layer[2]["extends"])
    return parent, parent.name


def _scenario_parent(layer: _Layer) -> tuple[Path, str]:
    """A scenario's parent: the scenario file named in ``extends`` in the same folder
    (``.toml`` may be omitted); a name that is no file there is an error."""
    child, text, raw = layer
    parent_name = str(raw["extends"])
    parent = child.parent / (parent_name if parent_name.endswith(".toml")
                             else parent_name + ".toml")
    if not parent.exists():
        line = key_line(text, ("extends",))
        others = sorted(p.stem for p in child.parent.glob("*.toml") if p != child)
        raise ConfigError([Problem(f"{child} line {line}" if line else str(child),
                                   f"extends={parent_name!r}",
                                   f"names no scenario file in {child.parent}",
                                   did_you_mean(parent_name, others, "scenarios there"))])
    return parent, parent_name


def load_scenario(path: str | Path, sectors: list[str] | None = None) -> ScenarioConfig:
    """Read a scenario file (TOML), following ``extends`` to its parent.

    ``extends = "baseline"`` names a scenario file in the same folder (``.toml`` may be
    omitted); the child's keys replace the parent's, tables merge key by key, and the chain
    may be of any depth. A scenario without a ``name`` anywhere in its chain is named after its
    file.

    Parameters
    ----------
    path : str or Path
        The scenario file, e.g. ``scenarios/severe_recession.toml``.
    sectors : list of str, optional
        The config's ``[book] sectors``: sector names in the scenario are checked against it
        (else they are checked against the book before the inputs are built).

    Raises
    ------
    ConfigError
        Every problem, with file, key, line and a fix (in the file of the chain that sets
        the key).
    """
    path = Path(path)
    layers, data = _read_chain(path, "scenario", _scenario_parent)
    data.setdefault("name", path.stem)
    try:
        scen = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, layers, ScenarioConfig)) from None
    scen._layers = [(str(p), raw) for p, _, raw in layers]
    if sectors is not None:
        probs = [Problem(scen.locate((table, "sector", s)), f"{table}.sector.{s}",
                         "is not a sector of the book", did_you_mean(s, sectors, "sectors"))
                 for table in ("pd_multiplier", "factor_shift", "factor_condition")
                 for s in getattr(scen, table).sector if s not in sectors]
        if probs:
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
    # the chain child → parent → grandparent …, each parent relative to the file naming it
    layers, data = _read_chain(path, "config", _config_parent)
    data.setdefault("base_dir", str(path.resolve().parent))
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, layers, RunConfig)) from None
    # for the error locations of the checks against the book
    cfg.model.correlation._source = str(path)
    if cfg.insurance is not None:
        cfg.insurance._source = str(path)
    if cfg.creditriskplus is not None:
        cfg.creditriskplus._source = str(path)
    if cfg.warn is not None:
        cfg.warn._source = str(path)
    if scenario is not None:
        cfg = apply_scenario(cfg, load_scenario(scenario, cfg.book.sectors))
    return cfg


def apply_scenario(config: RunConfig, scenario: ScenarioConfig) -> RunConfig:
    """The config with its scenario replaced, after the checks that need only the config.

    The scenario's policy names must be the config's ``[insurance.policies]`` (or ``none``),
    its ``[fx]`` currencies those of ``[book.fx_rates]``, and its sectors in ``[book] sectors``
    when that list is given; the checks against the
    book (sectors, countries, ratings, factors, customers, event dates) are made before the
    inputs are built (:func:`portsim.workflow.checks.check_run`), and the stress itself when
    they are built (:mod:`portsim.inputs.stress`), so applying another scenario to the result
    replaces this one.

    Raises
    ------
    ConfigError
        Every problem, located in the scenario file.
    """
    problems = []
    if scenario.policies is not None:
        names = [] if config.insurance is None else list(config.insurance.policies)
        for k, pol in enumerate(scenario.policies):
            if pol != "none" and pol not in names:
                rule = ("is not a policy of the config" if names else
                        "is a policy, but the config has no [insurance] section")
                problems.append(Problem(scenario.locate(("policies",)),
                                        f"policies[{k}]={pol!r}", rule,
                                        did_you_mean(pol, ["none", *names], "policies")))
    book = config.book
    for code in scenario.fx:
        if code == book.currency or code not in book.fx_rates:
            rule = ("is the book currency (its rate is 1 by definition)" if code == book.currency
                    else "has no rate in the config's [book.fx_rates]")
            fix = (f"shock the other currencies' rates into {book.currency}"
                   if code == book.currency else
                   did_you_mean(code, list(book.fx_rates), "currencies with a rate")
                   if book.fx_rates else f"add {code} = <{book.currency} per 1 {code}> to "
                   "[book.fx_rates]")
            problems.append(Problem(scenario.locate(("fx", code)), f"fx.{code}", rule, fix))
    if scenario.actions is not None and config.timeline is None:
        problems.append(Problem(scenario.locate(("actions",)), "[actions]", "needs a "
                                "[timeline] in the config", "actions act on the simulated "
                                "invoices; add [timeline] with as_of = 2026-12-31"))
    sectors = book.sectors
    if sectors is not None:
        problems += [Problem(scenario.locate((table, "sector", s)), f"{table}.sector.{s}",
                             "is not a sector of the book", did_you_mean(s, sectors, "sectors"))
                     for table in ("pd_multiplier", "factor_shift", "factor_condition")
                     for s in getattr(scenario, table).sector if s not in sectors]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"scenario": scenario})


def load_levers(path: str | Path) -> LeversConfig:
    """Read a levers file of ``portsim optimise`` (TOML, no ``extends``); action files are
    resolved against its folder.

    Raises
    ------
    ConfigError
        Every problem, with file, key, line and a fix.
    """
    path = Path(path)
    data, text = _read_toml(path, "levers")
    data.setdefault("base_dir", str(path.resolve().parent))
    try:
        levers = LeversConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, [(path, text, data)], LeversConfig),
                          title="invalid levers file") from None
    levers._source = str(path)
    return levers
