"""The one builder of a run's :class:`xarray.Dataset`.

:func:`build_dataset` turns the engine's output and the kernel inputs into the Dataset of
``results.nc``: per-path outputs, per-customer sums and static customer data (ids, names,
countries, sectors), the timeline and insurance variables when the run has them, the exact
per-customer moments of an importance-sampling run, and the tail contributions and
concentration figures when they were computed. Every variable's dims, ``units`` and
``long_name`` come from :mod:`portsim.results.schema`; nothing else writes to the Dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from portsim.results.estimators import weighted_quantile
from portsim.results.schema import (
    ACTION_SCALARS,
    EXACT_LONG_NAMES,
    FLOWS,
    POLICY_SCALARS,
    SERIES,
    SUPPLIER_FLOWS,
    SUPPLIER_SCALARS,
    TIMELINE_SCALARS,
    VARIABLES,
    attrs,
)

__all__ = ["BAND_QUANTILES", "build_dataset", "is_weighted"]

#: Quantiles across paths of the per-period series bands (``cash_band``, ``receivables_band``).
BAND_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def is_weighted(log_weight: np.ndarray | None) -> bool:
    """The paths carry likelihood-ratio weights (an importance-sampling run)."""
    return log_weight is not None and bool(np.any(log_weight != 0.0))


def build_dataset(
    out: Any,
    inputs: Any,
    *,
    currency: str,
    provenance: dict[str, Any],
    customer_names: Sequence[str] | np.ndarray,
    customer_countries: Sequence[str] | np.ndarray,
    exact_moments: tuple[np.ndarray, np.ndarray | None] | None = None,
    contributions: Sequence[Any] = (),
    concentration: dict[str, Any] | None = None,
) -> xr.Dataset:
    """The run's Dataset.

    Parameters
    ----------
    out : portsim.engine.gather.SimOutput
        The simulation's per-path outputs and per-customer sums.
    inputs : portsim.inputs.model.ModelInputs
    currency : str
        Book currency, used as the ``units`` of money.
    provenance : dict
        Stored as attributes (portsim version, seed, config hash, paths, timings, …).
    customer_names, customer_countries : sequence of str, length n_customers
        The book's names and countries, in the order of ``inputs.customer_ids``.
    exact_moments : (ndarray, ndarray or None), optional
        Exact probability of default within the horizon and expected loss (book currency)
        per customer, shape (n_customers,) each: replace the Monte Carlo sums of an
        importance-sampling run (taken under the shifted measure). The expected loss is None
        for a timeline run, whose per-customer loss sums are already weighted by the
        likelihood ratios (:func:`portsim.engine.chunk.path_weights`).
    contributions : sequence of portsim.engine.attribution.Contributions
        One per risk level: the Euler contributions (dims ``level`` and customer, sector,
        country), when computed.
    concentration : dict, optional
        :func:`portsim.engine.attribution.concentration` of the book (stored with the
        contributions).

    Returns
    -------
    xarray.Dataset
        Dims ``path``, ``sector``, ``customer`` (and ``period``, ``policy``, ``level``, …).
    """
    n = out.n_paths

    def var(name: str, values: Any, **fields: Any) -> tuple[tuple[str, ...], Any, dict]:
        return VARIABLES[name].dims, values, attrs(name, currency, **fields)

    ds = xr.Dataset(
        {
            "loss": var("loss", out.loss),
            "n_defaults": var("n_defaults", out.n_defaults),
            "sector_loss": var("sector_loss", out.sector_loss),
            "sector_n_defaults": var("sector_n_defaults", out.sector_n_defaults),
            "customer_expected_loss": var("customer_expected_loss",
                                          out.customer_loss_sum / 100.0 / n),
            "customer_default_rate": var("customer_default_rate",
                                         out.customer_n_defaults_sum / n),
            "exposure": var("exposure", inputs.exposure),
            "p_default": var("p_default", inputs.p_default),
            "p_horizon": var("p_horizon", inputs.p_horizon),
            "asset_correlation": var("asset_correlation", inputs.asset_correlation),
            "lgd": var("lgd", inputs.lgd_mean),
            "customer_sector": var("customer_sector", np.asarray(
                inputs.sector_names, dtype=object)[inputs.sector].astype(str)),
            "customer_name": var("customer_name", np.asarray(customer_names).astype(str)),
            "customer_country": var("customer_country",
                                    np.asarray(customer_countries).astype(str)),
        },
        coords={
            "path": var("path", np.arange(n)),
            "sector": var("sector", list(inputs.sector_names)),
            "customer": var("customer", list(inputs.customer_ids)),
        },
        attrs={"currency": currency, **{k: _attr_value(v) for k, v in provenance.items()}},
    )
    if exact_moments is not None:
        p_def, el = exact_moments
        for name, values in (("customer_expected_loss", el), ("customer_default_rate", p_def)):
            if values is None:  # a timeline run: the likelihood-ratio weighted sums
                continue
            ds[name] = ("customer", values, {**attrs(name, currency),
                                             "long_name": EXACT_LONG_NAMES[name]})
    lw = getattr(out, "log_weight", None)
    if is_weighted(lw):  # importance sampling: weights are part of it
        ds["log_weight"] = var("log_weight", lw)
    tl = getattr(inputs, "timeline", None)
    if tl is not None and out.timeline_scalars is not None:
        _add_timeline(ds, out, tl, currency)
    sup = getattr(inputs, "suppliers", None)
    if sup is not None and getattr(out, "supplier_scalars", None) is not None:
        _add_suppliers(ds, out, sup, currency)
    pol = getattr(inputs, "insurance", None)
    if pol is not None and getattr(out, "policy_scalars", None) is not None:
        _add_insurance(ds, out, pol, currency)
    if contributions:
        _add_contributions(ds, contributions, currency)
        if concentration is not None:
            _add_concentration(ds, concentration, currency)
    return ds


def _add_insurance(ds: xr.Dataset, out: Any, pol: Any, currency: str) -> None:
    """The ``policy`` dimension: per-path claims and cash by variant, terms, expected flows."""
    n = out.n_paths
    ds.coords["policy"] = ("policy", list(pol.names), attrs("policy", currency))
    for j, name in enumerate(POLICY_SCALARS):
        col = out.policy_scalars[:, :, j]
        if name == "n_claims":
            col = col.astype(np.int64)
        elif name in ("policy_buffer_breach", "policy_line_breach"):
            col = col.astype(bool)
        ds[name] = (VARIABLES[name].dims, col, attrs(name, currency))
    ds["retained_loss"] = (VARIABLES["retained_loss"].dims,
                           out.loss[:, None] - ds["indemnity"].values,
                           attrs("retained_loss", currency))
    for name, values in (
        ("premium", pol.premium_earned), ("premium_paid", pol.premium_paid),
        ("annual_premium", pol.annual_premium), ("insured_turnover", pol.insured_turnover),
        ("first_loss", pol.first_loss), ("max_liability", pol.max_liability),
        ("non_qualifying_loss", pol.non_qualifying_loss),
        ("settlement_lag_days", pol.settlement_lag),
        ("first_loss_before_cover", np.asarray(pol.before_cover, dtype=bool)),
        ("cover_limit", pol.cover_limit), ("insured_percentage", pol.insured_pct),
        ("customer_expected_indemnity", out.policy_customer_indemnity / 100.0 / n),
        ("customer_expected_qualifying_loss", out.policy_customer_qualifying / 100.0 / n),
    ):
        ds[name] = (VARIABLES[name].dims, np.asarray(values), attrs(name, currency))
    ds["cover_type"] = (VARIABLES["cover_type"].dims,
                        np.asarray(pol.cover_types, dtype=object)[pol.cover_type].astype(str),
                        attrs("cover_type", currency, cover_types=", ".join(pol.cover_types)))
    if "period" in ds.coords:
        for name, values in (("premium_cash", pol.premium_cash),
                             ("expected_indemnity_cash", out.policy_flow_sum / n)):
            ds[name] = (VARIABLES[name].dims, values, attrs(name, currency))


def _add_timeline(ds: xr.Dataset, out: Any, tl: Any, currency: str) -> None:
    """The ``period`` dimension: per-path cash scalars, expected flows, series and bands
    (quantiles weighted by the likelihood ratios of an importance-sampling run)."""
    ds.coords["period"] = ("period", list(tl.period_label), attrs("period", currency))
    ds.coords["period_end_day"] = ("period", tl.period_end_day,
                                   attrs("period_end_day", currency))
    for j, name in enumerate(TIMELINE_SCALARS):
        col = out.timeline_scalars[:, j]
        if name in ("n_protracted", "first_breach_period"):
            col = col.astype(np.int64)
        elif name in ("buffer_breach", "line_breach"):
            col = col.astype(bool)
        ds[name] = ("path", col, attrs(name, currency))
    _add_flows(ds, FLOWS, out.flow_sum, out.flow_sumsq, out.n_paths, currency)
    ds.coords["sample_path"] = ("sample_path", out.series_paths,
                                attrs("sample_path", currency))
    lw = getattr(out, "log_weight", None)
    w = np.exp(lw[out.series_paths]) if lw is not None and is_weighted(lw) else None
    for j, name in enumerate(SERIES):
        ds[f"{name}_series"] = (("sample_path", "period"), out.series[j],
                                attrs(f"{name}_series", currency))
        values = out.series[j].astype(float)
        band = (np.quantile(values, BAND_QUANTILES, axis=0) if w is None else np.array(
            [[weighted_quantile(values[:, t], w, q) for t in range(values.shape[1])]
             for q in BAND_QUANTILES]).reshape(len(BAND_QUANTILES), values.shape[1]))
        ds[f"{name}_band"] = (("band", "period"), band, attrs(f"{name}_band", currency))
    ds.coords["band"] = ("band", list(BAND_QUANTILES), attrs("band", currency))
    if tl.actions.managed:
        ds.attrs["credit_management"] = "actions" if tl.actions.monitored else "limits"
    if out.action_scalars is not None:
        for j, name in enumerate(ACTION_SCALARS):
            col = out.action_scalars[:, j]
            if name.startswith("n_"):
                col = col.astype(np.int64)
            ds[name] = ("path", col, attrs(name, currency))
        ds.coords["alert_level"] = ("alert_level", list(tl.actions.level_names),
                                    attrs("alert_level", currency))
        ds["customers_at_level"] = (("alert_level", "period"), out.level_count / out.n_paths,
                                    attrs("customers_at_level", currency))
    ds.attrs["series_stride"] = int(out.timings.get("series_stride", 1))
    ds.attrs["series_dtype"] = "float32"
    ds.attrs["as_of"] = str(tl.as_of)
    ds.attrs["opening_cash"] = tl.opening_cash
    ds.attrs["credit_line"] = tl.credit_line
    ds.attrs["min_cash_buffer"] = tl.min_cash_buffer


def _add_flows(ds: xr.Dataset, names: Sequence[str], flow_sum: np.ndarray,
               flow_sumsq: np.ndarray, n: int, currency: str) -> None:
    """``expected_NAME`` and its standard error per period from the sums (and sums of
    squares) over ``n`` paths of each flow, shape (len(names), P)."""
    for j, name in enumerate(names):
        mean = flow_sum[j] / n
        var = np.maximum(flow_sumsq[j] / n - mean**2, 0.0) * n / max(n - 1, 1)
        ds[f"expected_{name}"] = ("period", mean, attrs(f"expected_{name}", currency))
        ds[f"expected_{name}_se"] = ("period", np.sqrt(var / n),
                                     attrs(f"expected_{name}_se", currency))


def _add_suppliers(ds: xr.Dataset, out: Any, sup: Any, currency: str) -> None:
    """The ``supplier`` dimension: per-path supplier losses, costs and lost sales, their
    expected flows per period, and each supplier's PDs and default rate."""
    n = out.n_paths
    ds.coords["supplier"] = ("supplier", list(sup.supplier_ids), attrs("supplier", currency))
    for j, name in enumerate(SUPPLIER_SCALARS):
        col = out.supplier_scalars[:, j]
        ds[name] = ("path", col.astype(np.int64) if name == "supplier_n_defaults" else col,
                    attrs(name, currency))
    for name, values in (("supplier_sector", np.asarray(sup.sector, dtype=str)),
                         ("supplier_p_default", sup.p_default),
                         ("supplier_p_horizon", sup.p_horizon),
                         ("supplier_default_rate", out.supplier_n_defaults_sum / n),
                         ("supplier_prepayment", sup.prepayment)):
        ds[name] = ("supplier", values, attrs(name, currency))
    _add_flows(ds, SUPPLIER_FLOWS, out.supplier_flow_sum, out.supplier_flow_sumsq, n, currency)


