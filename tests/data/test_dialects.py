"""CSV dialects of the input tables: semicolons with decimal commas and thousands separators,
explicit keys, encodings, and what detection assumed when the file leaves it open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portsim.config import TableDialect
from portsim.data import Book, BookWarning, read_book, read_history, read_invoices
from portsim.errors import BookError

EU_BOOK = (
    "customer_id;name;sector;country;exposure;p_default;lgd;annual_sales\n"
    "C1;Müller, Söhne;retail;DE;1.234.567,89;0,02;0,45;12.000\n"
    "C2;Acme;retail;FR;500;0,015;0,5;\n"
)


def semicolon_book(tmp_path: Path, *rows: str) -> Path:
    """A book.csv separated by semicolons with the given data rows."""
    path = tmp_path / "book.csv"
    path.write_text("\n".join(["customer_id;sector;country;exposure;p_default;lgd", *rows])
                    + "\n", encoding="utf-8")
    return path


def book_problems(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(BookError) as info:
        read_book(path, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_semicolons_with_decimal_commas_are_detected_and_read(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text(EU_BOOK, encoding="utf-8")
    book = read_book(path)
    np.testing.assert_array_equal(book.exposure, [1234567.89, 500.0])
    np.testing.assert_array_equal(book.p_default, [0.02, 0.015])
    np.testing.assert_array_equal(book.lgd, [0.45, 0.5])
    np.testing.assert_array_equal(book.annual_sales, [12000.0, 0.0])
    assert list(book.name) == ["Müller, Söhne", "Acme"]


@pytest.mark.parametrize(
    ("text", "keys", "exposure"),
    [
        # tab-separated, decimal point: nothing to convert
        ("customer_id\tsector\tcountry\texposure\tp_default\tlgd\nC1\tr\tDE\t1234.5\t0.02\t1\n",
         TableDialect(), 1234.5),
        # Swiss: apostrophe thousands, decimal point, given as keys
        ("customer_id;sector;country;exposure;p_default;lgd\nC1;r;DE;1'234'567.5;0.02;1\n",
         TableDialect(decimal=".", thousands="'"), 1234567.5),
        # a comma file with quoted thousands separators, given as a key
        ('customer_id,sector,country,exposure,p_default,lgd\nC1,r,DE,"1,234.5",0.02,1\n',
         TableDialect(thousands=","), 1234.5),
        # pipes and blanks as thousands separators
        ("customer_id|sector|country|exposure|p_default|lgd\nC1|r|DE|1 234,5|0,02|1\n",
         TableDialect(decimal=",", thousands=" "), 1234.5),
    ],
)
def test_dialect_keys_and_other_delimiters(tmp_path: Path, text: str, keys: TableDialect,
                                           exposure: float) -> None:
    path = tmp_path / "book.csv"
    path.write_text(text, encoding="utf-8")
    assert read_book(path, dialect=keys).exposure.tolist() == [exposure]


def test_thousands_given_as_none_is_kept(tmp_path: Path) -> None:
    path = semicolon_book(tmp_path, "C1;r;DE;1.234,5;0,02;1")
    assert read_book(path).exposure.tolist() == [1234.5]
    assert book_problems(path, dialect=TableDialect(thousands="")) == [
        "book.csv row 2 (C1): exposure='1.234,5' is not a number; write numbers as the rest of "
        "the file does (decimal ','), e.g. 1234567,89"
    ]


def test_a_number_in_the_other_convention_is_an_error_not_a_guess(tmp_path: Path) -> None:
    path = semicolon_book(tmp_path, "C1;r;DE;1.234,5;0,02;1", "C2;r;DE;1234.5;0,02;1")
    assert book_problems(path) == [
        "book.csv row 3 (C2): exposure=1234.5 is not a number; write numbers as the rest of the "
        "file does (decimal ',', thousands '.'), e.g. 1.234.567,89",
        "book.csv: numbers are read with a decimal comma: the file holds numbers with both "
        "decimal commas (3) and decimal points (1); if that is wrong, set decimal in [book]",
    ]


def test_an_ambiguous_decimal_mark_is_said_with_the_key_to_set(tmp_path: Path) -> None:
    path = semicolon_book(tmp_path, "C1;r;DE;1.234;x;1")
    assert book_problems(path) == [
        "book.csv row 2 (C1): p_default=x is not a number; write numbers as the rest of the "
        "file does (decimal ',', thousands '.'), e.g. 1.234.567,89",
        "book.csv: numbers are read with a decimal comma: the file holds numbers such as 1.234 "
        "(1) that read either way; if that is wrong, set decimal in [book]",
    ]
    # the key settles it: 1.234 is then one point two three four
    semicolon_book(tmp_path, "C1;r;DE;1.234;0;1")
    assert read_book(path, dialect=TableDialect(decimal=".")).exposure.tolist() == [1.234]
    assert read_book(path).exposure.tolist() == [1234.0]


def test_an_ambiguous_delimiter_is_said_with_the_key_to_set(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("customer_id;sector;country;exposure;p_default;lgd,x\n"
                    "C1;r;DE;100;0,02;0,5\n", encoding="utf-8")
    lines = book_problems(path)
    assert lines[0].startswith("book.csv row 1 (header): column lgd is required but missing")
    assert lines[-1] == (
        "book.csv: columns are taken as separated by semicolons (the header row is also split "
        "by commas); if that is wrong, set delimiter in [book]")


def test_the_old_misdiagnosis_is_gone(tmp_path: Path) -> None:
    """A semicolon export with decimal commas used to read as 'more values than the header'."""
    path = semicolon_book(tmp_path, "C1;r;DE;100,5;0,02;0,5")
    assert read_book(path).exposure.tolist() == [100.5]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16"])
def test_encoding_key(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(EU_BOOK.encode(encoding))
    book = read_book(path, dialect=TableDialect(encoding=encoding))
    assert list(book.name) == ["Müller, Söhne", "Acme"]


def test_utf16_with_its_byte_order_mark_needs_no_key(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(EU_BOOK.encode("utf-16"))
    assert read_book(path).exposure.tolist() == [1234567.89, 500.0]


def test_a_wrong_encoding_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    fix = 'set the file\'s encoding in [book] (e.g. encoding = "utf-8" or "cp1252")'
    path.write_bytes(b"customer_id\nC1\n")  # odd length: the last byte is half a character
    assert book_problems(path, dialect=TableDialect(encoding="utf-16")) == [
        f"book.csv row 1, column A: byte 0x0a is not utf-16 text (truncated data); {fix}"]
    path.write_bytes(b"customer_id\nC12\n")  # even length: decodes, but to one long line
    assert book_problems(path, dialect=TableDialect(encoding="utf-16")) == [
        f"book.csv: encoding=utf-16 does not fit the file (its text has no line breaks); {fix}"]


INVOICES = ("invoice_id;customer_id;amount;issue_date;due_date\n"
            "INV-1;C1;1.000,25;2026-12-01;2027-01-30\n"
            "INV-2;C2;200;2026-12-15;2027-01-14\n")


@pytest.fixture
def eu_book(tmp_path: Path) -> Book:
    path = tmp_path / "book.csv"
    path.write_text(EU_BOOK, encoding="utf-8")
    return read_book(path)


def test_invoices_and_history_in_the_european_dialect(tmp_path: Path, eu_book: Book) -> None:
    path = tmp_path / "invoices.csv"
    path.write_bytes(INVOICES.encode("cp1252"))
    with pytest.warns(BookWarning, match="differ from their book exposure"):
        # the open invoices differ from the exposures
        table = read_invoices(path, eu_book, as_of="2026-12-31")
    assert table["amount"].tolist() == [1000.25, 200.0]
    history = tmp_path / "history.csv"
    history.write_bytes(INVOICES.replace("due_date\n", "due_date;paid_date\n")
                        .replace("2027-01-30\n", "2027-01-30;2027-02-01\n")
                        .replace("2027-01-14\n", "2027-01-14;\n").encode("utf-16"))
    hist = read_history(history, eu_book, as_of="2027-03-01")
    assert hist["amount"].tolist() == [1000.25, 200.0]
    assert hist["paid_date"].isna().tolist() == [False, True]


def test_invoices_bad_byte_names_the_invoices_key(tmp_path: Path, eu_book: Book) -> None:
    path = tmp_path / "invoices.csv"
    path.write_bytes(INVOICES.replace("INV-2", "INV-ä").encode("cp1252"))
    with pytest.raises(BookError) as info:
        read_invoices(path, eu_book, as_of="2026-12-31")
    assert [str(p) for p in info.value.problems] == [
        "invoices.csv row 3, column A (invoice_id): byte 0xe4 is not UTF-8 text (invalid "
        "continuation byte); the file is probably Windows-1252 (Excel's 'CSV' on Windows): set "
        'encoding = "cp1252" in [book.invoices_dialect], or save it as \'CSV UTF-8\''
    ]
