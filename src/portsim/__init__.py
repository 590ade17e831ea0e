"""portsim: Monte Carlo engine for the credit risk of a receivables book.

The public API is loaded lazily so that ``import portsim`` (and ``portsim --help``) stay fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "BookError",
    "ConfigError",
    "InputError",
    "RunOptions",
    "__version__",
    "load_book",
    "load_config",
    "prepare",
    "run",
    "run_folder",
    "summarize",
]

_LAZY = {
    "load_config": "portsim.config",
    "load_book": "portsim.workflow.api",
    "prepare": "portsim.workflow.api",
    "run": "portsim.workflow.api",
    "summarize": "portsim.workflow.api",
    "run_folder": "portsim.workflow.runner",
    "RunOptions": "portsim.workflow.options",
    "InputError": "portsim.errors",
    "ConfigError": "portsim.errors",
    "BookError": "portsim.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'portsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
