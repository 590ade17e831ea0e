"""The book's column rules: its columns as data (names, which are text, which are required,
the aliases people use, what to write) and every check of a cell's value, each problem naming
the row, the customer id, the value, the rule and a fix (with the closest known name, or the
fraction to write for a percentage)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from portsim.data.cells import (
    BoolArray,
    FloatArray,
    Numbers,
    ObjectArray,
    closest,
    fmt,
    listing,
    not_number,
    percent_text,
    show,
)
from portsim.data.problems import TableProblems, fixed
from portsim.data.table import (
    ColumnGuesser,
    Columns,
    check_duplicates,
    duplicate_columns,
    missing_columns,
)

__all__ = [
    "BOOK_COLUMNS",
    "BOOK_RULES",
    "CURRENCY_COLUMN",
    "DEFAULTS",
    "DELAY_COLUMNS",
    "NUMERIC_COLUMNS",
    "REQUIRED_COLUMNS",
    "SEPARATOR_FIX",
    "TEXT_COLUMNS",
    "check_not_numbers",
    "check_text",
    "check_values",
    "header_checks",
    "resolve_pd",
]

#: Every column a book may have, in the order :meth:`Book.to_frame` writes them.
BOOK_COLUMNS: Final = (
    "customer_id",
    "name",
    "sector",
    "country",
    "exposure",
    "p_default",
    "rating",
    "lgd",
    "lgd_sd",
    "asset_correlation",
    "credit_limit",
    "insured_limit",
    "payment_terms_days",
    "annual_sales",
    "delay_mean_days",
    "delay_sd_days",
    "delay_noise_days",
)
#: Optional payment-delay columns (days beyond the due date; see ``[delays]`` in the config).
DELAY_COLUMNS: Final = ("delay_mean_days", "delay_sd_days", "delay_noise_days")
#: Columns that must be present (plus at least one of ``p_default`` and ``rating``).
REQUIRED_COLUMNS: Final = ("customer_id", "sector", "country", "exposure", "lgd")

TEXT_COLUMNS: Final = ("customer_id", "name", "sector", "country", "rating", "currency")
NUMERIC_COLUMNS: Final = tuple(c for c in BOOK_COLUMNS if c not in TEXT_COLUMNS)
MONEY_COLUMNS: Final = ("credit_limit", "insured_limit", "annual_sales")
#: The optional currency column (ISO code of the row's amounts; blank: the book currency).
#: Not among :data:`BOOK_COLUMNS`: a :class:`Book`'s amounts are in the book currency.
CURRENCY_COLUMN: Final = "currency"
#: Values of blank optional cells.
DEFAULTS: Final = {"lgd_sd": 0.0, "payment_terms_days": 30.0, "annual_sales": 0.0}
# Header names people use for our columns (normalised: lower case, "_" for blanks).
ALIASES: Final = {
    "customer_id": ("id", "customer", "customer_no", "customer_number", "debtor", "debtor_id"),
    "p_default": ("pd", "probability_of_default", "default_probability"),
    "exposure": ("ead", "balance", "open_amount", "receivable", "receivables"),
    "sector": ("industry",),
    "country": ("country_code", "iso_country"),
    "rating": ("grade",),
    "lgd": ("loss_given_default",),
    "asset_correlation": ("correlation",),
    "credit_limit": ("limit",),
    "payment_terms_days": ("terms", "payment_terms"),
    "annual_sales": ("sales", "turnover"),
}
DESCRIPTION: Final = {
    "customer_id": "a unique text id per customer, e.g. C001",
    "sector": "the customer's sector, e.g. construction",
    "country": "an ISO-like country code, e.g. DE",
    "exposure": "the open receivable in book currency, e.g. 125000.50",
    "lgd": "the loss given default as a fraction, e.g. 0.489",
    "p_default": "the 1-year probability of default as a fraction, e.g. 0.02 for 2 %",
    "rating": "a grade from the ratings table, e.g. BBB",
}
#: The fix for a table read with the wrong delimiter (shared with the invoices tables).
SEPARATOR_FIX: Final = ("the delimiter key in the config says otherwise: set it to the file's "
                        "delimiter, or remove it to detect it (or save the file as 'CSV UTF-8 "
                        "(comma delimited)', or use .xlsx)")
#: The book's columns as data, for the checks every table shares.
BOOK_RULES: Final = Columns(
    known=(*BOOK_COLUMNS, CURRENCY_COLUMN),
    required=REQUIRED_COLUMNS,
    aliases=ALIASES,
    description=DESCRIPTION,
    separator_fix=SEPARATOR_FIX,
    row_noun="customer",
)


def header_checks(problems: TableProblems, labels: list[str], has: dict[str, int]) -> None:
    """Duplicate, missing and misspelt columns (a misspelt optional column is a note)."""
    duplicate_columns(problems, labels, has, BOOK_RULES.known)
    guess = ColumnGuesser(labels, BOOK_RULES.known, ALIASES)
    missing_columns(problems, labels, has, BOOK_RULES, guess)
    if "p_default" not in has and "rating" not in has:
        hints = [
            f"did you mean {c!r}? rename it to {t}"
            for t in ("p_default", "rating")
            if (c := guess(t, 0.7)) is not None
        ]
        fix = "; ".join(hints) or (
            "add p_default (1-year PD as a fraction, e.g. 0.02) or rating (a grade from the "
            "ratings table); when both are given p_default wins"
        )
        problems.header("p_default", "columns p_default and rating", "are both missing", fix)
    for column in BOOK_RULES.known:
        if column in has or column in REQUIRED_COLUMNS:
            continue
        candidate = guess(column, 0.8)
        if candidate is not None:
            problems.header(
                column,
                f"column {candidate!r}",
                "is not a known column and is ignored",
                f"did you mean {column}? rename it to {column}",
                note=True,
            )


def check_text(
    problems: TableProblems, text: dict[str, ObjectArray], sectors: Sequence[str] | None,
    description: Mapping[str, str] = DESCRIPTION,
) -> None:
    """Blank and repeated customer ids, blank sectors and countries, sectors outside
    ``sectors``; ``description`` says what to write in a column (another table's words)."""
    if "customer_id" in text:
        ids = text["customer_id"]
        problems.cells(
            ids == "",
            "customer_id",
            lambda i: ("customer_id", "is blank", "give every customer a unique id, e.g. C001"),
        )
        check_duplicates(problems, ids, "customer_id", _CUSTOMER_ID_FIX)
    for label in ("sector", "country"):
        if label in text:
            fix = f"give {description[label]}"
            problems.cells(text[label] == "", label, fixed(label, "is blank", fix))
    if sectors is not None and "sector" in text:
        allowed = [str(s) for s in sectors]
        values = text["sector"]
        unknown = (values != "") & ~pd.Series(values, dtype=object).isin(allowed).to_numpy(bool)
        known_list = listing(allowed)

        def describe(i: int) -> tuple[str, str, str]:
            value = str(values[i])
            fix = f"known sectors: {known_list}"
            hint = closest(value, allowed)
            if hint is not None:
                fix = f"did you mean {hint}? {fix}"
            return f"sector={show(value)}", "is not in the configured sectors", fix

        problems.cells(unknown, "sector", describe)


_CUSTOMER_ID_FIX = (
    "ids must be unique: merge the rows into one (add the exposures) or give each customer "
    "its own id"
)


def check_not_numbers(problems: TableProblems, numbers: dict[str, Numbers]) -> None:
    for label, parsed in numbers.items():
        problems.cells(parsed.bad, label, not_number(label, parsed))


def _outside_unit(label: str, parsed: Numbers) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        fix = _fraction_fix(
            parsed.show(i), float(parsed.values[i]), "write a fraction between 0 and 1"
        )
        return f"{label}={parsed.show(i)}", "is outside [0, 1]", fix

    return describe


def _negative(label: str, parsed: Numbers, unit: str) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        rule = "is negative" if parsed.values[i] < 0 else "is not finite"
        return f"{label}={parsed.show(i)}", rule, f"give {unit} ≥ 0, or leave it blank"

    return describe


def _delay_outside(
    label: str, parsed: Numbers, low: float, high: float, meaning: str
) -> Callable[[int], tuple[str, str, str]]:
    def describe(i: int) -> tuple[str, str, str]:
        v = float(parsed.values[i])
        if math.isinf(v):
            rule = "is not finite"
        elif v < 0 and low == 0.0:
            rule = "is negative"
        else:
            rule = f"is outside [{fmt(low)}, {fmt(high)}]"
        return f"{label}={parsed.show(i)}", rule, f"give {meaning}, or leave it blank"

    return describe


def resolve_pd(
    problems: TableProblems,
    numbers: dict[str, Numbers],
    text: dict[str, ObjectArray],
    ratings: Mapping[str, float] | None,
) -> FloatArray:
    """PD per row: p_default where given, else the rating's PD from the table.

    With a ratings table, every grade given must be in it, also on rows whose p_default is
    given; without one, grades are only labels where p_default is given.
    """
    n = problems.rows.size
    given = numbers.get("p_default")
    p_default = given.values.copy() if given is not None else np.full(n, np.nan)
    grades = text.get("rating")
    if given is None and grades is None:
        return p_default  # reported in the header checks
    needs = np.isnan(p_default) & (given.blank if given is not None else True)
    if grades is None:
        problems.cells(
            needs,
            "p_default",
            lambda i: (
                "p_default",
                "is blank",
                "give the 1-year PD as a fraction, e.g. 0.02 for 2 % (or add a rating column)",
            ),
        )
        return p_default
    has_grade = grades != ""
    neither = needs & ~has_grade
    problems.cells(
        neither,
        "p_default",
        lambda i: (
            "p_default and rating",
            "are both blank",
            "give p_default (a fraction, e.g. 0.02) or a rating grade",
        ),
    )
    lookup = needs & has_grade
    if ratings is None:
        if not lookup.any():
            return p_default  # the grades only label rows that give p_default
        index = np.flatnonzero(lookup)
        shown = ", ".join(str(problems.rows[i]) for i in index[:5]) + (
            ", …" if index.size > 5 else ""
        )
        problems.file(
            "column rating",
            f"is used in {index.size} row(s) ({'row' if index.size == 1 else 'rows'} {shown}) "
            "without p_default, "
            "but no ratings table was given",
            "give the [book.ratings] table (grade → 1-year PD), or fill p_default",
        )
        return p_default
    table = {str(k): float(v) for k, v in ratings.items()}
    for grade, pd_value in table.items():
        if not 0.0 <= pd_value <= 1.0:
            problems.file(
                f"ratings table {grade}={fmt(pd_value)}",
                "is outside [0, 1]",
                _fraction_fix(fmt(pd_value), pd_value, "write the 1-year PD as a fraction"),
            )
    known = pd.Series(grades, dtype=object).isin(list(table)).to_numpy(dtype=bool)
    known_list = listing(table)

    def describe(i: int) -> tuple[str, str, str]:
        grade = str(grades[i])
        fix = f"known grades: {known_list}"
        hint = closest(grade, list(table))
        if hint is not None:
            fix = f"did you mean {hint}? {fix}"
        return f"rating={show(grade)}", "is not in the ratings table", fix

    # an unknown grade is a problem even where p_default is given (and wins)
    problems.cells(has_grade & ~known, "rating", describe)
    found = np.flatnonzero(lookup & known)
    p_default[found] = [table[str(g)] for g in grades[found]]
    return p_default


def _fraction_fix(shown: str, value: float, otherwise: str) -> str:
    if 1.0 < value <= 100.0:
        written, fraction = percent_text(shown, value)
        return f"for {written} % write {fraction}"
    return otherwise


def check_values(problems: TableProblems, numbers: dict[str, Numbers]) -> None:
    def finite(label: str) -> tuple[Numbers, FloatArray, BoolArray] | None:
        if label not in numbers:
            return None
        parsed = numbers[label]
        return parsed, parsed.values, ~np.isnan(parsed.values)

    if (got := finite("exposure")) is not None:
        parsed, v, ok = got
        problems.cells(
            parsed.blank,
            "exposure",
            lambda i: (
                "exposure",
                "is blank",
                "give the open receivable in book currency (0 if nothing is open)",
            ),
        )
        problems.cells(
            ok & np.isinf(v),
            "exposure",
            lambda i: (f"exposure={parsed.show(i)}", "is not finite", "give the amount owed"),
        )
        problems.cells(
            ok & np.isfinite(v) & (v < 0),
            "exposure",
            lambda i: (
                f"exposure={parsed.show(i)}",
                "is negative",
                "must be ≥ 0: net credit notes against the customer's invoices, or write 0",
            ),
        )
    for label in ("p_default", "lgd"):
        if (got := finite(label)) is None:
            continue
        parsed, v, ok = got
        if label == "lgd":
            problems.cells(
                parsed.blank,
                "lgd",
                lambda i: (
                    "lgd",
                    "is blank",
                    "give the loss given default as a fraction, e.g. 0.489 (senior unsecured)",
                ),
            )
        problems.cells(ok & ~((v >= 0.0) & (v <= 1.0)), label, _outside_unit(label, parsed))
    if (got := finite("lgd_sd")) is not None:
        parsed, sd, ok = got
        problems.cells(
            ok & ((sd < 0) | np.isinf(sd)),
            "lgd_sd",
            lambda i: (
                f"lgd_sd={parsed.show(i)}",
                "is negative" if sd[i] < 0 else "is not finite",
                "give a standard deviation ≥ 0 (0 for a fixed LGD)",
            ),
        )
        if "lgd" in numbers:
            mean = numbers["lgd"].values
            with np.errstate(invalid="ignore"):
                usable = ok & np.isfinite(sd) & (sd > 0) & (mean >= 0) & (mean <= 1)
                variance_cap = mean * (1.0 - mean)
                impossible = usable & (sd * sd >= variance_cap)

            def describe(i: int) -> tuple[str, str, str]:
                m, cap = float(mean[i]), float(variance_cap[i])
                what = f"lgd_sd={parsed.show(i)} with lgd={numbers['lgd'].show(i)}"
                rule = f"is impossible for a Beta LGD: needs lgd_sd² < lgd·(1−lgd) = {cap:.4g}"
                if cap == 0.0:
                    fix = f"an LGD of exactly {fmt(m)} cannot vary: write lgd_sd=0"
                elif 1.0 < sd[i] <= 100.0:
                    fix = _fraction_fix(parsed.show(i), float(sd[i]), "")
                else:
                    fix = f"use lgd_sd below {math.sqrt(cap):.4g}, or 0 for a fixed LGD"
                return what, rule, fix

            problems.cells(impossible, "lgd_sd", describe)
    if (got := finite("asset_correlation")) is not None:
        parsed, r, ok = got
        problems.cells(
            ok & ~((r >= 0.0) & (r < 1.0)),
            "asset_correlation",
            lambda i: (
                f"asset_correlation={parsed.show(i)}",
                "is outside [0, 1)",
                "R = 1 is not allowed: write a fraction below 1, e.g. 0.99 (for 1 % write 0.01), "
                "or leave it blank for the Basel formula"
                if r[i] == 1.0
                else _fraction_fix(
                    parsed.show(i),
                    float(r[i]),
                    "write R as a fraction below 1, e.g. 0.24, or leave it blank for the "
                    "Basel formula",
                ),
            ),
        )
    for label in (*MONEY_COLUMNS, "payment_terms_days"):
        if (got := finite(label)) is None:
            continue
        parsed, v, ok = got
        unit = "days" if label == "payment_terms_days" else "an amount in book currency"
        problems.cells(ok & ((v < 0) | np.isinf(v)), label, _negative(label, parsed, unit))
    for label, low, high, meaning in (
        ("delay_mean_days", -365.0, 730.0, "the mean payment delay in days after the due date "
         "(negative: paid early)"),
        ("delay_sd_days", 0.0, 365.0, "the sd of the customer's delay propensity in days"),
        ("delay_noise_days", 0.0, 365.0, "the sd of the per-invoice delay noise in days"),
    ):
        if (got := finite(label)) is None:
            continue
        parsed, v, ok = got
        problems.cells(ok & ~((v >= low) & (v <= high)), label,
                       _delay_outside(label, parsed, low, high, meaning))
