"""The dialect of a CSV file: its text encoding, column delimiter, decimal mark and thousands
separator, each taken from the config's keys where set and otherwise detected from the file,
with what detection assumed where the file leaves it open (reported with the table's
problems, naming the key that settles it).

Detection
---------
* **encoding**: UTF-16 when the file starts with a UTF-16 byte-order mark, else UTF-8 (a
  byte-order mark is fine). Other encodings are not guessed: a byte that is not UTF-8 is an
  error naming its row and column and the ``encoding`` key to set.
* **delimiter**: the one of ``,`` ``;`` tab ``|`` that splits the header row into the most
  columns (a header label rarely holds a delimiter); when two split it, the one whose data
  rows have the header's number of values most often (ties: the order above).
* **decimal**: ``.`` in a comma-separated file (a decimal comma would split the cell);
  otherwise read from the cells: ``,`` when some cell is a number with a decimal comma
  (``0,02``, ``1.234,5``) and none with a decimal point, ``.`` in the opposite case; when
  the cells show both, or neither, ``,`` for a semicolon-separated file (the European
  spreadsheet export) and ``.`` otherwise — noted as an assumption when some cell reads
  differently either way (both kinds, or ``1.234``).
* **thousands**: ``.`` with a decimal comma, none with a decimal point.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Final

import pandas as pd

from portsim.config import TableDialect
from portsim.data.cells import NumberFormat
from portsim.data.table import column_letter
from portsim.errors import BookError, Problem

__all__ = [
    "DELIMITER_NAMES",
    "Dialect",
    "decode",
    "read_csv_text",
    "read_dialect",
    "sniff_decimal",
    "sniff_delimiter",
]

#: The delimiters detected, in order of preference, with their names in messages.
DELIMITER_NAMES: Final = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}
_SAMPLE_LINES: Final = 50  # data rows whose field counts settle an ambiguous delimiter
_SAMPLE_CHARS: Final = 1 << 16  # … among the first 64 kB of text
_COMMA_DECIMAL: Final = re.compile(r"[+-]?(?:\d+|[1-9]\d{0,2}(?:\.\d{3})+),\d+")
_POINT_DECIMAL: Final = re.compile(r"[+-]?(?:\d+|[1-9]\d{0,2}(?:,\d{3})+)\.\d+")
_GROUPED: Final = re.compile(r"[+-]?[1-9]\d{0,2}[.,]\d{3}")  # 1.234: 1234 or 1.234?


@dataclass(frozen=True)
class Dialect:
    """How a CSV file was read.

    Parameters
    ----------
    delimiter, decimal, thousands, encoding : str
        The column delimiter, decimal mark, thousands separator ("" for none) and encoding.
    assumed : tuple of Problem
        What detection assumed where the file leaves it open, each with the key to set.
    """

    delimiter: str
    decimal: str
    thousands: str
    encoding: str
    assumed: tuple[Problem, ...] = ()

    @property
    def numbers(self) -> NumberFormat | None:
        """How numbers are written, or None for the plain ``1234.5``."""
        if self.decimal == "." and not self.thousands:
            return None
        return NumberFormat(self.decimal, self.thousands)


def read_dialect(data: bytes, keys: TableDialect, *, name: str, where: str,
                 title: str) -> tuple[str, Dialect]:
    """The text of a CSV file and its dialect (delimiter and encoding; the decimal mark is
    settled by :func:`sniff_decimal` once the cells are read).

    Parameters
    ----------
    data : bytes
        The file's bytes.
    keys : TableDialect
        The config's keys for this table (None: detect).
    name : str
        The file name, for messages.
    where : str
        The config table the keys are set in, e.g. ``"[book]"``, for the fixes.
    title : str
        Title of the error raised.

    Returns
    -------
    text : str
        The decoded text (without a byte-order mark).
    dialect : Dialect
        With a decimal point and no thousands separator until :func:`sniff_decimal` settles
        them.
    """
    encoding = keys.encoding or _bom_encoding(data)
    text = decode(data, encoding, name=name, where=where, title=title,
                  delimiter=keys.delimiter)
    assumed: list[Problem] = []
    delimiter, note = (keys.delimiter, "") if keys.delimiter else sniff_delimiter(text)
    if note:
        assumed.append(Problem(name, "columns", note,
                               f"if that is wrong, set delimiter in {where}"))
    return text, Dialect(delimiter, ".", "", encoding, tuple(assumed))


def _bom_encoding(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def decode(data: bytes, encoding: str, *, name: str, where: str, title: str,
           delimiter: str | None = None) -> str:
    """The text of ``data``, or a :class:`~portsim.errors.BookError` naming the row and
    column of the first byte that is not ``encoding`` text (row 1 is the header)."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BookError([_bad_byte(data, exc, encoding, name, where, delimiter)],
                        title=title) from exc
    if b"\n" in data and "\n" not in text:  # e.g. UTF-8 bytes read as UTF-16
        raise BookError([Problem(name, f"encoding={encoding}",
                                 "does not fit the file (its text has no line breaks)",
                                 _encoding_fix(where))], title=title)
    return text.removeprefix("\ufeff")


