"""The checked call of every kernel: the one place where inputs become kernel arguments.

Each function here takes :class:`~portsim.inputs.model.ModelInputs` (or the arrays of claim
events and policy terms), checks once that every array the kernel reads has the dtype, shape
and C order the kernel trusts, allocates the outputs, calls the kernel, and returns the
filled outputs (QuantEcon's pattern: the kernels only fill ``out`` arrays). A wrong argument
raises ``ValueError`` naming it, instead of a wrong number or a crash inside compiled code.
Arguments are matched to the kernel's parameters by name (:func:`_call`), so no call site
keeps a positional list of 25 to 60 arguments in step with a kernel's signature.

* :func:`default_losses` — the default-only kernels of :mod:`portsim.kernels.defaults`
  (grouped, per customer or skip, by :class:`~portsim.kernels.codes.DefaultMethod`);
* :func:`customer_losses_of_paths` — the same kernels path by path, keeping each path's
  per-customer losses (the tail attribution's second pass); both run the CreditRisk+ kernels
  of :mod:`portsim.kernels.mixture` instead for inputs with a sector model
  (``model.family = "creditriskplus"``);
* :func:`timeline` — the invoice-by-invoice kernel of :mod:`portsim.kernels.timeline`;
* :func:`suppliers` — the supplier kernel of :mod:`portsim.kernels.suppliers`;
* :func:`apply_policies` / :func:`policy_claims` — the claims kernel of
  :mod:`portsim.kernels.claims`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from portsim.inputs.model import ModelInputs
from portsim.inputs.timeline import TimelineInputs
from portsim.kernels import defaults as kernels
from portsim.kernels.claims import CLAIM_SCALARS, claims_kernel
from portsim.kernels.codes import DefaultMethod, EventKind
from portsim.kernels.mixture import mixture_losses, mixture_losses_of_paths
from portsim.kernels.suppliers import supplier_paths
from portsim.kernels.timeline import timeline_paths

__all__ = [
    "ClaimsOutcome",
    "DefaultOutputs",
    "SupplierOutputs",
    "TimelineOutputs",
    "apply_policies",
    "customer_losses_of_paths",
    "default_losses",
    "default_method",
    "policy_claims",
    "shifts",
    "suppliers",
    "timeline",
]


_F = np.dtype(np.float64)
_I = np.dtype(np.int64)
_U = np.dtype(np.uint64)


def _checked(name: str, a: object, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` if it is a C-contiguous ndarray of ``dtype`` and ``shape``; else ValueError."""
    if (isinstance(a, np.ndarray) and a.dtype == dtype and a.shape == shape
            and a.flags.c_contiguous):
        return a
    got = (f"{a.dtype} {a.shape}{'' if a.flags.c_contiguous else ', not C-contiguous'}"
           if isinstance(a, np.ndarray) else type(a).__name__)
    raise ValueError(f"kernel argument {name!r}: expected a C-contiguous {dtype} array of "
                     f"shape {shape}, got {got}")


@functools.cache
def _parameters(kernel: Any) -> tuple[str, ...]:
    """The kernel's parameter names, in order (of the Python function a dispatcher compiles)."""
    return tuple(inspect.signature(getattr(kernel, "py_func", kernel)).parameters)


def _call(kernel: Any, args: Mapping[str, object]) -> None:
    """Call ``kernel`` with ``args[name]`` for each of its parameters, passed by position
    (``args`` may hold more); ``TypeError`` naming a parameter without an argument."""
    params = _parameters(kernel)
    missing = [p for p in params if p not in args]
    if missing:
        name = getattr(kernel, "py_func", kernel).__name__
        raise TypeError(f"{name}: no argument for parameter(s) {missing}")
    kernel(*(args[p] for p in params))


def _states(m: int, **states: np.ndarray) -> None:
    """Check per-path xoroshiro128++ states: (m, 2) uint64 each."""
    for name, a in states.items():
        _checked(name, a, _U, (m, 2))


def shifts(x: ModelInputs) -> tuple[np.ndarray, np.ndarray]:
    """The importance-sampling shift θ and the factor shift, zeros when not set."""
    k = x.chol.shape[0]
    zs = np.zeros(k) if x.z_shift is None else np.ascontiguousarray(x.z_shift, dtype=float)
    ys = np.zeros(k) if x.y_shift is None else np.ascontiguousarray(x.y_shift, dtype=float)
    return zs, ys


def default_method(x: ModelInputs) -> DefaultMethod:
    """The default kernel ``x.kernel`` names (``"grouped"``, ``"per_customer"``, ``"skip"``)."""
    return DefaultMethod.of(x.kernel)


