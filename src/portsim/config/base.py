"""The base of every config model: strict (unknown keys are errors, frozen, defaults
validated), and the error a model raises about one of its keys so the key's line is found."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Fraction", "KeyedValueError", "Strict", "folder_name"]

#: A fraction in [0, 1] (not percent).
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """A config table: unknown keys are errors, values are frozen and defaults validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class KeyedValueError(ValueError):
    """A validation error about one key below the model that raises it (so its line is found).

    Parameters
    ----------
    keys : tuple of str
        Path of the key relative to the model being validated, e.g. ``("first_loss",)``.
    value : object
        The offending value, quoted in the message.
    rule : str
        The rule it breaks.
    fix : str
        How to fix it; may be empty.
    """

    def __init__(self, keys: tuple[str, ...], value: Any, rule: str, fix: str = "") -> None:
        self.keys = keys
        self.value = value
        self.rule = rule
        self.fix = fix
        dotted = ".".join(keys)
        super().__init__(f"{dotted}={value!r} {rule}" + (f"; {fix}" if fix else ""))


_FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def folder_name(value: str, what: str) -> str:
    """``value`` if it can name a folder inside the output folder, else a ValueError.

    A name that becomes part of a path (the run's, a scenario's) holds only letters, digits,
    ``_``, ``-`` and ``.`` and starts with a letter or digit: no separators, so no ``..`` walk
    out of the output folder and no absolute path.
    """
    if not _FOLDER_NAME.match(value):
        raise ValueError("must start with a letter or digit and hold only letters, digits, "
                         f"'_', '-' and '.' (it names {what})")
    return value
