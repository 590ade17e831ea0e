"""The search for the best mix of levers under a budget, on common random numbers.

Every candidate is priced on the same simulated paths (:mod:`portsim.budget.mix`). The
discrete levers (insurance variant, simulated variant — action policy and collection spend —,
extra credit line, cash reserve) are enumerated; the extra line and the reserve only when the
objective weighs the line-breach probability (they move nothing else, so otherwise the
cheapest option is kept). The factoring shares are linear levers:

* with the objective ``es`` they are continuous and found by the Rockafellar–Uryasev linear
  programme (Rockafellar & Uryasev 2000): minimise α + Σᵢ uᵢ / ((1 − β) n) over shares s,
  α and uᵢ ≥ 0 with uᵢ ≥ rᵢ − (T s)ᵢ − α, cost · s ≤ budget − fixed cost, 0 ≤ s ≤ max share,
  solved by SciPy's ``linprog`` (HiGHS) for each discrete choice. Paths that cannot reach the
  tail are left out exactly: α ≥ t, the β-quantile of the smallest loss any shares can leave
  (every path with rᵢ ≤ t then has uᵢ = 0). A cost term 10⁻⁹ times smaller than the ES
  prefers the cheaper of equally good shares;
* with the other objectives (quantiles and probabilities are not linear programmes) they are
  searched on a grid of ``share_step``.

For each budget the candidate with the smallest objective is chosen, the cheaper on ties.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from portsim.budget.mix import (
    Economics,
    Mix,
    Variant,
    fixed_cost,
    measures,
    objective,
    share_costs,
    transfer_matrix,
)
from portsim.budget.paths import PathSet
from portsim.results.estimators import value_at_risk

__all__ = ["Choices", "Result", "best", "es_shares", "evaluate_all", "optimise", "reprice",
           "share_grid"]

#: Relative tolerance on the budget (LP solutions sit on it).
BUDGET_RTOL = 1e-7


@dataclass(frozen=True)
class Choices:
    """The options of each discrete lever and the objective.

    Attributes
    ----------
    policies : tuple of str
        Insurance variants that may be chosen.
    variants : tuple of Variant
        Simulated variants (keys of the PathSets).
    lines, reserves : tuple of float
        Extra credit line and cash reserve options.
    share_step : float
        Grid step of the factoring shares (objectives other than ``es``).
    weights : dict of str to float
        Weight of each measure (:data:`portsim.budget.mix.MEASURES`).
    scales : dict of str to float
        Divisor of each measure (1 for a single measure).
    level : float
        Level of ES and cash-flow-at-risk.
    """

    policies: tuple[str, ...]
    variants: tuple[Variant, ...]
    lines: tuple[float, ...]
    reserves: tuple[float, ...]
    share_step: float
    weights: dict[str, float]
    scales: dict[str, float]
    level: float

    @property
    def uses_lp(self) -> bool:
        """The objective is ES alone: factoring shares from the linear programme."""
        return set(self.weights) == {"es"}

    @property
    def liquidity(self) -> bool:
        """The objective weighs the line-breach probability."""
        return self.weights.get("line_breach", 0.0) > 0


@dataclass(frozen=True)
class Result:
    """A priced candidate: the mix, its yearly cost, objective and measures (in-sample)."""

    mix: Mix
    cost: float
    value: float
    se: float
    measures: dict[str, float]


def share_grid(econ: Economics, step: float) -> np.ndarray:
    """Every combination of factoring shares on the grid 0, step, 2·step, … up to each
    sector's maximum (included), shape (n_points, n_factoring)."""
    axes = [np.unique(np.r_[np.arange(0.0, m, step), m]) for m in econ.max_share]
    if not axes:
        return np.zeros((1, 0))
    return np.array(list(itertools.product(*axes)), dtype=float)


def _discrete(sets: dict[Variant, PathSet], ch: Choices) -> list[Mix]:
    lines = ch.lines if ch.liquidity else (min(ch.lines),)
    reserves = ch.reserves if ch.liquidity else (min(ch.reserves),)
    return [Mix(policy=p, variant=v, line_extra=ln, reserve=r)
            for v in ch.variants if v in sets for p in ch.policies
            for ln in lines for r in reserves]


def _price(ps: PathSet, econ: Economics, mix: Mix, ch: Choices) -> Result:
    m = measures(ps, econ, mix, ch.level)
    value, se = objective(m, ch.weights, ch.scales)
    return Result(mix=mix, cost=m["cost"], value=value, se=se, measures=m)


