"""A mix of levers, what it costs a year and what it does to the simulated paths.

How each lever acts on the paths of a :class:`~portsim.budget.paths.PathSet` (money in book
currency; ``T`` the transfer matrix of :func:`transfer_matrix`):

* **insurance variant** ``p``: the run's retained loss, net cash flow and headroom with that
  variant (premiums and indemnities simulated); cost: the annual premium, less the expected
  indemnity a year with ``cost_basis = "net"``.
* **factoring** a share ``s_j`` of sector ``j`` (non-recourse): the factor takes ``s_j`` of the
  sector's part of the retained loss of each path (the retained loss is split between sectors
  in proportion to their gross losses on the path), so retained loss = ``retained_p − T s``
  and the net cash flow gains ``T s``; the advance ``advance_rate × s_j ×`` the sector's open
  receivables at the as-of date is cash received earlier, held over the horizon (a book in
  steady state), which raises the headroom. Cost: fee × ``s_j`` × the sector's annual sales,
  less the expected transferred loss a year with ``cost_basis = "net"``. The premium of an
  insurance variant is kept whole (conservative).
* **extra credit line** and **cash reserve**: raise the headroom one for one; cost: the
  commitment fee, the opportunity cost.
* **collection spend** and **action policies**: simulated (a delay shift, a scenario overlay),
  so each is a different PathSet; cost: the spend, and for an action policy its simulated
  cost a year — expected lost margin + collection cost − late-payment interest collected
  (:data:`~portsim.budget.paths.ACTION_COST_VARS`) — plus its fixed cost.

The cash costs (factoring fees, commitment fee, collection spend, an action's fixed cost) are
taken from the headroom in full (as if paid before the lowest point: conservative); constant
amounts do not move cash-flow-at-risk, which is measured from the mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from portsim.budget.paths import PathSet
from portsim.results.estimators import Z95, expected_shortfall, value_at_risk

__all__ = ["MEASURES", "Economics", "Mix", "Variant", "cash_cost", "cost", "fixed_cost",
           "measures", "mix_cash", "mix_paths", "objective", "share_costs", "transfer_matrix"]

#: The measures an objective may use.
MEASURES = ("es", "cfar", "line_breach")


@dataclass(frozen=True)
class Variant:
    """A simulated variant: an action policy (``"none"``) and a yearly collection spend."""

    action: str = "none"
    collection: float = 0.0


@dataclass(frozen=True)
class Mix:
    """One choice of every lever.

    Attributes
    ----------
    policy : str
        Insurance variant (``"none"``: no cover).
    variant : Variant
        Action policy and collection spend.
    line_extra : float
        Extra committed credit line.
    reserve : float
        Cash reserve.
    shares : tuple of float
        Share factored of each of :attr:`Economics.sectors`.
    """

    policy: str = "none"
    variant: Variant = Variant()
    line_extra: float = 0.0
    reserve: float = 0.0
    shares: tuple[float, ...] = ()


@dataclass(frozen=True)
class Economics:
    """The prices of the levers.

    Attributes
    ----------
    sectors : tuple of str
        Sectors that may be factored.
    sales : ndarray, shape (n_factoring,)
        Their annual sales.
    receivables : ndarray, shape (n_factoring,)
        Their open receivables at the as-of date.
    fee, advance_rate, max_share : ndarray, shape (n_factoring,)
        The factoring terms of each.
    commitment_fee, opportunity_cost_rate : float
        Yearly rates on the extra line and on the reserve.
    action_cost : dict of str to float
        Fixed yearly cost of each action policy.
    net : bool
        ``cost_basis = "net"``.
    """

    sectors: tuple[str, ...] = ()
    sales: np.ndarray = field(default_factory=lambda: np.zeros(0))
    receivables: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fee: np.ndarray = field(default_factory=lambda: np.zeros(0))
    advance_rate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    commitment_fee: float = 0.0
    opportunity_cost_rate: float = 0.0
    action_cost: tuple[tuple[str, float], ...] = ()
    net: bool = True

    def fixed_action_cost(self, action: str) -> float:
        """The action's fixed yearly cost (0 for ``"none"``)."""
        return dict(self.action_cost).get(action, 0.0)


def transfer_matrix(ps: PathSet, econ: Economics, policy: str) -> np.ndarray:
    """Retained loss of each factoring sector on each path with variant ``policy``: the
    sector's gross loss × retained / gross loss of the path; shape (n_paths, n_factoring)."""
    k = ps.policy_index(policy)
    cols = [ps.sectors.index(s) for s in econ.sectors]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ps.loss > 0, ps.retained[:, k] / ps.loss, 0.0)
    return ps.sector_loss[:, cols] * ratio[:, None]


def share_costs(ps: PathSet, econ: Economics, policy: str) -> np.ndarray:
    """Yearly cost of factoring all of each sector, shape (n_factoring,)."""
    gross = econ.fee * econ.sales
    if not econ.net:
        return gross
    return gross - transfer_matrix(ps, econ, policy).mean(axis=0) / ps.years


def fixed_cost(ps: PathSet, econ: Economics, mix: Mix) -> float:
    """Yearly cost of the mix's levers other than factoring."""
    k = ps.policy_index(mix.policy)
    ins = ps.annual_premium[k] - (ps.indemnity[:, k].mean() / ps.years if econ.net else 0.0)
    return float(ins + econ.commitment_fee * mix.line_extra
                 + econ.opportunity_cost_rate * mix.reserve + mix.variant.collection
                 + ps.action_cost.mean() / ps.years
                 + econ.fixed_action_cost(mix.variant.action))


