"""The loss-allowance report section: the IFRS 9 example's matrix and the movement."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd

from portsim.provisions import EclOptions, compute_ecl
from portsim.report.ecl import ecl_section, render_ecl_html

RATES = (0.003, 0.016, 0.036, 0.066, 0.106)


def test_section_of_the_ifrs_example_and_its_movement(make_book) -> None:
    due = pd.to_datetime(["2027-01-15", "2026-12-16", "2026-11-15", "2026-10-15", "2026-08-01"])
    inv = pd.DataFrame({"customer": 0, "amount": [15e6, 7.5e6, 4e6, 2.5e6, 1e6],
                        "issue_date": pd.Timestamp("2026-06-01"), "due_date": due})
    book = make_book(1, p_default=0.0, sector="retail")
    options = EclOptions(rates=RATES, model=False)
    closing = compute_ecl(book, inv, date(2026, 12, 31), options=options, currency="CU")
    # a quarter earlier, half the receivables were open
    opening = compute_ecl(book, inv.assign(amount=inv["amount"] / 2), date(2026, 12, 31),
                          options=options, currency="CU")
    opening = dataclasses.replace(opening, as_of=date(2026, 9, 30))
    sec = ecl_section([opening, closing])
    captions = [c for c, _ in sec.tables]
    assert captions == ["Provision matrix at 2026-09-30", "Provision matrix at 2026-12-31",
                        "Movement of the allowance, 2026-09-30 to 2026-12-31"]
    matrix = sec.tables[1][1]
    assert matrix.rows[-1][:2] == ["total", "30,000,000"]
    assert [r[6] for r in matrix.rows] == ["45,000", "120,000", "144,000", "165,000",
                                          "106,000", "580,000"]
    assert sec.tables[2][1].rows[-1] == ["total", "290,000", "580,000", "290,000"]
    text = render_ecl_html([opening, closing])
    assert "580,000" in text
    assert "the given loss rates" in text
