"""``portsim ecl``: the IFRS 9 example through the command line, its files and its errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from portsim.cli import app

RATES = "0.003,0.016,0.036,0.066,0.106"


@pytest.fixture
def project(tmp_path: Path, ifrs) -> Path:
    """Company M's receivables as a book of one customer, its open invoices and a config with
    a timeline at 2026-12-31; returns the config."""
    (tmp_path / "book.csv").write_text(
        "customer_id,sector,country,exposure,p_default,lgd,annual_sales,region\n"
        "C000,retail,DE,30000000,0.02,0.5,0,North\n", encoding="utf-8")
    inv = ifrs.invoices.drop(columns="customer")
    inv.to_csv(tmp_path / "invoices.csv", index=False, date_format="%Y-%m-%d")
    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent("""
        name = "company_m"
        [book]
        path = "book.csv"
        invoices = "invoices.csv"
        currency = "CU"
        [simulation]
        paths = 2000
        seed = 11
        threads = 1
        [timeline]
        as_of = 2026-12-31
        horizon_months = 12
    """).lstrip(), encoding="utf-8")
    return config


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["ecl", *(str(a) for a in args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_ifrs_example_through_the_command_line(project: Path, tmp_path: Path, ifrs) -> None:
    out = tmp_path / "out"
    code, stdout, _ = invoke(project, "--as-of", "2026-12-31", "--rates", RATES, "--no-model",
                             "--out", out)
    assert code == 0, stdout
    assert "measured with the given loss rates" in stdout
    rows = pd.read_csv(out / "ecl.csv")
    assert rows["segment"].unique().tolist() == ["retail"]
    assert rows["bucket"].tolist() == ["current", "1-30", "31-60", "61-90", "over 90"]
    assert rows["gross_carrying_amount"].tolist() == list(ifrs.gross)
    assert rows["ecl"].round().tolist() == list(ifrs.ecl)
    table = pd.read_csv(out / "disclosure.csv").set_index("bucket")
    assert table.loc["total", "gross_carrying_amount"] == 30_000_000.0
    assert round(table.loc["total", "lifetime_ecl"]) == 580_000
    assert not (out / "movement.csv").exists()
    assert "580,000" in (out / "report.html").read_text(encoding="utf-8")


def test_model_ecl_through_the_command_line(project: Path, tmp_path: Path, ifrs) -> None:
    # without --rates the simulated ECL is the basis; it is at most LGD × gross
    out = tmp_path / "out"
    code, stdout, _ = invoke(project, "--as-of", "2026-12-31", "--out", out)
    assert code == 0, stdout
    rows = pd.read_csv(out / "ecl.csv")
    assert (rows["basis"] == "model").all()
    assert np.all(rows["ecl"] <= 0.5 * rows["gross_carrying_amount"])
    assert rows["ecl"].sum() > 0
    assert np.all((rows["se"] > 0) == (rows["ecl"] > 0))
    assert np.allclose(rows["model_rate"], rows["ecl"] / rows["gross_carrying_amount"])


@pytest.mark.parametrize(("args", "message"), [
    (["--rates", "0.1,0.2"], "--rates='0.1,0.2' gives 2 rate(s)"),
    (["--rates", RATES, "--buckets", "30,60"], "gives 5 rate(s)"),
    (["--rates", RATES, "--segment", "area"], "--segment='area' is not a segment; use one of "
     "all, sector, country, rating, customer_id, exposure, p_default"),
    (["--scenario", "a.toml=0.5x"], "is not FILE=WEIGHT"),
])
def test_bad_options_are_reported(project: Path, tmp_path: Path, args: list[str],
                                  message: str) -> None:
    code, _, stderr = invoke(project, "--as-of", "2026-12-31", "--out", tmp_path / "o", *args)
    assert code == 1
    assert message in stderr


def test_dates_are_checked(project: Path, tmp_path: Path) -> None:
    code, _, stderr = invoke(project, "--as-of", "31/12/2026", "--rates", RATES)
    assert code == 2
    assert "are not dates YYYY-MM-DD" in stderr
    code, _, stderr = invoke(project, "--as-of", "2026-11-30", "--rates", RATES, "--out",
                             tmp_path / "o")
    assert code == 1
    assert "--as-of=2026-11-30 has no open invoices; give --history" in stderr


EXAMPLE = Path(__file__).resolve().parents[2] / "configs"


def test_movement_between_two_dates_of_the_history(tmp_path: Path) -> None:
    # two past dates: open items from the history; the movement is closing − opening
    out = tmp_path / "out"
    code, stdout, _ = invoke(EXAMPLE / "example.toml", "--as-of", "2026-09-30", "--as-of",
                             "2026-06-30", "--history", EXAMPLE / "example_history.csv",
                             "--rates", RATES, "--no-model", "--out", out)
    assert code == 0, stdout
    disc = pd.read_csv(out / "disclosure.csv")
    assert disc["as_of"].unique().tolist() == ["2026-06-30", "2026-09-30"]  # in date order
    move = pd.read_csv(out / "movement.csv").set_index("bucket")
    for col, day in (("opening", "2026-06-30"), ("closing", "2026-09-30")):
        d = disc[disc["as_of"] == day].set_index("bucket")
        assert np.allclose(move[col], d["lifetime_ecl"])
        assert np.allclose(move[f"gross_{col}"], d["gross_carrying_amount"])
    assert np.allclose(move["change"], move["closing"] - move["opening"])
    assert move.loc["total", "closing"] == pytest.approx(
        move.drop(index="total")["closing"].sum())
    hist = pd.read_csv(out / "historical.csv")
    assert len(hist) == 10  # five buckets at each date
    rows = pd.read_csv(out / "ecl.csv")
    assert (rows.groupby("as_of")["gross_carrying_amount"].sum().to_numpy()
            == pytest.approx(disc.loc[disc["bucket"] == "total", "gross_carrying_amount"]))


def test_segment_by_another_column_of_the_book(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, _ = invoke(project, "--as-of", "2026-12-31", "--rates", RATES, "--no-model",
                             "--segment", "region", "--out", out)
    assert code == 0, stdout
    rows = pd.read_csv(out / "ecl.csv")
    assert rows["segment"].unique().tolist() == ["North"]
    assert round(rows["ecl"].sum()) == 580_000


def test_an_as_of_date_after_the_history_is_refused(tmp_path: Path) -> None:
    code, _, stderr = invoke(EXAMPLE / "example.toml", "--as-of", "2027-03-31", "--history",
                             EXAMPLE / "example_history.csv", "--rates", RATES, "--out",
                             tmp_path / "o")
    assert code == 1
    assert "--as-of=2027-03-31 is after the history's last date 2026-12-31" in stderr
