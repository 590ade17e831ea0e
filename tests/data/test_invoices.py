"""Tests of portsim.data.invoices: the open-invoices reader, its messages, and the timeline
it feeds."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import portsim
from portsim.cli import app
from portsim.config import RunConfig
from portsim.data import (
    INVOICE_COLUMNS,
    Book,
    BookWarning,
    exposure_differences,
    invoices_from_frame,
    read_book,
    read_invoices,
)
from portsim.errors import BookError, ConfigError
from portsim.workflow.api import prepare

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31"
HEADER = ",".join(INVOICE_COLUMNS)


@pytest.fixture
def book(make_book: Any) -> Book:
    return make_book(customer_id=["C001", "C002", "C003"], sector="retail", country="DE",
                     exposure=[300.0, 1000.5, 0.0], p_default=0.0, lgd=0.5)


def write(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "invoices.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD_ROWS = (
    "INV-0001,C001,100,2026-11-01,2026-12-01",
    "INV-0002,C001,200,2026-12-01,2027-01-30",
    "INV-0003,C002,1000.5,2026-12-15,2027-02-13",
)


def problems(path: Path, book: Book, as_of: str = AS_OF) -> list[str]:
    with pytest.raises(BookError) as info:
        read_invoices(path, book, as_of=as_of)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------------------------
# Valid tables
# ------------------------------------------------------------------------------------------


def test_reads_valid_invoices(tmp_path: Path, book: Book) -> None:
    table = read_invoices(write(tmp_path, *GOOD_ROWS), book, as_of=AS_OF)
    assert list(table.columns) == [*INVOICE_COLUMNS[:2], "customer", *INVOICE_COLUMNS[2:]]
    assert table["customer"].tolist() == [0, 0, 1]
    assert table["customer"].dtype == np.int64
    np.testing.assert_array_equal(table["amount"], [100.0, 200.0, 1000.5])
    assert table["issue_date"].dtype == "datetime64[ns]"
    assert table["due_date"].iloc[1] == pd.Timestamp("2027-01-30")
    assert exposure_differences(table, book).empty  # C003 has exposure 0 and no invoices


def test_blank_rows_are_skipped_but_counted(tmp_path: Path, book: Book) -> None:
    path = write(tmp_path, GOOD_ROWS[0], ",,,,", GOOD_ROWS[1], "INV-0003,C002,1000.5,x,2027-02-13")
    assert problems(path, book) == [
        "invoices.csv row 5 (INV-0003): issue_date=x is not a date; write the date as "
        "YYYY-MM-DD, e.g. 2026-02-01"
    ]


def test_native_dates_from_excel_and_parquet(tmp_path: Path, book: Book) -> None:
    frame = pd.DataFrame({
        "invoice_id": ["INV-0001", "INV-0002", "INV-0003"],
        "customer_id": ["C001", "C001", "C002"],
        "amount": [100.0, 200.0, 1000.5],
        "issue_date": [dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2026, 12, 15)],
        "due_date": pd.to_datetime(["2026-12-01", "2027-01-30", "2027-02-13"]),
    })
    expected = read_invoices(write(tmp_path, *GOOD_ROWS), book, as_of=AS_OF)
    frame.to_parquet(tmp_path / "invoices.parquet", index=False)
    frame.to_excel(tmp_path / "invoices.xlsx", index=False)
    for name in ("invoices.parquet", "invoices.xlsx"):
        pd.testing.assert_frame_equal(read_invoices(tmp_path / name, book, as_of=AS_OF),
                                      expected)


def test_excel_text_dates_are_ambiguous_at_the_spreadsheet_row(
    tmp_path: Path, book: Book
) -> None:
    frame = pd.DataFrame({
        "invoice_id": ["INV-0001", "INV-0002"],
        "customer_id": ["C001", "C001"],
        "amount": [100.0, 200.0],
        "issue_date": [dt.datetime(2026, 11, 1), "01/02/2026"],  # a date cell and a text cell
        "due_date": [dt.datetime(2026, 12, 1), "13/02/2026"],
    })
    frame.to_excel(tmp_path / "invoices.xlsx", index=False)
    assert problems(tmp_path / "invoices.xlsx", book) == [
        "invoices.xlsx row 3 (INV-0002): issue_date=01/02/2026 is ambiguous (day and month "
        "could be either way round); write ISO 2026-02-01 or 2026-01-02",
        "invoices.xlsx row 3 (INV-0002): due_date=13/02/2026 is not an ISO date (YYYY-MM-DD); "
        "write 2026-02-13",
    ]


def test_frames_are_validated_like_files(book: Book) -> None:
    frame = pd.DataFrame([r.split(",") for r in GOOD_ROWS], columns=list(INVOICE_COLUMNS))
    table = invoices_from_frame(frame, book, as_of=dt.date(2026, 12, 31))
    assert table["customer"].tolist() == [0, 0, 1]
    frame.loc[1, "amount"] = "-3"
    with pytest.raises(BookError, match=r"erp row 3 \(INV-0002\): amount=-3 is negative"):
        invoices_from_frame(frame, book, as_of=AS_OF, source="erp")


# ------------------------------------------------------------------------------------------
# One test per problem class: the message names the row, the id, the value and a fix
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(
            "INV-0004,C001,100,2026-12-01,2026-11-01",
            "invoices.csv row 5 (INV-0004): due_date=2026-11-01 is before "
            "issue_date=2026-12-01; swap them, or fix the date",
            id="due-before-issue",
        ),
        pytest.param(
            "INV-0004,C01,100,2026-12-01,2027-01-01",
            "invoices.csv row 5 (INV-0004): customer_id=C01 is not in the book; did you mean "
            "C001? otherwise add the customer to the book, or remove its invoices",
            id="unknown-customer",
        ),
        pytest.param(
            "INV-0004,C002,-50,2026-12-01,2027-01-01",
            "invoices.csv row 5 (INV-0004): amount=-50 is negative; a credit note: net it "
            "against the customer's invoices (open amounts are ≥ 0)",
            id="negative-amount",
        ),
        pytest.param(
            "INV-0004,C002,NaN,2026-12-01,2027-01-01",
            "invoices.csv row 5 (INV-0004): amount=NaN is missing (not a number); give the open "
            "amount in book currency (a number ≥ 0)",
            id="nan-amount",
        ),
        pytest.param(
            "INV-0004,C002,,2026-12-01,2027-01-01",
            "invoices.csv row 5 (INV-0004): amount is blank; give the open amount in book "
            "currency (a number ≥ 0)",
            id="blank-amount",
        ),
        pytest.param(
            "INV-0004,C002,twelve,2026-12-01,2027-01-01",
            "invoices.csv row 5 (INV-0004): amount=twelve is not a number; write a plain number "
            "such as 1234.5 (decimal point, no thousands separator)",
            id="text-amount",
        ),
        pytest.param(
            'INV-0004,C002,"1250,50",2026-12-01,2027-01-01',
            "invoices.csv row 5 (INV-0004): amount='1250,50' is not a number; write 1250.50 "
            "(decimal point, no thousands separator)",
            id="decimal-comma",
        ),
        pytest.param(
            "INV-0004,C002,10,2027-01-05,2027-02-04",
            "invoices.csv row 5 (INV-0004): issue_date=2027-01-05 is after the as-of date "
            "2026-12-31: the invoice is not open yet; remove it (forward sales come from the "
            "book's annual_sales), or fix the date",
            id="not-open-yet",
        ),
        pytest.param(
            "INV-0004,C002,10,01/02/2026,2026-03-03",
            "invoices.csv row 5 (INV-0004): issue_date=01/02/2026 is ambiguous (day and month "
            "could be either way round); write ISO 2026-02-01 or 2026-01-02",
            id="ambiguous-date",
        ),
        pytest.param(
            "INV-0004,C002,10,2026-12-01,2027-02-30",
            "invoices.csv row 5 (INV-0004): due_date=2027-02-30 is not a valid date; check the "
            "month and day (YYYY-MM-DD)",
            id="impossible-date",
        ),
        pytest.param(
            "INV-0004,C002,10,2026-12-01,soon",
            "invoices.csv row 5 (INV-0004): due_date=soon is not a date; write the date as "
            "YYYY-MM-DD, e.g. 2026-02-01",
            id="unparseable-date",
        ),
        pytest.param(
            "INV-0004,C002,10,46054,2027-01-01",
            "invoices.csv row 5 (INV-0004): issue_date=46054 is a number, not a date; if it is "
            "an Excel date serial it is 2026-02-01: format the column as dates, or write "
            "YYYY-MM-DD",
            id="excel-serial",
        ),
        pytest.param(
            "INV-0004,C002,10,2026-12-01,",
            "invoices.csv row 5 (INV-0004): due_date is blank; give the due date as YYYY-MM-DD, "
            "e.g. 2027-01-29",
            id="blank-date",
        ),
        pytest.param(
            "INV-0001,C002,10,2026-12-01,2027-01-01",
            "invoices.csv rows 2, 5 (INV-0001): invoice_id=INV-0001 appears 2 times; list each "
            "invoice once (one row per invoice), or give each its own id",
            id="duplicate-id",
        ),
    ],
)
def test_problem_classes(tmp_path: Path, book: Book, row: str, expected: str) -> None:
    assert problems(write(tmp_path, *GOOD_ROWS, row), book) == [expected]


def test_leading_zeros_dropped_by_a_spreadsheet(tmp_path: Path, book: Book) -> None:
    (line,) = problems(write(tmp_path, "INV-1,C1,10,2026-12-01,2027-01-01"), book)
    assert "customer_id=C1 is not in the book; did you mean C001?" in line


def test_day_first_column_hint(tmp_path: Path, book: Book) -> None:
    path = write(tmp_path, "INV-1,C001,10,2026-12-01,31/01/2027",
                 "INV-2,C001,10,2026-12-01,01/02/2027")
    assert problems(path, book)[1] == (
        "invoices.csv row 3 (INV-2): due_date=01/02/2027 is ambiguous (day and month could be "
        "either way round); write ISO 2027-02-01 or 2027-01-02; other dates in this column are "
        "day-first (e.g. 31/01/2027), so probably 2027-02-01"
    )


def test_missing_columns_did_you_mean(tmp_path: Path, book: Book) -> None:
    path = write(tmp_path, "INV-1,C001,10,2026-12-01,2027-01-01",
                 header="invoice_no,customer_id,open_amount,issue_date,due_dat")
    assert problems(path, book) == [
        "invoices.csv row 1 (header): column invoice_id is required but missing; did you mean "
        "'invoice_no'? rename it to invoice_id",
        "invoices.csv row 1 (header): column amount is required but missing; did you mean "
        "'open_amount'? rename it to amount",
        "invoices.csv row 1 (header): column due_date is required but missing; did you mean "
        "'due_dat'? rename it to due_date",
    ]


def test_every_problem_is_listed_in_row_order(tmp_path: Path, book: Book) -> None:
    path = write(tmp_path, "INV-1,C009,-1,2026-12-01,2026-11-01", "INV-2,C001,x,02/03/2026,",
                 "INV-1,C001,5,2027-01-02,2027-02-01")
    lines = problems(path, book)
    rows = [int(re.match(r"invoices\.csv rows? (\d+)", line)[1]) for line in lines]
    assert rows == sorted(rows)
    assert len(lines) == 8  # duplicate, unknown, negative, due<issue, x, ambiguous, blank, late


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "invoices.csv: file is empty; write a header row with invoice_id, customer_id, "
              "amount, issue_date, due_date, then one row per invoice"),
        (HEADER.encode() + b"\n", "invoices.csv: data rows are missing (only a header); add one "
                                  "row per invoice below the header"),
        (HEADER.replace(",", ";").encode() + b"\n",
         "invoices.csv: data rows are missing (only a header); add one row per invoice below "
         "the header"),
    ],
)
def test_file_level_problems(tmp_path: Path, book: Book, content: bytes, expected: str) -> None:
    path = tmp_path / "invoices.csv"
    path.write_bytes(content)
    assert problems(path, book) == [expected]


def test_missing_file(tmp_path: Path, book: Book) -> None:
    (line,) = problems(tmp_path / "invoice.csv", book)
    assert line.startswith("invoice.csv: file not found")


# ------------------------------------------------------------------------------------------
# Exposure check
# ------------------------------------------------------------------------------------------


def test_exposure_differences_warn_once(tmp_path: Path, book: Book) -> None:
    path = write(tmp_path, GOOD_ROWS[0], GOOD_ROWS[2], "INV-9,C003,5,2026-12-01,2027-01-01")
    with pytest.warns(BookWarning) as record:
        table = read_invoices(path, book, as_of=AS_OF)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("invoices.csv: the open invoices of 2 customer(s) differ from "
                              "their book exposure by more than 1 % (C001: invoices 100.00, "
                              "exposure 300.00; C003: invoices 5.00, exposure 0.00)")
    assert "the timeline uses the invoices" in message
    diffs = exposure_differences(table, book)
    assert diffs["customer_id"].tolist() == ["C001", "C003"]
    np.testing.assert_allclose(diffs["difference"], [-200.0, 5.0])
    # within 1 % is no difference
    assert exposure_differences(table.assign(amount=[299.0, 1000.5, 0.0]), book).empty


# ------------------------------------------------------------------------------------------
# Config, CLI and timeline
# ------------------------------------------------------------------------------------------


def _config(tmp_path: Path, invoices: Path | None, *, timeline: bool = True,
            horizon_months: int = 3) -> RunConfig:
    data: dict = {
        "book": {"invoices": str(invoices) if invoices is not None else None},
        "simulation": {"paths": 64, "seed": 3, "chunk_paths": 32, "threads": 1},
        "delays": {"mean_days": 0, "sd_days": 0, "noise_days": 0, "factor_sensitivity_days": 0},
        "company": {"dpo_days": 0},
        "base_dir": str(tmp_path),
    }
    if timeline:
        data["timeline"] = {"as_of": AS_OF, "horizon_months": horizon_months}
    return RunConfig.model_validate(data)


def test_invoices_without_timeline_is_a_config_error(tmp_path: Path, book: Book) -> None:
    cfg = _config(tmp_path, write(tmp_path, *GOOD_ROWS), timeline=False)
    with pytest.raises(ConfigError) as info:
        prepare(cfg, book)
    assert str(info.value.problems[0]).startswith("config [book]: invoices='")
    assert "needs a [timeline] table" in str(info.value)
    assert "add [timeline] with as_of = 2026-12-31" in str(info.value)


def test_zero_delays_collect_the_open_invoices_on_their_due_dates(
    tmp_path: Path, book: Book
) -> None:
    # periods end 2027-01-31, 2027-02-28, 2027-03-31; overdue invoices are collected on day 1
    rows = (
        "A,C001,100,2026-10-01,2026-12-15",  # overdue -> period 1
        "B,C001,150,2026-12-01,2027-01-31",  # last day of period 1
        "C,C001,50,2026-12-20,2027-02-01",  # period 2
        "D,C002,700.25,2026-12-20,2027-03-31",  # last day of period 3
        "E,C002,300.25,2026-12-30,2027-04-01",  # after the horizon
    )
    cfg = _config(tmp_path, write(tmp_path, *rows))
    ds = portsim.run(cfg, book)
    np.testing.assert_allclose(ds["expected_collected"].values, [250.0, 50.0, 700.25],
                               rtol=1e-12)
    _, inputs = prepare(cfg, book)
    assert inputs.timeline is not None
    assert inputs.timeline.opening_ar == pytest.approx(1300.5)


def test_cli_validate_lists_invoice_problems(tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_text(
        "customer_id,sector,country,exposure,p_default,lgd,annual_sales\n"
        "C001,retail,DE,100,0.01,0.5,1200\n",
        encoding="utf-8")
    write(tmp_path, "INV-1,C001,100,2026-12-01,2026-11-01", "INV-2,C002,-5,01/02/2026,2026-03-01")
    config = tmp_path / "run.toml"
    config.write_text('[book]\npath = "book.csv"\ninvoices = "invoices.csv"\n\n'
                      "[timeline]\nas_of = 2026-12-31\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(config)])
    assert res.exit_code == 1
    assert "invalid invoices" in res.output
    assert "invoices.csv row 2 (INV-1): due_date=2026-11-01 is before issue_date=2026-12-01" in (
        res.output)
    assert "invoices.csv row 3 (INV-2): customer_id=C002 is not in the book" in res.output
    assert "amount=-5 is negative" in res.output
    assert "issue_date=01/02/2026 is ambiguous" in res.output
    # fixed, it validates
    write(tmp_path, "INV-1,C001,100,2026-11-01,2026-12-01")
    res = CliRunner().invoke(app, ["validate", str(config)])
    assert res.exit_code == 0, res.output


# ------------------------------------------------------------------------------------------
# The shipped example
# ------------------------------------------------------------------------------------------


def test_shipped_example_invoices(load_tool: Callable[[str], ModuleType]) -> None:
    path = ROOT / "configs" / "example_invoices.csv"
    assert path.stat().st_size < 300_000
    book = read_book(ROOT / "configs" / "example_book.csv")
    table = read_invoices(path, book, as_of=AS_OF)  # no BookWarning: matches the exposures
    assert exposure_differences(table, book).empty
    assert table["amount"].sum() == pytest.approx(book.exposure.sum(), abs=0.01)
    history = load_tool("make_history")
    regenerated = history.make_open_invoices(pd.read_csv(ROOT / "configs" / "example_book.csv"))
    assert regenerated.to_csv(index=False, lineterminator="\n") == path.read_text("utf-8")
