"""Euler contributions add up, for any small book and model: by customer to the portfolio's
ES and VaR, and by sector and by country to the same totals as by customer.

The ES contributions are those of the cent-rounded customer losses (the kernels keep
per-customer losses in whole cents so that their sums are exact), so they add up to the ES of
the rounded losses, which is within half a cent per defaulter of the ES of the path losses.
Sums of 30 floats agree to a few ulps of the total, hence the relative tolerance 1e-12.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given

import portsim
from properties.strategies import book_columns, model_sections

LEVELS = [0.9, 0.99]
PATHS = 400


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12 * scale)


@given(cols=book_columns(), sections=model_sections())
def test_contributions_add_up_to_var_and_es(cols: dict[str, Any], sections: dict[str, Any],
                                            make_book: Any, make_config: Any) -> None:
    book = make_book(**cols)
    cfg = make_config(base=sections, simulation={"paths": PATHS}, risk={"levels": LEVELS})
    ds = portsim.run(cfg, book)
    loss, n_defaults = ds["loss"].values, ds["n_defaults"].values
    scale = float(np.sum(cols["exposure"]))
    sector = np.asarray(cols["sector"])
    for li, level in enumerate(LEVELS):
        var, es = float(ds["tail_var"][li]), float(ds["tail_es"][li])
        es_sum = float(ds["es_contribution_sum"][li])
        customer_es = ds["es_contribution"].values[li]
        customer_var = ds["var_contribution"].values[li]
        assert _close(customer_es.sum(), es_sum, scale), level
        tail = loss >= var
        assert abs(es_sum - es) <= 0.005 * n_defaults[tail].max() + 1e-12 * scale, level
        assert _close(customer_var.sum(), var, scale), level
        for d in ("sector", "country"):
            assert _close(ds[f"{d}_es_contribution"].values[li].sum(), customer_es.sum(), scale)
            assert _close(ds[f"{d}_var_contribution"].values[li].sum(), var, scale)
        for j, name in enumerate(ds["sector"].values):
            members = customer_es[sector == name]
            assert _close(float(ds["sector_es_contribution"].values[li, j]), members.sum(),
                          scale), name