def cash_cost(econ: Economics, mix: Mix) -> float:
    """Yearly cash paid for the mix's levers that the simulation does not hold (factoring
    fees, commitment fee, collection spend, an action's fixed cost)."""
    fees = float(np.dot(econ.fee * econ.sales, mix.shares)) if mix.shares else 0.0
    return (fees + econ.commitment_fee * mix.line_extra + mix.variant.collection
            + econ.fixed_action_cost(mix.variant.action))


def cost(ps: PathSet, econ: Economics, mix: Mix) -> float:
    """Expected yearly cost of the mix [book currency]."""
    shares = np.asarray(mix.shares, dtype=float)
    extra = float(share_costs(ps, econ, mix.policy) @ shares) if shares.size else 0.0
    return fixed_cost(ps, econ, mix) + extra


def mix_paths(ps: PathSet, econ: Economics, mix: Mix) -> dict[str, np.ndarray]:
    """Per-path retained loss, net cash flow and headroom with the mix (module docstring)."""
    k = ps.policy_index(mix.policy)
    retained, ncf = ps.retained[:, k], ps.net_cash_flow[:, k]
    head = ps.headroom[:, k] + mix.line_extra + mix.reserve - cash_cost(econ, mix) * ps.years
    if mix.shares:
        s = np.asarray(mix.shares, dtype=float)
        moved = transfer_matrix(ps, econ, mix.policy) @ s
        retained, ncf = retained - moved, ncf + moved
        head = head + float(np.dot(econ.advance_rate * econ.receivables, s))
    return {"retained": retained, "net_cash_flow": ncf, "headroom": head}


def measures(ps: PathSet, econ: Economics, mix: Mix, level: float) -> dict[str, float]:
    """The mix's risk measures with their standard errors.

    Returns
    -------
    dict
        ``es`` (of the retained loss), ``cfar`` (VaR of mean − net cash flow),
        ``line_breach`` (P(headroom < 0)), ``expected_loss`` (mean retained loss), each with
        ``_se``; ``dso`` (mean), ``lost_margin`` and ``action_cost`` (the simulated cost of
        the action policy, :attr:`PathSet.action_cost`) (means a year), ``cost``.
    """
    x = mix_paths(ps, econ, mix)
    n = ps.n_paths
    es, es_se = expected_shortfall(x["retained"], level)
    short = x["net_cash_flow"].mean() - x["net_cash_flow"]
    cfar, lo, hi = value_at_risk(short, level)
    breach = float((x["headroom"] < 0).mean())
    return {
        "es": es, "es_se": es_se,
        "cfar": cfar, "cfar_se": (hi - lo) / (2 * Z95),
        "line_breach": breach, "line_breach_se": float(np.sqrt(breach * (1 - breach) / n)),
        "expected_loss": float(x["retained"].mean()),
        "expected_loss_se": float(x["retained"].std(ddof=1) / np.sqrt(n)),
        "dso": float(np.nanmean(ps.dso)),
        "lost_margin": float(ps.lost_margin.mean() / ps.years),
        "action_cost": float(ps.action_cost.mean() / ps.years),
        "cost": cost(ps, econ, mix),
    }


def objective(m: dict[str, float], weights: dict[str, float], scales: dict[str, float]
              ) -> tuple[float, float]:
    """The objective Σ weight × measure / scale and its standard error.

    The error is Σ weight × se / scale: an upper bound whatever the measures' correlation
    (the standard deviation of a sum is at most the sum of the standard deviations); with one
    measure it is that measure's error.
    """
    value = sum(w * m[k] / scales[k] for k, w in weights.items())
    se = sum(w * m[f"{k}_se"] / scales[k] for k, w in weights.items())
    return float(value), float(se)


def mix_cash(ps: PathSet, econ: Economics, mix: Mix) -> np.ndarray:
    """Cash after the line of the run's sampled paths with the mix, for the fan chart,
    shape (n_sample, n_periods).

    The mix's extra flows, cumulated over the periods: the path's net indemnity spread over
    the periods as the variant's expected insurer cash is, less the premiums paid; the
    factored loss spread as the expected write-offs are; the reserve and the factoring advance
    from the start; less the levers' cash costs pro rata of the days elapsed. They are added
    to the cash before the line, and the (larger) line keeps the buffer again. The run keeps
    the cash after the line only: where it sits above the buffer that is the cash before the
    line; where the line is drawn the amount drawn is not kept and is taken as the whole line
    (exact when the line is exhausted, else the mix's cash is understated). A fan chart, not a
    measure: the measures use :func:`mix_paths`.
    """
    k = ps.policy_index(mix.policy)
    rows = ps.sample
    insurer = ps.indemnity[rows, k][:, None] * ps.insurer_profile[k][None, :]
    flows = insurer - ps.premium_cash[k][None, :]
    start = mix.reserve
    if mix.shares:
        s = np.asarray(mix.shares, dtype=float)
        moved = transfer_matrix(ps, econ, mix.policy)[rows] @ s
        flows = flows + moved[:, None] * ps.loss_profile[None, :]
        start += float(np.dot(econ.advance_rate * econ.receivables, s))
    spent = cash_cost(econ, mix) * ps.period_end_day / 365.0
    buffer = ps.min_cash_buffer
    above = ps.cash > buffer + 1e-6 * max(abs(buffer), 1.0)
    pre = np.where(above, ps.cash, ps.cash - ps.credit_line)
    pre = pre + np.cumsum(flows, axis=1) + start - spent[None, :]
    return pre + np.clip(buffer - pre, 0.0, ps.credit_line + mix.line_extra)
