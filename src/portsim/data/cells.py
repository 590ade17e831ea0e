"""Cells of an input table: text, blanks and numbers parsed from what a user typed (CSV text
or native spreadsheet values), how a value is shown in a message, and the hints for a number
that cannot be read or a name that is not known."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "NumberFormat",
    "Numbers",
    "ObjectArray",
    "as_text",
    "blank_mask",
    "cell_text",
    "closest",
    "fmt",
    "listing",
    "not_number",
    "number_hint",
    "parse_numbers",
    "percent_text",
    "show",
]

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# Cell texts read as "blank", as pandas does by default (compared in lower case).
_BLANK_TOKENS: Final = frozenset({"", "nan", "na", "n/a", "null", "none"})


def cell_text(value: object) -> str:
    """Text of one cell as a user would type it; "" for a missing cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value).strip()


_NUMBER_KINDS: Final = frozenset({"floating", "integer", "mixed-integer-float", "decimal", "empty"})


_TEXT_KINDS: Final = frozenset({"string", "mixed", "mixed-integer", "empty"})


def as_text(column: pd.Series) -> ObjectArray:
    """Stripped text of every cell, shape (n,), "" for missing cells."""
    if pd.api.types.infer_dtype(column, skipna=False) == "string":
        return column.astype(object).str.strip().to_numpy(dtype=object)
    if pd.api.types.infer_dtype(column, skipna=True) == "string":
        filled = column.astype(object).where(column.notna(), "")
        return filled.str.strip().to_numpy(dtype=object)
    return np.array([cell_text(v) for v in column.to_numpy(dtype=object)], dtype=object)


def blank_mask(column: pd.Series) -> BoolArray:
    """True where a cell is missing or only blanks, shape (n,)."""
    if pd.api.types.is_bool_dtype(column):
        return np.zeros(len(column), dtype=bool)
    missing = column.isna().to_numpy(dtype=bool)
    if pd.api.types.infer_dtype(column, skipna=True) not in _TEXT_KINDS:
        return missing  # numbers, dates, …: blank only where missing
    stripped = column.astype(object).str.strip()  # NaN for cells that are not text
    return missing | stripped.eq("").to_numpy(dtype=bool)


@dataclass(frozen=True)
class NumberFormat:
    """How the numbers of a text table are written when not as ``1234.5``.

    Parameters
    ----------
    decimal : str
        The decimal mark, ``.`` or ``,``.
    thousands : str
        The thousands separator (``.``, ``,``, ``" "``, ``'``), "" for none.
    """

    decimal: str
    thousands: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """A number written this way: digits (grouped by threes with the separator, or not),
        an optional fraction after the decimal mark and exponent."""
        point = re.escape(self.decimal)
        grouped = ""
        if self.thousands:
            grouped = r"|[1-9]\d{0,2}(?:" + re.escape(self.thousands) + r"\d{3})+"
        digits = r"(?:\d+" + grouped + ")"
        return re.compile(rf"[+-]?(?:{digits}(?:{point}\d*)?|{point}\d+)(?:[eE][+-]?\d+)?")

    def canonical(self, text: ObjectArray) -> ObjectArray:
        """Each cell rewritten as ``1234.5`` where it is a number written this way; a cell
        holding a ``.`` or ``,`` that is not is made unreadable (so it is reported, not read
        with the other convention); other cells as they are. Shape as ``text``."""
        cells = pd.Series(text, dtype=object).astype(str).str.strip()
        ok = cells.str.fullmatch(self.pattern).to_numpy(dtype=bool)
        other = cells.str.contains(r"[.,]").to_numpy(dtype=bool) & ~ok
        out = np.array(text, dtype=object, copy=True)
        if ok.any():
            fixed = cells[ok]
            if self.thousands:
                fixed = fixed.str.replace(self.thousands, "", regex=False)
            out[ok] = fixed.str.replace(self.decimal, ".", regex=False).to_numpy(dtype=object)
        out[other] = "\x00"
        return out

    def hint(self) -> str:
        """How to write a number in this format."""
        sep = self.thousands
        example = f"1{sep}234{sep}567{self.decimal}89"
        marks = f"decimal {self.decimal!r}" + (f", thousands {self.thousands!r}"
                                               if self.thousands else "")
        return f"write numbers as the rest of the file does ({marks}), e.g. {example}"


@dataclass(frozen=True)
class Numbers:
    """A parsed numeric column: values (NaN where blank or bad), masks, display text, and
    the format its text was read in (None: ``1234.5``)."""

    values: FloatArray
    blank: BoolArray
    bad: BoolArray
    text: ObjectArray | None
    format: NumberFormat | None = None

    def show(self, i: int) -> str:
        if self.text is not None:
            return show(str(self.text[i]).strip())
        return fmt(float(self.values[i]))

    def take(self, index: IntArray) -> Numbers:
        text = None if self.text is None else self.text[index]
        return Numbers(self.values[index], self.blank[index], self.bad[index], text, self.format)


