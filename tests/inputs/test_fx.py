"""Several currencies: FX rates convert foreign-currency amounts into the book currency, and a
scenario's ``[fx]`` change of a rate reaches exposures, open invoices, receivables, cash and
losses."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import portsim
from portsim.config import RunConfig, ScenarioConfig, apply_scenario, load_config
from portsim.data import Currencies, book_from_frame
from portsim.errors import ConfigError
from portsim.workflow.api import prepare

RATES = {"USD": 0.92}


def usd_down(config: RunConfig, change: float = -0.10) -> RunConfig:
    return apply_scenario(config, ScenarioConfig.model_validate(
        {"name": "usd_down", "fx": {"USD": change}}))


def test_a_usd_rate_fall_scales_a_usd_book_by_exactly_0_9(
        make_trade_book: Any, make_timeline_config: Any) -> None:
    """Every amount of a USD-only book is worth 10 % less in EUR; on common random numbers
    the defaults and payment days are the same, so every money result scales by 0.9."""
    frame = make_trade_book(30, seed=3).to_frame()
    frame["p_default"] = 0.05
    frame["currency"] = "USD"
    book = book_from_frame(frame, currencies=Currencies("EUR", RATES))
    # no fixed outflows: every cash flow of the company then follows its USD sales
    base = make_timeline_config(book={"fx_rates": RATES},
                                company={"fixed_outflows_monthly": 0.0})
    plain = portsim.run(base, book, contributions=False)
    shocked = portsim.run(usd_down(base), book, contributions=False)
    assert float(plain["loss"].mean()) > 0  # the expected loss scales as the path losses do
    for name in ("loss", "written_off", "invoiced", "collected", "still_open", "exposure",
                 "net_cash_flow", "peak_wcr"):
        np.testing.assert_allclose(shocked[name].values, 0.9 * plain[name].values,
                                   rtol=1e-12, atol=1e-9, err_msg=name)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A EUR book with a USD and a EUR customer, semicolon files with decimal commas, their
    open invoices in both currencies; returns the config."""
    write(tmp_path, "book.csv", """
        customer_id;sector;country;exposure;p_default;lgd;annual_sales;currency
        U1;retail;US;1.000,00;0,01;0,5;12.000;USD
        E1;retail;DE;500,00;0,01;0,5;6.000;
    """)
    write(tmp_path, "invoices.csv", """
        invoice_id;customer_id;amount;issue_date;due_date;currency
        I1;U1;1.000,00;2026-12-01;2027-01-30;USD
        I2;E1;500,00;2026-12-01;2027-01-30;EUR
    """)
    write(tmp_path, "usd_down.toml", """
        [fx]
        USD = -0.10
    """)
    return write(tmp_path, "run.toml", """
        [book]
        path = "book.csv"
        invoices = "invoices.csv"
        currency = "EUR"
        [book.fx_rates]
        USD = 0.92
        [timeline]
        as_of = 2026-12-31
        [simulation]
        paths = 64
        threads = 1
    """)


def test_files_are_converted_on_input_and_shocked_through_the_inputs(project: Path) -> None:
    """Hand-worked: 1 000 USD at 0.92 EUR/USD is 920 EUR; the USD rate falling 10 % makes it
    828 EUR; the EUR customer is untouched."""
    book, inputs = prepare(load_config(project))
    assert book.currency is not None
    assert list(book.currency) == ["USD", "EUR"]
    np.testing.assert_allclose(inputs.exposure, [920.0, 500.0], rtol=1e-15)
    np.testing.assert_allclose(book.annual_sales, [11040.0, 6000.0], rtol=1e-15)
    assert inputs.timeline is not None
    opened = inputs.timeline.inv_is_open
    np.testing.assert_allclose(np.sort(inputs.timeline.inv_amount[opened]), [500.0, 920.0],
                               rtol=1e-15)
    _, stressed = prepare(load_config(project, project.parent / "usd_down.toml"))
    np.testing.assert_allclose(stressed.exposure, [828.0, 500.0], rtol=1e-15)
    assert stressed.timeline is not None
    np.testing.assert_allclose(np.sort(stressed.timeline.inv_amount[opened]), [500.0, 828.0],
                               rtol=1e-15)


@pytest.mark.parametrize(
    ("fx", "expected"),
    [
        ("JPY = -0.2", "fx.JPY has no rate in the config's [book.fx_rates]; currencies with "
                       "a rate: USD"),
        ("EUR = 0.1", "fx.EUR is the book currency (its rate is 1 by definition); shock the "
                      "other currencies' rates into EUR"),
    ],
)
def test_a_shock_needs_a_rate(project: Path, fx: str, expected: str) -> None:
    scenario = write(project.parent, "bad.toml", f"[fx]\n{fx}\n")
    with pytest.raises(ConfigError) as info:
        load_config(project, scenario)
    (problem,) = info.value.problems
    assert problem.where == f"{scenario} line 2"
    assert str(problem).endswith(expected)


def test_a_shock_on_a_currency_nothing_is_in_is_reported(project: Path) -> None:
    """A GBP rate with no GBP customer or invoice: the shock would change nothing."""
    text = project.read_text(encoding="utf-8").replace("USD = 0.92", "USD = 0.92\nGBP = 1.15")
    project.write_text(text, encoding="utf-8")
    scenario = write(project.parent, "gbp.toml", "[fx]\nUSD = -0.1\nGBP = -0.2\n")
    with pytest.raises(ConfigError) as info:
        prepare(load_config(project, scenario))
    (problem,) = info.value.problems
    assert problem.where == f"{scenario} line 3"
    assert str(problem).endswith("fx.GBP changes nothing: no customer and no open invoice is "
                                 "in GBP; give the book (or the invoices) a currency column "
                                 "naming it, or remove the change")


def test_a_rate_cannot_fall_by_100_percent(project: Path) -> None:
    scenario = write(project.parent, "bad.toml", "[fx]\nUSD = -1.0\n")
    with pytest.raises(ConfigError, match="greater than -1"):
        load_config(project, scenario)
