"""A higher PD multiplier never lowers a path's defaults, with common random numbers.

Why it holds (``portsim.kernels.defaults``): with the same seed every customer on every path
gets the same draws whatever the PDs; a customer defaults when its draw is below a threshold
that rises with its PD (``Φ⁻¹(PD)``, or ``ceil(p·2⁵³)`` in the grouped kernel), so the set of
defaulters on a path only grows. With fixed LGDs the path loss is a sum of non-negative terms
over that set, in customer order, so it only grows too, in floating point as well (rounding
is monotone). Where it does not hold, and is therefore not asserted:

* with Beta LGDs the LGD stream is consumed one draw per default, in customer order, so a new
  defaulter shifts the LGDs of those after it: the loss may fall on a path (the default
  counts still rise, as asserted);
* the ``skip`` kernel draws the gap to the next defaulter, so the draws themselves depend on
  the PDs;
* with a timeline, a higher PD also brings each defaulter's default day forward; an earlier
  default stops the sales after it, so the amount *written off* may fall. What only moves one
  way is asserted instead: collections and receivables still open at the horizon fall,
  invoicing falls, and written off + not invoiced rises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import portsim
from portsim.config import RunConfig, ScenarioConfig
from properties.strategies import book_columns, model_sections, timeline_sections

PATHS = 300
MULTIPLIER = st.sampled_from([0.0, 0.5, 1.0, 1.3, 4.0])
RAISE = st.sampled_from([1.0, 1.01, 2.0, 50.0])  # ≥ 1: how much higher the second run is


def _pd_pair(data: st.DataObject, cols: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two ``pd_multiplier`` tables, the second ≥ the first for every customer: a global
    multiplier and multipliers for some of the book's sectors and countries, each raised."""
    low: dict[str, Any] = {"global": data.draw(MULTIPLIER)}
    high: dict[str, Any] = {"global": low["global"] * data.draw(RAISE)}
    for part in ("sector", "country"):
        names = data.draw(st.sets(st.sampled_from(sorted(set(cols[part])))))
        low[part] = {k: data.draw(MULTIPLIER) for k in sorted(names)}
        high[part] = {k: v * data.draw(RAISE) for k, v in low[part].items()}
    return low, high


def _runs(data: st.DataObject, cols: dict[str, Any], base: dict[str, Any], make_book: Any,
          make_config: Any) -> tuple[xr.Dataset, xr.Dataset]:
    """The book of ``cols`` run twice on the same seed: PDs as drawn, then raised."""
    low, high = _pd_pair(data, cols)
    cfg: RunConfig = make_config(base=base, simulation={"paths": PATHS})
    book = make_book(**cols)
    return tuple(  # type: ignore[return-value]
        portsim.run(cfg.model_copy(update={"scenario": ScenarioConfig.model_validate(
            {"name": "pd", "pd_multiplier": m})}), book, contributions=False)
        for m in (low, high))


@given(cols=book_columns(beta_lgd=False), sections=model_sections(
    kernels=("grouped", "per_customer")), data=st.data())
def test_fixed_lgd_losses_rise_on_every_path(cols: dict[str, Any], sections: dict[str, Any],
                                             data: st.DataObject, make_book: Any,
                                             make_config: Any) -> None:
    lo, hi = _runs(data, cols, sections, make_book, make_config)
    assert np.all(hi["n_defaults"].values >= lo["n_defaults"].values)
    assert np.all(hi["loss"].values >= lo["loss"].values)
    assert np.all(hi["sector_loss"].values >= lo["sector_loss"].values)
    assert np.all(hi["customer_default_rate"].values >= lo["customer_default_rate"].values)


@given(cols=book_columns(beta_lgd=True), sections=model_sections(
    kernels=("grouped", "per_customer")), data=st.data())
def test_beta_lgd_default_counts_rise_on_every_path(cols: dict[str, Any],
                                                    sections: dict[str, Any],
                                                    data: st.DataObject, make_book: Any,
                                                    make_config: Any) -> None:
    lo, hi = _runs(data, cols, sections, make_book, make_config)
    assert np.all(hi["n_defaults"].values >= lo["n_defaults"].values)
    assert np.all(hi["sector_n_defaults"].values >= lo["sector_n_defaults"].values)


@given(cols=book_columns(trade=True), sections=model_sections(
    kernels=("grouped", "per_customer")), timeline=timeline_sections(), data=st.data())
def test_timeline_collections_fall_on_every_path(cols: dict[str, Any], sections: dict[str, Any],
                                                 timeline: dict[str, Any], data: st.DataObject,
                                                 make_book: Any, make_config: Any) -> None:
    lo, hi = _runs(data, cols, {**sections, **timeline}, make_book, make_config)
    assert np.all(hi["n_defaults"].values >= lo["n_defaults"].values)
    for name in ("collected", "still_open", "invoiced"):
        assert np.all(hi[name].values <= lo[name].values), name
    # written off + not invoiced = opening receivables − collected − still open (the
    # accounting identity), so it rises; a difference of sums: rounding of the sums' size
    lost = [ds["written_off"].values - ds["invoiced"].values for ds in (lo, hi)]
    scale = 1e-12 * (lo["invoiced"].values + lo["written_off"].values + 1.0)
    assert np.all(lost[1] >= lost[0] - scale)