def evaluate_all(sets: dict[Variant, PathSet], econ: Economics, ch: Choices,
                 progress: Callable[[int, int], None] | None = None) -> list[Result]:
    """Every discrete choice × every point of the share grid, priced (objectives other than
    ``es``, and ``es`` without factoring)."""
    grid = share_grid(econ, ch.share_step)
    mixes = [Mix(policy=d.policy, variant=d.variant, line_extra=d.line_extra,
                 reserve=d.reserve, shares=tuple(float(x) for x in g))
             for d in _discrete(sets, ch) for g in grid]
    out = []
    for i, mix in enumerate(mixes):
        out.append(_price(sets[mix.variant], econ, mix, ch))
        if progress is not None:
            progress(i + 1, len(mixes))
    return out


def best(results: Sequence[Result], budget: float) -> Result | None:
    """The candidate within ``budget`` with the smallest objective, the cheapest of those
    equally good (None when none is affordable)."""
    ok = [r for r in results if r.cost <= budget + BUDGET_RTOL * max(abs(budget), 1.0)]
    if not ok:
        return None
    low = min(r.value for r in ok)
    tie = [r for r in ok if r.value <= low + 1e-12 * max(abs(low), 1.0)]
    return min(tie, key=lambda r: r.cost)


def es_shares(retained: np.ndarray, transfer: np.ndarray, costs: np.ndarray, cap: float,
              max_share: np.ndarray, level: float) -> np.ndarray | None:
    """The factoring shares that minimise the ES of ``retained − transfer @ s`` with
    ``costs @ s ≤ cap`` (module docstring); None when no shares meet the cap.

    Parameters
    ----------
    retained : ndarray, shape (n_paths,)
    transfer : ndarray, shape (n_paths, k)
        Loss each unit share moves off each path (≥ 0).
    costs : ndarray, shape (k,)
        Yearly cost of a unit share (may be < 0 with the net cost basis).
    cap : float
        Budget left for the shares.
    max_share : ndarray, shape (k,)
    level : float
        ES level β.
    """
    n, k = transfer.shape
    lowest = retained - transfer @ max_share
    t = value_at_risk(lowest, level)[0]
    keep = np.flatnonzero(retained > t)
    m = keep.size
    weight = 1.0 / ((1.0 - level) * n)
    scale = max(float(np.abs(costs).sum()), 1.0)
    es_scale = max(float(np.abs(retained).max()), 1.0)
    c = np.r_[1e-9 * es_scale / scale * costs, 1.0, np.full(m, weight)]
    # rows: -T_i s - alpha - u_i <= -r_i for the kept paths; costs @ s <= cap
    a_tail = sparse.hstack([sparse.csr_matrix(-transfer[keep]),
                            sparse.csr_matrix(-np.ones((m, 1))), -sparse.identity(m)])
    a_cost = sparse.csr_matrix(np.r_[costs, 0.0, np.zeros(m)][None, :])
    a_ub = sparse.vstack([a_tail, a_cost]).tocsr()
    b_ub = np.r_[-retained[keep], cap]
    bounds = [(0.0, float(x)) for x in max_share] + [(t, None)] + [(0.0, None)] * m
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status == 2:  # infeasible
        return None
    if res.status != 0:
        raise RuntimeError(f"the ES linear programme failed: {res.message}")
    return np.clip(res.x[:k], 0.0, max_share)


def _lp_candidates(sets: dict[Variant, PathSet], econ: Economics, ch: Choices,
                   budget: float) -> list[Result]:
    out = []
    for d in _discrete(sets, ch):
        ps = sets[d.variant]
        cap = budget - fixed_cost(ps, econ, d)
        costs = share_costs(ps, econ, d.policy)
        k = ps.policy_index(d.policy)
        s = es_shares(ps.retained[:, k], transfer_matrix(ps, econ, d.policy), costs, cap,
                      econ.max_share, ch.level)
        if s is None:
            continue
        mix = Mix(policy=d.policy, variant=d.variant, line_extra=d.line_extra,
                  reserve=d.reserve, shares=tuple(float(x) for x in s))
        out.append(_price(ps, econ, mix, ch))
    return out


def optimise(sets: dict[Variant, PathSet], econ: Economics, ch: Choices,
             budgets: Sequence[float],
             progress: Callable[[int, int], None] | None = None) -> list[Result | None]:
    """The best mix at each budget (None where nothing is affordable).

    Parameters
    ----------
    sets : dict of Variant to PathSet
        The simulated variants of one seed (same paths).
    econ : Economics
    ch : Choices
    budgets : sequence of float
        Yearly budgets [book currency].
    progress : callable(done, total), optional
    """
    if ch.uses_lp and econ.sectors:
        out: list[Result | None] = []
        for i, b in enumerate(budgets):
            out.append(best(_lp_candidates(sets, econ, ch, float(b)), float(b)))
            if progress is not None:
                progress(i + 1, len(budgets))
        return out
    results = evaluate_all(sets, econ, ch, progress)
    return [best(results, float(b)) for b in budgets]


def reprice(ps: PathSet, econ: Economics, mix: Mix, ch: Choices) -> Result:
    """The mix priced on other paths (another seed or a scenario)."""
    return _price(ps, econ, mix, ch)

