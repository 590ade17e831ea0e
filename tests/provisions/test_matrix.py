"""The provision matrix with given rates: the IFRS 9 illustrative example, rate parsing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from portsim.errors import InputError
from portsim.provisions import (
    EclOptions,
    bucket_labels,
    compute_ecl,
    disclosure_table,
    ecl_frame,
    parse_rates,
)

AS_OF = date(2026, 12, 31)


def test_ifrs_illustrative_example_to_the_currency_unit(ifrs, make_book) -> None:
    # IFRS 9 IE Example 12: 30m of receivables, allowance 45,000 + 120,000 + 144,000 +
    # 165,000 + 106,000 = 580,000
    res = compute_ecl(make_book(1, p_default=0.0), ifrs.invoices, AS_OF,
                      options=EclOptions(rates=ifrs.rates, model=False, segment="all"))
    table = disclosure_table(res)
    assert table.index.tolist() == [*bucket_labels(), "total"]
    assert np.array_equal(table["gross_carrying_amount"].to_numpy(), [*ifrs.gross, 30e6])
    assert np.abs(table["lifetime_ecl"].to_numpy() - [*ifrs.ecl, 580_000.0]).max() < 0.5
    rows = ecl_frame(res)
    assert rows["ecl"].round().tolist() == list(ifrs.ecl)
    assert (rows["basis"] == "given").all()
    assert rows["se"].isna().all()


def test_rates_apply_per_segment(ifrs, make_book) -> None:
    # two customers in two sectors: each sector's buckets get the same rates
    book = make_book(sector=["a", "b"], p_default=0.0)
    inv = ifrs.invoices.assign(customer=[0, 1, 0, 1, 0])
    res = compute_ecl(book, inv, AS_OF, options=EclOptions(rates=ifrs.rates, model=False))
    rows = ecl_frame(res).set_index(["segment", "bucket"])
    assert rows.loc[("a", "current"), "ecl"] == pytest.approx(45_000.0)
    assert rows.loc[("b", "current"), "ecl"] == 0.0
    assert rows.loc[("b", "1-30"), "ecl"] == pytest.approx(120_000.0)
    assert rows["ecl"].sum() == pytest.approx(580_000.0)


def test_parse_rates() -> None:
    labels = bucket_labels()
    assert parse_rates("0.003, 0.016,0.036,0.066,0.106", labels).tolist() == [
        0.003, 0.016, 0.036, 0.066, 0.106]
    with pytest.raises(InputError, match="gives 2 rate"):
        parse_rates("0.1,0.2", labels)
    with pytest.raises(InputError, match=r"current=1.6 is outside \[0, 1\]; for 1.6 % write 0.016"):
        parse_rates("1.6,0.016,0.036,0.066,0.106", labels)
    with pytest.raises(InputError, match="1-30='x' is not a number"):
        parse_rates("0.003,x,0.036,0.066,0.106", labels)