def _encoding_fix(where: str) -> str:
    return f"set the file's encoding in {where} (e.g. encoding = \"utf-8\" or \"cp1252\")"


def _bad_byte(data: bytes, exc: UnicodeDecodeError, encoding: str, name: str, where: str,
              delimiter: str | None) -> Problem:
    before = data[:exc.start].decode(encoding, errors="replace").removeprefix("\ufeff")
    lines = before.replace("\r", " ").split("\n")
    row = len(lines)
    header = lines[0] if row > 1 else ""
    sep = delimiter or (sniff_delimiter(header)[0] if header else ",")
    col = len(next(csv.reader([lines[-1]], delimiter=sep))) if lines[-1] else 1
    labels = next(csv.reader([header], delimiter=sep), []) if header else []
    label = f" ({labels[col - 1].strip()})" if col <= len(labels) else ""
    shown = "UTF-8" if encoding.replace("_", "-").lower().startswith("utf-8") else encoding
    byte = data[exc.start:exc.start + 1]
    if shown == "UTF-8":
        fix = (f"the file is probably Windows-1252 (Excel's 'CSV' on Windows): set "
               f"encoding = \"cp1252\" in {where}, or save it as 'CSV UTF-8'")
    else:
        fix = _encoding_fix(where)
    return Problem(f"{name} row {row}, column {column_letter(col - 1)}{label}",
                   f"byte 0x{byte.hex()}", f"is not {shown} text ({exc.reason})", fix)


def sniff_delimiter(text: str) -> tuple[str, str]:
    """The delimiter of a CSV text and, when another also splits the header, what was assumed.

    Returns
    -------
    delimiter : str
        ``,`` ``;`` tab or ``|`` (``,`` when none splits the header).
    note : str
        "" when the header settles it, else the rule of an assumption.
    """
    head = text[:_SAMPLE_CHARS].splitlines()[:_SAMPLE_LINES + 1]
    sample = [line for line in head if line.strip()]
    if not sample:
        return ",", ""
    counts = {sep: [len(next(csv.reader([line], delimiter=sep))) for line in sample]
              for sep in DELIMITER_NAMES}
    width = {sep: c[0] for sep, c in counts.items() if c[0] > 1}
    if not width:
        return ",", ""
    most = max(width.values())
    if len(width) == 1:
        return next(iter(width)), ""

    def fit(sep: str) -> float:
        rows = counts[sep][1:]
        return sum(c == width[sep] for c in rows) / len(rows) if rows else 0.0

    best = max(width, key=lambda sep: (fit(sep), width[sep] == most,
                                       -list(DELIMITER_NAMES).index(sep)))
    others = " and ".join(DELIMITER_NAMES[s] for s in width if s != best)
    return best, (f"are taken as separated by {DELIMITER_NAMES[best]} (the header row is also "
                  f"split by {others})")


def sniff_decimal(frame: pd.DataFrame, dialect: Dialect, keys: TableDialect, *, name: str,
                  where: str) -> Dialect:
    """``dialect`` with the decimal mark and thousands separator of ``keys``, or where they
    are unset detected from the cells of ``frame`` (see the module docstring)."""
    assumed = list(dialect.assumed)
    decimal, note = ((keys.decimal, "") if keys.decimal
                     else _decimal_from_cells(frame, dialect.delimiter))
    if note:
        assumed.append(Problem(name, "numbers", note,
                               f"if that is wrong, set decimal in {where}"))
    thousands = keys.thousands
    if thousands is None:
        thousands = "." if decimal == "," else ""
    return Dialect(dialect.delimiter, decimal, thousands, dialect.encoding, tuple(assumed))


def _decimal_from_cells(frame: pd.DataFrame, delimiter: str) -> tuple[str, str]:
    if delimiter == ",":
        return ".", ""
    comma = point = grouped = 0
    for pos in range(frame.shape[1]):
        cells = frame.iloc[:, pos].astype(str).str.strip()
        either = cells.str.fullmatch(_GROUPED).to_numpy(dtype=bool)
        comma += int((cells.str.fullmatch(_COMMA_DECIMAL).to_numpy(dtype=bool) & ~either).sum())
        point += int((cells.str.fullmatch(_POINT_DECIMAL).to_numpy(dtype=bool) & ~either).sum())
        grouped += int(either.sum())
    guess = "," if delimiter == ";" else "."
    if comma and not point:
        return ",", ""
    if point and not comma:
        return ".", ""
    if comma and point:
        found = f"numbers with both decimal commas ({comma}) and decimal points ({point})"
    elif grouped:
        found = f"numbers such as 1.234 ({grouped}) that read either way"
    else:
        return guess, ""
    mark = "a decimal comma" if guess == "," else "a decimal point"
    return guess, f"are read with {mark}: the file holds {found}"


def read_csv_text(text: str, delimiter: str) -> pd.DataFrame:
    """The cells of a CSV text as strings (no blank or NA handling: the checks do that).

    Raises the pandas errors of a malformed file (see :mod:`portsim.data.readers`).
    """
    return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                       na_filter=False, skip_blank_lines=False, index_col=False,
                       engine="c")

