"""The import arrows point one way (docs/design.md): a layer imports only those to its left."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "portsim"

# module -> portsim modules it may import
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": {"errors"},
    "book": {"errors", "config"},
    "invoices": {"errors", "config", "book"},
    "calibrate": {"errors", "book", "invoices"},  # invoices: the shared table reader
    "timeline": {"errors", "config", "book"},
    "policy": {"errors", "config", "book", "timeline"},
    "scenario": {"errors", "config", "book", "timeline", "policy"},
    "cash": set(),
    "rng": set(),
    "special": set(),
    "kernels": {"rng", "special"},
    "timeline_kernels": {"rng", "special", "kernels"},
    "insurance": {"rng", "special"},
    "results": {"cash"},
    "figures": {"results"},
    # book: customer names for the report, read from the run's book file (results.nc has ids)
    "report": {"errors", "book", "results", "figures"},
    "engine": {"errors", "config", "book", "scenario", "timeline", "rng", "special", "kernels",
               "timeline_kernels", "cash", "results", "policy", "insurance"},
    # tails: the importance-sampling shift (engine layer, no engine import needed) and the
    # attribution's second pass, which runs the engine
    "importance": {"errors", "config", "book", "scenario", "timeline", "policy"},
    "attribution": {"errors", "config", "book", "scenario", "timeline", "rng", "special",
                    "kernels", "timeline_kernels", "cash", "results", "policy", "insurance",
                    "engine"},
}
TOP = {"api", "runner", "cli", "distributed", "checkpoint", "batch", "__init__"}


def _portsim_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "portsim":
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(a.name for a in node.names if a.name != "__version__")
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "portsim" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_module_is_classified() -> None:
    mods = {p.stem for p in SRC.glob("*.py")}
    unknown = mods - set(ALLOWED) - TOP
    assert not unknown, f"add {sorted(unknown)} to the layer table in tests/test_layers.py"


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_point_left(module: str) -> None:
    path = SRC / f"{module}.py"
    bad = _portsim_imports(path) - ALLOWED[module] - {module}
    assert not bad, f"portsim.{module} imports {sorted(bad)}, which sit to its right"


def test_kernels_import_no_heavy_packages() -> None:
    for name in ("kernels", "rng", "special", "timeline_kernels", "insurance"):
        tree = ast.parse((SRC / f"{name}.py").read_text(encoding="utf-8"))
        roots = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
        assert roots <= {"__future__", "math", "numpy", "numba", "portsim"}, roots
