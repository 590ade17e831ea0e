"""Where a config problem is: the line of a TOML key (also in arrays of tables and along an
``extends`` chain), the problems of a pydantic validation error located that way, and the
did-you-mean hints for unknown keys and names."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from portsim.config.base import KeyedValueError
from portsim.errors import Problem

__all__ = [
    "array_table_line",
    "did_you_mean",
    "key_line",
    "key_location",
    "problems_from_validation",
    "sets_key",
]


def key_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the TOML key at ``loc`` (best effort), else the line of its table."""
    keys = [str(k) for k in loc if not isinstance(k, int)]
    table: list[str] = []
    best: int | None = None
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
    keyre = re.compile(r'^\s*("?)([A-Za-z0-9_\-.| ]+?)\1\s*=')
    for no, line in enumerate(text.splitlines(), start=1):
        h = header.match(line)
        if h:
            table = [t.strip().strip('"') for t in h.group(1).split(".")]
            if table == keys or (keys and table[: len(keys)] == keys):
                best = best or no  # the table itself, or the first table below it
            continue
        k = keyre.match(line)
        if k:
            path = table + [t.strip().strip('"') for t in k.group(2).split(".")]
            if path == keys:
                return no
            if keys[: len(path)] == path and best is None:
                best = no
    return best


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str, ...]:
    """The TOML key path of an error: list indices and pydantic's union tags dropped."""
    return tuple(str(k) for k in loc
                 if not isinstance(k, int) and not re.search(r"[\[\]()]|^[a-z]+-[a-z-]+$", str(k)))


def sets_key(data: dict[str, Any], keys: tuple[str, ...]) -> bool:
    node: Any = data
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return False
        node = node[k]
    return True


def array_table_line(text: str, name: str, index: int, key: str | None) -> int | None:
    """1-based line of ``key`` in the ``index``-th ``[[name]]`` table of ``text`` (or of that
    table's header when the key is not in it); None when there is no such table."""
    header = re.compile(r"^\s*\[\[\s*" + re.escape(name) + r"\s*\]\]")
    other = re.compile(r"^\s*\[")
    keyre = re.compile(r"^\s*" + re.escape(key) + r"\s*=") if key else None
    count = -1
    found: int | None = None
    for no, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            count += 1
            if count == index:
                found = no
                continue
            if found is not None:
                break
        elif found is not None:
            if other.match(line):
                break
            if keyre is not None and keyre.match(line):
                return no
    return found


def problems_from_validation(
    exc: ValidationError,
    layers: list[tuple[Path, str, dict[str, Any]]],
    model: type[BaseModel],
) -> list[Problem]:
    """One problem per bad key, located in the nearest file of the ``extends`` chain that
    sets it (``layers`` = [(path, text, raw data)], child first)."""
    merged: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for detail in exc.errors():
        loc = tuple(detail["loc"])
        keyed = (detail.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedValueError):  # a model's check about one of its keys
            loc = loc + keyed.keys
        merged.setdefault(_clean_loc(loc), []).append({**detail, "loc": loc})
    problems = []
    for keys, errs in merged.items():
        path, text, _ = next((lay for lay in layers if sets_key(lay[2], keys)), layers[0])
        raw = errs[0]["loc"]
        line = None
        if text and len(raw) >= 2 and isinstance(raw[1], int):  # in an array of tables
            line = array_table_line(text, str(raw[0]), raw[1],
                                     str(raw[2]) if len(raw) > 2 else None)
        if line is None:
            line = key_line(text, keys) if text and keys else None
        where = f"{path} line {line}" if line else str(path)
        dotted = ".".join(keys) or "(top level)"
        err = errs[0]
        keyed = (err.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedValueError):
            problems.append(Problem(where, f"{dotted}={keyed.value!r}", keyed.rule, keyed.fix))
            continue
        value = err.get("input")
        fix = ""
        if err["type"] == "extra_forbidden":
            known = _known_keys(model, list(keys[:-1]))
            close = difflib.get_close_matches(keys[-1], known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            if len(keys) > 1 and keys[-1] in _known_keys(model, []):
                fix = (f"'{keys[-1]}' is a top-level key: move it above the first [table] "
                       "header (in TOML a key below a header belongs to that table)")
            problems.append(Problem(where, f"'{dotted}'", "is not a known key", fix))
            continue
        shown = "" if isinstance(value, dict) else f"={value!r}"
        msgs = list(dict.fromkeys(e["msg"].removeprefix("Value error, ") for e in errs))
        problems.append(Problem(where, f"{dotted}{shown}", "; or ".join(msgs), fix))
    return problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds, looking inside ``list[...]`` and ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _known_keys(model: type[BaseModel], keys: list[str]) -> list[str]:
    m: Any = model
    for k in keys:
        field = m.model_fields.get(k) or next(
            (f for f in m.model_fields.values() if f.alias == k), None
        )
        if field is None:
            return []
        m = _model_of(field.annotation)
        if m is None:
            return []
    return sorted(f.alias or n for n, f in m.model_fields.items() if n != "base_dir")


def did_you_mean(name: str, choices: list[str] | tuple[str, ...], what: str) -> str:
    """A fix for an unknown ``name``: the closest of ``choices``, else the choices
    (``what`` names them, e.g. ``"sectors"``)."""
    same = [c for c in choices if c.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, list(choices), n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(list(choices)[:12]) + (", …" if len(choices) > 12 else "")
    return f"{what}: {shown}" if choices else f"the config has no {what}"


def key_location(source: str | None, loc: tuple[str, ...], fallback: str) -> str:
    """``"FILE line N"`` of the TOML key at ``loc`` in the config file ``source``.

    For problems found after loading (e.g. against the book); ``fallback`` when the file or
    the key cannot be found.
    """
    if source is None:
        return fallback
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError:
        return fallback
    line = key_line(text, loc)
    return f"{source} line {line}" if line else source
