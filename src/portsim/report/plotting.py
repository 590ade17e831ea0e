"""What every figure of a run shares: money and label formatting, the Axes to draw on, the
run's risk levels, and what a run holds (cash, insurance, scenarios; its baseline; customer
labels). Nothing is saved or shown here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import xarray as xr

from portsim.results.schema import SCENARIO_DIM

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter

__all__ = [
    "PALETTE",
    "Palette",
    "axes",
    "baseline",
    "customer_labels",
    "default_level",
    "format_money",
    "has_cash",
    "has_insurance",
    "has_scenarios",
    "is_money",
    "label",
    "money_formatter",
    "risk_levels",
    "tex_safe",
]

class Palette(NamedTuple):
    """The colours of the figures."""

    blue: str
    orange: str
    red: str
    green: str
    grey: str
    purple: str


#: The colours of the figures.
PALETTE = Palette("#1f4e79", "#e07b00", "#b22222", "#2e7d32", "#6b6b6b", "#6a3d9a")


# ----------------------------------------------------------------------- formatting helpers

def format_money(x: float | None, digits: int = 3) -> str:
    """Compact money text: ``1.82m``, ``430k``, ``2.1bn``, ``950``; ``""`` for None/NaN."""
    if x is None or not math.isfinite(x):
        return ""
    ax = abs(x)
    for scale, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if ax >= scale:
            return f"{x / scale:.{digits}g}{suffix}"
    if ax == 0:
        return "0"
    return f"{x:.{digits}g}"


def money_formatter(digits: int = 3) -> FuncFormatter:
    """A tick formatter writing money as k / m / bn (``FuncFormatter``)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: format_money(float(x), digits))


def tex_safe(text: str) -> str:
    """Text as matplotlib shows it literally (``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def label(da: xr.DataArray, fallback: str = "") -> str:
    """Axis label from ``long_name`` and ``units``: ``"credit loss over the horizon (EUR)"``.

    Units ``"1"`` (dimensionless) and ``""`` are not shown.
    """
    name = str(da.attrs.get("long_name") or fallback or da.name or "")
    units = str(da.attrs.get("units", ""))
    text = f"{name} ({units})" if units not in ("", "1") else name
    return tex_safe(text[:1].upper() + text[1:])


def is_money(ds: xr.Dataset, da: xr.DataArray) -> bool:
    """``da`` is money: its units are the run's currency."""
    cur = ds.attrs.get("currency")
    return bool(cur) and da.attrs.get("units") == cur


def axes(ax: Axes | None) -> Axes:
    """``ax``, or the Axes of a new figure when it is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(layout="constrained")
    return new


def risk_levels(ds: xr.Dataset, levels: Sequence[float] | None = None) -> list[float]:
    """``levels``, else the run's ``risk_levels`` attribute, else ``[0.99]``."""
    if levels is not None:
        return [float(q) for q in levels]
    attr = ds.attrs.get("risk_levels")
    if attr is None:
        return [0.99]
    return [float(q) for q in np.atleast_1d(attr)]


def default_level(ds: xr.Dataset) -> float:
    """The single level of comparison figures: 0.99 when the run has it, else its highest."""
    levels = risk_levels(ds)
    return 0.99 if any(math.isclose(q, 0.99) for q in levels) else max(levels)


# --------------------------------------------------------------------- what a run holds

def has_scenarios(ds: xr.Dataset) -> bool:
    """The Dataset compares scenarios (its ``loss`` has a ``scenario`` dimension)."""
    return "loss" in ds and SCENARIO_DIM in ds["loss"].dims


def baseline(ds: xr.Dataset) -> xr.Dataset:
    """The baseline scenario of a Dataset with a ``scenario`` dimension (else ``ds``)."""
    if SCENARIO_DIM not in ds.dims:
        return ds
    names = [str(s) for s in ds[SCENARIO_DIM].values]
    return ds.isel({SCENARIO_DIM: names.index("baseline") if "baseline" in names else 0})


def has_cash(ds: xr.Dataset) -> bool:
    """The run has a payment timeline (cash, DSO and working-capital variables)."""
    return all(v in ds for v in ("cash_band", "dso_avg", "peak_wcr"))


def has_insurance(ds: xr.Dataset) -> bool:
    """The run evaluated credit-insurance variants (it has a ``retained_loss``)."""
    return "retained_loss" in ds


def customer_labels(ds: xr.Dataset) -> np.ndarray:
    """Display label per customer: ``customer_name`` when the Dataset has it, else the id.

    Untrusted text: escape it for the medium it goes to.
    """
    ids = np.asarray(ds["customer"].values).astype(str)
    if "customer_name" not in ds:
        return ids
    names = np.asarray(ds["customer_name"].values).astype(str)
    return np.where((names == "") | (names == ids), ids, names)
