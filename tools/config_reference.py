"""The config reference, generated from the config models so it cannot drift from the code.

Every key of a run config (``configs/*.toml``), of a scenario file (``scenarios/*.toml``) and of
a levers file of ``portsim optimise`` (``configs/example_levers.toml``)
with its TOML type, default, unit and description, one table per TOML table
(``[simulation]``, ``[book.invoices_dialect]``, ``[insurance.policies.NAME]``, ...). The
description is the model field's ``description``; a trailing ``[UNIT]`` in it goes to the unit
column, else a unit is read from the key's suffix (``_days``, ``_months``, ``_years``,
``_mb``).

``python tools/config_reference.py`` prints the reference as reStructuredText; the Sphinx
build (``docs/conf.py``) writes it to ``docs/_generated/`` on every build.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from portsim.config import LeversConfig, RunConfig, ScenarioConfig

__all__ = ["Row", "Section", "render", "sections"]

_SUFFIX_UNITS = {"_days": "days", "_months": "months", "_years": "years", "_mb": "MB"}
_UNIT = re.compile(r"\s*\[([^\]]+)\]$")
_TOML = {bool: "boolean", int: "integer", float: "float", str: "string", dt.date: "date"}


class Row(NamedTuple):
    """One key of a table: as written in TOML, and what it takes."""

    key: str
    type: str
    default: str
    unit: str
    description: str


class Section(NamedTuple):
    """One TOML table and its keys: ``table`` is its dotted name (``""`` for a file's
    top-level keys), ``header`` as written in TOML (``[book]``, ``[[default_events]]``)."""

    document: str
    table: str
    header: str
    model: type[BaseModel]
    rows: tuple[Row, ...]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The config model a field holds directly (also when optional), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [a for a in get_args(annotation) if a is not type(None)]
        if len(models) == 1:
            return _model_in(models[0])
    return None


def _item_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """``("dict", M)`` for a table of named ``M`` tables, ``("list", M)`` for an array of them."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict and _model_in(args[1]) is not None:
        return "dict", args[1]
    if origin is list and _model_in(args[0]) is not None:
        return "list", args[0]
    return None


def _bounds(metadata: list[Any]) -> str:
    """The value range of a field's constraints, e.g. ``>= 0, <= 365``."""
    out = []
    for m in metadata:
        for cls, sign, attr in ((at.Ge, ">=", "ge"), (at.Gt, ">", "gt"), (at.Le, "<=", "le"),
                                (at.Lt, "<", "lt")):
            if isinstance(m, cls):
                out.append(f"{sign} {getattr(m, attr)}")
        if isinstance(m, FieldInfo):
            out.append(_bounds(m.metadata))
    return ", ".join(s for s in out if s)


def _type(annotation: Any) -> str:
    """The TOML type of a field's annotation, with its range, in words."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        bounds = _bounds(list(args[1:]))
        return _type(args[0]) + (f" ({bounds})" if bounds else "")
    if origin is Literal:
        return " | ".join('"' + str(a).encode("unicode_escape").decode() + '"' for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type(a) for a in args if a is not type(None))
    if origin is list:
        return f"array of {_type(args[0])}"
    if origin is dict:
        return f"table of name = {_type(args[1])}"
    if annotation in _TOML:
        return _TOML[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    raise TypeError(f"no TOML type for {annotation!r}: extend tools/config_reference.py")


def _default(field: FieldInfo) -> str:
    """The default as TOML would write it; ``required`` or ``unset`` where there is none."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel | dict | list) and not value:
        return "empty"
    if isinstance(value, BaseModel):
        return "see its table"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _row(name: str, field: FieldInfo, table: str) -> Row:
    description = (field.description or "").strip()
    unit = ""
    found = _UNIT.search(description)
    if found:
        unit, description = found.group(1), description[: found.start()]
    else:
        unit = next((u for s, u in _SUFFIX_UNITS.items() if name.endswith(s)), "")
    kind = _type(field.annotation)
    item = _item_model(field.annotation)
    if _model_in(field.annotation) is not None:
        kind = f"table [{_join(table, name)}]"
    elif item is not None and item[0] == "dict":
        kind = f"tables [{_join(table, name)}.NAME]"
    elif item is not None:
        kind = f"array of tables [[{_join(table, name)}]]"
    bounds = _bounds(field.metadata)
    if bounds:
        kind += f" ({bounds})"
    return Row(name, kind, _default(field), unit, description)


