"""The results vocabulary: the names of the engine's per-path outputs, in column order."""

from __future__ import annotations

__all__ = [
    "FLOWS",
    "PATH_SCALARS",
    "POLICY_CASH_SCALARS",
    "POLICY_SCALARS",
    "SERIES",
    "TIMELINE_SCALARS",
]

#: Per-path cash scalars returned by :func:`cash_paths`.
PATH_SCALARS = (
    "min_cash", "peak_line_usage", "cash_gap", "first_breach_period", "buffer_breach",
    "line_breach", "dso_avg", "dso_end", "peak_wcr", "net_cash_flow",
)
#: Per-path scalars of a timeline run (the engine's ``timeline_scalars`` columns).
TIMELINE_SCALARS = (
    "invoiced", "collected", "written_off", "recovered", "recovery_pending", "still_open",
    "n_protracted", "protracted_amount", *PATH_SCALARS,
)
#: Period flows whose sums (and sums of squares) over paths are kept.
FLOWS = ("invoiced", "collected", "written_off", "recovered", "protracted", "supplier_payments")
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
