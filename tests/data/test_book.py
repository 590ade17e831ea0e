"""Tests of portsim.data.book: readers, validation messages, the Book container, the generator."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from portsim.config import TableDialect
from portsim.data import (
    BOOK_COLUMNS,
    MAX_LISTED_PROBLEMS,
    Book,
    BookWarning,
    book_from_frame,
    read_book,
)
from portsim.errors import BookError, InputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_BOOK = ROOT / "configs" / "example_book.csv"
RATINGS = {"AAA": 0.0001, "AA": 0.0002, "A": 0.0006, "BBB": 0.002, "BB": 0.008, "B": 0.03}
GOOD = {
    "customer_id": "C001",
    "sector": "construction",
    "country": "DE",
    "exposure": "1000",
    "p_default": "0.02",
    "lgd": "0.45",
}


def write_book(
    tmp_path: Path, rows: list[dict[str, str]], name: str = "book.csv", columns: Any = None
) -> Path:
    """Write rows (text cells, missing keys blank) as a CSV file; row i is spreadsheet row i+2."""
    frame = pd.DataFrame(rows, dtype=str, columns=columns).fillna("")
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def book_rows(n: int, **changes: dict[str, str]) -> list[dict[str, str]]:
    """n good rows C001..C00n; changes={"C003": {"p_default": "3.5"}} edits single rows."""
    rows = [GOOD | {"customer_id": f"C{i:03d}"} for i in range(1, n + 1)]
    for row in rows:
        row.update(changes.get(row["customer_id"], {}))
    return rows


def problems(path: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(BookError) as info:
        read_book(path, **kwargs)
    return [str(p) for p in info.value.problems]


@pytest.fixture(scope="module")
def generator(load_tool: Callable[[str], ModuleType]) -> ModuleType:
    return load_tool("make_book")


# ------------------------------------------------------------------------------------------
# Valid books
# ------------------------------------------------------------------------------------------


def test_reads_valid_book_with_defaults(tmp_path: Path) -> None:
    rows = book_rows(3, C002={"name": "Keller Bau GmbH", "asset_correlation": "0.2"})
    path = write_book(tmp_path, rows)
    book = read_book(path)
    assert book.n_customers == 3
    assert len(book) == 3
    assert list(book.customer_id) == ["C001", "C002", "C003"]
    assert list(book.name) == ["C001", "Keller Bau GmbH", "C003"]  # blank name → id
    np.testing.assert_array_equal(book.exposure, [1000.0] * 3)
    np.testing.assert_array_equal(book.lgd_sd, [0.0] * 3)  # absent → 0
    np.testing.assert_array_equal(book.payment_terms_days, [30.0] * 3)  # absent → 30
    np.testing.assert_array_equal(book.annual_sales, [0.0] * 3)  # absent → 0
    np.testing.assert_array_equal(book.asset_correlation, [np.nan, 0.2, np.nan])
    assert np.isnan(book.credit_limit).all()
    assert book.rating is None
    assert book.exposure.dtype == np.float64
    assert book.customer_id.dtype == object
    assert book.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert book.source == str(path)
    assert book.notes == ()
    with pytest.raises(ValueError, match="read-only"):
        book.exposure[0] = 5.0


def test_pd_exactly_zero_and_one_are_valid(tmp_path: Path) -> None:
    rows = book_rows(2, C001={"p_default": "0"}, C002={"p_default": "1", "lgd": "1"})
    book = read_book(write_book(tmp_path, rows))
    np.testing.assert_array_equal(book.p_default, [0.0, 1.0])


def test_rating_lookup_and_p_default_wins(tmp_path: Path) -> None:
    rows = book_rows(
        3,
        C001={"p_default": "", "rating": "BB"},
        C002={"p_default": "0.05", "rating": "AAA"},  # both given: p_default wins
        C003={"p_default": "0.01", "rating": ""},
    )
    book = read_book(write_book(tmp_path, rows), ratings=RATINGS)
    np.testing.assert_array_equal(book.p_default, [0.008, 0.05, 0.01])
    assert book.rating is not None
    assert list(book.rating) == ["BB", "AAA", ""]


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text(
        "customer_id,sector,country,exposure,p_default,lgd\n"
        "C001,retail,DE,1,0.01,0.4\n"
        "\n"
        ",,,,,\n"
        "C004,retail,DE,-1,0.01,0.4\n",
        encoding="utf-8",
    )
    assert problems(path) == [
        "book.csv row 5 (C004): exposure=-1 is negative; must be ≥ 0: net credit notes "
        "against the customer's invoices, or write 0"
    ]


# ------------------------------------------------------------------------------------------
# One test per class of bad input
# ------------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(b"")
    (line,) = problems(path)
    assert line.startswith("book.csv: file is empty; write a header row with customer_id")


def test_header_without_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("customer_id,sector,country,exposure,p_default,lgd\n", encoding="utf-8")
    assert problems(path) == [
        "book.csv: data rows are missing (only a header); add one row per customer below the header"
    ]


def test_missing_required_columns_with_did_you_mean(tmp_path: Path) -> None:
    rows = [
        {"customer_id": "C001", "Sector": "retail", "country": "DE", "exposre": "1"}
        | {"p_default": "0.01", "lgd": "0.4", "comment": "x"}
    ]
    lines = problems(write_book(tmp_path, rows))
    assert lines == [
        "book.csv row 1 (header): column sector is required but missing; did you mean "
        "'Sector'? rename it to sector",
        "book.csv row 1 (header): column exposure is required but missing; did you mean "
        "'exposre'? rename it to exposure",
    ]


def test_missing_required_column_without_a_near_name_lists_columns(tmp_path: Path) -> None:
    rows = [{k: v for k, v in GOOD.items() if k != "lgd"}]
    (line,) = problems(write_book(tmp_path, rows))
    assert line.startswith(
        "book.csv row 1 (header): column lgd is required but missing; add it: the loss given "
        "default as a fraction"
    )
    assert "columns found: customer_id, sector, country, exposure, p_default" in line


def test_misspelt_optional_column_is_a_warning_and_a_note(tmp_path: Path) -> None:
    rows = [GOOD | {"lgd_sdd": "0.2", "remarks": "unrelated columns are ignored"}]
    expected = (
        "book.csv row 1 (header): column 'lgd_sdd' is not a known column and is ignored; "
        "did you mean lgd_sd? rename it to lgd_sd"
    )
    with pytest.warns(BookWarning, match="did you mean lgd_sd"):
        book = read_book(write_book(tmp_path, rows))
    assert [str(p) for p in book.notes] == [expected]
    np.testing.assert_array_equal(book.lgd_sd, [0.0])
    # With errors present the note is listed alongside them.
    rows = [GOOD | {"lgd_sdd": "0.2", "exposure": "-1"}]
    assert expected in problems(write_book(tmp_path, rows))


def test_neither_p_default_nor_rating(tmp_path: Path) -> None:
    rows = [{k: v for k, v in GOOD.items() if k != "p_default"}]
    assert problems(write_book(tmp_path, rows)) == [
        "book.csv row 1 (header): columns p_default and rating are both missing; add p_default "
        "(1-year PD as a fraction, e.g. 0.02) or rating (a grade from the ratings table); when "
        "both are given p_default wins"
    ]
    rows = book_rows(2, C002={"p_default": "", "rating": ""})
    assert problems(write_book(tmp_path, rows), ratings=RATINGS) == [
        "book.csv row 3 (C002): p_default and rating are both blank; give p_default "
        "(a fraction, e.g. 0.02) or a rating grade"
    ]


def test_rating_not_in_table(tmp_path: Path) -> None:
    rows = book_rows(2, C002={"p_default": "", "rating": "BBx"})
    assert problems(write_book(tmp_path, rows), ratings=RATINGS) == [
        "book.csv row 3 (C002): rating=BBx is not in the ratings table; did you mean BB? "
        "known grades: AAA, AA, A, BBB, BB, B"
    ]


def test_unknown_rating_next_to_a_p_default_is_reported(tmp_path: Path) -> None:
    # p_default wins, but a grade the ratings table does not know is still a typo to fix
    rows = book_rows(3, C002={"p_default": "0.05", "rating": "XYZ"},
                     C003={"p_default": "", "rating": "BBx"})
    assert problems(write_book(tmp_path, rows), ratings=RATINGS) == [
        "book.csv row 3 (C002): rating=XYZ is not in the ratings table; known grades: AAA, "
        "AA, A, BBB, BB, B",
        "book.csv row 4 (C003): rating=BBx is not in the ratings table; did you mean BB? "
        "known grades: AAA, AA, A, BBB, BB, B",
    ]


def test_ratings_label_rows_with_p_default_when_there_is_no_table(tmp_path: Path) -> None:
    rows = book_rows(2, C002={"p_default": "0.05", "rating": "XYZ"})
    book = read_book(write_book(tmp_path, rows))
    assert book.rating is not None
    assert book.rating[1] == "XYZ"
    assert book.p_default[1] == 0.05


def test_rating_without_a_ratings_table(tmp_path: Path) -> None:
    rows = book_rows(3, C002={"p_default": "", "rating": "BB"})
    assert problems(write_book(tmp_path, rows)) == [
        "book.csv: column rating is used in 1 row(s) (row 3) without p_default, but no ratings "
        "table was given; give the [book.ratings] table (grade → 1-year PD), or fill p_default"
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("p_default", "3.5", "p_default=3.5 is outside [0, 1]; for 3.5 % write 0.035"),
        ("p_default", "100", "p_default=100 is outside [0, 1]; for 100 % write 1"),
        ("p_default", "-0.1", "p_default=-0.1 is outside [0, 1]; write a fraction between 0 and 1"),
        ("p_default", "250", "p_default=250 is outside [0, 1]; write a fraction between 0 and 1"),
        ("lgd", "45", "lgd=45 is outside [0, 1]; for 45 % write 0.45"),
        ("lgd", "1.5", "lgd=1.5 is outside [0, 1]; for 1.5 % write 0.015"),
    ],
)
def test_probability_outside_unit_interval(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    rows = book_rows(3, C003={column: value})
    assert problems(write_book(tmp_path, rows)) == [f"book.csv row 4 (C003): {message}"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "-250.5",
            "exposure=-250.5 is negative; must be ≥ 0: net credit notes against the customer's "
            "invoices, or write 0",
        ),
        ("", "exposure is blank; give the open receivable in book currency (0 if nothing is open)"),
        (
            "NaN",
            "exposure is blank; give the open receivable in book currency (0 if nothing is open)",
        ),
        ("inf", "exposure=inf is not finite; give the amount owed"),
    ],
)
def test_bad_exposure(tmp_path: Path, value: str, message: str) -> None:
    rows = book_rows(2, C002={"exposure": value})
    assert problems(write_book(tmp_path, rows)) == [f"book.csv row 3 (C002): {message}"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("credit_limit", "-1", "credit_limit=-1 is negative; give an amount in book currency ≥ 0"),
        (
            "insured_limit",
            "inf",
            "insured_limit=inf is not finite; give an amount in book currency ≥ 0",
        ),
        ("annual_sales", "-5", "annual_sales=-5 is negative; give an amount in book currency ≥ 0"),
        ("payment_terms_days", "-30", "payment_terms_days=-30 is negative; give days ≥ 0"),
    ],
)
def test_bad_other_amounts(tmp_path: Path, column: str, value: str, message: str) -> None:
    rows = book_rows(2, C001={column: "10"}, C002={column: value})
    assert problems(write_book(tmp_path, rows)) == [
        f"book.csv row 3 (C002): {message}, or leave it blank"
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "exposure",
            "1234,5",
            "exposure='1234,5' is not a number; write 1234.5 (decimal point, no thousands "
            "separator)",
        ),
        (
            "exposure",
            "1.234,56",
            "exposure='1.234,56' is not a number; write 1234.56 (decimal point, no thousands "
            "separator)",
        ),
        (
            "credit_limit",
            "€ 5000",
            "credit_limit='€ 5000' is not a number; write 5000 (number only, no currency)",
        ),
        (
            "p_default",
            "3.5%",
            "p_default=3.5% is not a number; write fractions, not percent: for 3.5% write 0.035",
        ),
        (
            "lgd",
            "high",
            "lgd=high is not a number; write a plain number such as 1234.5 (decimal point, no "
            "thousands separator)",
        ),
        (
            "exposure",
            "#DIV/0!",
            "exposure='#DIV/0!' is not a number; this is a spreadsheet error value: fix the "
            "formula or type the number",
        ),
    ],
)
def test_text_in_numeric_column(tmp_path: Path, column: str, value: str, message: str) -> None:
    rows = book_rows(2, C002={column: value})
    assert problems(write_book(tmp_path, rows)) == [f"book.csv row 3 (C002): {message}"]


def test_duplicate_customer_ids_name_every_row(tmp_path: Path) -> None:
    rows = book_rows(5, C002={"customer_id": "C001"}, C005={"customer_id": "C001"})
    assert problems(write_book(tmp_path, rows)) == [
        "book.csv rows 2, 3, 6 (C001): customer_id=C001 appears 3 times; ids must be unique: "
        "merge the rows into one (add the exposures) or give each customer its own id"
    ]


def test_unknown_sector(tmp_path: Path) -> None:
    rows = book_rows(2, C002={"sector": "Constrution"})
    sectors = ["construction", "retail", "automotive"]
    assert problems(write_book(tmp_path, rows), sectors=sectors) == [
        "book.csv row 3 (C002): sector=Constrution is not in the configured sectors; did you "
        "mean construction? known sectors: construction, retail, automotive"
    ]
    assert read_book(write_book(tmp_path, book_rows(2)), sectors=sectors).n_customers == 2


@pytest.mark.parametrize(
    ("lgd", "lgd_sd", "message"),
    [
        (
            "0.45",
            "0.6",
            "lgd_sd=0.6 with lgd=0.45 is impossible for a Beta LGD: needs lgd_sd² < "
            "lgd·(1−lgd) = 0.2475; use lgd_sd below 0.4975, or 0 for a fixed LGD",
        ),
        (
            "0.5",
            "0.5",  # sd² = mean·(1−mean) exactly: still impossible
            "lgd_sd=0.5 with lgd=0.5 is impossible for a Beta LGD: needs lgd_sd² < "
            "lgd·(1−lgd) = 0.25; use lgd_sd below 0.5, or 0 for a fixed LGD",
        ),
        (
            "1",
            "0.1",
            "lgd_sd=0.1 with lgd=1 is impossible for a Beta LGD: needs lgd_sd² < lgd·(1−lgd) "
            "= 0; an LGD of exactly 1 cannot vary: write lgd_sd=0",
        ),
        (
            "0.45",
            "-0.1",
            "lgd_sd=-0.1 is negative; give a standard deviation ≥ 0 (0 for a fixed LGD)",
        ),
    ],
)
def test_bad_lgd_sd(tmp_path: Path, lgd: str, lgd_sd: str, message: str) -> None:
    rows = book_rows(2, C001={"lgd_sd": "0.255"}, C002={"lgd": lgd, "lgd_sd": lgd_sd})
    assert problems(write_book(tmp_path, rows)) == [f"book.csv row 3 (C002): {message}"]


def test_lgd_sd_zero_with_extreme_lgd_is_fine(tmp_path: Path) -> None:
    rows = book_rows(2, C001={"lgd": "0", "lgd_sd": "0"}, C002={"lgd": "1", "lgd_sd": ""})
    np.testing.assert_array_equal(read_book(write_book(tmp_path, rows)).lgd_sd, [0.0, 0.0])


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        (
            "1",
            "R = 1 is not allowed: write a fraction below 1, e.g. 0.99 (for 1 % write 0.01), "
            "or leave it blank for the Basel formula",
        ),
        (
            "-0.1",
            "write R as a fraction below 1, e.g. 0.24, or leave it blank for the Basel formula",
        ),
        ("24", "for 24 % write 0.24"),
    ],
)
def test_asset_correlation_outside_half_open_interval(tmp_path: Path, value: str, fix: str) -> None:
    rows = book_rows(2, C001={"asset_correlation": "0"}, C002={"asset_correlation": value})
    assert problems(write_book(tmp_path, rows)) == [
        f"book.csv row 3 (C002): asset_correlation={value} is outside [0, 1); {fix}"
    ]


def test_blank_customer_id(tmp_path: Path) -> None:
    rows = book_rows(3, C002={"customer_id": "  "})
    assert problems(write_book(tmp_path, rows)) == [
        "book.csv row 3: customer_id is blank; give every customer a unique id, e.g. C001"
    ]


def test_blank_sector_and_country(tmp_path: Path) -> None:
    rows = book_rows(2, C002={"sector": "", "country": ""})
    assert problems(write_book(tmp_path, rows)) == [
        "book.csv row 3 (C002): sector is blank; give the customer's sector, e.g. construction",
        "book.csv row 3 (C002): country is blank; give an ISO-like country code, e.g. DE",
    ]


# ------------------------------------------------------------------------------------------
# Collecting, capping, files and formats
# ------------------------------------------------------------------------------------------


def test_every_problem_is_collected_in_row_order(tmp_path: Path) -> None:
    rows = book_rows(
        4,
        C002={"exposure": "-1", "lgd": "45"},
        C004={"p_default": "2"},
        C003={"customer_id": "C001"},
    )
    with pytest.raises(BookError) as info:
        read_book(write_book(tmp_path, rows))
    error = info.value
    assert isinstance(error, InputError)
    assert [p.where for p in error.problems] == [
        "book.csv rows 2, 4 (C001)",
        "book.csv row 3 (C002)",
        "book.csv row 3 (C002)",
        "book.csv row 5 (C004)",
    ]
    assert str(error).startswith(f"invalid book {tmp_path / 'book.csv'}: 4 problem(s)\n  - ")


def test_problem_list_is_capped(tmp_path: Path) -> None:
    rows = book_rows(70)
    for row in rows:
        row["p_default"] = "5"
        row["lgd"] = "-1"
    with pytest.raises(BookError) as info:
        read_book(write_book(tmp_path, rows))
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == MAX_LISTED_PROBLEMS + 1
    assert lines[0].startswith("book.csv row 2 (C001): p_default=5 is outside [0, 1]")
    assert lines[-1] == "book.csv: 90 more problem(s) are not listed; fix these first"


def test_missing_file_unknown_extension_and_separator(tmp_path: Path) -> None:
    write_book(tmp_path, book_rows(1))
    assert problems(tmp_path / "bok.csv") == [
        f"bok.csv: file not found (looked for {tmp_path / 'bok.csv'}); did you mean book.csv?"
    ]
    (tmp_path / "book.txt").write_text("x", encoding="utf-8")
    assert problems(tmp_path / "book.txt") == [
        "book.txt: file type '.txt' is not supported; save the book as .csv, .parquet or .xlsx"
    ]
    (tmp_path / "semi.csv").write_text("customer_id;sector\nC1;x\n", encoding="utf-8")
    assert problems(tmp_path / "semi.csv", dialect=TableDialect(delimiter=",")) == [
        "semi.csv row 1 (header): columns are separated by semicolons; the delimiter key in "
        "the config says otherwise: set it to the file's delimiter, or remove it to detect it "
        "(or save the file as 'CSV UTF-8 (comma delimited)', or use .xlsx)"
    ]


def test_not_utf8_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes("customer_id,name\nC1,Keller\nC2,Müller\n".encode("cp1252"))
    assert problems(path) == [
        "book.csv row 3, column B (name): byte 0xfc is not UTF-8 text (invalid start byte); "
        "the file is probably Windows-1252 (Excel's 'CSV' on Windows): set encoding = "
        '"cp1252" in [book], or save it as \'CSV UTF-8\''
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_round_trip_formats(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "name": ["Keller & Söhne GmbH", "<b>Nord</b>", ""],
            "sector": ["construction", "retail", "energy"],
            "country": ["DE", "FR", "CN"],
            "exposure": [1234.56, 0.0, 1e6],
            "p_default": [0.0, 1.0, np.nan],
            "rating": ["", "BB", "B"],
            "lgd": [0.489, 0.462, 1.0],
            "lgd_sd": [0.255, np.nan, 0.0],
            "asset_correlation": [np.nan, 0.24, 0.0],
            "credit_limit": [2000.0, np.nan, 5e5],
            "insured_limit": [0.0, 100.0, np.nan],
            "payment_terms_days": [30, 60, 90],
            "annual_sales": [np.nan, 12.5, 3e6],
        }
    )
    path = tmp_path / f"book{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    book = read_book(path, ratings=RATINGS)
    expected = book_from_frame(frame, ratings=RATINGS)
    for column in BOOK_COLUMNS:
        np.testing.assert_array_equal(getattr(book, column), getattr(expected, column))
    np.testing.assert_array_equal(book.p_default, [0.0, 1.0, 0.03])
    assert list(book.name) == ["Keller & Söhne GmbH", "<b>Nord</b>", "C3"]
    np.testing.assert_array_equal(book.lgd_sd, [0.255, 0.0, 0.0])
    np.testing.assert_array_equal(book.annual_sales, [0.0, 12.5, 3e6])
    assert book.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_excel_rows_are_spreadsheet_rows(tmp_path: Path) -> None:
    frame = pd.DataFrame(book_rows(3, C003={"p_default": "3.5"})).astype(object)
    frame["exposure"] = [1000, 2000.5, 30]  # numbers, as Excel stores them
    frame.to_excel(tmp_path / "book.xlsx", index=False)
    assert problems(tmp_path / "book.xlsx") == [
        "book.xlsx row 4 (C003): p_default=3.5 is outside [0, 1]; for 3.5 % write 0.035"
    ]


@pytest.mark.parametrize(
    ("module", "suffix", "extra"),
    [("pyarrow", ".parquet", "parquet"), ("openpyxl", ".xlsx", "excel")],
)
def test_missing_optional_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, suffix: str, extra: str
) -> None:
    path = tmp_path / f"book{suffix}"
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(BookError) as info:
        read_book(path)
    assert str(info.value).splitlines()[1:] == [
        f"  - reading book{suffix} needs {module}: pip install 'portsim[{extra}]'"
    ]


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "book.parquet"
    path.write_bytes(b"this is not parquet")
    (line,) = problems(path)
    assert line.startswith("book.parquet: file cannot be read as Parquet")


# ------------------------------------------------------------------------------------------
# Frames and the Book container
# ------------------------------------------------------------------------------------------


def test_book_from_frame_numeric_columns_and_messages() -> None:
    frame = pd.DataFrame(book_rows(3)).astype({"exposure": float, "p_default": float})
    frame.loc[2, "p_default"] = 3.5
    with pytest.raises(BookError) as info:
        book_from_frame(frame, source="erp-export")
    assert [str(p) for p in info.value.problems] == [
        "erp-export row 4 (C003): p_default=3.5 is outside [0, 1]; for 3.5 % write 0.035"
    ]
    frame.loc[2, "p_default"] = 0.035
    original = frame.copy()
    book = book_from_frame(frame)
    pd.testing.assert_frame_equal(frame, original)  # the caller's frame is not touched
    assert book.source == "<frame>"
    assert book.sha256 == book_from_frame(original).sha256
    assert (
        book.sha256
        == hashlib.sha256(original.to_csv(index=False, lineterminator="\n").encode()).hexdigest()
    )


def test_to_frame_round_trip_and_subset(generator: ModuleType) -> None:
    book = book_from_frame(generator.make_book(300, 7))
    again = book_from_frame(book.to_frame())
    for column in BOOK_COLUMNS:
        np.testing.assert_array_equal(getattr(again, column), getattr(book, column))
    sub = book.subset(book.exposure > np.median(book.exposure))
    assert isinstance(sub, Book)
    assert sub.n_customers == 150
    assert (sub.exposure > np.median(book.exposure)).all()
    picked = book.subset([5, 0])
    assert list(picked.customer_id) == [book.customer_id[5], book.customer_id[0]]
    assert picked.sha256 != book.sha256
    with pytest.raises(ValueError, match="mask must have shape"):
        book.subset(np.ones(3, dtype=bool))


# ------------------------------------------------------------------------------------------
# Generator and the shipped example
# ------------------------------------------------------------------------------------------


def test_generator_is_deterministic(generator: ModuleType) -> None:
    first = generator.make_book(500, 11)
    pd.testing.assert_frame_equal(first, generator.make_book(500, 11))
    assert not first.equals(generator.make_book(500, 12))


@pytest.mark.parametrize("seed", [20261128, 1, 2])
def test_generator_properties(generator: ModuleType, seed: int) -> None:
    frame = generator.make_book(2000, seed)
    assert list(frame.columns) == generator.COLUMNS
    assert frame["sector"].nunique() >= 8
    assert frame["country"].nunique() >= 5
    summary = generator.summarize(frame)
    assert 0.20 <= summary["top10_share"] <= 0.30
    assert 0.03 <= summary["largest_share"] <= 0.06
    assert 0.6 <= summary["insured_share"] <= 0.8
    # PDs come from the grade table: a handful of values, each matching its grade.
    assert frame["p_default"].nunique() <= len(generator.RATING_PD)
    np.testing.assert_array_equal(frame["p_default"], frame["rating"].map(generator.RATING_PD))
    assert frame["rating"].isin(["BBB", "BB", "B"]).mean() > 0.7
    assert set(frame["payment_terms_days"]) <= {30, 45, 60, 90}
    assert frame["asset_correlation"].isna().mean() > 0.9
    assert (frame["credit_limit"] >= frame["exposure"]).mean() > 0.85
    names = frame["name"]
    assert names.str.contains("&").any()
    assert names.str.contains("<").any()
    book = book_from_frame(frame)  # a generated book is always valid
    assert book.n_customers == 2000


def test_shipped_example_book(generator: ModuleType) -> None:
    book = read_book(EXAMPLE_BOOK, sectors=list(generator.SECTORS))
    assert book.n_customers == 2000
    assert book.notes == ()
    assert EXAMPLE_BOOK.stat().st_size < 300_000
    regenerated = book_from_frame(generator.make_book(2000, 20261128))
    for column in BOOK_COLUMNS:
        np.testing.assert_array_equal(getattr(book, column), getattr(regenerated, column))
