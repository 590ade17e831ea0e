"""Tests of portsim.data.suppliers: the supplier table's reader and its validation messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portsim.data import read_suppliers
from portsim.errors import BookError

GOOD = {
    "supplier_id": "S001", "sector": "chemicals", "country": "DE", "p_default": "0.02",
    "prepayment": "5000", "monthly_purchases": "100000", "replacement_months": "3",
    "dependent_sales_share": "0.1", "replacement_premium": "0.15",
}
RATINGS = {"BBB": 0.002, "BB": 0.008}


def write(tmp_path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """Rows (text cells, missing keys blank) as ``suppliers.csv``; row i is spreadsheet row
    i + 2."""
    path = tmp_path / "suppliers.csv"
    pd.DataFrame(rows, dtype=str, columns=columns).fillna("").to_csv(path, index=False)
    return path


def rows(n: int, **changes: dict[str, str]) -> list[dict[str, str]]:
    """``n`` good rows S001 … with ``changes={"S002": {...}}`` edits."""
    out = [GOOD | {"supplier_id": f"S{i:03d}"} for i in range(1, n + 1)]
    for row in out:
        row.update(changes.get(row["supplier_id"], {}))
    return out


def problems(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(BookError) as info:
        read_suppliers(path, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_a_good_table_is_read_with_the_defaults_of_blank_optional_cells(tmp_path: Path) -> None:
    table = read_suppliers(write(tmp_path, rows(2, S002={
        "p_default": "", "rating": "BB", "prepayment": "", "dependent_sales_share": "",
        "replacement_premium": ""})), ratings=RATINGS)
    assert list(table.supplier_id) == ["S001", "S002"]
    np.testing.assert_array_equal(table.p_default, [0.02, 0.008])
    np.testing.assert_array_equal(table.prepayment, [5000.0, 0.0])
    np.testing.assert_array_equal(table.dependent_sales_share, [0.1, 0.0])
    np.testing.assert_array_equal(table.replacement_premium, [0.15, 0.0])
    np.testing.assert_array_equal(table.row, [2, 3])
    assert np.isnan(table.asset_correlation).all()
    assert list(table.name) == ["S001", "S002"]  # blank names: the id


def test_every_bad_row_is_reported_with_file_row_id_value_rule_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, rows(
        7,
        S001={"dependent_sales_share": "40"},
        S002={"replacement_months": "-1", "monthly_purchases": "abc"},
        S003={"supplier_id": "S001", "prepayment": "-5"},
        S004={"p_default": "", "rating": "bbb"},
        S005={"replacement_premium": "12", "sector": "chemcals"},
        S006={"monthly_purchases": ""},
        S007={"sector": ""},
    ))
    got = problems(path, ratings=RATINGS, sectors=["chemicals", "energy"])
    assert got == [
        "suppliers.csv rows 2, 4 (S001): supplier_id=S001 appears 2 times; ids must be unique: "
        "merge the rows into one or give each its own id",
        "suppliers.csv row 2 (S001): dependent_sales_share=40 is outside [0, 1]; for 40 % "
        "write 0.4",
        "suppliers.csv row 3 (S002): monthly_purchases=abc is not a number; " + got[2].split(
            "is not a number; ")[1],
        "suppliers.csv row 3 (S002): replacement_months=-1 is outside [0, 60]; give the "
        "months until a replacement delivers, e.g. 3",
        "suppliers.csv row 4 (S001): prepayment=-5 is negative; give an amount in book "
        "currency ≥ 0, or leave it blank",
        "suppliers.csv row 5 (S004): rating=bbb is not in the ratings table; did you mean BBB? "
        "known grades: BBB, BB",
        "suppliers.csv row 6 (S005): sector=chemcals is not in the configured sectors; did you "
        "mean chemicals? known sectors: chemicals, energy",
        "suppliers.csv row 6 (S005): replacement_premium=12 is outside [0, 10]; give the "
        "replacement's extra cost as a fraction of the purchases, e.g. 0.15 for 15 %",
        "suppliers.csv row 7 (S006): monthly_purchases is blank; give the purchases from the "
        "supplier per month in book currency",
        "suppliers.csv row 8 (S007): sector is blank; give the supplier's sector (a sector of "
        "the book's factor model)",
    ]


def test_missing_columns_are_named_with_the_header_they_probably_are(tmp_path: Path) -> None:
    table = [{k: v for k, v in GOOD.items() if k not in ("replacement_months", "p_default")}
             | {"months_to_replace": "3"}]
    got = problems(write(tmp_path, table))
    assert got == [
        "suppliers.csv row 1 (header): columns p_default and rating are both missing; add "
        "p_default (1-year PD as a fraction, e.g. 0.02) or rating (a grade from "
        "[book.ratings])",
        "suppliers.csv row 1 (header): column replacement_months is required but missing; did "
        "you mean 'months_to_replace'? rename it to replacement_months",
    ]
