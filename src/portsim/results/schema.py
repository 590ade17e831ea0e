"""The results vocabulary: every variable of a run's Dataset, with its dims, units and
long name, and the names of the engine's per-path outputs in column order.

:data:`VARIABLES` maps a variable (or coordinate) name to a :class:`Var`. Units are templates:
``"{cur}"`` is the book's currency; a few long names take further fields (``{dim}``,
``{cover_types}``, ``{method}``) that :func:`attrs` fills in. The Dataset builder
(:mod:`portsim.results.dataset`) takes every ``units`` and ``long_name`` from here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "ACTION_SCALARS",
    "COMPARISON_COORDS",
    "CONTRIBUTION_DIMS",
    "EXACT_LONG_NAMES",
    "FLOWS",
    "NO_COVER",
    "PATH_SCALARS",
    "POLICY_CASH_SCALARS",
    "POLICY_DIM",
    "POLICY_SCALARS",
    "SCENARIO_DIM",
    "SERIES",
    "SUPPLIER_FLOWS",
    "SUPPLIER_SCALARS",
    "TIMELINE_SCALARS",
    "VARIABLES",
    "Var",
    "attrs",
]

#: Per-path cash scalars returned by :func:`cash_paths`.
PATH_SCALARS = (
    "min_cash", "peak_line_usage", "cash_gap", "first_breach_period", "buffer_breach",
    "line_breach", "dso_avg", "dso_end", "peak_wcr", "net_cash_flow",
)
#: Per-path scalars of a timeline run (the engine's ``timeline_scalars`` columns).
TIMELINE_SCALARS = (
    "invoiced", "collected", "written_off", "recovered", "recovery_pending", "still_open",
    "n_protracted", "protracted_amount", "lost_sales", "lost_margin", *PATH_SCALARS,
)
#: Per-path outputs of credit management, kept when ``[actions]`` is simulated.
ACTION_SCALARS = (
    "late_interest", "collection_cost", "n_alerts", "n_true_alerts", "n_false_alerts",
    "lead_time_days",
)
#: Period flows whose sums (and sums of squares) over paths are kept.
FLOWS = ("invoiced", "collected", "written_off", "recovered", "protracted", "supplier_payments")
#: Per-path scalars of a run with suppliers (the engine's ``supplier_scalars`` columns).
SUPPLIER_SCALARS = (
    "supplier_loss", "supplier_n_defaults", "supplier_premium_cost", "supplier_lost_sales",
    "supplier_lost_margin",
)
#: Period flows of supplier failures whose sums (and sums of squares) over paths are kept.
SUPPLIER_FLOWS = ("supplier_premium_paid", "supplier_lost_sales", "supplier_lost_collections",
                  "supplier_saved_purchases")
#: Series kept per path and period (float32) for fan charts.
SERIES = ("cash", "receivables")

#: Per-path cash scalars of each policy variant (cash with premiums and insurer cash flows).
POLICY_CASH_SCALARS = (
    "policy_min_cash", "policy_peak_line_usage", "policy_cash_gap", "policy_buffer_breach",
    "policy_line_breach", "policy_net_cash_flow",
)
#: Per-path, per-policy outputs of an insured run (the engine's ``policy_scalars`` columns).
POLICY_SCALARS = (
    "qualifying_loss", "indemnity_before_recoveries", "insurer_recovery_share", "indemnity",
    "indemnity_cash", "insurer_settlement_pending", "n_claims", *POLICY_CASH_SCALARS,
)

#: The dimension of credit-insurance variants, and the variant without cover (always first).
POLICY_DIM = "policy"
NO_COVER = "none"
#: The dimension of a scenario batch.
SCENARIO_DIM = "scenario"
#: Dimensions the tail contributions are given by (customer, sector, country).
CONTRIBUTION_DIMS = ("customer", "sector", "country")


class Var(NamedTuple):
    """One variable of the results Dataset."""

    dims: tuple[str, ...]
    units: str  # "{cur}": the book's currency; "1": dimensionless; "": text
    long_name: str


_C = "{cur}"
_PATH, _CUST, _POL = ("path",), ("customer",), ("policy",)
_PP = ("path", "policy")

VARIABLES: dict[str, Var] = {
    # coordinates
    "path": Var(_PATH, "1", "Monte Carlo path"),
    "sector": Var(("sector",), "", "sector"),
    "customer": Var(_CUST, "", "customer id"),
    "country": Var(("country",), "", "country"),
    "period": Var(("period",), "", "reporting period (last day)"),
    "period_end_day": Var(("period",), "days", "days from the as-of date to the period end"),
    "sample_path": Var(("sample_path",), "1", "paths kept for per-period series"),
    "band": Var(("band",), "1", "quantile across paths"),
    "policy": Var(_POL, "", "credit-insurance policy variant ('none': no cover)"),
    "level": Var(("level",), "1", "risk level q"),
    "alert_level": Var(("alert_level",), "", "alert level of credit management ([actions])"),
    "top_n": Var(("top_n",), "1", "number of largest exposures"),
    # losses per path
    "loss": Var(_PATH, _C, "credit loss over the horizon"),
    "n_defaults": Var(_PATH, "1", "number of defaulted customers"),
    "sector_loss": Var(("path", "sector"), _C, "credit loss by sector"),
    "sector_n_defaults": Var(("path", "sector"), "1", "number of defaulted customers by sector"),
    "log_weight": Var(_PATH, "1", "log likelihood ratio of the path (importance sampling): "
                      "weight every per-path value by exp(log_weight)"),
    # customers
    "customer_expected_loss": Var(_CUST, _C, "expected loss by customer (Monte Carlo)"),
    "customer_default_rate": Var(_CUST, "1", "fraction of paths in which the customer defaults"),
    "exposure": Var(_CUST, _C, "open receivable"),
    "p_default": Var(_CUST, "1", "1-year probability of default"),
    "p_horizon": Var(_CUST, "1", "probability of default within the horizon"),
    "asset_correlation": Var(_CUST, "1", "asset correlation R"),
    "lgd": Var(_CUST, "1", "mean loss given default"),
    "customer_sector": Var(_CUST, "", "sector of the customer"),
    "customer_name": Var(_CUST, "", "customer name"),
    "customer_country": Var(_CUST, "", "country of the customer"),
    # timeline: per-path scalars
    "invoiced": Var(_PATH, _C, "forward sales invoiced over the horizon"),
    "collected": Var(_PATH, _C, "collections over the horizon"),
    "written_off": Var(_PATH, _C, "receivables unpaid at default (before recovery)"),
    "recovered": Var(_PATH, _C, "recoveries received within the horizon"),
    "recovery_pending": Var(_PATH, _C, "recoveries due after the horizon"),
    "still_open": Var(_PATH, _C, "receivables still open at the horizon"),
    "n_protracted": Var(_PATH, "1", "number of invoices in protracted default"),
    "protracted_amount": Var(_PATH, _C, "invoices in protracted default"),
    "lost_sales": Var(_PATH, _C, "planned sales not shipped by credit management (limits, "
                      "stopped shipping, customers lost to tighter terms)"),
    "lost_margin": Var(_PATH, _C, "margin of the lost sales: lost_sales x (1 - cogs_share)"),
    "late_interest": Var(_PATH, _C, "late-payment interest collected"),
    "collection_cost": Var(_PATH, _C, "cost of collection escalation"),
    "n_alerts": Var(_PATH, "1", "customers that reach the most severe alert level"),
    "n_true_alerts": Var(_PATH, "1", "alerts whose customer defaults within the horizon"),
    "n_false_alerts": Var(_PATH, "1", "alerts whose customer does not default within the "
                          "horizon"),
    "lead_time_days": Var(_PATH, "days", "mean days from a true alert (the first period end "
                          "at the most severe level) to the default (NaN: no true alert)"),
    "customers_at_level": Var(("alert_level", "period"), "1", "expected number of customers at "
                              "each alert level at each period end (before their default)"),
    "min_cash": Var(_PATH, _C, "minimum cash balance after the credit line"),
    "peak_line_usage": Var(_PATH, _C, "peak credit line drawn"),
    "cash_gap": Var(_PATH, _C, "largest shortfall below the cash buffer after the whole line"),
    "first_breach_period": Var(_PATH, "1", "first period with a cash gap (-1: none)"),
    "buffer_breach": Var(_PATH, "1", "cash falls below the buffer without the line"),
    "line_breach": Var(_PATH, "1", "the credit line cannot keep the buffer (cash gap)"),
    "dso_avg": Var(_PATH, "days", "days sales outstanding, average over periods"),
    "dso_end": Var(_PATH, "days", "days sales outstanding at the horizon"),
    "peak_wcr": Var(_PATH, _C, "peak working-capital requirement (AR + inventory - AP)"),
    "net_cash_flow": Var(_PATH, _C, "net operating cash flow over the horizon"),
    # suppliers
    "supplier": Var(("supplier",), "", "supplier id"),
    "supplier_loss": Var(_PATH, _C, "supplier prepayments lost at default"),
    "supplier_n_defaults": Var(_PATH, "1", "number of defaulted suppliers"),
    "supplier_premium_cost": Var(_PATH, _C, "cost premium of replacement suppliers within "
                                 "the horizon"),
    "supplier_lost_sales": Var(_PATH, _C, "sales lost while failed suppliers are replaced"),
    "supplier_lost_margin": Var(_PATH, _C, "margin of the lost sales (1 - cogs_share)"),
    "supplier_sector": Var(("supplier",), "", "sector of the supplier"),
    "supplier_p_default": Var(("supplier",), "1", "1-year probability of default of the "
                              "supplier"),
    "supplier_p_horizon": Var(("supplier",), "1", "probability of default of the supplier "
                              "within the horizon"),
    "supplier_default_rate": Var(("supplier",), "1", "fraction of paths in which the "
                                 "supplier defaults"),
    "supplier_prepayment": Var(("supplier",), _C, "prepayments outstanding with the supplier"),
    # insurance: per path and policy
    "qualifying_loss": Var(_PP, _C, "qualifying loss: claims within buyer limits, above the "
                           "non-qualifying threshold"),
    "indemnity_before_recoveries": Var(_PP, _C, "indemnity before the insurer's share of "
                                       "recoveries"),
    "insurer_recovery_share": Var(_PP, _C, "insurer's pro-rata share of recoveries"),
    "indemnity": Var(_PP, _C, "net indemnity (after the insurer's share of recoveries)"),
    "indemnity_cash": Var(_PP, _C, "net cash from the insurer within the horizon (indemnities "
                          "and advances less refunds and recovery shares; premiums excluded)"),
    "insurer_settlement_pending": Var(_PP, _C, "net indemnity not yet settled in cash at the "
                                      "horizon (negative: refunds owed to the insurer)"),
    "n_claims": Var(_PP, "1", "number of buyers indemnified"),
    "policy_line_breach": Var(_PP, "1", "the credit line cannot keep the buffer, with cover"),
    "policy_net_cash_flow": Var(_PP, _C, "net operating cash flow over the horizon with "
                                "premiums and insurer cash flows"),
    "retained_loss": Var(_PP, _C, "retained credit loss: gross loss less net indemnity"),
    # insurance: policy terms
    "premium": Var(_POL, _C, "premium earned over the horizon"),
    "premium_paid": Var(_POL, _C, "premium paid within the horizon"),
    "annual_premium": Var(_POL, _C, "premium per policy year"),
    "insured_turnover": Var(_POL, _C, "planned annual sales to covered buyers"),
    "first_loss": Var(_POL, _C, "aggregate first loss per policy year"),
    "max_liability": Var(_POL, _C, "maximum liability per policy year (inf: unlimited)"),
    "non_qualifying_loss": Var(_POL, _C, "non-qualifying loss threshold per buyer"),
    "settlement_lag_days": Var(_POL, "days", "days from claim to indemnity"),
    "first_loss_before_cover": Var(_POL, "1", "first loss taken before the insured percentage"),
    "cover_limit": Var(("policy", "customer"), _C, "cover limit per buyer (0: not covered)"),
    "insured_percentage": Var(("policy", "customer"), "1", "insured percentage per buyer"),
    "cover_type": Var(("policy", "customer"), "", "cover of the buyer: {cover_types}"),
    "customer_expected_indemnity": Var(("policy", "customer"), _C, "expected net indemnity by "
                                       "customer (Monte Carlo)"),
    "customer_expected_qualifying_loss": Var(("policy", "customer"), _C, "expected qualifying "
                                             "loss by customer (Monte Carlo)"),
    "premium_cash": Var(("policy", "period"), _C, "premium paid per period"),
    "expected_indemnity_cash": Var(("policy", "period"), _C, "expected net cash from the "
                                   "insurer per period (premiums excluded)"),
    # tail contributions and concentration
    "tail_var": Var(("level",), _C, "VaR the contributions add up to"),
    "tail_es": Var(("level",), _C, "ES the contributions add up to"),
    "es_contribution_sum": Var(("level",), _C, "sum of the ES contributions (cent-rounded "
                               "customer losses)"),
    "var_contribution_bandwidth": Var(("level",), _C, "Gaussian kernel bandwidth of the VaR "
                                      "contributions"),
    "n_tail_paths": Var(("level",), "1", "paths at or above the VaR"),
    "exposure_herfindahl": Var((), "1", "Herfindahl index of exposure"),
    "granularity_adjustment": Var((), _C, "granularity adjustment ({method})"),
    "top_exposure_share": Var(("top_n",), "1", "share of the N largest exposures in total "
                              "exposure"),
}
for _plain in ("min_cash", "peak_line_usage", "cash_gap", "buffer_breach"):
    _v = VARIABLES[_plain]
    VARIABLES[f"policy_{_plain}"] = Var(_PP, _v.units, f"{_v.long_name}, with cover")
for _flow in FLOWS:
    VARIABLES[f"expected_{_flow}"] = Var(("period",), _C, f"expected {_flow.replace('_', ' ')}")
    VARIABLES[f"expected_{_flow}_se"] = Var(("period",), _C,
                                            f"standard error of expected {_flow}")
for _flow in SUPPLIER_FLOWS:
    _what = _flow.replace("_", " ")
    VARIABLES[f"expected_{_flow}"] = Var(("period",), _C, f"expected {_what} per period")
    VARIABLES[f"expected_{_flow}_se"] = Var(("period",), _C,
                                            f"standard error of expected {_what}")
for _s in SERIES:
    VARIABLES[f"{_s}_series"] = Var(("sample_path", "period"), _C,
                                    f"{_s} at the end of each period")
    VARIABLES[f"{_s}_band"] = Var(("band", "period"), _C, f"quantiles of {_s} across paths")
for _d in CONTRIBUTION_DIMS:
    _pre = "" if _d == "customer" else f"{_d}_"
    for _key, _what in (("es", "ES"), ("var", "VaR")):
        VARIABLES[f"{_pre}{_key}_contribution"] = Var(
            ("level", _d), _C, f"Euler contribution to {_what} by {_d}")
        VARIABLES[f"{_pre}{_key}_contribution_se"] = Var(
            ("level", _d), _C, f"standard error of the {_what} contribution")

#: Coordinates of a scenario comparison (:func:`portsim.results.comparison.scenario_paths`).
COMPARISON_COORDS = {
    "policy": Var(_POL, "", "credit-insurance policy variant"),
    "scenario": Var(("scenario",), "", "scenario"),
}

#: Long names of the per-customer moments when they are exact (importance-sampling runs, whose
#: Monte Carlo sums are under the shifted measure).
EXACT_LONG_NAMES = {
    "customer_expected_loss": "expected loss by customer (exact: importance-sampling run)",
    "customer_default_rate": "probability of default within the horizon (exact: "
                             "importance-sampling run)",
}


def attrs(name: str, currency: str, **fields: Any) -> dict[str, str]:
    """``{"units", "long_name"}`` of a variable of :data:`VARIABLES`.

    Parameters
    ----------
    name : str
        The variable.
    currency : str
        The book's currency (the units of money).
    **fields
        Values of the further fields of the long name (``dim``, ``cover_types``, ``method``).
    """
    var = VARIABLES[name]
    return {"units": var.units.format(cur=currency), "long_name": var.long_name.format(**fields)}