def _join(table: str, key: str) -> str:
    return f"{table}.{key}" if table else key


def _walk(document: str, model: type[BaseModel], table: str, header: str, out: list[Section],
          skip: frozenset[str] = frozenset()) -> None:
    """Add ``model``'s table and, depth first, the tables of its fields."""
    rows: list[Row] = []
    nested: list[tuple[type[BaseModel], str, str]] = []
    for attr, field in model.model_fields.items():
        name = field.alias or attr
        if name in skip:
            continue
        rows.append(_row(name, field, table))
        sub = _model_in(field.annotation)
        item = _item_model(field.annotation)
        key = _join(table, name)
        if sub is not None:
            nested.append((sub, key, f"[{key}]"))
        elif item is not None and item[0] == "dict":
            nested.append((item[1], f"{key}.NAME", f"[{key}.NAME]"))
        elif item is not None:
            nested.append((item[1], key, f"[[{key}]]"))
    out.append(Section(document, table, header, model, tuple(rows)))
    for sub, key, head in nested:
        if sub is not ScenarioConfig:  # a scenario's tables are documented as its own file
            _walk(document, sub, key, head, out)


def sections() -> list[Section]:
    """Every table of a run config, then of a scenario file, then of a levers file, each with
    its keys."""
    out: list[Section] = []
    _walk("Run config", RunConfig, "", "", out, skip=frozenset({"base_dir"}))
    _walk("Scenario file", ScenarioConfig, "", "", out)
    _walk("Levers file", LeversConfig, "", "", out, skip=frozenset({"base_dir"}))
    return out


_INTRO = {
    "Run config": (
        "A run config (``configs/example.toml`` is commented key by key) may name a parent "
        "with ``extends = \"parent.toml\"`` (relative to the file); its keys are overlaid on "
        "the parent's. Relative paths are resolved against the config file's folder. The "
        "``[scenario]`` table takes the keys of a scenario file (below), e.g. "
        "``[scenario.pd_multiplier]``; ``--scenario FILE`` replaces it."
    ),
    "Scenario file": (
        "A scenario file (``scenarios/*.toml``) overlays economic assumptions on a run: "
        "``portsim run CONFIG --scenario FILE``. ``extends = \"baseline\"`` names a parent "
        "scenario file in the same folder. Every key is optional; an empty scenario "
        "reproduces the config's run bit for bit."
    ),
    "Levers file": (
        "A levers file says what ``portsim optimise CONFIG --levers FILE`` may spend the risk "
        "budget on, what each lever costs, the objective and the budget grid. Every table is "
        "optional; action files are relative to the levers file. Doing nothing (no cover, no "
        "factoring, no extra line, reserve, spend or action) is always an option."
    ),
}


def _cell(text: str) -> str:
    """A table cell: the markup characters of reStructuredText escaped; "—" when empty."""
    for char in "\\|*`":
        text = text.replace(char, "\\" + char)
    return text or "—"


def _table_rst(section: Section) -> list[str]:
    title = f"``{section.header}``" if section.header else "Top-level keys"
    doc = (section.model.__doc__ or "").strip().split("\n\n")[0]
    lines = [title, "~" * len(title), "", " ".join(doc.split()), "",
             ".. list-table::", "   :header-rows: 1", "   :widths: 18 26 12 8 36", "",
             "   * - key", "     - type", "     - default", "     - unit", "     - description"]
    for r in section.rows:
        lines += [f"   * - ``{r.key}``", f"     - {_cell(r.type)}", f"     - {_cell(r.default)}",
                  f"     - {_cell(r.unit)}", f"     - {_cell(r.description)}"]
    return [*lines, ""]


def render() -> str:
    """The whole reference as reStructuredText."""
    lines = [".. Generated by tools/config_reference.py from the config models: do not edit.",
             "", "Config reference", "================", ""]
    document = ""
    for section in sections():
        if section.document != document:
            document = section.document
            lines += [document, "-" * len(document), "", _INTRO[document], ""]
        lines += _table_rst(section)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
