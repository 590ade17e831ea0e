"""Date cells of an input table: native dates of a spreadsheet or Parquet file, ISO text,
and every other spelling refused with the ISO date to write (``01/02/2026`` is ambiguous:
1 February or 2 January?)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from portsim.data.cells import BoolArray, ObjectArray

__all__ = ["DateArray", "Dates", "parse_dates"]

DateArray = npt.NDArray[np.datetime64]

_ISO: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?")
_DAY_MONTH: Final = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})")
_YEAR_FIRST: Final = re.compile(r"(\d{4})([./])(\d{1,2})\2(\d{1,2})")
_COMPACT: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NUMBER: Final = re.compile(r"\d+(?:\.\d*)?")
_WORD_FORMATS: Final = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y",
                        "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y", "%d. %B %Y", "%d %b, %Y")
_EXCEL_EPOCH: Final = date(1899, 12, 30)


@dataclass(frozen=True)
class Dates:
    """A parsed date column: day values (NaT where blank or bad), masks, texts for messages."""

    values: DateArray  # datetime64[D]
    blank: BoolArray
    bad: BoolArray
    shown: ObjectArray  # the cell as written (for messages)
    why: dict[int, tuple[str, str]]  # bad cell -> (rule, fix)


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if len(text) == 2 else y


def parse_dates(column: pd.Series) -> Dates:
    """Parse a date column: native dates as they are, ISO text, and every other spelling
    reported with the ISO date to write (an ambiguous day/month with the reading the rest of
    the column suggests)."""
    n = len(column)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    blank = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    why: dict[int, tuple[str, str]] = {}
    if pd.api.types.is_datetime64_any_dtype(column):
        col = column
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_localize(None)
        values = col.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        shown = np.array([str(v) for v in values], dtype=object)
        return Dates(values, np.isnat(values), bad, shown, why)
    cells = column.to_numpy(dtype=object)
    shown = np.empty(n, dtype=object)
    # day/month-order evidence from unambiguous d/m/y texts: (order, text)
    orders: list[tuple[str, str]] = []
    ambiguous: dict[int, tuple[int, int, int]] = {}
    # fast path: ISO text, parsed at once; the rest cell by cell
    is_text = np.fromiter((type(v) is str for v in cells), dtype=bool, count=n)
    done = np.zeros(n, dtype=bool)
    if is_text.any():
        text = pd.Series(cells[is_text], dtype=object).str.strip()
        iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
        parsed = pd.to_datetime(text[iso], format="%Y-%m-%d", errors="coerce")
        good = parsed.notna().to_numpy(dtype=bool)
        where = np.flatnonzero(is_text)[iso][good]
        values[where] = parsed[good].to_numpy(dtype="datetime64[D]")
        shown[where] = text[iso][good].to_numpy(dtype=object)
        done[where] = True
    for i in np.flatnonzero(~done).tolist():
        cell = cells[i]
        if cell is None or cell is pd.NaT or cell is pd.NA or (
            isinstance(cell, float) and np.isnan(cell)
        ):
            blank[i] = True
            shown[i] = ""
            continue
        if isinstance(cell, datetime | date | np.datetime64) and not isinstance(cell, str):
            ts = pd.Timestamp(cell)
            if ts is pd.NaT:
                blank[i] = True
                shown[i] = ""
                continue
            if ts.tzinfo is not None:
                ts = ts.tz_localize(None)
            values[i] = np.datetime64(ts.date(), "D")
            shown[i] = ts.date().isoformat()
            continue
        if isinstance(cell, bool | np.bool_):
            shown[i] = str(cell)
            bad[i] = True
            why[i] = ("is not a date", "write the date as YYYY-MM-DD, e.g. 2026-02-01")
            continue
        if isinstance(cell, int | float | np.integer | np.floating):
            text = repr(float(cell)).removesuffix(".0")
        else:
            text = str(cell).strip()
        shown[i] = text
        if text.lower() in ("", "nan", "na", "n/a", "null", "none", "nat"):
            blank[i] = True
            continue
        if m := _ISO.fullmatch(text):
            d = _make_date(int(m[1]), int(m[2]), int(m[3]))
            if d is not None:
                values[i] = np.datetime64(d, "D")
            else:
                bad[i] = True
                why[i] = ("is not a valid date", "check the month and day (YYYY-MM-DD)")
            continue
        bad[i] = True
        if m := _DAY_MONTH.fullmatch(text):
            a, b, y = int(m[1]), int(m[3]), _year(m[4])
            dmy, mdy = _make_date(y, b, a), _make_date(y, a, b)
            if dmy is not None and mdy is not None and dmy != mdy:
                ambiguous[i] = (a, b, y)
                continue
            d = dmy or mdy
            if d is None:
                why[i] = ("is not a valid date", "write the date as YYYY-MM-DD, e.g. 2026-02-01")
            else:
                if dmy is not None and mdy is None:
                    orders.append(("day-first", text))
                elif mdy is not None and dmy is None:
                    orders.append(("month-first", text))
                why[i] = ("is not an ISO date (YYYY-MM-DD)", f"write {d.isoformat()}")
            continue
        d = None
        if m := (_YEAR_FIRST.fullmatch(text) or _COMPACT.fullmatch(text)):
            groups = [g for g in m.groups() if g not in ("/", ".")]
            d = _make_date(int(groups[0]), int(groups[1]), int(groups[2]))
        elif any(c.isalpha() for c in text):
            for fmt in _WORD_FORMATS:
                try:
                    d = datetime.strptime(text, fmt).date()
                    break
                except ValueError:
                    continue
        if d is not None:
            why[i] = ("is not an ISO date (YYYY-MM-DD)", f"write {d.isoformat()}")
        elif _NUMBER.fullmatch(text):
            serial = float(text)
            fix = "write the date as YYYY-MM-DD, e.g. 2026-02-01"
            if 20_000 <= serial <= 80_000:
                as_date = _EXCEL_EPOCH + timedelta(days=int(serial))
                fix = (f"if it is an Excel date serial it is {as_date.isoformat()}: format the "
                       "column as dates, or write YYYY-MM-DD")
            why[i] = ("is a number, not a date", fix)
        else:
            why[i] = ("is not a date", "write the date as YYYY-MM-DD, e.g. 2026-02-01")
    for i, (a, b, y) in ambiguous.items():
        first, second = date(y, b, a), date(y, a, b)  # day-first, month-first reading
        fix = f"write ISO {first.isoformat()} or {second.isoformat()}"
        kinds = {o for o, _ in orders}
        if len(kinds) == 1:
            order, example = orders[0]
            guess = first if order == "day-first" else second
            fix += (f"; other dates in this column are {order} (e.g. {example}), so probably "
                    f"{guess.isoformat()}")
        why[i] = ("is ambiguous (day and month could be either way round)", fix)
    return Dates(values, blank, bad, shown, why)