def _book_args(x: ModelInputs, method: DefaultMethod) -> dict[str, object]:
    """Every argument the default kernels read from the book, checked, by kernel parameter
    name (``n`` customers, ``K`` factors, ``G`` groups)."""
    n, k, g = x.n_customers, x.chol.shape[0], x.group_factor.shape[0]
    if x.group_start is None or x.group_perm is None:
        if method == DefaultMethod.SKIP:
            raise ValueError("kernel 'skip' needs group_start and group_perm (build_inputs)")
        start, perm = np.zeros(g + 1, dtype=np.int64), np.arange(n, dtype=np.int64)
    else:
        start, perm = x.group_start, x.group_perm
    zs, ys = shifts(x)
    arrays = {
        "chol": (x.chol, _F, (k, k)), "z_shift": (zs, _F, (k,)), "y_shift": (ys, _F, (k,)),
        "group": (x.group, _I, (n,)), "group_start": (start, _I, (g + 1,)),
        "group_perm": (perm, _I, (n,)), "group_factor": (x.group_factor, _I, (g,)),
        "group_loading": (x.group_loading, _F, (g,)), "group_idio": (x.group_idio, _F, (g,)),
        "group_threshold": (x.group_threshold, _F, (g,)), "factor": (x.factor, _I, (n,)),
        "loading": (x.loading, _F, (n,)), "idio": (x.idio, _F, (n,)),
        "threshold": (x.threshold, _F, (n,)), "hazard": (x.hazard, _F, (n,)),
        "exposure": (x.exposure, _F, (n,)), "lgd_mean": (x.lgd_mean, _F, (n,)),
        "lgd_probit": (x.lgd_probit, _F, (n,)), "lgd_conc": (x.lgd_conc, _F, (n,)),
        "sector": (x.sector, _I, (n,)),
    }
    args: dict[str, object] = {name: _checked(name, a, dt, shape)
                               for name, (a, dt, shape) in arrays.items()}
    args["dof"] = float(x.dof)
    args["lgd_link"] = float(x.lgd_link)
    return args


def _mixture_args(x: ModelInputs) -> dict[str, object]:
    """Every argument the CreditRisk+ kernels read, checked, by kernel parameter name."""
    mix = x.mixture
    if mix is None:
        raise ValueError("the CreditRisk+ kernels need inputs built with model.family = "
                         "'creditriskplus'")
    n, (n_sectors, k) = x.n_customers, mix.sector_weights.shape
    variance = _checked("variance", mix.variance, _F, (k,))
    args: dict[str, object] = {
        "shape": 1.0 / variance, "scale": variance,
        "sector_weights": _checked("sector_weights", mix.sector_weights, _F, (n_sectors, k)),
        "sector_idio": _checked("sector_idio", mix.sector_idio, _F, (n_sectors,)),
        "intensity": _checked("p_horizon", x.p_horizon, _F, (n,)),
        "severity": np.ascontiguousarray(_checked("exposure", x.exposure, _F, (n,))
                                         * _checked("lgd_mean", x.lgd_mean, _F, (n,))),
        "sector": _checked("sector", x.sector, _I, (n,)), "poisson": bool(mix.poisson),
    }
    if n_sectors != len(x.sector_names):
        raise ValueError(f"sector_weights: {n_sectors} rows for {len(x.sector_names)} sectors")
    return args


_DEFAULT_KERNELS = {
    DefaultMethod.PER_CUSTOMER: kernels.default_losses_per_customer,
    DefaultMethod.GROUPED: kernels.default_losses_grouped,
    DefaultMethod.SKIP: kernels.default_losses_skip,
}


@dataclass
class DefaultOutputs:
    """What a default kernel fills for ``m`` paths (``n`` customers, ``S`` sectors)."""

    loss: np.ndarray  # (m,) loss of each path, book currency
    n_defaults: np.ndarray  # (m,) int64
    sector_loss: np.ndarray  # (m, S) book currency
    sector_n_defaults: np.ndarray  # (m, S) int64
    customer_loss: np.ndarray  # (n,) int64: loss in cents summed over the paths
    customer_n_defaults: np.ndarray  # (n,) int64, summed over the paths
    log_weight: np.ndarray  # (m,) log likelihood ratio (0 without importance sampling)

    @classmethod
    def zeros(cls, m: int, n: int, n_sectors: int) -> DefaultOutputs:
        """Outputs for ``m`` paths, all zero (the kernels add to the per-customer sums)."""
        return cls(np.zeros(m), np.zeros(m, dtype=np.int64), np.zeros((m, n_sectors)),
                   np.zeros((m, n_sectors), dtype=np.int64), np.zeros(n, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), np.zeros(m))

    def kernel_args(self) -> dict[str, np.ndarray]:
        """The arrays by the names of the kernels' ``out_*`` parameters."""
        return {"out_loss": self.loss, "out_ndef": self.n_defaults,
                "out_sector_loss": self.sector_loss, "out_sector_ndef": self.sector_n_defaults,
                "out_cust_loss": self.customer_loss, "out_cust_ndef": self.customer_n_defaults,
                "out_logw": self.log_weight}


