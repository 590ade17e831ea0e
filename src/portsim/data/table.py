"""The checks every input table shares, with its column rules as data (:class:`Columns`):
the header (separators, repeated, missing and misspelt columns, with did-you-mean from the
aliases people use), fully blank rows, and repeated ids."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from portsim.data.cells import (
    NumberFormat,
    Numbers,
    ObjectArray,
    as_text,
    blank_mask,
    parse_numbers,
    show,
)
from portsim.data.problems import MAX_LISTED_PROBLEMS, TableProblems, split_problem
from portsim.errors import Problem

__all__ = [
    "ColumnGuesser",
    "Columns",
    "check_duplicates",
    "column_letter",
    "data_rows",
    "duplicate_columns",
    "header_labels",
    "missing_columns",
    "normalise_label",
    "parse_columns",
]


@dataclass(frozen=True)
class Columns:
    """The column rules of one kind of table.

    Parameters
    ----------
    known : tuple of str
        Every column the table may have, in the order problems of one row are listed.
    required : tuple of str
        The columns that must be present.
    aliases : mapping of str to tuple of str
        Header names people use for a column (normalised: lower case, ``_`` for blanks),
        tried before a close spelling when a column is missing.
    description : mapping of str to str
        What to write in a required column, for the fix of a missing one.
    separator_fix : str
        The fix for a CSV file whose columns are not separated by commas.
    row_noun : str
        What one data row is, e.g. ``"customer"``.
    """

    known: tuple[str, ...]
    required: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    description: Mapping[str, str]
    separator_fix: str
    row_noun: str

    @property
    def order(self) -> dict[str, int]:
        """Place of each known column."""
        return {c: i for i, c in enumerate(self.known)}


def normalise_label(label: str) -> str:
    """A header label in lower case with ``_`` for blanks, dashes, dots and slashes."""
    return re.sub(r"[\s\-./]+", "_", label.strip().lower()).strip("_")


def column_letter(pos: int) -> str:
    """The spreadsheet letter of the 0-based column ``pos`` (A, …, Z, AA, …)."""
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def header_labels(
    df: pd.DataFrame, problems: TableProblems, rules: Columns, empty: Problem
) -> tuple[list[str], dict[str, int]]:
    """The header labels of ``df`` and the position of each label's first column; raises at
    once for a table without columns or one whose columns are not separated by commas."""
    labels = [str(c).strip() for c in df.columns]
    if not labels:
        problems.file(*split_problem(empty))
        problems.raise_if_any()
    if len(labels) == 1:
        for sep, sep_name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in labels[0]:
                problems.header("", "columns", f"are separated by {sep_name}",
                                rules.separator_fix)
                problems.raise_if_any()
    has: dict[str, int] = {}
    for pos, label in enumerate(labels):
        has.setdefault(label, pos)
    return labels, has


def duplicate_columns(
    problems: TableProblems, labels: list[str], has: dict[str, int], known: Iterable[str]
) -> None:
    """One header problem per known column that appears more than once."""
    known = set(known)
    seen: dict[str, list[int]] = {}
    for pos, label in enumerate(labels):
        base = re.sub(r"\.\d+$", "", label)  # pandas renames a repeated "x" to "x.1"
        key = base if (base != label and base in has and base in known) else label
        seen.setdefault(key, []).append(pos)
    for label, positions in seen.items():
        if len(positions) > 1 and label in known:
            cols = " and ".join(column_letter(p) for p in positions)
            problems.header(label, f"column {label}",
                            f"appears {len(positions)} times (columns {cols})",
                            "keep one of them; the first is used")


class ColumnGuesser:
    """Which unknown header label most likely means a missing column; each label is given
    to one column at most (the first that asks)."""

    def __init__(self, labels: list[str], known: Iterable[str],
                 aliases: Mapping[str, tuple[str, ...]]) -> None:
        known = set(known)
        self.extras = [lab for lab in labels
                       if lab and lab not in known and not lab.startswith("Unnamed:")
                       and re.sub(r"\.\d+$", "", lab) not in known]
        self.aliases = aliases
        self.claimed: set[str] = set()

    def __call__(self, target: str, cutoff: float) -> str | None:
        """The label meaning ``target``: its own name or an alias once normalised, else the
        closest spelling (difflib ratio ≥ ``cutoff``); None when none is left."""
        pool = [e for e in self.extras if e not in self.claimed]
        normalised = {normalise_label(e): e for e in reversed(pool)}
        found = next((normalised[a] for a in (target, *self.aliases.get(target, ()))
                      if a in normalised), None)
        if found is None:
            close = difflib.get_close_matches(target, list(normalised), n=1, cutoff=cutoff)
            found = normalised[close[0]] if close else None
        if found is not None:
            self.claimed.add(found)
        return found


def missing_columns(
    problems: TableProblems, labels: list[str], has: dict[str, int], rules: Columns,
    guess: ColumnGuesser,
) -> None:
    """One header problem per required column that is missing, with the label it probably
    is (rename it) or what to add."""
    found = ", ".join(labels[:15]) + (", …" if len(labels) > 15 else "")
    for column in rules.required:
        if column in has:
            continue
        candidate = guess(column, 0.7)
        if candidate is not None:
            fix = f"did you mean {candidate!r}? rename it to {column}"
        else:
            fix = f"add it: {rules.description[column]} (columns found: {found})"
        problems.header(column, f"column {column}", "is required but missing", fix)


def data_rows(blank_rows: np.ndarray, n_frame: int, problems: TableProblems,
              rules: Columns) -> np.ndarray:
    """Positions of the rows that are not fully blank; raises at once when none is left.

    Blank rows are dropped but keep their numbers (header = row 1, first data row = 2).
    """
    keep = np.flatnonzero(~blank_rows)
    if keep.size == 0:
        problems.file("data rows",
                      "are missing (only a header)" if n_frame == 0 else "are all blank",
                      f"add one row per {rules.row_noun} below the header")
        problems.raise_if_any()
    return keep


def check_duplicates(problems: TableProblems, ids: ObjectArray, column: str, fix: str) -> None:
    """One problem per repeated id in ``column``, naming every row it stands in."""
    series = pd.Series(ids, dtype=object)
    dup = (series != "") & series.duplicated(keep=False)
    if not dup.any():
        return
    groups = pd.Series(problems.rows[dup.to_numpy()]).groupby(series[dup].to_numpy(), sort=False)
    listed = sorted(((int(r.min()), str(k), r.tolist()) for k, r in groups), key=lambda t: t[0])
    for first, key, group_rows in listed[:MAX_LISTED_PROBLEMS]:
        shown = ", ".join(str(r) for r in group_rows[:10]) + (", …" if len(group_rows) > 10 else "")
        problems.at(first, column, Problem(f"{problems.name} rows {shown} ({show(key)})",
                                           f"{column}={show(key)}",
                                           f"appears {len(group_rows)} times", fix))
    problems.unlisted += max(0, len(listed) - MAX_LISTED_PROBLEMS)



def parse_columns(
    df: pd.DataFrame, labels: list[str], has: dict[str, int], text_columns: Iterable[str],
    numeric_columns: Iterable[str], number_format: NumberFormat | None,
) -> tuple[dict[str, ObjectArray], dict[str, Numbers], np.ndarray]:
    """The known columns of ``df`` parsed as text or numbers, and which rows are fully blank.

    Parameters
    ----------
    df : DataFrame
        The table as read.
    labels, has : list of str, dict of str to int
        From :func:`header_labels`.
    text_columns, numeric_columns : iterable of str
        The known columns read as text and as numbers (a repeated or unknown column is only
        looked at for blankness).
    number_format : NumberFormat, optional
        The CSV file's number format (None: a DataFrame or a spreadsheet).

    Returns
    -------
    text : dict of str to ndarray of object
    numbers : dict of str to Numbers
    blank_rows : ndarray of bool, shape (len(df),)
    """
    text_columns, numeric_columns = set(text_columns), set(numeric_columns)
    text: dict[str, ObjectArray] = {}
    numbers: dict[str, Numbers] = {}
    blank_rows = np.ones(len(df), dtype=bool)
    for pos, label in enumerate(labels):
        if has.get(label) != pos:  # unknown, or a repeated known column
            blank_rows &= blank_mask(df.iloc[:, pos])
        elif label in text_columns:
            text[label] = as_text(df.iloc[:, pos])
            blank_rows &= text[label] == ""
        elif label in numeric_columns:
            numbers[label] = parse_numbers(df.iloc[:, pos], number_format)
            blank_rows &= numbers[label].blank
        else:
            blank_rows &= blank_mask(df.iloc[:, pos])
    return text, numbers, blank_rows
