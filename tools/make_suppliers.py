"""Generate a seeded supplier table for the shipped example (``configs/example_suppliers.csv``).

The suppliers are those of the example's fictitious mid-size European industrial company:
its cost of goods (``cogs_share`` 0.72 of about 26.6m of sales a month, so about 19m of
purchases a month) bought from a few strategic suppliers (large monthly purchases, a share of
sales that depends on them, months to replace, a cost premium for the replacement) and a tail
of small, easily replaced ones. Prepayments are asked mostly by suppliers abroad and by the
weaker ones. Sectors are among the example book's, so every supplier loads on one of the
customers' factors; grades are those of ``[book.ratings]``.

Usage::

    python tools/make_suppliers.py --suppliers 25 --seed 20261128 \\
        --out configs/example_suppliers.csv

Importable without side effects: ``make_suppliers(n_suppliers, seed) -> pandas.DataFrame``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["make_suppliers"]

# Supplier sectors of an industrial company (all among the example book's sectors).
_SECTORS = {"chemicals": 0.25, "electronics": 0.2, "machinery": 0.2, "energy": 0.1,
            "transport": 0.15, "automotive": 0.1}
_COUNTRIES = {"DE": 0.45, "PL": 0.12, "IT": 0.1, "CN": 0.15, "FR": 0.08, "NL": 0.1}
_GRADES = ("A", "BBB", "BB", "B", "CCC")
_GRADE_MIX = {"strategic": [0.2, 0.45, 0.3, 0.05, 0.0], "other": [0.05, 0.3, 0.4, 0.2, 0.05]}
_PURCHASES_MONTHLY = 19_000_000.0  # 0.72 × about 26.6m of sales a month
_STRATEGIC_SHARE = 0.2  # fraction of suppliers that are strategic


def make_suppliers(n_suppliers: int, seed: int) -> pd.DataFrame:
    """A supplier table with the columns of :data:`portsim.data.SUPPLIER_COLUMNS` in use.

    Parameters
    ----------
    n_suppliers : int
        Number of suppliers (≥ 1).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    DataFrame, shape (n_suppliers, 10)
    """
    rng = np.random.default_rng(seed)
    n = n_suppliers
    strategic = np.zeros(n, dtype=bool)
    strategic[: max(1, round(n * _STRATEGIC_SHARE))] = True
    sector = rng.choice(list(_SECTORS), size=n, p=list(_SECTORS.values()))
    country = rng.choice(list(_COUNTRIES), size=n, p=list(_COUNTRIES.values()))
    grade = np.where(strategic, rng.choice(_GRADES, size=n, p=_GRADE_MIX["strategic"]),
                     rng.choice(_GRADES, size=n, p=_GRADE_MIX["other"]))
    weight = rng.lognormal(0.0, 0.8, size=n) * np.where(strategic, 5.0, 1.0)
    purchases = np.round(_PURCHASES_MONTHLY * weight / weight.sum(), -2)
    abroad = np.isin(country, ["CN"])
    weak = np.isin(grade, ["B", "CCC"])
    prepay_months = np.where(abroad | weak, rng.uniform(0.2, 1.0, size=n),
                             rng.uniform(0.0, 0.1, size=n))
    prepayment = np.round(purchases * prepay_months, -2)
    replacement = np.where(strategic, rng.integers(3, 7, size=n), rng.integers(1, 3, size=n))
    dependent = np.where(strategic, np.round(rng.uniform(0.05, 0.25, size=n), 3),
                         np.round(rng.uniform(0.0, 0.02, size=n), 3))
    premium = np.round(np.where(strategic, rng.uniform(0.1, 0.3, size=n),
                                rng.uniform(0.02, 0.1, size=n)), 3)
    ids = [f"S{k + 1:03d}" for k in range(n)]
    return pd.DataFrame({
        "supplier_id": ids,
        "name": [f"{s.capitalize()} supplier {c} {k + 1}"
                 for k, (s, c) in enumerate(zip(sector, country, strict=True))],
        "sector": sector, "country": country, "rating": grade,
        "prepayment": prepayment, "monthly_purchases": purchases,
        "replacement_months": replacement, "dependent_sales_share": dependent,
        "replacement_premium": premium,
    })


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=25, help="number of suppliers")
    parser.add_argument("--seed", type=int, default=20261128, help="random seed")
    parser.add_argument("--out", type=Path, default=Path("configs/example_suppliers.csv"),
                        help="output file (.csv)")
    args = parser.parse_args(argv)
    if args.suppliers < 1:
        parser.error("--suppliers must be at least 1")
    frame = make_suppliers(args.suppliers, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(frame)} suppliers, purchases "
          f"EUR {frame['monthly_purchases'].sum():,.0f} a month, prepayments "
          f"EUR {frame['prepayment'].sum():,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
