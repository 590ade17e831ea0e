"""Sphinx configuration of portsim's reference documentation.

``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (run by ``.ci/run``). The
config reference is generated from the config models on every build
(``tools/config_reference.py``), the CLI reference from the typer app (``tools/cli_reference.py``)
and the API pages from the docstrings (numpydoc style, read by napoleon). The user guide is
Markdown (``docs/guide/``, read by myst-parser), linked to from the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools"), str(HERE)]

import cli_reference  # noqa: E402  (tools/, on the path above)
import config_reference  # noqa: E402


def _generate(name: str, text: str) -> None:
    """Write a generated page unless it already holds ``text`` (so it is not rebuilt)."""
    path = HERE / "_generated" / name
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")


_generate("config.rst", config_reference.render())
_generate("cli.rst", cli_reference.render())

project = "portsim"
author = "portsim developers"
copyright = "portsim developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",  # the user guide (docs/guide/*.md), Markdown that GitHub shows too
]
myst_heading_anchors = 3  # links to sections as GitHub writes them: page.md#some-heading
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # dataclass fields are documented once, by autodoc
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
exclude_patterns = ["_build", "_generated", "design.md", "report-example.*"]
html_theme = "alabaster"
html_static_path: list[str] = []
smartquotes = False  # options and TOML values are shown as typed (--resume, "EUR")
