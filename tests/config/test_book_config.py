"""The ``[book]`` table: CSV dialect keys per table and the currency keys."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from portsim.config import RunConfig, TableDialect, config_hash, load_config
from portsim.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return [str(p).split(": ", 1)[1] for p in info.value.problems]


def test_each_table_has_its_keys_falling_back_to_the_books(tmp_path: Path) -> None:
    path = write(tmp_path, """
        [book]
        delimiter = ";"
        decimal = ","
        encoding = "cp1252"
        [book.invoices_dialect]
        encoding = "utf-8"
        [book.history_dialect]
        delimiter = "\\t"
        thousands = ""
    """)
    book = load_config(path).book
    assert book.dialect("book") == TableDialect(delimiter=";", decimal=",", encoding="cp1252")
    assert book.dialect("invoices") == TableDialect(delimiter=";", decimal=",",
                                                    encoding="utf-8")
    assert book.dialect("history") == TableDialect(delimiter="\t", decimal=",", thousands="",
                                                   encoding="cp1252")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('encoding = "klingon"', "'klingon' is not a known text encoding"),
        ('decimal = ","\nthousands = ","', "book.thousands=',' is also the decimal mark"),
        ('decimal = ","\ndelimiter = ","', "book.decimal=',' is also the column delimiter"),
        ('delimiter = ":"', "book.delimiter"),
        ('currency = "euro cents"', "must be a currency code or label without spaces"),
        ('[book.fx_rates]\nusd = 0.9', "book.fx_rates.usd=0.9 is not a three-letter ISO 4217"),
        ('[book.fx_rates]\nUSD = 0', "greater than 0"),
        ('[book.fx_rates]\nEUR = 1.0', "book.fx_rates.EUR=1.0 is the rate of the book currency"),
        ('decimal = ","\n[book.invoices_dialect]\nthousands = ","',
         "book.invoices_dialect.thousands=',' is also the decimal mark"),
    ],
)
def test_bad_keys(tmp_path: Path, text: str, expected: str) -> None:
    (line,) = problems(tmp_path, "[book]\n" + text + "\n")
    assert expected in line


def test_unset_keys_are_not_recorded(tmp_path: Path) -> None:
    """A config that leaves the CSV and currency keys unset records (and hashes) as one
    written before they existed; the recorded data validates back to the same [book]."""
    plain = load_config(write(tmp_path, '[book]\npath = "book.csv"\n'))
    assert plain.resolved()["book"] == {"path": "book.csv", "ratings": None, "sectors": None,
                                        "currency": "EUR", "invoices": None}
    assert "fx" not in plain.resolved()["scenario"]
    given = load_config(write(tmp_path, '[book]\ndecimal = ","\n[book.fx_rates]\nUSD = 0.9\n'
                                        '[book.history_dialect]\nencoding = "cp1252"\n'))
    book = given.resolved()["book"]
    assert book["decimal"] == ","
    assert book["fx_rates"] == {"USD": 0.9}
    assert book["history_dialect"] == {"encoding": "cp1252"}
    assert "invoices_dialect" not in book
    assert RunConfig.model_validate(given.resolved()).book == given.book
    assert config_hash(given) != config_hash(plain)
