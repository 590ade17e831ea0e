"""The provision matrix: a loss rate per ageing bucket applied to the gross carrying amounts.

The allowance of a segment's bucket is ``gross carrying amount × loss rate`` (IFRS 9 B5.5.35,
the simplified approach's practical expedient). The rates may be given by the user (the
accountant's spreadsheet), estimated from the payment history by roll rates
(:mod:`portsim.provisions.rollrates`) or simulated (:mod:`portsim.provisions.model`).

IFRS 9 Illustrative Example 12 (Company M): gross 15,000,000 / 7,500,000 / 4,000,000 /
2,500,000 / 1,000,000 in the buckets current, 1–30, 31–60, 61–90, over 90 days past due at
0.3 / 1.6 / 3.6 / 6.6 / 10.6 % give an allowance of 45,000 / 120,000 / 144,000 / 165,000 /
106,000 = 580,000.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portsim.errors import InputError, Problem

__all__ = ["allowance", "parse_rates"]


def parse_rates(text: str, labels: Sequence[str]) -> np.ndarray:
    """Loss rates per bucket from ``"0.003,0.016,0.036,0.066,0.106"`` (fractions).

    Parameters
    ----------
    text : str
        One rate per bucket, comma-separated, each in [0, 1].
    labels : sequence of str
        The bucket labels (:func:`portsim.provisions.ageing.bucket_labels`).

    Returns
    -------
    ndarray, shape (n_buckets,)

    Raises
    ------
    InputError
        For a count other than one per bucket, a non-number or a rate outside [0, 1].
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    where = "command line --rates"
    if len(parts) != len(labels):
        raise InputError([Problem("command line", f"--rates={text!r}",
                                  f"gives {len(parts)} rate(s)",
                                  f"give one per bucket ({', '.join(labels)})")])
    problems = []
    rates = np.empty(len(parts))
    for k, (part, label) in enumerate(zip(parts, labels, strict=True)):
        try:
            rates[k] = float(part)
        except ValueError:
            problems.append(Problem(where, f"{label}={part!r}", "is not a number",
                                    "write a fraction, e.g. 0.016 for 1.6 %"))
            continue
        if not 0.0 <= rates[k] <= 1.0:
            problems.append(Problem(where, f"{label}={part}", "is outside [0, 1]",
                                    f"for {part} % write {rates[k] / 100:g}"
                                    if 1.0 < rates[k] <= 100.0 else "give a fraction"))
    if problems:
        raise InputError(problems)
    return rates


def allowance(gross: pd.DataFrame, rates: np.ndarray) -> pd.DataFrame:
    """The loss allowance of every segment and bucket, book currency.

    Parameters
    ----------
    gross : DataFrame, shape (n_segments, n_buckets)
        Gross carrying amounts (:func:`portsim.provisions.ageing.ageing_table`).
    rates : ndarray, shape (n_buckets,) or (n_segments, n_buckets)
        Loss rates, fractions.

    Returns
    -------
    DataFrame, shape (n_segments, n_buckets) — ``gross × rates``.
    """
    return gross * np.broadcast_to(np.asarray(rates, dtype=float), gross.shape)
