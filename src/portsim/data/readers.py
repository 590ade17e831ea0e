"""Reading an input table's file (``.csv``, ``.parquet``, ``.xlsx``) into a DataFrame of
cells, with no validation yet: CSV cells are read as text in the file's dialect
(:mod:`portsim.data.dialect`; parsed and checked later, so a bad cell is reported exactly);
Parquet needs the ``parquet`` extra (pyarrow), ``.xlsx`` the ``excel`` extra (openpyxl)."""

from __future__ import annotations

import difflib
import io
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pandas as pd

from portsim.config import TableDialect
from portsim.data.dialect import (
    DELIMITER_NAMES,
    Dialect,
    read_csv_text,
    read_dialect,
    sniff_decimal,
)
from portsim.errors import BookError, Problem

__all__ = ["READERS", "missing_file_problem", "read_table_file"]


def read_table_file(
    path: str | os.PathLike[str],
    *,
    title: str,
    empty: Problem,
    dir_fix: str,
    type_fix: str,
    xls_fix: str | None = None,
    blank_first: bool = False,
    dialect: TableDialect | None = None,
    where: str = "[book]",
) -> tuple[bytes, pd.DataFrame, Dialect | None]:
    """The bytes of a table file, its cells and its CSV dialect, or a
    :class:`~portsim.errors.BookError`.

    Parameters
    ----------
    path : str or path-like
        The file; its suffix picks the reader.
    title : str
        Title of the error raised.
    empty : Problem
        Reported for an empty file (what its header row should be).
    dir_fix, type_fix : str
        The fixes for a folder given as the path and for an unsupported suffix.
    xls_fix : str, optional
        The fix for an old ``.xls`` workbook (else ``type_fix``).
    blank_first : bool
        Report a file of blanks as ``empty`` whatever its format (else only a CSV file).
    dialect : TableDialect, optional
        The config's CSV keys for this table (unset keys, or none given: detected).
    where : str
        The config table holding those keys, e.g. ``"[book]"``, named in fixes.

    Returns
    -------
    data : bytes
        The file's bytes (for its hash).
    frame : DataFrame
        Its cells: text for CSV, native values for Parquet and ``.xlsx``.
    dialect : Dialect or None
        How a CSV file was read (None for Parquet and ``.xlsx``).
    """
    file = Path(path)
    name = file.name
    if not file.exists():
        raise BookError([missing_file_problem(file)], title=title)
    if file.is_dir():
        raise BookError([Problem(name, "path", "is a directory", dir_fix)], title=title)
    suffix = file.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None and suffix != ".csv":
        fix = xls_fix if (suffix == ".xls" and xls_fix is not None) else type_fix
        kind = f"'{suffix}'" if suffix else "(no extension)"
        raise BookError([Problem(name, "file type", f"{kind} is not supported", fix)], title=title)
    reader_check = EXTRAS.get(suffix)
    if reader_check is not None:
        reader_check(name)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BookError([Problem(name, "file", f"cannot be read ({exc})")], title=title) from exc
    if blank_first and not data.strip():
        raise BookError([empty], title=title)
    if reader is None:
        keys = dialect or TableDialect()
        frame, found = _read_csv(data, name, title, empty, keys, where)
        return data, frame, found
    return data, reader(data, name, title, empty), None


def _read_csv(data: bytes, name: str, title: str, empty: Problem, keys: TableDialect,
              where: str) -> tuple[pd.DataFrame, Dialect]:
    text, dialect = read_dialect(data, keys, name=name, where=where, title=title)
    if not text.strip():
        raise BookError([empty], title=title)
    sep = dialect.delimiter
    word = DELIMITER_NAMES[sep][:-1]  # "comma", "semicolon", …
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = read_csv_text(text, sep)
    except pd.errors.EmptyDataError as exc:
        raise BookError([empty], title=title) from exc
    except pd.errors.ParserWarning as exc:
        problem = Problem(
            name,
            "data rows",
            "have more values than the header has columns",
            f"remove trailing {word}s, or quote values that contain a {word}",
        )
        raise BookError([*dialect.assumed, problem], title=title) from exc
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            n_header, line, n_seen = found.groups()
            problem = Problem(
                f"{name} row {line}",
                f"{n_seen} values",
                f"but the header has {n_header} columns",
                f'a value probably contains a {word}: quote it ("Keller{sep} Bau") or remove '
                f"the {word}",
            )
        else:
            problem = Problem(name, "file", f"cannot be parsed as CSV ({exc})")
        raise BookError([*dialect.assumed, problem], title=title) from exc
    return frame, sniff_decimal(frame, dialect, keys, name=name, where=where)


def _read_parquet(data: bytes, name: str, title: str, empty: Problem) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        problem = Problem(name, "file", f"cannot be read as Parquet ({exc})")
        raise BookError([problem], title=title) from exc


def _read_excel(data: bytes, name: str, title: str, empty: Problem) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it drops; irrelevant for reading values
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            return pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
    except Exception as exc:  # zipfile, openpyxl and pandas raise many types
        problem = Problem(name, "file", f"cannot be read as an .xlsx workbook ({exc})")
        raise BookError([problem], title=title) from exc


def _need_pyarrow(name: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise BookError(f"reading {name} needs pyarrow: pip install 'portsim[parquet]'") from exc


def _need_openpyxl(name: str) -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise BookError(f"reading {name} needs openpyxl: pip install 'portsim[excel]'") from exc


#: The readers of the binary formats (CSV is read by its dialect).
READERS: Final[dict[str, Callable[[bytes, str, str, Problem], pd.DataFrame]]] = {
    ".parquet": _read_parquet,
    ".xlsx": _read_excel,
}
EXTRAS: Final[dict[str, Callable[[str], None]]] = {
    ".parquet": _need_pyarrow,
    ".xlsx": _need_openpyxl,
}


def missing_file_problem(file: Path) -> Problem:
    """A file that is not there, with the closest file name in its folder."""
    fix = "check the path"
    parent = file.parent
    if parent.is_dir():
        siblings = [p.name for p in parent.iterdir() if p.is_file()]
        close = difflib.get_close_matches(file.name, siblings, n=1, cutoff=0.7)
        if close:
            fix = f"did you mean {close[0]}?"
    else:
        fix = f"the folder {parent} does not exist either; check the path"
    return Problem(file.name, "file", f"not found (looked for {file.absolute()})", fix)
