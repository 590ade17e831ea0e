"""The loss-allowance section (IFRS 9 provision matrix) and its one-page HTML report.

:func:`ecl_section` turns the results of :func:`portsim.provisions.run_ecl` into a report
section: the provision matrix by bucket at each as-of date (gross carrying amount, given,
historical and model loss rates, the allowance with its standard error), the expected
insurance recoveries, and with two dates the movement of the allowance.
:func:`render_ecl_html` is that section as a self-contained page (``portsim ecl`` writes it
as ``report.html``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from portsim.provisions import EclResult, disclosure_table, movement_table
from portsim.report.html import page
from portsim.report.sections import Section
from portsim.report.tables import Table, num, pct

__all__ = ["ecl_section", "render_ecl_html"]

_BASIS = {"given": "the given loss rates", "model": "the simulated (model) expected loss",
          "historical": "the historical roll-rate loss rates"}


def _rate(values: np.ndarray | None, k: int) -> str:
    return "" if values is None else pct(float(values[k]), 3)


def _matrix(result: EclResult) -> Table:
    """The provision matrix by bucket of one as-of date, with the total."""
    disc = disclosure_table(result)
    hist = None if result.historical is None else result.historical["loss_rate"].to_numpy()
    model = None
    if result.model is not None:
        gross = result.gross.sum(axis=0).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            model = np.where(gross > 0, result.model.ecl.sum(axis=0).to_numpy() / gross, np.nan)
    se = disc["model_se"] if result.basis == "model" else None
    rows = []
    for k, (bucket, row) in enumerate(disc.iterrows()):
        last = bucket == "total"
        rows.append([
            str(bucket), num(row["gross_carrying_amount"], 0),
            "" if last else _rate(result.given_rates, k),
            "" if last else _rate(hist, k),
            "" if last else _rate(model, k),
            pct(row["loss_rate"], 3), num(row["lifetime_ecl"], 0),
            "" if se is None else num(se[bucket], 0),
        ])
    header = ["bucket", f"gross ({result.currency})", "given rate", "historical rate",
              "model rate", "loss rate", f"lifetime ECL ({result.currency})", "± s.e."]
    return Table(header, rows, numeric=set(range(1, 8)))


def ecl_section(results: Sequence[EclResult]) -> Section:
    """The loss-allowance section of one or two as-of dates (in date order)."""
    last = results[-1]
    sec = Section("ecl", "Loss allowance (IFRS 9 expected credit loss)")
    sec.text.append(
        "Lifetime expected credit loss of the open trade receivables by days past due "
        f"(simplified approach, IFRS 9 5.5.15; provision matrix, B5.5.35). The allowance is "
        f"measured with {_BASIS[last.basis]}; gross carrying amounts by bucket and the "
        "allowance are the IFRS 7.35N disclosure.")
    for r in results:
        sec.tables.append((f"Provision matrix at {r.as_of.isoformat()}", _matrix(r)))
    if last.model is not None and not last.model.insurance.empty:
        sec.text.append("The model's expected loss is gross of credit insurance; the expected "
                        "indemnity of each policy on the open invoices is shown on its own.")
        ins = Table(["policy", f"expected recovery ({last.currency})", "± s.e."],
                    [[str(p), num(v, 0), num(s, 0)] for p, v, s in
                     last.model.insurance.itertuples(index=False)], numeric={1, 2})
        sec.tables.append((f"Expected insurance recovery at {last.as_of.isoformat()}", ins))
    if len(results) == 2:
        move = movement_table(results[0], results[1])
        rows = [[str(b), num(r["opening"], 0), num(r["closing"], 0), num(r["change"], 0)]
                for b, r in move.iterrows()]
        sec.tables.append((
            f"Movement of the allowance, {results[0].as_of.isoformat()} to "
            f"{results[1].as_of.isoformat()}",
            Table(["bucket", "opening", "closing", "change"], rows, numeric={1, 2, 3})))
    return sec


def render_ecl_html(results: Sequence[EclResult]) -> str:
    """The loss-allowance section as one self-contained HTML page."""
    dates = " and ".join(r.as_of.isoformat() for r in results)
    return page("Loss allowance of trade receivables", f"as of {dates}",
                [ecl_section(results)])