def default_losses(x: ModelInputs, states: np.ndarray, lgd_states: np.ndarray
                   ) -> DefaultOutputs:
    """Run the default-only kernel ``x.kernel`` (the CreditRisk+ kernel when ``x.mixture`` is
    set) on the paths whose states are given.

    Parameters
    ----------
    x : ModelInputs
        From :func:`portsim.inputs.model.build_inputs`.
    states, lgd_states : ndarray, shape (m, 2), uint64
        The paths' default and LGD streams (CreditRisk+: the stream of the counts beyond the
        first default); need not be consecutive paths.

    Returns
    -------
    DefaultOutputs
    """
    m = states.shape[0]
    _states(m, states=states, lgd_states=lgd_states)
    out = DefaultOutputs.zeros(m, x.n_customers, len(x.sector_names))
    if x.mixture is not None:
        _call(mixture_losses, {**_mixture_args(x), "states": states, "count_states": lgd_states,
                               **out.kernel_args()})
        return out
    method = default_method(x)
    _call(_DEFAULT_KERNELS[method], {**_book_args(x, method), "states": states,
                                     "lgd_states": lgd_states, **out.kernel_args()})
    return out


def customer_losses_of_paths(x: ModelInputs, states: np.ndarray, lgd_states: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the default kernel ``x.kernel`` (or the CreditRisk+ kernel) path by path, keeping
    each path's customer losses.

    Parameters
    ----------
    x : ModelInputs
    states, lgd_states : ndarray, shape (m, 2), uint64
        Default and LGD streams of the chosen paths (any paths, any order).

    Returns
    -------
    cents : ndarray, shape (m, n_customers), int64
        Loss of each customer on each path in integer cents.
    loss : ndarray, shape (m,)
        The paths' losses (book currency), as in a chunk run.
    log_weight : ndarray, shape (m,)
        The paths' log likelihood ratios.
    """
    m = states.shape[0]
    _states(m, states=states, lgd_states=lgd_states)
    cents = np.zeros((m, x.n_customers), dtype=np.int64)
    loss = np.zeros(m)
    logw = np.zeros(m)
    if x.mixture is not None:
        _call(mixture_losses_of_paths, {**_mixture_args(x), "states": states,
                                        "count_states": lgd_states, "out_loss": loss,
                                        "out_cust_loss": cents})
        return cents, loss, logw
    method = default_method(x)
    _call(kernels.customer_losses_of_paths, {
        **_book_args(x, method), "method": int(method), "states": states,
        "lgd_states": lgd_states, "n_sectors": len(x.sector_names), "out_loss": loss,
        "out_cust_loss": cents, "out_logw": logw,
    })
    return cents, loss, logw


@dataclass
class TimelineOutputs:
    """What the timeline kernel fills for ``m`` paths (``P`` periods, ``E`` claim events)."""

    defaults: DefaultOutputs
    collected_open: np.ndarray  # (m, P + 1) collections per period, last: after the horizon
    written_off: np.ndarray  # (m, P)
    recovered: np.ndarray  # (m, P)
    issued_stop: np.ndarray  # (m, P) planned sales not issued after a default
    supplier_stop: np.ndarray  # (m, P) purchases not made for them
    protracted: np.ndarray  # (m, P) amounts turning protracted defaults
    still_open: np.ndarray  # (m,) unpaid at the horizon
    recovery_pending: np.ndarray  # (m,) recoveries due after the horizon
    n_protracted: np.ndarray  # (m,) int64
    events_int: np.ndarray  # (E, 5) int64: global path, customer, day, paid_day, kind
    events_amount: np.ndarray  # (E,) claim amounts, book currency
    events_lgd: np.ndarray  # (E,) the buyer's LGD (insolvency events; else NaN)
    events_after: np.ndarray  # (E,) part of the amount delivered after the buyer's top level
    lost_sales: np.ndarray  # (m,) planned sales not shipped by credit management
    interest: np.ndarray  # (m, P) late-payment interest collected
    action_cost: np.ndarray  # (m, P) collection costs
    alerts: np.ndarray  # (m, 3) int64: customers at the top level, of them true, false
    lead_days: np.ndarray  # (m,) days from the first top-level period end to the default,
    #                        summed over the true alerts
    level_count: np.ndarray  # (L, P) int64: customers at each level at each period end


def _action_args(tl: TimelineInputs, n: int) -> dict[str, object]:
    """The credit-management arguments to the timeline kernel, checked, by parameter name."""
    a = tl.actions
    n_lv, n_r, n_c = a.lv_stop.shape[0], a.rule_level.shape[0], a.cond_value.shape[0]
    if a.managed:  # the kernel follows each customer's forward invoices in issue order
        fwd = tl.inv_issue >= 1
        cust = np.repeat(np.arange(n), np.diff(tl.inv_start))
        same = cust[1:] == cust[:-1]
        if np.any(same & fwd[:-1] & fwd[1:] & (np.diff(tl.inv_issue) < 0)):
            raise ValueError("kernel argument 'inv_issue': a customer's forward invoices "
                             "are not in issue order")
    arrays = {
        "credit_limit": (a.credit_limit, _F, (n,)),
        "period_end_day": (tl.period_end_day, _I, (tl.n_periods,)),
        "lv_limit_mult": (a.lv_limit_mult, _F, (n_lv,)), "lv_terms": (a.lv_terms, _I, (n_lv,)),
        "lv_prepaid": (a.lv_prepaid, _F, (n_lv,)),
        "lv_stop": (a.lv_stop, np.dtype(np.bool_), (n_lv,)),
        "lv_retention": (a.lv_retention, _F, (n_lv,)), "lv_shift": (a.lv_shift, _F, (n_lv,)),
        "lv_cost_invoice": (a.lv_cost_invoice, _F, (n_lv,)),
        "lv_cost_customer": (a.lv_cost_customer, _F, (n_lv,)),
        "lv_interest": (a.lv_interest, _F, (n_lv,)), "rule_level": (a.rule_level, _I, (n_r,)),
        "cond_start": (a.cond_start, _I, (n_r + 1,)),
        "cond_feature": (a.cond_feature, _I, (n_c,)), "cond_op": (a.cond_op, _I, (n_c,)),
        "cond_value": (a.cond_value, _F, (n_c,)),
    }
    args: dict[str, object] = {name: _checked(name, v, dt, shape)
                               for name, (v, dt, shape) in arrays.items()}
    args.update(managed=bool(a.managed), limits_bind=bool(a.limits_bind),
                window_days=int(a.window_days),
                interest_collection=float(a.interest_collection))
    return args


def _timeline_args(tl: TimelineInputs, n: int) -> dict[str, object]:
    """The timeline's arguments to the kernel, checked, by parameter name."""
    j = tl.inv_amount.shape[0]
    arrays = {
        "period_of_day": (tl.period_of_day, _I, (tl.n_days + 2,)),
        "inv_start": (tl.inv_start, _I, (n + 1,)), "inv_amount": (tl.inv_amount, _F, (j,)),
        "inv_issue": (tl.inv_issue, _I, (j,)), "inv_due": (tl.inv_due, _I, (j,)),
        "delay_mean": (tl.delay_mean, _F, (n,)), "delay_sd": (tl.delay_sd, _F, (n,)),
        "delay_noise": (tl.delay_noise, _F, (n,)), "noise_table": (tl.noise_table, _F, (256,)),
    }
    args: dict[str, object] = {name: _checked(name, a, dt, shape)
                               for name, (a, dt, shape) in arrays.items()}
    args.update(n_days=int(tl.n_days), delay_factor_days=float(tl.delay_factor_days),
                credit_link=float(tl.credit_link), drift_days=float(tl.drift_days),
                drift_window=float(tl.drift_window),
                protracted_days=int(tl.protracted_days),
                recovery_lag_days=int(tl.recovery_lag_days), dpo_days=int(tl.dpo_days),
                cogs_share=float(tl.cogs_share))
    args.update(_action_args(tl, n))
    return args


def timeline(x: ModelInputs, path_start: int, states: np.ndarray, lgd_states: np.ndarray,
             delay_states: np.ndarray) -> TimelineOutputs:
    """Run the timeline kernel on consecutive paths from ``path_start``.

    The claim-event buffer is sized for about twice the expected defaults and protracted
    claims; in the rare case it is too small the paths are simulated again, with the same
    draws, into one that fits. Events are returned sorted by path (stably, so within a path
    as simulated), with global path indices.

    Parameters
    ----------
    x : ModelInputs
        With ``x.timeline`` set; ``x.kernel`` grouped or per customer.
    path_start : int
        Global index of the first path.
    states, lgd_states, delay_states : ndarray, shape (m, 2), uint64
        The paths' default, LGD and delay streams.

    Returns
    -------
    TimelineOutputs
    """
    tl = x.timeline
    if tl is None:
        raise ValueError("the timeline kernel needs inputs built with a [timeline]")
    if x.mixture is not None:
        raise ValueError("the timeline kernel runs the copula model, not CreditRisk+")
    method = default_method(x)
    if method == DefaultMethod.SKIP:
        raise ValueError("kernel 'skip' draws no default day: the timeline needs another")
    m, n, n_p = states.shape[0], x.n_customers, tl.n_periods
    _states(m, states=states, lgd_states=lgd_states, delay_states=delay_states)
    inputs = {
        **_book_args(x, method), **_timeline_args(tl, n), "method": int(method),
        "states": states, "lgd_states": lgd_states, "delay_states": delay_states,
        "event_day": (np.zeros(n, dtype=np.int64) if x.default_day is None
                      else _checked("default_day", x.default_day, _I, (n,))),
    }
    # room for about twice the expected defaults (and protracted claims) per path
    cap = 64 + int(m * (8 + 2 * float(x.p_horizon.sum())))
    while True:
        d = DefaultOutputs.zeros(m, n, len(x.sector_names))
        written_off, recovered, issued_stop, supplier_stop, protracted = np.zeros((5, m, n_p))
        collected_open = np.zeros((m, n_p + 1))
        still_open, pending = np.zeros(m), np.zeros(m)
        n_prot = np.zeros(m, dtype=np.int64)
        ev_int = np.zeros((cap, 5), dtype=np.int64)
        ev_float = np.zeros((cap, 3))  # amount, LGD, delivered after the top level
        ev_count = np.zeros(1, dtype=np.int64)
        lost_sales, lead_days = np.zeros(m), np.zeros(m)
        interest, action_cost = np.zeros((2, m, n_p))
        alerts = np.zeros((m, 3), dtype=np.int64)
        level_count = np.zeros((tl.actions.lv_stop.shape[0], n_p), dtype=np.int64)
        _call(timeline_paths, {
            **inputs, **d.kernel_args(), "out_collected": collected_open,
            "out_written_off": written_off, "out_recovered": recovered,
            "out_issued_stop": issued_stop, "out_supplier_stop": supplier_stop,
            "out_protracted": protracted, "out_still_open": still_open,
            "out_recovery_pending": pending, "out_n_protracted": n_prot, "ev_int": ev_int,
            "ev_float": ev_float, "ev_count": ev_count, "out_lost_sales": lost_sales,
            "out_interest": interest, "out_action_cost": action_cost, "out_alerts": alerts,
            "out_lead_days": lead_days, "out_level_count": level_count,
        })
        if ev_count[0] <= cap:
            break
        cap = int(ev_count[0])  # rare: more claim events than room; again, same draws
    k = int(ev_count[0])
    order = np.argsort(ev_int[:k, 0], kind="stable")  # by path, then as simulated
    events_int = ev_int[:k][order]
    events_int[:, 0] += path_start  # global path index
    return TimelineOutputs(
        d, collected_open, written_off, recovered, issued_stop, supplier_stop, protracted,
        still_open, pending, n_prot, events_int, ev_float[:k, 0][order], ev_float[:k, 1][order],
        ev_float[:k, 2][order], lost_sales, interest, action_cost, alerts, lead_days, level_count,
    )



@dataclass
class SupplierOutputs:
    """What the supplier kernel fills for ``m`` paths (``s`` suppliers, ``P`` periods);
    per-period flows have ``P`` columns (what falls after the horizon is dropped)."""

    loss: np.ndarray  # (m,) prepayments lost
    n_defaults: np.ndarray  # (m,) int64
    premium_cost: np.ndarray  # (m,) replacement premium on the purchases within the horizon
    lost_sales: np.ndarray  # (m,) sales lost within the horizon
    default_day: np.ndarray  # (m, s) int64: default day of each supplier, 0: none (or (0, s))
    supplier_n_defaults: np.ndarray  # (s,) int64, summed over the paths
    premium_paid: np.ndarray  # (m, P) premium paid per period
    lost_sales_flow: np.ndarray  # (m, P) sales lost per period
    lost_collections: np.ndarray  # (m, P) collections of the lost sales
    saved_purchases: np.ndarray  # (m, P) cost of goods of the lost sales, not paid


def suppliers(x: ModelInputs, states: np.ndarray, supplier_states: np.ndarray, *,
              default_days: bool = False) -> SupplierOutputs:
    """Run the supplier kernel on the paths whose states are given.

    Parameters
    ----------
    x : ModelInputs
        With ``x.suppliers`` and ``x.timeline`` set.
    states, supplier_states : ndarray, shape (m, 2), uint64
        The paths' default streams (for their factors: the customers' own) and supplier
        streams.
    default_days : bool
        Keep every supplier's default day on every path (``default_day``, shape (m, s);
        else shape (0, s), so a chunk's memory does not grow with paths × suppliers).

    Returns
    -------
    SupplierOutputs
    """
    sup, tl = x.suppliers, x.timeline
    if sup is None or tl is None:
        raise ValueError("the supplier kernel needs inputs built with [suppliers] and "
                         "[timeline]")
    m, s, k, n_p = states.shape[0], sup.n_suppliers, x.chol.shape[0], tl.n_periods
    _states(m, states=states, supplier_states=supplier_states)
    zs, ys = shifts(x)
    arrays = {
        "chol": (x.chol, _F, (k, k)), "z_shift": (zs, _F, (k,)), "y_shift": (ys, _F, (k,)),
        "factor": (sup.factor, _I, (s,)), "loading": (sup.loading, _F, (s,)),
        "idio": (sup.idio, _F, (s,)), "threshold": (sup.threshold, _F, (s,)),
        "hazard": (sup.hazard, _F, (s,)), "event_day": (sup.event_day, _I, (s,)),
        "prepayment": (sup.prepayment, _F, (s,)),
        "premium_per_day": (sup.premium_per_day, _F, (s,)),
        "replacement_days": (sup.replacement_days, _I, (s,)),
        "dependent_share": (sup.dependent_share, _F, (s,)),
        "sales_per_day": (sup.sales_per_day, _F, (tl.n_days + 1,)),
        "period_of_day": (tl.period_of_day, _I, (tl.n_days + 2,)),
    }
    args: dict[str, object] = {name: _checked(name, a, dt, shape)
                               for name, (a, dt, shape) in arrays.items()}
    flows = np.zeros((4, m, n_p + 1))
    out = SupplierOutputs(
        loss=np.zeros(m), n_defaults=np.zeros(m, dtype=np.int64), premium_cost=np.zeros(m),
        lost_sales=np.zeros(m),
        default_day=np.zeros((m if default_days else 0, s), dtype=np.int64),
        supplier_n_defaults=np.zeros(s, dtype=np.int64), premium_paid=flows[0],
        lost_sales_flow=flows[1], lost_collections=flows[2], saved_purchases=flows[3])
    _call(supplier_paths, {
        **args, "states": states, "supplier_states": supplier_states, "dof": float(x.dof),
        "n_days": int(tl.n_days), "collection_lag_days": int(sup.collection_lag_days),
        "dpo_days": int(sup.dpo_days), "cogs_share": float(sup.cogs_share),
        "out_loss": out.loss, "out_ndef": out.n_defaults,
        "out_premium_cost": out.premium_cost, "out_lost_sales": out.lost_sales,
        "out_default_day": out.default_day, "out_supplier_ndef": out.supplier_n_defaults,
        "out_premium_paid": out.premium_paid, "out_lost_sales_flow": out.lost_sales_flow,
        "out_lost_collections": out.lost_collections,
        "out_saved_purchases": out.saved_purchases,
    })
    for name in ("premium_paid", "lost_sales_flow", "lost_collections", "saved_purchases"):
        setattr(out, name, np.ascontiguousarray(getattr(out, name)[:, :n_p]))
    return out


class ClaimsOutcome:
    """What :func:`apply_policies` returns (``E`` events, ``m`` paths, ``V`` policies).

    Attributes
    ----------
    order : ndarray, shape (E,), int64
        The events in processing order (indices into the input arrays); the per-event arrays
        below are in this order.
    qualifying : ndarray, shape (E, V)
        Qualifying loss released at each event (book currency).
    indemnity_before_recoveries, indemnity : ndarray, shape (E, V)
        Indemnity of each event before and after the insurer's share of recoveries.
    scalars : ndarray, shape (m, V, len(CLAIM_SCALARS))
        Per-path sums (see :data:`CLAIM_SCALARS`).
    cash_in, cash_out : ndarray, shape (m, V, n_periods)
        Cash from and to the insurer per period (premiums excluded).
    """

    __slots__ = ("cash_in", "cash_out", "indemnity", "indemnity_before_recoveries", "order",
                 "qualifying", "scalars")

    def __init__(self, n_events: int, n_paths: int, n_policies: int, n_periods: int,
                 order: np.ndarray) -> None:
        self.order = order
        self.qualifying = np.zeros((n_events, n_policies))
        self.indemnity_before_recoveries = np.zeros((n_events, n_policies))
        self.indemnity = np.zeros((n_events, n_policies))
        self.scalars = np.zeros((n_paths, n_policies, len(CLAIM_SCALARS)))
        self.cash_in = np.zeros((n_paths, n_policies, n_periods))
        self.cash_out = np.zeros((n_paths, n_policies, n_periods))


def apply_policies(
    events_int: np.ndarray,
    events_amount: np.ndarray,
    events_lgd: np.ndarray,
    *,
    path_start: int,
    n_paths: int,
    cover_limit: np.ndarray,
    insured_pct: np.ndarray,
    non_qualifying_loss: np.ndarray,
    first_loss: np.ndarray,
    before_cover: np.ndarray,
    max_liability: np.ndarray,
    settlement_lag: np.ndarray,
    year_of_day: np.ndarray,
    n_years: int,
    period_of_day: np.ndarray,
    n_days: int,
    recovery_lag_days: int,
    events_after: np.ndarray | None = None,
    red_limit_factor: np.ndarray | None = None,
    max_extension: np.ndarray | None = None,
) -> ClaimsOutcome:
    """Apply ``V`` policy variants to the claim events of paths ``path_start ..
    path_start + n_paths - 1``.

    A policy with a maximum extension period E > 0 (``max_extension``) sees its own claim
    events (:func:`extended_events`): each protracted default moves E days later (the
    waiting period runs from the extended due date) and becomes no claim when the buyer pays
    by then, part of the buyer's insolvency claim when the buyer defaults by then, or falls
    outside the horizon. The events of each policy are taken in order of their own days.

    Parameters
    ----------
    events_int : ndarray, shape (E, 5), int64
        Rows ``(path, customer, day, paid_day, kind)`` with global path indices, any order.
    events_amount : ndarray, shape (E,)
        Claim amounts, book currency.
    events_lgd : ndarray, shape (E,)
        The buyer's loss given default on the path for insolvency events (fraction; any value
        for protracted events).
    path_start, n_paths : int
        The chunk's first path and number of paths.
    cover_limit, insured_pct : ndarray, shape (V, n_customers)
        Limit per buyer (0: no cover) and insured percentage.
    non_qualifying_loss, first_loss, max_liability : ndarray, shape (V,)
        Per-buyer threshold, aggregate first loss and maximum liability per policy year
        (``inf``: unlimited), book currency.
    before_cover : ndarray, shape (V,), bool
        Whether the first loss is taken before the insured percentage.
    settlement_lag : ndarray, shape (V,), int64
        Days from a claim to its payment.
    year_of_day, period_of_day : ndarray, shape (n_days + 2,), int64
        Policy year and reporting period of each day (``period_of_day[n_days + 1]`` is the
        number of periods, "after the horizon").
    n_years, n_days, recovery_lag_days : int
    events_after : ndarray, shape (E,), optional
        The part of each amount delivered after the buyer reached the most severe alert
        level of credit management (default 0).
    red_limit_factor : ndarray, shape (V,), optional
        Per policy, the factor on a buyer's limit for deliveries after it reached that level
        (0: cover cancelled for them; default 1: unchanged).
    max_extension : ndarray, shape (V,), int64, optional
        Maximum extension period per policy in days (0: none; default none for all).

    Returns
    -------
    ClaimsOutcome
    """
    ev = np.asarray(events_int, dtype=np.int64).reshape(-1, 5)
    n_pol, n_cust = np.shape(cover_limit)
    order = np.argsort(_event_key(ev, path_start, n_days, n_cust), kind="stable").astype(np.int64)
    s = ev[order]
    amount = np.asarray(events_amount, dtype=float)[order]
    ext = np.zeros(n_pol, dtype=np.int64) if max_extension is None else max_extension
    claim_days, amounts, perm = extended_events(s, amount, ext, path_start=path_start,
                                                n_days=n_days, n_customers=n_cust)
    paths = s[:, 0] - path_start
    offsets = np.searchsorted(paths, np.arange(n_paths + 1), side="left").astype(np.int64)
    c = np.ascontiguousarray
    days = (int(n_days) + 2,)
    terms = {
        "limit": (cover_limit, _F, (n_pol, n_cust)), "pct": (insured_pct, _F, (n_pol, n_cust)),
        "nql": (non_qualifying_loss, _F, (n_pol,)), "first_loss": (first_loss, _F, (n_pol,)),
        "before_cover": (before_cover, np.dtype(np.bool_), (n_pol,)),
        "max_liability": (max_liability, _F, (n_pol,)),
        "settle_lag": (settlement_lag, _I, (n_pol,)), "year_of_day": (year_of_day, _I, days),
        "period_of_day": (period_of_day, _I, days),
        "max_extension": (ext, _I, (n_pol,)),
    }
    args: dict[str, object] = {name: _checked(name, c(a, dtype=dt), dt, shape)
                               for name, (a, dt, shape) in terms.items()}
    out = ClaimsOutcome(s.shape[0], n_paths, n_pol, int(period_of_day[-1]), order)
    _call(claims_kernel, {
        **args, "offsets": offsets, "cust": c(s[:, 1]), "day": claim_days, "paid": c(s[:, 3]),
        "kind": c(s[:, 4]), "amount": amounts, "perm": perm,
        "lgd": c(np.asarray(events_lgd, dtype=float)[order]), "n_years": int(n_years),
        "after": c(np.zeros(len(order)) if events_after is None
                   else np.asarray(events_after, dtype=float)[order]),
        "red_factor": _checked("red_limit_factor", c(np.ones(n_pol) if red_limit_factor is None
                                                     else red_limit_factor, dtype=float),
                               _F, (n_pol,)),
        "n_days": int(n_days), "recovery_lag_days": int(recovery_lag_days),
        "out_q": out.qualifying, "out_gross": out.indemnity_before_recoveries,
        "out_net": out.indemnity, "out_scalars": out.scalars, "out_cash_in": out.cash_in,
        "out_cash_out": out.cash_out,
    })
    return out

def _event_key(ev: np.ndarray, path_start: int, n_days: int, n_cust: int) -> np.ndarray:
    """One int64 key ordering events ``(path, customer, day, paid_day, kind)`` by path, day,
    customer and kind (< 2^63 for any realistic size)."""
    return (((ev[:, 0] - path_start) * (n_days + 2) + ev[:, 2]) * n_cust + ev[:, 1]) * 2 \
        + ev[:, 4]


def extended_events(
    events: np.ndarray, amount: np.ndarray, max_extension: np.ndarray, *, path_start: int,
    n_days: int, n_customers: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The claim events each policy sees, given its maximum extension period.

    A buyer that has not paid an invoice by its due date is granted one postponement of E
    days, and the extended due date counts for the policy: the protracted default logged on
    day ``d`` (due + waiting period) is claimable on ``d + E`` instead. So, for E > 0:

    * paid by the buyer on or before ``d + E``: no claim (amount 0);
    * never paid (the buyer defaults on day D, its insolvency event): when D ≤ d + E the
      invoice is part of the insolvency claim (its amount moves to the insolvency event, which
      left it out as already claimed), else a protracted claim on ``d + E``;
    * paid after ``d + E``: a protracted claim on ``d + E`` (an advance, refunded when paid);
    * ``d + E`` after the horizon: no claim within the horizon.

    With E = 0 every policy sees the events as they are.

    Parameters
    ----------
    events : ndarray, shape (E, 5), int64
        ``(path, customer, day, paid_day, kind)`` sorted by :func:`_event_key`.
    amount : ndarray, shape (E,)
        Claim amounts in that order, book currency.
    max_extension : ndarray, shape (V,), int64
        Days per policy (0: none).
    path_start, n_days, n_customers : int

    Returns
    -------
    days : ndarray, shape (E, V), int64
        Claim day of each event per policy (``n_days + 1`` for one after the horizon).
    amounts : ndarray, shape (E, V)
        Claim amount of each event per policy.
    perm : ndarray, shape (E, V), int64
        Per policy, the events (indices into ``events``) in order of path, the policy's day,
        customer and kind.
    """
    n_ev, n_pol = events.shape[0], max_extension.shape[0]
    days = np.repeat(events[:, 2:3], n_pol, axis=1)
    amounts = np.repeat(amount[:, None], n_pol, axis=1)
    perm = np.repeat(np.arange(n_ev, dtype=np.int64)[:, None], n_pol, axis=1)
    if not (max_extension > 0).any():
        return days, amounts, perm
    prot = np.flatnonzero(events[:, 4] == EventKind.PROTRACTED)
    ins = np.flatnonzero(events[:, 4] == EventKind.INSOLVENCY)
    # the insolvency event of each protracted event's buyer on its path (-1: none)
    ins_key = events[ins, 0] * n_customers + events[ins, 1]
    by_key = dict(zip(ins_key.tolist(), ins.tolist(), strict=True))
    p_key = events[prot, 0] * n_customers + events[prot, 1]
    ins_of = np.array([by_key.get(k, -1) for k in p_key.tolist()], dtype=np.int64)
    default_day = np.where(ins_of >= 0, events[np.maximum(ins_of, 0), 2], n_days + 1)
    paid = events[prot, 3]
    for v in np.flatnonzero(max_extension > 0):
        new_day = events[prot, 2] + max_extension[v]
        to_insolvency = (paid < 0) & (ins_of >= 0) & (default_day <= new_day)
        no_claim = ((paid >= 0) & (paid <= new_day)) | (new_day > n_days) | to_insolvency
        days[prot, v] = np.minimum(new_day, n_days + 1)
        amounts[prot[no_claim], v] = 0.0
        np.add.at(amounts[:, v], ins_of[to_insolvency], amount[prot[to_insolvency]])
        ev = events.copy()
        ev[:, 2] = days[:, v]
        perm[:, v] = np.argsort(_event_key(ev, path_start, n_days, n_customers), kind="stable")
    c = np.ascontiguousarray
    return c(days), c(amounts), c(perm)


def policy_claims(x: ModelInputs, events_int: np.ndarray, events_amount: np.ndarray,
                  events_lgd: np.ndarray, *, path_start: int, n_paths: int,
                  events_after: np.ndarray | None = None) -> ClaimsOutcome:
    """:func:`apply_policies` with the terms of ``x.insurance`` and the days of ``x.timeline``.

    Parameters
    ----------
    x : ModelInputs
        With ``x.timeline`` and ``x.insurance`` set.
    events_int, events_amount, events_lgd, path_start, n_paths, events_after
        As in :func:`apply_policies`.
    """
    tl, pol = x.timeline, x.insurance
    if tl is None or pol is None:
        raise ValueError("the claims kernel needs inputs built with [timeline] and [insurance]")
    return apply_policies(
        events_int, events_amount, events_lgd, path_start=path_start, n_paths=n_paths,
        cover_limit=pol.cover_limit, insured_pct=pol.insured_pct,
        non_qualifying_loss=pol.non_qualifying_loss, first_loss=pol.first_loss,
        before_cover=pol.before_cover, max_liability=pol.max_liability,
        settlement_lag=pol.settlement_lag, year_of_day=pol.year_of_day, n_years=pol.n_years,
        period_of_day=tl.period_of_day, n_days=tl.n_days,
        recovery_lag_days=tl.recovery_lag_days, events_after=events_after,
        red_limit_factor=pol.red_limit_factor, max_extension=pol.max_extension,
    )
