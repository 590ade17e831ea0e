"""The import arrows point one way (docs/design.md): a package imports only those before it.

The folders of ``src/portsim`` are the layers, in this order; ``errors`` is the foundation
every layer may use, ``cli`` the top that may use them all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "portsim"

#: The layers, bottom first: each may import the ones before it (and itself).
ORDER = ("errors", "config", "data", "earlywarning", "kernels", "inputs", "creditriskplus",
         "results", "engine", "provisions", "budget", "report", "workflow", "cli")
#: Packages that only compute: no files written, nothing printed.
KERNEL_IMPORTS = {"__future__", "math", "numpy", "numba", "portsim", "enum", "typing", "os"}


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _portsim_imports(path: Path) -> set[str]:
    """The layers (top-level names under ``portsim``) a module imports."""
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


MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


def test_every_layer_is_known() -> None:
    layers = {_layer_of(p) for p in MODULES}
    assert layers <= set(ORDER), f"add {sorted(layers - set(ORDER))} to ORDER in this test"
    assert {p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"} \
        <= set(ORDER)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    layer = _layer_of(path)
    allowed = set(ORDER[: ORDER.index(layer) + 1])
    bad = _portsim_imports(path) - allowed
    assert not bad, f"portsim.{layer} ({path.name}) imports {sorted(bad)}, which sit above it"


def test_kernels_import_no_heavy_packages() -> None:
    for path in sorted((SRC / "kernels").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        roots = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
        assert roots <= KERNEL_IMPORTS, (path.name, roots - KERNEL_IMPORTS)


#: The modules of the command line, bottom first: each imports only the ones before it, so
#: ``__init__`` (the app) registers the commands and none imports it back.
CLI_ORDER = ("common", "summary", "run", "stress", "optimise", "books", "warmup", "__init__")


def _cli_imports(path: Path) -> set[str]:
    """The modules of ``portsim.cli`` a module imports (``__init__`` for the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[:2] == ["portsim", "cli"]:
                found.update([parts[2]] if len(parts) > 2 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] if a.name.count(".") > 1 else "__init__"
                         for a in node.names if a.name.startswith("portsim.cli"))
    return found


def test_the_command_line_modules_import_down() -> None:
    paths = {p.stem: p for p in (SRC / "cli").glob("*.py")}
    assert set(paths) == set(CLI_ORDER), "add the new module to CLI_ORDER in this test"
    assert _cli_imports(paths["run"]) >= {"common", "summary"}  # the check sees imports
    for name in CLI_ORDER:
        bad = _cli_imports(paths[name]) - set(CLI_ORDER[: CLI_ORDER.index(name)])
        assert not bad, f"portsim.cli.{name} imports {sorted(bad)}, which sit above it"
