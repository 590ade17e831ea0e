"""Fixtures of the provisions tests: the IFRS 9 illustrative provision matrix."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import pytest


class IfrsExample(NamedTuple):
    """IFRS 9 Illustrative Example 12 (Company M): gross carrying amount, loss rate and
    lifetime ECL allowance per bucket (current, 1-30, 31-60, 61-90, over 90 days past due),
    and the receivables as one invoice per bucket of customer C000 at 2026-12-31."""

    gross: tuple[float, ...]
    rates: tuple[float, ...]
    ecl: tuple[float, ...]
    invoices: pd.DataFrame


#: Due dates 15 days ahead and 15, 46, 77 and 152 days past due at 2026-12-31.
_DUE = ("2027-01-15", "2026-12-16", "2026-11-15", "2026-10-15", "2026-08-01")
_GROSS = (15_000_000.0, 7_500_000.0, 4_000_000.0, 2_500_000.0, 1_000_000.0)


@pytest.fixture
def ifrs() -> IfrsExample:
    """The IFRS 9 provision-matrix example (see :class:`IfrsExample`)."""
    invoices = pd.DataFrame({
        "invoice_id": [f"M{k}" for k in range(5)],
        "customer_id": "C000",
        "customer": 0,
        "amount": _GROSS,
        "issue_date": pd.Timestamp("2026-06-01"),
        "due_date": pd.to_datetime(list(_DUE)),
    })
    return IfrsExample(_GROSS, (0.003, 0.016, 0.036, 0.066, 0.106),
                       (45_000.0, 120_000.0, 144_000.0, 165_000.0, 106_000.0), invoices)