def _add_contributions(ds: xr.Dataset, contributions: Sequence[Any], currency: str) -> None:
    """The ``level`` dimension: Euler contributions to VaR and ES by customer, sector and
    country (see :mod:`portsim.engine.attribution`)."""
    ds.coords["level"] = ("level", [c.level for c in contributions], attrs("level", currency))
    for name, field in (("tail_var", "var"), ("tail_es", "es"),
                        ("es_contribution_sum", "es_sum"),
                        ("var_contribution_bandwidth", "bandwidth"),
                        ("n_tail_paths", "n_tail_paths")):
        ds[name] = ("level", np.array([getattr(c, field) for c in contributions]),
                    attrs(name, currency))
    for d, tab in contributions[0].by.items():
        pre = "" if d == "customer" else f"{d}_"
        if d not in ds.coords:
            ds.coords[d] = (d, list(tab.names), attrs(d, currency))
        for key in ("es", "var"):
            for suffix in ("", "_se"):
                name = f"{pre}{key}_contribution{suffix}"
                ds[name] = (("level", d),
                            np.stack([getattr(c.by[d], f"{key}{suffix}") for c in contributions]),
                            attrs(name, currency))


def _add_concentration(ds: xr.Dataset, conc: dict[str, Any], currency: str) -> None:
    """Herfindahl index, granularity adjustment and top-N exposure shares (scalars, ``top_n``)."""
    ds["exposure_herfindahl"] = ((), conc["herfindahl"], attrs("exposure_herfindahl", currency))
    ga = conc["granularity_adjustment"]
    ds["granularity_adjustment"] = ((), ga["value"], {
        **attrs("granularity_adjustment", currency, method=ga["method"]),
        "fraction_of_exposure": ga["fraction"], "delta": ga["delta"]})
    ds.coords["top_n"] = ("top_n", [int(k) for k in conc["top_share"]],
                          attrs("top_n", currency))
    ds["top_exposure_share"] = ("top_n", np.array(list(conc["top_share"].values())),
                                attrs("top_exposure_share", currency))


def _attr_value(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float | str | np.integer | np.floating):
        return v
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "if":
        return v
    return str(v)