def parse_numbers(column: pd.Series, numbers: NumberFormat | None = None) -> Numbers:
    """Parse a numeric column: native numbers as they are, text as ``1234.5`` (or as
    ``numbers`` says), blanks and the tokens pandas reads as missing as blank."""
    n = len(column)
    numeric = pd.api.types.is_numeric_dtype(column) or (
        column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in _NUMBER_KINDS
    )
    if numeric and not pd.api.types.is_bool_dtype(column):
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return Numbers(values, np.isnan(values), np.zeros(n, dtype=bool), None)
    if pd.api.types.infer_dtype(column, skipna=False) == "string":
        text = column.to_numpy(dtype=object, copy=True)  # stripped where needed, below
    else:
        text = as_text(column)
    read = text if numbers is None else numbers.canonical(text)
    # pandas parses numbers with surrounding blanks; only the NaN cells need a closer look.
    values = pd.to_numeric(pd.Series(read, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )
    blank = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    unparsed = np.flatnonzero(np.isnan(values))
    if unparsed.size:
        cells = pd.Series(text[unparsed], dtype=object).str.strip()
        text[unparsed] = cells.to_numpy(dtype=object)
        is_blank = cells.str.lower().isin(_BLANK_TOKENS).to_numpy(dtype=bool)
        blank[unparsed] = is_blank
        bad[unparsed[~is_blank]] = True
    for i in np.flatnonzero(bad):  # rare: give Python's parser a chance (e.g. "1e400" -> inf)
        try:
            values[i] = float(str(read[i]))
        except ValueError:
            continue
        bad[i] = math.isnan(values[i])
    return Numbers(values, blank, bad, text, numbers)


def fmt(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def show(text: str, limit: int = 40) -> str:
    """A cell value for a message: bare when simple, quoted (repr) otherwise."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text and re.fullmatch(r"[\w.+\-%/]+", text):
        return text
    return repr(text)


def percent_text(shown: str, value: float) -> tuple[str, str]:
    """(as written, divided by 100) for a percent hint, both as plain decimals."""
    try:
        written = Decimal(shown)
    except InvalidOperation:
        written = Decimal(repr(value))
    return _plain(written), _plain(written / 100)


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def number_hint(raw: str) -> str:
    """How to write a cell that is not a number."""
    text = raw.strip()
    if not text:
        return "write a plain number"
    if text.startswith("#"):
        return "this is a spreadsheet error value: fix the formula or type the number"
    if text.endswith("%"):
        body = text[:-1].strip().replace(",", ".")
        try:
            return f"write fractions, not percent: for {text} write {_plain(Decimal(body) / 100)}"
        except InvalidOperation:
            return "write fractions, not percent: for 3.5 % write 0.035"
    stripped = re.sub(r"^(?:[€$£]|EUR|USD|GBP|CHF)\s*|\s*(?:[€$£]|EUR|USD|GBP|CHF)$", "", text)
    currency = stripped != text
    suggestion = _normalise_number(stripped)
    if suggestion is not None:
        if currency:
            return f"write {suggestion} (number only, no currency)"
        if suggestion != stripped:
            return f"write {suggestion} (decimal point, no thousands separator)"
        return f"write {suggestion}"
    if text.lower() in ("true", "false", "yes", "no"):
        return "write a number"
    return "write a plain number such as 1234.5 (decimal point, no thousands separator)"


def _normalise_number(text: str) -> str | None:
    """Guess the number meant by text with decimal commas or thousands separators."""
    t = re.sub(r"[\s\u00a0\u202f']", "", text)
    if "," in t and "." in t:
        if t.rfind(",") > t.rfind("."):
            t = t.replace(".", "").replace(",", ".")
        else:
            t = t.replace(",", "")
    elif t.count(",") == 1:
        t = t.replace(",", ".")
    elif t.count(",") > 1:
        t = t.replace(",", "")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    t = t.lstrip("+")
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        return None
    return t


def not_number(label: str, parsed: Numbers) -> Callable[[int], tuple[str, str, str]]:
    """A describe(i) for a cell of column ``label`` that is not a number, with the hint."""

    def describe(i: int) -> tuple[str, str, str]:
        raw = str(parsed.text[i]) if parsed.text is not None else ""
        hint = number_hint(raw) if parsed.format is None else parsed.format.hint()
        return f"{label}={parsed.show(i)}", "is not a number", hint

    return describe


def closest(value: str, known: Sequence[str]) -> str | None:
    """The known name ``value`` most likely means (case-insensitive), if any."""
    lowered = {k.lower(): k for k in known}
    if value.lower() in lowered:
        return lowered[value.lower()]
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def listing(known: Iterable[str], limit: int = 20) -> str:
    """The first ``limit`` names, comma-separated, with how many there are in all."""
    items = [str(k) for k in known]
    text = ", ".join(items[:limit])
    return text + (f", … ({len(items)} in all)" if len(items) > limit else "")
